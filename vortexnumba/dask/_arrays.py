"""Encryption, decryption and the information measures on Dask arrays, block by block."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._validate import as_index
from ..framework import information_loss as loss_in_memory
from ..framework import retention as retention_in_memory
from ._common import check_dask_images, dask_array_module, map_key, rechunk_batch

__all__ = ["decrypt", "encrypt", "information_loss", "retention"]


def encrypt(images: Any, key: Any) -> Any:
    """Encrypt a Dask array of images, block by block along the batch axis.

    Parameters
    ----------
    images : dask.array.Array
        ``(B, H, W)`` or ``(B, H, W, C)`` on the key's grid, any real numeric
        dtype. Blocks that split an image are first rechunked along the batch
        axis (see :func:`rechunk_batch`). Float values must be finite; that is
        checked block by block when the result is computed.
    key : VortexKey, PermutationKey, BlockKey or IdentityKey

    Returns
    -------
    dask.array.Array
        Lazy; same shape and dtype, chunked along the batch axis only. Its
        values equal ``vortexnumba.encrypt(images.compute(), key)`` bit for bit.

    Examples
    --------
    >>> import dask.array as da, numpy as np, vortexnumba as vn, vortexnumba.dask as vnd
    >>> key = vn.VortexKey.random((16, 16), n_vortices=3, seed=1)
    >>> x = da.random.default_rng(0).random((40, 16, 16, 3), chunks=(10, 8, 16, 3))
    >>> y = vnd.encrypt(x, key)
    >>> y.chunks[1:]
    ((16,), (16,), (3,))
    >>> bool((y.compute() == vn.encrypt(x.compute(), key)).all())
    True
    """
    return map_key(images, key, inverse=False)


def decrypt(images: Any, key: Any) -> Any:
    """Undo :func:`encrypt` on a Dask array (bijective keys only).

    Parameters
    ----------
    images : dask.array.Array
        ``(B, H, W)`` or ``(B, H, W, C)`` encrypted with ``key``.
    key : VortexKey, PermutationKey, BlockKey or IdentityKey

    Returns
    -------
    dask.array.Array
        Lazy; equal bit for bit to ``vortexnumba.decrypt(images.compute(), key)``.

    Raises
    ------
    ValueError
        For a ``mode="paper"`` vortex key, which has no inverse.

    Examples
    --------
    >>> import dask.array as da, numpy as np, vortexnumba as vn, vortexnumba.dask as vnd
    >>> key = vn.PermutationKey.random((8, 8), seed=0)
    >>> x = da.arange(640, dtype="uint16").reshape(10, 8, 8).rechunk((3, 8, 8))
    >>> bool((vnd.decrypt(vnd.encrypt(x, key), key) == x).all().compute())
    True
    """
    return map_key(images, key, inverse=True)


def _retention_block(block: np.ndarray, src: np.ndarray, kernel: Any, coupling: Any, keep_batch_path: bool,
                     measure: Callable) -> np.ndarray:
    """``measure`` (in-memory retention or loss) of one block of images."""
    if block.shape[0] == 0:
        return np.empty(0)
    channels = False if block.ndim == 3 else None
    if keep_batch_path and block.shape[0] == 1 and np.ndim(src) == 1:
        # The in-memory function is free to sum a lone image along another path than a batch;
        # measuring a one-image block as a batch of two keeps it on the batch path, so its bits
        # match the whole-batch call whatever path a lone image would take.
        pair = np.concatenate([block, block])
        return measure(pair, src, kernel, coupling, channels=channels)[:1]
    return measure(block, src, kernel, coupling, channels=channels)


def _per_image(images: Any, src: Any, kernel: Any, coupling: Any, measure: Callable, name: str) -> Any:
    """The lazy ``(B,)`` array of ``measure(image, src)``, block by block along the batch axis."""
    da = dask_array_module()
    import dask

    from ..framework._kernels import resolve

    kernel, coupling = resolve(kernel, coupling)  # bad kernels fail here, not inside a worker
    images = check_dask_images(images, "images", pixel_kinds="uf",
                               kinds_text="dtype uint8 (read as value/255) or a float dtype")
    if images.dtype.kind == "u" and images.dtype != np.uint8:
        raise TypeError(f"images must have dtype uint8 (read as value/255) or a float dtype, got dtype "
                        f"{images.dtype}")
    n_img, height, width = images.shape[:3]
    n = height * width
    blocks = rechunk_batch(images)
    meta = np.empty(0)
    if isinstance(src, da.Array):
        if src.ndim != 2 or src.shape[1] != n or src.shape[0] != n_img:
            raise ValueError(f"src as a Dask array must have shape (B, N) = ({n_img}, {n}), got shape {src.shape}")
        if src.dtype.kind not in "iu":
            raise TypeError(f"src must be an integer array, got dtype {src.dtype}")
        per_image = src.rechunk((blocks.chunks[0], n))
    else:
        src_arr = as_index(src, "src", n=n, batch=n_img)  # checks values once, on the client
        if src_arr.ndim == 1:
            src_task = dask.delayed(src_arr, pure=True)
            return blocks.map_blocks(_retention_block, src_task, kernel, coupling, n_img > 1, measure,
                                     drop_axis=list(range(1, blocks.ndim)), chunks=(blocks.chunks[0],),
                                     dtype=np.float64, meta=meta, name=name)
        per_image = da.from_array(src_arr, chunks=(blocks.chunks[0], n))
    index = "bhwc"[: blocks.ndim]
    return da.blockwise(_retention_block, "b", blocks, index, per_image, "bn", kernel, None, coupling, None,
                        False, None, measure, None, concatenate=True, dtype=np.float64, meta=meta, name=name)


def retention(images: Any, src: Any, kernel: Any = None, coupling: Any = None) -> Any:
    """Retention ``rho`` of every image of a Dask array under a gather index.

    Parameters
    ----------
    images : dask.array.Array
        ``(B, H, W)`` or ``(B, H, W, C)``, uint8 (read as value/255) or float.
    src : array_like of int or dask.array.Array
        ``(N,)``, one gather index for every image (e.g. ``key.src``), or
        ``(B, N)``, one per image (NumPy or Dask; it is chunked like
        ``images`` along the batch axis).
    kernel, coupling : optional
        Default ``Kernel.power(2, 3)`` and ``Coupling.gaussian(0.25)``.

    Returns
    -------
    dask.array.Array
        Lazy, shape ``(B,)``, float64; equal bit for bit to
        ``vortexnumba.retention(images.compute(), src, kernel, coupling)``.

    Examples
    --------
    >>> import dask.array as da, numpy as np, vortexnumba as vn, vortexnumba.dask as vnd
    >>> key = vn.PermutationKey.random((8, 8), seed=0)
    >>> x = np.random.default_rng(0).integers(0, 256, (30, 8, 8), dtype=np.uint8)
    >>> rho = vnd.retention(da.from_array(x, chunks=(7, 4, 8)), key.src)
    >>> bool((rho.compute() == vn.retention(x, key.src)).all())
    True

    References
    ----------
    .. [1] Cao et al., arXiv:2411.16207.
    """
    return _per_image(images, src, kernel, coupling, retention_in_memory, "vortexnumba-retention")


def information_loss(images: Any, src: Any, kernel: Any = None, coupling: Any = None) -> Any:
    """Information loss rate ``1 - rho`` of every image of a Dask array; see :func:`retention`.

    Returns
    -------
    dask.array.Array
        Lazy, shape ``(B,)``, float64; equal bit for bit to
        ``vortexnumba.information_loss(images.compute(), src, kernel, coupling)``.

    Examples
    --------
    >>> import dask.array as da, numpy as np, vortexnumba.dask as vnd
    >>> x = da.zeros((4, 3, 3), chunks=(2, 3, 3))
    >>> vnd.information_loss(x, np.arange(9)[::-1]).compute()  # a 180-degree turn keeps everything
    array([0., 0., 0., 0.])
    """
    # The loss is computed directly (not as 1 - rho, which loses tiny losses), block by block.
    return _per_image(images, src, kernel, coupling, loss_in_memory, "vortexnumba-loss")
