"""Delta I of swapping two pixels, in O(R^2) per swap.

A swap moves two pixels, so only bonds that touch one of them change: those
within R of either position. :class:`SwapContext` computes the O(N R^2)
energy of an image once; every swap after that costs O(R^2), and the map of
Delta I for swapping one pixel with every other costs O(N R^2).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit, prange

from .._numba_helpers import offset_lookup, value_similarity
from .._validate import as_one_image, as_position
from ._exact_sum import LIMBS, NORMALISE_EVERY, acc_add, acc_normalise, acc_value
from ._information import flat_pixels
from ._kernels import Coupling, Geometry, Kernel, resolve, value_table
from ._loss import EPS, NO_BONDS, ONE_SIDED, TRUST_RTOL, changed_loss, cosine_of

__all__ = ["SwapContext", "swap_delta", "swap_deltas"]


@njit(cache=True)
def _class_totals_rows(x, row_lo, row_hi, height, width, reach, f_index, half_di, half_dj, table, rate, acc):
    """Add ``s**2`` of every unordered pair whose first pixel lies in rows ``row_lo:row_hi``
    into ``acc[k]`` (exactly; see :mod:`._exact_sum`), k the pair's distance class."""
    for pi in range(row_lo, row_hi):
        for pj in range(width):
            p = pi * width + pj
            for o in range(half_di.shape[0]):
                ti = pi + half_di[o]
                tj = pj + half_dj[o]
                if ti >= height or tj < 0 or tj >= width:
                    continue
                k = f_index[half_di[o] + reach, half_dj[o] + reach]
                acc_add(acc[k], value_similarity(x, 0, p, ti * width + tj, table, rate), 1)
    for k in range(acc.shape[0]):
        acc_normalise(acc[k])


@njit(parallel=True, cache=True)
def _class_totals_parallel(x, rows_per_task, height, width, reach, f_index, half_di, half_dj, n_values, table,
                           rate):
    """:func:`_class_totals_rows` over row blocks in parallel; the blocks' integer sums are then added."""
    n_tasks = (height + rows_per_task - 1) // rows_per_task
    per_task = np.zeros((n_tasks, n_values, LIMBS), dtype=np.int64)
    for task in prange(n_tasks):
        _class_totals_rows(x, task * rows_per_task, min(height, (task + 1) * rows_per_task), height, width, reach,
                           f_index, half_di, half_dj, table, rate, per_task[task])
    totals = np.zeros((n_values, LIMBS), dtype=np.int64)
    for task in range(n_tasks):
        for k in range(n_values):
            for i in range(LIMBS):
                totals[k, i] += per_task[task, k, i]
        if (task + 1) % 4 == 0:  # each normalised block adds < 2**32 per limb
            for k in range(n_values):
                acc_normalise(totals[k])
    for k in range(n_values):
        acc_normalise(totals[k])
    return totals


def _class_totals(x, height, width, geo, table, rate):
    """Exact ``H[k] = sum of s(X_q, X_r)**2`` over the unordered pairs at distance class k.

    Returns the fixed-point accumulators ``(n_values, LIMBS)`` of
    :mod:`._exact_sum` (integer sums: the result does not depend on the
    thread count). Naive twin: ``naive.energy`` is ``2 sum_k f_k**2 H[k]``
    (``tests/test_exactness.py``).
    """
    n_values = geo.f_values.shape[0]
    # Blocks of about 8192 pixels (as the histogram kernels), each within NORMALISE_EVERY additions.
    rows_per_task = max(1, min(8192 // width, NORMALISE_EVERY // max(1, width * geo.half_di.shape[0])))
    if rows_per_task >= height:  # one block: a parallel launch would cost more than the work
        totals = np.zeros((n_values, LIMBS), dtype=np.int64)
        _class_totals_rows(x, 0, height, height, width, geo.reach, geo.f_index_table, geo.half_di, geo.half_dj,
                           table, rate, totals)
        return totals
    return _class_totals_parallel(x, rows_per_task, height, width, geo.reach, geo.f_index_table, geo.half_di,
                                  geo.half_dj, n_values, table, rate)


@njit(inline="always")
def _changed_pairs(x, a, b, height, width, reach, f_index, near_table, full_di, full_dj, table, rate,
                   s2, before, after):
    """The pairs a swap of pixels a and b moves: ``(a, r)`` and ``(b, r)`` for every
    r within R of a or b (r not a or b; the pair (a, b) keeps its distance).

    Fills ``s2`` with ``s(X_., X_r)**2`` and ``before``/``after`` with the
    pair's distance class before and after the swap (indices into
    ``Geometry.f_values``, 0 beyond R); returns the count.
    """
    count = 0
    ai = a // width
    aj = a - ai * width
    bi = b // width
    bj = b - bi * width
    for centre in range(2):
        ci = ai if centre == 0 else bi
        cj = aj if centre == 0 else bj
        for o in range(full_di.shape[0]):
            ri = ci + full_di[o]
            rj = cj + full_dj[o]
            if ri < 0 or ri >= height or rj < 0 or rj >= width:
                continue
            r = ri * width + rj
            if r == a or r == b:
                continue
            if centre == 1 and offset_lookup(near_table, reach, ai, aj, ri, rj, 0.0) != 0.0:
                continue  # already counted around a
            k_ar = offset_lookup(f_index, reach, ai, aj, ri, rj, 0)
            k_br = offset_lookup(f_index, reach, bi, bj, ri, rj, 0)
            s2[count] = value_similarity(x, 0, a, r, table, rate)  # a's pixel moves to b
            before[count] = k_ar
            after[count] = k_br
            s2[count + 1] = value_similarity(x, 0, b, r, table, rate)  # b's pixel moves to a
            before[count + 1] = k_br
            after[count + 1] = k_ar
            count += 2
    return count


@njit(inline="always")
def _kept_energy(totals, exact_totals, f_values, s2, before, count, removed, n_removed):
    """``K = sum_k f_k**2 (H[k] - removed[k])``: the energy of the pairs the swap leaves alone.

    ``totals[k]`` is ``H[k]`` rounded (relative error <= 2 eps), ``removed[k]``
    the sum of s**2 over the moved pairs of class k. When the float difference
    might be off by more than ``TRUST_RTOL`` of itself, the class is redone
    exactly: the moved terms are subtracted from a copy of the exact
    accumulator (the very float64 values that were added to it), and the
    result is rounded once. Each class's kept part is then accurate to a few
    eps, so K is too: a non-negative combination.
    """
    n_values = f_values.shape[0]
    removed[:] = 0.0
    n_removed[:] = 0.0
    for t in range(count):
        removed[before[t]] += s2[t]
        n_removed[before[t]] += 1.0
    kept_energy = 0.0
    for k in range(1, n_values):
        kept = totals[k] - removed[k]
        bound = 2.0 * EPS * totals[k] + (n_removed[k] + 1.0) * EPS * removed[k] + EPS * abs(kept)
        if not (kept > 0.0 and bound <= TRUST_RTOL * kept):
            acc = exact_totals[k].copy()
            for t in range(count):
                if before[t] == k:
                    acc_add(acc, s2[t], -1)
            kept = max(acc_value(acc), 0.0)
        kept_energy += f_values[k] * f_values[k] * kept
    return kept_energy


@njit(cache=True)
def _swap_loss(x, a, b, totals, exact_totals, height, width, reach, f_values, f_index, near_table, full_di,
               full_dj, table, rate):
    """Loss rate ``L = 1 - rho`` of swapping pixels a and b (flat indices, a != b), O(R^2).

    With b and c the bond vectors before and after, split the pairs into those
    whose kernel value the swap keeps (the untouched pairs, energy K, and the
    moved pairs with equal classes, together ``KU``) and the changed ones (C).
    Then ``|b|^2 = KU + sum_C s^2 u^2`` and ``|c|^2 = KU + sum_C s^2 v^2``, and
    :func:`._loss.changed_loss` sums L from them as non-negative terms
    (``proofs/theorems.md``, section 4); ``1 - cosine`` is returned where the
    cosine is below 1/2. Naive twin: ``naive.swap_delta``; exact reference:
    :func:`vortexnumba.testing.exact_swap_delta`.
    """
    cap = 4 * full_di.shape[0]
    n_values = f_values.shape[0]
    scratch = np.empty(3 * cap + 2 * n_values)  # one allocation per swap, sliced below
    s2 = scratch[:cap]
    u = scratch[cap:2 * cap]
    v = scratch[2 * cap:3 * cap]
    classes = np.empty(2 * cap, dtype=np.int64)
    before = classes[:cap]
    after = classes[cap:]
    count = _changed_pairs(x, a, b, height, width, reach, f_index, near_table, full_di, full_dj, table, rate,
                           s2, before, after)
    ku = _kept_energy(totals, exact_totals, f_values, s2, before, count, scratch[3 * cap:3 * cap + n_values],
                      scratch[3 * cap + n_values:])
    # Split the moved pairs: kept kernel value (into ku) or changed (compacted to the front).
    s_uu = 0.0
    s_vv = 0.0
    s_uv = 0.0
    m = 0
    for t in range(count):
        ut = f_values[before[t]]
        vt = f_values[after[t]]
        if ut == vt:
            ku += s2[t] * ut * ut
        else:
            s2[m] = s2[t]
            u[m] = ut
            v[m] = vt
            s_uu += s2[t] * ut * ut
            s_vv += s2[t] * vt * vt
            s_uv += s2[t] * ut * vt
            m += 1
    case, nb, nc, cosine = cosine_of(ku + s_uu, ku + s_vv, ku + s_uv)
    if case == NO_BONDS:
        return 0.0
    if case == ONE_SIDED:
        return 1.0
    if cosine < 0.5:
        return 1.0 - cosine
    return changed_loss(s2, u, v, m, ku, nb, nc, cosine)


@njit(parallel=True, cache=True)
def _swap_loss_map(x, a, totals, exact_totals, height, width, reach, f_values, f_index, near_table, full_di,
                   full_dj, table, rate):
    """``_swap_loss(a, b)`` for every b (0 at a), in parallel over b. Naive twin: ``naive.swap_delta`` per b."""
    n = height * width
    out = np.zeros(n)
    for b in prange(n):
        if b != a:
            out[b] = _swap_loss(x, a, b, totals, exact_totals, height, width, reach, f_values, f_index,
                                near_table, full_di, full_dj, table, rate)
    return out


@njit(cache=True)
def _rounded_totals(exact_totals):
    out = np.empty(exact_totals.shape[0])
    for k in range(exact_totals.shape[0]):
        out[k] = acc_value(exact_totals[k].copy())
    return out


class SwapContext:
    """An image with its information energy computed once, for cheap swap queries.

    Parameters
    ----------
    image : array_like
        ``(H, W)`` or ``(H, W, C)``, uint8 or float.
    kernel, coupling : optional
        Default ``Kernel.power(2, 3)`` and ``Coupling.gaussian(0.25)``.

    Attributes
    ----------
    energy : float
        ``E(X)``.
    content : float
        ``I(X)``.

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> ctx = vn.SwapContext(np.linspace(0, 1, 36).reshape(6, 6))
    >>> ctx.delta((0, 0), (5, 5)) < 0
    True
    """

    def __init__(self, image: Any, kernel: Kernel | None = None, coupling: Coupling | None = None, *,
                 channels: bool | None = None):
        self.kernel, self.coupling = resolve(kernel, coupling)
        ch = True if np.ndim(image) == 3 and channels is None else channels
        batch = as_one_image(image, "image", channels=ch)
        _, self.height, self.width, n_channels = batch.shape
        self._x = flat_pixels(batch)
        self._geo = Geometry.of(self.kernel)
        self._table, self._rate = value_table(self.coupling, self._x.dtype, n_channels, power=2)
        g = self._geo
        # Per distance class, the exact sum of s**2 (and its rounding): a swap's kept energy is
        # this minus the moved pairs' share, redone exactly where the float difference cancels.
        self._exact_totals = _class_totals(self._x, self.height, self.width, g, self._table, self._rate)
        self._totals = _rounded_totals(self._exact_totals)
        # E(X) = 2 sum_k f_k**2 H[k]: a non-negative combination of correctly summed class totals.
        self.energy = float(2.0 * np.dot(g.f_values * g.f_values, self._totals))
        self.content = math.sqrt(self.energy)

    @property
    def shape(self) -> tuple[int, int]:
        return self.height, self.width

    def _args(self):
        g = self._geo
        return (self._totals, self._exact_totals, self.height, self.width, g.reach, g.f_values, g.f_index_table,
                g.near_table, g.full_di, g.full_dj, self._table, self._rate)

    def loss(self, a: int | tuple[int, int], b: int | tuple[int, int]) -> float:
        """Information loss rate ``1 - rho`` of swapping positions ``a`` and ``b``."""
        qa = as_position(a, self.shape, "a")
        qb = as_position(b, self.shape, "b")
        if qa == qb:
            raise ValueError(f"a and b must be distinct positions, got both = {a!r}")
        return float(_swap_loss(self._x, qa, qb, *self._args()))

    def delta(self, a: int | tuple[int, int], b: int | tuple[int, int]) -> float:
        """``Delta I = -(1 - rho) I(X)`` of swapping ``a`` and ``b``; O(R^2)."""
        return -self.loss(a, b) * self.content

    def deltas(self, a: int | tuple[int, int]) -> np.ndarray:
        """``(H, W)`` map of Delta I for swapping ``a`` with every position (0 at ``a``)."""
        qa = as_position(a, self.shape, "a")
        deltas = _swap_loss_map(self._x, qa, *self._args()) * -self.content
        deltas[qa] = 0.0  # not -0.0: swapping a pixel with itself changes nothing
        return deltas.reshape(self.height, self.width)


def swap_delta(image: Any, a: int | tuple[int, int], b: int | tuple[int, int], kernel: Kernel | None = None,
               coupling: Coupling | None = None, *,
               channels: bool | None = None) -> float:
    """Variation of information ``Delta I`` of swapping the pixels at ``a`` and ``b``.

    Parameters
    ----------
    image : array_like
        ``(H, W)`` or ``(H, W, C)``, uint8 or float.
    a, b : int or (int, int)
        Distinct positions, as flat indices or ``(i, j)``.
    kernel, coupling : optional
        Default ``Kernel.power(2, 3)`` and ``Coupling.gaussian(0.25)``.

    Returns
    -------
    float
        ``-(1 - rho) I(X)``; negative whenever the grid has at least 5 pixels
        (Theorem 2). For many swaps of one image, build a :class:`SwapContext`
        once: each query is then O(R^2).

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> img = np.linspace(0, 1, 25).reshape(5, 5)
    >>> vn.swap_delta(img, (0, 0), (2, 3)) < 0
    True
    """
    return SwapContext(image, kernel, coupling, channels=channels).delta(a, b)


def swap_deltas(image: Any, a: int | tuple[int, int], kernel: Kernel | None = None, coupling: Coupling | None = None, *,
                channels: bool | None = None) -> np.ndarray:
    """Map of ``Delta I`` for swapping ``a`` with every position; O(N R^2).

    Returns
    -------
    ndarray, shape (H, W)
        Entry ``[i, j]`` is ``swap_delta(image, a, (i, j))``; 0 at ``a`` itself.

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> m = vn.swap_deltas(np.linspace(0, 1, 16).reshape(4, 4), (1, 1))
    >>> m.shape, float(m[1, 1]), bool((np.delete(m.ravel(), 5) < 0).all())
    ((4, 4), 0.0, True)
    """
    return SwapContext(image, kernel, coupling, channels=channels).deltas(a)
