"""The keyed transformations: keys build index maps, one engine applies them.

- ``_vortex``    -- the vortex geometry: a key's parameters -> a gather index
- ``_keys``      -- VortexKey and key_from_json (re-exports the other keys)
- ``_keybase``   -- the JSON form of keys, its cheap checks, the base class every key shares
- ``_baseline_keys`` -- PermutationKey, BlockKey, IdentityKey
- ``_gather``    -- the one gather engine: encrypt, decrypt, apply_src
- ``_baselines`` -- shuffle_each, the paper's fresh permutation per image
- ``_keyfile``   -- load_key / save_key: key files (written 0600)
- ``_protocol``  -- the Key protocol and check_key / is_key, used by every module that takes a key
- ``_limits``    -- the size limits of keys (grid side, pixels, vortices), checked on every side
- ``_files``     -- transform_file: .npy, .npz, image files and folders, all-or-nothing, with key fingerprints
- ``_preview``   -- read_images / comparison_grid: originals beside their encryptions (``show``)
"""

from ._keys import BlockKey, IdentityKey, IdentityKeyWarning, PermutationKey, Vortex, VortexKey, key_from_json
from ._gather import apply_src, decrypt, encrypt
from ._baselines import shuffle_each
from ._keyfile import load_key, save_key
from ._protocol import Key, check_key, is_key
from ._limits import MAX_PIXELS, MAX_SIDE, MAX_VORTEX_AREA, MAX_VORTICES
from ._files import transform_file

__all__ = [
    "BlockKey",
    "IdentityKey",
    "IdentityKeyWarning",
    "Key",
    "MAX_PIXELS",
    "MAX_SIDE",
    "MAX_VORTEX_AREA",
    "MAX_VORTICES",
    "PermutationKey",
    "Vortex",
    "VortexKey",
    "apply_src",
    "check_key",
    "decrypt",
    "encrypt",
    "is_key",
    "key_from_json",
    "load_key",
    "save_key",
    "shuffle_each",
    "transform_file",
]
