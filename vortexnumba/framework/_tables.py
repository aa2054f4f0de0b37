"""The kernel and the coupling laid out as the tables the Numba kernels read.

:class:`Geometry` holds the kernel's values per grid offset (computed once,
when the :class:`~vortexnumba.framework._kernels.Kernel` was built; for a
custom kernel that is the only evaluation of the user's function);
:func:`value_table` turns the coupling into a lookup table over uint8 value
differences (or a Gaussian rate for float images).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._assumptions import evaluate, grid_distances

__all__ = ["Geometry", "value_table"]


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
    def of(cls, kernel: Any) -> Geometry:
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
        d2s, dists = grid_distances(radius)
        # the kernel's values were computed once, when it was built (for a custom one: its only evaluation)
        f_values = np.concatenate([[0.0], np.asarray(kernel.values, dtype=np.float64)])
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
            distances=dists,
            f_values=f_values,
            f_index_table=f_index,
        )


def value_table(coupling: Any, dtype: np.dtype, n_channels: int, power: int) -> tuple[np.ndarray, float]:
    """Table and rate the kernels use to evaluate ``s**power`` quickly.

    ``s**power = exp(-rate * sum_c (x_c - y_c)**2)`` with raw pixel values.

    For uint8 images the sum of squared channel differences is an integer in
    ``[0, C * 255**2]``, so ``s**power`` is a table lookup instead of an
    ``exp``. For float images the table is empty and the kernels evaluate
    ``exp(-rate * sum of squared differences)``.

    A custom coupling is always a table (uint8 images only): 256 entries
    ``s(0, k / 255)**power`` for one channel, else ``s(0, sqrt(m / C) / 255)**power``
    for every integer sum ``m`` of squared channel differences.
    """
    if coupling.family == "custom":
        return _custom_table(coupling, np.dtype(dtype), int(n_channels), int(power)), 0.0
    rate = power * coupling.gamma / n_channels
    if dtype == np.uint8:
        rate /= 65025.0  # values are read as v / 255
        if n_channels == 1:  # indexed by |x - y|: 256 entries stay in L1 cache
            d = np.arange(256, dtype=np.float64)
            return np.exp(-rate * (d * d)), rate
        if n_channels <= 4:  # indexed by the sum of squared differences; at most 2 MB
            return np.exp(-rate * np.arange(n_channels * 65025 + 1, dtype=np.float64)), rate
    return np.zeros(0), rate


#: Most channels a custom coupling's table may cover (one float64 per integer sum of squares: 8 MB).
MAX_CUSTOM_CHANNELS = 16


def _custom_table(coupling, dtype: np.dtype, n_channels: int, power: int) -> np.ndarray:
    if dtype != np.uint8:
        raise ValueError(f"a custom coupling (Coupling.from_function) works on uint8 images only, got dtype "
                         f"{dtype}: convert the images to uint8 or use Coupling.gaussian / Coupling.constant")
    if n_channels > MAX_CUSTOM_CHANNELS:
        raise ValueError(f"a custom coupling works on images of at most {MAX_CUSTOM_CHANNELS} channels, "
                         f"got {n_channels}")
    return _custom_table_cached(coupling, n_channels, power)


@functools.lru_cache(maxsize=16)
def _custom_table_cached(coupling, n_channels: int, power: int) -> np.ndarray:
    if n_channels == 1:
        s = np.asarray(coupling.values, dtype=np.float64)
    else:
        rms = np.sqrt(np.arange(n_channels * 65025 + 1, dtype=np.float64) / n_channels) / 255.0
        s = evaluate(coupling.function, 0.0, rms)
    table = s ** power
    table.setflags(write=False)
    return table
