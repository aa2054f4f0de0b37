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
the user cache ``$XDG_CACHE_HOME/vortexnumba/<name>`` (default
``~/.cache/vortexnumba/<name>``, where ``download`` puts them). A directory
given by argument or environment variable may hold the files itself or a
``<name>`` sub-folder that does.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ._formats import (
    CIFAR_ARCHIVE,
    CIFAR_SUBDIR,
    IDX_FILES,
    cifar_status,
    idx_status,
    load_cifar,
    load_idx_set,
)

__all__ = ["DATASETS", "default_cache_dir", "digits_uint8", "load", "search_dirs"]

DATASETS = ("digits", "fashion-mnist", "mnist", "cifar10")

#: Where Debian-style dataset packages install their files.
SYSTEM_DATA_ROOT = Path("/usr/share/datasets")

#: Environment variable naming a directory with the data.
DATA_ENV = "VORTEXNUMBA_DATA"

DIGITS_SPLIT_SEED = 0
DIGITS_TRAIN_FRACTION = 0.8


# --------------------------------------------------------------------------- names


def check_name(name: Any) -> str:
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, one of {', '.join(DATASETS)}; got {type(name).__name__} {name!r}")
    key = name.strip().lower().replace("_", "-")
    aliases = {"fashion": "fashion-mnist", "fashionmnist": "fashion-mnist", "cifar-10": "cifar10"}
    key = aliases.get(key, key)
    if key not in DATASETS:
        raise ValueError(f"name must be one of {', '.join(DATASETS)}; got {name!r}")
    return key


def default_cache_dir(name: str | None = None) -> Path:
    """The user cache of the package (or its ``<name>`` sub-folder).

    ``pooch.os_cache("vortexnumba")``: ``$XDG_CACHE_HOME/vortexnumba`` on
    Linux, ``~/.cache/vortexnumba`` when that variable is unset.

    Examples
    --------
    >>> default_cache_dir("mnist").name
    'mnist'
    """
    import pooch

    root = Path(pooch.os_cache("vortexnumba"))
    return root / name if name else root


def search_dirs(name: str, data_dir: str | Path | None = None) -> list[Path]:
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
    name = check_name(name)
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


def load(name: str, data_dir: str | Path | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
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
    name = check_name(name)
    if name == "digits":
        return _load_digits()
    looked = []
    for directory in search_dirs(name, data_dir):
        if not directory.is_dir():
            looked.append(f"{directory} (no such directory)")
            continue
        if name == "cifar10":
            kind, where = cifar_status(directory)
            if kind is not None:
                return load_cifar(kind, where)
            looked.append(f"{directory} (no {CIFAR_ARCHIVE} and missing {', '.join(where)})")
        else:
            complete, present, missing = idx_status(directory)
            if complete:
                return load_idx_set(directory)
            looked.append(f"{directory} (missing {', '.join(m + '[.gz]' for m in missing)})")
    if name == "cifar10":
        wanted = f"{CIFAR_ARCHIVE}, or data_batch_1..5 and test_batch (possibly in {CIFAR_SUBDIR}/)"
    else:
        wanted = ", ".join(stem + "[.gz]" for stem in IDX_FILES.values())
    raise FileNotFoundError(
        f"could not find the {name} data set ({wanted}). Looked in: " + "; ".join(looked)
        + ". To get it: " + _how_to_get(name)
    )
