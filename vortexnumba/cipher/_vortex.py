"""Geometry of the Random Vortex Transformation: vortex parameters -> gather index.

This module only builds index maps; applying them to pixels is the job of
:mod:`vortexnumba.cipher._gather`. Everything here works on plain numbers and int64
arrays so that :mod:`vortexnumba.cipher._keys` can stay a plain-data module.

A vortex is ``(cy, cx, r, family, weights, strength)`` on an ``H x W`` grid.
Its map is a gather index ``src`` of length ``N = H * W``: the output pixel
at flat position ``p`` takes the value of input pixel ``src[p]``.

Two constructions are provided.

``bijective``
    Pixels are grouped into rings ``k = round(|p - c|)``, ``1 <= k <= r``.
    Inside each ring the pixels are listed by increasing polar angle
    ``atan2(i - cy, j - cx)`` (ties, which cannot occur for integer grids,
    would keep row-major order). Ring ``k`` is turned by
    ``m_k = round(phi(k) n_k / 2 pi) mod n_k`` places, where
    ``phi(k) = (r - k) * S * F(k / r)``: the pixel at place ``t`` lands at
    place ``t + m_k``. A cyclic shift of every ring is a permutation, so
    the map can be undone exactly.

``paper``
    The rounded pull map of the reference implementation: every pixel of the
    ``(2r + 1)``-square whose distance ``rho`` from the square's (half-pixel
    shifted) centre ``M = w / 2`` is at most ``r`` reads the pixel found by
    turning it by ``atan2 + (r - k) * S * F((k - 1) / r)`` and rounding both
    coordinates. Several outputs may read the same input, so the map loses
    pixels and is not invertible.

Rounding is always half away from zero (:func:`round_half_away`); NumPy's
``np.round`` rounds half to even and would disagree on exact halves.

Why the paper map never needs clipping: local coordinates are
``xo, yo in {1/2 - r, ..., r + 1/2}``, so ``rho**2 = a**2 + a + b**2 + b + 1/2``
for integers a, b. That is never an integer, hence ``rho != r`` and a pixel
that moves has ``rho <= sqrt(r**2 - 1/2) < r``. Its rotated coordinate
``rho cos(ang) + M`` then lies strictly inside ``(1/2, w + 1/2)`` with a
margin of at least ``r - rho > 1 / (4 r)``, far above rounding error, so the
rounded value is always in ``1..w``. The kernel still clips (and counts the
clips) so that a future change can never index outside the square; the tests
check that the count stays zero.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from .._numba_helpers import compose_indices, permutation_inverse
from .._validate import plain_list

__all__ = [
    "MODES",
    "N_FAMILIES",
    "bijective_moves",
    "build_key_src",
    "compose",
    "family_value",
    "inverse",
    "is_permutation",
    "paper_moves",
    "round_half_away",
    "vortex_src",
]

MODES = ("bijective", "paper")
N_FAMILIES = 5
_TWO_PI = 2.0 * math.pi


@njit(cache=True)
def round_half_away(x):
    """Round a float to the nearest integer, halves away from zero (returns int64).

    Computed as ``floor(|x|)`` plus one when the fraction is at least 1/2;
    ``|x| - floor(|x|)`` is exact in binary floating point, unlike the
    common ``floor(x + 0.5)`` which misrounds 0.49999999999999994.
    """
    a = abs(x)
    f = math.floor(a)
    if a - f >= 0.5:
        f += 1.0
    if x < 0:
        f = -f
    return np.int64(f)


@njit(cache=True)
def family_value(family, w, t):
    """Evaluate random function family ``family`` (1..5) with weights ``w`` at ``t``."""
    if family == 1:
        return w[0] * math.sin(w[1] * t + w[2]) + w[3] * math.cos(w[4] * t + w[5])
    if family == 2:
        return w[0] * t + w[1] * t ** 3 + w[2] * math.exp(2.0 * t) + w[3] * math.cos(w[4] * t + w[5])
    if family == 3:
        return w[0] * math.sqrt(t) + w[1] * t ** 2 + w[2] * math.exp(t) + w[3] * math.sin(w[4] * t + w[5])
    if family == 4:
        return w[0] * t ** 5 + w[1] * math.log(t + 1.0) + w[2] * math.exp(t) + w[3] * math.cos(w[4] * t + w[5])
    # family 5 (validated by the caller)
    return (w[0] * 2.0 ** t + w[1] * (2.0 * t) + w[2] * math.log10(t + 1.0)
            + w[3] * math.sin(w[4] * t + w[5]))


@njit(cache=True)
def bijective_moves(width, cy, cx, r, family, w, strength, dst, src):
    """Fill ``dst[:n], src[:n]`` with the moves of one bijective vortex; return n.

    ``dst[m]`` reads ``src[m]`` (flat grid positions). Only the pixels with
    ring ``1 <= k <= r`` are listed; all of them lie in the bounding square
    because ``|i - cy| <= |p - c| < r + 1/2``.
    """
    side = 2 * r + 1
    n_sq = side * side
    ring = np.empty(n_sq, dtype=np.int64)
    angle = np.empty(n_sq, dtype=np.float64)
    count = np.zeros(r + 2, dtype=np.int64)
    # ring of every pixel of the square, scanned in row-major order
    for a in range(side):
        di = a - r
        for b in range(side):
            dj = b - r
            s = a * side + b
            k = round_half_away(math.hypot(float(di), float(dj)))
            if k > r:
                k = 0  # treated like the centre: does not move
            ring[s] = k
            angle[s] = math.atan2(float(di), float(dj))
            count[k] += 1
    # stable counting sort by ring (row-major order kept within a ring)
    start = np.zeros(r + 2, dtype=np.int64)
    for k in range(1, r + 2):
        start[k] = start[k - 1] + count[k - 1]
    order = np.empty(n_sq, dtype=np.int64)
    fill = start.copy()
    for s in range(n_sq):
        k = ring[s]
        order[fill[k]] = s
        fill[k] += 1
    n = 0
    for k in range(1, r + 1):
        n_k = count[k]
        if n_k == 0:
            continue
        members = order[start[k]:start[k] + n_k]
        # stable sort by polar angle (mergesort keeps row-major order on ties)
        by_angle = members[np.argsort(angle[members], kind="mergesort")]
        phi = (r - k) * strength * family_value(family, w, k / r)
        shift = round_half_away(phi * n_k / (2.0 * math.pi)) % n_k
        if shift < 0:
            shift += n_k
        for t in range(n_k):
            s_from = by_angle[t]
            s_to = by_angle[(t + shift) % n_k]
            dst[n] = (cy - r + s_to // side) * width + (cx - r + s_to % side)
            src[n] = (cy - r + s_from // side) * width + (cx - r + s_from % side)
            n += 1
    return n


@njit(cache=True)
def paper_moves(width, cy, cx, r, family, w, strength, dst, src):
    """Fill ``dst[:n], src[:n]`` with the pull map of one paper-mode vortex.

    Returns ``(n, clips)``; ``clips`` counts rounded coordinates that had to be
    clipped into ``1..w`` (provably zero, see the module docstring).
    """
    side = 2 * r + 1
    half = side / 2.0
    n = 0
    clips = 0
    for x in range(1, side + 1):
        xo = x - half
        for y in range(1, side + 1):
            yo = y - half
            rho = math.hypot(xo, yo)
            if rho > r:
                continue
            k = round_half_away(rho)
            swirl = strength * family_value(family, w, (k - 1) / r)
            ang = math.atan2(yo, xo) + (r - k) * swirl
            xs = round_half_away(rho * math.cos(ang) + half)
            ys = round_half_away(rho * math.sin(ang) + half)
            if xs < 1:
                xs = 1
                clips += 1
            elif xs > side:
                xs = side
                clips += 1
            if ys < 1:
                ys = 1
                clips += 1
            elif ys > side:
                ys = side
                clips += 1
            dst[n] = (cy - r + x - 1) * width + (cx - r + y - 1)
            src[n] = (cy - r + xs - 1) * width + (cx - r + ys - 1)
            n += 1
    return n, clips


@njit(cache=True)
def _build_src(height, width, paper, centres, radii, families, weights, strengths):
    """Compose all vortices of a key into one gather index; also return the clip count.

    Applying A then B is ``A.src[B.src]``; a vortex changes only the entries
    of its own square, so the running index is updated in place through a
    small buffer the size of that square.
    """
    n_pix = height * width
    total = np.arange(n_pix)
    clips = 0
    max_side = 1
    for v in range(radii.shape[0]):
        max_side = max(max_side, 2 * radii[v] + 1)
    dst = np.empty(max_side * max_side, dtype=np.int64)
    src = np.empty(max_side * max_side, dtype=np.int64)
    vals = np.empty(max_side * max_side, dtype=np.int64)
    for v in range(radii.shape[0]):
        cy = centres[v, 0]
        cx = centres[v, 1]
        if paper:
            n, c = paper_moves(width, cy, cx, radii[v], families[v], weights[v], strengths[v], dst, src)
            clips += c
        else:
            n = bijective_moves(width, cy, cx, radii[v], families[v], weights[v], strengths[v], dst, src)
        # total_new[dst] = total_old[src]: read every source before writing any
        for m in range(n):
            vals[m] = total[src[m]]
        for m in range(n):
            total[dst[m]] = vals[m]
    return total, clips


def _as_arrays(vortices):
    """Pack ``(cy, cx, r, family, weights, strength)`` tuples into kernel arrays."""
    n = len(vortices)
    centres = np.zeros((n, 2), dtype=np.int64)
    radii = np.zeros(n, dtype=np.int64)
    families = np.zeros(n, dtype=np.int64)
    weights = np.zeros((n, 6), dtype=np.float64)
    strengths = np.zeros(n, dtype=np.float64)
    for v, (cy, cx, r, family, w, strength) in enumerate(vortices):
        centres[v] = (cy, cx)
        radii[v] = r
        families[v] = family
        weights[v] = w
        strengths[v] = strength
    return centres, radii, families, weights, strengths


def build_key_src(shape: Any, mode: str, vortices: Any, *, return_clips: bool = False) -> Any:
    """Gather index of a whole key.

    Parameters
    ----------
    shape : (int, int)
        Grid ``(H, W)``.
    mode : {"bijective", "paper"}
    vortices : sequence of (cy, cx, r, family, weights, strength)
        Already validated by the caller (disc inside the grid, family 1..5).
    return_clips : bool
        Also return how many paper-mode coordinates were clipped (always 0).

    Returns
    -------
    src : ndarray of int64, shape (H * W,)
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {plain_list(MODES)}, got {mode!r}")
    h, w = shape
    arrays = _as_arrays(vortices)
    src, clips = _build_src(h, w, mode == "paper", *arrays)
    return (src, int(clips)) if return_clips else src


def vortex_src(shape: Any, mode: str, cy: int, cx: int, r: int, family: Any, weights: Any,
               strength: float) -> np.ndarray:
    """Gather index of a single vortex (a key with one vortex)."""
    return build_key_src(shape, mode, [(cy, cx, r, family, weights, strength)])


def compose(first: np.ndarray, then: np.ndarray) -> np.ndarray:
    """One gather index for applying ``first`` and then ``then``: ``first[then]``."""
    first = np.ascontiguousarray(first, dtype=np.int64)
    then = np.ascontiguousarray(then, dtype=np.int64)
    if first.shape != then.shape or first.ndim != 1:
        raise ValueError(f"compose needs two (N,) indices of equal length, got {first.shape} and {then.shape}")
    return compose_indices(first, then)


def inverse(src: np.ndarray) -> np.ndarray:
    """Inverse of a permutation gather index: ``inv[src[p]] = p``.

    Raises
    ------
    ValueError
        If ``src`` is not a permutation of ``0..N-1``.
    """
    src = np.ascontiguousarray(src, dtype=np.int64)
    n = src.shape[0]
    if src.ndim != 1 or n == 0 or src.min() < 0 or src.max() >= n:
        raise ValueError("inverse needs a non-empty (N,) index with entries in [0, N)")
    inv, ok = permutation_inverse(src)
    if not ok:
        raise ValueError("src is not a permutation (some pixel is read twice), so it has no inverse")
    return inv


def is_permutation(src: Any) -> bool:
    """Whether ``src`` holds every index ``0..N-1`` exactly once."""
    src = np.asarray(src)
    n = src.shape[0]
    if src.ndim != 1 or n == 0 or src.min() < 0 or src.max() >= n:
        return False
    return bool(permutation_inverse(np.ascontiguousarray(src, dtype=np.int64))[1])
