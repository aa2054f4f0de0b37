"""Helpers shared by the security modules: key type check, full-scale value, directions."""

from __future__ import annotations

import numpy as np

from ..cipher._protocol import check_key

#: Neighbour offsets (di, dj) of the three adjacent-pixel directions.
DIRECTIONS = {"horizontal": (0, 1), "vertical": (1, 0), "diagonal": (1, 1)}

def _check_key(key, name="key"):
    """The cipher's one key check (the ``Key`` protocol), under the security modules' name."""
    check_key(key, name)
    return key


def _full_scale(dtype: np.dtype) -> float:
    """Largest pixel value F of the UACI denominator: 255 for uint8, 1 for floats in [0, 1]."""
    return 255.0 if dtype == np.uint8 else 1.0
