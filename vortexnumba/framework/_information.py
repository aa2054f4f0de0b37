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

import numpy as np
from numba import njit, prange

from ._kernels import Geometry, resolve, value_table
from ._loss import loss_from_hist, retention_from_hist
from ._pairs import code_histograms, code_values
from .._numba_helpers import value_similarity
from .._validate import as_image_batch, as_index

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
            ti = pi + full_di[o]
            tj = pj + full_dj[o]
            if ti < 0 or ti >= height or tj < 0 or tj >= width:
                continue
            s = value_similarity(x, 0, p, ti * width + tj, table, rate)
            out[p, full_bin[o]] += s * f_table[full_di[o] + reach, full_dj[o] + reach]
    return out


# ----------------------------------------------------------------------------- drivers


def _flat_pixels(batch: np.ndarray) -> np.ndarray:
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
    x = _flat_pixels(batch)
    geo = Geometry.of(kernel)
    table, rate = value_table(coupling, x.dtype, n_channels, power=2)
    return x, is_batch, height, width, geo, table, rate


def information_energy(image, kernel=None, coupling=None, *, channels=None):
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


def information_content(image, kernel=None, coupling=None, *, channels=None):
    """Information content ``I(X) = sqrt(E(X))``; see :func:`information_energy`.

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> vn.information_content(np.zeros((2, 2)))
    3.0
    """
    energy = information_energy(image, kernel, coupling, channels=channels)
    return np.sqrt(energy) if isinstance(energy, np.ndarray) else math.sqrt(energy)


def retention(images, src, kernel=None, coupling=None, *, channels=None):
    """Fraction ``rho`` of an image's neighbour information a gather index keeps.

    ``rho = inner / sqrt(E(X) E(Y))`` with ``Y.flat[p] = X.flat[src[p]]``: the
    cosine between the bonds of the pixels before and after they moved. It is
    1 for maps that keep every neighbour distance (flips, 180-degree turns) and
    below 1 for any other permutation (Theorem 1).

    Parameters
    ----------
    images : array_like
        One image ``(H, W[, C])`` or a batch ``(B, H, W[, C])``; uint8 or float.
    src : array_like of int
        ``(N,)`` gather index applied to every image, or ``(B, N)`` with one
        index per image (e.g. :func:`vortexnumba.shuffle_each`).
    kernel, coupling : optional
        Default ``Kernel.power(2, 3)`` and ``Coupling.gaussian(0.25)``.
    channels : bool, optional
        Disambiguates a 3-D array (see :func:`information_energy`).

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

    References
    ----------
    .. [1] Cao et al., arXiv:2411.16207, and ``proofs/theorems.md``.
    """
    return _from_histograms(images, src, kernel, coupling, channels, retention_from_hist)


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


def information_loss(images, src, kernel=None, coupling=None, *, channels=None):
    """Information loss rate ``L = 1 - rho``; see :func:`retention`.

    For a permutation the loss is computed directly, as the sum of squares
    ``0.5 || b/|b| - c/|c| ||**2``, not as ``1 - rho``: a loss of 1e-40 (one
    swap of weakly bonded pixels) comes out as 1e-40, not 0. Parameters and
    shapes as for :func:`retention`; the accuracy is stated in
    ``proofs/theorems.md`` (section 4). For maps that are not permutations it
    is ``1 - rho`` (which may be negative there).

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
    return _from_histograms(images, src, kernel, coupling, channels, loss_from_hist)


def neighbour_profile(image, kernel=None, coupling=None, *, channels=None):
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
    batch, is_batch = as_image_batch(image, "image", channels=True if np.ndim(image) == 3 and channels is None
                                     else channels)
    if is_batch:
        raise ValueError(f"image must be one image (H, W) or (H, W, C), got a batch of shape {np.shape(image)}")
    _, height, width, n_channels = batch.shape
    x = _flat_pixels(batch)
    geo = Geometry.of(kernel)
    table, rate = value_table(coupling, x.dtype, n_channels, power=1)
    prof = _profile_kernel(x, height, width, geo.reach, geo.f_table, geo.full_di, geo.full_dj, geo.full_bin,
                           geo.distances.shape[0], table, rate)
    return prof.reshape(height, width, -1), geo.distances.copy()
