"""The ciphertext-only attack on any fixed pixel permutation: the grid's topology from a data set.

Method (after Le Roux, Lamblin, Bengio, Tenenbaum and Kegl, "Learning the 2-D
topology of images", NIPS 2007)
---------------------------------------------------------------------------
A fixed map sends the same source pixel to the same place in every image, so
the statistics of a ciphertext *position* across the data set are those of
its source pixel.

1. **Compatibility.** The covariance of the positions' values over every
   ciphertext, shrunk towards ``shrinkage * mean variance`` times the
   identity, is inverted; the *partial correlations*
   ``P[a, b] = -T[a, b] / sqrt(T[a, a] T[b, b])`` (``T`` the inverse) measure
   how alike two positions are once every other position is accounted for.
   In natural images they are large for the four edge neighbours and near
   zero elsewhere -- unlike plain correlations, which are also large between
   a column and its mirror image in left-right symmetric objects (garments),
   so a placement built on them folds in the middle. The shrinkage is
   relative to the variances, so a position that almost never changes (a
   border pixel that is nearly always 0) gets small partial correlations and
   cannot mislead the placement. Diagonal neighbours share two edge
   neighbours: their compatibility is ``diagonal * (P+ P+)[a, b]`` (``P+``
   the positive part), scaled to the range of ``P``.
2. **Placement.** The objective is the sum of ``P`` over edge-neighbour
   pairs plus the diagonal term over diagonal pairs
   (:mod:`._placement`). A greedy growth from a seed position places, step
   by step, the (cell, position) pair with the largest summed compatibility
   to the placed neighbours, within an ``H x W`` box; simulated annealing over
   swaps then refines it.
3. **Restarts.** Growth is run from several seeds (the positions of largest
   variance, spread over the ranking) and the placement of largest objective
   is kept; the objective tells a folded or torn placement from the right one
   without looking at any plaintext.

Correlations cannot tell a picture from its mirror image or its turn by a
right angle, so the estimate is defined up to the grid's symmetries (8 on a
square grid, 4 otherwise); scores report the best of them and say so.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._placement import anneal, best_cyclic_shift, best_partners, grid_energy, grow

#: default shrinkage of the covariance (times the mean variance) before it is inverted
SHRINKAGE = 0.01
#: default weight of the diagonal-neighbour term
DIAGONAL = 0.3


def partial_correlations(cov: np.ndarray, *, shrinkage: float = SHRINKAGE) -> np.ndarray:
    """Partial correlations ``(N, N)`` of a covariance shrunk by ``shrinkage * mean variance``; zero diagonal.

    Examples
    --------
    >>> import numpy as np
    >>> cov = np.array([[1.0, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 1.0]])  # a Markov chain
    >>> p = partial_correlations(cov, shrinkage=0.0)
    >>> bool(abs(p[0, 2]) < 1e-12 and p[0, 1] > 0.4)
    True
    """
    cov = np.asarray(cov, dtype=np.float64)
    n = cov.shape[0]
    scale = float(np.mean(np.diag(cov)))
    if not scale > 0.0:
        return np.zeros((n, n))
    theta = np.linalg.inv(cov + shrinkage * scale * np.eye(n))
    d = np.sqrt(np.clip(np.diag(theta), 1e-300, None))
    p = -theta / np.outer(d, d)
    p = (p + p.T) / 2
    np.fill_diagonal(p, 0.0)
    return p


def pixel_compatibilities(cov: np.ndarray, *, shrinkage: float = SHRINKAGE,
                          diagonal: float = DIAGONAL) -> tuple[np.ndarray, np.ndarray]:
    """``(edge, diag)`` compatibility matrices of the pixel attack (see the module docstring)."""
    edge = partial_correlations(cov, shrinkage=shrinkage)
    pos = np.maximum(edge, 0.0)
    shared = pos @ pos
    np.fill_diagonal(shared, 0.0)
    top = float(shared.max(initial=0.0))
    diag = shared * (diagonal * float(pos.max(initial=0.0)) / top) if top > 0.0 else np.zeros_like(shared)
    return np.ascontiguousarray(edge), np.ascontiguousarray(diag)


def restart_seeds(variance: np.ndarray, restarts: int) -> list[int]:
    """Seed positions of the growth: the largest-variance positions, every fifth one of the ranking."""
    order = np.argsort(-np.asarray(variance), kind="stable")
    picks = order[::5][:restarts]
    return [int(p) for p in picks]


def place(compat: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], shape: Any, seeds: list[int], *,
          steps: int, t_start: float, t_end: float, partners: int = 8, transposed: bool = False,
          bar: Any = None) -> tuple[np.ndarray, float, list]:
    """Grow from every seed, anneal, keep the largest objective; return ``(cur, objective, objectives)``.

    ``compat`` is ``(right, down, diag, anti)``, the four compatibility
    matrices of :mod:`._placement` (edge-neighbour pairs to the right and
    below, diagonal pairs down-right and down-left). With ``transposed``
    (symmetric compatibilities only) a grid that is not square is also grown
    from every seed on the transposed ``W x H`` box: a growth that ran along
    the long side in the wrong direction hits the short side of the box and
    tears the rest of the picture.

    Examples
    --------
    >>> import numpy as np
    >>> edge = np.zeros((4, 4)); edge[0, 1] = edge[1, 0] = edge[2, 3] = edge[3, 2] = 1.0
    >>> edge[0, 2] = edge[2, 0] = edge[1, 3] = edge[3, 1] = 1.0
    >>> cur, objective, found = place((edge, edge, 0 * edge, 0 * edge), (2, 2), [0], steps=50, t_start=0.1,
    ...                               t_end=0.01)
    >>> objective, len(found)
    (4.0, 1)
    """
    right, down, diag, anti = compat
    h, w = shape
    part = best_partners(right + right.T + down + down.T, partners)
    best = None
    found = []
    for i, s in enumerate(seeds):
        grown = [grow(right, down, diag, anti, h, w, s)]
        if transposed and h != w:
            grown.append(np.ascontiguousarray(grow(right, down, diag, anti, w, h, s).reshape(w, h).T.reshape(-1)))
        for cur in grown:
            e = anneal(right, down, diag, anti, cur, h, w, part, steps, t_start, t_end, i + 1)
            shifted, e2 = best_cyclic_shift(right, down, diag, anti, cur, h, w)
            if e2 > e:
                cur = shifted
                e = anneal(right, down, diag, anti, cur, h, w, part, 0, 0.0, 0.0, i + 1)
            found.append(float(e))
            if best is None or e > best[1]:
                best = (cur, float(e))
        if bar is not None:
            bar.update(1)
    return best[0], best[1], found


#: shrinkages of the search: the first defines the objective, the larger ones give smoother landscapes
SHRINKAGES = (SHRINKAGE, 10.0, 100.0)
#: growth seeds tried under each shrinkage
RESTARTS = (6, 3, 3)


def permutation_attack(cov: np.ndarray, shape: Any, *, shrinkages: tuple[float, ...] = SHRINKAGES,
                       restarts: tuple[int, ...] = RESTARTS, steps: int | None = None, diagonal: float = DIAGONAL,
                       bar: Any = None) -> tuple[np.ndarray, float]:
    """``(cur, objective)`` with ``Xhat = Y[cur]`` for an unknown fixed pixel permutation.

    ``cov`` is the positions' covariance across the ciphertexts
    (:func:`vortexnumba.security._similarity.position_covariance`). The
    objective is the one of ``shrinkages[0]``. The search also grows and
    anneals under the larger shrinkages, whose compatibilities approach the
    plain covariance: that landscape is smoother (every nearby position
    carries some signal, not only the four edge neighbours), so the growth
    finds the layout of very smooth images that the sharp objective's own
    growth misses; every such placement is then polished under the sharp
    objective, and the best under it is kept.
    """
    h, w = shape
    n = h * w
    if n == 1:
        return np.zeros(1, dtype=np.int64), 0.0
    if steps is None:
        steps = 300 * n
    edge0, diag0 = pixel_compatibilities(cov, shrinkage=shrinkages[0], diagonal=diagonal)
    scale0 = float(np.max(edge0, initial=0.0))
    part0 = best_partners(2 * edge0, 8)
    best = None
    for j, (shrinkage, count) in enumerate(zip(shrinkages, restarts, strict=True)):
        edge, diag = (edge0, diag0) if j == 0 else pixel_compatibilities(cov, shrinkage=shrinkage, diagonal=diagonal)
        scale = float(np.max(edge, initial=0.0))
        cur, _, _ = place((edge, edge, diag, diag), shape, restart_seeds(np.diag(cov), count),
                          steps=steps if j == 0 else steps // 2, t_start=0.05 * scale, t_end=0.002 * scale,
                          transposed=True, bar=bar)
        if j > 0:
            anneal(edge0, edge0, diag0, diag0, cur, h, w, part0, steps // 4, 0.005 * scale0, 0.001 * scale0, j)
        e = float(grid_energy(edge0, edge0, diag0, diag0, cur, h, w))
        if best is None or e > best[1] + 1e-12 * abs(best[1]):
            best = (cur, e)
    return best


def objective_of(cov: np.ndarray, cur: Any, shape: Any, *, shrinkage: float = SHRINKAGE,
                 diagonal: float = DIAGONAL) -> float:
    """The pixel attack's objective of any placement ``cur`` (to compare estimates of other attacks)."""
    edge, diag = pixel_compatibilities(cov, shrinkage=shrinkage, diagonal=diagonal)
    return float(grid_energy(edge, edge, diag, diag, np.ascontiguousarray(cur, dtype=np.int64), *shape))
