"""Slow, obviously-correct references for the ciphertext-only attack kernels.

Plain Python loops over explicit lists; the ring geometry is rebuilt here
from its definition (rings ``round(|p - c|)``, listed by polar angle), so a
mistake in the package's geometry cannot hide behind a shared helper.
"""

from __future__ import annotations

import math

import numpy as np

OFFSETS = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]


def round_half_away(x: float) -> int:
    """Nearest integer, halves away from zero."""
    a = abs(x)
    f = math.floor(a)
    if a - f >= 0.5:
        f += 1
    return int(math.copysign(f, x))


def rings(mode: str, r: int) -> dict:
    """{k: [(dy, dx), ...] in angular order} for the moving rings 1..r-1 of a vortex of radius r."""
    off = 0.5 if mode == "paper" else 0.0
    found = {}
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            y, x = dy + off, dx + off
            rho = math.hypot(y, x)
            if mode == "paper" and rho > r:
                continue
            k = round_half_away(rho)
            if 1 <= k <= r - 1:
                found.setdefault(k, []).append((math.atan2(x, y) if mode == "paper" else math.atan2(y, x), dy, dx))
    return {k: [(dy, dx) for _, dy, dx in sorted(v, key=lambda t: t[0])] for k, v in found.items()}


def energy(S, cur, h, w) -> float:
    """Sum of S[cur[a], cur[b]] over unordered 8-neighbour pairs."""
    e = 0.0
    for y in range(h):
        for x in range(w):
            for dy, dx in OFFSETS:
                yy, xx = y + dy, x + dx
                if 0 <= yy < h and 0 <= xx < w and (yy, xx) > (y, x):
                    e += float(S[cur[y * w + x], cur[yy * w + xx]])
    return e


def undo(S, cur, h, w, mode, cy, cx, r, passes):
    """Reference of ``_vortex_attack._undo``: (new cur, gain)."""
    cur = [int(v) for v in cur]
    new = list(cur)
    ring = rings(mode, r) if r >= 2 else {}
    ring_of = {}
    for k, members in ring.items():
        for dy, dx in members:
            ring_of[(cy + dy) * w + cx + dx] = k
    for p in range(passes):
        for k in range(r - 1, 0, -1):
            members = [(cy + dy) * w + cx + dx for dy, dx in ring.get(k, [])]
            n = len(members)
            if n == 0:
                continue
            contents = [new[g] for g in members]
            scores = []
            for s in range(n):
                total = 0.0
                for t, g in enumerate(members):
                    y, x = divmod(g, w)
                    for dy, dx in OFFSETS:
                        yy, xx = y + dy, x + dx
                        if not (0 <= yy < h and 0 <= xx < w):
                            continue
                        q = yy * w + xx
                        k2 = ring_of.get(q, 0)
                        if k2 == k or (p == 0 and k2 != 0 and k2 < k):
                            continue
                        total += float(S[contents[(t + s) % n], new[q]])
                scores.append(total)
            best = 0
            for s in range(1, n):
                if scores[s] > scores[best] + 1e-9 * abs(scores[best]) + 1e-12:
                    best = s
            for t, g in enumerate(members):
                new[g] = contents[(t + best) % n]
    return np.array(new), energy(S, new, h, w) - energy(S, cur, h, w)


def refine(S, cur, h, w, max_sweeps):
    """Reference of ``_generic_attack._refine``: swap while the full energy rises (first improvement)."""
    cur = [int(v) for v in cur]
    n = h * w
    for _ in range(max_sweeps):
        swapped = False
        for g1 in range(n):
            for g2 in range(g1 + 1, n):
                before = energy(S, cur, h, w)
                cur[g1], cur[g2] = cur[g2], cur[g1]
                if energy(S, cur, h, w) - before > 1e-12:
                    swapped = True
                else:
                    cur[g1], cur[g2] = cur[g2], cur[g1]
        if not swapped:
            break
    return np.array(cur)


def grow(S, h, w, seed_pos, bonus):
    """Reference of ``_generic_attack._grow`` on a dict canvas."""
    n = h * w
    canvas = {(0, 0): seed_pos}
    placed = {seed_pos}
    while len(placed) < n:
        ys = [c[0] for c in canvas]
        xs = [c[1] for c in canvas]
        best = None
        for cy in range(-(h - 1), h):
            for cx in range(-(w - 1), w):
                if (cy, cx) in canvas:
                    continue
                if max(max(ys), cy) - min(min(ys), cy) >= h or max(max(xs), cx) - min(min(xs), cx) >= w:
                    continue
                nbrs = [canvas[(cy + dy, cx + dx)] for dy, dx in OFFSETS if (cy + dy, cx + dx) in canvas]
                if not nbrs:
                    continue
                for p in range(n):
                    if p in placed:
                        continue
                    sc = sum(float(S[p, q]) for q in nbrs) / len(nbrs) + bonus * len(nbrs)
                    if best is None or sc > best[0]:
                        best = (sc, cy, cx, p)
        _, cy, cx, p = best
        canvas[(cy, cx)] = p
        placed.add(p)
    y0 = min(c[0] for c in canvas)
    x0 = min(c[1] for c in canvas)
    return np.array([canvas[(y0 + y, x0 + x)] for y in range(h) for x in range(w)])
