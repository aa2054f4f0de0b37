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
    """Reference of ``_vortex_attack.undo``: (new cur, gain)."""
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


# --------------------------------------------------------------------------- placement engine

MASK = (1 << 64) - 1


class SplitMix:
    """SplitMix64 on Python ints (the reference of ``_placement.next_uniform``)."""

    def __init__(self, seed):
        self.state = seed & MASK

    def uniform(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        z ^= z >> 31
        return (z >> 11) / 2.0**53

    def below(self, n):
        return min(int(self.uniform() * n), n - 1)


def weight(mats, a, b, dy, dx):
    """Compatibility of piece a with piece b at offset (dy, dx) from a, from the four directed matrices."""
    right, down, diag, anti = mats
    table = {(0, 1): (right, a, b), (0, -1): (right, b, a), (1, 0): (down, a, b), (-1, 0): (down, b, a),
             (1, 1): (diag, a, b), (-1, -1): (diag, b, a), (1, -1): (anti, a, b), (-1, 1): (anti, b, a)}
    m, p, q = table[(dy, dx)]
    return float(m[p, q])


def placement_energy(mats, cur, h, w):
    """Sum of the directed compatibilities over every adjacent pair of cells, each pair once."""
    e = 0.0
    for y in range(h):
        for x in range(w):
            for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
                yy, xx = y + dy, x + dx
                if 0 <= yy < h and 0 <= xx < w:
                    e += weight(mats, cur[y * w + x], cur[yy * w + xx], dy, dx)
    return e


def grow_placement(mats, h, w, seed_piece):
    """Reference of ``_placement.grow``: best (cell, piece) by summed compatibility, on a dict canvas."""
    n = h * w
    canvas = {(0, 0): seed_piece}
    placed = {seed_piece}
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
                nbrs = [(canvas[(cy + dy, cx + dx)], -dy, -dx) for dy, dx in OFFSETS if (cy + dy, cx + dx) in canvas]
                if not any(dy == 0 or dx == 0 for _, dy, dx in nbrs):
                    continue
                for p in range(n):
                    if p in placed:
                        continue
                    sc = sum(weight(mats, q, p, dy, dx) for q, dy, dx in nbrs)
                    if best is None or sc > best[0]:
                        best = (sc, cy, cx, p)
        _, cy, cx, p = best
        canvas[(cy, cx)] = p
        placed.add(p)
    y0 = min(c[0] for c in canvas)
    x0 = min(c[1] for c in canvas)
    return np.array([canvas[(y0 + y, x0 + x)] for y in range(h) for x in range(w)])


def anneal(mats, cur, h, w, partners, steps, t_start, t_end, seed):
    """Reference of ``_placement.anneal``: the same proposals and rule, every change by full energies."""
    cur = [int(v) for v in cur]
    n = h * w
    if n < 2:
        return np.array(cur), placement_energy(mats, cur, h, w)
    rng = SplitMix(seed)
    k = len(partners[0]) if len(partners) else 0
    ratio = (t_end / t_start) ** (1.0 / max(1, steps - 1)) if t_start > 0 and t_end > 0 else 1.0
    t = t_start

    def swapped(g1, g2):
        new = list(cur)
        new[g1], new[g2] = new[g2], new[g1]
        return new

    for _ in range(steps):
        g1 = rng.below(n)
        g2 = g1
        if k > 0 and rng.uniform() < 0.75:
            y, x = divmod(g1, w)
            d = rng.below(4)
            yy, xx = [(y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)][d]
            j = rng.below(k)
            if 0 <= yy < h and 0 <= xx < w:
                g2 = cur.index(int(partners[cur[yy * w + xx]][j]))
        else:
            g2 = rng.below(n)
        if g2 != g1:
            new = swapped(g1, g2)
            delta = placement_energy(mats, new, h, w) - placement_energy(mats, cur, h, w)
            take = delta > 1e-12
            if not take and t > 0:
                take = rng.uniform() < math.exp(delta / t)
            if take:
                cur = new
        t *= ratio
    improved = True
    while improved:
        improved = False
        for g1 in range(n):
            y, x = divmod(g1, w)
            for dy, dx in OFFSETS:
                yy, xx = y + dy, x + dx
                if not (0 <= yy < h and 0 <= xx < w):
                    continue
                for j in range(k):
                    g2 = cur.index(int(partners[cur[yy * w + xx]][j]))
                    if g2 == g1:
                        continue
                    new = swapped(g1, g2)
                    if placement_energy(mats, new, h, w) - placement_energy(mats, cur, h, w) > 1e-12:
                        cur = new
                        improved = True
    return np.array(cur), placement_energy(mats, cur, h, w)


def edge_dissimilarities(images, t):
    """Reference of ``_block_attack.edge_dissimilarities`` for grey images (B, H, W) in [0, 1]:
    each side's two pixels next to the seam predict the pixel across it."""
    b, h, w = images.shape
    tw = w // t
    tiles = [images[:, (q // tw) * t:(q // tw + 1) * t, (q % tw) * t:(q % tw + 1) * t] for q in range((h // t) * tw)]
    n = len(tiles)
    right = np.zeros((n, n))
    down = np.zeros((n, n))
    for a in range(n):
        for c in range(n):
            sr = sd = 0.0
            for i in range(b):
                A, C = tiles[a][i], tiles[c][i]
                for k in range(t):
                    r, r2 = A[k, t - 1], A[k, t - 2] if t >= 2 else A[k, t - 1]
                    le, le2 = C[k, 0], C[k, 1] if t >= 2 else C[k, 0]
                    sr += ((r + (r - r2) / 2) - (le - (le2 - le) / 2)) ** 2
                    bo, bo2 = A[t - 1, k], A[t - 2, k] if t >= 2 else A[t - 1, k]
                    to, to2 = C[0, k], C[1, k] if t >= 2 else C[0, k]
                    sd += ((bo + (bo - bo2) / 2) - (to - (to2 - to) / 2)) ** 2
            right[a, c] = sr / (b * t)
            down[a, c] = sd / (b * t)
    return right, down


# --------------------------------------------------------------------------- in-block slots (LE, block-wise)

def slot_values(obs, assign, sign, unit_w, n_el, top):
    """Element values ``(rows, n_el)`` of every observed block under an assignment, from the definition:
    element e is the sum over its units u of weight[u] times cipher slot assign[u * n_el + e], read
    ``top - v`` where that cipher slot is negated."""
    rows = obs.shape[0]
    out = np.zeros((rows, n_el))
    for e in range(n_el):
        for u, wgt in enumerate(unit_w):
            j = int(assign[u * n_el + e])
            v = obs[:, j].astype(float)
            out[:, e] += wgt * (top - v if sign[j] else v)
    return out


def slot_energy(obs, assign, sign, unit_w, n_el, top, pairs):
    """Sum over the pairs (e1, e2, w) of w times the mean over observed blocks of (x_e1 - x_e2)^2."""
    x = slot_values(obs, assign, sign, unit_w, n_el, top)
    return float(sum(w * np.mean((x[:, a] - x[:, b]) ** 2) for a, b, w in pairs))


def moment_energy(mom, mean, assign, sign, unit_w, n_el, top, pairs):
    """The slot energy from the slots' means and second moments, by expanding each square term by term."""
    total = 0.0
    for a, b, w in pairs:
        terms = []  # (cipher slot or None for the constant, coefficient)
        for e, side in ((a, 1.0), (b, -1.0)):
            for u, wgt in enumerate(unit_w):
                j = int(assign[u * n_el + e])
                if sign[j]:
                    terms.append((None, side * wgt * top))
                    terms.append((j, -side * wgt))
                else:
                    terms.append((j, side * wgt))
        acc = 0.0
        for j1, c1 in terms:
            for j2, c2 in terms:
                if j1 is None and j2 is None:
                    acc += c1 * c2
                elif j1 is None:
                    acc += c1 * c2 * mean[j2]
                elif j2 is None:
                    acc += c1 * c2 * mean[j1]
                else:
                    acc += c1 * c2 * mom[j1, j2]
        total += w * acc
    return total


def anneal_slots(mom, mean, assign, sign, unit_w, n_el, top, pairs, allow_sign, steps, t_start, t_end, seed):
    """Reference of ``_inblock.anneal_slots``: the same proposals and rule, every change by full energies."""
    assign = [int(v) for v in assign]
    sign = [bool(v) for v in sign]
    s = len(assign)
    rng = SplitMix(seed)
    ratio = (t_end / t_start) ** (1.0 / max(1, steps - 1)) if t_start > 0 and t_end > 0 else 1.0
    t = t_start

    def energy(a, g):
        return moment_energy(mom, mean, a, g, unit_w, n_el, top, pairs)

    def accept(delta):
        take = delta < -1e-12
        if not take and t > 0:
            take = rng.uniform() < math.exp(-delta / t)
        return take

    for _ in range(steps):
        a = rng.below(s)
        if allow_sign and rng.uniform() < 1.0 / 3.0:
            new = list(sign)
            new[assign[a]] = not new[assign[a]]
            if accept(energy(assign, new) - energy(assign, sign)):
                sign = new
        else:
            b = rng.below(s)
            if b != a:
                new = list(assign)
                new[a], new[b] = new[b], new[a]
                if accept(energy(new, sign) - energy(assign, sign)):
                    assign = new
        t *= ratio
    improved = True
    while improved:
        improved = False
        for a in range(s):
            if allow_sign:
                new = list(sign)
                new[assign[a]] = not new[assign[a]]
                if energy(assign, new) < energy(assign, sign) - 1e-12:
                    sign = new
                    improved = True
            for b in range(a + 1, s):
                new = list(assign)
                new[a], new[b] = new[b], new[a]
                if energy(new, sign) < energy(assign, sign) - 1e-12:
                    assign = new
                    improved = True
    return np.array(assign), np.array(sign), energy(assign, sign)


# --------------------------------------------------------------------------- pieces with hypotheses (EtC)

def variant_energy(right, down, cur, h, w):
    """Sum of right[a, b] over horizontal neighbours and down[a, b] over vertical ones."""
    e = 0.0
    for y in range(h):
        for x in range(w):
            if x + 1 < w:
                e += float(right[cur[y * w + x], cur[y * w + x + 1]])
            if y + 1 < h:
                e += float(down[cur[y * w + x], cur[(y + 1) * w + x]])
    return e


def grow_variants(right, down, n_hyp, h, w, seed_piece):
    """Reference of ``_placement.grow_variants`` on a dict canvas: best (cell, variant) of an unused block."""
    n = h * w
    canvas = {(0, 0): seed_piece}
    used = {seed_piece // n_hyp}
    while len(used) < n:
        ys = [c[0] for c in canvas]
        xs = [c[1] for c in canvas]
        best = None
        for cy in range(-(h - 1), h):
            for cx in range(-(w - 1), w):
                if (cy, cx) in canvas:
                    continue
                if max(max(ys), cy) - min(min(ys), cy) >= h or max(max(xs), cx) - min(min(xs), cx) >= w:
                    continue
                nb = {d: canvas.get((cy + d[0], cx + d[1])) for d in ((0, -1), (0, 1), (-1, 0), (1, 0))}
                if all(v is None for v in nb.values()):
                    continue
                for v in range(n * n_hyp):
                    if v // n_hyp in used:
                        continue
                    sc = 0.0
                    if nb[(0, -1)] is not None:
                        sc += float(right[nb[(0, -1)], v])
                    if nb[(0, 1)] is not None:
                        sc += float(right[v, nb[(0, 1)]])
                    if nb[(-1, 0)] is not None:
                        sc += float(down[nb[(-1, 0)], v])
                    if nb[(1, 0)] is not None:
                        sc += float(down[v, nb[(1, 0)]])
                    if best is None or sc > best[0]:
                        best = (sc, cy, cx, v)
        _, cy, cx, v = best
        canvas[(cy, cx)] = v
        used.add(v // n_hyp)
    y0 = min(c[0] for c in canvas)
    x0 = min(c[1] for c in canvas)
    return np.array([canvas[(y0 + y, x0 + x)] for y in range(h) for x in range(w)])


def anneal_variants(right, down, cur, h, w, n_hyp, steps, t_start, t_end, seed):
    """Reference of ``_placement.anneal_variants``: the same proposals and rule, by full energies."""
    cur = [int(v) for v in cur]
    n = h * w
    rng = SplitMix(seed)
    ratio = (t_end / t_start) ** (1.0 / max(1, steps - 1)) if t_start > 0 and t_end > 0 else 1.0
    t = t_start

    def energy(c):
        return variant_energy(right, down, c, h, w)

    def accept(delta):
        take = delta > 1e-12
        if not take and t > 0:
            take = rng.uniform() < math.exp(delta / t)
        return take

    def best_hypothesis(c, g):
        base = (c[g] // n_hyp) * n_hyp
        best, which = energy(c), c[g]
        for k in range(n_hyp):
            trial = list(c)
            trial[g] = base + k
            if energy(trial) > best + 1e-12:
                best, which = energy(trial), base + k
        out = list(c)
        out[g] = which
        return out

    for _ in range(steps):
        g1 = rng.below(n)
        if n_hyp > 1 and rng.uniform() < 0.5:
            new = list(cur)
            new[g1] = (cur[g1] // n_hyp) * n_hyp + rng.below(n_hyp)
            if accept(energy(new) - energy(cur)):
                cur = new
        else:
            g2 = rng.below(n)
            if g2 != g1:
                new = list(cur)
                new[g1], new[g2] = new[g2], new[g1]
                if accept(energy(new) - energy(cur)):
                    cur = new
        t *= ratio
    improved = True
    while improved:
        improved = False
        for g in range(n):
            new = best_hypothesis(cur, g)
            if new != cur:
                cur = new
                improved = True
        for g1 in range(n):
            for g2 in range(g1 + 1, n):
                new = list(cur)
                new[g1], new[g2] = new[g2], new[g1]
                new = best_hypothesis(best_hypothesis(new, g1), g2)
                if energy(new) > energy(cur) + 1e-12:
                    cur = new
                    improved = True
    return np.array(cur), energy(cur)


# --------------------------------------------------------------------------- sign labelling (PE)

def tree_signs(ea, eb, same, diff, n):
    """Kruskal on the edges by decreasing |diff - same| (ties: lower index), then labels from each part's
    smallest node (label 0) along the tree: equal where the edge's same-cost is not above its diff-cost."""
    order = sorted(range(len(ea)), key=lambda k: -abs(diff[k] - same[k]))
    part = list(range(n))

    def root(a):
        while part[a] != a:
            a = part[a]
        return a

    tree = {i: [] for i in range(n)}
    for k in order:
        ra, rb = root(int(ea[k])), root(int(eb[k]))
        if ra != rb:
            part[max(ra, rb)] = min(ra, rb)
            tree[int(ea[k])].append(k)
            tree[int(eb[k])].append(k)
    label = [-1] * n
    for r in range(n):
        if label[r] >= 0:
            continue
        label[r] = 0
        todo = [r]
        while todo:
            a = todo.pop()
            for k in tree[a]:
                b = int(eb[k]) if int(ea[k]) == a else int(ea[k])
                if label[b] < 0:
                    label[b] = label[a] if same[k] <= diff[k] else 1 - label[a]
                    todo.append(b)
    return np.array(label)


def edge_cost(ea, eb, same, diff, label):
    return float(sum(same[k] if label[ea[k]] == label[eb[k]] else diff[k] for k in range(len(ea))))


def icm_signs(ea, eb, same, diff, label, sweeps):
    """Node by node, flip a label when that lowers the total cost by more than 1e-12; at most ``sweeps`` passes."""
    label = [int(v) for v in label]
    for _ in range(sweeps):
        changed = False
        for a in range(len(label)):
            flipped = list(label)
            flipped[a] = 1 - flipped[a]
            if edge_cost(ea, eb, same, diff, flipped) < edge_cost(ea, eb, same, diff, label) - 1e-12:
                label = flipped
                changed = True
        if not changed:
            break
    return np.array(label), edge_cost(ea, eb, same, diff, label)


def image_signs(images, top, sweeps):
    """Reference of ``_inblock.image_signs``: per image and channel, tree then flips on 4-neighbour edges."""
    b, h, w, c = images.shape
    ea, eb = [], []
    for y in range(h):
        for x in range(w):
            if x + 1 < w:
                ea.append(y * w + x)
                eb.append(y * w + x + 1)
            if y + 1 < h:
                ea.append(y * w + x)
                eb.append((y + 1) * w + x)
    out = np.zeros(images.shape, dtype=np.int64)
    for i in range(b):
        for ch in range(c):
            v = images[i, :, :, ch].reshape(-1).astype(float)
            same = [(v[a] - v[q]) ** 2 for a, q in zip(ea, eb, strict=True)]
            diff = [(v[a] + v[q] - top) ** 2 for a, q in zip(ea, eb, strict=True)]
            lab, _ = icm_signs(ea, eb, same, diff, tree_signs(ea, eb, same, diff, h * w), sweeps)
            out[i, :, :, ch] = lab.reshape(h, w)
    return out
