"""The keyed transformations: keys build index maps, one engine applies them.

- ``_vortex``    -- the vortex geometry: a key's parameters -> a gather index
- ``_keys``      -- VortexKey and key_from_json (re-exports the other keys)
- ``_keybase``   -- the JSON form of keys, its cheap checks, the base class every key shares
- ``_baseline_keys`` -- PermutationKey, BlockKey, IdentityKey
- ``_scheme_keys`` -- LEKey, ELEKey, EtCKey, PEKey, BlockwiseKey: keys that change values
- ``_plan``      -- ElementPlan: a gather over elements (or nibbles) and a negation mask
- ``_gather``    -- the one gather engine: encrypt, decrypt, apply_src, apply_plan
- ``_baselines`` -- shuffle_each (a fresh permutation per image), pe_each (a fresh PE key per image)
- ``_keyfile``   -- load_key / save_key: key files (written 0600)
- ``_protocol``  -- the Key protocol and check_key / is_key, used by every module that takes a key
- ``_limits``    -- the size limits of keys (grid side, pixels, vortices), checked on every side
- ``_files``     -- transform_file: .npy, .npz, image files and folders, all-or-nothing, with key fingerprints
- ``_preview``   -- read_images / comparison_grid: originals beside their encryptions (``show``)
"""

from ._baselines import pe_each, shuffle_each
from ._files import transform_file
from ._gather import apply_plan, apply_src, decrypt, encrypt
from ._keyfile import load_key, save_key
from ._keys import (
                    BlockKey,
                    BlockwiseKey,
                    ELEKey,
                    EtCKey,
                    IdentityKey,
                    IdentityKeyWarning,
                    LEKey,
                    PEKey,
                    PermutationKey,
                    Vortex,
                    VortexKey,
                    key_from_json,
)
from ._limits import MAX_CHANNELS, MAX_PIXELS, MAX_PLAN_UNITS, MAX_SIDE, MAX_VORTEX_AREA, MAX_VORTICES
from ._plan import ElementPlan
from ._protocol import Key, check_decryptable, check_key, is_key, is_spatial, key_channels

__all__ = [
    "BlockKey",
    "BlockwiseKey",
    "ELEKey",
    "ElementPlan",
    "EtCKey",
    "IdentityKey",
    "IdentityKeyWarning",
    "Key",
    "LEKey",
    "MAX_CHANNELS",
    "MAX_PIXELS",
    "MAX_PLAN_UNITS",
    "MAX_SIDE",
    "MAX_VORTEX_AREA",
    "MAX_VORTICES",
    "PEKey",
    "PermutationKey",
    "Vortex",
    "VortexKey",
    "apply_plan",
    "apply_src",
    "check_decryptable",
    "check_key",
    "decrypt",
    "encrypt",
    "is_key",
    "is_spatial",
    "key_channels",
    "key_from_json",
    "load_key",
    "pe_each",
    "save_key",
    "shuffle_each",
    "transform_file",
]
