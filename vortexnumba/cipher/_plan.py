"""Element plans: what every key, spatial or not, tells the gather engine.

A plan is a gather index over the *units* of one image plus an optional
negation mask over the output units:

- ``unit == "element"``: one unit per value, in ``(H, W, C)`` order
  (``M = H * W * C``);
- ``unit == "nibble"``: the two 4-bit halves of every uint8 value, unit
  ``2 * e + h`` being the low (``h = 0``) or high (``h = 1``) nibble of
  element ``e`` (``M = 2 * H * W * C``).

Encryption is ``out[m] = in[src[m]]`` and then, where ``negate[m]``,
``out[m] = top - out[m]`` (``top`` = 255 for uint8 elements, 15 for nibbles,
1 for float elements). Because the negation follows the gather, the inverse
plan is again "gather, then negate": ``src' = argsort(src)`` and
``negate'[k] = negate[src'[k]]``.

This module only builds and inspects plans; :mod:`._gather` applies them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from . import _vortex

__all__ = ["UNITS", "ElementPlan", "inverse_plan", "plan_sha256", "spatial_plan", "tracking_src"]

UNITS = ("element", "nibble")


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class ElementPlan:
    """A gather over the units of one image, then an optional negation.

    Parameters
    ----------
    unit : {"element", "nibble"}
        What one index counts: a value at a position and channel, or one
        4-bit half of a uint8 value (unit ``2 * e + h``, ``h = 1`` the high half).
    src : ndarray of int64, shape (M,)
        ``out_unit[m] = in_unit[src[m]]`` over the flat units of one image in
        ``(H, W, C)`` order.
    negate : ndarray of bool, shape (M,), or None
        Output units negated after the gather (``255 - v``, ``15 - v`` for a
        nibble, ``1 - v`` for floats); None negates nothing.

    Examples
    --------
    >>> import numpy as np
    >>> from vortexnumba.cipher import ElementPlan
    >>> plan = ElementPlan("element", np.array([1, 0]), np.array([True, False]))
    >>> plan.n_units, plan.negates
    (2, True)
    """

    unit: str
    src: np.ndarray
    negate: np.ndarray | None = None

    def __post_init__(self):
        if self.unit not in UNITS:
            raise ValueError(f"unit must be one of {UNITS}, got {self.unit!r}")
        src = np.asarray(self.src)
        if src.ndim != 1 or src.dtype.kind not in "iu":
            raise ValueError(f"src must be a 1-D integer array, got shape {src.shape} and dtype {src.dtype}")
        src = _frozen(np.array(src, dtype=np.int64, copy=True))
        if src.size and (src.min() < 0 or src.max() >= src.shape[0]):
            raise ValueError(f"src must hold unit indices in 0..{src.shape[0] - 1}")
        neg = self.negate
        if neg is not None:
            neg = np.asarray(neg)
            if neg.shape != src.shape or neg.dtype != np.bool_:
                raise ValueError(f"negate must be a bool array of shape {src.shape}, got shape {neg.shape} "
                                 f"and dtype {neg.dtype}")
            neg = _frozen(neg.copy()) if neg.any() else None
        object.__setattr__(self, "src", src)
        object.__setattr__(self, "negate", neg)

    @property
    def n_units(self) -> int:
        """``M``, the number of units of one image."""
        return int(self.src.shape[0])

    @property
    def negates(self) -> bool:
        """Whether any output unit is negated."""
        return self.negate is not None

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        neg_a = np.zeros(0, bool) if self.negate is None else self.negate
        neg_b = np.zeros(0, bool) if other.negate is None else other.negate
        return self.unit == other.unit and np.array_equal(self.src, other.src) and np.array_equal(neg_a, neg_b)

    __hash__ = None


def spatial_plan(src: np.ndarray, channels: int) -> ElementPlan:
    """The element plan of a spatial gather index: every channel follows its pixel.

    Examples
    --------
    >>> import numpy as np
    >>> from vortexnumba.cipher._plan import spatial_plan
    >>> spatial_plan(np.array([1, 0]), 2).src.tolist()
    [2, 3, 0, 1]
    """
    src = np.asarray(src, dtype=np.int64)
    c = int(channels)
    return ElementPlan("element", (src[:, None] * c + np.arange(c)).reshape(-1))


def inverse_plan(plan: ElementPlan) -> ElementPlan:
    """The plan that undoes ``plan`` (``ValueError`` if its gather is not a permutation).

    Examples
    --------
    >>> import numpy as np
    >>> from vortexnumba.cipher._plan import ElementPlan, inverse_plan
    >>> inv = inverse_plan(ElementPlan("element", np.array([2, 0, 1]), np.array([True, False, False])))
    >>> inv.src.tolist(), inv.negate.tolist()
    ([1, 2, 0], [False, False, True])
    """
    if not _vortex.is_permutation(plan.src):
        raise ValueError("this plan's gather is not a permutation, so it has no inverse")
    inv = _vortex.inverse(plan.src)
    return ElementPlan(plan.unit, inv, None if plan.negate is None else plan.negate[inv])


def plan_sha256(plan: ElementPlan) -> str:
    """SHA-256 hex digest of a plan: its unit, its gather (little-endian int64), its negation mask.

    Examples
    --------
    >>> import numpy as np
    >>> from vortexnumba.cipher._plan import ElementPlan, plan_sha256
    >>> len(plan_sha256(ElementPlan("nibble", np.arange(4))))
    64
    """
    h = hashlib.sha256(plan.unit.encode("ascii") + b"\0")
    h.update(np.ascontiguousarray(plan.src, dtype="<i8").tobytes())
    neg = np.zeros(plan.n_units, np.uint8) if plan.negate is None else plan.negate.astype(np.uint8)
    h.update(neg.tobytes())
    return h.hexdigest()


def tracking_src(plan: ElementPlan, channels: int) -> np.ndarray:
    """Pixel tracking map of a plan: the source pixel of each output pixel's first channel.

    For nibble plans it follows the high nibble (the most significant bits).

    Examples
    --------
    >>> import numpy as np
    >>> from vortexnumba.cipher._plan import spatial_plan, tracking_src
    >>> tracking_src(spatial_plan(np.array([2, 0, 1]), 3), 3).tolist()
    [2, 0, 1]
    """
    c = int(channels)
    if plan.unit == "element":
        first = plan.src[::c]
    else:
        first = plan.src[1::2 * c] >> 1
    return np.ascontiguousarray(first // c, dtype=np.int64)
