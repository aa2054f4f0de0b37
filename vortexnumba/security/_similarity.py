"""What a ciphertext-only attacker measures: how alike two grid positions are across the ciphertexts.

A fixed spatial map moves the same pixel to the same place in every image, so
the statistics of a *position* across many ciphertexts are the statistics of
its source pixel. Two positions whose sources were neighbours hold similar
values in every image. :func:`position_similarity` turns the ciphertexts into
a dense ``N x N`` matrix of that similarity, the only thing the vortex attack
(:mod:`vortexnumba.security._vortex_attack`) looks at;
:func:`position_covariance` is what the pixel attack
(:mod:`vortexnumba.security._permutation_attack`) starts from.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validate import as_int, plain_list
from ._permutation_attack import pixel_compatibilities

#: Largest grid the dense similarity matrix is built for (64 x 64 = 4096 positions: 128 MiB).
MAX_POSITIONS = 4096
#: Fewest ciphertexts (times channels) the correlation similarity is defined for.
MIN_FOR_CORRELATION = 3
SIMILARITIES = ("correlation", "difference", "partial")


def as_ciphertexts(ciphertexts: Any, channel_axis: int | None = None, name: str = "ciphertexts") -> np.ndarray:
    """Check a batch of ciphertexts; return it as ``(B, H, W, C)`` (a view where possible).

    ``channel_axis`` is None for ``(B, H, W)`` and -1 (or 3) for ``(B, H, W, C)``.
    """
    arr = np.asarray(ciphertexts)
    if arr.dtype == object or arr.dtype.kind not in "uif":
        raise TypeError(f"{name} must be a numeric array (uint8 or float), got dtype {arr.dtype}")
    if channel_axis is None:
        if arr.ndim != 3:
            raise ValueError(f"{name} must be a batch (B, H, W) when channel_axis=None, got shape {arr.shape}; "
                             "for colour images pass channel_axis=-1")
        arr = arr[..., None]
    else:
        axis = as_int(channel_axis, "channel_axis")
        if arr.ndim != 4 or axis not in (-1, 3):
            raise ValueError(f"{name} must be a batch (B, H, W, C) with channel_axis=-1, got shape {arr.shape} "
                             f"and channel_axis={channel_axis!r}")
    b, h, w, _ = arr.shape
    if b == 0 or h == 0 or w == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    if h * w > MAX_POSITIONS:
        raise ValueError(f"{name} has {h}x{w} = {h * w} positions; the attack builds a dense similarity matrix "
                         f"and accepts at most {MAX_POSITIONS} (downscale the images, e.g. to 64x64)")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    return arr


def position_moments(ciphertexts: np.ndarray, *, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sums over a batch ``(B, H, W, C)`` of every position's values, squares and pairwise products.

    Values are read as value / 255 for uint8 (as they are for floats); each
    image and channel is one observation of the ``N = H * W`` positions.

    Returns
    -------
    total, sq : ndarray (N,) float64
    gram : ndarray (N, N) float64
        ``gram[a, b]`` = sum over observations of ``x_a * x_b`` (products in
        float32 per chunk of images, summed in float64 across chunks).
    """
    x = ciphertexts
    b, h, w, c = x.shape
    n = h * w
    scale = 255.0 if x.dtype == np.uint8 else 1.0
    total = np.zeros(n)
    gram = np.zeros((n, n))
    sq = np.zeros(n)
    for start in range(0, b, chunk):
        part = x[start:start + chunk]
        # (N, chunk * C) in float32: products of values in [0, 1], summed in float64 across chunks
        f = np.ascontiguousarray(np.moveaxis(part.reshape(part.shape[0], n, c), 1, 0).reshape(n, -1),
                                 dtype=np.float32)
        if scale != 1.0:
            f /= np.float32(scale)
        total += f.sum(axis=1, dtype=np.float64)
        sq += np.einsum("ij,ij->i", f, f, dtype=np.float64)
        gram += (f @ f.T).astype(np.float64)
    return total, sq, gram


def position_covariance(ciphertexts: np.ndarray, *, chunk: int = 4096) -> np.ndarray:
    """Covariance ``(N, N)`` of the positions' values across a batch ``(B, H, W, C)`` (see
    :func:`position_moments`; uint8 read as value / 255)."""
    b, _, _, c = ciphertexts.shape
    total, _, gram = position_moments(ciphertexts, chunk=chunk)
    d = b * c
    mean = total / d
    cov = gram / d - np.outer(mean, mean)
    return (cov + cov.T) / 2


def position_similarity(ciphertexts: np.ndarray, *, similarity: str = "correlation", rows: Any = None,
                        chunk: int = 4096) -> np.ndarray:
    """Similarity ``S[a, b]`` of every pair of grid positions across a batch ``(B, H, W, C)``.

    Parameters
    ----------
    ciphertexts : ndarray (B, H, W, C)
        From :func:`as_ciphertexts`.
    similarity : {"correlation", "difference"}
        ``"correlation"``: Pearson correlation of the two positions' values
        over all images and channels (positions that never change get 0 with
        every other). Needs at least :data:`MIN_FOR_CORRELATION` values per position.
        ``"difference"``: minus the mean squared difference of the values
        (scaled to [0, 1]); defined for a single image, which is how one
        photograph is attacked. ``"partial"``: the pixel attack's
        compatibility (partial correlations plus the diagonal term from
        shared neighbours, :mod:`._permutation_attack`), sharper than plain
        correlations for a few hundred ciphertexts or more.
    rows : slice or index array, optional
        Use only these images.
    chunk : int
        Images per matrix product (bounds the memory to ``chunk x N`` floats).

    Returns
    -------
    ndarray (N, N) float64, symmetric, with the diagonal set to the largest value.
    """
    if similarity not in SIMILARITIES:
        raise ValueError(f"similarity must be one of {plain_list(SIMILARITIES)}, got {similarity!r}")
    x = ciphertexts if rows is None else ciphertexts[rows]
    b, h, w, c = x.shape
    n = h * w
    d = b * c
    if similarity != "difference" and d < MIN_FOR_CORRELATION:
        raise ValueError(f"similarity='correlation' needs at least {MIN_FOR_CORRELATION} values per position "
                         f"(ciphertexts x channels), got {d}; give more ciphertexts or use similarity='difference'")
    if similarity == "partial":
        edge, diag = pixel_compatibilities(position_covariance(x, chunk=chunk))
        return (edge + diag).astype(np.float32)
    total, sq, gram = position_moments(x, chunk=chunk)
    if similarity == "difference":
        out = -(sq[:, None] + sq[None, :] - 2.0 * gram) / d
        np.fill_diagonal(out, 0.0)
        return np.minimum(out, 0.0).astype(np.float32)
    mean = total / d
    cov = gram / d - np.outer(mean, mean)
    var = np.clip(np.diag(cov).copy(), 0.0, None)
    std = np.sqrt(var)
    live = std > 1e-12 * max(1.0, float(std.max(initial=0.0)))
    out = np.zeros((n, n))
    if live.any():
        s = std[live]
        out[np.ix_(live, live)] = np.clip(cov[np.ix_(live, live)] / np.outer(s, s), -1.0, 1.0)
    np.fill_diagonal(out, 1.0)
    return out.astype(np.float32)
