"""Tools for verifying the framework's claims on your own kernels and transformations.

- ``_exact`` -- exact references for small grids (120-digit decimal arithmetic):
  :func:`exact_energy`, :func:`exact_retention`, :func:`exact_loss`,
  :func:`exact_swap_delta`
"""

from ._exact import exact_energy, exact_loss, exact_retention, exact_swap_delta

__all__ = ["exact_energy", "exact_loss", "exact_retention", "exact_swap_delta"]
