"""Neighbour information of images and what a transformation keeps of it.

Definitions (see ``docs/framework.md`` and ``proofs/``): for pixels q != r the
bond is ``b_X(q, r) = s(X_q, X_r) f(|q - r|)``; the information energy is the
sum of squared bonds over ordered pairs and the information content its
square root. A gather index ``src`` (``Y.flat[p] = X.flat[src[p]]``) keeps the
fraction ``rho`` of it: the cosine between the bonds before and after the
pixels moved.

How it is computed
------------------
:mod:`._pairs` visits the pairs that can contribute and adds ``s**2`` into a
small histogram indexed by the pair's kernel values before and after the
move; :mod:`._loss` reduces the histogram to ``rho`` or to the loss ``1 - rho``
as non-negative combinations (``proofs/theorems.md``, section 4). Sums over
unordered pairs are half the ordered sums, which cancels in every ratio.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit, prange

from .._numba_helpers import neighbour_at, value_similarity
from .._validate import as_image_batch, as_index, as_one_image
from ._kernels import Coupling, Geometry, Kernel, resolve, value_table
from ._loss import loss_from_hist, retention_from_hist
from ._pairs import code_histograms, code_values
from ._tracked import tracked_inner, tracked_measure

__all__ = [
    "information_content",
    "information_energy",
    "information_loss",
    "neighbour_profile",
    "retention",
]

# ----------------------------------------------------------------------------- kernels


@njit(parallel=True, cache=True)
def _profile_kernel(x, height, width, reach, f_table, full_di, full_dj, full_bin, n_bins, table, rate):
    """``out[p, k] = sum of s(X_p, X_r) f(|p - r|)`` over the r at the k-th distance, in parallel
    over pixels. Naive twin: ``naive.profile``."""
    n = height * width
    out = np.zeros((n, n_bins))
    for p in prange(n):
        pi = p // width
        pj = p - pi * width
        for o in range(full_di.shape[0]):
            r = neighbour_at(pi, pj, full_di[o], full_dj[o], height, width)
            if r < 0:
                continue
            s = value_similarity(x, 0, p, r, table, rate)
            out[p, full_bin[o]] += s * f_table[full_di[o] + reach, full_dj[o] + reach]
    return out


# ----------------------------------------------------------------------------- drivers


def flat_pixels(batch: np.ndarray) -> np.ndarray:
    """(B, H, W, C) view -> C-contiguous (B, N, C) in the image's own dtype."""
    b, h, w, c = batch.shape
    if batch.dtype == np.float16:  # Numba has no float16 arithmetic: compute in float32 (exact widening)
        batch = batch.astype(np.float32)
    return np.ascontiguousarray(batch).reshape(b, h * w, c)


# Images per call of a histogram kernel: bounds the (images, n_codes) histograms.
_CHUNK_IMAGES = 4096


def _prepare(images, kernel, coupling, *, n_pixels=None, channels=None, name="images"):
    kernel, coupling = resolve(kernel, coupling)
    batch, is_batch = as_image_batch(images, name, n_pixels=n_pixels, channels=channels)
    _, height, width, n_channels = batch.shape
    x = flat_pixels(batch)
    geo = Geometry.of(kernel)
    table, rate = value_table(coupling, x.dtype, n_channels, power=2)
    return x, is_batch, height, width, geo, table, rate


def information_energy(image: Any, kernel: Kernel | None = None, coupling: Coupling | None = None, *,
                       channels: bool | None = None) -> float | np.ndarray:
    """Information energy ``E(X)``: the sum of squared bonds over ordered pairs.

    Parameters
    ----------
    image : array_like
        ``(H, W)`` or ``(H, W, C)``; uint8 is read as ``value / 255``, floats as
        given. A batch ``(B, H, W[, C])`` gives one energy per image.
    kernel : Kernel, optional
        Distance kernel f; default ``Kernel.power(2, 3)``.
    coupling : Coupling, optional
        Value coupling s; default ``Coupling.gaussian(0.25)``.
    channels : bool, optional
        For a 3-D array: ``True`` for ``(H, W, C)``, ``False`` for ``(B, H, W)``.

    Returns
    -------
    float or ndarray of shape (B,)

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> round(vn.information_energy(np.zeros((2, 2))), 6)  # 8 bonds at 1, 4 at 1/2
    9.0
    """
    x, is_batch, height, width, geo, table, rate = _prepare(image, kernel, coupling, channels=channels,
                                                             name="image")
    identity = np.arange(height * width, dtype=np.int64)[None]
    u, _ = code_values(geo.f_values)
    energy = np.empty(x.shape[0])
    for b0 in range(0, x.shape[0], _CHUNK_IMAGES):  # bounds the (images, codes) histograms
        hist, _ = code_histograms(x[b0:b0 + _CHUNK_IMAGES], identity, height, width, geo, table, rate)
        energy[b0:b0 + _CHUNK_IMAGES] = 2.0 * _row_dot(hist, u * u)
    return energy if is_batch else float(energy[0])


def information_content(image: Any, kernel: Kernel | None = None, coupling: Coupling | None = None, *,
                        channels: bool | None = None) -> float | np.ndarray:
    """Information content ``I(X) = sqrt(E(X))``; see :func:`information_energy`.

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> vn.information_content(np.zeros((2, 2)))
    3.0
    """
    energy = information_energy(image, kernel, coupling, channels=channels)
    return np.sqrt(energy) if isinstance(energy, np.ndarray) else math.sqrt(energy)


def retention(images: Any, src: Any, kernel: Kernel | None = None, coupling: Coupling | None = None, *,
              channels: bool | None = None, encrypted: Any = None) -> float | np.ndarray:
    """Fraction ``rho`` of an image's neighbour information a gather index or a key keeps.

    ``rho = inner / sqrt(E(X) E(Y))`` with ``Y.flat[p] = X.flat[src[p]]``: the
    cosine between the bonds of the pixels before and after they moved. It is
    1 for maps that keep every neighbour distance (flips, 180-degree turns) and
    below 1 for any other permutation (Theorem 1).

    A key that changes values (``key.is_spatial`` False: negation, channel
    shuffles, nibbles moved between pixels) is measured on the encrypted
    images ``Y = vortexnumba.encrypt(X, key)`` themselves, paired with ``X``
    through the key's pixel tracking map ``key.src``:
    ``inner = sum b_Y(p, p') b_X(src p, src p')`` over the ordered output
    pairs with ``src p != src p'`` (``docs/framework.md``). A spatial key
    gives exactly the result of its gather index ``key.src``.

    Parameters
    ----------
    images : array_like
        One image ``(H, W[, C])`` or a batch ``(B, H, W[, C])``; uint8 or float.
    src : array_like of int, or a key
        ``(N,)`` gather index applied to every image, or ``(B, N)`` with one
        index per image (e.g. :func:`vortexnumba.shuffle_each`); or a key
        (any object with ``src``; ``is_spatial`` is read as True when absent).
    kernel, coupling : optional
        Default ``Kernel.power(2, 3)`` and ``Coupling.gaussian(0.25)``.
    channels : bool, optional
        Disambiguates a 3-D array (see :func:`information_energy`).
    encrypted : array_like, optional
        For a key that is not spatial only: the images already encrypted
        with it (same shape as ``images``), so they are not encrypted again.

    Returns
    -------
    float, or ndarray of shape (B,) for a batch

    Notes
    -----
    Cost O(N R^2) per image. For a permutation the loss is evaluated in a
    sum-of-squares form that stays accurate when it is tiny.

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> img = np.arange(16, dtype=np.uint8).reshape(4, 4) * 16
    >>> flip = np.arange(16).reshape(4, 4)[:, ::-1].ravel()
    >>> vn.retention(img, flip)
    1.0
    >>> swap = np.arange(16); swap[[0, 5]] = [5, 0]
    >>> vn.retention(img, swap) < 1
    True
    >>> vn.retention(img, vn.PermutationKey.random((4, 4), seed=0)) == vn.retention(
    ...     img, vn.PermutationKey.random((4, 4), seed=0).src)
    True

    References
    ----------
    .. [1] Cao et al., arXiv:2411.16207, and ``proofs/theorems.md``.
    """
    key, src = _key_or_src(src, encrypted)
    if key is not None:
        return _tracked(images, key, kernel, coupling, channels, encrypted, loss=False)
    return _from_histograms(images, src, kernel, coupling, channels, retention_from_hist)


def _key_or_src(src: Any, encrypted: Any) -> tuple[Any, Any]:
    """``(key, None)`` for a key that changes values, else ``(None, gather index)``."""
    from ..cipher._protocol import is_spatial  # the one rule: a key without the attribute is spatial

    is_key = hasattr(src, "src") and not isinstance(src, np.ndarray)
    if is_key and not is_spatial(src):
        return src, None
    if encrypted is not None:
        raise ValueError("encrypted is only for keys that change values (key.is_spatial False); a gather index "
                         "or a spatial key is measured from its index alone: leave encrypted out")
    return None, (src.src if is_key else src)


def _tracked(images: Any, key: Any, kernel: Any, coupling: Any, channels: bool | None, encrypted: Any, *,
             loss: bool) -> float | np.ndarray:
    """rho or the loss of a key that changes values, from the encrypted images and ``key.src``."""
    kernel, coupling = resolve(kernel, coupling)
    track = np.asarray(key.src)
    n_pixels = track.shape[-1] if track.ndim == 1 else None
    if n_pixels is None:
        raise ValueError(f"key.src must be one tracking map of shape (N,), got shape {track.shape}")
    x, is_batch, height, width, geo, table, rate = _prepare(images, kernel, coupling, n_pixels=n_pixels,
                                                             channels=channels)
    track = as_index(track, "key.src", n=height * width)
    if encrypted is None:
        from ..cipher import encrypt  # the one engine that applies every key

        encrypted = encrypt(images, key, channels=channels)
    if np.shape(encrypted) != np.shape(images):
        raise ValueError(f"encrypted must have the shape of images, {np.shape(images)}, got shape "
                         f"{np.shape(encrypted)}")
    y4, _ = as_image_batch(encrypted, "encrypted", grid=(height, width),
                           channels=(not is_batch) if np.ndim(images) == 3 else None)
    y = flat_pixels(y4)
    table_x, rate_x = value_table(coupling, x.dtype, x.shape[2], power=1)
    table_y, rate_y = value_table(coupling, y.dtype, y.shape[2], power=1)
    energy_x = information_energy(x.reshape(x.shape[0], height, width, x.shape[2]), kernel, coupling)
    energy_y = information_energy(y.reshape(y.shape[0], height, width, y.shape[2]), kernel, coupling)
    inner = tracked_inner(x, y, track, height, width, geo.reach, geo.f_table, geo.full_di, geo.full_dj,
                          table_x, rate_x, table_y, rate_y)
    out = tracked_measure(energy_x, energy_y, inner, loss)
    return out if is_batch else float(out[0])


def _row_dot(rows: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``rows @ weights``, summed row by row in an order that does not depend on the row count.

    A BLAS matrix-vector product may block rows differently for different
    batch sizes, so an image's result could change in its last bit with the
    batch around it; NumPy's row reduction sums each row on its own.
    """
    return (rows * weights).sum(axis=1)


def _from_histograms(images, src, kernel, coupling, channels, finish):
    """Validate, build each image's code histogram and reduce it with ``finish``
    (:func:`retention_from_hist` or :func:`loss_from_hist`)."""
    src_arr = np.asarray(src) if not isinstance(src, (str, bytes)) else src
    n_pixels = getattr(src_arr, "shape", (None,))[-1] if getattr(src_arr, "ndim", 0) >= 1 else None
    if n_pixels is None:
        as_index(src_arr, "src")  # raises the right error
    if channels is None and src_arr.ndim == 2:
        channels = False  # one map per image: the input must be a batch
    x, is_batch, height, width, geo, table, rate = _prepare(images, kernel, coupling, n_pixels=n_pixels,
                                                             channels=channels)
    srcs = as_index(src_arr, "src", n=height * width, batch=x.shape[0] if is_batch else None)
    if srcs.ndim == 1:
        srcs = srcs[None]
    u, v = code_values(geo.f_values)
    identity = np.arange(height * width, dtype=np.int64)[None]
    out = np.empty(x.shape[0])
    for b0 in range(0, x.shape[0], _CHUNK_IMAGES):  # bounds the (images, codes) histograms
        b1 = min(x.shape[0], b0 + _CHUNK_IMAGES)
        chunk_srcs = srcs if srcs.shape[0] == 1 else srcs[b0:b1]
        hist, flags = code_histograms(x[b0:b1], chunk_srcs, height, width, geo, table, rate)
        energy_half = np.full(b1 - b0, np.nan)
        if not flags.all():
            # Non-bijective maps need E(X) on its own: their pair list covers only output neighbours.
            e_hist, _ = code_histograms(x[b0:b1], identity, height, width, geo, table, rate)
            is_perm = flags if chunk_srcs.shape[0] > 1 else np.repeat(flags, b1 - b0)
            energy_half[~is_perm] = _row_dot(e_hist[~is_perm], u * u)
        out[b0:b1] = finish(hist, u, v, energy_half)
    return out if is_batch else float(out[0])


def information_loss(images: Any, src: Any, kernel: Kernel | None = None, coupling: Coupling | None = None, *,
                     channels: bool | None = None, encrypted: Any = None) -> float | np.ndarray:
    """Information loss rate ``L = 1 - rho``; see :func:`retention`.

    For a permutation the loss is computed directly, as the sum of squares
    ``0.5 || b/|b| - c/|c| ||**2``, not as ``1 - rho``: a loss of 1e-40 (one
    swap of weakly bonded pixels) comes out as 1e-40, not 0. Parameters and
    shapes as for :func:`retention`; the accuracy is stated in
    ``proofs/theorems.md`` (section 4). For maps that are not permutations,
    and for keys that change values, it is ``1 - rho`` (which may be negative
    there).

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> vn.information_loss(np.zeros((3, 3)), np.arange(9)[::-1])  # a 180-degree turn
    0.0
    >>> img = np.zeros((64, 64)); img[10, 10] = 1.0  # one bright pixel
    >>> swap = np.arange(64 * 64); swap[[0, 1]] = [1, 0]  # swap two dark pixels in a corner
    >>> 0.0 < vn.information_loss(img, swap) < 1e-3 and 1.0 - vn.retention(img, swap) >= 0.0
    True
    """
    key, src = _key_or_src(src, encrypted)
    if key is not None:
        return _tracked(images, key, kernel, coupling, channels, encrypted, loss=True)
    return _from_histograms(images, src, kernel, coupling, channels, loss_from_hist)


def neighbour_profile(image: Any, kernel: Kernel | None = None, coupling: Coupling | None = None, *,
                      channels: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Neighbour information of every pixel at every distance.

    ``profile[i, j, k] = sum over r at distance distances[k] from (i, j) of
    s(X_q, X_r) f(|q - r|)``.

    Parameters
    ----------
    image : array_like
        ``(H, W)`` or ``(H, W, C)``, uint8 or float.
    kernel, coupling : optional
        Default ``Kernel.power(2, 3)`` and ``Coupling.gaussian(0.25)``.

    Returns
    -------
    profile : ndarray, shape (H, W, D)
    distances : ndarray, shape (D,)
        The sorted distinct distances ``0 < d <= R`` on the integer grid.

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> prof, d = vn.neighbour_profile(np.zeros((3, 3)), vn.Kernel.power(2, 1.5))
    >>> d.round(4).tolist(), prof[1, 1].round(12).tolist()
    ([1.0, 1.4142], [4.0, 2.0])
    """
    kernel, coupling = resolve(kernel, coupling)
    batch = as_one_image(image, "image", channels=True if np.ndim(image) == 3 and channels is None else channels)
    _, height, width, n_channels = batch.shape
    x = flat_pixels(batch)
    geo = Geometry.of(kernel)
    table, rate = value_table(coupling, x.dtype, n_channels, power=1)
    prof = _profile_kernel(x, height, width, geo.reach, geo.f_table, geo.full_di, geo.full_dj, geo.full_bin,
                           geo.distances.shape[0], table, rate)
    return prof.reshape(height, width, -1), geo.distances.copy()
