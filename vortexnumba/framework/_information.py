"""Neighbour information of images and what a transformation keeps of it.

Definitions (see ``docs/framework.md`` and ``proofs/``): for pixels q != r the
bond is ``b_X(q, r) = s(X_q, X_r) f(|q - r|)``; the information energy is the
sum of squared bonds over ordered pairs and the information content its
square root. A gather index ``src`` (``Y.flat[p] = X.flat[src[p]]``) keeps the
fraction ``rho`` of it: the cosine between the bonds before and after the
pixels moved.

How the kernels work
--------------------
Every quantity is a sum over pixel pairs of ``s(X_q, X_r)**2`` times a purely
geometric weight that depends only on the kernel values of the pair before
and after the move. The kernels therefore visit the pairs that can contribute
(those within R before or after the move, each unordered pair once) and add
``s**2`` into a small histogram indexed by that pair of kernel values. A gather
index shared by a whole batch lists its pairs once and sums 16 images side by
side; per-image maps sum as they go. Sums over unordered pairs are half the
ordered sums, which cancels in every ratio.

Every sum is then a non-negative combination of the histogram, so nothing
cancels. For a permutation the loss ``1 - rho`` is
``0.5 * || b/|b| - c/|c| ||**2``, a sum of squares that stays accurate when the
loss is tiny (one swap in a large image); ``rho`` itself is the plain cosine
when that is below 1/2, where ``1 - loss`` would lose its relative accuracy.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ._kernels import Geometry, resolve, value_table
from ._loss import loss_from_hist, retention_from_hist
from .._numba_helpers import permutation_inverse, value_similarity
from .._validate import as_image_batch, as_index

__all__ = [
    "information_content",
    "information_energy",
    "information_loss",
    "neighbour_profile",
    "retention",
]

# Pixels per tile of pair lists: bounds the memory of a tile's pair list to a few MB.
_TILE_PIXELS = 8192


# ----------------------------------------------------------------------------- kernels


@njit(cache=True)
def _build_pairs(src, sigma, bijective, height, width, lo, hi, reach, f_index, near_table, half_di, half_dj,
                 n_values, pq, pr, code, x, b, table, rate, hist):
    """List the pairs of the output pixels ``lo <= p < hi`` (and, for a
    permutation, of the source pixels ``lo <= q < hi``). Returns the count.

    Each pair is two source pixel indices and the code ``kb * n_values + kc``
    of its kernel values before (``kb``) and after (``kc``) the move, as
    indices into ``Geometry.f_values`` (0 means "not within R").
    Set (a), pairs near in the output: ``(src p, src p')``; ``kb`` is 0 when
    both read one pixel. Set (b), permutations only: source pairs that were
    neighbours and are no longer (``kc = 0``).

    With an empty ``pq`` the pairs are not stored but summed at once:
    ``hist[code] += s(X_q, X_r)**2`` for image ``b`` of ``x``.
    """
    store = pq.shape[0] > 0
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
                hist[kb * n_values + kc] += value_similarity(x, b, q, r, table, rate)
            count += 1
        pj += 1
        if pj == width:
            pj = 0
            pi += 1
    if bijective:
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
                    hist[kb * n_values] += value_similarity(x, b, q, r, table, rate)
                count += 1
            qj += 1
            if qj == width:
                qj = 0
                qi += 1
    return count


def code_values(f_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kernel values before (``u``) and after (``v``) for every pair code."""
    n_values = f_values.shape[0]
    return np.repeat(f_values, n_values), np.tile(f_values, n_values)


# Images summed side by side over one pair list: a pair's pixels of LANES images
# are contiguous, so the inner loop over images vectorises.
_LANES = 16


@njit(parallel=True, cache=True)
def _hist_shared_pairs(x, pq, pr, starts, table, rate, hist):
    """One pair list, many images: ``hist[b, code] += s**2`` over the listed pairs,
    in parallel over blocks of LANES images.

    The pairs come sorted by code (``starts[c]:starts[c + 1]`` holds code c),
    so each code's sum stays in registers. For one-channel uint8 images
    ``table`` is indexed by ``x_q - x_r + 255`` (no branch, no abs).
    """
    n_img, n_pix, n_chan = x.shape
    n_blocks = (n_img + _LANES - 1) // _LANES
    gray_table = n_chan == 1 and table.shape[0] == 511
    for blk in prange(n_blocks):
        b0 = blk * _LANES
        lanes = min(_LANES, n_img - b0)
        xt = np.zeros((n_pix, n_chan, _LANES), dtype=x.dtype)  # pixel-major copy of the block
        for l in range(lanes):
            for p in range(n_pix):
                for c in range(n_chan):
                    xt[p, c, l] = x[b0 + l, p, c]
        sq = np.zeros(_LANES)
        for cd in range(starts.shape[0] - 1):
            acc = np.zeros(_LANES)
            for k in range(starts[cd], starts[cd + 1]):
                xq = xt[pq[k]]
                xr = xt[pr[k]]
                if gray_table:
                    for l in range(_LANES):
                        acc[l] += table[np.int64(xq[0, l]) - np.int64(xr[0, l]) + 255]
                else:
                    sq[:] = 0.0
                    for c in range(n_chan):
                        for l in range(_LANES):
                            d = np.float64(xq[c, l]) - np.float64(xr[c, l])
                            sq[l] += d * d
                    if table.shape[0] > 0:
                        for l in range(_LANES):
                            acc[l] += table[np.int64(sq[l])]
                    else:
                        for l in range(_LANES):
                            acc[l] += np.exp(-rate * sq[l])
            for l in range(lanes):
                hist[b0 + l, cd] += acc[l]


_NO_LIST = np.empty(0, dtype=np.int32)


@njit(parallel=True, cache=True)
def _hist_per_task(x, srcs, sigmas, bijective, height, width, tile, reach, f_index, near_table,
                   half_di, half_dj, n_values, table, rate, no_list):
    """Per-image maps (or one large image): in parallel over (image, tile) tasks,
    each summing its pairs as it finds them. Returns ``(B, n_codes)``."""
    n_img = x.shape[0]
    n = height * width
    n_tiles = (n + tile - 1) // tile
    per_task = np.zeros((n_img * n_tiles, n_values * n_values))
    for task in prange(n_img * n_tiles):
        b = task // n_tiles
        lo = (task - b * n_tiles) * tile
        m = b if srcs.shape[0] > 1 else 0
        _build_pairs(srcs[m], sigmas[m], bijective[m], height, width, lo, min(n, lo + tile), reach, f_index,
                     near_table, half_di, half_dj, n_values, no_list, no_list, no_list, x, b, table, rate,
                     per_task[task])
    return per_task.reshape(n_img, n_tiles, n_values * n_values).sum(axis=1)


@njit(cache=True)
def _hist_one_task(x, src, sigma, bijective, height, width, reach, f_index, near_table, half_di, half_dj,
                   n_values, table, rate, no_list):
    """The code histogram of one small image (N <= one tile), without a parallel launch."""
    hist = np.zeros((1, n_values * n_values))
    _build_pairs(src, sigma, bijective, height, width, 0, height * width, reach, f_index, near_table, half_di,
                 half_dj, n_values, no_list, no_list, no_list, x, 0, table, rate, hist[0])
    return hist


@njit(parallel=True, cache=True)
def _profile_kernel(x, height, width, reach, f_table, full_di, full_dj, full_bin, n_bins, table, rate):
    n = height * width
    out = np.zeros((n, n_bins))
    for p in prange(n):
        pi = p // width
        pj = p - pi * width
        for o in range(full_di.shape[0]):
            ti = pi + full_di[o]
            tj = pj + full_dj[o]
            if ti < 0 or ti >= height or tj < 0 or tj >= width:
                continue
            s = value_similarity(x, 0, p, ti * width + tj, table, rate)
            out[p, full_bin[o]] += s * f_table[full_di[o] + reach, full_dj[o] + reach]
    return out


@njit(parallel=True, cache=True)
def _permutation_flags(srcs):
    flags = np.empty(srcs.shape[0], dtype=np.bool_)
    sigmas = np.empty_like(srcs)
    for m in prange(srcs.shape[0]):
        sigma, ok = permutation_inverse(srcs[m])
        flags[m] = ok
        sigmas[m] = sigma if ok else srcs[m]  # unused for non-bijective maps
    return flags, sigmas


# ----------------------------------------------------------------------------- drivers


def _flat_pixels(batch: np.ndarray) -> np.ndarray:
    """(B, H, W, C) view -> C-contiguous (B, N, C) in the image's own dtype."""
    b, h, w, c = batch.shape
    return np.ascontiguousarray(batch).reshape(b, h * w, c)


# Images per call of a histogram kernel: bounds the (images, n_codes) histograms.
_CHUNK_IMAGES = 4096


def _code_histograms(x, srcs, height, width, geo, table, rate):
    """``hist[b, code]``: the sum of ``s**2`` over image b's pairs with that code.

    ``srcs`` is ``(1, N)`` for one map shared by the batch or ``(B, N)``.
    Returns the histograms and, per map, whether it is a permutation.
    """
    if srcs.shape[0] == 1:
        sigma, ok = permutation_inverse(srcs[0])
        flags = np.array([ok])
        sigmas = sigma[None] if ok else srcs
    else:
        flags, sigmas = _permutation_flags(srcs)
    n = height * width
    n_img = x.shape[0]
    n_values = geo.f_values.shape[0]
    hist = np.zeros((n_img, n_values * n_values))
    tile = min(n, _TILE_PIXELS)
    if srcs.shape[0] == 1 and n_img >= _LANES and n <= tile:
        # One map for a batch of small images: list its pairs once, sorted by code, and
        # reuse the list for every image. (Large images go per tile below: their lanes'
        # pixel-major copies would not fit in cache.)
        cap = 2 * n * geo.half_di.shape[0]
        pq = np.empty(cap, dtype=np.int32)
        pr = np.empty(cap, dtype=np.int32)
        code = np.empty(cap, dtype=np.int32)
        count = _build_pairs(srcs[0], sigmas[0], flags[0], height, width, 0, n, geo.reach, geo.f_index_table,
                             geo.near_table, geo.half_di, geo.half_dj, n_values, pq, pr, code, x, 0, table, rate,
                             np.zeros(0))
        order = np.argsort(code[:count], kind="stable")
        starts = np.searchsorted(code[:count][order], np.arange(n_values * n_values + 1))
        lane_table = np.concatenate([table[:0:-1], table]) if table.shape[0] == 256 else table
        _hist_shared_pairs(x, pq[:count][order], pr[:count][order], starts, lane_table, rate, hist)
    elif n_img == 1 and n <= tile:
        # A single task: a parallel launch would cost more than the work.
        hist[:] = _hist_one_task(x, srcs[0], sigmas[0], flags[0], height, width, geo.reach, geo.f_index_table,
                                 geo.near_table, geo.half_di, geo.half_dj, n_values, table, rate, _NO_LIST)
    else:
        hist[:] = _hist_per_task(x, srcs, sigmas, flags, height, width, tile, geo.reach, geo.f_index_table,
                                 geo.near_table, geo.half_di, geo.half_dj, n_values, table, rate, _NO_LIST)
    return hist, flags


def _prepare(images, kernel, coupling, *, n_pixels=None, channels=None, name="images"):
    kernel, coupling = resolve(kernel, coupling)
    batch, is_batch = as_image_batch(images, name, n_pixels=n_pixels, channels=channels)
    _, height, width, n_channels = batch.shape
    x = _flat_pixels(batch)
    geo = Geometry.of(kernel)
    table, rate = value_table(coupling, x.dtype, n_channels, power=2)
    return x, is_batch, height, width, geo, table, rate


def information_energy(image, kernel=None, coupling=None, *, channels=None):
    """Information energy ``E(X)``: the sum of squared bonds over ordered pairs.

    Parameters
    ----------
    image : array_like
        ``(H, W)`` or ``(H, W, C)``; uint8 is read as ``value / 255``, floats as
        given. A batch ``(B, H, W[, C])`` gives one energy per image.
    kernel : Kernel, optional
        Distance kernel f; default ``Kernel.power(2, 3)``.
    coupling : Coupling, optional
        Value coupling s; default ``Coupling.gaussian(0.25)``.
    channels : bool, optional
        For a 3-D array: ``True`` for ``(H, W, C)``, ``False`` for ``(B, H, W)``.

    Returns
    -------
    float or ndarray of shape (B,)

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> round(vn.information_energy(np.zeros((2, 2))), 6)  # 8 bonds at 1, 4 at 1/2
    9.0
    """
    x, is_batch, height, width, geo, table, rate = _prepare(image, kernel, coupling, channels=channels,
                                                             name="image")
    identity = np.arange(height * width, dtype=np.int64)[None]
    u, _ = code_values(geo.f_values)
    energy = np.empty(x.shape[0])
    for b0 in range(0, x.shape[0], _CHUNK_IMAGES):  # bounds the (images, codes) histograms
        hist, _ = _code_histograms(x[b0:b0 + _CHUNK_IMAGES], identity, height, width, geo, table, rate)
        energy[b0:b0 + _CHUNK_IMAGES] = 2.0 * (hist @ (u * u))
    return energy if is_batch else float(energy[0])


def information_content(image, kernel=None, coupling=None, *, channels=None):
    """Information content ``I(X) = sqrt(E(X))``; see :func:`information_energy`.

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> vn.information_content(np.zeros((2, 2)))
    3.0
    """
    energy = information_energy(image, kernel, coupling, channels=channels)
    return np.sqrt(energy) if isinstance(energy, np.ndarray) else math.sqrt(energy)


def retention(images, src, kernel=None, coupling=None, *, channels=None):
    """Fraction ``rho`` of an image's neighbour information a gather index keeps.

    ``rho = inner / sqrt(E(X) E(Y))`` with ``Y.flat[p] = X.flat[src[p]]``: the
    cosine between the bonds of the pixels before and after they moved. It is
    1 for maps that keep every neighbour distance (flips, 180-degree turns) and
    below 1 for any other permutation (Theorem 1).

    Parameters
    ----------
    images : array_like
        One image ``(H, W[, C])`` or a batch ``(B, H, W[, C])``; uint8 or float.
    src : array_like of int
        ``(N,)`` gather index applied to every image, or ``(B, N)`` with one
        index per image (e.g. :func:`vortexnumba.shuffle_each`).
    kernel, coupling : optional
        Default ``Kernel.power(2, 3)`` and ``Coupling.gaussian(0.25)``.
    channels : bool, optional
        Disambiguates a 3-D array (see :func:`information_energy`).

    Returns
    -------
    float, or ndarray of shape (B,) for a batch

    Notes
    -----
    Cost O(N R^2) per image. For a permutation the loss is evaluated in a
    sum-of-squares form that stays accurate when it is tiny.

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> img = np.arange(16, dtype=np.uint8).reshape(4, 4) * 16
    >>> flip = np.arange(16).reshape(4, 4)[:, ::-1].ravel()
    >>> vn.retention(img, flip)
    1.0
    >>> swap = np.arange(16); swap[[0, 5]] = [5, 0]
    >>> vn.retention(img, swap) < 1
    True

    References
    ----------
    .. [1] Cao et al., arXiv:2411.16207, and ``proofs/theorems.md``.
    """
    return _from_histograms(images, src, kernel, coupling, channels, retention_from_hist)


def _from_histograms(images, src, kernel, coupling, channels, finish):
    """Validate, build each image's code histogram and reduce it with ``finish``
    (:func:`retention_from_hist` or :func:`loss_from_hist`)."""
    src_arr = np.asarray(src) if not isinstance(src, (str, bytes)) else src
    n_pixels = getattr(src_arr, "shape", (None,))[-1] if getattr(src_arr, "ndim", 0) >= 1 else None
    if n_pixels is None:
        as_index(src_arr, "src")  # raises the right error
    if channels is None and src_arr.ndim == 2:
        channels = False  # one map per image: the input must be a batch
    x, is_batch, height, width, geo, table, rate = _prepare(images, kernel, coupling, n_pixels=n_pixels,
                                                             channels=channels)
    srcs = as_index(src_arr, "src", n=height * width, batch=x.shape[0] if is_batch else None)
    if srcs.ndim == 1:
        srcs = srcs[None]
    u, v = code_values(geo.f_values)
    identity = np.arange(height * width, dtype=np.int64)[None]
    out = np.empty(x.shape[0])
    for b0 in range(0, x.shape[0], _CHUNK_IMAGES):  # bounds the (images, codes) histograms
        b1 = min(x.shape[0], b0 + _CHUNK_IMAGES)
        chunk_srcs = srcs if srcs.shape[0] == 1 else srcs[b0:b1]
        hist, flags = _code_histograms(x[b0:b1], chunk_srcs, height, width, geo, table, rate)
        energy_half = np.full(b1 - b0, np.nan)
        if not flags.all():
            # Non-bijective maps need E(X) on its own: their pair list covers only output neighbours.
            e_hist, _ = _code_histograms(x[b0:b1], identity, height, width, geo, table, rate)
            is_perm = flags if chunk_srcs.shape[0] > 1 else np.repeat(flags, b1 - b0)
            energy_half[~is_perm] = e_hist[~is_perm] @ (u * u)
        out[b0:b1] = finish(hist, u, v, energy_half)
    return out if is_batch else float(out[0])


def information_loss(images, src, kernel=None, coupling=None, *, channels=None):
    """Information loss rate ``L = 1 - rho``; see :func:`retention`.

    For a permutation the loss is computed directly, as the sum of squares
    ``0.5 || b/|b| - c/|c| ||**2``, not as ``1 - rho``: a loss of 1e-40 (one
    swap of weakly bonded pixels) comes out as 1e-40, not 0. Parameters and
    shapes as for :func:`retention`; the accuracy is stated in
    ``proofs/theorems.md`` (section 4). For maps that are not permutations it
    is ``1 - rho`` (which may be negative there).

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> vn.information_loss(np.zeros((3, 3)), np.arange(9)[::-1])  # a 180-degree turn
    0.0
    >>> img = np.zeros((64, 64)); img[10, 10] = 1.0  # one bright pixel
    >>> swap = np.arange(64 * 64); swap[[0, 1]] = [1, 0]  # swap two dark pixels in a corner
    >>> 0.0 < vn.information_loss(img, swap) < 1e-3 and 1.0 - vn.retention(img, swap) >= 0.0
    True
    """
    return _from_histograms(images, src, kernel, coupling, channels, loss_from_hist)


def neighbour_profile(image, kernel=None, coupling=None, *, channels=None):
    """Neighbour information of every pixel at every distance.

    ``profile[i, j, k] = sum over r at distance distances[k] from (i, j) of
    s(X_q, X_r) f(|q - r|)``.

    Parameters
    ----------
    image : array_like
        ``(H, W)`` or ``(H, W, C)``, uint8 or float.
    kernel, coupling : optional
        Default ``Kernel.power(2, 3)`` and ``Coupling.gaussian(0.25)``.

    Returns
    -------
    profile : ndarray, shape (H, W, D)
    distances : ndarray, shape (D,)
        The sorted distinct distances ``0 < d <= R`` on the integer grid.

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> prof, d = vn.neighbour_profile(np.zeros((3, 3)), vn.Kernel.power(2, 1.5))
    >>> d.round(4).tolist(), prof[1, 1].round(12).tolist()
    ([1.0, 1.4142], [4.0, 2.0])
    """
    kernel, coupling = resolve(kernel, coupling)
    batch, is_batch = as_image_batch(image, "image", channels=True if np.ndim(image) == 3 and channels is None
                                     else channels)
    if is_batch:
        raise ValueError(f"image must be one image (H, W) or (H, W, C), got a batch of shape {np.shape(image)}")
    _, height, width, n_channels = batch.shape
    x = _flat_pixels(batch)
    geo = Geometry.of(kernel)
    table, rate = value_table(coupling, x.dtype, n_channels, power=1)
    prof = _profile_kernel(x, height, width, geo.reach, geo.f_table, geo.full_di, geo.full_dj, geo.full_bin,
                           geo.distances.shape[0], table, rate)
    return prof.reshape(height, width, -1), geo.distances.copy()
