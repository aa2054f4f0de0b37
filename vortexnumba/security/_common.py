"""Helpers shared by the security modules: key type check, full-scale value, directions."""

from __future__ import annotations

import numpy as np

from ..cipher._keys import BlockKey, IdentityKey, PermutationKey, VortexKey

#: Neighbour offsets (di, dj) of the three adjacent-pixel directions.
DIRECTIONS = {"horizontal": (0, 1), "vertical": (1, 0), "diagonal": (1, 1)}

_KEY_TYPES = (VortexKey, PermutationKey, BlockKey, IdentityKey)


def _check_key(key, name="key"):
    if not isinstance(key, _KEY_TYPES):
        raise TypeError(f"{name} must be a VortexKey, PermutationKey, BlockKey or IdentityKey, "
                        f"got {type(key).__name__}")
    return key


def _full_scale(dtype: np.dtype) -> float:
    """Largest pixel value F of the UACI denominator: 255 for uint8, 1 for floats in [0, 1]."""
    return 255.0 if dtype == np.uint8 else 1.0
