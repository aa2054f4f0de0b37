"""Key space: how many distinct index maps a kind of key can stand for."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

from .._validate import as_int, as_seed
from ..cipher._keys import BlockKey, BlockwiseKey, ELEKey, EtCKey, IdentityKey, LEKey, PEKey, PermutationKey
from ..cipher._vortex import bijective_moves, paper_moves
from ._common import check_key_arg

# --------------------------------------------------------------------------- key space

@dataclass(frozen=True)
class KeySpace:
    """How many distinct index maps a kind of key can stand for.

    Attributes
    ----------
    bits : float
        log2 of the number of distinct maps (exact when ``exact``; otherwise
        the estimate described in ``method``).
    exact : bool
    method : str
        How ``bits`` was obtained.
    parameter_bits : float
        What counting the parameters' bits would claim (for comparison).
    details : tuple
        Per-vortex or per-radius numbers behind an estimate.
    """

    bits: float
    exact: bool
    method: str
    parameter_bits: float
    details: tuple = ()


def _log2_factorial(n: int) -> float:
    return math.lgamma(n + 1) / math.log(2)


def _log2_binomial(n: int, k: int) -> float:
    return _log2_factorial(n) - _log2_factorial(k) - _log2_factorial(n - k)


def _scheme_key_space(key) -> KeySpace:
    """Exact counts of distinct element plans for the value-changing keys."""
    c = key.channels
    if isinstance(key, PEKey):
        per_pixel = c + _log2_factorial(c)
        b = key.n_pixels * per_pixel
        return KeySpace(b, True, f"(2^C * C!)^N with C = {c}, N = {key.n_pixels}: a negation bit per value and a "
                        "channel permutation per pixel", b)
    m = key.block
    n = key.n_pixels // (m * m)
    if isinstance(key, LEKey):
        d = m * m * c
        b = _log2_factorial(2 * d)
        return KeySpace(b, True, f"log2((2d)!) with d = {d} bytes per {m}x{m}x{c} block: one nibble permutation "
                        "(its flip set follows from it)", b)
    if isinstance(key, ELEKey):
        d = m * m * c
        b = n * _log2_factorial(2 * d) + _log2_factorial(n)
        return KeySpace(b, True, f"n * log2((2d)!) + log2(n!) with n = {n} blocks, d = {d}: a nibble permutation "
                        "per block and the block order", b)
    if isinstance(key, EtCKey):
        # rotation then flip: 12 parameter pairs, but only the 8 symmetries of the square (1 for 1x1 blocks)
        geometric = 3.0 if m >= 2 else 0.0
        b = _log2_factorial(n) + n * geometric + _log2_binomial(n, n // 2) + n * _log2_factorial(c)
        param = _log2_factorial(n) + n * math.log2(12) + _log2_binomial(n, n // 2) + n * _log2_factorial(c)
        return KeySpace(b, True, f"n! * 8^n * C(n, n/2) * (C!)^n with n = {n} blocks: block order, the 8 "
                        "symmetries of a square (4 rotations x 3 flips give only 8 distinct maps), which half is "
                        "negated, a channel permutation per block", param)
    if isinstance(key, BlockwiseKey):
        d = m * m * c
        b = _log2_factorial(d)
        parts = [f"d! with d = {d}"]
        if key.negates:
            b += _log2_binomial(d, d // 2)
            parts.append("C(d, d/2) negated slots")
        if key.block_perm is not None:
            b += _log2_factorial(n)
            parts.append(f"n! block orders (n = {n})")
        return KeySpace(b, True, " * ".join(parts), b)
    raise TypeError(f"no key-space count for a {key.kind} key")


@njit(cache=True)
def _local_maps(paper, r, family, strength, weights):
    """One row per weight draw: the gather index of a vortex of radius ``r`` at the centre of its own
    ``(2r + 1)`` square, built by the cipher's own kernels (equal rows <=> equal maps)."""
    side = 2 * r + 1
    dst = np.empty(side * side, dtype=np.int64)
    src = np.empty(side * side, dtype=np.int64)
    rows = np.empty((weights.shape[0], side * side), dtype=np.int64)
    for i in range(weights.shape[0]):
        if paper:
            n, _ = paper_moves(side, r, r, r, family, weights[i], strength, dst, src)
        else:
            n = bijective_moves(side, r, r, r, family, weights[i], strength, dst, src)
        for p in range(side * side):
            rows[i, p] = p
        for m in range(n):
            rows[i, dst[m]] = src[m]
    return rows


def _vortex_signatures(mode: str, r: int, family: int, strength: float, weights: np.ndarray) -> np.ndarray:
    """One row per weight draw that fixes the vortex's local map (equal rows <=> equal maps).

    The rows are the local maps themselves, from the cipher's kernels
    (:func:`vortexnumba.cipher._vortex.bijective_moves` and ``paper_moves``),
    so the estimate cannot drift from the cipher.
    """
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    return _local_maps(mode == "paper", r, family, float(strength), weights)


def _distinct_and_collisions(rows: np.ndarray):
    rows = np.ascontiguousarray(rows)
    view = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    _, counts = np.unique(view, return_counts=True)
    return int(counts.size), int((counts * (counts - 1) // 2).sum())


def key_space(key: Any, *, n_samples: int = 4096, seed: int = 0) -> KeySpace:
    """Key space in bits: the number of distinct gather maps of keys like ``key``.

    Parameters
    ----------
    key : any key of vortexnumba
        Only its kind, grid, block size, channels, mode, number of vortices and
        strength matter (the strength is a public setting, not key material).
    n_samples : int
        Weight draws per (radius, family) for the vortex estimate.
    seed : int
        Seed of those draws.

    Returns
    -------
    KeySpace

    Notes
    -----
    Permutation key: ``log2(N!)`` exactly. Block key: ``log2(T!)`` with
    ``T = HW / B^2`` tiles, exactly (distinct tile orders give distinct maps).

    Value-changing keys, exactly (distinct parameters give distinct element
    plans, except EtC's rotation/flip pairs, counted as the 8 symmetries of
    a square): LE ``(2d)!`` for ``d = M*M*C``; ELE ``((2d)!)^n * n!`` for ``n``
    blocks; EtC ``n! * 8^n * C(n, floor(n/2)) * (C!)^n``; PE
    ``(2^C * C!)^(HW)``; block-wise ``d!`` times ``C(d, floor(d/2))`` with
    negation and ``n!`` with block shuffling.

    Vortex key, an **estimate**. A vortex's map depends on its centre only
    through its radius (the disc just moves), and on its six real weights only
    through a few rounded integers: the turn ``m_k`` of each ring (bijective)
    or the rounded source coordinates (paper). For every radius ``r`` and
    family, ``n_samples`` weight vectors are drawn uniformly from ``[-2, 0)^6``
    and the resulting local maps compared: the number of pairs of draws that
    give the same map estimates the collision probability ``P_r``. With
    centres uniform over the ``|C|`` valid ones, one vortex's collision
    probability is ``sum_c P_r(c) / |C|^2`` (maps at different centres
    counted as different), and ``bits`` is the sum over vortices of
    ``-log2`` of that: the collision (Renyi-2) entropy, the number of maps a
    guesser effectively faces. Composition can only merge maps, so this is an
    upper estimate for a whole key. Where no two draws collided, ``1 / P_r``
    is replaced by ``n_samples^2 / 2`` -- a floor, reported in ``details``
    (``"saturated"``), which then makes ``bits`` a lower estimate for that
    radius. ``parameter_bits`` counts what a reader of the parameters would
    claim: the centre choice plus 6 x 53 bits of weights per vortex.

    Examples
    --------
    >>> import vortexnumba as vn
    >>> round(key_space(vn.PermutationKey.random((4, 4), seed=0)).bits, 3)
    44.25
    """
    check_key_arg(key)
    n = key.n_pixels
    if isinstance(key, (LEKey, ELEKey, EtCKey, PEKey, BlockwiseKey)):
        return _scheme_key_space(key)
    if isinstance(key, IdentityKey):
        return KeySpace(0.0, True, "one map", 0.0)
    if isinstance(key, PermutationKey):
        b = _log2_factorial(n)
        return KeySpace(b, True, "log2(N!) with N = H*W: every permutation is a key", b)
    if isinstance(key, BlockKey):
        tiles = n // (key.block * key.block)
        b = _log2_factorial(tiles)
        return KeySpace(b, True, f"log2(T!) with T = {tiles} tiles of {key.block}x{key.block}", b)
    n_samples = as_int(n_samples, "n_samples")
    if n_samples < 2:
        raise ValueError(f"n_samples must be >= 2, got {n_samples}")
    rng = np.random.default_rng(as_seed(seed))
    h, w = key.shape
    cy, cx = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    radii = np.minimum(np.minimum(cy, cx), np.minimum(h - 1 - cy, w - 1 - cx)).ravel()
    radii = radii[radii >= 1]
    n_centres = radii.size
    if n_centres == 0 or not key.vortices:
        return KeySpace(0.0, True, "no vortex: one map", 0.0)
    pairs = n_samples * (n_samples - 1) / 2
    cache = {}
    details = []
    total_bits = 0.0
    for v in key.vortices:
        coll_sum = 0.0
        for r, count in zip(*np.unique(radii, return_counts=True), strict=True):
            r = int(r)
            ck = (r, v.family, v.strength)
            if ck not in cache:
                weights = rng.uniform(-2.0, 0.0, (n_samples, 6))
                distinct, collisions = _distinct_and_collisions(
                    _vortex_signatures(key.mode, r, v.family, v.strength, weights))
                saturated = collisions == 0
                p = 1.0 / pairs if saturated else collisions / pairs
                cache[ck] = p
                details.append({"radius": r, "family": v.family, "distinct": distinct,
                                "collision_pairs": collisions, "bits": -math.log2(p), "saturated": saturated})
            coll_sum += count * cache[ck]
        total_bits += -math.log2(coll_sum / n_centres**2)
    param_bits = len(key.vortices) * (math.log2(n_centres) + 6 * 53)
    method = (f"estimate: collision entropy of each vortex's map from {n_samples} sampled weight vectors "
              "per radius and family (see key_space's Notes), summed over vortices")
    return KeySpace(total_bits, False, method, param_bits, tuple(details))
