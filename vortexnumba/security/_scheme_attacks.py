"""Ciphertext-only attacks on the field's learnable encryptions: LE, block-wise, EtC and PE.

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
from ..cipher._scheme_keys import BlockwiseKey, LEKey, block_elements
from ._block_attack import block_attack
from ._common import grid_symmetries
from ._inblock import anneal_slots, incidence, slot_energy

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
        plain = decrypt(x, inner, channels=c if c > 1 else None)
        if c == 1:
            plain = plain.reshape(x.shape)
        cur, objective = block_attack(plain, block, bar=bar)
        if best is None or objective > best[2]:
            best = (inner, cur, objective)
    inner, cur, objective = best
    n = (h // block) * (w // block)
    block_perm = np.argsort(cur).astype(np.int64) if n > 1 else np.zeros(1, dtype=np.int64)
    return BlockwiseKey((h, w), block, c, inner.pixel_perm, inner.negate_slots, block_perm), objective, ambiguous

