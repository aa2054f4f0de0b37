"""Exact references for small grids: the framework's definitions in 120-digit decimal arithmetic.

The fast kernels of :mod:`vortexnumba.framework` work in float64 and are
arranged to avoid cancellation; these functions are what they are judged
against. They transcribe the definitions (``docs/framework.md``) pair by pair
with Python's :mod:`decimal` at ``digits`` significant digits, so a loss
``1 - rho`` as small as ``10**-(digits - 20)`` is still resolved to many
digits. They are slow (O(N R^2) decimal operations per image) and meant for
grids up to about 16 x 16.

Kernel and coupling values come from their formulas evaluated in decimal, not
from the float64 tables the fast kernels use; the two differ by about one
float64 rounding per value, which moves ``rho`` by a relative 1e-16 at most.
"""

from __future__ import annotations

import decimal
import functools
import inspect
import math
from decimal import Decimal
from typing import Any

import numpy as np

from .._validate import as_index, as_one_image, as_position
from ..framework._assumptions import evaluate, grid_distances
from ..framework._kernels import Coupling, Kernel, resolve

__all__ = ["digits_needed", "exact_energy", "exact_loss", "exact_retention", "exact_swap_delta"]

DEFAULT_DIGITS = 120


def _context(digits: int) -> decimal.Context:
    return decimal.Context(prec=int(digits), Emin=-999999, Emax=999999)


def digits_needed(kernel: Kernel | None = None, coupling: Coupling | None = None) -> int:
    """Significant digits with which the exact reference resolves every loss for this kernel and coupling.

    A loss ``1 - rho`` can be as small as the square of the weakest bond
    ``s f`` (with pixel values in [0, 1]), relative to 1; this returns 40
    digits more than that takes, and at least 120. A result smaller than
    ``10**-(digits - 20)`` is zero.

    Examples
    --------
    >>> import vortexnumba as vn
    >>> from vortexnumba.testing import digits_needed
    >>> digits_needed(vn.Kernel.power(2, 3), vn.Coupling.gaussian(0.25))
    120
    >>> digits_needed(None, vn.Coupling.gaussian(0.05))
    216
    """
    kernel, coupling = resolve(kernel, coupling)
    f = [v for v in kernel.values if v > 0]
    log_f = -math.log10(min(f)) if f else 0.0
    if coupling.family == "gaussian":
        log_s = 1.0 / (2.0 * coupling.h * coupling.h * math.log(10.0))
    elif coupling.family == "custom":
        s = [v for v in coupling.values if v > 0]
        log_s = -math.log10(min(s)) if s else 0.0
    else:
        log_s = 0.0
    return int(min(max(DEFAULT_DIGITS, 40 + math.ceil(2.0 * (log_f + log_s))), 5000))


def _in_context(fn):
    """Run ``fn`` at its ``digits`` (None: :func:`digits_needed`) as the current decimal context, so
    that plain operators (``a * b``, ``x / 255``) are as precise as the explicit ``ctx`` calls (the
    default context keeps only 28 digits)."""
    sig = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        if bound.arguments["digits"] is None:
            bound.arguments["digits"] = digits_needed(bound.arguments["kernel"], bound.arguments["coupling"])
        with decimal.localcontext(_context(bound.arguments["digits"])):
            return fn(*bound.args, **bound.kwargs)

    return wrapper


def _kernel_value(kernel: Kernel, d2: int, ctx) -> Decimal:
    """f(sqrt(d2)) in decimal; 0 beyond the radius."""
    if d2 > kernel.radius * kernel.radius:  # exact: d2 is an int, radius**2 a float compared exactly
        return Decimal(0)
    if math.sqrt(d2) > kernel.radius:  # the fast kernels compare the float64 distance
        return Decimal(0)
    family = kernel.family
    if family == "custom":  # a kernel defined by its float64 values (computed once, as the fast kernels read them)
        d2s, _ = grid_distances(kernel.radius)
        return Decimal(kernel.values[int(np.searchsorted(d2s, d2))])
    d = ctx.sqrt(Decimal(d2))
    param = Decimal(kernel.param)
    if family == "power":
        return ctx.exp(ctx.multiply(-param, ctx.ln(d)))
    if family == "gaussian":
        return ctx.exp(ctx.divide(-Decimal(d2), 2 * param * param))
    if family == "exponential":
        return ctx.exp(ctx.divide(-d, param))
    raise ValueError(f"unknown kernel family {family!r}")


def _pixel_values(image4: np.ndarray) -> list[tuple[Decimal, ...]]:
    """Each pixel's channel values as decimals: uint8 as value/255, floats exactly."""
    b, h, w, c = image4.shape
    flat = image4.reshape(h * w, c)
    if flat.dtype == np.uint8:
        return [tuple(Decimal(int(v)) / Decimal(255) for v in px) for px in flat]
    return [tuple(Decimal(float(v)) for v in px) for px in flat]


_S2_CACHES: dict = {}
_F_CACHE: dict = {}


def _kernel_value_cached(kernel: Kernel, d2: int, ctx) -> Decimal:
    key = (kernel, d2, ctx.prec)
    v = _F_CACHE.get(key)
    if v is None:
        if len(_F_CACHE) > 100_000:
            _F_CACHE.clear()
        v = _F_CACHE[key] = _kernel_value(kernel, d2, ctx)
    return v


class _Coupler:
    """``s(x, y)**2`` in decimal, memoised by the pair of values."""

    def __init__(self, coupling: Coupling, ctx):
        self.coupling = coupling
        self.ctx = ctx
        # shared by the calls with the same coupling and precision (verify calls the reference thousands of times)
        if len(_S2_CACHES) > 16:
            _S2_CACHES.clear()
        self.cache = _S2_CACHES.setdefault((coupling, ctx.prec), {})
        if len(self.cache) > 200_000:
            self.cache.clear()

    def s2(self, x, y) -> Decimal:
        if self.coupling.family == "constant":
            return Decimal(1)
        key = (x, y) if x <= y else (y, x)
        v = self.cache.get(key)
        if v is None:
            ctx = self.ctx
            msq = sum((ctx.multiply(a - b, a - b) for a, b in zip(x, y)), Decimal(0)) / len(x)
            if self.coupling.family == "custom":
                # a coupling defined by its float64 values s(0, rms difference): take them exactly, squared exactly
                s = Decimal(float(evaluate(self.coupling.function, 0.0, float(ctx.sqrt(msq)))))
                v = self.cache[key] = ctx.multiply(s, s)
                return v
            h = Decimal(self.coupling.h)
            # s**2 = exp(-msq / h**2)
            v = ctx.exp(ctx.divide(-msq, h * h))
            self.cache[key] = v
        return v


def _one_image(image, kernel, coupling, name, channels):
    kernel, coupling = resolve(kernel, coupling)
    return as_one_image(image, name, channels=channels), kernel, coupling


def _offsets(kernel: Kernel, ctx) -> list[tuple[int, int, Decimal]]:
    reach = int(math.floor(kernel.radius))
    out = []
    for di in range(-reach, reach + 1):
        for dj in range(-reach, reach + 1):
            if di == 0 and dj == 0:
                continue
            f = _kernel_value_cached(kernel, di * di + dj * dj, ctx)
            if f != 0:
                out.append((di, dj, f))
    return out


def _f_of(kernel: Kernel, ctx):
    cache: dict[int, Decimal] = {}

    def f(d2: int) -> Decimal:
        v = cache.get(d2)
        if v is None:
            v = cache[d2] = _kernel_value_cached(kernel, d2, ctx)
        return v

    return f


def _energy(values, h, w, offsets, coupler, ctx) -> Decimal:
    total = Decimal(0)
    for q in range(h * w):
        qi, qj = divmod(q, w)
        for di, dj, f in offsets:
            ri, rj = qi + di, qj + dj
            if 0 <= ri < h and 0 <= rj < w:
                total = ctx.add(total, ctx.multiply(coupler.s2(values[q], values[ri * w + rj]), f * f))
    return total


@_in_context
def exact_energy(image: Any, kernel: Kernel | None = None, coupling: Coupling | None = None, *,
                 channels: bool | None = None,
                 digits: int | None = None) -> Decimal:
    """E(X), the sum of squared bonds over ordered pairs, in ``digits``-digit decimal arithmetic.

    Examples
    --------
    >>> import numpy as np
    >>> from vortexnumba.testing import exact_energy
    >>> e = exact_energy(np.zeros((1, 2)), coupling=__import__("vortexnumba").Coupling.constant())
    >>> float(e)  # two ordered pairs at distance 1, f = 1
    2.0
    """
    x4, kernel, coupling = _one_image(image, kernel, coupling, "image", channels)
    ctx = _context(digits)
    _, h, w, _ = x4.shape
    with decimal.localcontext(ctx):  # plain operators (+, *, /) round to ``digits`` too
        return _energy(_pixel_values(x4), h, w, _offsets(kernel, ctx), _Coupler(coupling, ctx), ctx)


def _retention_parts(image, src, kernel, coupling, channels, digits):
    x4, kernel, coupling = _one_image(image, kernel, coupling, "image", channels)
    _, h, w, _ = x4.shape
    n = h * w
    src = as_index(src, "src", n=n)
    if src.ndim != 1:
        raise ValueError(f"src must be one gather index of shape ({n},), got shape {src.shape}")
    ctx = _context(digits)
    with decimal.localcontext(ctx):  # plain operators (+, *, /) round to ``digits`` too
        values = _pixel_values(x4)
        coupler = _Coupler(coupling, ctx)
        offsets = _offsets(kernel, ctx)
        f = _f_of(kernel, ctx)
        src = [int(v) for v in src]
        moved = [values[src[p]] for p in range(n)]
        e_x = _energy(values, h, w, offsets, coupler, ctx)
        e_y = _energy(moved, h, w, offsets, coupler, ctx)
        inner = _pair_sum(h, w, src, offsets, f, ctx, lambda p, q: coupler.s2(moved[p], moved[q]))
    return inner, e_x, e_y, n, ctx


def _pair_sum(h, w, src, offsets, f, ctx, weight):
    """Sum of ``weight(p, q) * f(|p - q|) * f(|src p - src q|)`` over the ordered output pairs
    within the kernel's reach whose sources differ (a pair from one source carries no bond)."""
    inner = Decimal(0)
    for p in range(h * w):
        pi, pj = divmod(p, w)
        si, sj = divmod(src[p], w)
        for di, dj, f_out in offsets:
            qi, qj = pi + di, pj + dj
            if not (0 <= qi < h and 0 <= qj < w):
                continue
            q = qi * w + qj
            if src[q] == src[p]:
                continue
            ti, tj = divmod(src[q], w)
            f_in = f((ti - si) ** 2 + (tj - sj) ** 2)
            if f_in != 0:
                inner = ctx.add(inner, ctx.multiply(weight(p, q), ctx.multiply(f_out, f_in)))
    return inner


def _tracked_parts(image, encrypted, track, kernel, coupling, channels, digits):
    """``inner``, E(X), E(Y) of a key that changes values: ``inner = sum b_Y(p, p') b_X(src p, src p')``
    over the ordered output pairs with distinct sources (``docs/framework.md``)."""
    x4, kernel, coupling = _one_image(image, kernel, coupling, "image", channels)
    _, h, w, _ = x4.shape
    n = h * w
    if np.shape(encrypted) != np.shape(image):
        raise ValueError(f"encrypted must have the shape of image, {np.shape(image)}, got {np.shape(encrypted)}")
    y4 = as_one_image(encrypted, "encrypted", grid=(h, w), channels=channels)
    track = as_index(track, "key.src", n=n)
    if track.ndim != 1:
        raise ValueError(f"key.src must be one tracking map of shape ({n},), got shape {track.shape}")
    ctx = _context(digits)
    with decimal.localcontext(ctx):
        xs = _pixel_values(x4)
        ys = _pixel_values(y4)
        coupler = _Coupler(coupling, ctx)
        offsets = _offsets(kernel, ctx)
        f = _f_of(kernel, ctx)
        src = [int(v) for v in track]
        e_x = _energy(xs, h, w, offsets, coupler, ctx)
        e_y = _energy(ys, h, w, offsets, coupler, ctx)

        def weight(p, q):
            # the two bonds' couplings: the encrypted values where they are, the plain ones at the sources
            s_y = ctx.sqrt(coupler.s2(ys[p], ys[q]))
            s_x = ctx.sqrt(coupler.s2(xs[src[p]], xs[src[q]]))
            return ctx.multiply(s_y, s_x)

        inner = _pair_sum(h, w, src, offsets, f, ctx, weight)
    return inner, e_x, e_y, n, ctx


def _parts(image, src, kernel, coupling, channels, digits, encrypted):
    """The parts of rho for a gather index or a key (a key that changes values: its tracking map)."""
    from ..cipher._protocol import is_spatial

    is_key = hasattr(src, "src") and not isinstance(src, np.ndarray)
    if is_key and not is_spatial(src):
        if encrypted is None:
            from ..cipher import encrypt

            encrypted = encrypt(image, src, channels=channels)
        return _tracked_parts(image, encrypted, src.src, kernel, coupling, channels, digits)
    if encrypted is not None:
        raise ValueError("encrypted is only for keys that change values (key.is_spatial False)")
    return _retention_parts(image, src.src if is_key else src, kernel, coupling, channels, digits)


@_in_context
def exact_retention(image: Any, src: Any, kernel: Kernel | None = None, coupling: Coupling | None = None, *,
                    channels: bool | None = None, digits: int | None = None, encrypted: Any = None) -> Decimal:
    """rho_X(src) = inner / sqrt(E(X) E(Y)) in ``digits``-digit decimal arithmetic.

    Parameters
    ----------
    image : array_like
        One image ``(H, W)`` or ``(H, W, C)``, uint8 or float.
    src : array_like of int, or a key
        A gather index of ``H * W`` entries (a permutation or not), or a key;
        a key that changes values (``is_spatial`` False) is measured on the
        encrypted image through its tracking map ``key.src``, as
        :func:`vortexnumba.retention` does.
    kernel, coupling : optional
        Default ``Kernel.power(2, 3)`` and ``Coupling.gaussian(0.25)``.
    channels : bool, optional
        How to read a 3-D array (see :func:`vortexnumba.retention`).
    digits : int, optional
        Significant decimal digits of the arithmetic; default
        :func:`digits_needed` (at least 120).
    encrypted : array_like, optional
        For a key that changes values: the image already encrypted with it.

    Returns
    -------
    decimal.Decimal

    Examples
    --------
    >>> import numpy as np
    >>> from vortexnumba.testing import exact_retention
    >>> image = np.array([[0, 0, 255, 255, 0]], dtype=np.uint8)
    >>> rho = exact_retention(image, [0, 2, 1, 3, 4])
    >>> 0 < rho < 1
    True
    """
    inner, e_x, e_y, n, ctx = _parts(image, src, kernel, coupling, channels, digits, encrypted)
    if n == 1:
        return Decimal(1)
    if e_x == 0 or e_y == 0:
        raise ValueError("the image has no bonds (every pair is beyond the kernel's radius or has s = 0), "
                         "so rho is undefined")
    return ctx.divide(inner, ctx.sqrt(ctx.multiply(e_x, e_y)))


@_in_context
def exact_loss(image: Any, src: Any, kernel: Kernel | None = None, coupling: Coupling | None = None, *,
               channels: bool | None = None,
               digits: int | None = None, encrypted: Any = None) -> Decimal:
    """The information loss rate ``1 - rho`` in ``digits``-digit decimal arithmetic.

    Examples
    --------
    >>> import numpy as np
    >>> from vortexnumba.testing import exact_loss
    >>> exact_loss(np.zeros((2, 2)), [3, 2, 1, 0]) == 0  # a 180-degree turn keeps every bond
    True
    """
    rho = exact_retention(image, src, kernel, coupling, channels=channels, digits=digits, encrypted=encrypted)
    return _context(digits).subtract(Decimal(1), rho)


@_in_context
def exact_swap_delta(image: Any, a: int | tuple[int, int], b: int | tuple[int, int], kernel: Kernel | None = None,
                     coupling: Coupling | None = None, *,
                     channels: bool | None = None, digits: int | None = None) -> Decimal:
    """Delta I of swapping pixels ``a`` and ``b``: ``-(1 - rho) I(X)``, in decimal arithmetic.

    ``a`` and ``b`` are ``(i, j)`` pairs or flat indices, as for
    :func:`vortexnumba.swap_delta`.

    Examples
    --------
    >>> import numpy as np
    >>> import vortexnumba as vn
    >>> from vortexnumba.testing import exact_swap_delta
    >>> image = np.array([[0, 0, 255, 255, 0]], dtype=np.uint8)
    >>> k, c = vn.Kernel.gaussian(0.3, 2.0), vn.Coupling.gaussian(0.1)
    >>> exact = exact_swap_delta(image, 1, 2, k, c)
    >>> abs(vn.swap_delta(image, 1, 2, k, c) - float(exact)) <= 1e-9 * abs(float(exact))  # doctest: +SKIP
    True
    """
    x4, _, _ = _one_image(image, kernel, coupling, "image", channels)
    shape = x4.shape[1:3]
    pa = as_position(a, shape, "a")
    pb = as_position(b, shape, "b")
    src = np.arange(shape[0] * shape[1])
    src[pa], src[pb] = pb, pa
    inner, e_x, e_y, n, ctx = _retention_parts(image, src, kernel, coupling, channels, digits)
    if n == 1 or pa == pb:
        return Decimal(0)
    if e_x == 0 or e_y == 0:
        raise ValueError("the image has no bonds (every pair is beyond the kernel's radius or has s = 0), "
                         "so Delta I is undefined")
    info = ctx.sqrt(e_x)
    rho = ctx.divide(inner, ctx.sqrt(ctx.multiply(e_x, e_y)))
    return ctx.multiply(-ctx.subtract(Decimal(1), rho), info)
