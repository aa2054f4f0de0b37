"""vortexnumba: neighbour information of images, the Random Vortex Transformation,
and training neural networks on encrypted arrays.

Public names are re-exported here; each domain is a subpackage:

- ``framework/`` -- kernels, neighbour information, retention, swaps (Numba)
- ``cipher/``    -- vortex geometry, keys, the one gather engine, baselines
- ``data/``      -- the data sets (digits, Fashion-MNIST, MNIST, CIFAR-10)
- ``learn/``     -- JAX networks, training and the paper's experiment (imported on first use)
- ``security/``  -- cipher metrics, sensitivity, key space and attacks
- ``study/``     -- the field's benchmark: training and attacks on every scheme (imported on first use)
- ``io/``        -- files, atomic writes, figures (private)
- ``cli/``       -- the thin command line
- ``dask``       -- the same operations on Dask arrays (optional extra, imported on first use)

Imports run one way: cli -> study -> learn/security -> cipher/framework -> io
and the shared helpers ``_validate`` and ``_numba_helpers``.

References
----------
.. [1] Cao, Mo, Wang, Lai, Huang, "Can Encrypted Images Still Train Neural
   Networks? Investigating Image Information and Random Vortex Transformation",
   arXiv:2411.16207.
"""

__version__ = "0.3.0"

# _threading first: importing it chooses Numba's threading layer before any kernel can run (fork-safety).
# data and security are public modules: vn.data.load(...), vn.security.recover_index(...).
from . import _threading, data, security  # noqa: F401
from .cipher import (
    BlockKey,
    BlockwiseKey,
    ELEKey,
    EtCKey,
    IdentityKey,
    IdentityKeyWarning,
    Key,
    LEKey,
    PEKey,
    PermutationKey,
    Vortex,
    VortexKey,
    apply_src,
    decrypt,
    encrypt,
    key_from_json,
    load_key,
    pe_each,
    save_key,
    shuffle_each,
    transform_file,
)
from .framework import (
    Coupling,
    Kernel,
    SwapContext,
    information_content,
    information_energy,
    information_loss,
    neighbour_profile,
    retention,
    swap_delta,
    swap_deltas,
)

# Subpackages that pull in heavy optional dependencies (JAX, Dask, Hypothesis)
# load when first touched, so ``import vortexnumba`` stays quick; ``dir(vn)``
# and IDEs still list them (``__dir__``).
_LAZY_MODULES = ("learn", "dask", "testing", "torch", "study")
# Names of a lazy subpackage offered at the top level too.
_LAZY_NAMES = {"reproduce": "learn"}


def __getattr__(name: str) -> object:
    import importlib

    if name in _LAZY_MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY_NAMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY_MODULES, *_LAZY_NAMES})

__all__ = [
    "data",
    "security",
    "reproduce",
    "BlockKey",
    "BlockwiseKey",
    "ELEKey",
    "EtCKey",
    "IdentityKey",
    "IdentityKeyWarning",
    "Key",
    "LEKey",
    "PEKey",
    "PermutationKey",
    "Vortex",
    "VortexKey",
    "apply_src",
    "decrypt",
    "encrypt",
    "key_from_json",
    "load_key",
    "save_key",
    "transform_file",
    "pe_each",
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
