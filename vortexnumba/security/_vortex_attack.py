"""The vortex-aware ciphertext-only attack: peel the vortices off, last applied first.

What the attacker knows (Kerckhoffs): the grid, the mode, and how a vortex
moves pixels -- it turns whole rings of pixels around an integer centre, each
ring by its own unknown amount, the outermost ring ``k = r`` not at all (its
turn has the factor ``r - k = 0``), and a key applies its vortices one after
another. What the attacker does not know: the centres, the radii, the turns,
the order. What the attacker measures: the similarity ``S`` of every pair of
positions across the ciphertexts (:mod:`._similarity`).

Undoing one candidate vortex (centre, radius)
    The rings are restored from the outside in. Ring ``r`` never moved, so
    ring ``r - 1`` is turned back by the shift that makes it most similar to
    its already-placed neighbours (ring ``r``, the pixels outside the disc and
    its own ring); then ring ``r - 2`` against ring ``r - 1``, and so on to
    ring 1. A second pass re-chooses every ring's shift against both
    neighbouring rings (coordinate ascent), which repairs a ring that the
    first pass got wrong for lack of an inner neighbour. The *gain* of the
    candidate is the increase of the sum of ``S`` over all 8-neighbour pairs
    of the grid.

Order, search and stopping
    Vortices compose: the last applied one is intact in the ciphertext, the
    earlier ones are cut by the later ones where they overlap, so they must
    be undone last applied first. The attack searches over *sequences* of
    vortices to undo (:func:`vortexnumba.security._peel.peel`): at every round it tries every sequence
    one edit away from the current one -- insert a promising candidate
    (one of the best single undos of the ciphertext or of the current
    reconstruction) first or right after any vortex it overlaps, delete one,
    or move one past vortices it overlaps (vortices apart commute, so other
    places give the same map) -- scores each by the neighbour similarity
    after undoing it, and takes the best edit. Between 6 and 2,000
    ciphertexts the score is cross-validated: the ciphertexts are split in
    two halves, the ring turns chosen on one and the similarity measured on
    the other (both ways round), so a turn fitted to noise scores nothing.
    It stops when no edit raises the score by more than ``min_improvement``
    (0.2 %) of its value: a real vortex raises it by 1 % to 10 %, re-arranging
    noise or the remains of a wrongly ordered undo by less.

Paper mode
    The paper's map is not a ring turn but a rounded rotation about the
    corner point ``(cy - 1/2, cx - 1/2)`` that copies some pixels twice. The
    attack models it by turning the rings ``round(|p - c|)`` of that centre
    (cyclic shifts, so the estimate stays a permutation); the estimate is
    then the best permutation the model allows, not the lost pixels.

Kernels: :func:`undo` (one candidate) and :func:`scan` (all candidates); the search is in :mod:`._peel`;
naive twins in ``tests/naive_attack.py``.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numba import njit, prange

from ..cipher._vortex import bijective_moves, round_half_away
from ._placement import DX, DY, grid_energy

# --------------------------------------------------------------------------- ring geometry

def ring_geometry(mode: str, r: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Moving rings of a vortex of radius ``r``, local to its ``(2r+1)`` square.

    Returns
    -------
    rid : ndarray (side * side,) int64
        Ring of each local pixel, 0 where it never moves (outside the disc,
        the centre, the outermost ring ``r``).
    members : ndarray int64
        Local indices of the moving pixels, ring 1 first, each ring in the
        cipher's angular order.
    starts : ndarray (r,) int64
        Ring ``k`` (1..r-1) is ``members[starts[k-1]:starts[k]]``.

    Bijective rings are read from the cipher itself (:func:`bijective_moves`
    with strength 0 lists every ring pixel in its angular order); paper-mode
    rings are the attacker's model of the rounded rotation (see the module
    docstring).
    """
    side = 2 * r + 1
    if mode == "bijective":
        dst = np.empty(side * side, dtype=np.int64)
        src = np.empty(side * side, dtype=np.int64)
        n = bijective_moves(side, r, r, r, 1, np.zeros(6), 0.0, dst, src)
        order = src[:n]
        d = np.arange(side) - r
        ring_of = np.array([round_half_away(math.hypot(float(d[p // side]), float(d[p % side]))) for p in order],
                           dtype=np.int64)
    elif mode == "paper":
        d = np.arange(side) - r + 0.5
        yo, xo = np.meshgrid(d, d, indexing="ij")
        rho = np.hypot(yo, xo).ravel()
        inside = np.flatnonzero(rho <= r)
        ring_all = np.array([round_half_away(v) for v in rho[inside]], dtype=np.int64)
        ang = np.arctan2(xo.ravel()[inside], yo.ravel()[inside])
        key = np.lexsort((ang, ring_all))  # by ring, then by angle
        order, ring_of = inside[key], ring_all[key]
    else:
        raise ValueError(f"mode must be 'bijective' or 'paper', got {mode!r}")
    moving = (ring_of >= 1) & (ring_of <= r - 1)
    members = np.ascontiguousarray(order[moving])
    ring_m = ring_of[moving]
    rid = np.zeros(side * side, dtype=np.int64)
    rid[members] = ring_m
    starts = np.searchsorted(ring_m, np.arange(1, r + 1)).astype(np.int64)
    return rid, members, starts


class RingTables(NamedTuple):
    """The ring geometry of every radius ``0..r_max``, packed into flat arrays for the kernels.

    Radius ``r``'s tables are the slices ``[offset[r]:offset[r + 1]]`` of
    each array (see :func:`ring_geometry` for their meaning).
    """

    ring_of: np.ndarray
    members: np.ndarray
    starts: np.ndarray
    ring_of_offset: np.ndarray
    members_offset: np.ndarray
    starts_offset: np.ndarray


class Geometry:
    """Ring geometry of every radius ``1..r_max``: ``geom.tables`` is the :class:`RingTables` the kernels read."""

    def __init__(self, mode: str, r_max: int):
        self.mode = mode
        self.r_max = r_max
        ring_of, members, starts = [], [], []
        ring_of_offset, members_offset, starts_offset = [0], [0], [0]
        for r in range(r_max + 1):
            if r == 0:
                a, m, st = np.zeros(1, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
            else:
                a, m, st = ring_geometry(mode, r)
            ring_of.append(a)
            members.append(m)
            starts.append(st)
            ring_of_offset.append(ring_of_offset[-1] + a.size)
            members_offset.append(members_offset[-1] + m.size)
            starts_offset.append(starts_offset[-1] + st.size)
        self.tables = RingTables(np.concatenate(ring_of), np.concatenate(members), np.concatenate(starts),
                                 np.array(ring_of_offset, dtype=np.int64), np.array(members_offset, dtype=np.int64),
                                 np.array(starts_offset, dtype=np.int64))


# --------------------------------------------------------------------------- kernels
# ``sources`` is a placement: the reconstruction is ``Xhat = Y[sources]``; ``window`` holds the new sources
# of the (2r + 1) x (2r + 1) square around a candidate centre, row-major.

@njit(cache=True)
def _content(sources, window, w, cy, cx, r, y, x):
    """Current source of grid position (y, x): from the window inside the square, else from ``sources``."""
    if abs(y - cy) <= r and abs(x - cx) <= r:
        return window[(y - cy + r) * (2 * r + 1) + (x - cx + r)]
    return sources[y * w + x]


@njit(cache=True)
def _local_energy(similarity, sources, window, h, w, cy, cx, r):
    """Sum of the similarity over the 8-neighbour pairs with at least one end in the square (each pair once)."""
    side = 2 * r + 1
    e = 0.0
    for cell in range(side * side):
        y = cy - r + cell // side
        x = cx - r + cell % side
        a = window[cell]
        for d in range(8):
            yy = y + DY[d]
            xx = x + DX[d]
            if yy < 0 or yy >= h or xx < 0 or xx >= w:
                continue
            inside = abs(yy - cy) <= r and abs(xx - cx) <= r
            if inside and (yy - cy + r) * side + (xx - cx + r) < cell:
                continue  # the pair was counted from the other end
            e += similarity[a, _content(sources, window, w, cy, cx, r, yy, xx)]
    return e


@njit(cache=True)
def undo(similarity, sources, h, w, cy, cx, r, ring_of, members, starts, passes, window, scratch):
    """Undo one candidate vortex in ``window``; return its gain.

    ``ring_of``, ``members``, ``starts`` are radius ``r``'s ring tables
    (:func:`ring_geometry`). ``window`` (side * side) receives the sources of
    the square after the ring turns are undone (``sources`` itself is not
    changed); ``scratch`` holds at least the largest ring. A ring's turn is
    chosen by its similarity to the neighbours outside the ring (pairs inside
    one ring barely depend on the turn). Naive twin: ``tests/naive_attack.undo``.
    """
    side = 2 * r + 1
    for cell in range(side * side):
        window[cell] = sources[(cy - r + cell // side) * w + (cx - r + cell % side)]
    if r < 2:
        return 0.0
    e_old = _local_energy(similarity, sources, window, h, w, cy, cx, r)
    n_max = 0
    for k in range(1, r):
        n_max = max(n_max, starts[k] - starts[k - 1])
    outside = np.empty((n_max, 8), dtype=np.int64)  # sources of each ring pixel's neighbours off the ring
    n_outside = np.empty(n_max, dtype=np.int64)
    score = np.empty(n_max)
    for p in range(passes):
        for k in range(r - 1, 0, -1):
            first = starts[k - 1]
            n_k = starts[k] - first
            if n_k == 0:
                continue
            for t in range(n_k):
                cell = members[first + t]
                scratch[t] = window[cell]
                y = cy - r + cell // side
                x = cx - r + cell % side
                c = 0
                for d in range(8):
                    yy = y + DY[d]
                    xx = x + DX[d]
                    if yy < 0 or yy >= h or xx < 0 or xx >= w:
                        continue
                    if abs(yy - cy) <= r and abs(xx - cx) <= r:
                        k2 = ring_of[(yy - cy + r) * side + (xx - cx + r)]
                        if k2 == k or (p == 0 and k2 != 0 and k2 < k):
                            continue  # same ring, or an inner ring not restored yet
                        outside[t, c] = window[(yy - cy + r) * side + (xx - cx + r)]
                    else:
                        outside[t, c] = sources[yy * w + xx]
                    c += 1
                n_outside[t] = c
            for s in range(n_k):
                score[s] = 0.0
            for u in range(n_k):
                row = scratch[u]
                for t in range(n_k):
                    acc = 0.0
                    for j in range(n_outside[t]):
                        acc += similarity[row, outside[t, j]]
                    s = u - t
                    if s < 0:
                        s += n_k
                    score[s] += acc
            best_s = 0
            for s in range(1, n_k):
                if score[s] > score[best_s] + 1e-9 * abs(score[best_s]) + 1e-12:
                    best_s = s
            for t in range(n_k):
                window[members[first + t]] = scratch[(t + best_s) % n_k]
    return _local_energy(similarity, sources, window, h, w, cy, cx, r) - e_old


@njit(inline="always")
def undo_centred(similarity, sources, h, w, cy, cx, r, rings, passes):
    """:func:`undo` of the vortex ``(cy, cx, r)`` with radius ``r``'s slices of the :class:`RingTables`
    ``rings`` and fresh buffers: returns ``(gain, window)``, ``window`` the square's new sources."""
    side = 2 * r + 1
    window = np.empty(side * side, dtype=np.int64)
    scratch = np.empty(side * side, dtype=np.int64)
    a, b = rings.ring_of_offset[r], rings.ring_of_offset[r + 1]
    m0, m1 = rings.members_offset[r], rings.members_offset[r + 1]
    s0, s1 = rings.starts_offset[r], rings.starts_offset[r + 1]
    gain = undo(similarity, sources, h, w, cy, cx, r, rings.ring_of[a:b], rings.members[m0:m1],
                rings.starts[s0:s1], passes, window, scratch)
    return gain, window


@njit(cache=True, parallel=True)
def scan(similarity, sources, h, w, cand, rings, passes):
    """Gain of undoing every candidate ``cand[i] = (cy, cx, r)``. Naive twin: a loop of ``undo``."""
    out = np.empty(cand.shape[0])
    for i in prange(cand.shape[0]):
        out[i] = undo_centred(similarity, sources, h, w, cand[i, 0], cand[i, 1], cand[i, 2], rings, passes)[0]
    return out


def neighbour_energy(S: np.ndarray, cur: np.ndarray, shape: Any) -> float:
    """Sum of ``S[cur[a], cur[b]]`` over all 8-neighbour pairs of the grid (each pair once)."""
    h, w = shape
    c = np.asarray(cur).reshape(h, w)
    e = S[c[:, :-1], c[:, 1:]].sum(dtype=np.float64) + S[c[:-1, :], c[1:, :]].sum(dtype=np.float64)
    e += S[c[:-1, :-1], c[1:, 1:]].sum(dtype=np.float64) + S[c[:-1, 1:], c[1:, :-1]].sum(dtype=np.float64)
    return float(e)


# --------------------------------------------------------------------------- the search

def candidates(shape: Any, radii: Any = "border") -> np.ndarray:
    """Every ``(cy, cx, r)`` a vortex can have: ``r`` the distance to the border (as
    ``VortexKey.random`` draws them) or, with ``radii="all"``, every ``2 <= r <=`` that distance."""
    h, w = shape
    rows = []
    for cy in range(h):
        for cx in range(w):
            rb = min(cy, cx, h - 1 - cy, w - 1 - cx)
            if radii == "border":
                if rb >= 2:
                    rows.append((cy, cx, rb))
            else:
                rows.extend((cy, cx, r) for r in range(2, rb + 1))
    return np.array(rows, dtype=np.int64).reshape(-1, 3)


def apply_undo(S: np.ndarray, cur: np.ndarray, shape: Any, geom: Geometry, cy: int, cx: int, r: int,
               passes: int = 2) -> tuple[np.ndarray, float]:
    """``(new_cur, gain)`` after undoing the vortex (cy, cx, r) on ``cur``."""
    h, w = shape
    side = 2 * r + 1
    gain, window = undo_centred(S, np.ascontiguousarray(cur, dtype=np.int64), h, w, cy, cx, r, geom.tables, passes)
    new = cur.copy().reshape(h, w)
    new[cy - r:cy + r + 1, cx - r:cx + r + 1] = window.reshape(side, side)
    return new.reshape(-1), float(gain)


@njit(cache=True)
def energy(similarity, sources, h, w):
    """:func:`neighbour_energy` as a kernel: the placement objective with one matrix for all four directions."""
    return grid_energy(similarity, similarity, similarity, similarity, sources, h, w)
