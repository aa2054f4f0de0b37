"""The information framework: kernels, neighbour information, retention and swaps.

- ``_kernels``     -- :class:`Kernel` (the distance kernel f) and :class:`Coupling`
  (the value coupling s), evaluated once into the tables the Numba kernels read
- ``_information`` -- neighbour profile, information energy and content,
  retention and information loss of any gather map (the public drivers)
- ``_pairs``       -- the pair walker and the code histograms behind them
- ``_loss``        -- rho and the loss 1 - rho from a histogram or a swap's
  changed pairs, as sums of non-negative terms
- ``_swap``        -- Delta I of swapping two pixels, O(R^2) per swap
- ``_exact_sum``   -- exact fixed-point sums of float64 values (a swap's kept energy)

Every Numba kernel here has a slow twin in ``tests/naive.py``.
"""

from ._information import (
    information_content,
    information_energy,
    information_loss,
    neighbour_profile,
    retention,
)
from ._kernels import Coupling, Kernel
from ._swap import SwapContext, swap_delta, swap_deltas

__all__ = [
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
