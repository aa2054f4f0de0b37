"""Assertion helpers: the fast results against the exact reference, with messages that print the case.

Tolerance (the contract of ``proofs/theorems.md``, section 4): a computed loss ``1 - rho`` (or
``Delta I``) must agree with the exact one to ``rtol`` relative wherever the
exact loss is at least ``floor`` (1e-12); below the floor the error may be
``rtol * floor`` of ``I(X)`` (resp. absolute on ``1 - rho``), but the sign
must be right.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validate import as_image_batch, as_position
from ..framework._information import information_loss, retention
from ..framework._kernels import Coupling, Kernel, resolve
from ..framework._swap import SwapContext, swap_delta, swap_deltas
from ._exact import exact_energy, exact_loss, exact_swap_delta

__all__ = ["assert_retention_matches_exact", "assert_swap_lowers", "describe_case"]

RTOL = 1e-9
FLOOR = 1e-12
#: Absolute agreement asked of a retention near 1 (a few units of float64 round-off).
RHO_ATOL = 2e-15


def describe_case(image: Any, kernel: Kernel | None, coupling: Coupling | None, **extra: Any) -> str:
    """The case as text: the image in full (small grids), the kernel, the coupling and ``extra``."""
    arr = np.asarray(image)
    text = np.array2string(arr, max_line_width=100, threshold=400, precision=17)
    lines = [f"image {arr.shape} {arr.dtype}:", text, f"kernel   = {kernel.describe()}",
             f"coupling = {coupling.describe()}"]
    lines += [f"{k} = {v}" for k, v in extra.items()]
    return "\n".join(lines)


def check_close(computed: float, exact: float, scale: float, rtol: float, floor: float) -> str | None:
    """None if ``computed`` is right; else why not. ``exact <= 0`` is a (negative) loss quantity times ``scale``."""
    if not np.isfinite(computed):
        return "computed value is not finite"
    if exact != 0.0 and computed == 0.0:
        return "computed value is 0, the exact one is not"
    if exact != 0.0 and np.sign(computed) != np.sign(exact):
        return "computed value has the wrong sign"
    tol = rtol * max(abs(exact), floor * scale)
    if abs(computed - exact) > tol:
        return f"computed value is off by {abs(computed - exact):.3g} (allowed {tol:.3g})"
    return None


def assert_swap_lowers(image: Any, a: int | tuple[int, int], b: int | tuple[int, int], kernel: Kernel | None = None,
                       coupling: Coupling | None = None, *,
                       channels: bool | None = None, rtol: float = RTOL, floor: float = FLOOR) -> float:
    """Assert that swapping pixels ``a`` and ``b`` lowers the information, exactly and as computed.

    Checks that the exact ``Delta I`` (:func:`exact_swap_delta`) is negative,
    and that :func:`vortexnumba.swap_delta`, :func:`vortexnumba.swap_deltas`
    and :class:`vortexnumba.SwapContext` each agree with it (relative
    ``rtol`` where the exact loss ``1 - rho`` is at least ``floor``; below,
    an error of ``rtol * floor * I(X)`` and the right sign).

    Parameters
    ----------
    image : array_like
        One image (H, W) or (H, W, C) with at least 2 pixels.
    a, b : int or (int, int)
        Distinct positions.
    kernel, coupling : optional
        As for :func:`vortexnumba.swap_delta`.

    Returns
    -------
    float
        The exact Delta I (negative).

    Raises
    ------
    AssertionError
        With the case printed: image, positions, kernel, coupling, exact and
        computed values.

    Examples
    --------
    >>> import numpy as np
    >>> from vortexnumba.testing import assert_swap_lowers
    >>> delta = assert_swap_lowers(np.array([[0, 0, 255, 255, 0]], dtype=np.uint8), 0, 4)
    >>> delta < 0
    True
    """
    kernel, coupling = resolve(kernel, coupling)
    x4, _ = as_image_batch(image, "image", channels=channels)
    shape = x4.shape[1:3]
    pa, pb = as_position(a, shape, "a"), as_position(b, shape, "b")
    ch = {"channels": channels}
    exact_d = exact_swap_delta(image, pa, pb, kernel, coupling, **ch)
    exact = float(exact_d)
    info = float(exact_energy(image, kernel, coupling, **ch).sqrt())
    computed = {
        "swap_delta": float(swap_delta(image, pa, pb, kernel, coupling, **ch)),
        "swap_deltas": float(swap_deltas(image, pa, kernel, coupling, **ch).flat[pb]),
        "SwapContext.delta": float(SwapContext(image, kernel, coupling, **ch).delta(pa, pb)),
    }
    case = describe_case(image, kernel, coupling, a=divmod(pa, shape[1]), b=divmod(pb, shape[1]),
                         exact_delta=repr(exact), **{k: repr(v) for k, v in computed.items()})
    if not exact_d < 0:  # the Decimal: a tiny Delta I may underflow float64
        raise AssertionError(f"the swap does not lower the information (exact Delta I = {exact!r}):\n{case}")
    for name, value in computed.items():
        why = check_close(value, exact, info, rtol, floor)
        if why is not None:
            raise AssertionError(f"{name}: {why}:\n{case}")
    return exact


def assert_retention_matches_exact(image: Any, src: Any, kernel: Kernel | None = None,
                                   coupling: Coupling | None = None, *, channels: bool | None = None,
                                   rtol: float = RTOL, floor: float = FLOOR, rho_atol: float = RHO_ATOL) -> float:
    """Assert that :func:`vortexnumba.retention` and :func:`vortexnumba.information_loss` match the exact values.

    ``information_loss`` must agree with :func:`exact_loss` to ``rtol``
    relative where the exact loss is at least ``floor`` in size, and to
    ``rtol * floor`` absolute below; ``retention`` (a number near 1, which
    float64 resolves to about 1e-16) must agree with the exact ``rho`` to
    ``rtol`` relative or ``rho_atol`` absolute.

    Returns
    -------
    float
        The exact loss ``1 - rho``.

    Raises
    ------
    AssertionError
        With the case printed: image, gather index, kernel, coupling, exact
        and computed values.

    Examples
    --------
    >>> import numpy as np
    >>> from vortexnumba.testing import assert_retention_matches_exact
    >>> image = np.arange(6, dtype=np.uint8).reshape(2, 3) * 40
    >>> assert_retention_matches_exact(image, [5, 4, 3, 2, 1, 0])  # a half turn keeps everything
    0.0
    """
    kernel, coupling = resolve(kernel, coupling)
    exact_l = exact_loss(image, src, kernel, coupling, channels=channels)
    exact, exact_rho = float(exact_l), float(1 - exact_l)
    kw = {"channels": channels}
    loss = float(information_loss(image, src, kernel, coupling, **kw))
    rho = float(retention(image, src, kernel, coupling, **kw))
    case = describe_case(image, kernel, coupling, src=np.asarray(src).tolist(), exact_loss=repr(exact),
                         information_loss=repr(loss), exact_rho=repr(exact_rho), retention=repr(rho))
    if not (np.isfinite(loss) and np.isfinite(rho)):
        raise AssertionError(f"a computed value is not finite:\n{case}")
    tol = rtol * max(abs(exact), floor)
    if abs(loss - exact) > tol:
        raise AssertionError(f"information_loss is off by {abs(loss - exact):.3g} (allowed {tol:.3g}):\n{case}")
    tol = max(rtol * abs(exact_rho), rho_atol)
    if abs(rho - exact_rho) > tol:
        raise AssertionError(f"retention is off by {abs(rho - exact_rho):.3g} (allowed {tol:.3g}):\n{case}")
    return exact
