"""Wall-clock timing shared by the benchmark scripts."""

from __future__ import annotations

import time


def timings(fn, repeats: int = 3) -> list[float]:
    """Seconds taken by each of ``repeats`` calls of ``fn()``."""
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def best_of(fn, repeats: int = 3) -> float:
    """The fastest of ``repeats`` calls of ``fn()``, in seconds."""
    return min(timings(fn, repeats))
