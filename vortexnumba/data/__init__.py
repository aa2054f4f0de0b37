"""Image data sets for the encryption experiments: loaders and a verified downloader.

- ``_formats``  -- reading IDX files and CIFAR-10's python batches
- ``_loaders``  -- where the files are looked for, ``load``, the embedded digits
- ``_download`` -- ``download`` through pooch, each file checked by its SHA-256

See :func:`load` for the data sets and the search order.
"""

from ._download import OFFICIAL_SHA256, OFFICIAL_URL_BASE, download
from ._formats import read_idx
from ._loaders import (  # noqa: F401 - constants and check_name are used by the CLI, reproduce and tests
    DATA_ENV,
    DATASETS,
    DIGITS_SPLIT_SEED,
    DIGITS_TRAIN_FRACTION,
    SYSTEM_DATA_ROOT,
    check_name,
    default_cache_dir,
    digits_uint8,
    load,
    search_dirs,
)

__all__ = [
    "DATASETS",
    "OFFICIAL_SHA256",
    "OFFICIAL_URL_BASE",
    "default_cache_dir",
    "digits_uint8",
    "download",
    "load",
    "read_idx",
    "search_dirs",
]
