"""Encrypt and decrypt Zarr stores of any size, slab by slab along the batch axis.

A store is either one array or a group of arrays (at any depth). Arrays with
two or more axes are images on the key's grid and are transformed; smaller
arrays (labels, metadata) are copied unchanged. The output keeps the input's
layout: same Zarr format, shapes, dtypes, chunks, shards, codecs and
attributes.

Memory stays bounded whatever the store's size: an array is cut into slabs of
whole rows of chunks along the batch axis (as many rows as fit in
``slab_bytes``, at least one), and only one slab and its output are in memory
at a time, per worker. Slabs start on chunk boundaries (shard boundaries for
sharded arrays), so every output chunk is written exactly once and no chunk is
read back to be completed.

Each slab is an independent task that opens the stores by path, so the same
code runs in this process or on a Dask cluster (``scheduler``); on a cluster
the workers must see the input and output paths (one machine or a shared file
system).

Writes are atomic: the output is assembled in a temporary folder beside the
target and renamed into place at the end; an existing output is replaced only
with ``force``, and only if it is itself a Zarr store.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .io._files import current_umask

__all__ = ["is_zarr_path", "transform_store"]

# Bytes of input per slab (rounded to whole rows of chunks, at least one row).
SLAB_BYTES = 64 << 20
_METADATA_FILES = ("zarr.json", ".zarray", ".zgroup")


def is_zarr_path(path) -> bool:
    """Whether ``path`` names a Zarr store: a ``.zarr`` suffix or a folder holding Zarr metadata."""
    p = Path(path)
    if p.suffix.lower() == ".zarr":
        return True
    return p.is_dir() and any((p / name).is_file() for name in _METADATA_FILES)


def _zarr():
    try:
        import zarr
    except ImportError:
        raise ValueError(
            "reading and writing Zarr stores needs the optional packages zarr and dask: "
            "pip install 'vortexnumba[dask]'"
        ) from None
    return zarr


@dataclass(frozen=True)
class _Slab:
    """One task: rows ``start:stop`` of the array at ``path`` (relative to the store root)."""

    path: str
    start: int
    stop: int
    action: str  # "encrypt", "decrypt" or "copy"
    channels: bool | None  # how encrypt/decrypt must read the slab
    images: int  # images the slab holds, for the progress bar (0 for copied arrays)


@functools.lru_cache(maxsize=8)
def _key(key_json: str):
    from .cipher._keys import key_from_json

    return key_from_json(key_json)


def _array_at(root: str, path: str, mode: str):
    zarr = _zarr()
    return zarr.open_array(str(Path(root) / path) if path else root, mode=mode)


def process_slab(source: str, target: str, key_json: str, slab: _Slab) -> int:
    """Read one slab of ``source``, transform it and write it into ``target``; returns its image count."""
    from .cipher._gather import decrypt, encrypt

    src_arr = _array_at(source, slab.path, "r")
    dst_arr = _array_at(target, slab.path, "r+")
    rows = Ellipsis if slab.stop < 0 else slice(slab.start, slab.stop)  # stop -1: the whole array
    data = src_arr[rows]
    if slab.action != "copy":
        fn = encrypt if slab.action == "encrypt" else decrypt
        where = f"{source}/{slab.path}" if slab.path else source
        try:
            data = fn(data, _key(key_json), channels=slab.channels)
        except ValueError as exc:
            span = "" if slab.stop < 0 else f"[{slab.start}:{slab.stop}]"
            raise ValueError(f"{where}{span}: {exc}") from None
    dst_arr[rows] = data
    return slab.images


def _image_layout(shape, dtype, key, channels, name):
    """``(is_image, is_batch)`` for an array of this shape, using the in-memory rules."""
    from ._validate import as_image_batch

    if len(shape) < 2:
        return False, False
    if np.dtype(dtype).kind not in "biuf":
        raise TypeError(f"{name} must be a real numeric array, got dtype {dtype}")
    # A broadcast view of one zero gives the shape checks without touching the data.
    dummy = np.broadcast_to(np.zeros((), dtype=np.uint8), shape)
    if 0 in shape:
        raise ValueError(f"{name} must not be empty, got shape {tuple(shape)}")
    _, is_batch = as_image_batch(dummy, name, grid=key.shape, channels=channels, allow_any_numeric=True)
    return True, is_batch


def _plan(source: Path, root_obj, key, action: str, channels, slab_bytes: int):
    """Groups to create and slabs to run, in store order."""
    zarr = _zarr()
    if isinstance(root_obj, zarr.Array):
        members = [("", root_obj)]
        groups = []
    else:
        members = []
        groups = []
        for name, obj in root_obj.members(max_depth=None):
            (members if isinstance(obj, zarr.Array) else groups).append((name, obj))
        if not members:
            raise ValueError(f"input {str(source)!r} is a Zarr group that holds no arrays")
    slabs = []
    for name, arr in members:
        label = f"{source}/{name}" if name else str(source)
        is_image, is_batch = _image_layout(arr.shape, arr.dtype, key, channels, label)
        if not is_image:
            print(f"{label}: copying {tuple(arr.shape)} unchanged (not an image array)", file=sys.stderr)
        if arr.ndim == 0 or (is_image and not is_batch):
            # A scalar or a single image: one task.
            slabs.append(_Slab(name, 0, -1, action if is_image else "copy", channels, 1 if is_image else 0))
            continue
        rows = (arr.shards or arr.chunks)[0]
        row_bytes = rows * int(np.prod(arr.shape[1:])) * arr.dtype.itemsize
        step = rows * max(1, slab_bytes // max(1, row_bytes))
        slab_channels = False if arr.ndim == 3 else None
        for start in range(0, arr.shape[0], step):
            stop = min(arr.shape[0], start + step)
            if is_image:
                slabs.append(_Slab(name, start, stop, action, slab_channels, stop - start))
            else:
                slabs.append(_Slab(name, start, stop, "copy", None, 0))
    return groups, members, slabs


def _create_layout(tmp: Path, root_obj, groups, members) -> None:
    """Empty output arrays with the input's metadata (no chunk is written yet)."""
    zarr = _zarr()
    fmt = root_obj.metadata.zarr_format
    if isinstance(root_obj, zarr.Array):
        zarr.from_array(str(tmp), data=root_obj, write_data=False, attributes=root_obj.attrs.asdict())
        return
    out = zarr.create_group(str(tmp), zarr_format=fmt, attributes=root_obj.attrs.asdict())
    for name, grp in groups:  # parents come before their children
        out.create_group(name, attributes=grp.attrs.asdict())
    for name, arr in members:
        zarr.from_array(str(tmp / name), data=arr, write_data=False, attributes=arr.attrs.asdict())


def _check_target(source: Path, target: Path, force: bool) -> None:
    if target.suffix.lower() != ".zarr":
        raise ValueError(f"output {str(target)!r} must end in '.zarr' for a Zarr input")
    if target.resolve() == source.resolve():
        raise ValueError(f"output {str(target)!r} is the input; write to a new store")
    if target.exists() or target.is_symlink():
        if not force:
            raise FileExistsError(f"output {str(target)!r} already exists; pass --force to overwrite it")
        if not (target.is_dir() and any((target / m).is_file() for m in _METADATA_FILES)):
            raise ValueError(f"output {str(target)!r} exists and is not a Zarr store; refusing to replace it "
                             "even with --force")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise FileNotFoundError(f"output {str(target)!r}: the folder {str(parent)!r} does not exist")


def _move_into_place(tmp: Path, target: Path, force: bool) -> None:
    if not target.exists():
        os.replace(tmp, target)  # renames onto a missing path are atomic
        return
    if not force:  # appeared while we were writing
        raise FileExistsError(f"output {str(target)!r} already exists; pass --force to overwrite it")
    # A folder cannot be renamed over a non-empty one: move the old store aside first.
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
    os.replace(target, old / target.name)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)


def _progress(total: int, desc: str, enabled):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="img", disable=None if enabled is None else not enabled,
                file=sys.stderr, leave=True, dynamic_ncols=True)


def _run_local(source, target, key_json, slabs, bar):
    for slab in slabs:
        bar.update(process_slab(source, target, key_json, slab))


@contextlib.contextmanager
def _cluster_client(scheduler):
    """A client for ``scheduler`` (an address, or a client we leave open), or None."""
    if scheduler is None:
        yield None
        return
    try:
        from distributed import Client
    except ImportError:
        raise ValueError("--scheduler needs the optional package distributed: pip install 'vortexnumba[dask]'") \
            from None
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


# A worker holds about four copies of a slab at its peak (compressed and decoded
# input, the output, the encoded output); keep that under a quarter of its limit.
_SLAB_COPIES = 4
_MEMORY_SHARE = 4


def _cluster_slab_bytes(client, slab_bytes: int) -> int:
    """Shrink ``slab_bytes`` so that every thread of the smallest worker fits its memory limit."""
    workers = client.scheduler_info()["workers"].values()
    caps = [w["memory_limit"] // (_SLAB_COPIES * _MEMORY_SHARE * max(1, w["nthreads"]))
            for w in workers if w.get("memory_limit")]
    return max(1, min([slab_bytes, *caps]))


def _run_on_cluster(client, source, target, key_json, slabs, bar):
    from distributed import as_completed

    futures = [client.submit(process_slab, source, target, key_json, slab, pure=False) for slab in slabs]
    try:
        for future in as_completed(futures, loop=client.loop):
            bar.update(future.result())  # re-raises a worker's error here
    finally:
        client.cancel(futures)


def transform_store(source, target, key, *, inverse: bool = False, force: bool = False, channels=None,
                    scheduler=None, progress=None, slab_bytes: int = SLAB_BYTES) -> int:
    """Encrypt (or decrypt) every image array of a Zarr store into a new store.

    Parameters
    ----------
    source, target : str or Path
        Input store and output path (which must end in ``.zarr``).
    key : VortexKey, PermutationKey, BlockKey or IdentityKey
    inverse : bool
        Decrypt instead of encrypt.
    force : bool
        Replace an existing output store.
    channels : bool, optional
        How to read 3-D arrays, as on the command line.
    scheduler : str or distributed.Client, optional
        Address of a Dask scheduler (or a client) to run the slabs on; by
        default they run one after another in this process.
    progress : bool, optional
        Show a progress bar; by default only on a terminal.
    slab_bytes : int
        Input bytes per task, rounded to whole rows of chunks. On a cluster it
        is lowered so that each worker thread needs at most a quarter of the
        worker's memory limit (about four copies of a slab are alive at once).

    Returns
    -------
    int
        The number of images transformed.
    """
    source = Path(source)
    target = Path(target)
    if slab_bytes < 1:
        raise ValueError(f"slab_bytes must be >= 1, got {slab_bytes}")
    if inverse and not key.is_bijective:
        raise ValueError("this key cannot decrypt: its map is lossy (use a mode='bijective' key)")
    zarr = _zarr()
    if not source.exists():
        raise FileNotFoundError(f"input {str(source)!r} does not exist")
    try:
        root_obj = zarr.open(str(source), mode="r")
    except (FileNotFoundError, KeyError, ValueError) as exc:
        raise ValueError(f"input {str(source)!r} is not a readable Zarr store: {exc}") from None
    _check_target(source, target, force)
    action = "decrypt" if inverse else "encrypt"
    with _cluster_client(scheduler) as client:
        if client is not None:
            slab_bytes = _cluster_slab_bytes(client, slab_bytes)
        groups, members, slabs = _plan(source, root_obj, key, action, channels, slab_bytes)
        parent = target.parent if str(target.parent) else Path(".")
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent))
        try:
            # mkdtemp makes the folder private (0700); the store gets an ordinary folder's mode.
            os.chmod(tmp, 0o777 & ~current_umask())
            _create_layout(tmp, root_obj, groups, members)
            src_text, tmp_text = str(source.resolve()), str(tmp.resolve())
            key_json = key.to_json()
            total = sum(s.images for s in slabs)
            with _progress(total, f"{action} {source.name}", progress) as bar:
                if client is None:
                    _run_local(src_text, tmp_text, key_json, slabs, bar)
                else:
                    _run_on_cluster(client, src_text, tmp_text, key_json, slabs, bar)
            _move_into_place(tmp, target, force)
        except BaseException:
            with contextlib.suppress(OSError):
                shutil.rmtree(tmp)
            raise
    return total
