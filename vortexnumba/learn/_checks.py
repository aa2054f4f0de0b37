"""Argument checks of the training code, built on the package's shared ones in ``_validate``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validate import as_int, as_seed

__all__ = ["model_seed", "optional_positive_int", "positive_int"]


def positive_int(value: Any, name: str) -> int:
    """``value`` as an int >= 1: ``TypeError`` for a non-integer, ``ValueError`` below 1.

    Examples
    --------
    >>> positive_int(3, "epochs")
    3
    """
    v = as_int(value, name)
    if v < 1:
        raise ValueError(f"{name} must be a positive int, got {v}")
    return v


def optional_positive_int(value: Any, name: str) -> int | None:
    """``None``, or ``value`` as an int >= 1.

    Examples
    --------
    >>> optional_positive_int(None, "train_limit") is None
    True
    """
    if value is None:
        return None
    v = as_int(value, name)
    if v < 1:
        raise ValueError(f"{name} must be a positive int or None, got {v}")
    return v


def model_seed(seed: Any) -> int:
    """``seed`` as a non-negative int (``None`` and seed sequences are refused: a model needs one number).

    Examples
    --------
    >>> model_seed(3)
    3
    """
    if seed is None or isinstance(seed, np.random.SeedSequence):
        raise TypeError(f"seed must be a non-negative int, got {type(seed).__name__} {seed!r}")
    value = as_seed(seed)
    assert isinstance(value, int)  # a SeedSequence was refused above
    return value
