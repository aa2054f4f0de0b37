"""The distance kernel f and the value coupling s of the information framework.

Both are plain, immutable data. They know how to evaluate themselves and how
to lay themselves out as the small tables the Numba kernels read
(:class:`Geometry`, :func:`value_table`), but they hold no state beyond their
parameters (and, for custom ones, the user's function and its values).

Assumptions
-----------
The swap theorem needs ``f`` positive and strictly decreasing over the grid
distances within ``R`` (``R >= 1``) and ``s`` positive and symmetric. Every
kernel, built-in or custom, is checked by one function,
:func:`check_kernel_values`, on its float64 values: a built-in whose parameter
makes the values collapse (``Kernel.power(1e-17, 4)``: ``f(1) == f(sqrt 2)``)
is refused with a ``ValueError`` naming the parameter, as is a custom kernel
that breaks an assumption (unless ``check=False``). Couplings are checked over
the uint8 value range by :func:`check_coupling_values`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .._validate import as_positive_float, plain_list
from ._assumptions import (
    MAX_CUSTOM_RADIUS,
    UINT8_VALUES,
    check_coupling_values,
    check_kernel_values,
    evaluate,
    fmt,
    grid_distances,
)

__all__ = ["MAX_RADIUS", "Coupling", "Geometry", "Kernel", "check_coupling_values", "check_kernel_values",
           "grid_distances", "resolve", "value_table"]

_FAMILIES = ("power", "gaussian", "exponential")
#: Radii from here on are refused. A kernel of radius R is laid out as a table of (2 floor(R) + 1)**2 grid
#: offsets; at R = 2048 that is more than the 4 * 2**22 offsets a grid of the largest size (2**22 pixels)
#: has, so no image could use the table, and building it would cost seconds and gigabytes for nothing.
MAX_RADIUS = 2048.0


def _check_radius(radius, limit: float = MAX_RADIUS) -> float:
    """``radius`` as a float in [1, limit), refused before any table is sized by it."""
    r = as_positive_float(radius, "radius", minimum=1.0, inclusive=True)
    if r >= limit:
        raise ValueError(f"radius must be < {limit:g}, got {r:g}: the kernel's table would hold "
                         f"(2 floor(R) + 1)**2 = {(2 * math.floor(r) + 1) ** 2:.3g} grid offsets, more than "
                         f"any image can use (at most 4 * 2**22 offsets on the largest grid)")
    return r


@dataclass(frozen=True)
class Kernel:
    """A positive, strictly decreasing distance kernel, zero beyond ``radius``.

    Build one with :meth:`power`, :meth:`gaussian`, :meth:`exponential` or
    :meth:`from_function`.

    Attributes
    ----------
    family : {"power", "gaussian", "exponential", "custom"}
    param : float or None
        ``alpha`` for the power family, ``tau`` for gaussian and exponential,
        None for a custom kernel.
    radius : float
        1 <= R < :data:`MAX_RADIUS`; pairs farther apart than R carry no information.
    function : callable or None
        The user's ``f`` of a custom kernel.
    values : tuple of float
        ``f`` at the sorted distinct grid distances within R, computed once
        when the kernel is built; the fast kernels and the exact reference of
        a custom kernel read these values.

    Examples
    --------
    >>> import vortexnumba as vn
    >>> k = vn.Kernel.power(alpha=2.0, radius=3.0)
    >>> float(k(2.0))
    0.25
    >>> float(k(3.5))
    0.0
    >>> vn.Kernel.power(alpha=1e-17, radius=4.0)
    Traceback (most recent call last):
    ...
    ValueError: Kernel.power(alpha=1e-17, radius=4): f must be strictly decreasing over the grid distances within R, but f(1) = 1 <= f(1.41421) = 1; alpha is too small for float64 to tell the distances apart
    """  # noqa: E501 - a doctest shows the whole error message, which cannot be wrapped

    family: str
    param: float | None
    radius: float
    function: Callable | None = field(default=None, repr=False)
    values: tuple = field(default=(), repr=False, compare=False)

    def __post_init__(self):
        if self.family == "custom":
            if not callable(self.function):
                raise TypeError(f"a custom kernel needs a callable f, got {type(self.function).__name__}")
            radius = as_positive_float(self.radius, "radius", minimum=1.0, inclusive=True)
            if radius > MAX_CUSTOM_RADIUS:  # far below MAX_RADIUS: f is evaluated at every distance within R
                raise ValueError(f"radius must be <= {MAX_CUSTOM_RADIUS:g} for a custom kernel, got {radius!r}")
            object.__setattr__(self, "radius", radius)
            if not self.values:  # evaluated once, here: Geometry reads these values
                _, d = grid_distances(radius)
                object.__setattr__(self, "values", tuple(evaluate(self.function, d).tolist()))
            return
        if self.family not in _FAMILIES:
            raise ValueError(f"family must be one of {plain_list(_FAMILIES)}, got {self.family!r}")
        if self.function is not None:
            raise ValueError(f"a {self.family} kernel takes no function (use Kernel.from_function)")
        pname = "alpha" if self.family == "power" else "tau"
        object.__setattr__(self, "param", as_positive_float(self.param, pname))
        object.__setattr__(self, "radius", _check_radius(self.radius))
        _, d = grid_distances(self.radius)
        values = self._formula(d)
        big, small = (f"; {pname} is too large", f"; {pname} is too small") if self.family == "power" else \
            (f"; {pname} is too small", f"; {pname} is too large")
        check_kernel_values(d, values, f"Kernel.{self.family}({pname}={self.param:g}, radius={self.radius:g})",
                            hints=(big + " (f underflows)", small + " for float64 to tell the distances apart"))
        object.__setattr__(self, "values", tuple(values.tolist()))

    @classmethod
    def power(cls, alpha: float = 2.0, radius: float = 3.0) -> Kernel:
        """``f(d) = d**(-alpha)`` for ``0 < d <= radius``."""
        return cls("power", alpha, radius)

    @classmethod
    def gaussian(cls, tau: float = 1.0, radius: float = 3.0) -> Kernel:
        """``f(d) = exp(-d**2 / (2 tau**2))`` for ``0 < d <= radius``."""
        return cls("gaussian", tau, radius)

    @classmethod
    def exponential(cls, tau: float = 1.0, radius: float = 3.0) -> Kernel:
        """``f(d) = exp(-d / tau)`` for ``0 < d <= radius``."""
        return cls("exponential", tau, radius)

    @classmethod
    def from_function(cls, f: Callable, radius: float, *, check: bool = True) -> Kernel:
        """A kernel from your own ``f(d)``, evaluated once at the grid distances within ``radius``.

        Only the values of ``f`` at the distances ``sqrt(di**2 + dj**2) <= radius``
        of grid offsets are ever used; they are computed here (``f`` is called
        with a float64 array of them, or once per distance if it only takes
        scalars) and laid out as the same tables the built-in kernels use, so
        a custom kernel runs at the built-ins' speed.

        Parameters
        ----------
        f : callable
            ``f(d) -> float`` for ``d > 0``.
        radius : float
            R >= 1 (at most 64); pairs farther apart carry no information.
        check : bool
            Refuse ``f`` unless it is positive and strictly decreasing over the
            grid distances within R (the swap theorem's assumptions).
            ``check=False`` accepts it anyway, to explore what breaks.

        Raises
        ------
        ValueError
            With ``check=True``, naming the violated condition and a witness.

        Examples
        --------
        >>> import vortexnumba as vn
        >>> k = vn.Kernel.from_function(lambda d: 1.0 / (1.0 + d), radius=2.0)
        >>> [round(v, 4) for v in k.values]  # f at 1, sqrt(2), 2
        [0.5, 0.4142, 0.3333]
        >>> step = lambda d: 1.0 if d < 1.9 else 1.3
        >>> vn.Kernel.from_function(step, radius=2.5)
        Traceback (most recent call last):
        ...
        ValueError: custom kernel: f must be strictly decreasing over the grid distances within R, but f(1) = 1 <= f(1.41421) = 1
        >>> vn.Kernel.from_function(step, radius=2.5, check=False).values
        (1.0, 1.0, 1.3, 1.3)
        """  # noqa: E501 - a doctest shows the whole error message, which cannot be wrapped
        kernel = cls("custom", None, radius, f)
        if check:
            _, d = grid_distances(kernel.radius)
            check_kernel_values(d, kernel.values, "custom kernel")
        return kernel

    def _formula(self, d: np.ndarray) -> np.ndarray:
        if self.family == "power":
            return d ** (-self.param)
        if self.family == "gaussian":
            return np.exp(-(d * d) / (2.0 * self.param * self.param))
        return np.exp(-d / self.param)

    def __call__(self, d):
        """Evaluate f at distances ``d > 0`` (zero beyond the radius)."""
        d = np.asarray(d, dtype=np.float64)
        if np.any(~(d > 0)):
            raise ValueError("distances passed to a Kernel must be > 0; f(0) is never used")
        v = evaluate(self.function, d) if self.family == "custom" else self._formula(d)
        return np.where(d <= self.radius, v, 0.0)

    def describe(self) -> str:
        """A short human-readable name, e.g. ``power(alpha=2, R=3)``."""
        if self.family == "custom":
            name = getattr(self.function, "__qualname__", None) or repr(self.function)
            return f"custom({name}, R={self.radius:g})"
        pname = "alpha" if self.family == "power" else "tau"
        return f"{self.family}({pname}={self.param:g}, R={self.radius:g})"


@dataclass(frozen=True)
class Coupling:
    """A symmetric, positive similarity ``s(x, y)`` of two pixel values.

    ``gaussian(h)``: ``s = exp(-mean_c (x_c - y_c)**2 / (2 h**2))``;
    ``constant()``: ``s = 1`` (pure geometry); :meth:`from_function`: your own
    ``s``. Pixel values are read as ``value / 255`` for uint8 images and as
    given for float images.

    Attributes
    ----------
    family : {"gaussian", "constant", "custom"}
    h : float or None
        The Gaussian bandwidth.
    function : callable or None
        The user's ``s`` of a custom coupling.
    values : tuple of float
        Custom couplings only: ``s(0, k / 255)`` for ``k = 0 .. 255``.

    Examples
    --------
    >>> import vortexnumba as vn
    >>> round(float(vn.Coupling.gaussian(h=0.5)(0.0, 0.5)), 6)
    0.606531
    >>> vn.Coupling.gaussian(h=1e-5)
    Traceback (most recent call last):
    ...
    ValueError: Coupling.gaussian(h=1e-05): s must be positive and finite for every pair of uint8 values (with s**2 > 0 in float64), but s(0/255, 1/255) = 0.0; h is too small: every pair of distinct uint8 values would have zero bond
    """  # noqa: E501 - a doctest shows the whole error message, which cannot be wrapped

    family: str
    h: float | None = None
    function: Callable | None = field(default=None, repr=False)
    values: tuple = field(default=(), repr=False, compare=False)

    def __post_init__(self):
        if self.family == "custom":
            if not callable(self.function):
                raise TypeError(f"a custom coupling needs a callable s, got {type(self.function).__name__}")
            if not self.values:  # s(0, d) for the 256 uint8 differences d = k / 255
                object.__setattr__(self, "values",
                                   tuple(evaluate(self.function, 0.0, UINT8_VALUES).tolist()))
            return
        if self.function is not None:
            raise ValueError(f"a {self.family} coupling takes no function (use Coupling.from_function)")
        if self.family == "gaussian":
            h = as_positive_float(self.h, "h")
            object.__setattr__(self, "h", h)
            d = UINT8_VALUES[1]
            if not math.exp(-(d * d) / (h * h)) > 0:  # s(0, 1/255)**2: the largest bond of distinct values
                check_coupling_values(np.array([[1.0, 0.0], [0.0, 1.0]]), f"Coupling.gaussian(h={h:g})",
                                      "; h is too small: every pair of distinct uint8 values would have zero bond")
        elif self.family == "constant":
            if self.h is not None:
                raise ValueError("the constant coupling takes no bandwidth h")
        else:
            raise ValueError(f"coupling family must be 'gaussian', 'constant' or 'custom', got {self.family!r}")

    @classmethod
    def gaussian(cls, h: float = 0.25) -> Coupling:
        return cls("gaussian", h)

    @classmethod
    def constant(cls) -> Coupling:
        return cls("constant")

    @classmethod
    def from_function(cls, s: Callable, *, check: bool = True) -> Coupling:
        """A coupling from your own ``s(x, y)``, evaluated once into a table.

        The fast kernels read a coupling as a table indexed by the difference
        of uint8 pixel values, so a custom ``s`` must depend on the two values
        only through their difference, as the built-ins do: it is evaluated as
        ``s(0, |x - y|)`` (values in [0, 1]), and on images with C channels at
        the root-mean-square channel difference, ``s(0, sqrt(mean_c (x_c -
        y_c)**2))`` (for the Gaussian this is its usual formula). Custom
        couplings work on **uint8 images only**: float images have no finite
        set of differences to tabulate, a table over quantised values would
        not be exact and a Python call per pair would be slow, so passing a
        float image raises a ``ValueError``.

        Parameters
        ----------
        s : callable
            ``s(x, y) -> float`` for pixel values ``x, y`` in [0, 1]; called
            with float64 arrays (or with scalars, one pair at a time, if it
            does not take arrays).
        check : bool
            Refuse ``s`` unless, over every pair of uint8 values
            ``(i / 255, j / 255)``, it is positive and finite, symmetric and a
            function of ``|x - y|`` only (relative 1e-12). ``check=False``
            accepts it anyway.

        Raises
        ------
        ValueError
            With ``check=True``, naming the violated condition and a witness.

        Examples
        --------
        >>> import numpy as np
        >>> import vortexnumba as vn
        >>> c = vn.Coupling.from_function(lambda x, y: 1.0 / (1.0 + 10.0 * abs(x - y)))
        >>> round(float(c(0.0, 0.1)), 6)
        0.5
        >>> vn.Coupling.from_function(lambda x, y: 1.0 + x)
        Traceback (most recent call last):
        ...
        ValueError: custom coupling: s must be symmetric over the uint8 values, but s(0/255, 1/255) = 1 != s(1/255, 0/255) = 1.00392
        """  # noqa: E501 - a doctest shows the whole error message, which cannot be wrapped
        coupling = cls("custom", None, s)
        if check:
            grid = evaluate(s, UINT8_VALUES[:, None], UINT8_VALUES[None, :])
            what = "custom coupling"
            check_coupling_values(grid, what)
            # s(x, y) against s(0, |x - y|) with the same float64 difference (a threshold at a value of |x - y|
            # must not trip over the rounding of i/255 - j/255)
            diff = np.abs(UINT8_VALUES[:, None] - UINT8_VALUES[None, :])
            by_diff = evaluate(s, 0.0, diff)
            off = np.argwhere(~(np.abs(grid - by_diff) <= 1e-12 * np.abs(by_diff)))
            if off.size:
                i, j = off[0]
                raise ValueError(f"{what}: s must depend on the values only through |x - y|, but s({i}/255, {j}/255)"
                                 f" = {fmt(grid[i, j])} != s(0, |{i}/255 - {j}/255|) = {fmt(by_diff[i, j])}")
        return coupling

    @property
    def gamma(self) -> float:
        """``1 / (2 h**2)``, so that ``s = exp(-gamma * mean sq. difference)``; 0 if constant."""
        if self.family == "custom":
            raise ValueError("a custom coupling has no Gaussian rate gamma")
        return 0.0 if self.family == "constant" else 1.0 / (2.0 * self.h * self.h)

    def describe(self) -> str:
        """A short human-readable name, e.g. ``gaussian(h=0.25)``."""
        if self.family == "custom":
            return f"custom({getattr(self.function, '__qualname__', None) or repr(self.function)})"
        return f"gaussian(h={self.h:g})" if self.family == "gaussian" else "constant()"

    def __call__(self, x, y):
        """s for values ``x``, ``y`` of shape (..., C) or scalars."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        diff = x - y
        msq = diff * diff if diff.ndim == 0 else np.mean(diff * diff, axis=-1)
        if self.family == "custom":
            return evaluate(self.function, 0.0, np.sqrt(msq))
        return np.exp(-self.gamma * msq)


DEFAULT_KERNEL = Kernel.power(2.0, 3.0)
DEFAULT_COUPLING = Coupling.gaussian(0.25)


def resolve(kernel: Kernel | None, coupling: Coupling | None) -> tuple[Kernel, Coupling]:
    """Fill in the defaults and check the types of ``kernel`` and ``coupling``."""
    kernel = DEFAULT_KERNEL if kernel is None else kernel
    coupling = DEFAULT_COUPLING if coupling is None else coupling
    if not isinstance(kernel, Kernel):
        raise TypeError(f"kernel must be a vortexnumba.Kernel (e.g. Kernel.power()), got {type(kernel).__name__}")
    if not isinstance(coupling, Coupling):
        raise TypeError(
            f"coupling must be a vortexnumba.Coupling (e.g. Coupling.gaussian()), got {type(coupling).__name__}"
        )
    return kernel, coupling


# The tables the Numba kernels read live in _tables.py; re-exported here, where the kernels import them.
from ._tables import Geometry, value_table  # noqa: E402
