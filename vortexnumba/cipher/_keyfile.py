"""Reading a key file: the one place that turns a path into a key object."""

from __future__ import annotations

from pathlib import Path

from ._keys import key_from_json


def load_key(path):
    """Read a key written by ``key.to_json()`` (or ``vortexnumba keygen``).

    Parameters
    ----------
    path : str or Path
        The JSON key file.

    Returns
    -------
    VortexKey, PermutationKey, BlockKey or IdentityKey

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    ValueError
        When the file is not a valid key; the message names the file.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"key file {str(p)!r} does not exist")
    try:
        return key_from_json(p.read_bytes())
    except ValueError as exc:
        raise ValueError(f"key file {str(p)!r}: {exc}") from None
