"""Gather plans in PyTorch's ``(C, H, W)`` order, built from a key with NumPy alone.

A key describes its map over one image in ``(H, W, C)`` order: spatial keys by a
pixel index ``src`` (the same for every channel), the other schemes by an element
plan (``key.element_plan(C)``: a gather over elements or 4-bit halves of elements,
then a negation mask). PyTorch stores an image as ``(C, H, W)``; the plan here is the
same map written over that order, so one ``index_select`` on the flattened image
does the whole encryption on the tensor's own device.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..cipher import check_key

__all__ = ["TorchPlan", "plan_for"]


@dataclass(frozen=True)
class TorchPlan:
    """One map over a ``(C, H, W)`` image, ready for ``index_select``.

    Attributes
    ----------
    unit : str
        ``"pixel"`` (``index`` over the ``H * W`` pixels, shared by the channels),
        ``"element"`` (over the ``C * H * W`` values) or ``"nibble"`` (over the
        ``2 * C * H * W`` 4-bit halves, unit ``2 * f + h`` with ``h = 1`` the high half).
    index : ndarray of int64
        ``out_unit[m] = in_unit[index[m]]`` in ``(C, H, W)`` order.
    negate : ndarray of bool or None
        Output units to negate after the gather (``element``/``nibble`` only).
    """

    unit: str
    index: np.ndarray
    negate: np.ndarray | None = None


def _hwc_to_chw(n_pix: int, channels: int) -> np.ndarray:
    """``f[e]``: the ``(C, H, W)`` flat position of ``(H, W, C)`` flat element ``e``."""
    e = np.arange(n_pix * channels, dtype=np.int64)
    return (e % channels) * n_pix + e // channels


def _from_element_plan(plan, n_pix: int, channels: int) -> TorchPlan:
    unit = plan.unit
    src = np.asarray(plan.src, dtype=np.int64)
    f = _hwc_to_chw(n_pix, channels)
    if unit == "element":
        g = f
    elif unit == "nibble":
        m = np.arange(2 * n_pix * channels, dtype=np.int64)
        g = 2 * f[m // 2] + m % 2
    else:
        raise ValueError(f"the key's element plan has unit {unit!r}; expected 'element' or 'nibble'")
    if src.shape != g.shape:
        raise ValueError(
            f"the key's element plan has {src.shape[0]} units, expected {g.shape[0]} "
            f"for {channels} channel(s) of {n_pix} pixels"
        )
    index = np.empty_like(src)
    index[g] = g[src]
    negate = None
    if plan.negate is not None:
        neg = np.asarray(plan.negate, dtype=bool)
        if neg.any():
            negate = np.empty_like(neg)
            negate[g] = neg
    return TorchPlan("nibble" if unit == "nibble" else "element", index, negate)


def plan_for(key: Any, channels: int, *, inverse: bool = False) -> TorchPlan:
    """The ``(C, H, W)`` plan of ``key`` (or of its inverse) for images of ``channels`` channels.

    Parameters
    ----------
    key : Key
        Any vortexnumba key.
    channels : int
        ``C`` of the images.
    inverse : bool
        The plan that decrypts.

    Returns
    -------
    TorchPlan

    Examples
    --------
    >>> import vortexnumba as vn
    >>> from vortexnumba.torch._plans import plan_for
    >>> plan = plan_for(vn.PermutationKey((1, 3), [2, 0, 1]), 3)
    >>> plan.unit, plan.index.tolist()
    ('pixel', [2, 0, 1])
    """
    check_key(key)
    shape = tuple(key.shape)
    n_pix = shape[0] * shape[1]
    expected = getattr(key, "channels", None)
    if expected is not None and expected != channels:
        raise ValueError(f"the key was built for {expected} channel(s), the images have {channels}")
    if getattr(key, "is_spatial", True):
        if inverse:
            if not key.is_bijective:
                raise ValueError(
                    "this key cannot decrypt: in 'paper' mode the vortex rounds coordinates, so some pixels "
                    "are copied twice and others are lost; encrypt with a mode='bijective' key to decrypt"
                )
            src = key.inverse_src
        else:
            src = key.src
        return TorchPlan("pixel", np.array(src, dtype=np.int64))  # own, writable copy: torch shares it
    plan = key.inverse_plan(channels) if inverse else key.element_plan(channels)
    return _from_element_plan(plan, n_pix, channels)
