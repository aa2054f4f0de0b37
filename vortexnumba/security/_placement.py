"""Placing pieces on a grid from pairwise compatibilities: the engine of the jigsaw-style attacks.

A *placement* ``cur`` puts piece ``cur[g]`` in grid cell ``g`` (row-major on an
``h x w`` grid; ``Xhat = Y[cur]`` when the pieces are pixels). Its *objective*
is the sum of directed compatibilities over every adjacent pair of cells::

    E(cur) = sum_{g left of g'}        right[cur[g], cur[g']]
           + sum_{g above g'}          down[cur[g], cur[g']]
           + sum_{g up-left of g'}     diag[cur[g], cur[g']]
           + sum_{g up-right of g'}    anti[cur[g], cur[g']]

The pixel attack passes symmetric matrices (a pixel's neighbours are the same
whichever way the grid is read); the block attack passes directed edge
compatibilities and zero diagonals. Three kernels act on it:

- :func:`grid_energy` -- ``E(cur)``;
- :func:`grow` -- a greedy placement: from one seed piece, repeatedly fill the
  free cell next to the placed patch whose best candidate piece beats its
  second best by the largest margin (the most certain placement first, as in
  Paikin and Tal's jigsaw solver), within an ``h x w`` bounding box;
- :func:`anneal` -- simulated annealing over swaps of two cells' pieces, with
  proposals aimed at the pieces most compatible with a cell's neighbours, then
  a greedy finish; it returns the final objective.

Naive twins are in ``tests/naive_attack.py``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# the 8 neighbour offsets (dy, dx)
DY = np.array([-1, -1, -1, 0, 0, 1, 1, 1], dtype=np.int64)
DX = np.array([-1, 0, 1, -1, 1, -1, 0, 1], dtype=np.int64)


@njit(cache=True, inline="always")
def pair_weight(right, down, diag, anti, a, b, dy, dx):
    """Compatibility of piece ``a`` with piece ``b`` placed at offset ``(dy, dx)`` from it."""
    if dy == 0:
        return right[a, b] if dx == 1 else right[b, a]
    if dx == 0:
        return down[a, b] if dy == 1 else down[b, a]
    if dy == dx:
        return diag[a, b] if dy == 1 else diag[b, a]
    return anti[a, b] if dy == 1 else anti[b, a]


@njit(cache=True)
def grid_energy(right, down, diag, anti, cur, h, w):
    """The objective ``E(cur)`` of a full placement (see the module docstring)."""
    e = 0.0
    for y in range(h):
        for x in range(w):
            a = cur[y * w + x]
            if x + 1 < w:
                e += right[a, cur[y * w + x + 1]]
            if y + 1 < h:
                e += down[a, cur[(y + 1) * w + x]]
                if x + 1 < w:
                    e += diag[a, cur[(y + 1) * w + x + 1]]
                if x > 0:
                    e += anti[a, cur[(y + 1) * w + x - 1]]
    return e


@njit(cache=True)
def swap_delta(right, down, diag, anti, cur, h, w, g1, g2):
    """Change of ``E`` when the pieces of cells ``g1`` and ``g2`` trade places."""
    c1 = cur[g1]
    c2 = cur[g2]
    y1 = g1 // w
    x1 = g1 % w
    y2 = g2 // w
    x2 = g2 % w
    d = 0.0
    for k in range(8):
        yy = y1 + DY[k]
        xx = x1 + DX[k]
        if 0 <= yy < h and 0 <= xx < w:
            q = yy * w + xx
            if q != g2:
                b = cur[q]
                d += pair_weight(right, down, diag, anti, c2, b, DY[k], DX[k])
                d -= pair_weight(right, down, diag, anti, c1, b, DY[k], DX[k])
        yy = y2 + DY[k]
        xx = x2 + DX[k]
        if 0 <= yy < h and 0 <= xx < w:
            q = yy * w + xx
            if q != g1:
                b = cur[q]
                d += pair_weight(right, down, diag, anti, c1, b, DY[k], DX[k])
                d -= pair_weight(right, down, diag, anti, c2, b, DY[k], DX[k])
    dy = y2 - y1
    dx = x2 - x1
    if -1 <= dy <= 1 and -1 <= dx <= 1:
        # the pair (g1, g2) itself: c1 -> c2 at offset (dy, dx) becomes c2 -> c1
        d += pair_weight(right, down, diag, anti, c2, c1, dy, dx)
        d -= pair_weight(right, down, diag, anti, c1, c2, dy, dx)
    return d


@njit(cache=True)
def cell_best(right, down, diag, anti, canvas, cw, ch, placed, cell):
    """Best unplaced piece for a free canvas cell and its score (-inf: no edge neighbour placed)."""
    n = placed.shape[0]
    cy = cell // cw
    cx = cell % cw
    nb = np.empty(8, dtype=np.int64)
    ndy = np.empty(8, dtype=np.int64)
    ndx = np.empty(8, dtype=np.int64)
    c = 0
    edge = False
    for d in range(8):
        yy = cy + DY[d]
        xx = cx + DX[d]
        if 0 <= yy < ch and 0 <= xx < cw and canvas[yy * cw + xx] >= 0:
            nb[c] = canvas[yy * cw + xx]
            ndy[c] = -DY[d]  # offset from the neighbour to the free cell
            ndx[c] = -DX[d]
            c += 1
            if DY[d] == 0 or DX[d] == 0:
                edge = True
    if not edge:
        return -np.inf, -1
    first = -np.inf
    arg = -1
    for p in range(n):
        if placed[p]:
            continue
        acc = 0.0
        for j in range(c):
            acc += pair_weight(right, down, diag, anti, nb[j], p, ndy[j], ndx[j])
        if acc > first:
            first = acc
            arg = p
    return first, arg


@njit(cache=True)
def crop_canvas(canvas, cw, y0, x0, h, w):
    """The ``h x w`` window of a grown canvas (row width ``cw``) from cell ``(y0, x0)``, flat, as ``cur``."""
    cur = np.empty(h * w, dtype=np.int64)
    for y in range(h):
        for x in range(w):
            cur[y * w + x] = canvas[(y0 + y) * cw + (x0 + x)]
    return cur


@njit(cache=True)
def grow(right, down, diag, anti, h, w, seed_piece):
    """Greedy placement grown from ``seed_piece``; returns ``cur`` (see the module docstring).

    Works on a canvas of ``(2h - 1) x (2w - 1)`` cells centred on the seed and
    keeps the bounding box of the placed patch within ``h x w``. A free cell
    is a candidate when one of its four edge neighbours is placed; its score
    for a piece is the sum of the compatibilities with every placed
    8-neighbour, and every step places the best (cell, piece) pair. Ties go to
    the first cell and piece in row-major order. Each cell's best piece is
    cached and recomputed only when a neighbour is placed or its piece is
    taken. Naive twin: ``tests/naive_attack.grow``.
    """
    n = h * w
    ch = 2 * h - 1
    cw = 2 * w - 1
    canvas = np.full(ch * cw, -1, dtype=np.int64)
    placed = np.zeros(n, dtype=np.bool_)
    score = np.full(ch * cw, -np.inf)
    arg = np.full(ch * cw, -1, dtype=np.int64)
    dirty = np.zeros(ch * cw, dtype=np.bool_)
    centre = (h - 1) * cw + (w - 1)
    canvas[centre] = seed_piece
    placed[seed_piece] = True
    y0 = h - 1
    y1 = h - 1
    x0 = w - 1
    x1 = w - 1
    last = centre
    taken = seed_piece
    for _ in range(1, n):
        ly = last // cw
        lx = last % cw
        for d in range(8):
            yy = ly + DY[d]
            xx = lx + DX[d]
            if 0 <= yy < ch and 0 <= xx < cw:
                dirty[yy * cw + xx] = True
        best = -np.inf
        best_cell = -1
        for cy in range(max(0, y1 - h + 1), min(ch, y0 + h)):
            for cx in range(max(0, x1 - w + 1), min(cw, x0 + w)):
                cell = cy * cw + cx
                if canvas[cell] >= 0:
                    continue
                if dirty[cell] or (arg[cell] >= 0 and placed[arg[cell]]):
                    score[cell], arg[cell] = cell_best(right, down, diag, anti, canvas, cw, ch, placed, cell)
                    dirty[cell] = False
                if score[cell] > best:
                    best = score[cell]
                    best_cell = cell
        last = best_cell
        taken = arg[best_cell]
        canvas[best_cell] = taken
        placed[taken] = True
        cy = best_cell // cw
        cx = best_cell % cw
        y0 = min(y0, cy)
        y1 = max(y1, cy)
        x0 = min(x0, cx)
        x1 = max(x1, cx)
    return crop_canvas(canvas, cw, y0, x0, h, w)


def best_partners(compat: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` most compatible other pieces of every piece, ``(N, k)`` int64 (ties: lower index first)."""
    n = compat.shape[0]
    k = max(0, min(k, n - 1))
    c = np.array(compat, dtype=np.float64)
    np.fill_diagonal(c, -np.inf)
    return np.ascontiguousarray(np.argsort(-c, axis=1, kind="stable")[:, :k], dtype=np.int64)


def best_cyclic_shift(right: np.ndarray, down: np.ndarray, diag: np.ndarray, anti: np.ndarray, cur: np.ndarray, h: int,
                      w: int) -> tuple[np.ndarray, float]:
    """The cyclic shift of the rows and columns of ``cur`` with the largest objective: ``(cur, E)``.

    A growth that started on the wrong side of a seam between two blank
    borders builds the picture cut and glued the other way round; the
    correct layout is then a cyclic shift away, which no swap reaches.
    Ties keep the smallest shift (row shift first).
    """
    grid = np.asarray(cur, dtype=np.int64).reshape(h, w)
    best = (np.ascontiguousarray(grid.reshape(-1)), float(grid_energy(right, down, diag, anti, grid.reshape(-1), h, w)))
    for dy in range(h):
        for dx in range(w):
            if dy == 0 and dx == 0:
                continue
            cand = np.ascontiguousarray(np.roll(grid, (dy, dx), axis=(0, 1)).reshape(-1))
            e = float(grid_energy(right, down, diag, anti, cand, h, w))
            if e > best[1] + 1e-12 * max(1.0, abs(best[1])):
                best = (cand, e)
    return best


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@njit(cache=True)
def next_uniform(state):
    """SplitMix64: advance ``state[0]`` and return a float in [0, 1) (the same bits on every machine)."""
    z = state[0] + _GOLDEN
    state[0] = z
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    z = z ^ (z >> np.uint64(31))
    return float(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def next_below(state, n):
    """A random int in ``0..n-1`` from :func:`next_uniform`."""
    return min(int(next_uniform(state) * n), n - 1)


@njit(cache=True)
def anneal(right, down, diag, anti, cur, h, w, partners, steps, t_start, t_end, seed):
    """Simulated annealing over swaps of two cells' pieces, then greedy swaps; returns ``E(cur)``.

    ``cur`` is changed in place. A proposal picks a random cell ``g1`` and,
    with probability 3/4, the cell of a random piece of ``partners[b]`` (the
    pieces most compatible with ``b``), ``b`` the piece of a random edge
    neighbour of ``g1``; otherwise a uniformly random cell. A swap that
    raises ``E`` by more than 1e-12 is taken; another one with probability
    ``exp(delta / t)``, the temperature ``t`` falling geometrically from
    ``t_start`` to ``t_end`` over ``steps`` proposals (``t_start = 0``: only
    improving swaps). A final pass takes, cell by cell, every improving swap
    with the partners of its 8 neighbours' pieces until none improves.
    Random numbers come from SplitMix64 seeded with ``seed`` (an int in
    ``0 .. 2**63 - 1``, Numba's int64), so the result is the same on every
    machine. Naive twin: ``tests/naive_attack.anneal``.
    """
    n = h * w
    if n < 2:
        return grid_energy(right, down, diag, anti, cur, h, w)
    state = np.empty(1, dtype=np.uint64)
    state[0] = np.uint64(seed)
    where = np.empty(n, dtype=np.int64)
    for g in range(n):
        where[cur[g]] = g
    k = partners.shape[1]
    ratio = (t_end / t_start) ** (1.0 / max(1, steps - 1)) if t_start > 0.0 and t_end > 0.0 else 1.0
    t = t_start
    for _ in range(steps):
        g1 = next_below(state, n)
        g2 = g1
        if k > 0 and next_uniform(state) < 0.75:
            y = g1 // w
            x = g1 % w
            d = next_below(state, 4)
            yy = y + (-1 if d == 0 else (1 if d == 1 else 0))
            xx = x + (-1 if d == 2 else (1 if d == 3 else 0))
            j = next_below(state, k)
            if 0 <= yy < h and 0 <= xx < w:
                g2 = where[partners[cur[yy * w + xx], j]]
        else:
            g2 = next_below(state, n)
        if g2 != g1:
            delta = swap_delta(right, down, diag, anti, cur, h, w, g1, g2)
            take = delta > 1e-12
            if not take and t > 0.0:
                take = next_uniform(state) < np.exp(delta / t)
            if take:
                a = cur[g1]
                cur[g1] = cur[g2]
                cur[g2] = a
                where[cur[g1]] = g1
                where[cur[g2]] = g2
        t *= ratio
    improved = True
    while improved:
        improved = False
        for g1 in range(n):
            y = g1 // w
            x = g1 % w
            for d in range(8):
                yy = y + DY[d]
                xx = x + DX[d]
                if not (0 <= yy < h and 0 <= xx < w):
                    continue
                for j in range(k):
                    g2 = where[partners[cur[yy * w + xx], j]]
                    if g2 != g1 and swap_delta(right, down, diag, anti, cur, h, w, g1, g2) > 1e-12:
                        a = cur[g1]
                        cur[g1] = cur[g2]
                        cur[g2] = a
                        where[cur[g1]] = g1
                        where[cur[g2]] = g2
                        improved = True
    return grid_energy(right, down, diag, anti, cur, h, w)


# --------------------------------------------------------------------------- pieces with hypotheses

@njit(cache=True)
def variant_energy(right, down, cur, h, w):
    """``E(cur)`` over edge neighbours only, ``cur[g]`` a piece variant ``block * n_hyp + hypothesis``."""
    e = 0.0
    for y in range(h):
        for x in range(w):
            a = cur[y * w + x]
            if x + 1 < w:
                e += right[a, cur[y * w + x + 1]]
            if y + 1 < h:
                e += down[a, cur[(y + 1) * w + x]]
    return e


@njit(cache=True)
def _cell_variant_energy(right, down, cur, h, w, g, skip):
    """Compatibility of cell ``g``'s variant with its edge neighbours (the neighbour cell ``skip`` left out)."""
    y = g // w
    x = g % w
    a = cur[g]
    e = 0.0
    if x + 1 < w and g + 1 != skip:
        e += right[a, cur[g + 1]]
    if x > 0 and g - 1 != skip:
        e += right[cur[g - 1], a]
    if y + 1 < h and g + w != skip:
        e += down[a, cur[g + w]]
    if y > 0 and g - w != skip:
        e += down[cur[g - w], a]
    return e


@njit(cache=True)
def _pair_variant_energy(right, down, cur, h, w, g1, g2):
    """Compatibility of the edges that touch cell ``g1`` or ``g2``, each edge once."""
    return _cell_variant_energy(right, down, cur, h, w, g1, -1) + _cell_variant_energy(right, down, cur, h, w, g2, g1)


@njit(cache=True)
def grow_variants(right, down, n_hyp, h, w, seed_piece):
    """Greedy placement of piece variants from ``seed_piece``; returns ``cur`` (variant per cell).

    As :func:`grow` with directed edge compatibilities only: piece variants
    ``v = block * n_hyp + hypothesis``; placing a variant uses its block, so
    no other variant of it is placed. A free cell is a candidate when one of
    its four edge neighbours is placed; every step places the (cell, variant)
    pair of largest summed compatibility with the placed edge neighbours
    (ties: first cell, then first variant, in index order), within an
    ``h x w`` bounding box. Naive twin: ``tests/naive_attack.grow_variants``.
    """
    n = h * w
    nv = n * n_hyp
    ch = 2 * h - 1
    cw = 2 * w - 1
    canvas = np.full(ch * cw, -1, dtype=np.int64)
    used = np.zeros(n, dtype=np.bool_)
    score = np.full(ch * cw, -np.inf)
    arg = np.full(ch * cw, -1, dtype=np.int64)
    dirty = np.zeros(ch * cw, dtype=np.bool_)
    centre = (h - 1) * cw + (w - 1)
    canvas[centre] = seed_piece
    used[seed_piece // n_hyp] = True
    y0 = h - 1
    y1 = h - 1
    x0 = w - 1
    x1 = w - 1
    last = centre
    for _ in range(1, n):
        ly = last // cw
        lx = last % cw
        for d in range(4):
            yy = ly + (-1 if d == 0 else (1 if d == 1 else 0))
            xx = lx + (-1 if d == 2 else (1 if d == 3 else 0))
            if 0 <= yy < ch and 0 <= xx < cw:
                dirty[yy * cw + xx] = True
        best = -np.inf
        best_cell = -1
        for cy in range(max(0, y1 - h + 1), min(ch, y0 + h)):
            for cx in range(max(0, x1 - w + 1), min(cw, x0 + w)):
                cell = cy * cw + cx
                if canvas[cell] >= 0:
                    continue
                if dirty[cell] or (arg[cell] >= 0 and used[arg[cell] // n_hyp]):
                    dirty[cell] = False
                    left = canvas[cell - 1] if cx > 0 else -1
                    rgt = canvas[cell + 1] if cx + 1 < cw else -1
                    up = canvas[cell - cw] if cy > 0 else -1
                    dn = canvas[cell + cw] if cy + 1 < ch else -1
                    first = -np.inf
                    which = -1
                    if left >= 0 or rgt >= 0 or up >= 0 or dn >= 0:
                        for v in range(nv):
                            if used[v // n_hyp]:
                                continue
                            acc = 0.0
                            if left >= 0:
                                acc += right[left, v]
                            if rgt >= 0:
                                acc += right[v, rgt]
                            if up >= 0:
                                acc += down[up, v]
                            if dn >= 0:
                                acc += down[v, dn]
                            if acc > first:
                                first = acc
                                which = v
                    score[cell] = first
                    arg[cell] = which
                if score[cell] > best:
                    best = score[cell]
                    best_cell = cell
        last = best_cell
        canvas[best_cell] = arg[best_cell]
        used[arg[best_cell] // n_hyp] = True
        cy = best_cell // cw
        cx = best_cell % cw
        y0 = min(y0, cy)
        y1 = max(y1, cy)
        x0 = min(x0, cx)
        x1 = max(x1, cx)
    return crop_canvas(canvas, cw, y0, x0, h, w)


@njit(cache=True)
def anneal_variants(right, down, cur, h, w, n_hyp, steps, t_start, t_end, seed):
    """Simulated annealing of a variant placement (changed in place); returns its objective.

    A proposal is, with probability 1/2, a new random hypothesis for the
    block of a random cell, otherwise the swap of two random cells' variants.
    Acceptance and temperatures as in :func:`anneal`. A greedy finish then
    takes, until none improves, every better hypothesis of a cell and every
    improving swap of two cells in which both cells also take their best
    hypotheses at their new places. Random numbers: SplitMix64 seeded with
    ``seed``. Naive twin: ``tests/naive_attack.anneal_variants``.
    """
    n = h * w
    state = np.empty(1, dtype=np.uint64)
    state[0] = np.uint64(seed)
    ratio = (t_end / t_start) ** (1.0 / max(1, steps - 1)) if t_start > 0.0 and t_end > 0.0 else 1.0
    t = t_start
    for _ in range(steps):
        g1 = next_below(state, n)
        if n_hyp > 1 and next_uniform(state) < 0.5:
            old = cur[g1]
            before = _cell_variant_energy(right, down, cur, h, w, g1, -1)
            cur[g1] = (old // n_hyp) * n_hyp + next_below(state, n_hyp)
            delta = _cell_variant_energy(right, down, cur, h, w, g1, -1) - before
            take = delta > 1e-12
            if not take and t > 0.0:
                take = next_uniform(state) < np.exp(delta / t)
            if not take:
                cur[g1] = old
        else:
            g2 = next_below(state, n)
            if g2 != g1:
                before = _pair_variant_energy(right, down, cur, h, w, g1, g2)
                cur[g1], cur[g2] = cur[g2], cur[g1]
                delta = _pair_variant_energy(right, down, cur, h, w, g1, g2) - before
                take = delta > 1e-12
                if not take and t > 0.0:
                    take = next_uniform(state) < np.exp(delta / t)
                if not take:
                    cur[g1], cur[g2] = cur[g2], cur[g1]
        t *= ratio
    improved = True
    while improved:
        improved = False
        for g1 in range(n):
            if _best_hypothesis(right, down, cur, h, w, n_hyp, g1):
                improved = True
        for g1 in range(n):
            for g2 in range(g1 + 1, n):
                before = _pair_variant_energy(right, down, cur, h, w, g1, g2)
                v1 = cur[g1]
                v2 = cur[g2]
                cur[g1] = v2
                cur[g2] = v1
                _best_hypothesis(right, down, cur, h, w, n_hyp, g1)
                _best_hypothesis(right, down, cur, h, w, n_hyp, g2)
                if _pair_variant_energy(right, down, cur, h, w, g1, g2) > before + 1e-12:
                    improved = True
                else:
                    cur[g1] = v1
                    cur[g2] = v2
    return variant_energy(right, down, cur, h, w)


@njit(cache=True)
def _best_hypothesis(right, down, cur, h, w, n_hyp, g):
    """Give cell ``g`` its block's best hypothesis (ties: keep the current); True if it changed."""
    base = (cur[g] // n_hyp) * n_hyp
    old = cur[g]
    best = _cell_variant_energy(right, down, cur, h, w, g, -1)
    which = old
    for k in range(n_hyp):
        cur[g] = base + k
        e = _cell_variant_energy(right, down, cur, h, w, g, -1)
        if e > best + 1e-12:
            best = e
            which = base + k
    cur[g] = which
    return which != old


def best_variant_shift(right: np.ndarray, down: np.ndarray, cur: np.ndarray, h: int,
                       w: int) -> tuple[np.ndarray, float]:
    """:func:`best_cyclic_shift` for a variant placement (edge compatibilities only): ``(cur, E)``."""
    grid = np.asarray(cur, dtype=np.int64).reshape(h, w)
    best = (np.ascontiguousarray(grid.reshape(-1)), float(variant_energy(right, down, grid.reshape(-1), h, w)))
    for dy in range(h):
        for dx in range(w):
            if dy == 0 and dx == 0:
                continue
            cand = np.ascontiguousarray(np.roll(grid, (dy, dx), axis=(0, 1)).reshape(-1))
            e = float(variant_energy(right, down, cand, h, w))
            if e > best[1] + 1e-12 * max(1.0, abs(best[1])):
                best = (cand, e)
    return best
