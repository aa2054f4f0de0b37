"""Ciphertext-only attack on ELE (extended learnable encryption): an LE key per block position, then block moves.

Every ciphertext block position holds the same source block under the same
nibble map in every image, so each position is an LE problem of its own
(``2d`` nibble slots, ``N`` observations: one per ciphertext) and the block
moves are a jigsaw of upright pieces once every position is undone.

Per block position
------------------
1. *Which slots are one pixel's two nibbles.* The joint 16 x 16 histogram of
   every two slots is summed over the ciphertexts. A pixel's high nibble
   ``h`` and low nibble ``l`` make the value ``16 h + l``, whose histogram is
   as continuous across the 15 steps from ``16 h + 15`` to ``16 (h + 1)`` as
   inside each run of 16; two slots of different pixels, or the nibbles in
   the wrong order, jump there. The *seam ratio* (squared jumps at those
   steps over all squared steps of the 256-bin histogram, its two end bins
   left out) is small for a true pair, read with the low nibble as it is or
   negated (``15 - l``): the smaller of the two also gives the low nibble's
   sign relative to its high nibble's. Candidate pairings (each tried, the
   best kept, step 3):

   - the slot energy of :mod:`._inblock` (mean squared difference of
     neighbouring pixels, ``16 h + l``) minimised by annealing names the
     ``d`` high slots; each low slot joins the high slot it shares the most
     mutual information with (an assignment, ``linear_sum_assignment``);
   - the same with the energy of the high nibbles alone (low nibbles
     weighted 0), which is not misled by low nibbles that happen to smooth
     the picture;
   - the pairing of least seam ratio over all slots (an assignment on the
     symmetric ratio, its mutual pairs kept), each pair ordered by the ratio.
2. *Where each pixel sits.* The pixels' values ``16 h + l`` (the low nibble
   read with its relative sign) give a block-wise slot-energy problem over
   ``M*M`` byte slots: annealing finds the layout and every pixel's sign,
   up to the block's 8 turns and mirror images and the negative.
3. *The orientation from ELE's own signs.* ELE's negations follow from its
   permutation (the flip set is ``k > d``), so each of the 8 layouts is a
   different permutation with its own negations; the true one negates
   exactly the slots the data says (or, with the block negated, exactly the
   others). The layout and candidate whose implied negations agree with the
   data's on the most slots are kept (ties: the smaller slot energy). A block
   whose candidates all disagree somewhere is still given that permutation,
   so the estimate is always a valid :class:`~vortexnumba.ELEKey`; its
   decryption of that block is then partly wrong (the flips it implies are
   not the data's), which is what ``attack_quality`` measures.

The blocks
----------
With every position undone by its permutation the pieces are upright and
their values their own, so the block jigsaw of :mod:`._block_attack` puts
them back (an oriented estimate: ``symmetry="none"``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..cipher._gather import decrypt
from ..cipher._scheme_keys import ELEKey
from ._block_attack import block_attack, edge_dissimilarities
from ._inblock import anneal_slots, incidence, slot_energy
from ._placement import anneal_variants, best_variant_shift, grow_variants
from ._scheme_attacks import (
    SLOT_STEPS,
    block_observations,
    block_relabellings,
    element_pairs,
    fit_slots,
    variant_compatibility,
)

#: random starts of each in-block annealing (pairing and layout)
ELE_RESTARTS = 6
#: annealing proposals per slot (a quarter of LE's: each position is a small problem, and there are many)
ELE_STEPS = SLOT_STEPS // 4
#: ciphertexts whose joint nibble histograms are summed (enough for every bin that matters; bounds the time)
JOINT_IMAGES = 20000
#: ciphertexts whose seams place the pieces when some positions keep several candidates
JIGSAW_IMAGES = 10000


def implied_negations(perm: np.ndarray, d: int) -> np.ndarray:
    """The cipher slots an LE permutation ``perm`` (a gather over ``2d`` slots) leaves negated.

    Slot ``i`` reads plain slot ``perm[i]``, negated when exactly one of
    ``perm[i]`` and ``perm[perm[i]]`` exceeds ``d`` (the flip set is
    ``F = {i : perm[i] > d}``, applied before and after the gather).

    Examples
    --------
    >>> import numpy as np
    >>> implied_negations(np.array([3, 0, 1, 2]), 2).tolist()
    [True, True, False, False]
    """
    f = np.asarray(perm) > d
    return f != f[np.asarray(perm)]


def pair_statistics(obs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(mi, seam, low_negated)`` of every two nibble slots, from observations ``(N, S)`` in 0..15.

    ``mi[i, j]``: mutual information (nats) of slots ``i`` and ``j``;
    ``seam[i, j]``: the seam ratio of ``16 v_i + v_j`` (the module
    docstring), the smaller of reading ``v_j`` as it is and negated, and
    ``low_negated[i, j]`` whether the negated reading was the smaller. The
    diagonal of ``mi`` is 0, that of ``seam`` 1.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.repeat(np.arange(256), np.arange(256))  # a pixel whose value v occurs v times
    >>> obs = np.stack([x >> 4, 15 - (x & 15)], axis=1)  # its high nibble, its negated low nibble
    >>> mi, seam, neg = pair_statistics(obs)
    >>> bool(seam[0, 1] < seam[1, 0]), bool(neg[0, 1])
    (True, True)
    """
    n, s = obs.shape
    onehot = np.zeros((n, s * 16), dtype=np.float32)
    onehot[np.arange(n)[:, None], np.arange(s)[None, :] * 16 + obs] = 1.0
    joint = (onehot.T @ onehot).astype(np.float64).reshape(s, 16, s, 16).transpose(0, 2, 1, 3) / n
    p = onehot.mean(axis=0, dtype=np.float64).reshape(s, 16)
    outer = p[:, None, :, None] * p[None, :, None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(joint > 0, joint * np.log(joint / np.where(outer > 0, outer, 1.0)), 0.0)
    mi = terms.sum(axis=(2, 3))
    np.fill_diagonal(mi, 0.0)

    def ratio(j):
        steps = np.diff(j.reshape(s, s, 256)[:, :, 1:-1], axis=2) ** 2
        total = steps.sum(axis=2)
        seams = steps[:, :, 14::16].sum(axis=2)
        return np.where(total > 0, seams / np.where(total > 0, total, 1.0), 1.0)

    plain, flipped = ratio(joint), ratio(joint[:, :, :, ::-1])
    seam = np.minimum(plain, flipped)
    np.fill_diagonal(seam, 1.0)
    return mi, seam, flipped < plain


def _pair_by_information(mi: np.ndarray, highs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(highs, lows)`` of ``d`` pixels: each low slot joins the high slot it shares the most information with."""
    lows = np.setdiff1d(np.arange(mi.shape[0]), highs)
    rows, cols = linear_sum_assignment(-mi[np.ix_(lows, highs)])
    return highs[cols], lows[rows]


def _pair_by_seams(seam: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``(highs, lows)`` from the assignment of least symmetric seam ratio, or None if it is not all pairs."""
    cost = np.minimum(seam, seam.T)
    np.fill_diagonal(cost, 1e9)
    _, col = linear_sum_assignment(cost)
    highs, lows = [], []
    for i in range(cost.shape[0]):
        j = int(col[i])
        if int(col[j]) != i:
            return None
        if i < j:
            hi, lo = (i, j) if seam[i, j] <= seam[j, i] else (j, i)
            highs.append(hi)
            lows.append(lo)
    if len(highs) != d:
        return None
    return np.array(highs, dtype=np.int64), np.array(lows, dtype=np.int64)


def _high_slots(mean, mom, block, restarts, steps, seed) -> np.ndarray:
    """The ``d`` slots that the slot energy of the high nibbles alone (low ones weighted 0) puts in the layout."""
    d = block * block
    s = 2 * d
    pa, pb, pw = element_pairs(block, 1, "rcc")
    ptr, inc = incidence(d, pa, pb)
    unit_w = np.array([0.0, 16.0])
    scale = slot_energy(mom, mean, np.arange(s, dtype=np.int64), np.zeros(s, np.bool_), unit_w, d, 15.0,
                        pa, pb, pw) / max(1, len(pa))
    rng = np.random.default_rng(seed)
    best = None
    for r in range(restarts):
        assign = rng.permutation(s).astype(np.int64)
        sign = rng.integers(0, 2, s) == 1
        e = anneal_slots(mom, mean, assign, sign, unit_w, d, 15.0, pa, pb, pw, ptr, inc, True, steps * s,
                         0.3 * scale, 1e-4 * scale, r + 1)
        if best is None or e < best[0] - 1e-9 * abs(best[0]):
            best = (float(e), assign.copy())
    return best[1][d:]


def _layout(obs, pixel, block, restarts, steps, seed) -> tuple[np.ndarray, np.ndarray]:
    """``(assign, sign)`` over the ``2d`` slots from pixels ``(highs, lows, low_negated)``: the pixels' layout
    and signs from the byte slot energy (``assign[a]`` the cipher slot at plain slot ``a``)."""
    highs, lows, low_neg = pixel
    d = block * block
    hv = obs[:, highs].astype(np.float64)
    lv = np.where(low_neg[None, :], 15 - obs[:, lows], obs[:, lows]).astype(np.float64)
    x = 16.0 * hv + lv
    place, sign, _ = fit_slots(x.mean(axis=0), x.T @ x / len(x), block, 1, "rcc", False, allow_sign=True,
                               restarts=restarts, steps_per_slot=steps, seed=seed)
    assign = np.empty(2 * d, dtype=np.int64)
    assign[d:] = highs[place]
    assign[:d] = lows[place]
    negated = np.zeros(2 * d, dtype=np.bool_)
    negated[highs[place]] = sign[place]
    negated[lows[place]] = sign[place] ^ low_neg[place]
    return assign, negated


def block_permutation(obs: np.ndarray, block: int, *, restarts: int = ELE_RESTARTS, steps: int = ELE_STEPS,
                      seed: int = 0) -> tuple[list[np.ndarray], int]:
    """``(perms, agreement)``: the LE permutations of one block position from its nibble observations ``(N, 2d)``.

    ``perms`` are the best candidates (most slots whose negation the
    permutation implies as the data says, then the least slot energy; several
    only when they tie), ``agreement`` that number of slots (``2d``:
    consistent; a slot whose sign does not change the slot energy counts as
    agreeing).
    """
    d = block * block
    s = 2 * d
    sample = obs[:JOINT_IMAGES]
    mi, seam, low_neg = pair_statistics(sample)
    f = obs.astype(np.float64)
    mean, mom = f.mean(axis=0), f.T @ f / len(f)
    assign, sign, _ = fit_slots(mean, mom, block, 1, "rcc", True, allow_sign=True, restarts=restarts,
                                steps_per_slot=steps, seed=seed)
    pairings = [_pair_by_information(mi, assign[d:]),
                _pair_by_information(mi, _high_slots(mean, mom, block, restarts, steps, seed + 1))]
    by_seams = _pair_by_seams(seam, d)
    if by_seams is not None:
        pairings.append(by_seams)
    pa, pb, pw = element_pairs(block, 1, "rcc")
    unit_w = np.array([1.0, 16.0])
    turns = block_relabellings(block, 1, "rcc", True)
    # the slot energy's own layout first: on very smooth images its low nibbles are right as well
    layouts = [(assign, sign)] + [_layout(obs, (highs, lows, low_neg[highs, lows]), block, restarts, steps,
                                          seed + 2 + i) for i, (highs, lows) in enumerate(pairings)]
    scored: list = []
    for layout, negated in layouts:
        # a slot whose sign leaves the slot energy as it is (a constant nibble, say) says nothing: it is not counted
        base = slot_energy(mom, mean, layout, negated, unit_w, d, 15.0, pa, pb, pw)
        told = np.ones(s, dtype=np.bool_)
        for j in range(s):
            flipped = negated.copy()
            flipped[j] = not flipped[j]
            told[j] = abs(slot_energy(mom, mean, layout, flipped, unit_w, d, 15.0, pa, pb, pw) - base) > \
                1e-9 * max(1.0, abs(base))
        n_told = int(np.count_nonzero(told))
        for t in turns:
            a = layout[t]
            perm = np.argsort(a).astype(np.int64)
            implied = implied_negations(perm, d)
            same = int(np.count_nonzero((implied == negated) & told))
            energy = slot_energy(mom, mean, a, implied, unit_w, d, 15.0, pa, pb, pw)
            scored.append((max(same, n_told - same) + s - n_told, -energy, len(scored), perm))
    scored.sort(key=lambda r: (-r[0], -r[1], r[2]))
    top, top_e = scored[0][0], scored[0][1]
    tol = 1e-9 * max(1.0, abs(top_e))
    # a turned and negated block is as smooth as the block: where its implied flips fit the data as well, the
    # seams with the neighbours decide (attack_ele)
    tied, seen = [], set()
    for agreement, neg_energy, _, perm in scored:
        if agreement == top and neg_energy >= top_e - tol and perm.tobytes() not in seen:
            seen.add(perm.tobytes())
            tied.append(perm)
    return tied, top


def attack_ele(x: np.ndarray, block: int, *, seed: int = 0, bar: Any = None) -> tuple[ELEKey, float, int]:
    """``(estimated ELEKey, jigsaw objective, consistent positions)`` from grey uint8 ciphertexts ``(B, H, W, 1)``.

    ``consistent positions`` counts the block positions whose permutation
    implies exactly the negations the data shows (the module docstring).

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> yy, xx = np.mgrid[0:8, 0:8]
    >>> phase = np.random.default_rng(0).uniform(0, 6.3, (300, 2))
    >>> images = (127 + 100 * np.sin(yy[None] / 3 + phase[:, :1, None])
    ...           * np.cos(xx[None] / 4 + phase[:, 1:, None])).astype(np.uint8)
    >>> key = vn.ELEKey.random((8, 8), block=2, seed=1)
    >>> est, _, consistent = attack_ele(vn.encrypt(images, key)[..., None], 2)
    >>> bool(np.array_equal(est.block_perm, key.block_perm)), consistent
    (True, 16)
    >>> q = vn.security.attack_quality(est, key, images[:50])
    >>> round(q["ssim"], 3), q["recovered"] > 0.98  # a few low nibbles of these smooth images stay ambiguous
    (0.999, True)
    """
    if x.dtype != np.uint8:
        raise TypeError(f"ELE ciphertexts are uint8 (ELE works on the nibbles of bytes), got dtype {x.dtype}")
    b, h, w, c = x.shape
    if c != 1:
        raise ValueError(f"family='ele' attacks grey ciphertexts (channel_axis=None, one channel); got {c} channels")
    obs = block_observations(x, block, "rcc", True).astype(np.int64).reshape(b, -1, 2 * block * block)
    n = obs.shape[1]
    candidates = []
    consistent = 0
    for q in range(n):
        perms, agreement = block_permutation(np.ascontiguousarray(obs[:, q]), block, seed=seed + 7919 * q)
        candidates.append(perms)
        consistent += agreement == 2 * block * block
        if bar is not None:
            bar.update(1)
    if max(len(c_) for c_ in candidates) == 1:
        # every position undone where it is: upright pieces with their own values, put back by the block jigsaw
        perms_arr = np.stack([c_[0] for c_ in candidates])
        pieces = decrypt(x[..., 0], ELEKey((h, w), block, 1, perms_arr, np.arange(n)))
        cur, objective = block_attack(pieces[..., None], block, bar=bar)
        block_perm = np.argsort(cur).astype(np.int64) if n > 1 else np.zeros(1, dtype=np.int64)
    else:
        perms_arr, block_perm, objective = _place_variants(x[:JIGSAW_IMAGES, ..., 0], block, candidates)
    source_perms = np.empty_like(perms_arr)
    source_perms[block_perm] = perms_arr
    return ELEKey((h, w), block, 1, source_perms, block_perm), objective, consistent


def _place_variants(x: np.ndarray, block: int, candidates: list) -> tuple[np.ndarray, np.ndarray, float]:
    """``(perms, block_perm, objective)``: the jigsaw of pieces (position, candidate permutation), each
    position used once with one of its candidates (EtC's variant placement, :mod:`._placement`)."""
    b, h, w = x.shape
    th, tw = h // block, w // block
    n = th * tw
    n_hyp = max(len(c_) for c_ in candidates)
    tiles = []
    for k in range(n_hyp):
        perms = np.stack([c_[min(k, len(c_) - 1)] for c_ in candidates])
        pieces = decrypt(x, ELEKey((h, w), block, 1, perms, np.arange(n)))
        tiles.append(pieces.reshape(b, th, block, tw, block).transpose(0, 2, 1, 3, 4).reshape(b, block, n, block))
    # one row of tiles, variant (position q, candidate k) at q * n_hyp + k
    row = np.stack(tiles, axis=3).reshape(b, block, n * n_hyp * block, 1)
    d_right, d_down = edge_dissimilarities(row, block)
    owner = np.arange(n * n_hyp) // n_hyp
    for dis in (d_right, d_down):
        dis[owner[:, None] == owner[None, :]] = np.inf
        # a padded candidate repeats its position's last one: never better than the original
        pad = np.array([k >= len(candidates[q]) for q in range(n) for k in range(n_hyp)])
        dis[pad, :] = np.inf
        dis[:, pad] = np.inf
    right = variant_compatibility(d_right, n_hyp)
    down = variant_compatibility(d_down, n_hyp)
    clarity = (right.max(axis=1) + right.max(axis=0) + down.max(axis=1) + down.max(axis=0)).reshape(n, n_hyp)[:, 0]
    best = None
    for i, s in enumerate(np.argsort(-clarity, kind="stable")[:min(n, 12)]):
        cur = grow_variants(right, down, n_hyp, th, tw, int(s) * n_hyp)
        cur, _ = best_variant_shift(right, down, cur, th, tw)
        e = anneal_variants(right, down, cur, th, tw, n_hyp, 400 * n, 0.05, 0.002, i + 1)
        if best is None or e > best[1]:
            best = (cur.copy(), float(e))
    cur, objective = best
    blocks, which = cur // n_hyp, cur % n_hyp
    # reconstructed cell g shows position blocks[g] under its candidate which[g]
    perms = np.stack([candidates[q][min(int(k), len(candidates[q]) - 1)] for q, k in
                      sorted(zip(blocks.tolist(), which.tolist(), strict=True))])
    return perms, np.argsort(blocks).astype(np.int64), objective
