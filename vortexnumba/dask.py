"""The cipher and the information measures on Dask arrays, for datasets larger than memory.

Every function here takes a Dask array of images ``(B, H, W)`` or
``(B, H, W, C)`` and returns a lazy Dask array. Each block of images is
handed to the same in-memory functions (:func:`vortexnumba.encrypt`,
:func:`vortexnumba.decrypt`, :func:`vortexnumba.retention`), so the results
are bit for bit those of the in-memory call on the whole array.

Blocks must hold whole images, because a pixel of the output may come from
anywhere in the input image. An array chunked along ``H``, ``W`` or ``C`` is
therefore first rechunked along the batch axis only (:func:`rechunk_batch`).
That rechunk is one shuffle of the whole array through the scheduler (every
byte is read once, moved to the worker that assembles its image block and
written once more), and each new block holds full images, up to Dask's
``array.chunk-size`` setting (128 MiB by default) or one image if that is
larger. Arrays already chunked along the batch axis alone are used as they
are, with no extra cost.

:func:`encrypt_zarr` and :func:`decrypt_zarr` take a whole Zarr store from
path to path (``from_zarr -> encrypt -> to_zarr``), all-or-nothing, with a
progress bar; ``vortexnumba encrypt KEY in.zarr -o out.zarr`` calls them.

Dask is an optional dependency (``pip install vortexnumba[dask]``); it is
imported when a function here is first called, so ``import vortexnumba``
never needs it.

Examples
--------
>>> import dask.array as da, numpy as np, vortexnumba as vn
>>> import vortexnumba.dask as vnd
>>> key = vn.PermutationKey.random((8, 8), seed=0)
>>> x = np.random.default_rng(0).integers(0, 256, (100, 8, 8), dtype=np.uint8)
>>> lazy = vnd.encrypt(da.from_array(x, chunks=(32, 8, 8)), key)
>>> bool((lazy.compute() == vn.encrypt(x, key)).all())
True
"""

from __future__ import annotations

import numpy as np

from .cipher._gather import apply_src
from .framework._information import retention as _retention_in_memory

__all__ = ["decrypt", "decrypt_zarr", "encrypt", "encrypt_zarr", "information_loss", "rechunk_batch", "retention"]


def _dask_array_module():
    try:
        import dask.array as da
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "vortexnumba.dask needs Dask: install the optional extra with pip install 'vortexnumba[dask]'"
        ) from None
    return da


def _check_dask_images(images, name: str, *, pixel_kinds: str, kinds_text: str):
    """The Dask array of images ``(B, H, W[, C])``, checked without computing it."""
    da = _dask_array_module()
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
    return images


def rechunk_batch(images):
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
    _check_dask_images(images, "images", pixel_kinds="biuf", kinds_text="a real numeric dtype")
    if all(len(c) == 1 for c in images.chunks[1:]):
        return images
    whole_images = {axis: -1 for axis in range(1, images.ndim)}
    whole_images[0] = "auto"
    return images.rechunk(whole_images)


def _key_src(key, inverse: bool):
    from .cipher._gather import key_src

    return key_src(key, inverse)


def _gather_block(block: np.ndarray, src, key=None, inverse: bool = False) -> np.ndarray:
    # A 3-D block is a (b, H, W) batch, never one (H, W, C) image.
    channels = False if block.ndim == 3 else None
    if key is not None:  # a key that changes values: the same engine, through encrypt/decrypt
        from .cipher._gather import decrypt, encrypt

        return (decrypt if inverse else encrypt)(block, key, channels=channels)
    return apply_src(block, src, channels=channels)


def _apply_key(images, key, inverse: bool):
    _dask_array_module()
    import dask

    from .cipher._protocol import check_decryptable, check_key, is_spatial

    spatial = is_spatial(check_key(key))
    if spatial:
        src, shape = _key_src(key, inverse)
    else:
        if inverse:
            check_decryptable(key)
        src, shape = None, tuple(key.shape)
    images = _check_dask_images(images, "images", pixel_kinds="biuf", kinds_text="a real numeric dtype")
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


def encrypt(images, key):
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
    return _apply_key(images, key, inverse=False)


def decrypt(images, key):
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
    return _apply_key(images, key, inverse=True)


def _retention_block(block, src, kernel, coupling, keep_batch_path, measure=None):
    """rho (or, with ``measure``, that in-memory function) of one block of images."""
    measure = _retention_in_memory if measure is None else measure
    if block.shape[0] == 0:
        return np.empty(0)
    channels = False if block.ndim == 3 else None
    if keep_batch_path and block.shape[0] == 1 and np.ndim(src) == 1:
        # The in-memory function may choose another summation path for a lone
        # image than for a batch (an earlier version did, for images above 8192
        # pixels); measuring a one-image block as a batch of two keeps it on the
        # batch path, so its bits match the whole-batch call whatever that path.
        pair = np.concatenate([block, block])
        return measure(pair, src, kernel, coupling, channels=channels)[:1]
    return measure(block, src, kernel, coupling, channels=channels)


def retention(images, src, kernel=None, coupling=None, *, _measure=None):
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
    da = _dask_array_module()
    import dask

    from .framework._kernels import resolve

    kernel, coupling = resolve(kernel, coupling)  # bad kernels fail here, not inside a worker
    images = _check_dask_images(images, "images", pixel_kinds="uf",
                                kinds_text="dtype uint8 (read as value/255) or a float dtype")
    if images.dtype.kind == "u" and images.dtype != np.uint8:
        raise TypeError(f"images must have dtype uint8 (read as value/255) or a float dtype, got dtype "
                        f"{images.dtype}")
    n_img, height, width = images.shape[:3]
    n = height * width
    blocks = rechunk_batch(images)
    out_chunks = (blocks.chunks[0],)
    drop = list(range(1, blocks.ndim))
    meta = np.empty(0)
    if isinstance(src, da.Array):
        if src.ndim != 2 or src.shape[1] != n or src.shape[0] != n_img:
            raise ValueError(f"src as a Dask array must have shape (B, N) = ({n_img}, {n}), got shape {src.shape}")
        if src.dtype.kind not in "iu":
            raise TypeError(f"src must be an integer array, got dtype {src.dtype}")
        per_image = src.rechunk((blocks.chunks[0], n))
    else:
        from ._validate import as_index

        src_arr = as_index(src, "src", n=n, batch=n_img)  # checks values once, on the client
        if src_arr.ndim == 1:
            src_task = dask.delayed(src_arr, pure=True)
            return blocks.map_blocks(_retention_block, src_task, kernel, coupling, n_img > 1, _measure,
                                     drop_axis=drop, chunks=out_chunks, dtype=np.float64, meta=meta,
                                     name="vortexnumba-retention" if _measure is None else "vortexnumba-loss")
        per_image = da.from_array(src_arr, chunks=(blocks.chunks[0], n))
    index = "bhwc"[: blocks.ndim]
    return da.blockwise(_retention_block, "b", blocks, index, per_image, "bn", kernel, None, coupling, None,
                        False, None, _measure, None, concatenate=True, dtype=np.float64, meta=meta,
                        name="vortexnumba-retention" if _measure is None else "vortexnumba-loss")


def encrypt_zarr(source, target, key, *, force: bool = False, scheduler=None, channels=None, progress=None,
                 notes=None) -> int:
    """Encrypt every image array of a Zarr store into a new store, through Dask.

    Parameters
    ----------
    source : str or Path
        A Zarr store: one array, or a group of arrays at any depth. Arrays of
        two or more axes must be on the key's grid; smaller ones (labels) are
        copied unchanged.
    target : str or Path
        The new store; must end in ``.zarr``. Built beside the target and put in
        place when complete (an existing store is replaced only with ``force``,
        and only if it is a Zarr store).
    key : Key
    force : bool
        Replace an existing target store.
    scheduler : str or distributed.Client, optional
        A Dask scheduler address (``"tcp://host:8786"``) or client; by default
        Dask's threads in this process.
    channels : bool, optional
        How to read 3-D arrays: ``True`` one ``(H, W, C)`` image, ``False`` a
        ``(B, H, W)`` batch; by default inferred from the key's grid.
    progress : bool, optional
        Progress bar (images) on stderr; by default only on a terminal.
    notes : list, optional
        Receives one line per array copied unchanged (the library never prints).

    Returns
    -------
    int
        The number of images encrypted.

    Examples
    --------
    >>> import numpy as np, zarr, vortexnumba as vn, vortexnumba.dask as vnd
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> x = np.arange(5 * 8 * 8, dtype=np.uint16).reshape(5, 8, 8)
    >>> _ = zarr.create_array(str(d / "x.zarr"), data=x, chunks=(2, 8, 8))
    >>> key = vn.PermutationKey.random((8, 8), seed=0)
    >>> vnd.encrypt_zarr(d / "x.zarr", d / "y.zarr", key, progress=False)
    5
    >>> bool((zarr.open_array(str(d / "y.zarr"))[:] == vn.encrypt(x, key)).all())
    True
    """
    from ._dask_zarr import transform_zarr

    return transform_zarr(source, target, key, inverse=False, force=force, scheduler=scheduler,
                          channels=channels, progress=progress, notes=notes)


def decrypt_zarr(source, target, key, *, force: bool = False, scheduler=None, channels=None, progress=None,
                 notes=None) -> int:
    """Undo :func:`encrypt_zarr` (bijective keys only); same parameters.

    Raises
    ------
    ValueError
        If the store records that it was encrypted with another key (its
        ``vortexnumba_keys`` attribute), or the key is a paper-mode key.

    Examples
    --------
    >>> import numpy as np, zarr, vortexnumba as vn, vortexnumba.dask as vnd
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = zarr.create_array(str(d / "x.zarr"), data=np.ones((3, 4, 4), np.uint8), chunks=(1, 4, 4))
    >>> key = vn.PermutationKey.random((4, 4), seed=0)
    >>> _ = vnd.encrypt_zarr(d / "x.zarr", d / "y.zarr", key, progress=False)
    >>> vnd.decrypt_zarr(d / "y.zarr", d / "z.zarr", vn.PermutationKey.random((4, 4), seed=1), progress=False)
    Traceback (most recent call last):
    ...
    ValueError: ... was encrypted with the key of fingerprint ...
    """
    from ._dask_zarr import transform_zarr

    return transform_zarr(source, target, key, inverse=True, force=force, scheduler=scheduler,
                          channels=channels, progress=progress, notes=notes)


def information_loss(images, src, kernel=None, coupling=None):
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
    from .framework._information import information_loss as loss_in_memory

    # The loss is computed directly (not as 1 - rho, which loses tiny losses), block by block.
    return retention(images, src, kernel, coupling, _measure=loss_in_memory)
