"""The swap theorem's assumptions on a kernel and a coupling, checked on their float64 values.

One implementation serves the built-in and the custom kernels and couplings
(:mod:`vortexnumba.framework._kernels`): a kernel must be positive and strictly
decreasing over the grid distances within R, a coupling positive, finite and
symmetric over the uint8 values. Violations raise a ``ValueError`` that names
the condition and a witness.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["check_coupling_values", "check_kernel_values", "evaluate", "grid_distances"]

#: Largest radius a custom kernel may have (its table has one entry per grid distance).
MAX_CUSTOM_RADIUS = 64.0
#: uint8 values are read as ``v / 255``: the value grid couplings are checked on.
UINT8_VALUES = np.arange(256, dtype=np.float64) / 255.0


@functools.lru_cache(maxsize=64)
def _grid_d2(radius: float) -> tuple[int, ...]:
    reach = int(math.floor(radius))
    return tuple(sorted({di * di + dj * dj for di in range(0, reach + 1) for dj in range(0, reach + 1)
                         if 0 < di * di + dj * dj and math.sqrt(di * di + dj * dj) <= radius}))


def grid_distances(radius: float) -> tuple[np.ndarray, np.ndarray]:
    """The distinct squared distances ``d2`` of grid offsets within ``radius`` and their roots.

    Examples
    --------
    >>> from vortexnumba.framework._assumptions import grid_distances
    >>> d2, d = grid_distances(2.0)
    >>> d2.tolist()
    [1, 2, 4]
    """
    d2 = np.array(_grid_d2(float(radius)), dtype=np.int64)
    return d2, np.sqrt(d2.astype(np.float64))


def fmt(x: float) -> str:
    return f"{float(x):.6g}"


def check_kernel_values(distances: np.ndarray, values: np.ndarray, what: str = "kernel",
                        hints: tuple[str, str] | None = None) -> None:
    """Refuse kernel values that break the swap theorem's assumptions.

    ``values[k] = f(distances[k])`` over the sorted grid distances within R
    must be finite, positive with a square that does not underflow (energies
    use ``f**2``) and strictly decreasing, in float64. The one check for
    built-in and custom kernels.

    Parameters
    ----------
    distances, values : array_like of float
    what : str
        How to name the kernel in the message.
    hints : (str, str), optional
        Appended to the message when the values are not positive, resp. not
        strictly decreasing (e.g. which parameter to change).

    Raises
    ------
    ValueError
        Naming the violated condition and a witness.

    Examples
    --------
    >>> from vortexnumba.framework._assumptions import check_kernel_values
    >>> check_kernel_values([1.0, 1.5], [1.0, 1.0])
    Traceback (most recent call last):
    ...
    ValueError: kernel: f must be strictly decreasing over the grid distances within R, but f(1) = 1 <= f(1.5) = 1
    """
    d = np.asarray(distances, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    pos_hint, dec_hint = hints or ("", "")
    bad = np.flatnonzero(~np.isfinite(v) | ~(v > 0) | ~(v * v > 0))
    if bad.size:
        k = bad[0]
        raise ValueError(f"{what}: f must be positive and finite at every grid distance within R (with f**2 > 0 "
                         f"in float64), but f({fmt(d[k])}) = {float(v[k])!r}{pos_hint}")
    up = np.flatnonzero(v[1:] >= v[:-1])
    if up.size:
        k = up[0]
        raise ValueError(f"{what}: f must be strictly decreasing over the grid distances within R, but "
                         f"f({fmt(d[k])}) = {fmt(v[k])} <= f({fmt(d[k + 1])}) = {fmt(v[k + 1])}{dec_hint}")


def evaluate(fn: Callable, *args: Any) -> np.ndarray:
    """Call a user function on arrays; fall back to one call per element for scalar-only functions."""
    shape = np.broadcast_shapes(*(np.shape(a) for a in args))
    try:
        out = np.asarray(fn(*args), dtype=np.float64)
        if out.shape == shape:
            return out
    except Exception:  # noqa: BLE001 - retried element by element below, which reports its own error
        pass
    flat = [np.broadcast_to(a, shape).ravel() for a in args]
    out = np.empty(int(np.prod(shape)), dtype=np.float64)
    for k in range(out.size):
        try:
            out[k] = float(fn(*(float(a[k]) for a in flat)))
        except (TypeError, ValueError) as exc:
            raise TypeError(f"the custom function must return a real number, got an error at "
                            f"{tuple(float(a[k]) for a in flat)}: {exc}") from None
    return out.reshape(shape)


def check_coupling_values(values: np.ndarray, what: str = "coupling", hint: str = "") -> None:
    """Refuse a coupling table over the uint8 values that breaks the theorem's assumptions.

    ``values[i, j] = s(i / 255, j / 255)`` must be finite and positive with
    ``s**2 > 0`` (energies use ``s**2``) and symmetric. The one check for
    built-in and custom couplings.

    Examples
    --------
    >>> import numpy as np
    >>> from vortexnumba.framework._assumptions import check_coupling_values
    >>> check_coupling_values(np.array([[1.0, 0.5], [0.4, 1.0]]))
    Traceback (most recent call last):
    ...
    ValueError: coupling: s must be symmetric over the uint8 values, but s(0/255, 1/255) = 0.5 != s(1/255, 0/255) = 0.4
    """
    v = np.asarray(values, dtype=np.float64)
    bad = np.argwhere(~np.isfinite(v) | ~(v * v > 0))
    if bad.size:
        i, j = bad[0]
        raise ValueError(f"{what}: s must be positive and finite for every pair of uint8 values (with s**2 > 0 "
                         f"in float64), but s({i}/255, {j}/255) = {float(v[i, j])!r}{hint}")
    asym = np.argwhere(v != v.T)
    if asym.size:
        i, j = asym[0]
        raise ValueError(f"{what}: s must be symmetric over the uint8 values, but s({i}/255, {j}/255) = "
                         f"{fmt(v[i, j])} != s({j}/255, {i}/255) = {fmt(v[j, i])}{hint}")
