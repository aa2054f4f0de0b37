"""Numba helpers shared by the framework and cipher kernels.

Images reach the kernels as C-contiguous ``(B, N, C)`` arrays of their own
dtype (uint8 or float), so no kernel ever holds a float64 copy of a batch.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(inline="always")
def value_similarity(x, b, q, r, table, rate):
    """``s(X_q, X_r)**p`` for image ``b`` of ``x`` (the power p is baked into table/rate).

    ``table`` of 256 entries with one channel: uint8 pixels, indexed by ``|x - y|``.
    ``table`` otherwise non-empty: uint8 pixels, indexed by the integer sum of squared differences.
    ``table`` empty: ``exp(-rate * sum of squared differences)``.
    """
    n_channels = x.shape[2]
    if n_channels == 1 and table.shape[0] == 256:
        return table[abs(np.int64(x[b, q, 0]) - np.int64(x[b, r, 0]))]
    if table.shape[0] > 0:
        acc = 0
        for c in range(n_channels):
            d = np.int64(x[b, q, c]) - np.int64(x[b, r, c])
            acc += d * d
        return table[acc]
    accf = 0.0
    for c in range(n_channels):
        df = np.float64(x[b, q, c]) - np.float64(x[b, r, c])
        accf += df * df
    return np.exp(-rate * accf)


@njit(inline="always")
def neighbour_at(pi, pj, di, dj, height, width):
    """The flat index of the pixel ``(pi + di, pj + dj)``, or -1 when it lies off the grid.

    The walk of the framework kernels over the neighbours within ``R`` of a pixel.
    """
    qi = pi + di
    qj = pj + dj
    if qi < 0 or qi >= height or qj < 0 or qj >= width:
        return -1
    return qi * width + qj


@njit(inline="always")
def offset_lookup(table, reach, qi, qj, ri, rj, beyond):
    """``table[di + reach, dj + reach]`` for the offset q - r, or ``beyond`` outside the table.

    ``beyond`` has the table's type (``0.0`` for a table of values, ``0`` for a table of
    indices), so the result has one type whichever branch is taken.
    """
    di = qi - ri
    dj = qj - rj
    if di < -reach or di > reach or dj < -reach or dj > reach:
        return beyond
    return table[di + reach, dj + reach]


@njit(cache=True)
def permutation_inverse(src):
    """``(sigma, ok)``: ``sigma[src[p]] = p`` and whether ``src`` is a permutation.

    The one check-and-invert of the package (framework and cipher both call it).
    ``src`` must hold entries in ``[0, N)``; when two entries are equal, ``ok``
    is False and ``sigma`` is unusable. Naive twin: ``np.argsort(src)`` and
    ``len(set(src)) == N`` (``tests/test_vortex.py``).
    """
    n = src.shape[0]
    sigma = np.full(n, -1, dtype=np.int64)
    for p in range(n):
        q = src[p]
        if sigma[q] != -1:
            return sigma, False
        sigma[q] = p
    return sigma, True


@njit(cache=True)
def compose_indices(first, then):
    """``first[then]``: one gather index for applying ``first`` and then ``then``."""
    out = np.empty(then.shape[0], dtype=np.int64)
    for p in range(then.shape[0]):
        out[p] = first[then[p]]
    return out
