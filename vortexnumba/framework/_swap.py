"""Delta I of swapping two pixels, in O(R^2) per swap.

A swap moves two pixels, so only bonds that touch one of them change: those
within R of either position. :class:`SwapContext` computes the O(N R^2)
energy of an image once; every swap after that costs O(R^2), and the map of
Delta I for swapping one pixel with every other costs O(N R^2).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ._information import _flat_pixels, information_energy
from ._kernels import Geometry, resolve, value_table
from .._numba_helpers import offset_lookup, value_similarity
from .._validate import as_image_batch, as_position

__all__ = ["SwapContext", "swap_delta", "swap_deltas"]


@njit(cache=True)
def _swap_loss(x, a, b, energy_half, height, width, reach, f_table, near_table, full_di, full_dj, table, rate):
    """Loss rate 1 - rho of swapping pixels a and b (flat indices, a != b).

    Only pairs with a or b change their kernel value; the others ("kept")
    enter through E(X) alone. As in ``retention_from_hist``, the loss is a sum
    of squares, ``0.5 * || b/|b| - c/|c| ||^2``, or ``1 - cosine`` when the
    cosine is below 1/2.
    """
    cap = 4 * full_di.shape[0]
    s2s = np.empty(cap)
    us = np.empty(cap)
    vs = np.empty(cap)
    count = 0
    ai = a // width
    aj = a - ai * width
    bi = b // width
    bj = b - bi * width
    # Pairs (a, r) and (b, r) for r near a, then for r near b only; the pair (a, b) keeps its distance.
    for centre in range(2):
        ci = ai if centre == 0 else bi
        cj = aj if centre == 0 else bj
        for o in range(full_di.shape[0]):
            ri = ci + full_di[o]
            rj = cj + full_dj[o]
            if ri < 0 or ri >= height or rj < 0 or rj >= width:
                continue
            r = ri * width + rj
            if r == a or r == b:
                continue
            if centre == 1 and offset_lookup(near_table, reach, ai, aj, ri, rj) != 0.0:
                continue  # already counted around a
            f_ar = offset_lookup(f_table, reach, ai, aj, ri, rj)
            f_br = offset_lookup(f_table, reach, bi, bj, ri, rj)
            s2s[count] = value_similarity(x, 0, a, r, table, rate)  # a's pixel moves to b
            us[count] = f_ar
            vs[count] = f_br
            s2s[count + 1] = value_similarity(x, 0, b, r, table, rate)  # b's pixel moves to a
            us[count + 1] = f_br
            vs[count + 1] = f_ar
            count += 2
    s_uu = 0.0  # over changed pairs
    s_uv = 0.0
    s_dd = 0.0  # sum of s^2 (u^2 - v^2): zero term by term where nothing changed
    for k in range(count):
        s_uu += s2s[k] * us[k] * us[k]
        s_uv += s2s[k] * us[k] * vs[k]
        s_dd += s2s[k] * (us[k] - vs[k]) * (us[k] + vs[k])
    s_bb = energy_half
    s_cc = energy_half - s_dd
    kept = max(energy_half - s_uu, 0.0)
    if s_bb == 0.0 and s_cc <= 0.0:
        return 0.0
    if s_bb == 0.0 or s_cc <= 0.0:
        return 1.0
    nb = math.sqrt(s_bb)
    nc = math.sqrt(s_cc)
    cosine = (kept + s_uv) / nb / nc
    if cosine < 0.5:
        return 1.0 - cosine
    inv_gap = (-s_dd / (nb + nc)) / (nb * nc)  # 1/|b| - 1/|c| = (|c| - |b|) / (|b| |c|)
    loss = kept * inv_gap * inv_gap
    for k in range(count):
        d = us[k] / nb - vs[k] / nc
        loss += s2s[k] * d * d
    return 0.5 * loss


@njit(parallel=True, cache=True)
def _swap_loss_map(x, a, energy_half, height, width, reach, f_table, near_table, full_di, full_dj, table, rate):
    n = height * width
    out = np.zeros(n)
    for b in prange(n):
        if b != a:
            out[b] = _swap_loss(x, a, b, energy_half, height, width, reach, f_table, near_table, full_di,
                                full_dj, table, rate)
    return out


class SwapContext:
    """An image with its information energy computed once, for cheap swap queries.

    Parameters
    ----------
    image : array_like
        ``(H, W)`` or ``(H, W, C)``, uint8 or float.
    kernel, coupling : optional
        Default ``Kernel.power(2, 3)`` and ``Coupling.gaussian(0.25)``.

    Attributes
    ----------
    energy : float
        ``E(X)``.
    content : float
        ``I(X)``.

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> ctx = vn.SwapContext(np.linspace(0, 1, 36).reshape(6, 6))
    >>> ctx.delta((0, 0), (5, 5)) < 0
    True
    """

    def __init__(self, image, kernel=None, coupling=None, *, channels=None):
        self.kernel, self.coupling = resolve(kernel, coupling)
        ch = True if np.ndim(image) == 3 and channels is None else channels
        batch, is_batch = as_image_batch(image, "image", channels=ch)
        if is_batch:
            raise ValueError(f"image must be one image (H, W) or (H, W, C), got shape {np.shape(image)}")
        _, self.height, self.width, n_channels = batch.shape
        self._x = _flat_pixels(batch)
        self._geo = Geometry.of(self.kernel)
        self._table, self._rate = value_table(self.coupling, self._x.dtype, n_channels, power=2)
        self.energy = float(information_energy(batch[0], self.kernel, self.coupling, channels=True))
        self.content = math.sqrt(self.energy)

    @property
    def shape(self) -> tuple[int, int]:
        return self.height, self.width

    def _args(self):
        g = self._geo
        return (0.5 * self.energy, self.height, self.width, g.reach, g.f_table, g.near_table, g.full_di,
                g.full_dj, self._table, self._rate)

    def loss(self, a, b) -> float:
        """Information loss rate ``1 - rho`` of swapping positions ``a`` and ``b``."""
        qa = as_position(a, self.shape, "a")
        qb = as_position(b, self.shape, "b")
        if qa == qb:
            raise ValueError(f"a and b must be distinct positions, got both = {a!r}")
        return float(_swap_loss(self._x, qa, qb, *self._args()))

    def delta(self, a, b) -> float:
        """``Delta I = -(1 - rho) I(X)`` of swapping ``a`` and ``b``; O(R^2)."""
        return -self.loss(a, b) * self.content

    def deltas(self, a) -> np.ndarray:
        """``(H, W)`` map of Delta I for swapping ``a`` with every position (0 at ``a``)."""
        qa = as_position(a, self.shape, "a")
        deltas = _swap_loss_map(self._x, qa, *self._args()) * -self.content
        deltas[qa] = 0.0  # not -0.0: swapping a pixel with itself changes nothing
        return deltas.reshape(self.height, self.width)


def swap_delta(image, a, b, kernel=None, coupling=None, *, channels=None) -> float:
    """Variation of information ``Delta I`` of swapping the pixels at ``a`` and ``b``.

    Parameters
    ----------
    image : array_like
        ``(H, W)`` or ``(H, W, C)``, uint8 or float.
    a, b : int or (int, int)
        Distinct positions, as flat indices or ``(i, j)``.
    kernel, coupling : optional
        Default ``Kernel.power(2, 3)`` and ``Coupling.gaussian(0.25)``.

    Returns
    -------
    float
        ``-(1 - rho) I(X)``; negative whenever the grid has at least 5 pixels
        (Theorem 2). For many swaps of one image, build a :class:`SwapContext`
        once: each query is then O(R^2).

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> img = np.linspace(0, 1, 25).reshape(5, 5)
    >>> vn.swap_delta(img, (0, 0), (2, 3)) < 0
    True
    """
    return SwapContext(image, kernel, coupling, channels=channels).delta(a, b)


def swap_deltas(image, a, kernel=None, coupling=None, *, channels=None) -> np.ndarray:
    """Map of ``Delta I`` for swapping ``a`` with every position; O(N R^2).

    Returns
    -------
    ndarray, shape (H, W)
        Entry ``[i, j]`` is ``swap_delta(image, a, (i, j))``; 0 at ``a`` itself.

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> m = vn.swap_deltas(np.linspace(0, 1, 16).reshape(4, 4), (1, 1))
    >>> m.shape, float(m[1, 1]), bool((np.delete(m.ravel(), 5) < 0).all())
    ((4, 4), 0.0, True)
    """
    return SwapContext(image, kernel, coupling, channels=channels).deltas(a)
