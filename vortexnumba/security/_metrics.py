"""Statistics of cipher images: adjacent-pixel correlation, histogram, entropy, NPCR/UACI."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validate import as_image_batch, as_int, as_pixel_array, plain_list
from ._common import DIRECTIONS, full_scale

# --------------------------------------------------------------------------- correlation

def adjacent_pairs(images: Any, direction: str = "horizontal", *,
                   channels: Any = None) -> tuple[np.ndarray, np.ndarray]:
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
        raise ValueError(f"direction must be one of {plain_list(DIRECTIONS)}, got {direction!r}")
    x4, _ = as_image_batch(images, "images", channels=channels)
    di, dj = DIRECTIONS[direction]
    _, h, w, _ = x4.shape
    first = x4[:, : h - di, : w - dj, :]
    second = x4[:, di:, dj:, :]
    scale = 255.0 if x4.dtype == np.uint8 else 1.0
    return (first.astype(np.float64).ravel() / scale, second.astype(np.float64).ravel() / scale)


def adjacent_correlation(images: Any, *, channels: Any = None) -> dict:
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

def histogram(images: Any, bins: int = 256, *, channels: Any = None) -> np.ndarray:
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
    bins = as_int(bins, "bins")
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


def shannon_entropy(images: Any, bins: int = 256, *, channels: Any = None) -> float:
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
    from scipy.stats import entropy

    counts = histogram(images, bins, channels=channels)
    return float(entropy(counts, base=2)) + 0.0


# --------------------------------------------------------------------------- NPCR / UACI

def npcr_uaci(cipher1: Any, cipher2: Any, *, channels: Any = None) -> tuple[float, float]:
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
    uaci = 100.0 * float(diff.sum()) / (full_scale(a4.dtype) * a4.size)
    return npcr, uaci
