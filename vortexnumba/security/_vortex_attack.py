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

Kernels: :func:`_undo` (one candidate) and :func:`_scan` (all candidates); the search is in :mod:`._peel`;
naive twins in ``tests/naive_attack.py``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ..cipher._vortex import bijective_moves, round_half_away

# 8-neighbourhood offsets; each unordered pair of grid positions is counted once in energies
_DY = np.array([-1, -1, -1, 0, 0, 1, 1, 1], dtype=np.int64)
_DX = np.array([-1, 0, 1, -1, 1, -1, 0, 1], dtype=np.int64)


# --------------------------------------------------------------------------- ring geometry

def ring_geometry(mode: str, r: int):
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


class Geometry:
    """Ring geometry of every radius ``1..r_max`` packed into flat arrays for the kernels."""

    def __init__(self, mode: str, r_max: int):
        self.mode = mode
        self.r_max = r_max
        rid, pos, mem, starts = [], [], [], []
        rid_off, mem_off, st_off = [0], [0], [0]
        for r in range(r_max + 1):
            if r == 0:
                a, m, s = np.zeros(1, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
            else:
                a, m, s = ring_geometry(mode, r)
            p = np.full(a.size, -1, dtype=np.int64)
            if r >= 2:
                for k in range(1, r):
                    ring = m[s[k - 1]:s[k]]
                    p[ring] = np.arange(ring.size)
            rid.append(a); pos.append(p); mem.append(m); starts.append(s)
            rid_off.append(rid_off[-1] + a.size)
            mem_off.append(mem_off[-1] + m.size)
            st_off.append(st_off[-1] + s.size)
        self.rid = np.concatenate(rid)
        self.pos = np.concatenate(pos)
        self.mem = np.concatenate(mem)
        self.starts = np.concatenate(starts)
        self.rid_off = np.array(rid_off, dtype=np.int64)
        self.mem_off = np.array(mem_off, dtype=np.int64)
        self.st_off = np.array(st_off, dtype=np.int64)

    def arrays(self):
        return self.rid, self.pos, self.mem, self.starts, self.rid_off, self.mem_off, self.st_off


# --------------------------------------------------------------------------- kernels

@njit(cache=True)
def _content(cur, loc, h, w, cy, cx, r, y, x):
    """Current content of grid position (y, x): from the local buffer inside the square."""
    if abs(y - cy) <= r and abs(x - cx) <= r:
        return loc[(y - cy + r) * (2 * r + 1) + (x - cx + r)]
    return cur[y * w + x]


@njit(cache=True)
def _local_energy(S, cur, loc, h, w, cy, cx, r):
    """Sum of S over the 8-neighbour pairs with at least one end in the square (each pair once)."""
    side = 2 * r + 1
    e = 0.0
    for l in range(side * side):
        y = cy - r + l // side
        x = cx - r + l % side
        a = loc[l]
        for d in range(8):
            yy = y + _DY[d]
            xx = x + _DX[d]
            if yy < 0 or yy >= h or xx < 0 or xx >= w:
                continue
            inside = abs(yy - cy) <= r and abs(xx - cx) <= r
            if inside and (yy - cy + r) * side + (xx - cx + r) < l:
                continue  # the pair was counted from the other end
            e += S[a, _content(cur, loc, h, w, cy, cx, r, yy, xx)]
    return e


@njit(cache=True)
def _undo(S, cur, h, w, cy, cx, r, rid, pos, mem, starts, passes, loc, tmp):
    """Undo one candidate vortex in the local buffer ``loc``; return its gain.

    ``loc`` (side * side) receives the contents of the square after the ring
    turns are undone (``cur`` itself is not changed); ``tmp`` is scratch of
    at least the largest ring. A ring's turn is chosen by its similarity to
    the neighbours outside the ring (pairs inside one ring barely depend on
    the turn). Naive twin: ``tests/naive_attack.undo``.
    """
    side = 2 * r + 1
    for l in range(side * side):
        loc[l] = cur[(cy - r + l // side) * w + (cx - r + l % side)]
    if r < 2:
        return 0.0
    e_old = _local_energy(S, cur, loc, h, w, cy, cx, r)
    n_max = 0
    for k in range(1, r):
        n_max = max(n_max, starts[k] - starts[k - 1])
    ext = np.empty((n_max, 8), dtype=np.int64)
    cnt = np.empty(n_max, dtype=np.int64)
    score = np.empty(n_max)
    for p in range(passes):
        for k in range(r - 1, 0, -1):
            a0 = starts[k - 1]
            n_k = starts[k] - a0
            if n_k == 0:
                continue
            for t in range(n_k):
                l = mem[a0 + t]
                tmp[t] = loc[l]
                y = cy - r + l // side
                x = cx - r + l % side
                c = 0
                for d in range(8):
                    yy = y + _DY[d]
                    xx = x + _DX[d]
                    if yy < 0 or yy >= h or xx < 0 or xx >= w:
                        continue
                    if abs(yy - cy) <= r and abs(xx - cx) <= r:
                        k2 = rid[(yy - cy + r) * side + (xx - cx + r)]
                        if k2 == k or (p == 0 and k2 != 0 and k2 < k):
                            continue  # same ring, or an inner ring not restored yet
                        ext[t, c] = loc[(yy - cy + r) * side + (xx - cx + r)]
                    else:
                        ext[t, c] = cur[yy * w + xx]
                    c += 1
                cnt[t] = c
            for s in range(n_k):
                score[s] = 0.0
            for u in range(n_k):
                row = tmp[u]
                for t in range(n_k):
                    acc = 0.0
                    for j in range(cnt[t]):
                        acc += S[row, ext[t, j]]
                    s = u - t
                    if s < 0:
                        s += n_k
                    score[s] += acc
            best_s = 0
            for s in range(1, n_k):
                if score[s] > score[best_s] + 1e-9 * abs(score[best_s]) + 1e-12:
                    best_s = s
            for t in range(n_k):
                loc[mem[a0 + t]] = tmp[(t + best_s) % n_k]
    return _local_energy(S, cur, loc, h, w, cy, cx, r) - e_old


@njit(inline="always")
def _undo_centred(S, cur, h, w, cy, cx, r, rid, pos, mem, starts, rid_off, mem_off, st_off, passes):
    """``_undo`` of the vortex ``(cy, cx, r)`` with radius ``r``'s slices of the ring tables and fresh
    scratch: returns ``(gain, loc)``, ``loc`` the window's new sources (row-major, side ``2r + 1``)."""
    side = 2 * r + 1
    loc = np.empty(side * side, dtype=np.int64)
    tmp = np.empty(side * side, dtype=np.int64)
    gain = _undo(S, cur, h, w, cy, cx, r, rid[rid_off[r]:rid_off[r + 1]], pos[rid_off[r]:rid_off[r + 1]],
                 mem[mem_off[r]:mem_off[r + 1]], starts[st_off[r]:st_off[r + 1]], passes, loc, tmp)
    return gain, loc


@njit(cache=True, parallel=True)
def _scan(S, cur, h, w, cand, rid, pos, mem, starts, rid_off, mem_off, st_off, passes):
    """Gain of undoing every candidate ``cand[i] = (cy, cx, r)``. Naive twin: loop of ``_undo``."""
    out = np.empty(cand.shape[0])
    for i in prange(cand.shape[0]):
        out[i] = _undo_centred(S, cur, h, w, cand[i, 0], cand[i, 1], cand[i, 2], rid, pos, mem, starts,
                               rid_off, mem_off, st_off, passes)[0]
    return out


def neighbour_energy(S, cur, shape) -> float:
    """Sum of ``S[cur[a], cur[b]]`` over all 8-neighbour pairs of the grid (each pair once)."""
    h, w = shape
    c = np.asarray(cur).reshape(h, w)
    e = S[c[:, :-1], c[:, 1:]].sum(dtype=np.float64) + S[c[:-1, :], c[1:, :]].sum(dtype=np.float64)
    e += S[c[:-1, :-1], c[1:, 1:]].sum(dtype=np.float64) + S[c[:-1, 1:], c[1:, :-1]].sum(dtype=np.float64)
    return float(e)


# --------------------------------------------------------------------------- the search

def candidates(shape, radii="border") -> np.ndarray:
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


def apply_undo(S, cur, shape, geom: Geometry, cy, cx, r, passes=2):
    """``(new_cur, gain)`` after undoing the vortex (cy, cx, r) on ``cur``."""
    h, w = shape
    rid, pos, mem, starts, rid_off, mem_off, st_off = geom.arrays()
    side = 2 * r + 1
    loc = np.empty(side * side, dtype=np.int64)
    tmp = np.empty(side * side, dtype=np.int64)
    gain = _undo(S, cur, h, w, cy, cx, r, rid[rid_off[r]:rid_off[r + 1]], pos[rid_off[r]:rid_off[r + 1]],
                 mem[mem_off[r]:mem_off[r + 1]], starts[st_off[r]:st_off[r + 1]], passes, loc, tmp)
    new = cur.copy().reshape(h, w)
    new[cy - r:cy + r + 1, cx - r:cx + r + 1] = loc.reshape(side, side)
    return new.reshape(-1), float(gain)


@njit(cache=True)
def _energy(S, cur, h, w):
    """:func:`neighbour_energy` as a kernel."""
    e = 0.0
    for y in range(h):
        for x in range(w):
            a = cur[y * w + x]
            if x + 1 < w:
                e += S[a, cur[y * w + x + 1]]
            if y + 1 < h:
                e += S[a, cur[(y + 1) * w + x]]
                if x + 1 < w:
                    e += S[a, cur[(y + 1) * w + x + 1]]
                if x > 0:
                    e += S[a, cur[(y + 1) * w + x - 1]]
    return e
