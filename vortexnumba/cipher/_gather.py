"""The gather engine: apply a gather index to images, for every key and baseline.

``Y.flat[p] = X.flat[src[p]]`` for every channel of every image. This is the
only place where pixels move; keys (:mod:`vortexnumba.cipher._keys`) and the vortex
geometry (:mod:`vortexnumba.cipher._vortex`) only produce ``src``.

Pixels are moved as raw bits: an array of any real dtype is viewed as the
unsigned integer type of the same width, so one compiled kernel per width
serves every dtype (bool, int8..uint64, float16..float64) and the result is
bit-exact (NaN payloads and negative zeros included). The output is the only
allocation; nothing as large as the batch is ever created besides it.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .._validate import as_image_batch, as_index, native_dtype
from ._protocol import check_key

__all__ = ["apply_src", "decrypt", "encrypt"]

_UINT_BY_SIZE = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


@njit(cache=True, parallel=True)
def _gather_rows(x, src, out):
    """(B, N) C-contiguous batch, one channel: the fast path."""
    n_img, n_pix = x.shape
    shared = src.shape[0] == 1
    for b in prange(n_img):
        s = src[0] if shared else src[b]
        xb = x[b]
        ob = out[b]
        for p in range(n_pix):
            ob[p] = xb[s[p]]


@njit(cache=True, parallel=True)
def _gather_pixels(x, src, out):
    """(B, N, C) C-contiguous batch: move whole pixels (all channels)."""
    n_img, n_pix, n_ch = x.shape
    shared = src.shape[0] == 1
    for b in prange(n_img):
        s = src[0] if shared else src[b]
        for p in range(n_pix):
            q = s[p]
            for c in range(n_ch):
                out[b, p, c] = x[b, q, c]


@njit(cache=True, parallel=True)
def _gather_strided(x, src, out):
    """(B, H, W, C) arrays of any strides (views, slices, Fortran order)."""
    n_img, _, width, n_ch = x.shape
    n_pix = src.shape[1]
    shared = src.shape[0] == 1
    for b in prange(n_img):
        s = src[0] if shared else src[b]
        for p in range(n_pix):
            q = s[p]
            i = p // width
            j = p - i * width
            qi = q // width
            qj = q - qi * width
            for c in range(n_ch):
                out[b, i, j, c] = x[b, qi, qj, c]


def _as_bits(a: np.ndarray) -> np.ndarray | None:
    """View ``a`` as unsigned ints of its own width, or None for unusual widths."""
    kind = _UINT_BY_SIZE.get(a.dtype.itemsize)
    return None if kind is None else a.view(kind)


def _batch_view(arr: np.ndarray, is_batch: bool) -> np.ndarray:
    """The same 4-D ``(B, H, W, C)`` view that as_image_batch gave for the input."""
    if arr.ndim == 2:
        return arr[None, :, :, None]
    if arr.ndim == 4:
        return arr
    return arr[..., None] if is_batch else arr[None]


def _prepare_out(out, images: np.ndarray, is_batch: bool) -> np.ndarray:
    # the kernels read the native copy that as_image_batch made of a non-native input, so the
    # result is native too: the same numbers, in the machine's byte order
    dtype = native_dtype(images.dtype)
    if out is None:
        return np.empty(images.shape, dtype=dtype)
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a NumPy array, got {type(out).__name__}")
    if out.shape != images.shape:
        raise ValueError(f"out has shape {out.shape}, expected the images' shape {images.shape}")
    if out.dtype != dtype:
        raise TypeError(f"out has dtype {out.dtype}, expected the images' dtype {dtype} (native byte order)")
    if not out.flags.writeable:
        raise ValueError("out is read-only")
    if np.may_share_memory(out, images):
        raise ValueError("out must not share memory with images (a gather cannot run in place)")
    return out


def _run(x4: np.ndarray, src2: np.ndarray, o4: np.ndarray) -> None:
    """Dispatch to the fastest kernel that fits the memory layout."""
    xb = _as_bits(x4)
    ob = _as_bits(o4)
    if xb is None:
        # exotic widths (e.g. float128): NumPy fancy indexing, one image at a time
        n_img, h, w, c = x4.shape
        for b in range(n_img):
            s = src2[0] if src2.shape[0] == 1 else src2[b]
            o4[b] = x4[b].reshape(h * w, c)[s].reshape(h, w, c)
        return
    n_img, h, w, c = x4.shape
    if xb.flags.c_contiguous and ob.flags.c_contiguous:
        if c == 1:
            _gather_rows(xb.reshape(n_img, h * w), src2, ob.reshape(n_img, h * w))
        else:
            _gather_pixels(xb.reshape(n_img, h * w, c), src2, ob.reshape(n_img, h * w, c))
    else:
        _gather_strided(xb, src2, ob)


def apply_src(images, src, *, out=None, channels=None, name: str = "images"):
    """Gather pixels: ``Y.flat[p] = X.flat[src[p]]`` for every channel.

    Parameters
    ----------
    images : array_like
        ``(H, W)``, ``(H, W, C)``, ``(B, H, W)`` or ``(B, H, W, C)``, any real
        numeric dtype (moved bit for bit), contiguous or not. Float images must
        be finite.
    src : array of int, shape (N,) or (B, N)
        One gather index for all images, or one per image; ``N = H * W``.
    out : ndarray, optional
        Where to write the result: same shape and dtype as ``images``, not
        overlapping them.
    channels : bool, optional
        Resolves a 3-D array: ``True`` for one ``(H, W, C)`` image, ``False``
        for a ``(B, H, W)`` batch.

    Returns
    -------
    ndarray
        Same shape and dtype as ``images`` (``out`` if given).

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> x = np.arange(6, dtype=np.uint8).reshape(2, 3)
    >>> vn.apply_src(x, [5, 4, 3, 2, 1, 0])
    array([[5, 4, 3],
           [2, 1, 0]], dtype=uint8)
    """
    if isinstance(src, (str, bytes)) or src is None:
        raise TypeError(f"src must be an integer array, got {type(src).__name__}")
    src_arr = np.asarray(src)
    if src_arr.ndim not in (1, 2) or src_arr.shape[-1] == 0:
        raise ValueError(f"src must have shape (N,) or (B, N), got shape {src_arr.shape}")
    x4, is_batch = as_image_batch(images, name, n_pixels=src_arr.shape[-1], channels=channels,
                                  allow_any_numeric=True)
    n_img = x4.shape[0]
    src2 = as_index(src_arr, "src", n=x4.shape[1] * x4.shape[2], batch=n_img if src_arr.ndim == 2 else None)
    if src2.ndim == 2 and not is_batch:
        raise ValueError(f"src has shape {src2.shape} (one map per image) but images is a single image")
    src2 = src2.reshape(-1, src2.shape[-1])
    arr = np.asarray(images)
    result = _prepare_out(out, arr, is_batch)
    _run(x4, src2, _batch_view(result, is_batch))
    return result


def _key_src(key, inverse: bool):
    shape = check_key(key).shape
    if inverse:
        if not key.is_bijective:
            raise ValueError(
                "this key cannot decrypt: in 'paper' mode the vortex rounds coordinates, so some pixels are "
                "copied twice and others are lost; encrypt with a mode='bijective' key to be able to decrypt"
            )
        return key.inverse_src, tuple(shape)
    return key.src, tuple(shape)


def _apply_key(images, key, out, channels, inverse):
    src, shape = _key_src(key, inverse)
    x4, is_batch = as_image_batch(images, "images", grid=shape, channels=channels, allow_any_numeric=True)
    arr = np.asarray(images)
    result = _prepare_out(out, arr, is_batch)
    _run(x4, src.reshape(1, -1), _batch_view(result, is_batch))
    return result


def encrypt(images, key, *, out=None, channels=None):
    """Encrypt images with a key: every image, every channel, the same map.

    Parameters
    ----------
    images : array_like
        ``(H, W)``, ``(H, W, C)``, ``(B, H, W)`` or ``(B, H, W, C)`` on the
        key's grid, any real numeric dtype.
    key : VortexKey, PermutationKey, BlockKey or IdentityKey
    out : ndarray, optional
        Output buffer of the same shape and dtype.
    channels : bool, optional
        Resolves a 3-D array whose reading is ambiguous.

    Returns
    -------
    ndarray
        The encrypted images, same shape and dtype.

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> key = vn.VortexKey.random((28, 28), seed=0)
    >>> x = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    >>> y = vn.encrypt(x, key)
    >>> bool((vn.decrypt(y, key) == x).all())
    True
    """
    return _apply_key(images, key, out, channels, inverse=False)


def decrypt(images, key, *, out=None, channels=None):
    """Undo :func:`encrypt` exactly (bijective keys only).

    Raises
    ------
    ValueError
        For a ``mode="paper"`` key, whose map is lossy and has no inverse.

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> key = vn.PermutationKey.random((4, 4), seed=0)
    >>> x = np.arange(16.0).reshape(4, 4)
    >>> bool((vn.decrypt(vn.encrypt(x, key), key) == x).all())
    True
    """
    return _apply_key(images, key, out, channels, inverse=True)
