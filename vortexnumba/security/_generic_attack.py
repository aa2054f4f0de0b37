"""The generic ciphertext-only attack on any fixed pixel permutation: rebuild the grid from correlations.

Method
------
1. **Neighbour graph.** Positions whose sources were grid neighbours are the
   most correlated across the ciphertexts. Each position is joined to its
   ``k`` most similar positions (weight = the positive part of the similarity;
   edges kept if either end chose them).
2. **Spectral placement.** A grid graph's Laplacian has, as its two lowest
   non-trivial eigenvectors, smooth monotone functions of the row and of the
   column (``cos(pi (i + 1/2) / H)`` and the same for ``j``). The noisy
   neighbour graph's eigenvectors 2 and 3 of the normalised Laplacian
   therefore give each position a 2-D coordinate that is a distorted copy of
   its true place (Laplacian eigenmaps, Belkin and Niyogi 2003). On a square
   grid the two eigenvalues are (nearly) equal, so the pair is known only up
   to a rotation; the attack tries 36 angles.
3. **Assignment.** For each angle the coordinates are turned into ranks
   (undoing the cosine's monotone distortion) and matched one-to-one to the
   grid cells by a minimum-cost assignment
   (:func:`scipy.optimize.linear_sum_assignment`, squared distance), which
   turns a cloud of points into a permutation. The angle whose placement has
   the largest neighbour similarity wins.
4. **Local refinement.** Pairwise swaps of placed positions are made while
   one raises the total similarity of 8-neighbour pairs (first improvement,
   sweeps until none does; kernel :func:`_refine`, naive twin in
   ``tests/naive_attack.py``).

Correlations cannot tell a picture from its mirror image or its rotation by
a right angle: the estimate is defined up to the grid's symmetries (8 on a
square grid, 4 otherwise). An attacker picks the upright one by looking at
the reconstructions; the measurements report the best symmetry and say so.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from scipy.optimize import linear_sum_assignment

from ._vortex_attack import _energy, _DX, _DY


@njit(cache=True)
def _swap_delta(S, cur, h, w, g1, g2):
    """Change of the 8-neighbour energy when the contents of grid cells g1 and g2 trade places."""
    c1 = cur[g1]
    c2 = cur[g2]
    y1 = g1 // w
    x1 = g1 % w
    y2 = g2 // w
    x2 = g2 % w
    d = 0.0
    for k in range(8):
        yy = y1 + _DY[k]
        xx = x1 + _DX[k]
        if 0 <= yy < h and 0 <= xx < w:
            q = yy * w + xx
            if q != g2:
                d += S[c2, cur[q]] - S[c1, cur[q]]
        yy = y2 + _DY[k]
        xx = x2 + _DX[k]
        if 0 <= yy < h and 0 <= xx < w:
            q = yy * w + xx
            if q != g1:
                d += S[c1, cur[q]] - S[c2, cur[q]]
    return d


@njit(cache=True)
def _refine(S, cur, h, w, max_sweeps):
    """Swap pairs of cells while a swap raises the energy; return the number of sweeps made.

    ``cur`` is changed in place. Naive twin: ``tests/naive_attack.refine``.
    """
    n = h * w
    for sweep in range(max_sweeps):
        swapped = 0
        for g1 in range(n):
            for g2 in range(g1 + 1, n):
                if _swap_delta(S, cur, h, w, g1, g2) > 1e-12:
                    t = cur[g1]
                    cur[g1] = cur[g2]
                    cur[g2] = t
                    swapped += 1
        if swapped == 0:
            return sweep + 1
    return max_sweeps


def spectral_coordinates(S, k: int = 8) -> np.ndarray:
    """Eigenvectors 2 and 3 of the normalised Laplacian of the k-nearest-neighbour graph of ``S``: (N, 2)."""
    n = S.shape[0]
    k = max(1, min(k, n - 1))
    sim = S.copy()
    np.fill_diagonal(sim, -np.inf)
    nearest = np.argpartition(-sim, k - 1, axis=1)[:, :k]
    weight = np.zeros_like(S)
    rows = np.repeat(np.arange(n), k)
    weight[rows, nearest.ravel()] = np.clip(S[rows, nearest.ravel()], 0.0, None)
    weight = np.maximum(weight, weight.T)
    weight += 1e-6 / n  # keeps the graph connected (positions that never change have no neighbours)
    np.fill_diagonal(weight, 0.0)
    deg = weight.sum(axis=1)
    inv = 1.0 / np.sqrt(deg)
    lap = np.eye(n) - inv[:, None] * weight * inv[None, :]
    _, vecs = np.linalg.eigh(lap)
    return vecs[:, 1:3] * inv[:, None]


def place(coords, shape, S, angles: int = 36) -> np.ndarray:
    """Grid placement ``cur`` (``Xhat = Y[cur]``) of 2-D coordinates: best of ``angles`` rotations."""
    h, w = shape
    n = h * w
    gy, gx = np.divmod(np.arange(n), w)
    gy = (gy + 0.5) / h
    gx = (gx + 0.5) / w
    best, best_e = None, -np.inf
    for theta in np.linspace(0.0, np.pi / 2, angles, endpoint=False):
        c, s = np.cos(theta), np.sin(theta)
        u = coords[:, 0] * c - coords[:, 1] * s
        v = coords[:, 0] * s + coords[:, 1] * c
        ru = (np.argsort(np.argsort(u, kind="stable"), kind="stable") + 0.5) / n
        rv = (np.argsort(np.argsort(v, kind="stable"), kind="stable") + 0.5) / n
        cost = (ru[:, None] - gy[None, :]) ** 2 + (rv[:, None] - gx[None, :]) ** 2
        pos, cell = linear_sum_assignment(cost)
        cur = np.empty(n, dtype=np.int64)
        cur[cell] = pos
        e = _energy(S, cur, h, w)
        if e > best_e:
            best, best_e = cur, e
    return best


def generic_attack(S, shape, *, k: int = 8, angles: int = 36, max_sweeps: int = 200, bar=None) -> np.ndarray:
    """``cur`` with ``Xhat = Y[cur]`` for an unknown fixed permutation (see the module docstring)."""
    h, w = shape
    if h * w == 1:
        return np.zeros(1, dtype=np.int64)
    coords = spectral_coordinates(S, k)
    if bar is not None:
        bar.update(1)
    cur = place(coords, shape, S, angles)
    if bar is not None:
        bar.update(1)
    _refine(S, cur, h, w, max_sweeps)
    if bar is not None:
        bar.update(1)
    return cur


def grid_symmetries(shape) -> list[np.ndarray]:
    """Index maps ``T`` of the grid's symmetries (``image.flat[T]`` is the turned or mirrored image)."""
    h, w = shape
    idx = np.arange(h * w).reshape(h, w)
    maps = [idx, idx[::-1], idx[:, ::-1], idx[::-1, ::-1]]
    if h == w:
        maps += [idx.T, idx.T[::-1], idx.T[:, ::-1], idx.T[::-1, ::-1]]
    return [np.ascontiguousarray(m).reshape(-1) for m in maps]
