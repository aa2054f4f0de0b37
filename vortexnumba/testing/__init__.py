"""Tools for verifying the framework's claims on your own kernels and transformations.

- ``_exact``      -- exact references for small grids (120-digit decimal arithmetic):
  :func:`exact_energy`, :func:`exact_retention`, :func:`exact_loss`, :func:`exact_swap_delta`,
  :func:`digits_needed`
- ``_assertions`` -- :func:`assert_swap_lowers`, :func:`assert_retention_matches_exact`:
  fast result against the exact one, with a message that prints the case
- ``_strategies`` -- Hypothesis strategies: :func:`images`, :func:`grid_shapes`,
  :func:`kernels`, :func:`couplings`, :func:`swaps`, :func:`permutations`,
  :func:`gather_maps`, :func:`permutation_keys`, :func:`block_keys`, :func:`vortex_keys`
- ``_verify``     -- :func:`verify`: the theorems' properties through Hypothesis and
  exhaustively on the smallest grids, as a :class:`VerifyReport`

The exact references and the assertion helpers need only NumPy; the
strategies and :func:`verify` need Hypothesis (``pip install
vortexnumba[testing]``) and import it on first use, so ``import vortexnumba``
never does. See ``docs/verification.md``.
"""

from ._assertions import assert_retention_matches_exact, assert_swap_lowers
from ._exact import digits_needed, exact_energy, exact_loss, exact_retention, exact_swap_delta

_STRATEGIES = ("GRID_RADII", "block_keys", "couplings", "gather_maps", "grid_shapes", "images", "kernels",
               "permutation_keys", "permutations", "swaps", "vortex_keys")
_VERIFY = ("Counterexample", "VerifyReport", "verify")

__all__ = ["assert_retention_matches_exact", "assert_swap_lowers", "digits_needed", "exact_energy", "exact_loss",
           "exact_retention", "exact_swap_delta", *_STRATEGIES, *_VERIFY]


def __getattr__(name):
    import importlib

    if name in _STRATEGIES or name in _VERIFY:
        try:
            module = importlib.import_module(f"{__name__}._strategies" if name in _STRATEGIES
                                             else f"{__name__}._verify")
        except ModuleNotFoundError as exc:
            if exc.name == "hypothesis":
                raise ImportError(f"vortexnumba.testing.{name} needs Hypothesis: "
                                  "pip install 'vortexnumba[testing]'") from None
            raise
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
