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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._progress import progress as progress_bar
from .._validate import as_image_batch
from ..cipher import decrypt, encrypt
from ..cipher._files import pop_fingerprint, push_fingerprint
from ..cipher._protocol import check_decryptable, check_key
from ..io._files import atomic_folder
from ._common import INSTALL_HINT, map_key

__all__ = ["SLAB_BYTES", "ZARR_ATTR", "decrypt_zarr", "encrypt_zarr", "is_zarr_path", "row_slabs", "transform_zarr"]

#: attribute of the output store's root listing the key fingerprints
ZARR_ATTR = "vortexnumba_keys"
#: input bytes per slab (rounded to whole rows of chunks, at least one row)
SLAB_BYTES = 64 << 20
_METADATA_FILES = ("zarr.json", ".zarray", ".zgroup")


def is_zarr_path(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a Zarr store: a ``.zarr`` suffix or a folder holding Zarr metadata."""
    p = Path(path)
    return p.suffix.lower() == ".zarr" or (p.is_dir() and any((p / m).is_file() for m in _METADATA_FILES))


def _modules():
    try:
        import dask.array  # noqa: F401
        import zarr
    except ImportError:
        raise ImportError(f"Zarr stores need the optional packages zarr and dask: {INSTALL_HINT}") from None
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
        raise ImportError(f"scheduler needs the optional package distributed: {INSTALL_HINT}") from None
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


def _chunk_rows(arr: Any) -> tuple[int, int]:
    """``(rows, bytes)`` of one row of the store's chunks (shards if it has them) along the batch axis."""
    rows = (getattr(arr, "shards", None) or arr.chunks)[0]
    return rows, rows * int(np.prod(arr.shape[1:])) * arr.dtype.itemsize


def row_slabs(arr: Any, slab_bytes: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` along the batch axis: whole rows of chunks, about ``slab_bytes`` each."""
    rows, row_bytes = _chunk_rows(arr)
    step = rows * max(1, slab_bytes // max(1, row_bytes))
    return [(a, min(arr.shape[0], a + step)) for a in range(0, arr.shape[0], step)]


@dataclass(frozen=True)
class _Member:
    """One array of the source store and how it is written."""

    name: str  # path inside the store ("" for a store that is one array)
    label: str  # what error messages call it
    arr: Any
    is_image: bool
    is_batch: bool

    @property
    def n_images(self) -> int:
        if not self.is_image:
            return 0
        return self.arr.shape[0] if self.is_batch else 1


def _open_source(zarr: Any, source: Path) -> Any:
    if not source.exists():
        raise FileNotFoundError(f"source {str(source)!r} does not exist")
    try:
        return zarr.open(str(source), mode="r")
    except (FileNotFoundError, KeyError, ValueError, TypeError) as exc:
        raise ValueError(f"source {str(source)!r} is not a readable Zarr store: {exc}") from None


def _arrays_and_groups(zarr: Any, root_obj: Any, source: Path) -> tuple[list, list]:
    """The store's arrays and groups (parents before children) as ``(name, object)`` pairs."""
    if isinstance(root_obj, zarr.Array):
        return [("", root_obj)], []
    members: list = []
    groups: list = []
    for name, obj in root_obj.members(max_depth=None):
        (members if isinstance(obj, zarr.Array) else groups).append((name, obj))
    if not members:
        raise ValueError(f"source {str(source)!r} is a Zarr group that holds no arrays")
    return members, groups


def _plan(members: list, source: Path, key: Any, channels: bool | None, notes: list | None) -> list[_Member]:
    """Every array checked before anything is written."""
    plan = []
    for name, arr in members:
        label = f"{source}/{name}" if name else str(source)
        is_image, is_batch = _image_layout(arr.shape, arr.dtype, key, channels, label)
        if not is_image and notes is not None:
            notes.append(f"{label}: copying {tuple(arr.shape)} unchanged (not an image array)")
        plan.append(_Member(name, label, arr, is_image, is_batch))
    return plan


def _write_one_image(member: _Member, out: Any, key: Any, inverse: bool, channels: bool | None) -> None:
    """One ``(H, W[, C])`` image array, in memory."""
    fn = decrypt if inverse else encrypt
    try:
        out[...] = fn(member.arr[...], key, channels=channels if member.arr.ndim == 3 else None)
    except ValueError as exc:
        raise ValueError(f"{member.label}: {exc}") from None


def _slab_writes(member: _Member, out: Any, key: Any, inverse: bool, slabs: list) -> list:
    """One delayed ``to_zarr`` per slab of the member's output (encrypted or copied)."""
    import dask
    import dask.array as da
    from dask.array.core import PerformanceWarning

    arr = member.arr
    x = da.from_zarr(arr)
    if member.is_image:
        x = x.rechunk({0: arr.chunks[0]})  # blocks of whole chunk rows; map_key joins H, W, C
        x = map_key(x, key, inverse=inverse)
    rest = (slice(None),) * (arr.ndim - 1)
    # to_zarr regroups blocks to Dask's "array.chunk-size" (128 MiB) before writing; one row of
    # the store's chunks per task instead keeps a worker's memory at a few chunks
    _, row_bytes = _chunk_rows(arr)
    with warnings.catch_warnings(), dask.config.set({"array.chunk-size": f"{max(1, row_bytes)}B"}):
        # slabs start on chunk (shard) rows, so no two writes share a chunk; Dask warns
        # about its nominal chunk size all the same
        warnings.simplefilter("ignore", PerformanceWarning)
        return [x[a:b].to_zarr(out, region=(slice(a, b), *rest), compute=False) for a, b in slabs]


def _compute_here(writes: list, counts: list[int], bar: Any) -> None:
    # our own pool, so that no task is still writing into the temporary store when an error deletes it
    pool = ThreadPoolExecutor(os.cpu_count() or 1)
    try:
        for w, count in zip(writes, counts):
            w.compute(scheduler="threads", pool=pool)
            bar.update(count)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _compute_on(client: Any, writes: list, counts: list[int], bar: Any) -> None:
    from distributed import as_completed

    futures = client.compute(writes)
    sizes = {f.key: count for f, count in zip(futures, counts)}
    try:
        for f in as_completed(futures, loop=client.loop):
            f.result()
            bar.update(sizes[f.key])
    finally:
        client.cancel(futures)


def _write_member(member: _Member, out: Any, key: Any, inverse: bool, channels: bool | None, client: Any,
                  slab_bytes: int, bar: Any) -> None:
    arr = member.arr
    if member.is_image and not member.is_batch:
        _write_one_image(member, out, key, inverse, channels)
        bar.update(1)
        return
    if arr.ndim == 0:
        out[...] = arr[...]
        return
    slabs = row_slabs(arr, slab_bytes)
    writes = _slab_writes(member, out, key, inverse, slabs)
    counts = [b - a if member.is_image else 0 for a, b in slabs]
    try:
        if client is None:
            _compute_here(writes, counts, bar)
        else:
            _compute_on(client, writes, counts, bar)
    except ValueError as exc:
        raise ValueError(f"{member.label}[0:{arr.shape[0]}]: {exc}") from None


def _check_slab_bytes(slab_bytes: Any) -> int:
    slab_bytes = int(slab_bytes)
    if slab_bytes < 1:
        raise ValueError(f"slab_bytes must be >= 1, got {slab_bytes}")
    return slab_bytes


def transform_zarr(source: str | os.PathLike, target: str | os.PathLike, key: Any, *, inverse: bool = False,
                   force: bool = False, scheduler: Any = None, channels: bool | None = None,
                   progress: bool | None = None, notes: list | None = None, slab_bytes: int = SLAB_BYTES) -> int:
    """See :func:`encrypt_zarr`; ``inverse=True`` decrypts, ``slab_bytes`` sets the input bytes per slab.

    Examples
    --------
    >>> import numpy as np, zarr, tempfile, pathlib, vortexnumba as vn
    >>> from vortexnumba.dask._zarr import transform_zarr
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = zarr.create_array(str(d / "x.zarr"), data=np.ones((3, 4, 4), np.uint8), chunks=(1, 4, 4))
    >>> transform_zarr(d / "x.zarr", d / "y.zarr", vn.PermutationKey.random((4, 4), seed=0), progress=False)
    3
    """
    check_key(key)
    if inverse:
        check_decryptable(key)
    slab_bytes = _check_slab_bytes(slab_bytes)
    zarr = _modules()
    source, target = Path(source), Path(target)
    root_obj = _open_source(zarr, source)
    _check_paths(source, target)
    stack = _stack(root_obj.attrs.asdict(), str(source))
    stack = pop_fingerprint(stack, key, str(source)) if inverse else push_fingerprint(stack, key)
    members, groups = _arrays_and_groups(zarr, root_obj, source)
    plan = _plan(members, source, key, channels, notes)
    total = sum(m.n_images for m in plan)
    action = "decrypt" if inverse else "encrypt"
    with _client(scheduler) as client, \
            atomic_folder(target, force=force, name="target", replaceable=_not_a_store) as tmp:
        _create_layout(zarr, tmp, root_obj, groups, members, _attrs_with(root_obj.attrs.asdict(), stack))
        with progress_bar(total, f"{action} {source.name}", unit="img", enabled=progress, leave=True) as bar:
            for member in plan:
                out = zarr.open_array(str(tmp / member.name) if member.name else str(tmp), mode="r+")
                _write_member(member, out, key, inverse, channels, client, slab_bytes, bar)
    return total


def encrypt_zarr(source: str | os.PathLike, target: str | os.PathLike, key: Any, *, force: bool = False,
                 scheduler: Any = None, channels: bool | None = None, progress: bool | None = None,
                 notes: list | None = None) -> int:
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
    return transform_zarr(source, target, key, inverse=False, force=force, scheduler=scheduler,
                          channels=channels, progress=progress, notes=notes)


def decrypt_zarr(source: str | os.PathLike, target: str | os.PathLike, key: Any, *, force: bool = False,
                 scheduler: Any = None, channels: bool | None = None, progress: bool | None = None,
                 notes: list | None = None) -> int:
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
    return transform_zarr(source, target, key, inverse=True, force=force, scheduler=scheduler,
                          channels=channels, progress=progress, notes=notes)
