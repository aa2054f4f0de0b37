"""Image data sets for the encryption experiments: loaders and a verified downloader.

``load(name)`` returns ``(train_x, train_y, test_x, test_y)`` as uint8 arrays:
images of shape ``(B, H, W)`` for grey data and ``(B, H, W, 3)`` for colour,
labels of shape ``(B,)`` holding the class numbers 0..9.

Data sets
---------
``digits``
    scikit-learn's embedded 8x8 hand-written digits (1,797 images). Nothing
    to fetch. Its pixel values v in 0..16 become ``(255 * v + 8) // 16``,
    i.e. ``v * 255 / 16`` rounded half up, so 0 -> 0, 8 -> 128 and 16 -> 255. The split is a fixed seeded
    permutation (seed 0): the first 80% of it (1,438 images) is the training
    set, the rest (359 images) the test set.
``fashion-mnist``, ``mnist``
    The four IDX files ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each gzip-compressed
    (``.gz``) or not.
``cifar10``
    The python version: the pickle batches ``data_batch_1`` .. ``data_batch_5``
    and ``test_batch`` (in the folder or in a ``cifar-10-batches-py`` sub-folder),
    or the unextracted archive ``cifar-10-python.tar.gz``.

Where the files are looked for, in order: the ``data_dir`` argument, the
``VORTEXNUMBA_DATA`` environment variable, ``/usr/share/datasets/<name>``
(where Debian's ``dataset-fashion-mnist`` package installs Fashion-MNIST), and
``~/.cache/vortexnumba/<name>`` (where ``download`` puts them). A directory
given by argument or environment variable may hold the files itself or a
``<name>`` sub-folder that does.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import struct
import tarfile
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import numpy as np

from ..io._files import atomic_writer

__all__ = [
    "DATASETS",
    "OFFICIAL_SHA256",
    "OFFICIAL_URL_BASE",
    "default_cache_dir",
    "download",
    "load",
    "read_idx",
    "search_dirs",
]

DATASETS = ("digits", "fashion-mnist", "mnist", "cifar10")

#: Where Debian-style dataset packages install their files.
SYSTEM_DATA_ROOT = Path("/usr/share/datasets")

#: Environment variable naming a directory with the data.
DATA_ENV = "VORTEXNUMBA_DATA"

_IDX_FILES = {
    "train_x": "train-images-idx3-ubyte",
    "train_y": "train-labels-idx1-ubyte",
    "test_x": "t10k-images-idx3-ubyte",
    "test_y": "t10k-labels-idx1-ubyte",
}
_CIFAR_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
_CIFAR_TEST = "test_batch"
_CIFAR_ARCHIVE = "cifar-10-python.tar.gz"
_CIFAR_SUBDIR = "cifar-10-batches-py"

#: Where ``download`` fetches each data set from by default. MNIST comes from
#: the mirror that keeps LeCun's original files byte for byte (the original
#: site often refuses scripted downloads); the digests below are the same.
OFFICIAL_URL_BASE = {
    "fashion-mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "mnist": "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "cifar10": "https://www.cs.toronto.edu/~kriz/",
}

#: SHA-256 of every official file. Each value was checked against several
#: independent published records of the same file (and, for Fashion-MNIST,
#: against the MD5 sums in the data set's own README via those records).
#: Debian's package recompresses the Fashion-MNIST files, so its .gz files
#: have other digests; ``load`` reads them fine, ``download`` never fetches them.
OFFICIAL_SHA256 = {
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
    "mnist": {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    "cifar10": {
        "cifar-10-python.tar.gz": "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
    },
}

DIGITS_SPLIT_SEED = 0
DIGITS_TRAIN_FRACTION = 0.8


# --------------------------------------------------------------------------- names


def _check_name(name) -> str:
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, one of {', '.join(DATASETS)}; got {type(name).__name__} {name!r}")
    key = name.strip().lower().replace("_", "-")
    aliases = {"fashion": "fashion-mnist", "fashionmnist": "fashion-mnist", "cifar-10": "cifar10"}
    key = aliases.get(key, key)
    if key not in DATASETS:
        raise ValueError(f"name must be one of {', '.join(DATASETS)}; got {name!r}")
    return key


def default_cache_dir(name: str | None = None) -> Path:
    """Return ``~/.cache/vortexnumba`` (or its ``<name>`` sub-folder)."""
    root = Path(os.path.expanduser("~")) / ".cache" / "vortexnumba"
    return root / name if name else root


def search_dirs(name: str, data_dir=None) -> list[Path]:
    """Return the directories ``load`` looks in for data set ``name``, in order.

    Parameters
    ----------
    name : str
        A data set name (see ``DATASETS``).
    data_dir : str or path-like, optional
        A directory to look in first.

    Returns
    -------
    list of Path
        Candidate directories; those that do not exist are included so that
        an error message can list them.

    Examples
    --------
    >>> [str(p) for p in search_dirs("mnist")][-1].endswith("vortexnumba/mnist")
    True
    """
    name = _check_name(name)
    found: list[Path] = []
    for base in (data_dir, os.environ.get(DATA_ENV) or None):
        if base is None:
            continue
        base = Path(os.fspath(base)).expanduser()
        found += [base, base / name]
    found += [SYSTEM_DATA_ROOT / name, default_cache_dir(name)]
    unique: list[Path] = []
    for p in found:
        if p not in unique:
            unique.append(p)
    return unique


def _how_to_get(name: str) -> str:
    ways = []
    if name == "fashion-mnist":
        ways.append("install Debian's package: apt-get install dataset-fashion-mnist")
    ways.append(f"run: vortexnumba download {name}")
    ways.append(f"or pass data_dir (or set ${DATA_ENV}) to a directory holding the files")
    return "; ".join(ways)


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


def read_idx(path, *, ndim: int | None = None) -> np.ndarray:
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
            f"{path}: not an unsigned-byte IDX file (magic bytes {data[:4].hex()}, expected 0000 08 followed by the rank)"
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
        raise ValueError(f"{path}: IDX file {what}: header promises {expected} data bytes for shape {shape}, found {got}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape).copy()


def _find_idx(directory: Path, stem: str) -> Path | None:
    # Names seen in the wild: "train-images-idx3-ubyte" and "train-images.idx3-ubyte".
    dotted = stem.replace("-idx", ".idx")
    for candidate in (stem, stem + ".gz", dotted, dotted + ".gz"):
        p = directory / candidate
        if p.is_file():
            return p
    return None


def _load_idx_set(directory: Path):
    paths = {k: _find_idx(directory, stem) for k, stem in _IDX_FILES.items()}
    train_x = read_idx(paths["train_x"], ndim=3)
    train_y = read_idx(paths["train_y"], ndim=1)
    test_x = read_idx(paths["test_x"], ndim=3)
    test_y = read_idx(paths["test_y"], ndim=1)
    for x, y, px, py in ((train_x, train_y, paths["train_x"], paths["train_y"]), (test_x, test_y, paths["test_x"], paths["test_y"])):
        if len(x) != len(y):
            raise ValueError(f"{px} holds {len(x)} images but {py} holds {len(y)} labels")
    if train_x.shape[1:] != test_x.shape[1:]:
        raise ValueError(f"training images are {train_x.shape[1:]} but test images are {test_x.shape[1:]}")
    return train_x, train_y, test_x, test_y


def _idx_status(directory: Path):
    """(complete, present names, missing names) for the IDX files in ``directory``."""
    present, missing = [], []
    for stem in _IDX_FILES.values():
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
    except Exception as exc:
        raise ValueError(f"{where}: not a readable CIFAR-10 python batch ({type(exc).__name__}: {exc})") from None
    if not isinstance(batch, dict):
        raise ValueError(f"{where}: expected a pickled dict, found {type(batch).__name__}")
    batch = {k.decode() if isinstance(k, bytes) else k: v for k, v in batch.items()}
    if "data" not in batch or "labels" not in batch:
        raise ValueError(f"{where}: CIFAR-10 batch lacks 'data' or 'labels' (keys: {sorted(map(str, batch))})")
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


def _cifar_status(directory: Path):
    """Where the batches are in ``directory``: ('dir', Path) / ('tar', Path) / (None, missing names)."""
    for d in (directory, directory / _CIFAR_SUBDIR):
        names = _CIFAR_TRAIN + (_CIFAR_TEST,)
        if all((d / n).is_file() for n in names):
            return "dir", d
    archive = directory / _CIFAR_ARCHIVE
    if archive.is_file():
        return "tar", archive
    names = _CIFAR_TRAIN + (_CIFAR_TEST,)
    return None, [n for n in names if not (directory / n).is_file()]


def _load_cifar(kind: str, where: Path):
    blobs = {}
    if kind == "dir":
        for n in _CIFAR_TRAIN + (_CIFAR_TEST,):
            blobs[n] = ((where / n).read_bytes(), str(where / n))
    else:
        try:
            with tarfile.open(where, "r:gz") as tar:
                members = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}
                for n in _CIFAR_TRAIN + (_CIFAR_TEST,):
                    if n not in members:
                        raise ValueError(f"{where}: archive lacks the batch {n!r}")
                    fh = tar.extractfile(members[n])
                    blobs[n] = (fh.read(), f"{where}:{members[n].name}")
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise ValueError(f"{where}: damaged or truncated archive ({exc})") from None
    train = [_read_cifar_batch(*blobs[n]) for n in _CIFAR_TRAIN]
    test_x, test_y = _read_cifar_batch(*blobs[_CIFAR_TEST])
    train_x = np.concatenate([b[0] for b in train])
    train_y = np.concatenate([b[1] for b in train])
    return train_x, train_y, test_x, test_y


# --------------------------------------------------------------------------- digits


def digits_uint8() -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 of scikit-learn's 8x8 digits as uint8 (0..16 scaled to 0..255, rounded) and their labels."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    values = bunch.images.astype(np.int64)  # 0..16
    if values.min() < 0 or values.max() > 16:
        raise ValueError(f"unexpected digits pixel range {values.min()}..{values.max()}")
    return ((255 * values + 8) // 16).astype(np.uint8), bunch.target.astype(np.uint8)


def _load_digits():
    images, labels = digits_uint8()
    order = np.random.default_rng(DIGITS_SPLIT_SEED).permutation(len(images))
    n_train = int(round(DIGITS_TRAIN_FRACTION * len(images)))
    tr, te = order[:n_train], order[n_train:]
    return images[tr], labels[tr], images[te], labels[te]


# --------------------------------------------------------------------------- public


def load(name, data_dir=None):
    """Load a data set as uint8 arrays ``(train_x, train_y, test_x, test_y)``.

    Parameters
    ----------
    name : {"digits", "fashion-mnist", "mnist", "cifar10"}
        The data set.
    data_dir : str or path-like, optional
        A directory to look in before the standard places (ignored for the
        embedded ``digits``). See the module docstring for the search order.

    Returns
    -------
    train_x, train_y, test_x, test_y : numpy.ndarray
        Images ``(B, H, W)`` (grey) or ``(B, H, W, 3)`` (colour), uint8;
        labels ``(B,)``, uint8 class numbers.

    Raises
    ------
    FileNotFoundError
        If no searched directory holds the data; the message lists every
        directory looked in and how to get the data.
    ValueError
        If a file is truncated or malformed.

    Examples
    --------
    >>> train_x, train_y, test_x, test_y = load("digits")
    >>> train_x.shape, test_x.shape, train_x.dtype
    ((1438, 8, 8), (359, 8, 8), dtype('uint8'))
    """
    name = _check_name(name)
    if name == "digits":
        return _load_digits()
    looked = []
    for directory in search_dirs(name, data_dir):
        if not directory.is_dir():
            looked.append(f"{directory} (no such directory)")
            continue
        if name == "cifar10":
            kind, where = _cifar_status(directory)
            if kind is not None:
                return _load_cifar(kind, where)
            looked.append(f"{directory} (no {_CIFAR_ARCHIVE} and missing {', '.join(where)})")
        else:
            complete, present, missing = _idx_status(directory)
            if complete:
                return _load_idx_set(directory)
            looked.append(f"{directory} (missing {', '.join(m + '[.gz]' for m in missing)})")
    if name == "cifar10":
        wanted = f"{_CIFAR_ARCHIVE}, or data_batch_1..5 and test_batch (possibly in {_CIFAR_SUBDIR}/)"
    else:
        wanted = ", ".join(stem + "[.gz]" for stem in _IDX_FILES.values())
    raise FileNotFoundError(
        f"could not find the {name} data set ({wanted}). Looked in: " + "; ".join(looked)
        + ". To get it: " + _how_to_get(name)
    )


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download(name, cache_dir=None, url_base=None, *, digests=None, force=False, progress=False, timeout=60.0):
    """Fetch the official files of a data set and verify their SHA-256.

    Files already present with the right digest are kept. A file whose
    digest differs from the expected one is refused: it is never written
    under its final name (and an existing wrong file is only replaced with
    ``force=True``).

    Parameters
    ----------
    name : {"fashion-mnist", "mnist", "cifar10"}
        The data set (``digits`` is embedded and needs no download).
    cache_dir : str or path-like, optional
        Where to put the files; default ``~/.cache/vortexnumba/<name>``,
        which ``load`` searches.
    url_base : str, optional
        URL prefix the file names are appended to; default the official
        location (``OFFICIAL_URL_BASE``).
    digests : dict, optional
        ``{file name: sha256 hex}`` to expect instead of ``OFFICIAL_SHA256[name]``
        (for mirrors of other files, and for tests).
    force : bool
        Replace an existing file whose digest is wrong.
    progress : bool
        Show a progress bar per file.
    timeout : float
        Seconds to wait on the network before giving up.

    Returns
    -------
    list of Path
        The verified files.

    Examples
    --------
    >>> paths = download("fashion-mnist")  # doctest: +SKIP
    """
    name = _check_name(name)
    if name == "digits":
        raise ValueError("name 'digits' is embedded in scikit-learn; there is nothing to download")
    expected = dict(OFFICIAL_SHA256[name] if digests is None else digests)
    if not expected:
        raise ValueError("digests must name at least one file")
    base = OFFICIAL_URL_BASE[name] if url_base is None else str(url_base)
    if not base.endswith("/"):
        base += "/"
    target = Path(os.fspath(cache_dir)).expanduser() if cache_dir is not None else default_cache_dir(name)
    target.mkdir(parents=True, exist_ok=True)
    done = []
    for filename, digest in expected.items():
        digest = str(digest).lower()
        path = target / filename
        if path.is_file():
            have = _sha256_file(path)
            if have == digest:
                done.append(path)
                continue
            if not force:
                raise ValueError(
                    f"{path} exists but its SHA-256 is {have}, expected {digest}; "
                    "delete it or use force=True to fetch it again"
                )
        url = base + filename
        try:
            request = urllib.request.Request(url, headers={"User-Agent": "vortexnumba"})
            with urllib.request.urlopen(request, timeout=timeout) as resp, atomic_writer(
                path, force=True, name="data file"
            ) as out:
                total = resp.headers.get("Content-Length")
                bar = None
                if progress:
                    from tqdm.auto import tqdm

                    bar = tqdm(total=int(total) if total else None, unit="B", unit_scale=True, desc=filename)
                h = hashlib.sha256()
                for chunk in iter(lambda: resp.read(1 << 20), b""):
                    h.update(chunk)
                    out.write(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
                if bar is not None:
                    bar.close()
                got = h.hexdigest()
                if got != digest:
                    # Raising inside the writer discards the temporary file.
                    raise ValueError(f"refusing {url}: its SHA-256 is {got}, expected {digest}; nothing was saved")
        except urllib.error.URLError as exc:
            raise OSError(f"could not fetch {url}: {getattr(exc, 'reason', exc)}") from None
        done.append(path)
    return done
