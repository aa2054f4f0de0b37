"""The output of ``verify_small_grids.py``: the table, the summary lines and the Markdown document."""

from __future__ import annotations

import math
import platform

import numpy as np
from small_grids import (
    CASES,
    PERMUTATION_PIXELS_FULL,
    SEED,
    SWAP_DELTA_SAMPLES_FULL,
    TOLERANCE,
    TRANSPOSITION_SIDE_FULL,
)

import vortexnumba as vn

# ----------------------------------------------------------------------------- output

_COLUMNS = [
    ("kind", "maps"), ("grid", "grid"), ("kernel", "kernel"), ("checked", "checked"), ("cases", "cases"),
    ("keep_rho_1", "loss = 0"), ("automorphisms", "automorphisms"), ("exact", "exact"),
    ("expected", "Thm 2 expects"), ("max_rho", "max rho - 1"), ("max_cosine", "max cos - 1"),
    ("max_deviation", "max |rho - cos|"),
    ("min_loss_off_automorphisms", "min loss (others)"), ("swap_rel", "swaps vs loss (rel)"),
    ("exact_rel", "vs exact (rel)"), ("exact_checked", "exact checks"), ("passed", "pass"),
]


def _cell(key, row):
    value = row[key]
    if key in ("max_rho", "max_cosine"):
        return f"{value - 1.0:.1e}"
    if key in ("max_deviation", "swap_rel", "exact_rel"):
        return "-" if math.isnan(value) else f"{value:.1e}"
    if key == "min_loss_off_automorphisms":
        return "-" if math.isnan(value) else f"{value:.2e}"
    if key == "expected":
        return "-" if value is None else str(value)
    if key == "exact_checked" and row["kind"] == "permutations":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    return str(value)


def format_table(rows: list[dict], markdown: bool = False) -> str:
    cells = [[_cell(k, r) for k, _ in _COLUMNS] for r in rows]
    heads = [h for _, h in _COLUMNS]
    if markdown:
        lines = ["| " + " | ".join(heads) + " |", "|" + "|".join("---" for _ in heads) + "|"]
        lines += ["| " + " | ".join(c) + " |" for c in cells]
        return "\n".join(lines)
    widths = [max(len(h), *(len(c[k]) for c in cells)) if cells else len(h) for k, h in enumerate(heads)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(heads, widths))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(cell, widths)) for cell in cells]
    return "\n".join(lines)


def summary(rows: list[dict]) -> str:
    if not rows:
        return "no rows"
    n_maps = sum(r["checked"] * r["cases"] for r in rows)
    failed = [r for r in rows if not r["passed"]]
    worst = max(r["max_rho"] for r in rows) - 1.0
    worst_cos = max(r["max_cosine"] for r in rows) - 1.0
    deviation = max(r["max_deviation"] for r in rows)
    gaps = [r["min_loss_off_automorphisms"] for r in rows if not math.isnan(r["min_loss_off_automorphisms"])]
    text = (f"{len(rows)} rows, {n_maps} maps checked; {len(rows) - len(failed)} rows pass, "
            f"{len(failed)} fail; largest rho - 1 = {worst:.1e} (independent cosine: {worst_cos:.1e}); "
            f"largest |rho - cosine| = {deviation:.1e}; smallest loss of a non-automorphism = "
            + (f"{min(gaps):.2e}" if gaps else "-"))
    swaps = [r for r in rows if r["kind"] == "transpositions"]
    if swaps:
        text += (f"; swap entry points against information_loss: worst relative error "
                 f"{max(r['swap_rel'] for r in swaps):.1e}; against the exact reference "
                 f"({sum(r['exact_checked'] for r in swaps)} swaps): {max(r['exact_rel'] for r in swaps):.1e}")
    return text


def sweep_text(result, n_cases, seconds, command):
    case = result["rel_case"]
    where = ("-" if case is None else
             f"{np.array(case['image']).shape} image, {case['kernel']}, {case['coupling']}, swap {case['a']} <-> "
             f"{case['b']}, exact loss {case['exact']:.3e}")
    return (f"`{command}`: {n_cases} random cases, {result['swaps']} swaps, {result['values']} values "
            f"({seconds:.0f} s); worst relative error where the loss is >= 1e-12: **{result['rel']:.1e}** "
            f"({where}); worst error over the allowed one (relative 1e-9, or the small-loss bound): "
            f"{result['ratio']:.1e}; negative losses: {result['negative']}; smallest exact loss met: "
            f"{result['smallest_loss']:.1e}.")


def markdown_document(rows, command, seconds, quick, sweep_line):
    mode = "quick" if quick else "full"
    cases = "; ".join(f"`{name}`" for name, _, _ in CASES)
    return f"""# Exhaustive check of Theorems 1 and 2 and of the swap kernels on small grids

Produced by `{command}` ({mode} mode) in {seconds:.1f} s of wall time on a shared 2-core CPU
({platform.machine()}, Python {platform.python_version()}, NumPy {np.__version__}, vortexnumba
{vn.__version__}); the time counts the check itself, including loading (or compiling) the Numba
kernels, but not the Python start-up and imports.

Each row takes one grid and one kernel and, for each of {len(CASES)} cases ({cases}; images seeded by
`[{SEED}, H, W, case]`), computes `vortexnumba.retention` and `vortexnumba.information_loss` for every
map of its kind: every permutation of grids with at most {PERMUTATION_PIXELS_FULL} pixels, every
transposition of grids up to {TRANSPOSITION_SIDE_FULL}x{TRANSPOSITION_SIDE_FULL}.

- *checked*: maps per case; *cases*: images (with their couplings) per row.
- *loss = 0*: maps with `information_loss == 0` exactly (the same count in every case, else -1).
  The loss is computed directly, not as `1 - rho`, so a non-automorphism with a loss of 1e-44 (two-valued
  image, h = 0.1) is not counted here.
- *automorphisms*: maps that keep every neighbour distance (found from integer squared
  distances, without the retention code).
- *exact*: the two sets coincide in every case, and every other map has a positive loss.
- *Thm 2 expects*: the number of transpositions Theorem 2 says keep rho = 1 (the reflection
  swaps of 1x2, 1x3, 2x2 and their transposes; 0 elsewhere).
- *max rho - 1*: the largest retention found, minus 1 (Theorem 1: never positive beyond rounding).
  For permutations `vortexnumba.retention` evaluates `1 - rho` as a sum of squares and cannot
  return more than 1, so the inequality is also checked on its own:
- *max cos - 1*: the largest plain cosine of the bond vectors before and after the move,
  computed in NumPy by this script (its own kernel and coupling code, no clamping), minus 1.
- *max |rho - cos|*: the largest disagreement between the package and that cosine.
- *min loss (others)*: the smallest loss among maps that are not automorphisms.
- *swaps vs loss (rel)*: transpositions only; `SwapContext.loss` of every pair, `SwapContext.deltas` of
  every pixel and `swap_delta` of {SWAP_DELTA_SAMPLES_FULL} random pairs per case against `information_loss`
  of the same transposition: the
  worst relative error where the loss is at least 1e-12 (all must be within 1e-9, or the small-loss bound
  of `proofs/theorems.md` below 1e-12, and non-negative).
- *vs exact (rel)*, *exact checks*: `SwapContext.loss`, `swap_delta` and `information_loss` for a random
  sample of swaps against
  `vortexnumba.testing.exact_loss` (120-digit decimal arithmetic).
- *pass*: exact, no rho or cosine above `1 + {TOLERANCE:g}`, rho and cosine within
  {TOLERANCE:g}, for permutations the automorphisms are exactly the grid's symmetries (flips, the
  180-degree turn, and on square grids the 90-degree turns and transposes); for transpositions the
  zero-loss swaps are Theorem 2's and every swap value is within tolerance of both references.

**Summary.**

- permutations: {summary([r for r in rows if r["kind"] == "permutations"])}.
- transpositions: {summary([r for r in rows if r["kind"] == "transpositions"])}.
- all: {summary(rows)}.

**Random adversarial sweep against the exact reference.** {sweep_line}

{format_table(rows, markdown=True)}
"""
