"""The keyed transformations: keys build index maps, one engine applies them.

- ``_vortex``    -- the vortex geometry: a key's parameters -> a gather index
- ``_keys``      -- VortexKey, PermutationKey, BlockKey, IdentityKey (plain data + JSON)
- ``_gather``    -- the one gather engine: encrypt, decrypt, apply_src
- ``_baselines`` -- shuffle_each, the paper's fresh permutation per image
- ``_keyfile``   -- load_key: a key file -> a key object
"""

from ._keys import BlockKey, IdentityKey, PermutationKey, Vortex, VortexKey, key_from_json
from ._gather import apply_src, decrypt, encrypt
from ._baselines import shuffle_each
from ._keyfile import load_key

__all__ = [
    "BlockKey",
    "IdentityKey",
    "PermutationKey",
    "Vortex",
    "VortexKey",
    "apply_src",
    "decrypt",
    "encrypt",
    "key_from_json",
    "load_key",
    "shuffle_each",
]
