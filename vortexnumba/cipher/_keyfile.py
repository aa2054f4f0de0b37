"""Key files: the one place that turns a path into a key object and back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._keys import key_from_json
from ._limits import MAX_PIXELS
from ._protocol import check_key

__all__ = ["MAX_KEY_FILE_BYTES", "load_key", "save_key"]

#: Largest key file read: a permutation key at the pixel limit is ~9 bytes per pixel.
MAX_KEY_FILE_BYTES = 16 * MAX_PIXELS


def load_key(path: str | Path, *, grid: Any = None) -> Any:
    """Read a key written by ``key.to_json()`` (or ``vortexnumba keygen``).

    Parameters
    ----------
    path : str or Path
        The JSON key file.
    grid : (int, int), optional
        The grid of the images the key will serve. A key declaring another
        grid is refused before any array is built.

    Returns
    -------
    VortexKey, PermutationKey, BlockKey or IdentityKey

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    ValueError
        When the file is not a valid key (or not for ``grid``); the message names the file.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"key file {str(p)!r} does not exist")
    size = p.stat().st_size
    if size > MAX_KEY_FILE_BYTES:
        raise ValueError(f"key file {str(p)!r} has {size} bytes; a key file has at most {MAX_KEY_FILE_BYTES}")
    try:
        return key_from_json(p.read_bytes(), grid=grid)
    except ValueError as exc:
        raise ValueError(f"key file {str(p)!r}: {exc}") from None


def save_key(key: Any, path: str | Path, *, force: bool = False) -> Path:
    """Write ``key.to_json()`` to ``path`` atomically, readable by its owner only (mode 0600).

    Parameters
    ----------
    key : Key
    path : str or Path
    force : bool
        Replace an existing file.

    Returns
    -------
    Path
    """
    from ..io._files import atomic_writer

    check_key(key)
    with atomic_writer(path, force=force, mode="w", private=True, name="key file") as fh:
        fh.write(key.to_json())
    return Path(path)
