"""Slow, obviously-correct references, transcribed from SPEC.md.

Every fast kernel in vortexnumba is tested against a function here. They
loop over all O(N^2) pixel pairs in plain Python with ``math`` and use no
code from the package, so a shared mistake cannot hide.

For the information framework on small grids the tests use the exact
reference, re-exported here: :func:`exact_retention`, :func:`exact_loss`,
:func:`exact_swap_delta`, :func:`exact_energy` (120-digit decimal arithmetic,
public as ``vortexnumba.testing``). It transcribes the definitions pair by
pair and shares no code with the Numba kernels; unlike the float functions
below, it judges losses ``1 - rho`` of any size (the float ``retention`` and
``swap_delta`` here form ``1 - rho`` by subtraction, so they cannot judge a
loss below ~1e-13).
"""

from __future__ import annotations

import math

import numpy as np

from vortexnumba.testing import exact_energy, exact_loss, exact_retention, exact_swap_delta  # noqa: F401

# ----------------------------------------------------------------------------- information framework


def kernel_value(family: str, param: float, radius: float, d: float) -> float:
    """f(d) of SPEC section 2 (0 beyond the radius)."""
    if d > radius:
        return 0.0
    if family == "power":
        return d ** (-param)
    if family == "gaussian":
        return math.exp(-d * d / (2 * param * param))
    if family == "exponential":
        return math.exp(-d / param)
    raise ValueError(family)


def pixel_values(image) -> list[list[list[float]]]:
    """Image as nested lists [i][j][c] of floats: uint8 / 255, floats as given."""
    arr = np.asarray(image)
    scale = 255.0 if arr.dtype == np.uint8 else 1.0
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return [[[float(v) / scale for v in px] for px in row] for row in arr]


def coupling_value(h: float | None, x, y) -> float:
    """s(x, y): exp(-mean_c (x_c - y_c)^2 / (2 h^2)), or 1 when h is None."""
    if h is None:
        return 1.0
    msq = sum((a - b) ** 2 for a, b in zip(x, y)) / len(x)
    return math.exp(-msq / (2 * h * h))


def _positions(h, w):
    return [(i, j) for i in range(h) for j in range(w)]


def _dist(q, r):
    return math.hypot(q[0] - r[0], q[1] - r[1])


def energy(image, kernel, h) -> float:
    """E(X): sum over ordered pairs q != r of (s f)^2."""
    vals = pixel_values(image)
    hh, ww = len(vals), len(vals[0])
    pos = _positions(hh, ww)
    total = 0.0
    for q in pos:
        for r in pos:
            if q != r:
                b = coupling_value(h, vals[q[0]][q[1]], vals[r[0]][r[1]]) * kernel_value(*kernel, _dist(q, r))
                total += b * b
    return total


def profile(image, kernel, h):
    """n_X(q, d) for every q and every distance d in D_R; returns (H, W, D), distances."""
    vals = pixel_values(image)
    hh, ww = len(vals), len(vals[0])
    radius = kernel[2]
    dists = sorted({math.hypot(i, j) for i in range(-int(radius) - 1, int(radius) + 2)
                    for j in range(-int(radius) - 1, int(radius) + 2)
                    if 0 < math.hypot(i, j) <= radius})
    out = np.zeros((hh, ww, len(dists)))
    for q in _positions(hh, ww):
        for r in _positions(hh, ww):
            if q == r:
                continue
            d = _dist(q, r)
            if d > radius:
                continue
            k = min(range(len(dists)), key=lambda t: abs(dists[t] - d))
            out[q[0], q[1], k] += coupling_value(h, vals[q[0]][q[1]], vals[r[0]][r[1]]) * kernel_value(*kernel, d)
    return out, np.array(dists)


def retention(image, src, kernel, h) -> float:
    """rho_X(src) of SPEC section 3, straight from its formula."""
    vals = pixel_values(image)
    hh, ww = len(vals), len(vals[0])
    n = hh * ww
    if n == 1:
        return 1.0
    src = [int(v) for v in src]
    pos = _positions(hh, ww)
    flat = [vals[i][j] for i, j in pos]
    y = [flat[src[p]] for p in range(n)]
    e_x = energy(image, kernel, h)
    e_y = 0.0
    inner = 0.0
    for p in range(n):
        for pp in range(n):
            if p == pp:
                continue
            s = coupling_value(h, y[p], y[pp])
            f_out = kernel_value(*kernel, _dist(pos[p], pos[pp]))
            e_y += (s * f_out) ** 2
            if src[p] != src[pp]:
                inner += s * s * f_out * kernel_value(*kernel, _dist(pos[src[p]], pos[src[pp]]))
    if e_x == 0.0 and e_y == 0.0:
        return 1.0
    if e_x == 0.0 or e_y == 0.0:
        return 0.0
    return inner / (math.sqrt(e_x) * math.sqrt(e_y))  # the product could underflow


def swap_src(n: int, a: int, b: int) -> list[int]:
    """Gather index of the transposition of flat positions a and b."""
    src = list(range(n))
    src[a], src[b] = src[b], src[a]
    return src


def swap_delta(image, a: int, b: int, kernel, h) -> float:
    """Delta I of swapping a and b, by full recomputation."""
    arr = np.asarray(image)
    n = arr.shape[0] * arr.shape[1]
    rho = retention(image, swap_src(n, a, b), kernel, h)
    return -(1.0 - rho) * math.sqrt(energy(image, kernel, h))


def is_automorphism(h: int, w: int, sigma, kernel) -> bool:
    """f(|sigma q - sigma r|) == f(|q - r|) for all q != r (sigma: where pixel q goes)."""
    pos = _positions(h, w)
    for q in range(h * w):
        for r in range(h * w):
            if q != r and kernel_value(*kernel, _dist(pos[sigma[q]], pos[sigma[r]])) != kernel_value(
                    *kernel, _dist(pos[q], pos[r])):
                return False
    return True





# RVT references
# ---------------------------------------------------------------------------
# Slow, per-pixel transcriptions of the Random Vortex Transformation exactly as
# the specification writes it (section 4). They use only the math module and
# plain Python lists, so they share no code with vortexnumba.cipher._vortex.

import math as _rvt_math


def rvt_round(x):
    """Round half away from zero, as the specification's round()."""
    from fractions import Fraction

    # exact: compare the fractional part with 1/2 in rational arithmetic
    a = Fraction(abs(x))
    whole = int(a)
    if a - whole >= Fraction(1, 2):
        whole += 1
    return whole if x >= 0 else -whole


def rvt_family(family, w, t):
    """F1..F5 of the specification, written out term by term."""
    m = _rvt_math
    w1, w2, w3, w4, w5, w6 = w
    if family == 1:
        return w1 * m.sin(w2 * t + w3) + w4 * m.cos(w5 * t + w6)
    if family == 2:
        return w1 * t + w2 * t ** 3 + w3 * m.exp(2 * t) + w4 * m.cos(w5 * t + w6)
    if family == 3:
        return w1 * m.sqrt(t) + w2 * t ** 2 + w3 * m.exp(t) + w4 * m.sin(w5 * t + w6)
    if family == 4:
        return w1 * t ** 5 + w2 * m.log(t + 1) + w3 * m.exp(t) + w4 * m.cos(w5 * t + w6)
    if family == 5:
        return w1 * 2 ** t + w2 * (2 * t) + w3 * m.log10(t + 1) + w4 * m.sin(w5 * t + w6)
    raise ValueError(family)


def rvt_bijective_vortex(shape, centre, radius, family, weights, strength):
    """Gather index (list) of one bijective vortex, pixel by pixel."""
    h, w = shape
    cy, cx = centre
    r = radius
    rings = {}
    for i in range(h):
        for j in range(w):
            k = rvt_round(_rvt_math.hypot(i - cy, j - cx))
            if 1 <= k <= r:
                rings.setdefault(k, []).append((i, j))
    src = list(range(h * w))
    for k, members in rings.items():
        # sorted() is stable: equal angles would keep row-major order
        members = sorted(members, key=lambda q: _rvt_math.atan2(q[0] - cy, q[1] - cx))
        n_k = len(members)
        phi = (r - k) * strength * rvt_family(family, weights, k / r)
        m_k = rvt_round(phi * n_k / (2 * _rvt_math.pi)) % n_k
        for t in range(n_k):
            i_from, j_from = members[t]
            i_to, j_to = members[(t + m_k) % n_k]
            src[i_to * w + j_to] = i_from * w + j_from
    return src


def rvt_paper_vortex(shape, centre, radius, family, weights, strength):
    """Gather index (list) of one paper-mode vortex: the rounded pull map.

    Returns (src, clipped) where clipped counts rounded coordinates outside 1..w.
    """
    h, wd = shape
    cy, cx = centre
    r = radius
    w = 2 * r + 1
    big_m = w / 2
    src = list(range(h * wd))
    clipped = 0
    for x in range(1, w + 1):
        for y in range(1, w + 1):
            xo = x - big_m
            yo = y - big_m
            rho = _rvt_math.hypot(xo, yo)
            if rho > r:
                continue
            k = rvt_round(rho)
            swirl = strength * rvt_family(family, weights, (k - 1) / r)
            ang = _rvt_math.atan2(yo, xo) + (r - k) * swirl
            xn = rvt_round(rho * _rvt_math.cos(ang) + big_m)
            yn = rvt_round(rho * _rvt_math.sin(ang) + big_m)
            if not (1 <= xn <= w and 1 <= yn <= w):
                clipped += 1
                xn = min(max(xn, 1), w)
                yn = min(max(yn, 1), w)
            out_flat = (cy - r + x - 1) * wd + (cx - r + y - 1)
            in_flat = (cy - r + xn - 1) * wd + (cx - r + yn - 1)
            src[out_flat] = in_flat
    return src, clipped


def rvt_key_src(shape, mode, vortices):
    """Gather index of a key: vortices applied one after another.

    ``vortices`` holds (centre, radius, family, weights, strength) tuples.
    Applying A then B gathers with A[B[p]].
    """
    h, w = shape
    total = list(range(h * w))
    for centre, radius, family, weights, strength in vortices:
        if mode == "bijective":
            one = rvt_bijective_vortex(shape, centre, radius, family, weights, strength)
        else:
            one, _ = rvt_paper_vortex(shape, centre, radius, family, weights, strength)
        total = [total[one[p]] for p in range(h * w)]
    return total


def rvt_apply(image, src):
    """Y.flat[p] = X.flat[src[p]] for every channel, one pixel at a time."""
    import numpy as _np

    x = _np.asarray(image)
    h, w = x.shape[:2]
    y = _np.empty_like(x)
    for p in range(h * w):
        q = src[p]
        y[p // w, p % w] = x[q // w, q % w]
    return y


# ---------------------------------------------------------------------------
# The field's learnable encryptions (LE, ELE, EtC, PE, block-wise)
# ---------------------------------------------------------------------------
# Transcribed from the algorithm text, one image and one block at a time:
# loops over the blocks, np.rot90 / np.flipud / np.fliplr for EtC, an explicit
# split of each byte into its low and high nibble for LE. They read only the
# key's parameters (perm, perms, block_perm, rotation, ...), never its plan.

def _negative(v, dtype):
    """255 - v for uint8, 1 - v for float values (in the array's own dtype)."""
    if np.dtype(dtype) == np.uint8:
        return (255 - v.astype(np.int64)).astype(np.uint8)
    return (np.asarray(1, dtype=dtype) - v).astype(dtype)


def _as_hwc(image):
    x = np.asarray(image)
    return (x[:, :, None], True) if x.ndim == 2 else (x, False)


def _blocks(h, w, m):
    """Block positions (top, left) in row-major order."""
    return [(bi * m, bj * m) for bi in range(h // m) for bj in range(w // m)]


def le_block(block, k, inverse=False):
    """Tanaka's LE on one (M, M, C) uint8 block with permutation k (its flip set F = {i : k[i] > d})."""
    flat = [int(v) for v in np.asarray(block).reshape(-1)]  # (row, column, channel) order
    d = len(flat)
    v = [b & 15 for b in flat] + [b >> 4 for b in flat]  # d low nibbles, then d high nibbles
    flips = [i for i in range(2 * d) if k[i] > d]
    perm = list(k)
    if inverse:
        perm = [0] * (2 * d)
        for i, ki in enumerate(k):
            perm[ki] = i
    for i in flips:
        v[i] = 15 - v[i]
    v = [v[perm[i]] for i in range(2 * d)]
    for i in flips:
        v[i] = 15 - v[i]
    out = [(v[d + j] << 4) + v[j] for j in range(d)]
    return np.array(out, dtype=np.uint8).reshape(np.asarray(block).shape)


def _move_blocks(x, m, block_perm, inverse):
    """Output block b shows input block block_perm[b] (or the inverse move)."""
    h, w = x.shape[:2]
    pos = _blocks(h, w, m)
    y = np.empty_like(x)
    for b, (i, j) in enumerate(pos):
        si, sj = pos[block_perm[b]]
        if inverse:
            y[si:si + m, sj:sj + m] = x[i:i + m, j:j + m]
        else:
            y[i:i + m, j:j + m] = x[si:si + m, sj:sj + m]
    return y


def le_apply(image, block, perm, inverse=False):
    """LE: the same block key on every block, where the block is."""
    x, grey = _as_hwc(image)
    y = x.copy()
    for i, j in _blocks(x.shape[0], x.shape[1], block):
        y[i:i + block, j:j + block] = le_block(x[i:i + block, j:j + block], perm, inverse)
    return y[:, :, 0] if grey else y


def ele_apply(image, block, perms, block_perm, inverse=False):
    """ELE: LE with perms[b] on the block at position b, then the block shuffle."""
    x, grey = _as_hwc(image)
    if inverse:
        x = _move_blocks(x, block, block_perm, inverse=True)
    y = x.copy()
    for b, (i, j) in enumerate(_blocks(x.shape[0], x.shape[1], block)):
        y[i:i + block, j:j + block] = le_block(x[i:i + block, j:j + block], perms[b], inverse)
    if not inverse:
        y = _move_blocks(y, block, block_perm, inverse=False)
    return y[:, :, 0] if grey else y


def etc_apply(image, block, block_perm, rotation, flip, negate, channel_perm, inverse=False):
    """EtC: per source block rotate, flip, negate, shuffle colours; then move the blocks."""
    x, grey = _as_hwc(image)
    m = block
    if inverse:
        x = _move_blocks(x, m, block_perm, inverse=True)
    y = x.copy()
    for b, (i, j) in enumerate(_blocks(x.shape[0], x.shape[1], m)):
        blk = x[i:i + m, j:j + m].copy()
        cp = list(channel_perm[b])
        if not inverse:
            blk = np.rot90(blk, k=int(rotation[b]))
            if flip[b] == 1:
                blk = np.flipud(blk)
            elif flip[b] == 2:
                blk = np.fliplr(blk)
            if negate[b]:
                blk = _negative(blk, x.dtype)
            blk = np.stack([blk[:, :, cp[c]] for c in range(len(cp))], axis=2)
        else:
            undone = np.empty_like(blk)
            for c in range(len(cp)):
                undone[:, :, cp[c]] = blk[:, :, c]
            blk = undone
            if negate[b]:
                blk = _negative(blk, x.dtype)
            if flip[b] == 1:
                blk = np.flipud(blk)
            elif flip[b] == 2:
                blk = np.fliplr(blk)
            blk = np.rot90(blk, k=-int(rotation[b]))
        y[i:i + m, j:j + m] = blk
    if not inverse:
        y = _move_blocks(y, m, block_perm, inverse=False)
    return y[:, :, 0] if grey else y


def pe_apply(image, negate, channel_perm, inverse=False):
    """PE: per pixel, negate the channels marked, then gather the channels by channel_perm."""
    x, grey = _as_hwc(image)
    h, w, c = x.shape
    y = np.empty_like(x)
    for i in range(h):
        for j in range(w):
            perm = list(channel_perm[i, j])
            if not inverse:
                v = [x[i, j, ch] for ch in range(c)]
                v = [_negative(np.asarray(v[ch]), x.dtype) if negate[i, j, ch] else v[ch] for ch in range(c)]
                for ch in range(c):
                    y[i, j, ch] = v[perm[ch]]
            else:
                v = [None] * c
                for ch in range(c):
                    v[perm[ch]] = x[i, j, ch]
                for ch in range(c):
                    y[i, j, ch] = _negative(np.asarray(v[ch]), x.dtype) if negate[i, j, ch] else v[ch]
    return y[:, :, 0] if grey else y


def blockwise_apply(image, block, pixel_perm, negate_slots, block_perm, inverse=False):
    """Block-wise: (channel, row, column) slots gathered by pixel_perm, slots negated, blocks moved."""
    x, grey = _as_hwc(image)
    p = block
    c = x.shape[2]
    if inverse and block_perm is not None:
        x = _move_blocks(x, p, block_perm, inverse=True)
    y = x.copy()
    d = c * p * p
    for i, j in _blocks(x.shape[0], x.shape[1], p):
        blk = x[i:i + p, j:j + p]
        slots = [blk[r, col, ch] for ch in range(c) for r in range(p) for col in range(p)]
        out = [None] * d
        if not inverse:
            for s in range(d):
                v = slots[pixel_perm[s]]
                out[s] = _negative(np.asarray(v), x.dtype) if negate_slots[s] else v
        else:
            for s in range(d):
                v = _negative(np.asarray(slots[s]), x.dtype) if negate_slots[s] else slots[s]
                out[pixel_perm[s]] = v
        n = 0
        for ch in range(c):
            for r in range(p):
                for col in range(p):
                    y[i + r, j + col, ch] = out[n]
                    n += 1
    if not inverse and block_perm is not None:
        y = _move_blocks(y, p, block_perm, inverse=False)
    return y[:, :, 0] if grey else y


def scheme_apply(image, key, inverse=False):
    """One image (H, W) or (H, W, C) through a value-changing key, by its kind and parameters."""
    kind = key.kind
    if kind == "le":
        return le_apply(image, key.block, key.perm, inverse)
    if kind == "ele":
        return ele_apply(image, key.block, key.perms, key.block_perm, inverse)
    if kind == "etc":
        return etc_apply(image, key.block, key.block_perm, key.rotation, key.flip, key.negate,
                         key.channel_perm, inverse)
    if kind == "pe":
        return pe_apply(image, key.negate, key.channel_perm, inverse)
    if kind == "blockwise":
        return blockwise_apply(image, key.block, key.pixel_perm, key.negate_slots, key.block_perm, inverse)
    raise ValueError(f"no reference for kind {kind!r}")
