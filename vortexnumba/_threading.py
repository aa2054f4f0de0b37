"""The one place that chooses Numba's threading layer, before any parallel kernel runs.

Numba's default on Linux is GNU OpenMP, which is not fork-safe: a process that ran a
``parallel=True`` kernel and then forks (``torch.utils.data.DataLoader(num_workers > 0)``,
``multiprocessing`` with the fork start method) aborts as soon as a child runs one.
Intel TBB is both fork-safe and thread-safe (Dask's threads call the kernels
concurrently), so it is preferred whenever the ``tbb`` package is installed; pip
installs its library next to the interpreter, not on the loader's path, so it is
loaded here by its full path first. Without TBB, Numba's own choice stays
(``workqueue`` would be fork-safe but aborts when two threads run kernels at once).

A threading layer the user chose (``NUMBA_THREADING_LAYER`` or
``numba.config.THREADING_LAYER`` set before importing vortexnumba) is never changed.
"""

from __future__ import annotations

import ctypes
import os
import sys
from importlib import metadata

__all__ = ["choose_threading_layer", "find_tbb"]

# The TBB interface version Numba's TBB layer needs (2021 update 6).
_MIN_TBB_INTERFACE = 12060

if sys.platform.startswith("win"):
    _TBB_NAME = "tbb12.dll"
elif sys.platform == "darwin":
    _TBB_NAME = "libtbb.12.dylib"
else:
    _TBB_NAME = "libtbb.so.12"


def _installed_tbb_paths() -> list[str]:
    """Full paths of the TBB library that a ``tbb`` distribution installed, if any."""
    try:
        dist = metadata.distribution("tbb")
    except (metadata.PackageNotFoundError, OSError, ValueError):  # none installed, or unreadable metadata
        return []
    paths = []
    for f in dist.files or ():
        if f.name == _TBB_NAME:
            paths.append(str(dist.locate_file(f)))
    return paths


def find_tbb() -> str | None:
    """The TBB library that Numba's TBB layer can use: a path, a name, or None.

    Tries the library of an installed ``tbb`` distribution first, then the
    loader's own search path; a library older than Numba needs counts as none.
    Loading it (globally) is what lets Numba's TBB layer find it afterwards.

    Returns
    -------
    str or None

    Examples
    --------
    >>> from vortexnumba._threading import find_tbb
    >>> found = find_tbb()
    >>> found is None or "tbb" in found
    True
    """
    for candidate in [*_installed_tbb_paths(), _TBB_NAME]:
        try:
            lib = ctypes.CDLL(candidate, mode=getattr(ctypes, "RTLD_GLOBAL", 0))
            version = lib.TBB_runtime_interface_version
        except (OSError, AttributeError):
            continue
        version.argtypes = []
        version.restype = ctypes.c_int
        if version() >= _MIN_TBB_INTERFACE:
            return candidate
    return None


def choose_threading_layer() -> str:
    """Select the fork-safe TBB layer when it is available and the user chose none.

    Returns
    -------
    str
        The threading layer Numba will use (``"tbb"``), or the configured
        value it left in place (``"default"``: Numba's own order, or the user's choice).

    Examples
    --------
    >>> from vortexnumba._threading import choose_threading_layer
    >>> choose_threading_layer() in {"default", "tbb", "omp", "workqueue", "safe", "forksafe", "threadsafe"}
    True
    """
    from numba.core import config

    chosen: str = getattr(config, "THREADING_LAYER")  # noqa: B009 -- set at run time, unseen by the checker
    if "NUMBA_THREADING_LAYER" in os.environ or chosen != "default":
        return chosen
    if find_tbb() is not None:
        setattr(config, "THREADING_LAYER", "tbb")  # noqa: B010 -- as above
        chosen = "tbb"
    return chosen


# Chosen on import: the package imports this module before any module that holds a kernel.
choose_threading_layer()
