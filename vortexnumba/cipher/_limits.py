"""Size limits of keys: defined once, checked wherever a key is made or loaded.

The same numbers bound :meth:`VortexKey.random` (and ``vortexnumba keygen``),
the key constructors and key loading, so that every key the toolkit writes
can be read back and no key, however small its file, can make the toolkit
allocate or compute without bound before it is refused.

=================  ==================  ==========================================
limit              value               what it bounds
=================  ==================  ==========================================
``MAX_SIDE``       16,384              each side of the grid ``H`` and ``W``
``MAX_PIXELS``     16,777,216 (2**24)  ``H * W``: the gather index (128 MiB)
``MAX_VORTICES``   10,000              vortices in one key
``MAX_VORTEX_AREA`` 67,108,864 (2**26) sum of ``(2 r + 1)**2`` over the vortices:
                                        the work of building a vortex key
=================  ==================  ==========================================

At these limits the largest key takes a few seconds and a few hundred MiB to
build (its gather index alone is 128 MiB); anything larger is refused with a
``ValueError`` before any array is allocated.
"""

from __future__ import annotations

__all__ = ["MAX_PIXELS", "MAX_SIDE", "MAX_VORTEX_AREA", "MAX_VORTICES", "check_grid", "check_vortex_count",
           "check_vortex_area"]

MAX_SIDE = 1 << 14
MAX_PIXELS = 1 << 24
MAX_VORTICES = 10_000
MAX_VORTEX_AREA = 1 << 26


def check_grid(shape, name: str = "shape") -> tuple[int, int]:
    """Refuse a grid ``(H, W)`` (already two positive ints) beyond the limits."""
    h, w = int(shape[0]), int(shape[1])
    if h > MAX_SIDE or w > MAX_SIDE:
        raise ValueError(f"{name} = {(h, w)} is too large: each side must be at most {MAX_SIDE}")
    if h * w > MAX_PIXELS:
        raise ValueError(f"{name} = {(h, w)} holds {h * w} pixels; a key holds at most {MAX_PIXELS} "
                         f"(e.g. 4096x4096)")
    return h, w


def check_vortex_count(n: int, name: str = "n_vortices") -> int:
    """Refuse a vortex count below 0 or above :data:`MAX_VORTICES`."""
    if n < 0 or n > MAX_VORTICES:
        raise ValueError(f"{name} must lie in 0..{MAX_VORTICES}, got {n}")
    return n


def check_vortex_area(radii, name: str = "vortices") -> None:
    """Refuse vortices whose squares ``(2 r + 1)**2`` add up beyond :data:`MAX_VORTEX_AREA`."""
    total = 0
    for r in radii:
        total += (2 * int(r) + 1) ** 2
        if total > MAX_VORTEX_AREA:
            raise ValueError(
                f"{name}: the vortices cover more than {MAX_VORTEX_AREA} pixels in all (sum of (2r+1)**2), "
                "the most a key may take to build; use fewer or smaller vortices"
            )
