"""The pair walker and the code histograms behind retention and information_loss.

Every quantity of the framework is a sum over pixel pairs of ``s(X_q, X_r)**2``
times a weight that depends only on the pair's kernel values before and
after the move. The kernels here visit the pairs that can contribute (those
within R before or after the move, each unordered pair once) and add ``s**2``
into a small histogram indexed by that pair of kernel values, its *code*
``kb * n_values + kc`` (indices into ``Geometry.f_values``; 0 means "not
within R"). A gather index shared by a whole batch lists its pairs once and
sums 16 images side by side; per-image maps sum as they go.

One walker, :func:`walk_pairs`, enumerates the pairs, reading the grid and
kernel layout from one :class:`PairGrid`; it either sums each pair's ``s**2``
into a histogram or lists the pair (``store``), with the arrays of each job
grouped in one tuple.

Naive twins: ``tests/naive.py`` (``naive.energy``, ``naive.retention``)
evaluate the same sums pair by pair over all N**2 pairs.
"""

from __future__ import annotations

from collections import namedtuple
from typing import TYPE_CHECKING

import numpy as np
from numba import njit, prange

from .._numba_helpers import permutation_inverse, value_similarity

if TYPE_CHECKING:
    from ._tables import Geometry

__all__ = ["PairGrid", "code_histograms", "code_values"]

# Pixels per tile of pair lists: bounds the memory of a tile's pair list to a few MB.
TILE_PIXELS = 8192
# Images summed side by side over one pair list: a pair's pixels of LANES images
# are contiguous, so the inner loop over images vectorises.
LANES = 16

PairGrid = namedtuple("PairGrid", ["height", "width", "reach", "f_index", "near_table", "half_di", "half_dj",
                                   "n_values"])
PairGrid.__doc__ = """The grid and kernel layout the pair walker reads (one argument instead of eight).

Fields: ``height, width`` of the grid; ``reach = floor(R)``; ``f_index`` and
``near_table``, ``half_di``, ``half_dj`` from :class:`Geometry`; ``n_values``
the length of ``Geometry.f_values`` (codes run over ``n_values**2``).
"""

# What the walker does with each pair: sum it, ``(x, image, table, rate, hist)`` adds
# ``s(X_q, X_r)**2`` of image ``image`` of ``x`` to ``hist[code]``; or list it, ``(pq, pr, code)``
# records its two source pixels and its code. The side not used is _no_sums() / _no_pairs().
# Tuples are unpacked once at the top of the walker: reading a named tuple inside the pair loop,
# or choosing an emit function by sink type, keeps Numba from hoisting the loads out of the loop
# (docs/benchmarks.md gives the ratio).


@njit(inline="always")
def _no_sums():
    """The ``sums`` argument of :func:`walk_pairs` when it lists pairs."""
    return np.zeros((1, 1, 1)), 0, np.zeros(0), 0.0, np.zeros(0)


@njit(inline="always")
def _no_pairs():
    """The ``pairs`` argument of :func:`walk_pairs` when it sums pairs."""
    return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32)


def pair_grid(geo: Geometry, height: int, width: int) -> PairGrid:
    """The :class:`PairGrid` of a :class:`Geometry` on an ``height x width`` grid."""
    return PairGrid(height, width, geo.reach, geo.f_index_table, geo.near_table, geo.half_di, geo.half_dj,
                    geo.f_values.shape[0])


def code_values(f_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kernel values before (``u``) and after (``v``) for every pair code."""
    n_values = f_values.shape[0]
    return np.repeat(f_values, n_values), np.tile(f_values, n_values)


@njit(cache=True)
def walk_pairs(grid, src, sigma, bijective, lo, hi, store, sums, pairs):
    """Visit the pairs of the output pixels ``lo <= p < hi`` and, for a permutation, of
    the source pixels ``lo <= q < hi``; sum or list each.

    Parameters
    ----------
    grid : PairGrid
    src : ndarray of int64, shape (N,)
        The gather index (``Y.flat[p] = X.flat[src[p]]``).
    sigma : ndarray of int64, shape (N,)
        Its inverse when ``bijective`` (unused otherwise).
    bijective : bool
        Whether ``src`` is a permutation.
    lo, hi : int
        The range of pixels whose pairs are visited (a tile).
    store : bool
        List the pairs into ``pairs`` (True) or sum them into ``sums`` (False).
    sums : tuple
        ``(x, image, table, rate, hist)``: ``hist[code] += s(X_q, X_r)**2`` for image
        ``image`` of ``x`` (``_no_sums()`` when listing).
    pairs : tuple
        ``(pq, pr, code)``: int32 arrays that receive the pairs (``_no_pairs()`` when summing).

    Returns
    -------
    int
        The number of pairs visited.

    Notes
    -----
    Each pair is two source pixel indices ``q, r`` and the code ``kb * n_values + kc``
    of its kernel values before (``kb``) and after (``kc``) the move.
    Set (a), pairs near in the output: ``(src p, src p')``; ``kb`` is 0 when both read
    one pixel. Set (b), permutations only: source pairs that were neighbours and are
    no longer (``kc = 0``). Naive twin: the pair loops of ``naive.retention``.
    """
    height = grid.height
    width = grid.width
    reach = grid.reach
    f_index = grid.f_index
    half_di = grid.half_di
    half_dj = grid.half_dj
    n_values = grid.n_values
    x, image, table, rate, hist = sums
    pq, pr, code = pairs
    n = height * width
    # Half offsets only reach forward, so every partner lies in [lo, top).
    top = min(n, hi + reach * width + reach + 1)
    # Grid coordinates of src (and sigma) over that window, computed once:
    # an integer division per pixel instead of one per pair.
    span = top - lo
    src_i = np.empty(span, dtype=np.int64)
    src_j = np.empty(span, dtype=np.int64)
    for t in range(span):
        v = src[lo + t]
        src_i[t] = v // width
        src_j[t] = v - src_i[t] * width
    count = 0
    n_off = half_di.shape[0]
    pi = lo // width
    pj = lo - pi * width
    for p in range(lo, hi):
        q = src[p]
        qi = src_i[p - lo]
        qj = src_j[p - lo]
        for o in range(n_off):
            ti = pi + half_di[o]
            tj = pj + half_dj[o]
            if ti >= height or tj < 0 or tj >= width:
                continue
            t = ti * width + tj
            r = src[t]
            kc = f_index[half_di[o] + reach, half_dj[o] + reach]
            kb = 0
            if r != q:
                di = qi - src_i[t - lo]
                dj = qj - src_j[t - lo]
                if -reach <= di <= reach and -reach <= dj <= reach:
                    kb = f_index[di + reach, dj + reach]
            if store:
                pq[count] = q
                pr[count] = r
                code[count] = kb * n_values + kc
            else:
                hist[kb * n_values + kc] += value_similarity(x, image, q, r, table, rate)
            count += 1
        pj += 1
        if pj == width:
            pj = 0
            pi += 1
    if bijective:
        near_table = grid.near_table
        for t in range(span):  # the window now holds sigma's coordinates
            v = sigma[lo + t]
            src_i[t] = v // width
            src_j[t] = v - src_i[t] * width
        qi = lo // width
        qj = lo - qi * width
        for q in range(lo, hi):
            si = src_i[q - lo]
            sj = src_j[q - lo]
            for o in range(n_off):
                ti = qi + half_di[o]
                tj = qj + half_dj[o]
                if ti >= height or tj < 0 or tj >= width:
                    continue
                r = ti * width + tj
                di = si - src_i[r - lo]
                dj = sj - src_j[r - lo]
                if -reach <= di <= reach and -reach <= dj <= reach and near_table[di + reach, dj + reach]:
                    continue  # still neighbours: already listed in set (a)
                kb = f_index[half_di[o] + reach, half_dj[o] + reach]
                if store:
                    pq[count] = q
                    pr[count] = r
                    code[count] = kb * n_values
                else:
                    hist[kb * n_values] += value_similarity(x, image, q, r, table, rate)
                count += 1
            qj += 1
            if qj == width:
                qj = 0
                qi += 1
    return count


@njit(cache=True)
def _list_pairs(grid, src, sigma, bijective, pq, pr, code):
    """Every pair of one map into ``pq, pr, code``; returns the count. See :func:`walk_pairs`."""
    return walk_pairs(grid, src, sigma, bijective, 0, grid.height * grid.width, True, _no_sums(), (pq, pr, code))


@njit(parallel=True, cache=True)
def _hist_shared_pairs(x, pq, pr, starts, table, rate, hist):
    """One pair list, many images: ``hist[b, code] += s**2`` over the listed pairs,
    in parallel over blocks of LANES images.

    The pairs come sorted by code (``starts[c]:starts[c + 1]`` holds code c),
    so each code's sum stays in registers. For one-channel uint8 images
    ``table`` is indexed by ``x_q - x_r + 255`` (no branch, no abs).
    Naive twin: ``naive.retention`` / ``naive.energy`` image by image.
    """
    n_img, n_pix, n_chan = x.shape
    n_blocks = (n_img + LANES - 1) // LANES
    gray_table = n_chan == 1 and table.shape[0] == 511
    for blk in prange(n_blocks):
        b0 = blk * LANES
        lanes = min(LANES, n_img - b0)
        xt = np.zeros((n_pix, n_chan, LANES), dtype=x.dtype)  # pixel-major copy of the block
        for l in range(lanes):
            for p in range(n_pix):
                for c in range(n_chan):
                    xt[p, c, l] = x[b0 + l, p, c]
        sq = np.zeros(LANES)
        for cd in range(starts.shape[0] - 1):
            acc = np.zeros(LANES)
            for k in range(starts[cd], starts[cd + 1]):
                xq = xt[pq[k]]
                xr = xt[pr[k]]
                if gray_table:
                    for l in range(LANES):
                        acc[l] += table[np.int64(xq[0, l]) - np.int64(xr[0, l]) + 255]
                else:
                    sq[:] = 0.0
                    for c in range(n_chan):
                        for l in range(LANES):
                            d = np.float64(xq[c, l]) - np.float64(xr[c, l])
                            sq[l] += d * d
                    if table.shape[0] > 0:
                        for l in range(LANES):
                            acc[l] += table[np.int64(sq[l])]
                    else:
                        for l in range(LANES):
                            acc[l] += np.exp(-rate * sq[l])
            for l in range(lanes):
                hist[b0 + l, cd] += acc[l]


@njit(parallel=True, cache=True)
def _hist_per_task(x, srcs, sigmas, bijective, grid, tile, table, rate):
    """Per-image maps (or one large image): in parallel over (image, tile) tasks,
    each summing its pairs as it finds them. Returns ``(B, n_codes)``.
    Naive twin: ``naive.retention`` / ``naive.energy`` image by image."""
    n_img = x.shape[0]
    n = grid.height * grid.width
    n_codes = grid.n_values * grid.n_values
    n_tiles = (n + tile - 1) // tile
    per_task = np.zeros((n_img * n_tiles, n_codes))
    for task in prange(n_img * n_tiles):
        b = task // n_tiles
        lo = (task - b * n_tiles) * tile
        m = b if srcs.shape[0] > 1 else 0
        walk_pairs(grid, srcs[m], sigmas[m], bijective[m], lo, min(n, lo + tile), False,
                   (x, b, table, rate, per_task[task]), _no_pairs())
    return per_task.reshape(n_img, n_tiles, n_codes).sum(axis=1)


@njit(cache=True)
def _hist_one_task(x, src, sigma, bijective, grid, table, rate):
    """The code histogram of one small image (N <= one tile), without a parallel launch.
    Naive twin: ``naive.retention`` / ``naive.energy``."""
    hist = np.zeros((1, grid.n_values * grid.n_values))
    walk_pairs(grid, src, sigma, bijective, 0, grid.height * grid.width, False, (x, 0, table, rate, hist[0]),
               _no_pairs())
    return hist


@njit(parallel=True, cache=True)
def _permutation_flags(srcs):
    """Per map: whether it is a permutation, and its inverse (the map itself when it is not).
    Naive twin: ``len(set(src)) == N`` and ``np.argsort(src)``."""
    flags = np.empty(srcs.shape[0], dtype=np.bool_)
    sigmas = np.empty_like(srcs)
    for m in prange(srcs.shape[0]):
        sigma, ok = permutation_inverse(srcs[m])
        flags[m] = ok
        sigmas[m] = sigma if ok else srcs[m]  # unused for non-bijective maps
    return flags, sigmas


def code_histograms(x: np.ndarray, srcs: np.ndarray, height: int, width: int, geo: Geometry, table: np.ndarray,
                    rate: float) -> tuple[np.ndarray, np.ndarray]:
    """``hist[b, code]``: the sum of ``s**2`` over image b's pairs with that code.

    Parameters
    ----------
    x : ndarray, shape (B, N, C)
        The images, C-contiguous, in their own dtype.
    srcs : ndarray of int64
        ``(1, N)`` for one map shared by the batch or ``(B, N)``.
    height, width : int
    geo : Geometry
    table, rate
        From :func:`value_table` with ``power=2``.

    Returns
    -------
    hist : ndarray, shape (B, n_values**2)
    flags : ndarray of bool
        Per map, whether it is a permutation.
    """
    if srcs.shape[0] == 1:
        sigma, ok = permutation_inverse(srcs[0])
        flags = np.array([ok])
        sigmas = sigma[None] if ok else srcs
    else:
        flags, sigmas = _permutation_flags(srcs)
    n = height * width
    n_img = x.shape[0]
    grid = pair_grid(geo, height, width)
    n_codes = grid.n_values * grid.n_values
    hist = np.zeros((n_img, n_codes))
    tile = min(n, TILE_PIXELS)
    if srcs.shape[0] == 1 and n_img >= LANES and n <= tile:
        # One map for a batch of small images: list its pairs once, sorted by code, and
        # reuse the list for every image. (Large images go per tile below: their lanes'
        # pixel-major copies would not fit in cache.)
        cap = 2 * n * geo.half_di.shape[0]
        pq = np.empty(cap, dtype=np.int32)
        pr = np.empty(cap, dtype=np.int32)
        code = np.empty(cap, dtype=np.int32)
        count = _list_pairs(grid, srcs[0], sigmas[0], flags[0], pq, pr, code)
        order = np.argsort(code[:count], kind="stable")
        starts = np.searchsorted(code[:count][order], np.arange(n_codes + 1))
        lane_table = np.concatenate([table[:0:-1], table]) if table.shape[0] == 256 else table
        _hist_shared_pairs(x, pq[:count][order], pr[:count][order], starts, lane_table, rate, hist)
    elif n_img == 1 and n <= tile:
        # A single task: a parallel launch would cost more than the work.
        hist[:] = _hist_one_task(x, srcs[0], sigmas[0], flags[0], grid, table, rate)
    else:
        hist[:] = _hist_per_task(x, srcs, sigmas, flags, grid, tile, table, rate)
    return hist, flags
