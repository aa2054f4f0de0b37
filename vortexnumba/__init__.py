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
- ``data``          -- the data sets (digits, Fashion-MNIST, MNIST, CIFAR-10)
- ``_models``, ``_train``, ``_reproduce`` -- the JAX networks and the paper's experiment
- ``security``      -- cipher metrics and the known-plaintext attack
- ``dask``          -- the same operations on Dask arrays (optional extra)

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

from ._keys import BlockKey, IdentityKey, PermutationKey, Vortex, VortexKey, key_from_json
from ._gather import apply_src, decrypt, encrypt
from ._baselines import shuffle_each
from . import data, security  # public modules: vn.data.load(...), vn.security.recover_index(...)

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
