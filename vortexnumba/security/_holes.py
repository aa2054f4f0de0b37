"""Pixel maps that are not bijections: duplicated ciphertext positions and lost source pixels.

A paper-mode vortex key rounds coordinates, so its gather index ``src`` reads
some source pixels twice (their ciphertext positions hold the same value in
every image) and never reads others (*lost* pixels: no ciphertext shows them).
An attacker sees the first directly: :func:`duplicate_groups` finds the
positions that agree on every ciphertext. The second is only a count: as many
source pixels are lost as there are surplus copies.

:func:`refine_with_holes` turns an estimate that treats the key as a
permutation (the vortex attack's) into one with holes: every duplicated source
is placed once, the surplus copies become empty cells (*holes*) of zero
compatibility, and simulated annealing over swaps moves pieces and holes under
the pixel attack's objective (:mod:`._permutation_attack`) computed on the
distinct positions only (duplicated columns would make the covariance
singular). The estimate stays a permutation of the ciphertext positions: each
hole is given one surplus copy, the copies matched to the holes so that the
total squared distance between a hole and the cell showing its copy's source
is smallest. A hole thus shows the value of a nearby placed pixel -- its fill.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from .._validate import as_int
from ._permutation_attack import pixel_compatibilities
from ._placement import anneal, best_partners, grid_energy
from ._similarity import position_covariance

#: a duplicated group is merged only if its column has at least this many values other than its most common one
MIN_VARYING = 3
#: annealing temperature of the refinement, times the largest compatibility
_T_START = 0.002
_T_END = 0.001


def duplicate_groups(ciphertexts: np.ndarray, *, min_varying: int = MIN_VARYING) -> np.ndarray:
    """Representative position of every ciphertext position: ``rep`` ``(N,)`` int64.

    Positions whose values agree on every observation (image and channel)
    are one group, represented by its smallest position; ``rep[p] = p`` for a
    position alone in its group. A column that is nearly constant (fewer than
    ``min_varying`` values other than its most common one: a background
    pixel that is almost always 0) agrees with other such columns by chance,
    so it is never merged.

    Parameters
    ----------
    ciphertexts : ndarray
        ``(B, H, W, C)`` (see ``as_ciphertexts``).
    min_varying : int
        How many values must differ from the column's most common value for
        the column to be merged with its copies.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1, 1, 0, 0], [2, 2, 0, 0], [3, 3, 0, 5], [4, 4, 0, 0]], dtype=np.uint8)
    >>> duplicate_groups(x.reshape(4, 2, 2, 1)).tolist()
    [0, 0, 2, 3]
    """
    min_varying = as_int(min_varying, "min_varying")
    if min_varying < 1:
        raise ValueError(f"min_varying must be >= 1, got {min_varying}")
    x = np.asarray(ciphertexts)
    if x.ndim != 4:
        raise ValueError(f"ciphertexts must be (B, H, W, C), got shape {x.shape}")
    b, h, w, c = x.shape
    n = h * w
    cols = np.ascontiguousarray(np.moveaxis(x.reshape(b, n, c), 1, 0).reshape(n, b * c))
    _, first, inv = np.unique(cols, axis=0, return_index=True, return_inverse=True)
    rep = first[np.asarray(inv).reshape(-1)].astype(np.int64)
    for p in np.flatnonzero(rep != np.arange(n)):
        g = rep[p]
        if _varying(cols[g]) < min_varying:
            rep[p] = p
    # a representative whose copies were all split off stays its own; a group keeps its smallest member
    return rep


def _varying(col: np.ndarray) -> int:
    """Number of values of a column other than its most common one."""
    _, counts = np.unique(col, return_counts=True)
    return int(col.size - counts.max())


def refine_with_holes(x: np.ndarray, cur: np.ndarray, rep: np.ndarray, shape: Any, *,
                      seed: int = 1) -> tuple[np.ndarray, float]:
    """Refine a permutation estimate ``cur`` (``Xhat = Y[cur]``) of a non-bijective key; ``(cur, objective)``.

    See the module docstring. ``x`` is ``(B, H, W, C)``, ``rep`` from
    :func:`duplicate_groups`. The objective is the pixel attack's, on the
    distinct positions, with holes counting zero. Deterministic given
    ``seed``.
    """
    h, w = shape
    n = h * w
    cur = np.asarray(cur, dtype=np.int64)
    kept = np.flatnonzero(rep == np.arange(n))
    m = kept.size
    cov = position_covariance(x)[np.ix_(kept, kept)]
    e, d = pixel_compatibilities(cov)
    edge = np.zeros((n, n))
    diag = np.zeros((n, n))
    edge[:m, :m] = e
    diag[:m, :m] = d
    # pieces 0..m-1 are the distinct positions, m..n-1 holes; a source shown twice keeps its first cell
    piece = np.searchsorted(kept, rep)[cur]
    seen = np.zeros(m, dtype=np.bool_)
    lay = np.empty(n, dtype=np.int64)
    hole = m
    for g in range(n):
        if seen[piece[g]]:
            lay[g] = hole
            hole += 1
        else:
            seen[piece[g]] = True
            lay[g] = piece[g]
    scale = float(e.max(initial=0.0))
    if scale > 0.0:
        partners = best_partners(2 * edge, 8)
        anneal(edge, edge, diag, diag, lay, h, w, partners, 300 * n, _T_START * scale, _T_END * scale, seed)
    objective = float(grid_energy(edge, edge, diag, diag, lay, h, w))
    return _fill(lay, kept, rep, shape), objective


def _fill(lay: np.ndarray, kept: np.ndarray, rep: np.ndarray, shape: Any) -> np.ndarray:
    """A permutation from a layout with holes: each hole gets a surplus copy, matched by distance."""
    h, w = shape
    n = h * w
    m = kept.size
    out = np.where(lay < m, kept[np.minimum(lay, m - 1)], -1)
    holes = np.flatnonzero(lay >= m)
    copies = np.flatnonzero(rep != np.arange(n))
    if holes.size:
        cell_of = np.empty(n, dtype=np.int64)
        cell_of[out[out >= 0]] = np.flatnonzero(out >= 0)
        at = cell_of[rep[copies]]  # the cell that shows each copy's source
        dy = holes[:, None] // w - at[None, :] // w
        dx = holes[:, None] % w - at[None, :] % w
        rows, cols = linear_sum_assignment(dy * dy + dx * dx)
        out[holes[rows]] = copies[cols]
    return out
