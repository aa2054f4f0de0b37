"""Studies that combine training and attacks: the field's benchmark of every encryption scheme.

This layer sits above both :mod:`vortexnumba.learn` (training) and
:mod:`vortexnumba.security` (attacks) and is imported only by the command
line and the benchmark scripts; it loads JAX, so ``import vortexnumba``
loads it only on first use (``vn.study``).

- ``_frontier`` -- the frontier figure (accuracy drop against attacker SSIM) and its label placement
- ``_field``    -- :func:`benchmark`: every scheme trained, attacked and measured, written as one folder
"""

from ._field import (
    ATTACK_SIZES,
    SCHEME_MODELS,
    SCHEMES,
    BenchmarkConfig,
    benchmark,
    field_markdown,
    run_benchmark,
)
from ._frontier import figure_frontier, place_labels

__all__ = ["ATTACK_SIZES", "SCHEMES", "SCHEME_MODELS", "BenchmarkConfig", "benchmark", "field_markdown",
           "figure_frontier", "place_labels", "run_benchmark"]
