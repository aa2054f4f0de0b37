"""File helpers: atomic writes that never overwrite a user's file unless asked."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_writer", "check_output_path", "save_figure"]


def check_output_path(path, *, force: bool = False, name: str = "output") -> Path:
    """Return ``path`` as a Path, refusing an existing file unless ``force``."""
    p = Path(path)
    if p.exists() and not force:
        raise FileExistsError(f"{name} {str(p)!r} already exists (overwrite it with force=True)")
    if p.exists() and p.is_dir():
        raise IsADirectoryError(f"{name} {str(p)!r} is a directory, expected a file path")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise FileNotFoundError(f"{name} {str(p)!r}: the folder {str(parent)!r} does not exist")
    return p


def current_umask() -> int:
    """The process umask (reading it means setting it, so set it straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_writer(path, *, force: bool = False, mode: str = "wb", name: str = "output"):
    """Open a temporary file beside ``path``; on success rename it into place.

    The rename is atomic on POSIX, so readers see either the old file (or
    none) or the complete new one, and a failure leaves no partial file.

    Examples
    --------
    >>> with atomic_writer("out.npy", force=True) as fh:  # doctest: +SKIP
    ...     np.save(fh, array)
    """
    p = check_output_path(path, force=force, name=name)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent if str(p.parent) else ".")
    try:
        # mkstemp makes the file private (0600); give it the mode an ordinary open() would.
        os.chmod(tmp, 0o666 & ~current_umask())
        with os.fdopen(fd, mode) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if p.exists() and not force:  # appeared while we were writing
            raise FileExistsError(f"{name} {str(p)!r} already exists (overwrite it with force=True)")
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def save_figure(fig, path, *, force: bool = False, dpi: int = 120) -> Path:
    """Save a matplotlib figure atomically (format from the suffix).

    A figure that pyplot manages is closed afterwards; a plain
    :class:`matplotlib.figure.Figure` (what the library builds) needs no closing,
    and pyplot is never imported here.
    """
    import sys

    p = Path(path)
    fmt = p.suffix.lstrip(".").lower() or "png"
    try:
        with atomic_writer(p, force=force, name="figure") as fh:
            fig.savefig(fh, format=fmt, dpi=dpi, bbox_inches="tight")
    finally:
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None and pyplot.fignum_exists(getattr(fig, "number", -1)):
            pyplot.close(fig)
    return p


def read_npy(path, *, name: str = "input", mmap: bool = True):
    """Load an .npy array (memory-mapped by default), turning every failure of
    a truncated or corrupted file into a ``ValueError`` that names it."""
    import numpy as np

    try:
        return np.load(path, allow_pickle=False, mmap_mode="r" if mmap else None)
    except FileNotFoundError:
        raise
    except Exception as exc:  # NumPy raises ValueError, EOFError, SyntaxError, TokenError, MemoryError...
        raise ValueError(f"{name} {str(path)!r} is not a readable .npy array ({type(exc).__name__}: {exc})") from None


def read_npz(path, *, name: str = "input") -> tuple[dict, bool]:
    """Load every array of an .npz file eagerly; returns ``(arrays, compressed)``.

    Reading eagerly makes a corrupted member fail here, as a ``ValueError``
    naming the file, rather than halfway through writing an output.
    """
    import zipfile

    import numpy as np

    try:
        with zipfile.ZipFile(path) as zf:
            compressed = any(info.compress_type != zipfile.ZIP_STORED for info in zf.infolist())
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}, compressed
    except FileNotFoundError:
        raise
    except Exception as exc:  # BadZipFile, zlib.error, EOFError, ValueError (pickled objects), ...
        raise ValueError(f"{name} {str(path)!r} is not a readable .npz archive ({type(exc).__name__}: {exc})") from None
