"""Ciphertext-only attacks on the field's learnable encryptions: LE, block-wise, EtC and PE (ELE: :mod:`._ele_attack`).

LE and block-wise (one in-block map for every block)
----------------------------------------------------
Every block of every image is one observation of the cipher slots (the
``2d`` nibbles of an LE block, the ``d = C*p*p`` bytes of a block-wise
block), and every cipher slot always carries the same plain slot, negated
or not. Their means and second moments over all blocks of all ciphertexts
say, for any assignment of cipher slots to the block's plain layout, how
alike neighbouring elements would be (:mod:`._inblock`); the assignment
that makes them most alike is found by simulated annealing from several
random starts. It is defined up to the block's 8 turns and mirror images
(and a relabelling of the colour channels):

- LE's negations follow from its permutation (the flip set is
  ``perm > d``), so each of those candidates is a different key; the one
  whose decryption of a sample is smoothest across the whole image, block
  seams included, is kept: an oriented estimate.
- block-wise then moves whole blocks: the in-block map is undone and the
  blocks are put back by the jigsaw solver of :mod:`._block_attack`. Tiles
  turned alike assemble into the turned picture, so the estimate is defined
  up to the grid's symmetries; with negation also up to the negative image
  when half of an even number of slots is negated (both the estimate and
  its complement negate ``d / 2`` slots).

EtC (per-block turn, mirror, negation, channel shuffle, then block moves)
------------------------------------------------------------------------
Every ciphertext block position holds the same source block under the same
transform in every image. Each (block, hypothesis) pair is a piece: the
block's outward edge predictions (as in :mod:`._block_attack`) read along
the hypothesis' sides give data-set-averaged seam dissimilarities between
every two pieces of different blocks, normalised by each side's second best
block; the pieces are placed by a greedy growth that uses each block once
(:func:`._placement.grow_variants`) refined by annealing over swaps and
re-orientations (:func:`._placement.anneal_variants`). The picture's turns,
mirror images and negative score the same: the estimate is defined up to the
grid's symmetries, and up to the negative unless the number of blocks is
odd (EtC negates ``floor(n / 2)`` blocks, so the estimate that negates
fewer than half of them is kept).

PE (per-element negation and channel shuffle, no pixel moves)
------------------------------------------------------------
A negated element is anti-correlated with its neighbours across the data set
(fixed key) or, in one image, lies far from them unless negated back
(:func:`._inblock.tree_signs`, :func:`._inblock.icm_signs`). Per-image keys
give per-image reconstructions; the negative of a whole image (or channel)
is as smooth as the image, so scores take the better of the two.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from ..cipher._gather import decrypt
from ..cipher._scheme_keys import BlockwiseKey, EtCKey, LEKey, PEKey, block_elements
from ._block_attack import block_attack
from ._common import grid_symmetries
from ._inblock import anneal_slots, icm_signs, image_signs, incidence, slot_energy, tree_signs
from ._placement import anneal_variants, best_variant_shift, grow_variants

#: random starts of the in-block annealing, and its proposals per slot
SLOT_RESTARTS = 12
SLOT_STEPS = 4000
#: ciphertexts used to judge the LE candidates (turns, mirrors, channel relabellings)
_JUDGE_IMAGES = 256
#: images per chunk when moments and Gram matrices are summed
_CHUNK = 2048


# --------------------------------------------------------------------------- in-block maps

def block_observations(x: np.ndarray, block: int, order: str, nibbles: bool) -> np.ndarray:
    """Every block of a batch ``(B, H, W, C)`` as one row of its slots, ``(B * n_blocks, slots)`` float64.

    ``order`` is the block's flattening (``"rcc"`` for LE, ``"crc"`` for
    block-wise); with ``nibbles`` the ``d`` low nibbles, then the ``d`` high
    nibbles (LE's slots), else the values themselves.
    """
    b, h, w, c = x.shape
    elements = block_elements((h, w), block, c, order)
    flat = x.reshape(b, -1)[:, elements].reshape(-1, elements.shape[1])
    if nibbles:
        flat = np.concatenate([flat & 15, flat >> 4], axis=1)
    return flat.astype(np.float64)


def slot_moments(x: np.ndarray, block: int, order: str, nibbles: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(mean, second moments)`` of the block slots over every block of every image (chunked)."""
    total = None
    gram = None
    count = 0
    for start in range(0, x.shape[0], _CHUNK):
        obs = block_observations(x[start:start + _CHUNK], block, order, nibbles)
        if total is None:
            total = np.zeros(obs.shape[1])
            gram = np.zeros((obs.shape[1], obs.shape[1]))
        total += obs.sum(axis=0)
        gram += obs.T @ obs
        count += obs.shape[0]
    return total / count, gram / count


def element_index(block: int, channels: int, order: str) -> np.ndarray:
    """``(M, M, C)`` table: the element number of (row, column, channel) in the block's flattening."""
    m, c = block, channels
    if order == "rcc":
        return np.arange(m * m * c, dtype=np.int64).reshape(m, m, c)
    return np.ascontiguousarray(np.arange(m * m * c, dtype=np.int64).reshape(c, m, m).transpose(1, 2, 0))


def element_pairs(block: int, channels: int, order: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(pa, pb, pw)``: the element pairs of the slot energy: 4-neighbours per channel, channels per pixel."""
    idx = element_index(block, channels, order)
    pa, pb = [], []
    m, c = block, channels
    for r in range(m):
        for col in range(m):
            for ch in range(c):
                if col + 1 < m:
                    pa.append(idx[r, col, ch])
                    pb.append(idx[r, col + 1, ch])
                if r + 1 < m:
                    pa.append(idx[r, col, ch])
                    pb.append(idx[r + 1, col, ch])
                for ch2 in range(ch + 1, c):
                    pa.append(idx[r, col, ch])
                    pb.append(idx[r, col, ch2])
    n = len(pa)
    return np.array(pa, dtype=np.int64), np.array(pb, dtype=np.int64), np.ones(n)


def fit_slots(mean: np.ndarray, mom: np.ndarray, block: int, channels: int, order: str, nibbles: bool, *,
              allow_sign: bool, restarts: int = SLOT_RESTARTS, steps_per_slot: int = SLOT_STEPS,
              seed: int = 0) -> tuple[np.ndarray, np.ndarray, float]:
    """``(assign, sign, energy)``: the in-block assignment of least slot energy over random starts."""
    n_el = block * block * channels
    unit_w = np.array([1.0, 16.0]) if nibbles else np.array([1.0])
    top = 15.0 if nibbles else 255.0
    s = n_el * unit_w.shape[0]
    pa, pb, pw = element_pairs(block, channels, order)
    ptr, inc = incidence(n_el, pa, pb)
    mom = np.ascontiguousarray(mom, dtype=np.float64)
    mean = np.ascontiguousarray(mean, dtype=np.float64)
    rng = np.random.default_rng(seed)
    ident = np.arange(s, dtype=np.int64)
    scale = slot_energy(mom, mean, ident, np.zeros(s, np.bool_), unit_w, n_el, top, pa, pb, pw) / max(1, len(pa))
    best = None
    for r in range(restarts):
        assign = rng.permutation(s).astype(np.int64)
        sign = (rng.integers(0, 2, s) == 1) if allow_sign else np.zeros(s, dtype=np.bool_)
        e = anneal_slots(mom, mean, assign, sign, unit_w, n_el, top, pa, pb, pw, ptr, inc, allow_sign,
                         steps_per_slot * s, 0.3 * scale, 1e-4 * scale, r + 1)
        if best is None or e < best[2] - 1e-9 * abs(best[2]):
            best = (assign.copy(), sign.copy(), float(e))
    return best


def block_relabellings(block: int, channels: int, order: str, nibbles: bool) -> list[np.ndarray]:
    """Slot maps ``T`` of the block's turns and mirrors times the channel relabellings (identity first).

    ``assign[T]`` is the assignment seen through the turn: plain slot ``a``
    takes what slot ``T[a]`` had.
    """
    idx = element_index(block, channels, order)
    n_el = idx.size
    out = []
    for t in grid_symmetries((block, block)):
        for perm in itertools.permutations(range(channels)):
            moved = idx.reshape(block * block, channels)[t][:, list(perm)].reshape(block, block, channels)
            el = np.empty(n_el, dtype=np.int64)
            el[idx.reshape(-1)] = moved.reshape(-1)
            out.append(np.concatenate([el + u * n_el for u in range(2 if nibbles else 1)]))
    return out


def roughness(images: np.ndarray) -> float:
    """Mean squared difference of 4-neighbours (every channel) of a batch ``(B, H, W[, C])``."""
    f = images.astype(np.float64)
    return float(np.mean((f[:, 1:] - f[:, :-1]) ** 2) + np.mean((f[:, :, 1:] - f[:, :, :-1]) ** 2))


def attack_le(x: np.ndarray, block: int, *, seed: int = 0) -> tuple[LEKey, float]:
    """``(estimated LEKey, slot energy)`` from uint8 ciphertexts ``(B, H, W, C)``."""
    if x.dtype != np.uint8:
        raise TypeError(f"LE ciphertexts are uint8 (LE works on the nibbles of bytes), got dtype {x.dtype}")
    _, h, w, c = x.shape
    mean, mom = slot_moments(x, block, "rcc", True)
    assign, _, energy = fit_slots(mean, mom, block, c, "rcc", True, allow_sign=True, seed=seed)
    sample = x[:_JUDGE_IMAGES] if c > 1 else x[:_JUDGE_IMAGES, ..., 0]
    best = None
    for t in block_relabellings(block, c, "rcc", True):
        key = LEKey((h, w), block, c, np.argsort(assign[t]))
        r = roughness(decrypt(sample, key))
        if best is None or r < best[1]:
            best = (key, r)
    return best[0], energy


def attack_blockwise(x: np.ndarray, block: int, *, seed: int = 0, bar: Any = None) -> tuple[BlockwiseKey, float, bool]:
    """``(estimated BlockwiseKey, jigsaw objective, sign ambiguous)`` from ciphertexts ``(B, H, W, C)``."""
    b, h, w, c = x.shape
    d = c * block * block
    xs = x if x.dtype == np.uint8 else np.round(np.asarray(x, dtype=np.float64) * 255.0)
    mean, mom = slot_moments(xs, block, "crc", False)
    assign, sign, _ = fit_slots(mean, mom, block, c, "crc", False, allow_sign=True, seed=seed)
    if 2 * int(sign.sum()) > d:
        sign = ~sign  # the estimate that negates at most half the slots (the key negates d // 2 or none)
    ambiguous = 2 * int(sign.sum()) == d
    # tiles turned alike assemble into the turned picture on a square grid; on another grid only some turns fit
    relabel = [np.arange(d)] if h == w else block_relabellings(block, c, "crc", False)[::math.factorial(c)]
    best = None
    for t in relabel:
        a = assign[t]
        inner = BlockwiseKey((h, w), block, c, np.argsort(a), sign.copy(), None)
        plain = decrypt(x, inner, channels=True if c > 1 else None)
        if c == 1:
            plain = plain.reshape(x.shape)
        cur, objective = block_attack(plain, block, bar=bar)
        if best is None or objective > best[2]:
            best = (inner, cur, objective)
    inner, cur, objective = best
    n = (h // block) * (w // block)
    block_perm = np.argsort(cur).astype(np.int64) if n > 1 else np.zeros(1, dtype=np.int64)
    return BlockwiseKey((h, w), block, c, inner.pixel_perm, inner.negate_slots, block_perm), objective, ambiguous


# --------------------------------------------------------------------------- EtC

def _etc_forward(block: np.ndarray, rotation: int, flip: int) -> np.ndarray:
    """The spatial part of EtC's per-block transform, as ``EtCKey`` applies it (turn, then flip)."""
    out = np.rot90(block, k=rotation, axes=(0, 1))
    if flip == 1:
        out = out[::-1]
    elif flip == 2:
        out = out[:, ::-1]
    return out


def etc_hypotheses(channels: int) -> list[tuple[int, int, bool, tuple]]:
    """Every distinct per-block transform ``(rotation, flip, negate, channel_perm)`` of EtC.

    The 8 turns and mirror images as ``rotation`` 0..3 with ``flip`` 0 or 2
    (left-right), times the negation, times the ``C!`` channel orders.
    """
    return [(r, f, neg, perm) for r in range(4) for f in (0, 2) for neg in (False, True)
            for perm in itertools.permutations(range(channels))]


def _side_lists(m: int) -> list[tuple[list, list]]:
    """(edge, inner) positions of a block's sides top, right, bottom, left, read left-right / top-bottom."""
    inner = 1 if m > 1 else 0
    return [([(0, t) for t in range(m)], [(inner, t) for t in range(m)]),
            ([(t, m - 1) for t in range(m)], [(t, m - 1 - inner) for t in range(m)]),
            ([(m - 1, t) for t in range(m)], [(m - 1 - inner, t) for t in range(m)]),
            ([(t, 0) for t in range(m)], [(t, inner) for t in range(m)])]


def _hypothesis_sides(m: int, rotation: int, flip: int) -> list[tuple[int, bool]]:
    """For the plain block under a hypothesis, which side of the cipher block each of its sides is:
    ``[(side, reversed)]`` for the plain block's top, right, bottom, left."""
    idx = np.arange(m * m).reshape(m, m)
    held = _etc_forward(idx, rotation, flip)  # cipher position (i, j) holds plain pixel held[i, j]
    where = {int(held[i, j]): (i, j) for i in range(m) for j in range(m)}
    sides = _side_lists(m)
    out = []
    for edge, _ in sides:
        at = [where[i * m + j] for i, j in edge]
        for s, (cedge, _) in enumerate(sides):
            if at == cedge:
                out.append((s, False))
                break
            if at == cedge[::-1]:
                out.append((s, True))
                break
        else:  # pragma: no cover - a dihedral map sends sides to sides
            raise AssertionError("a side of the block was not sent to a side")
    return out


def side_predictions(x: np.ndarray, block: int) -> np.ndarray:
    """Outward half-step edge predictions ``(n_blocks * 4, B, M, C)`` float32 of every block's four sides."""
    b, h, w, c = x.shape
    m = block
    th, tw = h // m, w // m
    scale = np.float32(255.0 if x.dtype == np.uint8 else 1.0)
    tiles = np.asarray(x, dtype=np.float32).reshape(b, th, m, tw, m, c).transpose(1, 3, 0, 2, 4, 5) / scale
    tiles = tiles.reshape(th * tw, b, m, m, c)
    out = np.empty((th * tw, 4, b, m, c), dtype=np.float32)
    for s, (edge, inner) in enumerate(_side_lists(m)):
        e = np.stack([tiles[:, :, i, j] for i, j in edge], axis=2)
        q = np.stack([tiles[:, :, i, j] for i, j in inner], axis=2)
        out[:, s] = e + (e - q) / 2
    return out.reshape(th * tw * 4, b, m, c)


def side_grams(x: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """``(G, sums, squares, L)``: ``G[i, j, t] = <o_i, T_t o_j>`` summed over images, ``T_t`` a reversal
    along the side (``t // C!``) and a channel relabelling (``t % C!``, lexicographic order)."""
    b, _, _, c = x.shape
    perms = list(itertools.permutations(range(c)))
    n_sides = (x.shape[1] // block) * (x.shape[2] // block) * 4
    gram = np.zeros((n_sides, n_sides, 2 * len(perms)))
    sums = np.zeros(n_sides)
    squares = np.zeros(n_sides)
    for start in range(0, b, _CHUNK):
        o = side_predictions(x[start:start + _CHUNK], block)
        flat = o.reshape(n_sides, -1)
        sums += flat.sum(axis=1, dtype=np.float64)
        squares += np.einsum("ij,ij->i", flat, flat, dtype=np.float64)
        for rev in (0, 1):
            for k, perm in enumerate(perms):
                moved = o[:, :, ::-1] if rev else o
                moved = np.ascontiguousarray(moved[..., list(perm)]).reshape(n_sides, -1)
                gram[:, :, rev * len(perms) + k] += (flat @ moved.T).astype(np.float64)
    return gram, sums, squares, b * block * c


def etc_compatibilities(x: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray, list]:
    """``(right, down, hypotheses)``: normalised compatibilities of every two piece variants."""
    c = x.shape[3]
    n = (x.shape[1] // block) * (x.shape[2] // block)
    hyps = etc_hypotheses(c)
    perms = list(itertools.permutations(range(c)))
    pid = {p: i for i, p in enumerate(perms)}
    gram, sums, squares, length = side_grams(x, block)
    # per hypothesis and plain side: (cipher side, reversed, channel map, negated)
    table = []
    for r, f, neg, perm in hyps:
        inv = tuple(int(v) for v in np.argsort(perm))
        table.append([(s, rev, inv, neg) for s, rev in _hypothesis_sides(block, r, f)])
    compose = np.empty((len(perms), len(perms)), dtype=np.int64)
    for i, p1 in enumerate(perms):
        p1inv = np.argsort(p1)
        for j, p2 in enumerate(perms):
            compose[i, j] = pid[tuple(int(p2[p1inv[k]]) for k in range(c))]

    def side_arrays(plain_side):
        base = np.array([a * 4 + table[hh][plain_side][0] for a in range(n) for hh in range(len(hyps))])
        rev = np.array([table[hh][plain_side][1] for _ in range(n) for hh in range(len(hyps))], dtype=np.int64)
        cm = np.array([pid[table[hh][plain_side][2]] for _ in range(n) for hh in range(len(hyps))])
        neg = np.array([table[hh][plain_side][3] for _ in range(n) for hh in range(len(hyps))])
        return base, rev, cm, neg

    def dissimilarity(first, second):
        i, r1, c1, n1 = side_arrays(first)
        j, r2, c2, n2 = side_arrays(second)
        t = (r1[:, None] ^ r2[None, :]) * len(perms) + compose[c1[:, None], c2[None, :]]
        g = gram[i[:, None], j[None, :], t]
        d = squares[i][:, None] + squares[j][None, :]
        other = n1[:, None] != n2[None, :]
        d = np.where(other, d + 2 * g - 2 * sums[i][:, None] - 2 * sums[j][None, :] + length,
                     d - 2 * g)
        d = np.maximum(d, 0.0) / length
        same_block = (np.arange(n * len(hyps)) // len(hyps))
        d[same_block[:, None] == same_block[None, :]] = np.inf
        return d

    right = variant_compatibility(dissimilarity(1, 3), len(hyps))
    down = variant_compatibility(dissimilarity(2, 0), len(hyps))
    return right, down, hyps


def variant_compatibility(d: np.ndarray, n_hyp: int) -> np.ndarray:
    """``1 - D / D2`` with ``D2`` the mean of the second best *block* (its best variant) of the row and column."""
    nv = d.shape[0]
    n = nv // n_hyp
    rows = d.reshape(nv, n, n_hyp).min(axis=2)
    cols = d.reshape(n, n_hyp, nv).min(axis=1)
    if n < 3:
        second_row = np.full(nv, float(np.max(d[np.isfinite(d)], initial=1.0)))
        second_col = second_row
    else:
        second_row = np.partition(rows, 1, axis=1)[:, 1]
        second_col = np.partition(cols, 1, axis=0)[1, :]
    denom = (second_row[:, None] + second_col[None, :]) / 2
    finite = np.isfinite(denom)
    eps = 1e-12 * max(1.0, float(np.max(denom[finite], initial=1.0)))
    with np.errstate(invalid="ignore"):
        c = 1.0 - d / (denom + eps)
    c[~np.isfinite(c)] = -1.0
    return np.ascontiguousarray(np.clip(c, -1.0, 1.0))


def attack_etc(x: np.ndarray, block: int, *, restarts: int | None = None,
               bar: Any = None) -> tuple[EtCKey, float, bool]:
    """``(estimated EtCKey, objective, negative ambiguous)`` from ciphertexts ``(B, H, W, C)``."""
    _, h, w, c = x.shape
    th, tw = h // block, w // block
    n = th * tw
    right, down, hyps = etc_compatibilities(x, block)
    nh = len(hyps)
    if restarts is None:
        restarts = min(n, 12)
    clarity = (right.max(axis=1) + right.max(axis=0) + down.max(axis=1) + down.max(axis=0)).reshape(n, nh)[:, 0]
    seeds = [int(s) * nh for s in np.argsort(-clarity, kind="stable")[:restarts]]
    best = None
    for i, s in enumerate(seeds):
        cur = grow_variants(right, down, nh, th, tw, s)
        # a growth that started on the wrong side of a seam between blank borders is a cyclic shift away
        cur, _ = best_variant_shift(right, down, cur, th, tw)
        e = anneal_variants(right, down, cur, th, tw, nh, 400 * n, 0.05, 0.002, i + 1)
        shifted, e2 = best_variant_shift(right, down, cur, th, tw)
        if e2 > e:
            cur = shifted
            e = anneal_variants(right, down, cur, th, tw, nh, 0, 0.0, 0.0, i + 1)
        if best is None or e > best[1]:
            best = (cur.copy(), float(e))
        if bar is not None:
            bar.update(1)
    cur, e = best
    blocks, which = cur // nh, cur % nh
    rotation = np.array([hyps[k][0] for k in which], dtype=np.int64)
    flip = np.array([hyps[k][1] for k in which], dtype=np.int64)
    negate = np.array([hyps[k][2] for k in which], dtype=np.bool_)
    channel_perm = np.array([hyps[k][3] for k in which], dtype=np.int64).reshape(n, c)
    if 2 * int(negate.sum()) > n:
        negate = ~negate  # the picture's negative scores the same; EtC negates floor(n / 2) blocks
    block_perm = np.empty(n, dtype=np.int64)
    block_perm[blocks] = np.arange(n)
    key = EtCKey((h, w), block, c, block_perm, rotation, flip, negate, channel_perm)
    return key, e, 2 * int(negate.sum()) == n


# --------------------------------------------------------------------------- PE

def element_edges(h: int, w: int, c: int) -> tuple[np.ndarray, np.ndarray]:
    """Edges over the elements ``(p * C + ch)``: 4-neighbours in each channel, and the channels of a pixel."""
    ea, eb = [], []
    for y in range(h):
        for x in range(w):
            p = y * w + x
            for ch in range(c):
                if x + 1 < w:
                    ea.append(p * c + ch)
                    eb.append((p + 1) * c + ch)
                if y + 1 < h:
                    ea.append(p * c + ch)
                    eb.append((p + w) * c + ch)
                for ch2 in range(ch + 1, c):
                    ea.append(p * c + ch)
                    eb.append(p * c + ch2)
    return np.array(ea, dtype=np.int64), np.array(eb, dtype=np.int64)


def attack_pe(x: np.ndarray, *, sweeps: int = 50) -> tuple[PEKey, float]:
    """``(estimated PEKey, agreement)`` from ciphertexts ``(B, H, W, C)`` under one PE key.

    Each element's sign is chosen so that it correlates positively with its
    neighbours across the data set (edge cost ``-r`` for the same sign, ``+r``
    for opposite ones, ``r`` the correlation of the two elements); the channel
    shuffle is not undone (the estimate keeps every pixel's channel order).
    The agreement is minus the total cost.
    """
    b, h, w, c = x.shape
    scale = 255.0 if x.dtype == np.uint8 else 1.0
    ea, eb = element_edges(h, w, c)
    total = np.zeros(h * w * c)
    sq = np.zeros(h * w * c)
    prod = np.zeros(ea.shape[0])
    for start in range(0, b, _CHUNK):
        f = x[start:start + _CHUNK].reshape(-1, h * w * c).astype(np.float64) / scale
        total += f.sum(axis=0)
        sq += (f * f).sum(axis=0)
        prod += (f[:, ea] * f[:, eb]).sum(axis=0)
    mean = total / b
    var = np.maximum(sq / b - mean * mean, 0.0)
    cov = prod / b - mean[ea] * mean[eb]
    den = np.sqrt(var[ea] * var[eb])
    r = np.where(den > 1e-12, cov / np.where(den > 1e-12, den, 1.0), 0.0)
    same, diff = np.ascontiguousarray(-r), np.ascontiguousarray(r)
    label = tree_signs(ea, eb, same, diff, h * w * c)
    cost = icm_signs(ea, eb, same, diff, label, sweeps)
    negate = (label == 1).reshape(h, w, c)
    perm = np.broadcast_to(np.arange(c, dtype=np.int64), (h, w, c))
    return PEKey((h, w), c, negate, perm), -float(cost)


def attack_pe_each(x: np.ndarray, *, sweeps: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """``(reconstructions, folded)``: every image's elements negated back where that agrees with its
    neighbours (:func:`._inblock.image_signs`), and the fold ``min(v, top - v)`` baseline; ``x``'s dtype."""
    top = 255.0 if x.dtype == np.uint8 else 1.0
    f = np.ascontiguousarray(x, dtype=np.float64)
    labels = np.empty(x.shape, dtype=np.int64)
    image_signs(f, top, sweeps, labels)
    rec = np.where(labels == 1, top - f, f)
    folded = np.minimum(f, top - f)
    return rec.astype(x.dtype), folded.astype(x.dtype)
