"""File formats of the data sets: IDX (MNIST, Fashion-MNIST) and CIFAR-10's python batches.

Readers only: they turn bytes into uint8 arrays and refuse malformed,
truncated or unsafe files with a ``ValueError`` naming the file.
"""

from __future__ import annotations

import gzip
import io
import pickle
import struct
import tarfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from .._validate import plain_list

__all__ = ["read_idx"]

IDX_FILES = {
    "train_x": "train-images-idx3-ubyte",
    "train_y": "train-labels-idx1-ubyte",
    "test_x": "t10k-images-idx3-ubyte",
    "test_y": "t10k-labels-idx1-ubyte",
}
CIFAR_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR_TEST = "test_batch"
CIFAR_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR_SUBDIR = "cifar-10-batches-py"


# --------------------------------------------------------------------------- IDX


def _open_maybe_gzip(path: Path) -> bytes:
    """Read ``path`` whole, decompressing it if it is gzip (by content, not name)."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as exc:
            raise ValueError(f"{path}: damaged or truncated gzip file ({exc})") from None
    return raw


def read_idx(path: str | Path, *, ndim: int | None = None) -> np.ndarray:
    """Read one IDX file (uint8 data), gzip-compressed or not.

    Parameters
    ----------
    path : str or path-like
        The file.
    ndim : int, optional
        The number of dimensions the file must have (3 for images, 1 for labels).

    Returns
    -------
    numpy.ndarray
        uint8 array of the shape the header gives.

    Raises
    ------
    ValueError
        If the header is not an unsigned-byte IDX header, the dimensions are
        wrong, or the data is shorter or longer than the header says.

    References
    ----------
    .. [1] LeCun, Cortes, Burges, "The MNIST database" (the IDX file format).
    """
    path = Path(path)
    data = _open_maybe_gzip(path)
    if len(data) < 4:
        raise ValueError(f"{path}: not an IDX file (only {len(data)} bytes)")
    zero, dtype_code, dims = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(
            f"{path}: not an unsigned-byte IDX file (magic bytes {data[:4].hex()}, "
            "expected 0000 08 followed by the rank)"
        )
    if ndim is not None and dims != ndim:
        raise ValueError(f"{path}: IDX file has {dims} dimension(s), expected {ndim}")
    header = 4 + 4 * dims
    if len(data) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(data)} bytes, expected at least {header})")
    shape = struct.unpack(f">{dims}I", data[4:header])
    expected = int(np.prod(shape, dtype=np.int64)) if dims else 1
    got = len(data) - header
    if got != expected:
        what = "truncated" if got < expected else "has trailing bytes"
        raise ValueError(
            f"{path}: IDX file {what}: header promises {expected} data bytes for shape {shape}, found {got}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape).copy()


def _find_idx(directory: Path, stem: str) -> Path | None:
    # Names seen in the wild: "train-images-idx3-ubyte" and "train-images.idx3-ubyte".
    dotted = stem.replace("-idx", ".idx")
    for candidate in (stem, stem + ".gz", dotted, dotted + ".gz"):
        p = directory / candidate
        if p.is_file():
            return p
    return None


def load_idx_set(directory: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    paths = {k: _find_idx(directory, stem) for k, stem in IDX_FILES.items()}
    train_x = read_idx(paths["train_x"], ndim=3)
    train_y = read_idx(paths["train_y"], ndim=1)
    test_x = read_idx(paths["test_x"], ndim=3)
    test_y = read_idx(paths["test_y"], ndim=1)
    sets = ((train_x, train_y, paths["train_x"], paths["train_y"]), (test_x, test_y, paths["test_x"], paths["test_y"]))
    for x, y, px, py in sets:
        if len(x) != len(y):
            raise ValueError(f"{px} holds {len(x)} images but {py} holds {len(y)} labels")
    if train_x.shape[1:] != test_x.shape[1:]:
        raise ValueError(f"training images are {train_x.shape[1:]} but test images are {test_x.shape[1:]}")
    return train_x, train_y, test_x, test_y


def idx_status(directory: Path) -> tuple[bool, list[str], list[str]]:
    """(complete, present names, missing names) for the IDX files in ``directory``."""
    present, missing = [], []
    for stem in IDX_FILES.values():
        (present if _find_idx(directory, stem) else missing).append(stem)
    return not missing, present, missing


# --------------------------------------------------------------------------- CIFAR-10


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """Unpickler that can build NumPy arrays and plain containers, nothing else.

    CIFAR-10's batches are pickles; a pickle can run arbitrary code, so only
    the few NumPy reconstructors the batches need are allowed.
    """

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("_codecs", "encode"),  # how protocol-2 pickles written by Python 3 store bytes
    }

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a data file")


def _read_cifar_batch(data: bytes, where: str):
    try:
        batch = _ArrayOnlyUnpickler(io.BytesIO(data), encoding="bytes").load()
    except Exception as exc:  # noqa: BLE001 -- whatever a hostile pickle raises becomes a ValueError naming the file
        raise ValueError(f"{where}: not a readable CIFAR-10 python batch ({type(exc).__name__}: {exc})") from None
    if not isinstance(batch, dict):
        raise ValueError(f"{where}: expected a pickled dict, found {type(batch).__name__}")
    batch = {k.decode() if isinstance(k, bytes) else k: v for k, v in batch.items()}
    if "data" not in batch or "labels" not in batch:
        raise ValueError(f"{where}: CIFAR-10 batch lacks 'data' or 'labels' "
                         f"(keys: {plain_list(sorted(map(str, batch)))})")
    x = np.asarray(batch["data"])
    y = np.asarray(batch["labels"])
    if x.ndim != 2 or x.shape[1] != 3 * 32 * 32:
        raise ValueError(f"{where}: CIFAR-10 'data' must have shape (n, 3072), found {x.shape}")
    if y.shape != (x.shape[0],):
        raise ValueError(f"{where}: {x.shape[0]} images but labels of shape {y.shape}")
    if x.dtype != np.uint8:
        raise ValueError(f"{where}: CIFAR-10 'data' must be uint8, found {x.dtype}")
    if y.size and (y.min() < 0 or y.max() > 9):
        raise ValueError(f"{where}: CIFAR-10 labels must lie in 0..9, found {y.min()}..{y.max()}")
    # Rows store the red plane, then green, then blue, each 32x32 row-major.
    images = x.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), y.astype(np.uint8)


def cifar_status(directory: Path) -> tuple[str | None, Any]:
    """Where the batches are in ``directory``: ('dir', Path) / ('tar', Path) / (None, missing names)."""
    for d in (directory, directory / CIFAR_SUBDIR):
        names = CIFAR_TRAIN + (CIFAR_TEST,)
        if all((d / n).is_file() for n in names):
            return "dir", d
    archive = directory / CIFAR_ARCHIVE
    if archive.is_file():
        return "tar", archive
    names = CIFAR_TRAIN + (CIFAR_TEST,)
    return None, [n for n in names if not (directory / n).is_file()]


def load_cifar(kind: str, where: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    blobs = {}
    if kind == "dir":
        for n in CIFAR_TRAIN + (CIFAR_TEST,):
            blobs[n] = ((where / n).read_bytes(), str(where / n))
    else:
        try:
            with tarfile.open(where, "r:gz") as tar:
                members = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}
                for n in CIFAR_TRAIN + (CIFAR_TEST,):
                    if n not in members:
                        raise ValueError(f"{where}: archive lacks the batch {n!r}")
                    fh = tar.extractfile(members[n])
                    blobs[n] = (fh.read(), f"{where}:{members[n].name}")
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise ValueError(f"{where}: damaged or truncated archive ({exc})") from None
    train = [_read_cifar_batch(*blobs[n]) for n in CIFAR_TRAIN]
    test_x, test_y = _read_cifar_batch(*blobs[CIFAR_TEST])
    train_x = np.concatenate([b[0] for b in train])
    train_y = np.concatenate([b[1] for b in train])
    return train_x, train_y, test_x, test_y
