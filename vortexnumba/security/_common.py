"""Helpers shared by the security modules: key type check, full-scale value, directions."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..cipher._protocol import check_key

#: Neighbour offsets (di, dj) of the three adjacent-pixel directions.
DIRECTIONS = {"horizontal": (0, 1), "vertical": (1, 0), "diagonal": (1, 1)}


def check_key_arg(key: Any, name: str = "key") -> Any:
    """The cipher's one key check (the ``Key`` protocol), under the security modules' name."""
    check_key(key, name)
    return key


def full_scale(dtype: np.dtype) -> float:
    """Largest pixel value F of the UACI denominator: 255 for uint8, 1 for floats in [0, 1]."""
    return 255.0 if dtype == np.uint8 else 1.0


def grid_symmetries(shape: Any) -> list[np.ndarray]:
    """Index maps ``T`` of the grid's symmetries: ``image.flat[T]`` is the turned or mirrored image.

    Identity first; 8 maps on a square grid (turns and mirrors), 4 otherwise.

    Examples
    --------
    >>> [m.tolist() for m in grid_symmetries((1, 2))]
    [[0, 1], [0, 1], [1, 0], [1, 0]]
    """
    h, w = shape
    idx = np.arange(h * w).reshape(h, w)
    maps = [idx, idx[::-1], idx[:, ::-1], idx[::-1, ::-1]]
    if h == w:
        maps += [idx.T, idx.T[::-1], idx.T[:, ::-1], idx.T[::-1, ::-1]]
    return [np.ascontiguousarray(m).reshape(-1) for m in maps]
