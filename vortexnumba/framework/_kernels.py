"""The distance kernel f and the value coupling s of the information framework.

Both are plain, immutable data. They know how to evaluate themselves and how
to lay themselves out as the small tables the Numba kernels read
(:class:`Geometry`), but they hold no state beyond their parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._validate import as_positive_float

__all__ = ["Coupling", "Geometry", "Kernel", "resolve"]

_FAMILIES = ("power", "gaussian", "exponential")


@dataclass(frozen=True)
class Kernel:
    """A positive, strictly decreasing distance kernel, zero beyond ``radius``.

    Build one with :meth:`power`, :meth:`gaussian` or :meth:`exponential`.

    Attributes
    ----------
    family : {"power", "gaussian", "exponential"}
    param : float
        ``alpha`` for the power family, ``tau`` for the other two.
    radius : float
        R >= 1; pairs farther apart than R carry no information.

    Examples
    --------
    >>> import vortexnumba as vn
    >>> k = vn.Kernel.power(alpha=2.0, radius=3.0)
    >>> float(k(2.0))
    0.25
    >>> float(k(3.5))
    0.0
    """

    family: str
    param: float
    radius: float

    def __post_init__(self):
        if self.family not in _FAMILIES:
            raise ValueError(f"family must be one of {_FAMILIES}, got {self.family!r}")
        pname = "alpha" if self.family == "power" else "tau"
        object.__setattr__(self, "param", as_positive_float(self.param, pname))
        object.__setattr__(self, "radius", as_positive_float(self.radius, "radius", minimum=1.0, inclusive=True))

    @classmethod
    def power(cls, alpha: float = 2.0, radius: float = 3.0) -> "Kernel":
        """``f(d) = d**(-alpha)`` for ``0 < d <= radius``."""
        return cls("power", alpha, radius)

    @classmethod
    def gaussian(cls, tau: float = 1.0, radius: float = 3.0) -> "Kernel":
        """``f(d) = exp(-d**2 / (2 tau**2))`` for ``0 < d <= radius``."""
        return cls("gaussian", tau, radius)

    @classmethod
    def exponential(cls, tau: float = 1.0, radius: float = 3.0) -> "Kernel":
        """``f(d) = exp(-d / tau)`` for ``0 < d <= radius``."""
        return cls("exponential", tau, radius)

    def __call__(self, d):
        """Evaluate f at distances ``d > 0`` (zero beyond the radius)."""
        d = np.asarray(d, dtype=np.float64)
        if np.any(~(d > 0)):
            raise ValueError("distances passed to a Kernel must be > 0; f(0) is never used")
        if self.family == "power":
            v = d ** (-self.param)
        elif self.family == "gaussian":
            v = np.exp(-(d * d) / (2.0 * self.param * self.param))
        else:
            v = np.exp(-d / self.param)
        return np.where(d <= self.radius, v, 0.0)


@dataclass(frozen=True)
class Coupling:
    """A symmetric, positive similarity ``s(x, y)`` of two pixel values.

    ``gaussian(h)``: ``s = exp(-mean_c (x_c - y_c)**2 / (2 h**2))``;
    ``constant()``: ``s = 1`` (pure geometry). Pixel values are read as
    ``value / 255`` for uint8 images and as given for float images.

    Examples
    --------
    >>> import vortexnumba as vn
    >>> round(float(vn.Coupling.gaussian(h=0.5)(0.0, 0.5)), 6)
    0.606531
    """

    family: str
    h: float | None = None

    def __post_init__(self):
        if self.family == "gaussian":
            object.__setattr__(self, "h", as_positive_float(self.h, "h"))
        elif self.family == "constant":
            if self.h is not None:
                raise ValueError("the constant coupling takes no bandwidth h")
        else:
            raise ValueError(f"coupling family must be 'gaussian' or 'constant', got {self.family!r}")

    @classmethod
    def gaussian(cls, h: float = 0.25) -> "Coupling":
        return cls("gaussian", h)

    @classmethod
    def constant(cls) -> "Coupling":
        return cls("constant")

    @property
    def gamma(self) -> float:
        """``1 / (2 h**2)``, so that ``s = exp(-gamma * mean sq. difference)``; 0 if constant."""
        return 0.0 if self.family == "constant" else 1.0 / (2.0 * self.h * self.h)

    def __call__(self, x, y):
        """s for values ``x``, ``y`` of shape (..., C) or scalars."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        diff = x - y
        msq = diff * diff if diff.ndim == 0 else np.mean(diff * diff, axis=-1)
        return np.exp(-self.gamma * msq)


DEFAULT_KERNEL = Kernel.power(2.0, 3.0)
DEFAULT_COUPLING = Coupling.gaussian(0.25)


def resolve(kernel, coupling) -> tuple[Kernel, Coupling]:
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


@dataclass(frozen=True, eq=False)
class Geometry:
    """The kernel laid out as the tables the Numba kernels read.

    Attributes
    ----------
    reach : int
        ``floor(R)``: no offset coordinate exceeds it.
    f_table : ndarray, shape (2*reach + 1, 2*reach + 1)
        ``f(|(di, dj)|)`` at ``[di + reach, dj + reach]``, 0 for offsets beyond R.
    near_table : ndarray of uint8, same shape
        1 where ``0 < |(di, dj)| <= R``: which pairs count as neighbours.
    half_di, half_dj : ndarray of int64
        One offset of each {v, -v} pair within R (``di > 0`` or ``di == 0, dj > 0``):
        enumerating them visits each unordered neighbour pair once.
    full_di, full_dj, full_bin : ndarray of int64
        Every offset within R and the index of its distance in ``distances``.
    distances : ndarray of float64
        The sorted distinct neighbour distances D_R.
    f_values : ndarray of float64, shape (D + 1,)
        ``[0, f(distances[0]), f(distances[1]), ...]``.
    f_index_table : ndarray of int64, same shape as ``f_table``
        Index into ``f_values`` of each offset (0 beyond R), so that a pair's
        kernel values before and after a move form a small integer code.
    """

    reach: int
    f_table: np.ndarray
    near_table: np.ndarray
    half_di: np.ndarray
    half_dj: np.ndarray
    full_di: np.ndarray
    full_dj: np.ndarray
    full_bin: np.ndarray
    distances: np.ndarray
    f_values: np.ndarray
    f_index_table: np.ndarray

    @classmethod
    def of(cls, kernel: Kernel) -> "Geometry":
        radius = kernel.radius
        reach = int(math.floor(radius))
        side = 2 * reach + 1
        near = np.zeros((side, side), dtype=np.uint8)
        full = []
        for di in range(-reach, reach + 1):
            for dj in range(-reach, reach + 1):
                d2 = di * di + dj * dj
                d = math.sqrt(d2)
                if d2 == 0 or d > radius:
                    continue
                near[di + reach, dj + reach] = 1
                full.append((di, dj, d2))
        full_arr = np.array(full, dtype=np.int64).reshape(-1, 3)
        d2s = np.unique(full_arr[:, 2])
        f_values = np.concatenate([[0.0], kernel(np.sqrt(d2s.astype(np.float64)))])
        f_index = np.zeros((side, side), dtype=np.int64)
        f_index[full_arr[:, 0] + reach, full_arr[:, 1] + reach] = 1 + np.searchsorted(d2s, full_arr[:, 2])
        # one table, one source of truth: f_table is read from f_values
        f_table = f_values[f_index]
        half = full_arr[(full_arr[:, 0] > 0) | ((full_arr[:, 0] == 0) & (full_arr[:, 1] > 0))]
        return cls(
            reach=reach,
            f_table=f_table,
            near_table=near,
            half_di=np.ascontiguousarray(half[:, 0]),
            half_dj=np.ascontiguousarray(half[:, 1]),
            full_di=np.ascontiguousarray(full_arr[:, 0]),
            full_dj=np.ascontiguousarray(full_arr[:, 1]),
            full_bin=np.searchsorted(d2s, full_arr[:, 2]).astype(np.int64),
            distances=np.sqrt(d2s.astype(np.float64)),
            f_values=f_values,
            f_index_table=f_index,
        )


def value_table(coupling: Coupling, dtype: np.dtype, n_channels: int, power: int) -> tuple[np.ndarray, float]:
    """Table and rate the kernels use to evaluate ``s**power`` quickly.

    ``s**power = exp(-rate * sum_c (x_c - y_c)**2)`` with raw pixel values.

    For uint8 images the sum of squared channel differences is an integer in
    ``[0, C * 255**2]``, so ``s**power`` is a table lookup instead of an
    ``exp``. For float images the table is empty and the kernels evaluate
    ``exp(-rate * sum of squared differences)``.
    """
    rate = power * coupling.gamma / n_channels
    if dtype == np.uint8:
        rate /= 65025.0  # values are read as v / 255
        if n_channels == 1:  # indexed by |x - y|: 256 entries stay in L1 cache
            d = np.arange(256, dtype=np.float64)
            return np.exp(-rate * (d * d)), rate
        if n_channels <= 4:  # indexed by the sum of squared differences; at most 2 MB
            return np.exp(-rate * np.arange(n_channels * 65025 + 1, dtype=np.float64)), rate
    return np.zeros(0), rate
