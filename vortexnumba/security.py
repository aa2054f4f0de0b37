"""How much a fixed spatial map hides: the standard cipher metrics and the known-plaintext attack.

Every key of vortexnumba (vortex, permutation, block) moves pixels and never
changes a value. This module measures what that does and does not protect, in
the terms image-encryption papers use:

- :func:`adjacent_correlation` -- correlation of horizontally, vertically and
  diagonally adjacent pixels over a data set (high for natural images; a good
  cipher brings it near 0).
- :func:`histogram`, :func:`shannon_entropy` -- the value histogram and its
  entropy. A permutation of the pixels keeps the multiset of values, hence the
  histogram of every image exactly, hence its entropy: no pixel-moving cipher
  can flatten a histogram.
- :func:`npcr_uaci`, :func:`plaintext_sensitivity`, :func:`key_sensitivity` --
  NPCR and UACI between two cipher images: of two plain images that differ in
  one pixel (diffusion), and of one image under two keys that differ in one
  parameter (key sensitivity). A map that only moves pixels changes exactly
  one output pixel when one input pixel changes, so its plaintext NPCR is
  ``100 / N`` percent.
- :func:`key_space` -- the number of distinct index maps a key kind can stand
  for, in bits (exact for permutation and block keys, a sampled estimate for
  vortex keys).
- :func:`recover_index`, :func:`chosen_plaintext`, :func:`pairs_to_recover` --
  the known- and chosen-plaintext attacks on any fixed gather map.

Everything here is vectorised NumPy; no kernel is compiled.

References
----------
.. [1] Y. Wu, J. P. Noonan, S. Agaian, "NPCR and UACI randomness tests for
   image encryption", Cyber Journals: JSAT, April 2011, pp. 31-38.
.. [2] G. Chen, Y. Mao, C. K. Chui, "A symmetric image encryption scheme based
   on 3D chaotic cat maps", Chaos, Solitons & Fractals 21 (2004) 749-761
   (adjacent-pixel correlation, histogram and key-sensitivity tests).
.. [3] C. E. Shannon, "A mathematical theory of communication", Bell System
   Technical Journal 27 (1948) 379-423.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ._gather import encrypt
from ._vortex import family_values, round_half_away_array
from ._keys import BlockKey, IdentityKey, PermutationKey, VortexKey, _as_int, _as_seed
from ._validate import as_grid_shape, as_image_batch, as_pixel_array, as_position

__all__ = [
    "DIRECTIONS",
    "KeySpace",
    "adjacent_correlation",
    "adjacent_pairs",
    "chosen_plaintext",
    "histogram",
    "key_sensitivity",
    "key_space",
    "npcr_uaci",
    "pairs_to_recover",
    "perturb_key",
    "plaintext_sensitivity",
    "recover_index",
    "shannon_entropy",
]

#: Neighbour offsets (di, dj) of the three adjacent-pixel directions.
DIRECTIONS = {"horizontal": (0, 1), "vertical": (1, 0), "diagonal": (1, 1)}

_KEY_TYPES = (VortexKey, PermutationKey, BlockKey, IdentityKey)


def _check_key(key, name="key"):
    if not isinstance(key, _KEY_TYPES):
        raise TypeError(f"{name} must be a VortexKey, PermutationKey, BlockKey or IdentityKey, "
                        f"got {type(key).__name__}")
    return key


def _full_scale(dtype: np.dtype) -> float:
    """Largest pixel value F of the UACI denominator: 255 for uint8, 1 for floats in [0, 1]."""
    return 255.0 if dtype == np.uint8 else 1.0


# --------------------------------------------------------------------------- correlation

def adjacent_pairs(images, direction="horizontal", *, channels=None):
    """All pairs of adjacent pixel values of a data set, as two flat float arrays.

    Parameters
    ----------
    images : array_like
        ``(H, W)``, ``(H, W, C)``, ``(B, H, W)`` or ``(B, H, W, C)``; uint8
        (read as value/255) or float.
    direction : {"horizontal", "vertical", "diagonal"}
        Neighbour ``(i, j + 1)``, ``(i + 1, j)`` or ``(i + 1, j + 1)``.
    channels : bool, optional
        ``True`` reads a 3-D array as one ``(H, W, C)`` image, ``False`` as a
        batch ``(B, H, W)``; by default a last axis of at most 4 that is
        shorter than both others means channels, anything else a batch.

    Returns
    -------
    first, second : ndarray of float64
        Values of every pixel and of its neighbour, over all images and channels.

    Examples
    --------
    >>> import numpy as np
    >>> a, b = adjacent_pairs(np.array([[0.0, 0.5, 1.0]]), "horizontal")
    >>> a.tolist(), b.tolist()
    ([0.0, 0.5], [0.5, 1.0])
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {tuple(DIRECTIONS)}, got {direction!r}")
    x4, _ = as_image_batch(images, "images", channels=channels)
    di, dj = DIRECTIONS[direction]
    _, h, w, _ = x4.shape
    first = x4[:, : h - di, : w - dj, :]
    second = x4[:, di:, dj:, :]
    scale = 255.0 if x4.dtype == np.uint8 else 1.0
    return (first.astype(np.float64).ravel() / scale, second.astype(np.float64).ravel() / scale)


def adjacent_correlation(images, *, channels=None) -> dict:
    """Pearson correlation of adjacent pixel values, pooled over a data set.

    Every adjacent pair of every image (and channel) counts, so the result is
    deterministic (no random sample of pairs as in [1]_, which estimates the
    same number).

    Parameters
    ----------
    images : array_like
        ``(H, W)``, ``(H, W, C)``, ``(B, H, W)`` or ``(B, H, W, C)``; uint8 or float.
    channels : bool, optional
        How to read a 3-D array (as for :func:`adjacent_pairs`).

    Returns
    -------
    dict
        ``{"horizontal": r_h, "vertical": r_v, "diagonal": r_d}``. A direction
        with no pairs (a grid one pixel wide) or with constant values has no
        correlation and gives NaN.

    References
    ----------
    .. [1] G. Chen, Y. Mao, C. K. Chui, Chaos, Solitons & Fractals 21 (2004) 749-761.

    Examples
    --------
    >>> import numpy as np
    >>> ramp = np.tile(np.linspace(0, 1, 8), (8, 1))
    >>> round(adjacent_correlation(ramp)["horizontal"], 6)
    1.0
    """
    out = {}
    for direction in DIRECTIONS:
        a, b = adjacent_pairs(images, direction, channels=channels)
        if a.size < 2:
            out[direction] = float("nan")
            continue
        da = a - a.mean()
        db = b - b.mean()
        denom = math.sqrt(float(np.dot(da, da)) * float(np.dot(db, db)))
        out[direction] = float(np.dot(da, db) / denom) if denom > 0 else float("nan")
    return out


# --------------------------------------------------------------------------- histogram / entropy

def histogram(images, bins: int = 256, *, channels=None) -> np.ndarray:
    """Counts of pixel values over a data set.

    A pixel-moving cipher keeps every image's multiset of values, so
    ``histogram(encrypt(x, key)) == histogram(x)`` exactly for every
    permutation key (a lossy paper-mode key may change it).

    Parameters
    ----------
    images : array_like
        uint8 (one bin per value when ``bins == 256``) or float in ``[0, 1]``.
    bins : int
        Number of equal bins over ``[0, 1]`` (uint8 read as value/255).
    channels : bool, optional
        Accepted like the other metrics' argument; the counts do not depend on
        how the array splits into images and channels.

    Returns
    -------
    ndarray of int64, shape (bins,)

    Examples
    --------
    >>> import numpy as np
    >>> histogram(np.array([[0, 0], [255, 7]], dtype=np.uint8))[[0, 7, 255]].tolist()
    [2, 1, 1]
    """
    bins = _as_int(bins, "bins")
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    # The histogram does not depend on how the array splits into images and channels.
    x4 = as_pixel_array(images, "images")
    if x4.ndim not in (2, 3, 4):
        raise ValueError(f"images must be (H, W), (H, W, C), (B, H, W) or (B, H, W, C), got shape {x4.shape}")
    if x4.dtype == np.uint8:
        counts = np.bincount(x4.ravel(), minlength=256).astype(np.int64)
        if bins == 256:
            return counts
        edges = np.minimum((np.arange(256) * bins) // 256, bins - 1)
        return np.bincount(edges, weights=counts, minlength=bins).astype(np.int64)
    flat = x4.ravel()
    lo, hi = float(flat.min()), float(flat.max())
    if lo < 0.0 or hi > 1.0:
        raise ValueError(f"float images must lie in [0, 1] for a histogram, got values from {lo} to {hi}")
    idx = np.minimum((flat.astype(np.float64) * bins).astype(np.int64), bins - 1)
    return np.bincount(idx, minlength=bins).astype(np.int64)


def shannon_entropy(images, bins: int = 256, *, channels=None) -> float:
    """Shannon entropy, in bits, of the value histogram of a data set [1]_.

    ``H = -sum_v p_v log2 p_v`` over the ``bins`` value classes; at most
    ``log2(bins)`` (8 bits for uint8). Since every permutation keeps the
    histogram, it keeps the entropy too.

    References
    ----------
    .. [1] C. E. Shannon, Bell System Technical Journal 27 (1948) 379-423.

    Examples
    --------
    >>> import numpy as np
    >>> shannon_entropy(np.arange(256, dtype=np.uint8).reshape(16, 16))
    8.0
    """
    counts = histogram(images, bins, channels=channels)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum()) + 0.0


# --------------------------------------------------------------------------- NPCR / UACI

def npcr_uaci(cipher1, cipher2, *, channels=None):
    """NPCR and UACI, in percent, between two cipher images (or two batches) [1]_.

    With ``D(i, j) = 1`` where the two differ and ``F`` the largest value
    (255 for uint8, 1 for float images in ``[0, 1]``), over all ``M``
    pixel values (every channel counts)::

        NPCR = 100 * sum D / M
        UACI = 100 * sum |c1 - c2| / (F * M)

    An ideal cipher of uint8 images gives NPCR ~ 99.61 % and UACI ~ 33.46 %.

    Parameters
    ----------
    cipher1, cipher2 : array_like
        Same shape and dtype; uint8 or float in [0, 1].

    Returns
    -------
    npcr, uaci : float

    References
    ----------
    .. [1] Y. Wu, J. P. Noonan, S. Agaian, "NPCR and UACI randomness tests for
       image encryption", Cyber Journals: JSAT, April 2011, pp. 31-38.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.zeros((2, 2), dtype=np.uint8); b = a.copy(); b[0, 0] = 255
    >>> npcr_uaci(a, b)
    (25.0, 25.0)
    """
    a4, _ = as_image_batch(cipher1, "cipher1", channels=channels)
    b4, _ = as_image_batch(cipher2, "cipher2", channels=channels)
    if a4.shape != b4.shape:
        raise ValueError(f"cipher1 and cipher2 must have the same shape, got {np.shape(cipher1)} and "
                         f"{np.shape(cipher2)}")
    if a4.dtype != b4.dtype:
        raise TypeError(f"cipher1 and cipher2 must have the same dtype, got {a4.dtype} and {b4.dtype}")
    diff = np.abs(a4.astype(np.float64) - b4.astype(np.float64))
    npcr = 100.0 * float(np.count_nonzero(a4 != b4)) / a4.size
    uaci = 100.0 * float(diff.sum()) / (_full_scale(a4.dtype) * a4.size)
    return npcr, uaci


def plaintext_sensitivity(image, key, position=None, *, channels=None):
    """NPCR and UACI between the encryptions of an image and of a copy changed in one pixel.

    The changed pixel gets the value farthest from its own (``v -> 255 - v``
    for uint8, ``v -> 1 - v`` for floats, so it always changes; a value
    of exactly 0.5 becomes 0), in every channel.

    Parameters
    ----------
    image : array_like
        One image ``(H, W)`` or ``(H, W, C)`` on the key's grid.
    key : VortexKey, PermutationKey, BlockKey or IdentityKey
    position : (int, int) or int, optional
        The pixel to change; default the centre of the grid.

    Returns
    -------
    npcr, uaci : float
        For any bijective key, NPCR is exactly ``100 / N``: one input pixel
        changes one output pixel.

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> key = vn.VortexKey.random((8, 8), seed=0)
    >>> npcr, uaci = plaintext_sensitivity(np.zeros((8, 8), np.uint8), key)
    >>> npcr == 100 / 64
    True
    """
    _check_key(key)
    x4, is_batch = as_image_batch(image, "image", grid=key.shape, channels=channels)
    if is_batch:
        raise ValueError(f"image must be one image (H, W) or (H, W, C), got shape {np.shape(image)}")
    h, w = key.shape
    q = as_position((h // 2, w // 2) if position is None else position, (h, w), "position")
    other = np.array(x4[0], copy=True)
    i, j = divmod(q, w)
    if other.dtype == np.uint8:
        other[i, j] = 255 - other[i, j]
    else:
        v = other[i, j]
        other[i, j] = np.where(v == 0.5, 0.0, 1.0 - v)
    return npcr_uaci(encrypt(x4[0], key, channels=True), encrypt(other, key, channels=True), channels=True)


def _moved_centre(key: VortexKey, vortex: int):
    h, w = key.shape
    v = key.vortices[vortex]
    cy, cx = v.centre
    for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        ny, nx = cy + dy, cx + dx
        if min(ny, nx, h - 1 - ny, w - 1 - nx) >= v.radius:
            return replace(v, centre=(ny, nx))
    raise ValueError(f"vortex {vortex}: no one-pixel move of centre {v.centre} keeps its disc of radius "
                     f"{v.radius} inside the {h}x{w} grid")


def perturb_key(key, parameter: str, *, vortex: int = 0, delta: float | None = None):
    """A key that differs from ``key`` in one parameter (for key-sensitivity tests).

    Parameters
    ----------
    key : VortexKey, PermutationKey or BlockKey
    parameter : str
        Vortex keys: ``"weight"`` (first weight of the vortex plus ``delta``,
        default 1e-6), ``"weight-ulp"`` (that weight moved by one unit in the
        last place), ``"strength"`` (plus ``delta``, default 1e-6) or
        ``"centre"`` (moved by one pixel, to the first of right, left, down,
        up that keeps the disc inside the grid). Permutation and block keys:
        ``"swap"`` (the first two entries of the permutation or tile order
        trade places: the smallest change such a key allows).
    vortex : int
        Which vortex of a vortex key to change (0-based).
    delta : float, optional

    Returns
    -------
    key of the same type

    Examples
    --------
    >>> import vortexnumba as vn
    >>> key = vn.VortexKey.random((28, 28), seed=0)
    >>> perturb_key(key, "strength").vortices[0].strength - 0.8
    1.0000000000287557e-06
    """
    _check_key(key)
    if isinstance(key, VortexKey):
        allowed = ("weight", "weight-ulp", "strength", "centre")
        if parameter not in allowed:
            raise ValueError(f"parameter must be one of {allowed} for a vortex key, got {parameter!r}")
        vortex = _as_int(vortex, "vortex")
        if not 0 <= vortex < len(key.vortices):
            raise ValueError(f"vortex must lie in 0..{len(key.vortices) - 1}, got {vortex}")
        v = key.vortices[vortex]
        if parameter == "centre":
            new = _moved_centre(key, vortex)
        elif parameter == "weight-ulp":
            new = replace(v, weights=(float(np.nextafter(v.weights[0], np.inf)),) + v.weights[1:])
        else:
            d = 1e-6 if delta is None else float(delta)
            if not math.isfinite(d) or d == 0:
                raise ValueError(f"delta must be a finite non-zero number, got {delta!r}")
            if parameter == "weight":
                new = replace(v, weights=(v.weights[0] + d,) + v.weights[1:])
            else:
                new = replace(v, strength=v.strength + d)
        vortices = key.vortices[:vortex] + (new,) + key.vortices[vortex + 1:]
        return VortexKey(key.shape, key.mode, vortices)
    if isinstance(key, (PermutationKey, BlockKey)):
        if parameter != "swap":
            raise ValueError(f"parameter must be 'swap' for a {key.kind} key, got {parameter!r}")
        perm = np.array(key.permutation if isinstance(key, PermutationKey) else key.order)
        if perm.size < 2:
            raise ValueError(f"a {key.kind} key with a single entry has nothing to swap")
        perm[[0, 1]] = perm[[1, 0]]
        if isinstance(key, PermutationKey):
            return PermutationKey(key.shape, perm)
        return BlockKey(key.shape, key.block, perm)
    raise ValueError("an identity key has no parameter to change")


def key_sensitivity(images, key, parameter: str, *, vortex: int = 0, delta=None, channels=None) -> dict:
    """NPCR/UACI between encryptions of the same images under ``key`` and a one-parameter change of it.

    Parameters
    ----------
    images : array_like
        Images on the key's grid (one or a batch), uint8 or float in [0, 1].
    key, parameter, vortex, delta
        As for :func:`perturb_key`.

    Returns
    -------
    dict
        ``npcr`` and ``uaci`` (percent, over all images), ``map_changed``:
        the fraction of output positions whose source differs between the two
        keys' gather indices.

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> key = vn.VortexKey.random((28, 28), seed=0)
    >>> x = np.random.default_rng(0).integers(0, 256, (4, 28, 28), dtype=np.uint8)
    >>> key_sensitivity(x, key, "weight-ulp")["map_changed"]
    0.0
    """
    other = perturb_key(key, parameter, vortex=vortex, delta=delta)
    as_image_batch(images, "images", grid=key.shape, channels=channels)  # validate once, clearly
    npcr, uaci = npcr_uaci(encrypt(images, key, channels=channels), encrypt(images, other, channels=channels),
                           channels=channels)
    changed = float(np.count_nonzero(key.src != other.src)) / key.n_pixels
    return {"npcr": npcr, "uaci": uaci, "map_changed": changed}


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


def _ring_sizes(r: int) -> np.ndarray:
    """Pixels in ring k = round(|p - c|), k = 0..r, of a disc of radius r."""
    d = np.arange(-r, r + 1)
    k = np.floor(np.hypot(d[:, None], d[None, :]) + 0.5).astype(np.int64)  # no exact halves occur
    return np.bincount(k[k <= r], minlength=r + 1)


def _vortex_signatures(mode: str, r: int, family: int, strength: float, weights: np.ndarray) -> np.ndarray:
    """One row per weight draw that fixes the vortex's local map (equal rows <=> equal maps).

    Bijective: the turn ``m_k`` of every ring 1..r-1 (ring r never turns).
    Paper: the rounded source coordinates of every pixel of the square.
    Both use the geometry's own family functions and rounding (vortexnumba._vortex).
    """
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    if mode == "bijective":
        if r == 1:
            return np.zeros((weights.shape[0], 1), dtype=np.int64)
        k = np.arange(1, r)
        n_k = _ring_sizes(r)[1:r]
        phi = (r - k)[None, :] * strength * family_values(family, weights, k / r)
        return np.mod(round_half_away_array(phi * n_k / (2 * math.pi)), n_k)
    side = 2 * r + 1
    half = side / 2.0
    x = np.arange(1, side + 1) - half
    xo, yo = np.meshgrid(x, x, indexing="ij")
    rho = np.hypot(xo, yo)
    inside = rho <= r
    rho, xo, yo = rho[inside], xo[inside], yo[inside]
    k = round_half_away_array(rho)
    swirl = strength * family_values(family, weights, np.arange(0, r + 1) / r)  # F((k-1)/r), k = 1..r+1
    ang = np.arctan2(yo, xo)[None, :] + (r - k)[None, :] * swirl[:, k - 1]
    xs = round_half_away_array(rho * np.cos(ang) + half)
    ys = round_half_away_array(rho * np.sin(ang) + half)
    return xs * (side + 1) + ys


def _distinct_and_collisions(rows: np.ndarray):
    rows = np.ascontiguousarray(rows)
    view = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    _, counts = np.unique(view, return_counts=True)
    return int(counts.size), int((counts * (counts - 1) // 2).sum())


def key_space(key, *, n_samples: int = 4096, seed: int = 0) -> KeySpace:
    """Key space in bits: the number of distinct gather maps of keys like ``key``.

    Parameters
    ----------
    key : VortexKey, PermutationKey, BlockKey or IdentityKey
        Only its kind, grid, block size, mode, number of vortices and
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
    _check_key(key)
    n = key.n_pixels
    if isinstance(key, IdentityKey):
        return KeySpace(0.0, True, "one map", 0.0)
    if isinstance(key, PermutationKey):
        b = _log2_factorial(n)
        return KeySpace(b, True, "log2(N!) with N = H*W: every permutation is a key", b)
    if isinstance(key, BlockKey):
        tiles = n // (key.block * key.block)
        b = _log2_factorial(tiles)
        return KeySpace(b, True, f"log2(T!) with T = {tiles} tiles of {key.block}x{key.block}", b)
    n_samples = _as_int(n_samples, "n_samples")
    if n_samples < 2:
        raise ValueError(f"n_samples must be >= 2, got {n_samples}")
    rng = np.random.default_rng(_as_seed(seed))
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
    for i, v in enumerate(key.vortices):
        coll_sum = 0.0
        for r, count in zip(*np.unique(radii, return_counts=True)):
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


# --------------------------------------------------------------------------- known-plaintext attack

def _pair_batches(plain, cipher, channels):
    if channels is None:
        channels = False  # pairs come as batches: a 3-D array is (B, H, W)
    p4, _ = as_image_batch(plain, "plain", channels=channels, allow_any_numeric=True)
    c4, _ = as_image_batch(cipher, "cipher", channels=channels, allow_any_numeric=True)
    if p4.shape != c4.shape:
        raise ValueError(f"plain and cipher must have the same shape (B, H, W[, C]), got {np.shape(plain)} and "
                         f"{np.shape(cipher)}")
    if p4.dtype != c4.dtype:
        raise TypeError(f"plain and cipher must have the same dtype, got {p4.dtype} and {c4.dtype}")
    return p4, c4


def _signatures(x4: np.ndarray) -> np.ndarray:
    """Each grid position's values across all images and channels, as one opaque byte string."""
    b, h, w, c = x4.shape
    rows = np.ascontiguousarray(np.moveaxis(x4, 0, 2).reshape(h * w, b * c))
    return rows.view(np.dtype((np.void, rows.dtype.itemsize * b * c))).ravel()


def recover_index(plain, cipher, *, channels=None):
    """Known-plaintext attack on a fixed spatial map: recover its gather index from pairs.

    For every grid position ``q`` the attacker writes down its *signature*:
    the values it holds in all plaintexts (every channel). Since
    ``cipher.flat[p] = plain.flat[src[p]]`` in every pair, output position
    ``p`` has the signature of ``src[p]``. Where exactly one plaintext
    position carries that signature, ``src[p]`` is found; where several do
    (e.g. pixels that are 0 in every known image), it stays ambiguous.

    Parameters
    ----------
    plain, cipher : array_like
        Plaintexts and their encryptions under one key: ``(B, H, W)`` or
        ``(B, H, W, C)`` (or one pair ``(H, W)``), same shape and dtype, any
        real dtype (values compared bit for bit).
    channels : bool, optional
        ``True`` reads a 3-D array as one ``(H, W, C)`` pair; by default it is
        a batch ``(B, H, W)`` of grey pairs.

    Returns
    -------
    index : ndarray of int64, shape (H * W,)
        The recovered ``src[p]``, or -1 where the pairs leave it ambiguous.
    n_ambiguous : int
        How many entries are -1.

    Raises
    ------
    ValueError
        If some cipher position's values occur at no plaintext position: no
        fixed gather map relates the pairs.

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> key = vn.PermutationKey.random((4, 4), seed=0)
    >>> x = np.random.default_rng(1).integers(0, 256, (3, 4, 4), dtype=np.uint8)
    >>> index, n_ambiguous = recover_index(x, vn.encrypt(x, key))
    >>> n_ambiguous, bool((index == key.src).all())
    (0, True)
    """
    p4, c4 = _pair_batches(plain, cipher, channels)
    n = p4.shape[1] * p4.shape[2]
    sig = np.concatenate([_signatures(p4), _signatures(c4)])
    _, labels = np.unique(sig, return_inverse=True)
    labels = labels.ravel()
    plain_labels, cipher_labels = labels[:n], labels[n:]
    n_labels = int(labels.max()) + 1
    count = np.bincount(plain_labels, minlength=n_labels)
    owner = np.full(n_labels, -1, dtype=np.int64)
    owner[plain_labels] = np.arange(n, dtype=np.int64)
    missing = count[cipher_labels] == 0
    if missing.any():
        p = int(np.flatnonzero(missing)[0])
        raise ValueError(f"cipher position {p} holds values found at no plaintext position: the pairs are not "
                         f"related by one fixed spatial map ({int(missing.sum())} such position(s))")
    index = np.where(count[cipher_labels] == 1, owner[cipher_labels], -1)
    return index, int(np.count_nonzero(index < 0))


def pairs_to_recover(plain, cipher, *, channels=None, target: float = 1.0):
    """How many of the given pairs, taken in order, the attack needs.

    Parameters
    ----------
    plain, cipher : array_like
        ``(B, H, W[, C])`` pairs as for :func:`recover_index`.
    target : float
        Fraction of positions in ``(0, 1]`` that must be recovered.

    Returns
    -------
    k : int or None
        The smallest ``k`` such that the first ``k`` pairs recover at least
        ``target`` of the positions (``None`` if all ``B`` pairs do not).
    recovered : ndarray of float64, shape (B,)
        Fraction of positions recovered by the first ``1, 2, ..., B`` pairs
        (computed until ``target`` is reached; NaN after).

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> key = vn.PermutationKey.random((4, 4), seed=0)
    >>> x = np.random.default_rng(1).integers(0, 256, (3, 4, 4), dtype=np.uint8)
    >>> k, curve = pairs_to_recover(x, vn.encrypt(x, key))
    >>> k, curve[:k].tolist()  # one pair repeats a value, so two positions stay ambiguous
    (2, [0.875, 1.0])
    """
    target = float(target)
    if not 0.0 < target <= 1.0:
        raise ValueError(f"target must lie in (0, 1], got {target}")
    p4, c4 = _pair_batches(plain, cipher, channels)
    b, h, w, _ = p4.shape
    n = h * w
    curve = np.full(b, np.nan)
    # refine position classes one pair at a time: a class splits by the new values
    labels = np.zeros(2 * n, dtype=np.int64)
    for k in range(b):
        values = np.concatenate([_signatures(p4[k : k + 1]), _signatures(c4[k : k + 1])])
        _, value_labels = np.unique(values, return_inverse=True)
        combined = labels * (int(value_labels.max()) + 1) + value_labels.ravel()
        _, labels = np.unique(combined, return_inverse=True)
        labels = labels.ravel()
        count = np.bincount(labels[:n], minlength=int(labels.max()) + 1)
        hits = count[labels[n:]]
        if (hits == 0).any():
            raise ValueError(f"pair {k}: the pairs are not related by one fixed spatial map")
        curve[k] = float(np.count_nonzero(hits == 1)) / n
        if curve[k] >= target:
            return k + 1, curve
    return None, curve


def chosen_plaintext(shape, *, layout: str = "images") -> np.ndarray:
    """Plaintexts whose pixels spell their own position, so that one encryption reveals any map.

    Position ``q`` holds the base-256 digits of ``q``; ``D = max(1, ceil(log256 N))``
    digits are needed. After encryption, output position ``p`` holds the
    digits of ``src[p]``, which :func:`recover_index` (or reading the digits)
    turns back into the whole gather index, with nothing ambiguous, whatever
    the map.

    Parameters
    ----------
    shape : (int, int)
        Grid ``(H, W)``.
    layout : {"images", "channels"}
        ``"images"``: ``D`` grey images ``(D, H, W)`` (digit ``d`` in image
        ``d``, least significant first); ``"channels"``: one image
        ``(H, W, D)`` (e.g. one 2-channel image for 28x28, one RGB image for
        up to 2**24 pixels).

    Returns
    -------
    ndarray of uint8

    Examples
    --------
    >>> import vortexnumba as vn
    >>> key = vn.VortexKey.random((28, 28), seed=5)
    >>> probe = chosen_plaintext((28, 28))
    >>> probe.shape
    (2, 28, 28)
    >>> index, n_ambiguous = recover_index(probe, vn.encrypt(probe, key))
    >>> n_ambiguous, bool((index == key.src).all())
    (0, True)
    """
    h, w = as_grid_shape(shape, "shape")
    if layout not in ("images", "channels"):
        raise ValueError(f"layout must be 'images' or 'channels', got {layout!r}")
    n = h * w
    digits = max(1, math.ceil(math.log(n, 256) - 1e-12)) if n > 1 else 1
    while 256**digits < n:  # guard against rounding in the logarithm
        digits += 1
    q = np.arange(n, dtype=np.int64)
    planes = np.stack([(q >> (8 * d)) & 0xFF for d in range(digits)]).astype(np.uint8).reshape(digits, h, w)
    return planes if layout == "images" else np.ascontiguousarray(np.moveaxis(planes, 0, -1))
