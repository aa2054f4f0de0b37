"""What the Dask array functions and the Zarr driver share: the Dask import, the array checks,
the batch-axis rechunk and the lazy gather of a key.

Both :mod:`._arrays` (the public array functions) and :mod:`._zarr` (the
store driver) import from here, so neither imports the other.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validate import as_native
from ..cipher import apply_src, decrypt, encrypt
from ..cipher._gather import key_src
from ..cipher._protocol import check_decryptable, check_key, is_spatial

__all__ = ["check_dask_images", "dask_array_module", "map_key", "rechunk_batch"]

INSTALL_HINT = "install the optional extra with pip install 'vortexnumba[dask]'"


def dask_array_module() -> Any:
    """``dask.array``, or an ImportError that says how to install it."""
    try:
        import dask.array as da
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(f"vortexnumba.dask needs Dask: {INSTALL_HINT}") from None
    return da


def check_dask_images(images: Any, name: str, *, pixel_kinds: str, kinds_text: str) -> Any:
    """The Dask array of images ``(B, H, W[, C])``, checked without computing it."""
    da = dask_array_module()
    if not isinstance(images, da.Array):
        raise TypeError(
            f"{name} must be a Dask array (dask.array.Array) of shape (B, H, W) or (B, H, W, C), got "
            f"{type(images).__module__}.{type(images).__name__}; use the functions of vortexnumba itself "
            "for arrays in memory, or wrap them with dask.array.from_array"
        )
    if images.ndim not in (3, 4):
        raise ValueError(
            f"{name} must have shape (B, H, W) or (B, H, W, C) (a batch axis first), got shape {images.shape}; "
            "give a single image a batch axis of length 1"
        )
    if any(np.isnan(s) for s in images.shape):
        raise ValueError(
            f"{name} has unknown chunk sizes (shape {images.shape}); call {name}.compute_chunk_sizes() first"
        )
    if images.dtype.kind not in pixel_kinds:
        raise TypeError(f"{name} must have {kinds_text}, got dtype {images.dtype}")
    if images.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {images.shape}")
    return as_native(images)


def rechunk_batch(images: Any) -> Any:
    """Rechunk a Dask array of images so that every block holds whole images.

    Axes after the first become single chunks; the batch axis is split so that
    a block stays near Dask's ``array.chunk-size`` setting (at least one
    image). An array whose blocks already hold whole images is returned
    unchanged, so the call is free in that case.

    Parameters
    ----------
    images : dask.array.Array
        ``(B, H, W)`` or ``(B, H, W, C)``.

    Returns
    -------
    dask.array.Array
        The same values, chunked along the batch axis only.

    Notes
    -----
    When a rechunk is needed it moves every byte of the array once through
    the scheduler (read, sent to the task that assembles the block, kept
    until the block is consumed); a worker then needs room for a few blocks
    of full images at once.

    Examples
    --------
    >>> import dask.array as da, vortexnumba.dask as vnd
    >>> x = da.zeros((10, 8, 8), chunks=(5, 4, 4), dtype="uint8")
    >>> vnd.rechunk_batch(x).chunks[1:]
    ((8,), (8,))
    """
    check_dask_images(images, "images", pixel_kinds="biuf", kinds_text="a real numeric dtype")
    if all(len(c) == 1 for c in images.chunks[1:]):
        return images
    whole_images: dict[int, Any] = {axis: -1 for axis in range(1, images.ndim)}
    whole_images[0] = "auto"
    return images.rechunk(whole_images)


def _gather_block(block: np.ndarray, src: np.ndarray | None, key: Any = None, inverse: bool = False) -> np.ndarray:
    # A 3-D block is a (b, H, W) batch, never one (H, W, C) image.
    channels = False if block.ndim == 3 else None
    if key is not None:  # a key that changes values: the same engine, through encrypt/decrypt
        return (decrypt if inverse else encrypt)(block, key, channels=channels)
    return apply_src(block, src, channels=channels)


def map_key(images: Any, key: Any, *, inverse: bool) -> Any:
    """The lazy encryption (``inverse=False``) or decryption of a Dask array of images with ``key``."""
    dask_array_module()
    import dask

    spatial = is_spatial(check_key(key))
    if spatial:
        src, shape = key_src(key, inverse)
    else:
        if inverse:
            check_decryptable(key)
        src, shape = None, tuple(key.shape)
    images = check_dask_images(images, "images", pixel_kinds="biuf", kinds_text="a real numeric dtype")
    if tuple(images.shape[1:3]) != shape:
        raise ValueError(
            f"images has shape {images.shape}; expected (B, H, W) or (B, H, W, C) with the key's grid "
            f"{shape[0]}x{shape[1]}"
        )
    blocks = rechunk_batch(images)
    name = "vortexnumba-decrypt" if inverse else "vortexnumba-encrypt"
    if not spatial:
        key_task = dask.delayed(key, pure=True)
        return blocks.map_blocks(_gather_block, None, key_task, inverse, dtype=blocks.dtype,
                                 meta=np.empty((0,) * blocks.ndim, dtype=blocks.dtype), name=name)
    # One task holds the gather index; every block depends on it instead of carrying its own copy.
    src_task = dask.delayed(np.asarray(src), pure=True)
    return blocks.map_blocks(_gather_block, src_task, dtype=blocks.dtype,
                             meta=np.empty((0,) * blocks.ndim, dtype=blocks.dtype), name=name)
