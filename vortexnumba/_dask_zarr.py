"""Zarr stores through Dask: ``dask.array.from_zarr -> encrypt -> to_zarr`` into a store built beside the target.

Public through :func:`vortexnumba.dask.encrypt_zarr` and
:func:`vortexnumba.dask.decrypt_zarr`; ``vortexnumba encrypt KEY in.zarr -o
out.zarr [--scheduler ADDRESS]`` calls them.

A store is one array or a group of arrays (at any depth). Arrays with two or
more axes are images on the key's grid and are transformed by
:func:`vortexnumba.dask.encrypt`; smaller arrays (labels, metadata) are copied
unchanged. The output keeps the input's layout: Zarr format, shapes, dtypes,
chunks, shards, codecs and attributes, plus the attribute
``vortexnumba_keys`` (the key fingerprints, see :mod:`vortexnumba.cipher._files`).

Each image array is written in slabs of whole rows of chunks along the batch
axis, one Dask computation per slab (run in this process with Dask's threads,
or on a cluster with ``scheduler``), so the progress bar counts images and a
worker holds a few chunks at a time. On a cluster the workers must see the
input and output paths (one machine or a shared file system).

The output is assembled in ``.<name>.<random>.tmp`` beside the target and put
in place only when complete; replacing an existing store (``force=True``)
swaps the two folders in one atomic step on Linux, so the target always
names a complete store (elsewhere the old one is renamed aside a moment
before the new one takes its place).
"""

from __future__ import annotations

import contextlib
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ._progress import progress
from ._validate import as_image_batch
from .cipher._files import pop_fingerprint, push_fingerprint
from .cipher._protocol import check_decryptable, check_key
from .io._files import atomic_folder

__all__ = ["SLAB_BYTES", "ZARR_ATTR", "is_zarr_path", "transform_zarr"]

#: attribute of the output store's root listing the key fingerprints
ZARR_ATTR = "vortexnumba_keys"
#: input bytes per slab (rounded to whole rows of chunks, at least one row)
SLAB_BYTES = 64 << 20
_METADATA_FILES = ("zarr.json", ".zarray", ".zgroup")
_HINT = "install the optional extra with pip install 'vortexnumba[dask]'"


def is_zarr_path(path) -> bool:
    """Whether ``path`` names a Zarr store: a ``.zarr`` suffix or a folder holding Zarr metadata."""
    p = Path(path)
    return p.suffix.lower() == ".zarr" or (p.is_dir() and any((p / m).is_file() for m in _METADATA_FILES))


def _modules():
    try:
        import dask.array  # noqa: F401
        import zarr
    except ImportError:
        raise ImportError(f"Zarr stores need the optional packages zarr and dask: {_HINT}") from None
    return zarr


def _not_a_store(path: Path) -> str | None:
    if path.is_dir() and any((path / m).is_file() for m in _METADATA_FILES):
        return None
    return "exists and is not a Zarr store"


def _check_paths(source: Path, target: Path) -> None:
    if target.suffix.lower() != ".zarr":
        raise ValueError(f"target {str(target)!r} must end in '.zarr' for a Zarr input")
    s, t = source.resolve(), target.resolve()
    if s == t:
        raise ValueError(f"target {str(target)!r} is the input; write to a new store")
    if s in t.parents or t in s.parents:
        raise ValueError(f"target {str(target)!r} and input {str(source)!r} lie one inside the other")


def _image_layout(shape, dtype, key, channels, name):
    """``(is_image, is_batch)`` for an array of this shape, by the in-memory rules, without reading it."""
    if len(shape) < 2:
        return False, False
    if np.dtype(dtype).kind not in "biuf":
        raise TypeError(f"{name} must be a real numeric array, got dtype {dtype}")
    if 0 in shape:
        raise ValueError(f"{name} must not be empty, got shape {tuple(shape)}")
    dummy = np.broadcast_to(np.zeros((), dtype=np.uint8), shape)  # shape checks without the data
    _, is_batch = as_image_batch(dummy, name, grid=key.shape, channels=channels, allow_any_numeric=True)
    return True, is_batch


def _stack(attrs: dict, where: str) -> list:
    value = attrs.get(ZARR_ATTR, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}: attribute {ZARR_ATTR!r} must be a list of key fingerprints, got {value!r}")
    return value


def _attrs_with(attrs: dict, stack: list) -> dict:
    out = {k: v for k, v in attrs.items() if k != ZARR_ATTR}
    if stack:
        out[ZARR_ATTR] = stack
    return out


def _create_layout(zarr, tmp: Path, root_obj, groups, members, root_attrs) -> None:
    """Empty output arrays with the input's metadata (no chunk is written yet)."""
    if isinstance(root_obj, zarr.Array):
        zarr.from_array(str(tmp), data=root_obj, write_data=False, attributes=root_attrs, overwrite=True)
        return
    zarr.create_group(str(tmp), zarr_format=root_obj.metadata.zarr_format, attributes=root_attrs, overwrite=True)
    out = zarr.open_group(str(tmp), mode="r+")
    for name, grp in groups:  # parents come before their children
        out.create_group(name, attributes=grp.attrs.asdict())
    for name, arr in members:
        zarr.from_array(str(tmp / name), data=arr, write_data=False, attributes=arr.attrs.asdict())


@contextlib.contextmanager
def _client(scheduler):
    """A distributed client for ``scheduler`` (an address, or a client left open), or None."""
    if scheduler is None:
        yield None
        return
    try:
        from distributed import Client
    except ImportError:
        raise ImportError(f"scheduler needs the optional package distributed: {_HINT}") from None
    if isinstance(scheduler, Client):
        yield scheduler
        return
    if not isinstance(scheduler, str) or not scheduler:
        raise TypeError(f"scheduler must be an address such as 'tcp://host:8786' or a Client, got {scheduler!r}")
    client = Client(scheduler, set_as_default=False, timeout="20s")
    try:
        yield client
    finally:
        client.close()


def _row_slabs(arr, slab_bytes: int):
    rows = (getattr(arr, "shards", None) or arr.chunks)[0]
    row_bytes = rows * int(np.prod(arr.shape[1:])) * arr.dtype.itemsize
    step = rows * max(1, slab_bytes // max(1, row_bytes))
    return [(a, min(arr.shape[0], a + step)) for a in range(0, arr.shape[0], step)]


def _transform(source, target, key, *, inverse, force, scheduler, channels, show_progress, notes,
               slab_bytes) -> int:
    from . import dask as vnd
    from .cipher._gather import decrypt, encrypt

    check_key(key)
    if inverse:
        check_decryptable(key)
    slab_bytes = int(slab_bytes)
    if slab_bytes < 1:
        raise ValueError(f"slab_bytes must be >= 1, got {slab_bytes}")
    zarr = _modules()
    import dask
    import dask.array as da
    from dask.array.core import PerformanceWarning

    source, target = Path(source), Path(target)
    if not source.exists():
        raise FileNotFoundError(f"source {str(source)!r} does not exist")
    try:
        root_obj = zarr.open(str(source), mode="r")
    except (FileNotFoundError, KeyError, ValueError, TypeError) as exc:
        raise ValueError(f"source {str(source)!r} is not a readable Zarr store: {exc}") from None
    _check_paths(source, target)
    stack = _stack(root_obj.attrs.asdict(), str(source))
    stack = pop_fingerprint(stack, key, str(source)) if inverse else push_fingerprint(stack, key)
    if isinstance(root_obj, zarr.Array):
        members, groups = [("", root_obj)], []
    else:
        members, groups = [], []
        for name, obj in root_obj.members(max_depth=None):
            (members if isinstance(obj, zarr.Array) else groups).append((name, obj))
        if not members:
            raise ValueError(f"source {str(source)!r} is a Zarr group that holds no arrays")
    plan = []  # every array checked before anything is written
    for name, arr in members:
        label = f"{source}/{name}" if name else str(source)
        is_image, is_batch = _image_layout(arr.shape, arr.dtype, key, channels, label)
        if not is_image:
            (notes if notes is not None else []).append(f"{label}: copying {tuple(arr.shape)} unchanged "
                                                        "(not an image array)")
        plan.append((name, label, arr, is_image, is_batch))
    action = "decrypt" if inverse else "encrypt"
    total = sum((arr.shape[0] if is_batch else 1) for _, _, arr, is_image, is_batch in plan if is_image)
    with _client(scheduler) as client, \
            atomic_folder(target, force=force, name="target", replaceable=_not_a_store) as tmp:
        _create_layout(zarr, tmp, root_obj, groups, members, _attrs_with(root_obj.attrs.asdict(), stack))
        with progress(total, f"{action} {source.name}", unit="img", enabled=show_progress, leave=True) as bar:
            for name, label, arr, is_image, is_batch in plan:
                out = zarr.open_array(str(tmp / name) if name else str(tmp), mode="r+")
                if is_image and not is_batch:  # one (H, W[, C]) image: in memory
                    fn = decrypt if inverse else encrypt
                    try:
                        out[...] = fn(arr[...], key, channels=channels if arr.ndim == 3 else None)
                    except ValueError as exc:
                        raise ValueError(f"{label}: {exc}") from None
                    bar.update(1)
                    continue
                x = da.from_zarr(arr)
                if is_image:
                    x = x.rechunk({0: arr.chunks[0]})  # blocks of whole chunk rows; vnd joins H, W, C
                    y = (vnd.decrypt if inverse else vnd.encrypt)(x, key)
                else:
                    y = x
                if arr.ndim == 0:
                    out[...] = arr[...]
                    continue
                slabs = _row_slabs(arr, slab_bytes)
                rest = (slice(None),) * (arr.ndim - 1)
                # to_zarr regroups blocks to Dask's "array.chunk-size" (128 MiB) before writing; one row of
                # the store's chunks per task instead keeps a worker's memory at a few chunks
                rows = (getattr(arr, "shards", None) or arr.chunks)[0]
                row_bytes = rows * int(np.prod(arr.shape[1:])) * arr.dtype.itemsize
                with warnings.catch_warnings(), dask.config.set({"array.chunk-size": f"{max(1, row_bytes)}B"}):
                    # slabs start on chunk (shard) rows, so no two writes share a chunk; Dask warns
                    # about its nominal chunk size all the same
                    warnings.simplefilter("ignore", PerformanceWarning)
                    writes = [y[a:b].to_zarr(out, region=(slice(a, b), *rest), compute=False) for a, b in slabs]
                try:
                    if client is None:
                        # our own pool, so that no task is still writing into the temporary store
                        # when an error deletes it
                        pool = ThreadPoolExecutor(os.cpu_count() or 1)
                        try:
                            for (a, b), w in zip(slabs, writes):
                                w.compute(scheduler="threads", pool=pool)
                                bar.update(b - a if is_image else 0)
                        finally:
                            pool.shutdown(wait=True, cancel_futures=True)
                    else:
                        from distributed import as_completed

                        futures = client.compute(writes)
                        sizes = {f.key: b - a for f, (a, b) in zip(futures, slabs)}
                        try:
                            for f in as_completed(futures, loop=client.loop):
                                f.result()
                                bar.update(sizes[f.key] if is_image else 0)
                        finally:
                            client.cancel(futures)
                except ValueError as exc:
                    raise ValueError(f"{label}[0:{arr.shape[0]}]: {exc}") from None
    return total


def transform_zarr(source, target, key, *, inverse: bool = False, force: bool = False, scheduler=None,
                   channels=None, progress=None, notes=None, slab_bytes: int = SLAB_BYTES) -> int:
    """See :func:`vortexnumba.dask.encrypt_zarr`; ``inverse=True`` decrypts."""
    return _transform(source, target, key, inverse=inverse, force=force, scheduler=scheduler, channels=channels,
                      show_progress=progress, notes=notes, slab_bytes=slab_bytes)
