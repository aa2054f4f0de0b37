"""Retention of keys that change values: the encrypted image against the plain one, through a tracking map.

A spatial key moves whole pixels, so its retention is a function of the
gather index alone (:mod:`._information`). A key that negates values,
shuffles channels or mixes the elements of several pixels changes the values
too; it is then measured on the encrypted image ``Y`` itself, with the
key's pixel tracking map ``src`` pairing each output pixel with the input
pixel it mainly comes from (``docs/framework.md``, "Keys that change
values")::

    inner = sum over ordered output pairs p != p' with src[p] != src[p'] of
            b_Y(p, p') * b_X(src[p], src[p'])
    rho   = inner / sqrt(E(X) E(Y))

For a key that only moves pixels (``Y_p = X_{src p}``) this is the spatial
retention. Every term is non-negative, so the sum has no cancellation; the
norms and the zero cases come from :func:`._loss.cosine_of`, as for every
other retention.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .._numba_helpers import neighbour_at, offset_lookup, value_similarity
from ._loss import NO_BONDS, ONE_SIDED, cosine_of

__all__ = ["tracked_inner", "tracked_measure"]


@njit(parallel=True, cache=True)
def tracked_inner(x, y, src, height, width, reach, f_table, full_di, full_dj, table_x, rate_x, table_y, rate_y):
    """``inner`` of each image: ``sum b_Y(p, p') b_X(src p, src p')`` over the tracked ordered pairs.

    ``x`` and ``y`` are ``(B, N, C)`` pixel arrays (plain and encrypted), ``src`` the ``(N,)`` tracking
    map; the tables give ``s`` (power 1) for each array's dtype. Each image is summed on its own, in
    one order, so its bits do not depend on the batch. Naive twin: ``naive.tracked_retention``.
    """
    n_img = x.shape[0]
    out = np.zeros(n_img)
    for b in prange(n_img):
        total = 0.0
        for p in range(height * width):
            pi = p // width
            pj = p - pi * width
            sp = src[p]
            si = sp // width
            sj = sp - si * width
            for o in range(full_di.shape[0]):
                q = neighbour_at(pi, pj, full_di[o], full_dj[o], height, width)
                if q < 0:
                    continue
                sq = src[q]
                if sq == sp:
                    continue
                ti = sq // width
                tj = sq - ti * width
                f_in = offset_lookup(f_table, reach, ti, tj, si, sj, 0.0)
                if f_in == 0.0:
                    continue
                f_out = f_table[full_di[o] + reach, full_dj[o] + reach]
                total += (value_similarity(y, b, p, q, table_y, rate_y) * f_out) * (
                    value_similarity(x, b, sp, sq, table_x, rate_x) * f_in)
        out[b] = total
    return out


@njit(cache=True)
def tracked_measure(energy_x, energy_y, inner, loss):
    """rho (``loss=False``) or ``1 - rho`` of each image from ``E(X)``, ``E(Y)`` and ``inner``.

    No bonds on either side keeps everything (rho = 1); bonds on one side only keep nothing.
    """
    out = np.empty(inner.shape[0])
    for b in range(inner.shape[0]):
        case, _, _, cosine = cosine_of(energy_x[b], energy_y[b], inner[b])
        if case == NO_BONDS:
            rho = 1.0
        elif case == ONE_SIDED:
            rho = 0.0
        else:
            rho = cosine
        out[b] = 1.0 - rho if loss else rho
    return out
