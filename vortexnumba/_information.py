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
geometric weight, so each kernel first lists the pairs that can contribute
(those within R before or after the move, each unordered pair once) with the
kernel values before (``fb``) and after (``fc``), and then sums over images.
A gather index shared by a whole batch lists its pairs once; per-image maps
list them per image. Sums over unordered pairs are half the ordered sums,
which cancels in every ratio.

For a permutation the loss ``1 - rho`` is computed as
``0.5 * || b/|b| - c/|c| ||**2`` expanded into sums that vanish term by term on
pairs the map leaves alone, so that one swap on a large image still gives a
correct, strictly positive loss (``1 - inner/sqrt(...)`` would cancel away).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ._kernels import Geometry, resolve, value_table
from ._numba_helpers import inverse_permutation, is_permutation, offset_lookup, value_similarity
from ._validate import as_image_batch, as_index

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
                 n_values, pq, pr, code):
    """List the pairs of the output pixels ``lo <= p < hi`` (and, for a
    permutation, of the source pixels ``lo <= q < hi``). Returns the count.

    Each pair is two source pixel indices and the code ``kb * n_values + kc``
    of its kernel values before (``kb``) and after (``kc``) the move, as
    indices into ``Geometry.f_values`` (0 means "not within R").
    Set (a), pairs near in the output: ``(src p, src p')``; ``kb`` is 0 when
    both read one pixel. Set (b), permutations only: source pairs that were
    neighbours and are no longer (``kc = 0``).
    """
    count = 0
    n_off = half_di.shape[0]
    for p in range(lo, hi):
        pi = p // width
        pj = p - pi * width
        q = src[p]
        qi = q // width
        qj = q - qi * width
        for o in range(n_off):
            ti = pi + half_di[o]
            tj = pj + half_dj[o]
            if ti < 0 or ti >= height or tj < 0 or tj >= width:
                continue
            r = src[ti * width + tj]
            kc = f_index[half_di[o] + reach, half_dj[o] + reach]
            kb = 0
            if r != q:
                ri = r // width
                di = qi - ri
                dj = qj - (r - ri * width)
                if -reach <= di <= reach and -reach <= dj <= reach:
                    kb = f_index[di + reach, dj + reach]
            pq[count] = q
            pr[count] = r
            code[count] = kb * n_values + kc
            count += 1
    if bijective:
        for q in range(lo, hi):
            qi = q // width
            qj = q - qi * width
            sq = sigma[q]
            si = sq // width
            sj = sq - si * width
            for o in range(n_off):
                ti = qi + half_di[o]
                tj = qj + half_dj[o]
                if ti < 0 or ti >= height or tj < 0 or tj >= width:
                    continue
                r = ti * width + tj
                sr = sigma[r]
                sri = sr // width
                if offset_lookup(near_table, reach, si, sj, sri, sr - sri * width) != 0.0:
                    continue  # still neighbours: already listed in set (a)
                pq[count] = q
                pr[count] = r
                code[count] = f_index[half_di[o] + reach, half_dj[o] + reach] * n_values
                count += 1
    return count


def _code_weights(f_values: np.ndarray) -> np.ndarray:
    """Geometric weights of each pair code: (n_values**2, 6) for the six sums
    ``fb^2, fc^2, fb fc, (fb-fc)^2, (fb-fc) fc, (fb-fc)(fb+fc)``."""
    u = np.repeat(f_values, f_values.shape[0])
    v = np.tile(f_values, f_values.shape[0])
    d = u - v
    return np.ascontiguousarray(np.stack([u * u, v * v, u * v, d * d, d * v, d * (u + v)], axis=1))


@njit(inline="always")
def _pair_sums(x, b, pq, pr, code, count, table, rate, weights, out):
    """Add to ``out`` the six sums ``sum over pairs of s**2 * w(code)``.

    The weights depend on the pair only through its code, so the loop sums
    ``s**2`` per code and multiplies by the weights once at the end.
    """
    hist = np.zeros(weights.shape[0])
    for k in range(count):
        hist[code[k]] += value_similarity(x, b, pq[k], pr[k], table, rate)
    for c in range(weights.shape[0]):
        if hist[c] != 0.0:
            for m in range(6):
                out[m] += hist[c] * weights[c, m]


# Images summed side by side over one pair list: a pair's pixels of LANES images
# are contiguous, so the inner loop over images vectorises.
_LANES = 16


@njit(parallel=True, cache=True)
def _sums_shared_pairs(x, pq, pr, code, count, table, rate, weights, out):
    """One pair list, many images: ``out[b] += sums``, in parallel over blocks of images."""
    n_img, n_pix, n_chan = x.shape
    n_blocks = (n_img + _LANES - 1) // _LANES
    gray_table = n_chan == 1 and table.shape[0] == 256
    for blk in prange(n_blocks):
        b0 = blk * _LANES
        lanes = min(_LANES, n_img - b0)
        xt = np.zeros((n_pix, n_chan, _LANES), dtype=x.dtype)  # pixel-major copy of the block
        for l in range(lanes):
            for p in range(n_pix):
                for c in range(n_chan):
                    xt[p, c, l] = x[b0 + l, p, c]
        hist = np.zeros((weights.shape[0], _LANES))
        sq = np.zeros(_LANES)
        for k in range(count):
            xq = xt[pq[k]]
            xr = xt[pr[k]]
            h = hist[code[k]]
            if gray_table:
                for l in range(_LANES):
                    h[l] += table[abs(np.int64(xq[0, l]) - np.int64(xr[0, l]))]
            else:
                sq[:] = 0.0
                for c in range(n_chan):
                    for l in range(_LANES):
                        d = np.float64(xq[c, l]) - np.float64(xr[c, l])
                        sq[l] += d * d
                if table.shape[0] > 0:
                    for l in range(_LANES):
                        h[l] += table[np.int64(sq[l])]
                else:
                    for l in range(_LANES):
                        h[l] += np.exp(-rate * sq[l])
        for l in range(lanes):
            for cd in range(weights.shape[0]):
                if hist[cd, l] != 0.0:
                    for m in range(6):
                        out[b0 + l, m] += hist[cd, l] * weights[cd, m]


@njit(parallel=True, cache=True)
def _sums_per_task(x, srcs, sigmas, bijective, height, width, tile, reach, f_index, near_table,
                   half_di, half_dj, n_values, table, rate, weights):
    """Per-image (or per-tile) pair lists, in parallel over (image, tile) tasks."""
    n_img = x.shape[0]
    n = height * width
    n_tiles = (n + tile - 1) // tile
    per_task = np.zeros((n_img * n_tiles, 6))
    cap = 2 * tile * half_di.shape[0]
    for task in prange(n_img * n_tiles):
        b = task // n_tiles
        t = task - b * n_tiles
        lo = t * tile
        hi = min(n, lo + tile)
        m = b if srcs.shape[0] > 1 else 0
        pq = np.empty(cap, dtype=np.int32)
        pr = np.empty(cap, dtype=np.int32)
        code = np.empty(cap, dtype=np.int32)
        count = _build_pairs(srcs[m], sigmas[m], bijective[m], height, width, lo, hi, reach, f_index,
                             near_table, half_di, half_dj, n_values, pq, pr, code)
        _pair_sums(x, b, pq, pr, code, count, table, rate, weights, per_task[task])
    return per_task.reshape(n_img, n_tiles, 6).sum(axis=1)


@njit(cache=True)
def _retention_from_sums(sums, energy_half):
    """rho for each image from its six pair sums (see module docstring).

    ``energy_half`` is E(X)/2, used for non-bijective maps only (NaN marks a
    permutation, whose sums already hold it).
    """
    n_img = sums.shape[0]
    rho = np.empty(n_img)
    for b in range(n_img):
        s_bb, s_cc, s_bc, s_dd, s_dc, s_ds = sums[b]
        if not np.isnan(energy_half[b]):
            s_bb = energy_half[b]
            if s_bb == 0.0 and s_cc == 0.0:
                rho[b] = 1.0
            elif s_bb == 0.0 or s_cc == 0.0:
                rho[b] = 0.0
            else:
                rho[b] = s_bc / math.sqrt(s_bb * s_cc)
            continue
        if s_bb == 0.0 and s_cc == 0.0:
            rho[b] = 1.0
            continue
        if s_bb == 0.0 or s_cc == 0.0:
            rho[b] = 0.0
            continue
        nb = math.sqrt(s_bb)
        nc = math.sqrt(s_cc)
        dn = -s_ds / (nb + nc)  # |c| - |b|, from sums that vanish on unmoved pairs
        loss = 0.5 * (s_dd / s_bb + 2.0 * s_dc * dn / (s_bb * nc) + dn * dn / s_bb)
        rho[b] = 1.0 - max(loss, 0.0)
    return rho


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
        flags[m] = is_permutation(srcs[m])
        if flags[m]:
            sigmas[m] = inverse_permutation(srcs[m])
        else:
            sigmas[m] = srcs[m]  # unused for non-bijective maps
    return flags, sigmas


# ----------------------------------------------------------------------------- drivers


def _flat_pixels(batch: np.ndarray) -> np.ndarray:
    """(B, H, W, C) view -> C-contiguous (B, N, C) in the image's own dtype."""
    b, h, w, c = batch.shape
    return np.ascontiguousarray(batch).reshape(b, h * w, c)


def _pair_sums_for(x, srcs, height, width, geo, table, rate):
    """Six pair sums per image: (B, 6). ``srcs`` is (1, N) shared or (B, N)."""
    flags, sigmas = _permutation_flags(srcs)
    n = height * width
    n_img = x.shape[0]
    n_values = geo.f_values.shape[0]
    weights = _code_weights(geo.f_values)
    if srcs.shape[0] == 1 and n_img > 1:
        # One map for the whole batch: list its pairs once per tile, reuse them for every image.
        out = np.zeros((n_img, 6))
        cap = 2 * min(n, _TILE_PIXELS) * geo.half_di.shape[0]
        pq = np.empty(cap, dtype=np.int32)
        pr = np.empty(cap, dtype=np.int32)
        code = np.empty(cap, dtype=np.int32)
        for lo in range(0, n, _TILE_PIXELS):
            hi = min(n, lo + _TILE_PIXELS)
            count = _build_pairs(srcs[0], sigmas[0], flags[0], height, width, lo, hi, geo.reach,
                                 geo.f_index_table, geo.near_table, geo.half_di, geo.half_dj, n_values, pq, pr, code)
            _sums_shared_pairs(x, pq, pr, code, count, table, rate, weights, out)
        return out, flags
    tile = min(n, _TILE_PIXELS)
    out = _sums_per_task(x, srcs, sigmas, flags, height, width, tile, geo.reach, geo.f_index_table,
                         geo.near_table, geo.half_di, geo.half_dj, n_values, table, rate, weights)
    return out, flags


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
    sums, _ = _pair_sums_for(x, identity, height, width, geo, table, rate)
    energy = 2.0 * sums[:, 0]
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
    sums, flags = _pair_sums_for(x, srcs, height, width, geo, table, rate)
    energy_half = np.full(x.shape[0], np.nan)
    if not flags.all():
        # Non-bijective maps need E(X) on its own: their pair list covers only output neighbours.
        identity = np.arange(height * width, dtype=np.int64)[None]
        e_sums, _ = _pair_sums_for(x, identity, height, width, geo, table, rate)
        is_perm = flags if srcs.shape[0] > 1 else np.repeat(flags, x.shape[0])
        energy_half[~is_perm] = e_sums[~is_perm, 0]
    rho = _retention_from_sums(sums, energy_half)
    return rho if is_batch else float(rho[0])


def information_loss(images, src, kernel=None, coupling=None, *, channels=None):
    """Information loss rate ``L = 1 - rho``; see :func:`retention`.

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> vn.information_loss(np.zeros((3, 3)), np.arange(9)[::-1])  # a 180-degree turn
    0.0
    """
    rho = retention(images, src, kernel, coupling, channels=channels)
    return 1.0 - rho


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
