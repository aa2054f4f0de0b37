"""vortexnumba: neighbour information of images, the Random Vortex Transformation,
and training neural networks on encrypted arrays.

The package re-exports its public names; each idea lives in one private module:

- ``_kernels``      -- ``Kernel`` and ``Coupling``: the distance kernel f and value coupling s
- ``_information``  -- neighbour profile, information energy/content, retention, loss
- ``_swap``         -- Delta I of swapping two pixels (O(R^2) per swap)
- ``_vortex``       -- the vortex geometry: keys' parameters -> gather indices
- ``_keys``         -- VortexKey, PermutationKey, BlockKey (plain data + JSON)
- ``_gather``       -- the one engine that applies any gather index: encrypt/decrypt
- ``_baselines``    -- shuffle_each, the paper's per-image random permutation

References
----------
.. [1] Cao, Mo, Wang, Lai, Huang, "Can Encrypted Images Still Train Neural
   Networks? Investigating Image Information and Random Vortex Transformation",
   arXiv:2411.16207.
"""

__version__ = "0.1.0"

from ._kernels import Coupling, Kernel
from ._information import (
    information_content,
    information_energy,
    information_loss,
    neighbour_profile,
    retention,
)
from ._swap import SwapContext, swap_delta, swap_deltas

# --- cipher (issue 3) ---
from ._keys import BlockKey, IdentityKey, PermutationKey, Vortex, VortexKey, key_from_json
from ._gather import apply_src, decrypt, encrypt
from ._baselines import shuffle_each
# --- end cipher ---
from . import data
from . import security

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
    "shuffle_each",
    "Coupling",
    "Kernel",
    "SwapContext",
    "information_content",
    "information_energy",
    "information_loss",
    "neighbour_profile",
    "retention",
    "swap_delta",
    "swap_deltas",
]
