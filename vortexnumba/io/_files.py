"""File helpers: atomic writes that never overwrite a user's file unless asked."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

__all__ = ["atomic_folder", "atomic_writer", "check_output_path", "exchange_paths", "save_figure", "write_npz"]

#: Temporaries are named ``.<target name>.<random>.tmp`` beside the target; a
#: killed run may leave one behind (delete it with ``rm -r .NAME.*.tmp``).
TMP_SUFFIX = ".tmp"


def check_output_path(path: str | Path, *, force: bool = False, name: str = "output") -> Path:
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
def atomic_writer(path: str | Path, *, force: bool = False, mode: str = "wb", name: str = "output",
                  private: bool = False) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success rename it into place.

    The rename is atomic on POSIX, so readers see either the old file (or
    none) or the complete new one, and a failure leaves no partial file.
    ``private=True`` keeps the file readable by its owner only (0600), as
    for secrets such as key files.

    Examples
    --------
    >>> with atomic_writer("out.npy", force=True) as fh:  # doctest: +SKIP
    ...     np.save(fh, array)
    """
    p = check_output_path(path, force=force, name=name)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent if str(p.parent) else ".")
    try:
        # mkstemp makes the file private (0600); give it the mode an ordinary open() would.
        if not private:
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


def _renameat2_exchange():
    """``renameat2(..., RENAME_EXCHANGE)`` from the C library, or None where it is missing."""
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def exchange_paths(a: str | Path, b: str | Path) -> bool:
    """Swap two existing paths in one atomic step (Linux ``renameat2``); False where unsupported."""
    import ctypes

    fn = _renameat2_exchange()
    if fn is None:
        return False
    rc = fn(_AT_FDCWD, os.fsencode(str(a)), _AT_FDCWD, os.fsencode(str(b)), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: file system or kernel without it
        return False
    raise OSError(err, os.strerror(err), str(b))


def replace_folder(new: str | Path, target: str | Path) -> None:
    """Put the complete folder ``new`` at ``target``, replacing whatever folder is there.

    On Linux the two are swapped atomically, so ``target`` always names a
    complete folder (old or new). Elsewhere the old folder is renamed aside
    first, which leaves a moment of a few microseconds with nothing at
    ``target``; the old folder is deleted only after the new one is in place.
    """
    import shutil

    new, target = Path(new), Path(target)
    if not target.exists() and not target.is_symlink():
        os.replace(new, target)
        return
    if target.is_dir() and not target.is_symlink() and exchange_paths(new, target):
        shutil.rmtree(new, ignore_errors=True)  # now holds the old folder
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
    os.replace(target, old / target.name)
    os.replace(new, target)
    shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def atomic_folder(path: str | Path, *, force: bool = False, name: str = "output",
                  replaceable: Callable[[Path], str | None] | None = None) -> Iterator[Path]:
    """Build a folder beside ``path`` and put it in place only when complete.

    Yields the temporary folder (``.<name>.<random>.tmp`` beside the target).
    On success it replaces ``path``; on any error or interruption it is
    deleted, and ``path`` is untouched. A killed process may leave the
    temporary folder behind, never a partial folder under the target's name.

    Parameters
    ----------
    path : str or Path
        The target folder.
    force : bool
        Replace an existing target.
    replaceable : callable, optional
        ``replaceable(path) -> str | None``: a reason to refuse replacing an
        existing target even with ``force=True`` (e.g. it holds other files).
    """
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise FileNotFoundError(f"{name} {str(p)!r}: the folder {str(parent)!r} does not exist")

    def check():
        if p.exists() or p.is_symlink():
            if not force:
                raise FileExistsError(f"{name} {str(p)!r} already exists (overwrite it with force=True)")
            if not p.is_dir() or p.is_symlink():
                raise FileExistsError(f"{name} {str(p)!r} exists and is not a folder; refusing to replace it")
            reason = replaceable(p) if replaceable is not None else None
            if reason:
                raise ValueError(f"{name} {str(p)!r} {reason}; refusing to replace it even with force=True")

    check()
    tmp = Path(tempfile.mkdtemp(prefix=f".{p.name}.", suffix=TMP_SUFFIX, dir=parent))
    try:
        os.chmod(tmp, 0o777 & ~current_umask())  # mkdtemp makes it 0700
        yield tmp
        check()  # the target may have appeared meanwhile
        replace_folder(tmp, p)
    except BaseException:
        _remove_tree(tmp)
        raise


def _remove_tree(path: Path, tries: int = 20) -> None:
    """Delete a folder, again if a straggling writer (a cancelled cluster task) recreates part of it."""
    import shutil
    import time

    for _ in range(tries):
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            return
        time.sleep(0.05)


def save_figure(fig: Any, path: str | Path, *, force: bool = False, dpi: int = 120) -> Path:
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


def read_npy(path: str | Path, *, name: str = "input", mmap: bool = True) -> np.ndarray:
    """Load an .npy array (memory-mapped by default), turning every failure of
    a truncated or corrupted file into a ``ValueError`` that names it."""
    import numpy as np

    try:
        return np.load(path, allow_pickle=False, mmap_mode="r" if mmap else None)
    except FileNotFoundError:
        raise
    except Exception as exc:  # noqa: BLE001 -- NumPy raises ValueError, EOFError, SyntaxError, TokenError, MemoryError...
        raise ValueError(f"{name} {str(path)!r} is not a readable .npy array ({type(exc).__name__}: {exc})") from None


def read_npz(path: str | Path, *, name: str = "input") -> tuple[dict, bool]:
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
    except Exception as exc:  # noqa: BLE001 -- BadZipFile, zlib.error, EOFError, ValueError (pickled objects), ...
        raise ValueError(f"{name} {str(path)!r} is not a readable .npz archive ({type(exc).__name__}: {exc})") from None


def write_npz(fh: IO[bytes], arrays: dict, *, compressed: bool = False) -> None:
    """Write ``arrays`` (member name -> array) as an ``.npz`` archive to the open binary file ``fh``.

    The archive is the one :func:`numpy.savez` writes (one ``NAME.npy`` per
    member, read back by :func:`numpy.load`), but the names never meet
    ``savez``'s own parameters, so members called ``file``, ``allow_pickle``
    or anything else are written like any other. Arrays of Python objects are
    refused (they would need pickling).

    Examples
    --------
    >>> import io, numpy as np
    >>> buf = io.BytesIO()
    >>> write_npz(buf, {"file": np.arange(3), "allow_pickle": np.zeros(2)})
    >>> _ = buf.seek(0)
    >>> with np.load(buf) as z:
    ...     sorted(z.files), z["file"].tolist()
    (['allow_pickle', 'file'], [0, 1, 2])
    """
    import zipfile

    import numpy as np

    mode = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
    with zipfile.ZipFile(fh, mode="w", compression=mode, allowZip64=True) as zf:
        for name, arr in arrays.items():
            if not isinstance(name, str) or not name:
                raise ValueError(f"npz member names must be non-empty strings, got {name!r}")
            with zf.open(f"{name}.npy", mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(arr), allow_pickle=False)
