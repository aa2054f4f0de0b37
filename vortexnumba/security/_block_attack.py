"""The ciphertext-only attack on block scrambling: a jigsaw puzzle solved once for the whole data set.

Method
------
A block key moves the same tile to the same place in every image, so the
ciphertexts are one jigsaw puzzle seen many times over: an edge
compatibility averaged over every image is far cleaner than any one
image's (the solvers of Gallagher, CVPR 2012; Pomeranz, Shemesh and
Ben-Shahar, CVPR 2011; Paikin and Tal, CVPR 2015, work on one image).

1. **Edge dissimilarity** (prediction-based, in the spirit of Pomeranz's
   ``(Lp)^q`` and Gallagher's gradient continuity). For tile ``a`` left of
   tile ``b``, each side predicts the pixels across the seam from its own
   gradient: ``u = R_a + (R_a - R2_a) / 2`` and ``v = L_b - (L2_b - L_b) / 2``
   (``R``, ``R2`` the last two columns of ``a``, ``L``, ``L2`` the first two
   of ``b``); the dissimilarity is the mean over images and seam pixels of
   ``(u - v)^2``. The same for ``a`` above ``b`` with rows.
2. **Compatibility** ``1 - D[a, b] / D2``, ``D2`` the second smallest
   dissimilarity of ``a``'s side and of ``b``'s (the normalisation of
   Gallagher and of Paikin and Tal: a pair that is far better than every
   alternative is a *best buddy* and scores near 1; ambiguous pairs score
   near or below 0).
3. **Placement** by the engine of :mod:`._placement` with directed
   compatibilities and no diagonal term: a greedy growth from every tile in
   turn as the seed, refined by swaps, the largest objective kept. The tiles
   keep their orientation, so there is no symmetry ambiguity.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._placement import anneal, best_cyclic_shift, best_partners, grid_energy, grow


def edge_dissimilarities(x: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """``(right, down)`` mean squared seam-prediction errors ``(T, T)`` of the tiles of a batch ``(B, H, W, C)``.

    ``right[a, b]``: tile ``a`` left of tile ``b``; ``down[a, b]``: ``a`` above ``b``. Tiles are row-major over
    the tile grid; uint8 values are read as value / 255.
    """
    b_, h, w, c = x.shape
    t = block
    th, tw = h // t, w // t
    scale = 255.0 if x.dtype == np.uint8 else 1.0
    tiles = np.asarray(x, dtype=np.float32).reshape(b_, th, t, tw, t, c) / np.float32(scale)
    tiles = tiles.transpose(1, 3, 0, 2, 4, 5).reshape(th * tw, b_, t, t, c)  # (T, B, row, col, C)
    if t == 1:
        first, second = tiles[:, :, :, 0], tiles[:, :, :, 0]
        last, before = first, second
    else:
        first, second = tiles[:, :, :, 0], tiles[:, :, :, 1]
        last, before = tiles[:, :, :, -1], tiles[:, :, :, -2]
    right = _seam(last + (last - before) / 2, first - (second - first) / 2)
    if t == 1:
        top, under = tiles[:, :, 0, :], tiles[:, :, 0, :]
        bottom, above = top, under
    else:
        top, under = tiles[:, :, 0, :], tiles[:, :, 1, :]
        bottom, above = tiles[:, :, -1, :], tiles[:, :, -2, :]
    down = _seam(bottom + (bottom - above) / 2, top - (under - top) / 2)
    return right, down


def _seam(u, v):
    """Mean over everything but the first axis of ``(u[a] - v[b])^2``, for every ``a, b``."""
    n = u.shape[0]
    u = u.reshape(n, -1).astype(np.float64)
    v = v.reshape(n, -1).astype(np.float64)
    m = u.shape[1]
    d = (u * u).sum(axis=1)[:, None] + (v * v).sum(axis=1)[None, :] - 2.0 * (u @ v.T)
    return np.maximum(d, 0.0) / max(m, 1)


def normalised_compatibility(dissimilarity: np.ndarray) -> np.ndarray:
    """``1 - D[a, b] / D2`` with ``D2`` the mean of the second smallest entries of row ``a`` and column ``b``.

    Examples
    --------
    >>> import numpy as np
    >>> d = np.array([[9.0, 1.0, 5.0], [4.0, 9.0, 1.0], [1.0, 4.0, 9.0]])
    >>> c = normalised_compatibility(d)
    >>> [int(np.argmax(row)) for row in c]
    [1, 2, 0]
    """
    d = np.array(dissimilarity, dtype=np.float64)
    n = d.shape[0]
    np.fill_diagonal(d, np.inf)
    if n < 3:
        second_row = np.full(n, float(np.max(d[np.isfinite(d)], initial=1.0)))
        second_col = second_row
    else:
        second_row = np.partition(d, 1, axis=1)[:, 1]
        second_col = np.partition(d, 1, axis=0)[1, :]
    denom = (second_row[:, None] + second_col[None, :]) / 2
    eps = 1e-12 * max(1.0, float(np.max(denom[np.isfinite(denom)], initial=1.0)))
    c = 1.0 - d / (denom + eps)
    c[~np.isfinite(c)] = -1.0
    np.fill_diagonal(c, -1.0)
    return np.clip(c, -1.0, 1.0)


def block_attack(x: np.ndarray, block: int, *, restarts: int | None = None, steps: int | None = None,
                 bar: Any = None) -> tuple[np.ndarray, float]:
    """``(cur, objective)`` over the tile grid: ``Xhat``'s tile ``g`` is the ciphertext's tile ``cur[g]``."""
    _, h, w, _ = x.shape
    tshape = (h // block, w // block)
    n = tshape[0] * tshape[1]
    if n == 1:
        return np.zeros(1, dtype=np.int64), 0.0
    d_right, d_down = edge_dissimilarities(x, block)
    right = np.ascontiguousarray(normalised_compatibility(d_right))
    down = np.ascontiguousarray(normalised_compatibility(d_down))
    zero = np.zeros_like(right)
    if restarts is None:
        restarts = min(n, 16)
    # seeds: the tiles whose best buddies are clearest first
    clarity = right.max(axis=1) + right.max(axis=0) + down.max(axis=1) + down.max(axis=0)
    seeds = [int(s) for s in np.argsort(-clarity, kind="stable")[:restarts]]
    if steps is None:
        steps = 200 * n
    best = None
    part = best_partners(right + right.T + down + down.T, min(8, n - 1))
    for i, s in enumerate(seeds):
        cur = grow(right, down, zero, zero, tshape[0], tshape[1], s)
        e = anneal(right, down, zero, zero, cur, tshape[0], tshape[1], part, steps, 0.05, 0.002, i + 1)
        shifted, e2 = best_cyclic_shift(right, down, zero, zero, cur, tshape[0], tshape[1])
        if e2 > e:
            cur = shifted
            e = anneal(right, down, zero, zero, cur, tshape[0], tshape[1], part, 0, 0.0, 0.0, i + 1)
        if best is None or e > best[1]:
            best = (cur, float(e))
        if bar is not None:
            bar.update(1)
    cur, e = best
    return cur, float(grid_energy(right, down, zero, zero, cur, tshape[0], tshape[1]))
