"""The one progress bar of the package.

Long work (folders of images, Zarr slabs, training epochs, attacks) reports
through :func:`progress`, so every bar looks and behaves the same: it writes
to stderr, hides itself when stderr is not a terminal (``enabled=None``), and
leaves no line behind unless asked.
"""

from __future__ import annotations

import sys
from typing import Any


def progress(total: int | None = None, desc: str = "", *, unit: str = "it", enabled: bool | None = None,
             leave: bool = False, **kwargs: Any) -> Any:
    """A ``tqdm`` bar on stderr.

    Parameters
    ----------
    total : int, optional
        Number of steps, if known.
    desc : str
        Label shown before the bar.
    unit : str
        What one step is ("img", "batch", "B", ...).
    enabled : bool or None
        ``True`` always shows the bar, ``False`` never does, ``None`` shows it
        only when stderr is a terminal.
    leave : bool
        Keep the finished bar on screen.
    **kwargs
        Passed to :class:`tqdm.tqdm` (e.g. ``unit_scale=True``).

    Returns
    -------
    tqdm.tqdm
        Use as a context manager and call ``update(n)``.

    Examples
    --------
    >>> from vortexnumba._progress import progress
    >>> with progress(3, "demo", enabled=False) as bar:
    ...     for _ in range(3):
    ...         _ = bar.update(1)
    """
    from tqdm.auto import tqdm

    disable = None if enabled is None else not enabled
    return tqdm(total=total, desc=desc, unit=unit, disable=disable, leave=leave, file=sys.stderr, **kwargs)
