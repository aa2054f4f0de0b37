"""Hypothesis strategies for the framework's objects: images, kernels, couplings, swaps, keys.

Every strategy draws values the public API accepts, and includes on purpose
the cases that break careless code: two-valued images (every bond either
strong or nearly zero), near-constant ones, grids one pixel wide, small
bandwidths ``h`` (down to 0.05), sharp kernels and radii at the grid
distances (1, sqrt 2, 2, sqrt 5, ...). ``kernels(within=False)`` and
``couplings(within=False)`` draw ones that deliberately break the swap
theorem's assumptions (built with ``check=False``), to see what a property
does when they fail.

Requires Hypothesis (``pip install vortexnumba[testing]``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..cipher._keys import BlockKey, PermutationKey, Vortex, VortexKey
from ..framework._assumptions import grid_distances
from ..framework._kernels import Coupling, Kernel

__all__ = [
    "GRID_RADII",
    "block_keys",
    "couplings",
    "gather_maps",
    "grid_shapes",
    "images",
    "kernels",
    "permutation_keys",
    "permutations",
    "swaps",
    "vortex_keys",
]

#: Radii at which a new grid distance enters (1, sqrt 2, 2, sqrt 5, sqrt 8, 3) plus two in between.
GRID_RADII = (1.0, math.sqrt(2.0), 1.5, 2.0, math.sqrt(5.0), math.sqrt(8.0), 3.0, 3.3)

_IMAGE_KINDS = ("any", "two_valued", "near_constant")


def grid_shapes(min_side: int = 1, max_side: int = 6, *, min_pixels: int = 1,
                max_pixels: int | None = None) -> st.SearchStrategy[tuple[int, int]]:
    """Grid shapes ``(H, W)`` with sides in ``[min_side, max_side]`` and a pixel count in range.

    Shrinks towards grids of fewer pixels (and, among those, fewer rows).

    Examples
    --------
    >>> from hypothesis import find
    >>> from vortexnumba.testing import grid_shapes
    >>> find(grid_shapes(max_side=4, min_pixels=5), lambda shape: True)  # the smallest such grid
    (2, 3)
    """
    max_pixels = max_side * max_side if max_pixels is None else max_pixels
    shapes = sorted(((h, w) for h in range(min_side, max_side + 1) for w in range(min_side, max_side + 1)
                     if min_pixels <= h * w <= max_pixels), key=lambda s: (s[0] * s[1], s))
    if not shapes:
        raise ValueError(f"no grid with sides in [{min_side}, {max_side}] has between {min_pixels} and "
                         f"{max_pixels} pixels")
    return st.sampled_from(shapes)


def _values(draw, dtype, n: int, kind: str, n_channels: int) -> np.ndarray:
    """``n`` pixel values (n, C) of one kind."""
    if kind == "two_valued":
        if dtype == np.uint8:
            pair = draw(st.sampled_from([(0, 255), (0, 1), (0, 128), (100, 101)]) | st.tuples(
                st.integers(0, 255), st.integers(0, 255)))
        else:
            pair = draw(st.sampled_from([(0.0, 1.0), (0.0, 1e-3), (0.25, 0.75)]) | st.tuples(
                st.floats(0, 1, width=32), st.floats(0, 1, width=32)))
        pick = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
        colours = np.array(pair, dtype=dtype).reshape(2, 1).repeat(n_channels, axis=1)
        return colours[pick.astype(np.int64)]
    if kind == "near_constant":
        if dtype == np.uint8:
            base = draw(st.integers(0, 254))
            step = np.array(draw(st.lists(st.integers(0, 1), min_size=n * n_channels, max_size=n * n_channels)))
            return (base + step).astype(np.uint8).reshape(n, n_channels)
        base = draw(st.floats(0, 1, width=32))
        eps = draw(st.sampled_from([1e-9, 1e-6, 1e-3]))
        step = np.array(draw(st.lists(st.integers(-2, 2), min_size=n * n_channels, max_size=n * n_channels)))
        return (base + eps * step).astype(dtype).reshape(n, n_channels)
    elements = None if dtype == np.uint8 else st.floats(0, 1, width=32)
    return draw(hnp.arrays(dtype, (n, n_channels), elements=elements))


@st.composite
def images(draw: st.DrawFn, shape: Any = None, *, dtypes: Sequence[str] = ("uint8", "float64"),
           channels: Sequence[int | None] = (None, 1, 3), kinds: Sequence[str] = _IMAGE_KINDS, max_side: int = 6,
           min_pixels: int = 1) -> np.ndarray:
    """One image: ``(H, W)`` without a channel axis, or ``(H, W, C)``.

    Parameters
    ----------
    shape : (int, int) or strategy, optional
        The grid; drawn from :func:`grid_shapes` when omitted.
    dtypes : sequence of {"uint8", "float32", "float64"}
        Float values lie in [0, 1].
    channels : sequence of (None or int)
        None: a 2-D image; an int C: an ``(H, W, C)`` image (pass
        ``channels=True`` to the framework's functions when reading it).
    kinds : sequence of {"any", "two_valued", "near_constant"}
        ``two_valued``: every pixel one of two values (e.g. 0 and 255);
        ``near_constant``: a constant plus steps of one grey level (uint8) or
        of 1e-9 to 1e-3 (float).
    max_side, min_pixels : int
        Bounds for a drawn grid.

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given, settings
    >>> from vortexnumba.testing import images
    >>> @settings(max_examples=20, database=None)
    ... @given(images((2, 3), dtypes=["uint8"], channels=[None], kinds=["two_valued"]))
    ... def test_two_valued(image):
    ...     assert image.shape == (2, 3) and image.dtype == np.uint8 and len(np.unique(image)) <= 2
    >>> test_two_valued()
    """
    if shape is None:
        shape = grid_shapes(max_side=max_side, min_pixels=min_pixels)
    if isinstance(shape, st.SearchStrategy):
        shape = draw(shape)
    h, w = (int(v) for v in shape)
    dtype = np.dtype(draw(st.sampled_from(list(dtypes))))
    n_channels = draw(st.sampled_from(list(channels)))
    kind = draw(st.sampled_from(list(kinds)))
    flat = _values(draw, dtype, h * w, kind, 1 if n_channels is None else n_channels)
    return flat.reshape((h, w) if n_channels is None else (h, w, n_channels))


class TabulatedKernel:
    """A kernel function given by its values at the grid distances (for kernels outside the assumptions).

    ``f(d)`` returns the value of the nearest tabulated distance; its repr
    lists the values, so a counterexample prints the kernel in full.
    """

    def __init__(self, distances: Sequence[float] | np.ndarray, values: Sequence[float]):
        self.distances = tuple(float(d) for d in distances)
        self.values = tuple(float(v) for v in values)

    def __call__(self, d):
        d = np.asarray(d, dtype=np.float64)
        idx = np.abs(d[..., None] - np.asarray(self.distances)).argmin(axis=-1)
        return np.asarray(self.values)[idx]

    def __repr__(self):
        pairs = ", ".join(f"{d:.4g}: {v:.4g}" for d, v in zip(self.distances, self.values))
        return f"TabulatedKernel({{{pairs}}})"


@st.composite
def kernels(draw: st.DrawFn, *, within: bool = True, families: Sequence[str] = ("power", "gaussian", "exponential"),
            radii: Sequence[float] | None = None) -> Kernel:
    """Distance kernels.

    ``within=True``: a built-in kernel the theorem covers, with parameters
    from gentle to sharp (``alpha`` 0.25..8, ``tau`` 0.25..3) and a radius at
    or between the grid distances. ``within=False``: a custom kernel built
    with ``check=False`` that is *not* strictly decreasing over the grid
    distances within R (a plateau or a rise), R >= sqrt 2.

    Examples
    --------
    >>> from hypothesis import find
    >>> from vortexnumba.testing import kernels
    >>> find(kernels(), lambda k: k.radius >= 2).describe()
    'power(alpha=0.5, R=2)'
    >>> import pytest, vortexnumba as vn
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, database=None)
    ... @given(kernels(within=False))
    ... def test_outside_kernels_fail_the_check(kernel):
    ...     with pytest.raises(ValueError, match="strictly decreasing"):
    ...         vn.Kernel.from_function(kernel.function, kernel.radius)
    >>> test_outside_kernels_fail_the_check()
    """
    radius_of: Any = radii
    if radii is None:
        radius_of = st.sampled_from(GRID_RADII) | st.floats(1.0, 3.5)
    elif not isinstance(radii, st.SearchStrategy):
        radius_of = st.sampled_from(list(radii))
    if within:
        family = draw(st.sampled_from(list(families)))
        if family == "power":
            param = draw(st.sampled_from([0.5, 2.0, 8.0]) | st.floats(0.25, 8.0))
        else:
            param = draw(st.sampled_from([0.25, 1.0, 3.0]) | st.floats(0.25, 3.0))
        return getattr(Kernel, family)(param, draw(radius_of))
    radius = draw(radius_of.filter(lambda r: r >= math.sqrt(2.0)))
    _, d = grid_distances(radius)
    values = sorted(draw(st.lists(st.floats(0.1, 2.0), min_size=len(d), max_size=len(d))), reverse=True)
    k = draw(st.integers(0, len(d) - 2))
    values[k + 1] = draw(st.sampled_from([values[k], values[k] * 1.3]))  # a plateau or a rise at d[k]
    return Kernel.from_function(TabulatedKernel(d, values), radius, check=False)


class StepCoupling:
    """``s = 1`` for ``|x - y| <= cut``, else ``floor`` (0 breaks positivity); repr prints both."""

    def __init__(self, cut: float, floor: float = 0.0):
        self.cut, self.floor = float(cut), float(floor)

    def __call__(self, x, y):
        return np.where(np.abs(np.asarray(x, dtype=np.float64) - y) <= self.cut, 1.0, self.floor)

    def __repr__(self):
        return f"StepCoupling(cut={self.cut:g}, floor={self.floor:g})"


@st.composite
def couplings(draw: st.DrawFn, *, within: bool = True, min_h: float = 0.05, max_h: float = 2.0,
              constant: bool = True) -> Coupling:
    """Value couplings.

    ``within=True``: ``Coupling.gaussian(h)`` with ``h`` in ``[min_h, max_h]``
    (small ones favoured: 0.05, 0.1) or, if ``constant``, the constant
    coupling. ``within=False``: a custom coupling (``check=False``) that is
    zero for values further apart than a cut: it breaks positivity (S1).
    Custom couplings work on uint8 images only.

    Examples
    --------
    >>> from hypothesis import find
    >>> from vortexnumba.testing import couplings
    >>> find(couplings(), lambda c: c.family == "gaussian").describe()
    'gaussian(h=0.05)'
    """
    if not within:
        cut = draw(st.sampled_from([0.0, 0.1, 0.5]))
        return Coupling.from_function(StepCoupling(cut), check=False)
    options = [None] if constant else []
    h = draw(st.sampled_from(options + [min_h, 0.1, 0.25]).filter(lambda v: v is None or min_h <= v <= max_h)
             | st.floats(min_h, max_h))
    return Coupling.constant() if h is None else Coupling.gaussian(h)


@st.composite
def swaps(draw: st.DrawFn, shape: tuple[int, int]) -> tuple[int, int]:
    """A pair ``(a, b)`` of distinct flat positions of a grid ``shape`` (at least 2 pixels).

    Examples
    --------
    >>> from hypothesis import find
    >>> from vortexnumba.testing import swaps
    >>> find(swaps((2, 3)), lambda ab: True)  # (0, 0) and its neighbour (0, 1)
    (0, 1)
    """
    h, w = int(shape[0]), int(shape[1])
    if h * w < 2:
        raise ValueError(f"a swap needs at least 2 pixels, got the grid {tuple(shape)}")
    # drawn as (i, j) pairs, so that a swap stays the same swap when the grid shrinks; half of the
    # swaps are of near neighbours (offsets up to 2), where the kernel's shape matters most
    a = draw(st.tuples(st.integers(0, h - 1), st.integers(0, w - 1)))
    near = st.tuples(st.integers(-2, 2), st.integers(-2, 2)).map(
        lambda d: (min(max(a[0] + d[0], 0), h - 1), min(max(a[1] + d[1], 0), w - 1)))
    anywhere = st.tuples(st.integers(0, h - 1), st.integers(0, w - 1))
    b = draw((near | anywhere).filter(lambda p: p != a))
    return a[0] * w + a[1], b[0] * w + b[1]


def permutations(n: int) -> st.SearchStrategy[np.ndarray]:
    """Gather indices that are permutations of ``range(n)`` (int64 arrays); shrink towards the identity.

    Examples
    --------
    >>> from hypothesis import find
    >>> from vortexnumba.testing import permutations
    >>> find(permutations(5), lambda p: p[0] != 0).tolist()
    [1, 0, 2, 3, 4]
    """
    return st.permutations(range(int(n))).map(lambda p: np.array(p, dtype=np.int64))


@st.composite
def gather_maps(draw: st.DrawFn, n: int, *, bijective: bool | None = None) -> np.ndarray:
    """Gather indices of ``n`` entries: permutations (``bijective=True``), arbitrary maps that read
    some pixel twice (``False``), or either (``None``).

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> from vortexnumba.testing import gather_maps
    >>> @settings(max_examples=10, database=None)
    ... @given(gather_maps(4, bijective=False))
    ... def test_reads_some_pixel_twice(src):
    ...     assert len(set(src.tolist())) < 4
    >>> test_reads_some_pixel_twice()
    """
    n = int(n)
    if bijective is None:
        bijective = draw(st.booleans())
    if bijective:
        return draw(permutations(n))
    if n < 2:
        raise ValueError("a non-bijective gather map needs at least 2 pixels")
    src = np.array(draw(st.lists(st.integers(0, n - 1), min_size=n, max_size=n)), dtype=np.int64)
    if len(set(src.tolist())) == n:  # make it read one pixel twice
        i, j = draw(swaps((1, n)))
        src[i] = src[j]
    return src


@st.composite
def permutation_keys(draw: st.DrawFn, shape: Any = None, *, max_side: int = 6) -> PermutationKey:
    """:class:`vortexnumba.PermutationKey` of a grid (drawn if omitted)."""
    shape = draw(grid_shapes(max_side=max_side)) if shape is None else tuple(shape)
    return PermutationKey(shape, draw(permutations(shape[0] * shape[1])))


@st.composite
def block_keys(draw: st.DrawFn, shape: Any = None, *, max_side: int = 8) -> BlockKey:
    """:class:`vortexnumba.BlockKey`: a block side that divides the grid and a tile order.

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> from vortexnumba.testing import block_keys
    >>> @settings(max_examples=10, database=None)
    ... @given(block_keys((4, 6)))
    ... def test_block_divides_the_grid(key):
    ...     assert 4 % key.block == 0 and 6 % key.block == 0
    >>> test_block_divides_the_grid()
    """
    shape = draw(grid_shapes(max_side=max_side)) if shape is None else tuple(int(v) for v in shape)
    h, w = shape
    block = draw(st.sampled_from([d for d in range(1, min(h, w) + 1) if h % d == 0 and w % d == 0]))
    order = draw(permutations((h // block) * (w // block)))
    return BlockKey(shape, block, order)


@st.composite
def vortex_keys(draw: st.DrawFn, shape: Any = None, *, modes: Sequence[str] = ("bijective", "paper"),
                max_vortices: int = 3, max_side: int = 12) -> VortexKey:
    """:class:`vortexnumba.VortexKey` of either mode: 1..``max_vortices`` vortices whose discs fit the grid.

    The grid (drawn if omitted) needs at least 3 x 3 pixels.

    Examples
    --------
    >>> from hypothesis import find
    >>> from vortexnumba.testing import vortex_keys
    >>> key = find(vortex_keys((5, 5), modes=["bijective"]), lambda key: key.vortices[0].radius == 2)
    >>> key.vortices[0].centre, sorted(key.src.tolist()) == list(range(25))
    ((2, 2), True)
    """
    if shape is None:
        shape = draw(grid_shapes(min_side=3, max_side=max_side))
    h, w = (int(v) for v in shape)
    if min(h, w) < 3:
        raise ValueError(f"a vortex needs a grid of at least 3x3, got {h}x{w}")
    mode = draw(st.sampled_from(list(modes)))
    vortices = []
    for _ in range(draw(st.integers(1, max_vortices))):
        cy = draw(st.integers(1, h - 2))
        cx = draw(st.integers(1, w - 2))
        r = draw(st.integers(1, min(cy, cx, h - 1 - cy, w - 1 - cx)))
        weights = draw(st.lists(st.floats(-2.0, 0.0), min_size=6, max_size=6))
        vortices.append(Vortex((cy, cx), r, draw(st.integers(1, 5)), tuple(weights), draw(st.floats(0.1, 2.0))))
    return VortexKey((h, w), mode, tuple(vortices))
