"""Size limits of keys: defined once, checked wherever a key is made or loaded.

The same numbers bound :meth:`VortexKey.random` (and ``vortexnumba keygen``),
the key constructors and key loading, so that every key the toolkit writes
can be read back and no key, however small its file, can make the toolkit
allocate or compute without bound before it is refused.

=================  ==================  ==========================================
limit              value               what it bounds
=================  ==================  ==========================================
``MAX_SIDE``       16,384              each side of the grid ``H`` and ``W``
``MAX_PIXELS``     4,194,304 (2**22)   ``H * W``: the gather index (32 MiB)
``MAX_VORTICES``   10,000              vortices in one key
``MAX_VORTEX_AREA`` 16,777,216 (2**24) sum of ``(2 r + 1)**2`` over the vortices:
                                        the work of building a vortex key
``MAX_CHANNELS``   64                  channels of a key built for a channel count
``MAX_PLAN_UNITS`` 8,388,608 (2**23)   units (values, or nibbles for LE/ELE) of one
                                        image under a value-changing key: its plan
=================  ==================  ==========================================

At these limits the costliest key (four vortices filling a 2048x2048 grid)
takes a few seconds and about 250 MiB to build; anything larger is refused
with a ``ValueError`` before any array is allocated. The limits are generous
for training images (28x28 to 1024x1024) and keep what a tiny forged key can
cost bounded where the input's grid is not known in advance (where it is,
``load_key(path, grid=...)`` refuses a key for another grid at once).
"""

from __future__ import annotations

from typing import Any

__all__ = ["MAX_CHANNELS", "MAX_PIXELS", "MAX_PLAN_UNITS", "MAX_SIDE", "MAX_VORTEX_AREA", "MAX_VORTICES",
           "check_grid", "check_plan_units", "check_vortex_count", "check_vortex_area"]

MAX_SIDE = 1 << 14
MAX_PIXELS = 1 << 22
MAX_VORTICES = 10_000
MAX_VORTEX_AREA = 1 << 24
MAX_CHANNELS = 64
MAX_PLAN_UNITS = 1 << 23


def check_grid(shape: Any, name: str = "shape") -> tuple[int, int]:
    """Refuse a grid ``(H, W)`` (already two positive ints) beyond the limits."""
    h, w = int(shape[0]), int(shape[1])
    if h > MAX_SIDE or w > MAX_SIDE:
        raise ValueError(f"{name} = {(h, w)} is too large: each side must be at most {MAX_SIDE}")
    if h * w > MAX_PIXELS:
        raise ValueError(f"{name} = {(h, w)} holds {h * w} pixels; a key holds at most {MAX_PIXELS} "
                         f"(e.g. 2048x2048)")
    return h, w


def check_vortex_count(n: int, name: str = "n_vortices") -> int:
    """Refuse a vortex count below 0 or above :data:`MAX_VORTICES`."""
    if n < 0 or n > MAX_VORTICES:
        raise ValueError(f"{name} must lie in 0..{MAX_VORTICES}, got {n}")
    return n


def check_vortex_area(radii: Any, name: str = "vortices") -> None:
    """Refuse vortices whose squares ``(2 r + 1)**2`` add up beyond :data:`MAX_VORTEX_AREA`."""
    total = 0
    for r in radii:
        total += (2 * int(r) + 1) ** 2
        if total > MAX_VORTEX_AREA:
            raise ValueError(
                f"{name}: the vortices cover more than {MAX_VORTEX_AREA} pixels in all (sum of (2r+1)**2), "
                "the most a key may take to build; use fewer or smaller vortices"
            )


def check_plan_units(shape: Any, channels: int, per_value: int, name: str = "key") -> None:
    """Refuse a value-changing key whose plan would exceed :data:`MAX_PLAN_UNITS` units."""
    units = int(shape[0]) * int(shape[1]) * int(channels) * int(per_value)
    if units > MAX_PLAN_UNITS:
        raise ValueError(f"a {name} key for {shape[0]}x{shape[1]}x{channels} images has {units} units to map; "
                         f"a key maps at most {MAX_PLAN_UNITS} (e.g. 1024x1024x3 values, or half as many for "
                         "LE/ELE, which map nibbles)")
