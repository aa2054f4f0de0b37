"""The cipher and the information measures on Dask arrays, for datasets larger than memory.

- ``_common`` -- the Dask import, the array checks, :func:`rechunk_batch` and the lazy gather
- ``_arrays`` -- :func:`encrypt`, :func:`decrypt`, :func:`retention`, :func:`information_loss`
- ``_zarr``   -- :func:`encrypt_zarr`, :func:`decrypt_zarr`: whole Zarr stores

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

from ._arrays import decrypt, encrypt, information_loss, retention
from ._common import rechunk_batch
from ._zarr import decrypt_zarr, encrypt_zarr

__all__ = ["decrypt", "decrypt_zarr", "encrypt", "encrypt_zarr", "information_loss", "rechunk_batch", "retention"]
