"""Exhaustive check of Theorems 1 and 2 (``proofs/theorems.md``) on small grids.

For every grid H x W with 1 <= H, W <= 6 (N = H W >= 2) it computes the
retention of every transposition, and for every grid with at most 8 pixels
the retention of every permutation, for each kernel family at radius 3 and
radius 1, on one seeded random image. Each row of the table reports how many
of the maps keep ``rho = 1`` (to 1e-12) and whether those are exactly the
automorphisms of the weighted neighbour graph.

The automorphisms are found without the retention code: a permutation sigma
is one when, for every pair q != r, the integer squared distances satisfy
``|sigma q - sigma r|^2 == |q - r|^2`` or both exceed ``R^2`` (the kernels
are positive and one-to-one on (0, R] and zero beyond, so this is exactly
``f(|sigma q - sigma r|) = f(|q - r|)``).

A row passes when

- no map has ``rho > 1 + 1e-12`` (Theorem 1, the inequality), neither from
  ``vn.retention`` nor from an independent NumPy cosine of the bond vectors
  (:func:`cosines`, not clamped), and the two agree to 1e-12;
- the maps with ``|rho - 1| <= 1e-12`` are exactly the automorphisms
  (Theorem 1, the equality case);
- for permutations: the automorphisms are exactly the grid's symmetries
  (flips, the 180-degree turn, and on square grids the 90-degree turns and
  the two transposes);
- for transpositions: the number keeping ``rho = 1`` is the one Theorem 2
  predicts (0 unless the grid is 1x2, 1x3, 2x2 or a transpose of one).

Usage::

    python proofs/verify_small_grids.py            # the full check
    python proofs/verify_small_grids.py --quick    # a few seconds
    python proofs/verify_small_grids.py --markdown proofs/verification.md --force

The exit status is 1 when any row fails.
"""

from __future__ import annotations

import argparse
import itertools
import math
import platform
import sys
import time

import numpy as np

import vortexnumba as vn

TOLERANCE = 1e-12
SEED = 20241125
# Maps per call of vn.retention: bounds the tiled image batch and the index batch.
CHUNK = 20000

PERMUTATION_PIXELS_FULL = 8
TRANSPOSITION_SIDE_FULL = 6
# Quick mode: permutations on grids with both sides <= 3 and at most 6 pixels
# (720 maps at most), transpositions on a spread of grids.
PERMUTATION_PIXELS_QUICK = 6
PERMUTATION_SIDE_QUICK = 3
TRANSPOSITION_GRIDS_QUICK = [(1, 2), (2, 1), (1, 3), (3, 1), (2, 2), (1, 4), (1, 5), (2, 3), (3, 3), (4, 4), (5, 6)]

# Theorem 2: the transpositions that keep rho = 1 on the grids where any does.
REFLECTION_SWAPS = {
    (1, 2): [(0, 1)],
    (2, 1): [(0, 1)],
    (1, 3): [(0, 2)],
    (3, 1): [(0, 2)],
    (2, 2): [(0, 3), (1, 2)],
}


def kernels() -> list[tuple[str, vn.Kernel]]:
    """The kernel families checked, each at radius 3 and radius 1."""
    out = []
    for radius in (3.0, 1.0):
        out.append((f"power(2, {radius:g})", vn.Kernel.power(2.0, radius)))
        out.append((f"gaussian(1, {radius:g})", vn.Kernel.gaussian(1.0, radius)))
        out.append((f"exponential(1, {radius:g})", vn.Kernel.exponential(1.0, radius)))
    return out


# ----------------------------------------------------------------------------- geometry, no retention code


def squared_distances(height: int, width: int) -> np.ndarray:
    """(N, N) integer matrix of squared Euclidean distances between grid positions."""
    i, j = np.divmod(np.arange(height * width), width)
    return (i[:, None] - i[None, :]) ** 2 + (j[:, None] - j[None, :]) ** 2


def neighbour_classes(height: int, width: int, radius: float) -> np.ndarray:
    """Integer label of f(|q - r|): the squared distance within R, -1 beyond R.

    Two pairs have equal kernel values exactly when their labels agree, for
    every kernel that is positive and strictly decreasing on (0, R] and zero
    beyond R. The comparison with R^2 is exact for the integer radii used.
    """
    d2 = squared_distances(height, width)
    return np.where(d2 <= radius * radius, d2, -1)


def automorphism_mask(sigmas: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """For each row sigma (where pixel q goes), whether classes[sigma q, sigma r] == classes[q, r]."""
    out = np.empty(sigmas.shape[0], dtype=bool)
    step = max(1, 2_000_000 // classes.size)
    for lo in range(0, sigmas.shape[0], step):
        s = sigmas[lo:lo + step]
        moved = classes[s[:, :, None], s[:, None, :]]
        out[lo:lo + step] = (moved == classes[None]).all(axis=(1, 2))
    return out


def grid_symmetries(height: int, width: int) -> set[tuple[int, ...]]:
    """The symmetries of the rectangle, as tuples sigma (where pixel q goes)."""
    pos = np.arange(height * width).reshape(height, width)
    views = [pos, pos[::-1, :], pos[:, ::-1], pos[::-1, ::-1]]
    if height == width:
        views += [pos.T, pos[::-1, ::-1].T, np.rot90(pos, 1), np.rot90(pos, 3)]
    out = set()
    for view in views:
        # view.flat[p] = the pixel that lands on p, i.e. a gather index; invert it.
        src = view.ravel()
        sigma = np.empty_like(src)
        sigma[src] = np.arange(src.size)
        out.add(tuple(int(v) for v in sigma))
    return out


# ----------------------------------------------------------------------------- the maps


def all_permutations(n: int) -> np.ndarray:
    """(n!, n) array of every permutation of range(n), as sigma."""
    return np.array(list(itertools.permutations(range(n))), dtype=np.int64)


def all_transpositions(n: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """(n(n-1)/2, n) array of every transposition, as sigma, with its pair (a, b)."""
    pairs = list(itertools.combinations(range(n), 2))
    sigmas = np.tile(np.arange(n, dtype=np.int64), (len(pairs), 1))
    for row, (a, b) in enumerate(pairs):
        sigmas[row, a], sigmas[row, b] = b, a
    return sigmas, pairs


def retentions(image: np.ndarray, sigmas: np.ndarray, kernel: vn.Kernel, coupling: vn.Coupling) -> np.ndarray:
    """rho of every map, through vn.retention on the image tiled once per map."""
    height, width = image.shape
    srcs = np.argsort(sigmas, axis=1)  # gather index = inverse of "where pixel q goes"
    out = np.empty(sigmas.shape[0])
    for lo in range(0, sigmas.shape[0], CHUNK):
        chunk = srcs[lo:lo + CHUNK]
        batch = np.broadcast_to(image[None, :, :, None], (chunk.shape[0], height, width, 1))
        out[lo:lo + CHUNK] = vn.retention(batch, chunk, kernel, coupling)
    return out


def cosines(image: np.ndarray, sigmas: np.ndarray, kernel: vn.Kernel, h: float) -> np.ndarray:
    """Independent NumPy evaluation of rho for permutations: the plain cosine of b and b^sigma.

    Shares no code with the package (kernel and coupling written out here) and
    is not clamped, so it tests the inequality rho <= 1 on its own.
    """
    n = image.size
    d = np.sqrt(squared_distances(*image.shape).astype(np.float64))
    off = ~np.eye(n, dtype=bool)
    safe = np.where(off, d, 1.0)
    if kernel.family == "power":
        f = safe ** (-kernel.param)
    elif kernel.family == "gaussian":
        f = np.exp(-safe * safe / (2.0 * kernel.param ** 2))
    else:
        f = np.exp(-safe / kernel.param)
    f = np.where(off & (d <= kernel.radius), f, 0.0)
    x = image.ravel()
    s = np.exp(-((x[:, None] - x[None, :]) ** 2) / (2.0 * h * h))
    bonds = s * f
    norm_b = np.sqrt((bonds * bonds).sum())
    out = np.empty(sigmas.shape[0])
    step = max(1, 2_000_000 // n ** 2)
    for lo in range(0, sigmas.shape[0], step):
        sg = sigmas[lo:lo + step]
        moved = s[None] * f[sg[:, :, None], sg[:, None, :]]
        out[lo:lo + step] = (moved * bonds[None]).sum(axis=(1, 2)) / (
            norm_b * np.sqrt((moved * moved).sum(axis=(1, 2))))
    return out


# ----------------------------------------------------------------------------- the check


def _row(kind, height, width, kernel_name, image, kernel, coupling, sigmas, rho, auto, extra_ok, expected_swaps):
    keeps = np.abs(rho - 1.0) <= TOLERANCE
    off = rho[~auto]
    cos = cosines(image, sigmas, kernel, coupling.h)
    row = {
        "kind": kind,
        "grid": f"{height}x{width}",
        "kernel": kernel_name,
        "checked": int(sigmas.shape[0]),
        "keep_rho_1": int(keeps.sum()),
        "automorphisms": int(auto.sum()),
        "exact": bool(np.array_equal(keeps, auto)),
        "max_rho": float(rho.max()),
        "max_cosine": float(cos.max()),
        "max_deviation": float(np.abs(rho - cos).max()),
        "min_loss_off_automorphisms": float((1.0 - off).min()) if off.size else math.nan,
        "expected": expected_swaps,
    }
    row["passed"] = bool(row["exact"] and row["max_rho"] <= 1.0 + TOLERANCE and row["max_cosine"] <= 1.0 + TOLERANCE
                         and row["max_deviation"] <= TOLERANCE and extra_ok)
    return row


def check_permutations(height, width, image, kernel_name, kernel, coupling):
    n = height * width
    sigmas = all_permutations(n)
    rho = retentions(image, sigmas, kernel, coupling)
    auto = automorphism_mask(sigmas, neighbour_classes(height, width, kernel.radius))
    symmetric = {tuple(int(v) for v in s) for s in sigmas[auto]} == grid_symmetries(height, width)
    return _row("permutations", height, width, kernel_name, image, kernel, coupling, sigmas, rho, auto, symmetric,
                None)


def check_transpositions(height, width, image, kernel_name, kernel, coupling):
    n = height * width
    sigmas, pairs = all_transpositions(n)
    rho = retentions(image, sigmas, kernel, coupling)
    auto = automorphism_mask(sigmas, neighbour_classes(height, width, kernel.radius))
    expected = REFLECTION_SWAPS.get((height, width), [])
    keeps = [pairs[k] for k in np.flatnonzero(np.abs(rho - 1.0) <= TOLERANCE)]
    theorem2 = sorted(keeps) == sorted(expected)
    return _row("transpositions", height, width, kernel_name, image, kernel, coupling, sigmas, rho, auto, theorem2,
                len(expected))


def grids(quick: bool):
    """(permutation grids, transposition grids)."""
    if quick:
        perm = [(h, w) for h in range(1, PERMUTATION_SIDE_QUICK + 1) for w in range(1, PERMUTATION_SIDE_QUICK + 1)
                if 2 <= h * w <= PERMUTATION_PIXELS_QUICK]
        return perm, list(TRANSPOSITION_GRIDS_QUICK)
    perm = [(h, w) for h in range(1, PERMUTATION_PIXELS_FULL + 1) for w in range(1, PERMUTATION_PIXELS_FULL + 1)
            if 2 <= h * w <= PERMUTATION_PIXELS_FULL]
    trans = [(h, w) for h in range(1, TRANSPOSITION_SIDE_FULL + 1) for w in range(1, TRANSPOSITION_SIDE_FULL + 1)
             if h * w >= 2]
    return perm, trans


def verify(quick: bool = False, *, seed: int = SEED) -> list[dict]:
    """Run the check and return one dict per (kind, grid, kernel).

    Parameters
    ----------
    quick : bool
        Small grids only (a few seconds) instead of the full range.
    seed : int
        Seed of the random images (one float image per grid, values in [0, 1)).

    Returns
    -------
    list of dict
        Keys: kind, grid, kernel, checked, keep_rho_1, automorphisms, exact,
        max_rho, min_loss_off_automorphisms, expected (Theorem 2's count for
        transpositions, None for permutations), passed.
    """
    coupling = vn.Coupling.gaussian(0.25)
    rows = []
    perm_grids, trans_grids = grids(quick)
    for kind, grid_list, check in (("permutations", perm_grids, check_permutations),
                                   ("transpositions", trans_grids, check_transpositions)):
        for height, width in grid_list:
            rng = np.random.default_rng([seed, height, width])
            image = rng.random((height, width))
            for kernel_name, kernel in kernels():
                rows.append(check(height, width, image, kernel_name, kernel, coupling))
    return rows


# ----------------------------------------------------------------------------- output

_COLUMNS = [
    ("kind", "maps"), ("grid", "grid"), ("kernel", "kernel"), ("checked", "checked"),
    ("keep_rho_1", "rho = 1"), ("automorphisms", "automorphisms"), ("exact", "exact"),
    ("expected", "Thm 2 expects"), ("max_rho", "max rho - 1"), ("max_cosine", "max cos - 1"),
    ("max_deviation", "max |rho - cos|"),
    ("min_loss_off_automorphisms", "min loss (others)"), ("passed", "pass"),
]


def _cell(key, row):
    value = row[key]
    if key in ("max_rho", "max_cosine"):
        return f"{value - 1.0:.1e}"
    if key == "max_deviation":
        return f"{value:.1e}"
    if key == "min_loss_off_automorphisms":
        return "-" if math.isnan(value) else f"{value:.2e}"
    if key == "expected":
        return "-" if value is None else str(value)
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
    n_maps = sum(r["checked"] for r in rows)
    failed = [r for r in rows if not r["passed"]]
    worst = max(r["max_rho"] for r in rows) - 1.0
    worst_cos = max(r["max_cosine"] for r in rows) - 1.0
    deviation = max(r["max_deviation"] for r in rows)
    gaps = [r["min_loss_off_automorphisms"] for r in rows if not math.isnan(r["min_loss_off_automorphisms"])]
    return (f"{len(rows)} rows, {n_maps} retentions computed; {len(rows) - len(failed)} rows pass, "
            f"{len(failed)} fail; largest rho - 1 = {worst:.1e} (independent cosine: {worst_cos:.1e}); "
            f"largest |rho - cosine| = {deviation:.1e}; smallest loss of a non-automorphism = "
            + (f"{min(gaps):.2e}" if gaps else "-"))


def _markdown_document(rows, command, seconds, quick):
    mode = "quick" if quick else "full"
    return f"""# Exhaustive check of Theorems 1 and 2 on small grids

Produced by `{command}` ({mode} mode) in {seconds:.1f} s of wall time on a shared 2-core CPU
({platform.machine()}, Python {platform.python_version()}, NumPy {np.__version__}, vortexnumba
{vn.__version__}); the time counts the check itself, including loading (or compiling) the Numba
kernels, but not the Python start-up and imports.

Each row takes one grid and one kernel (coupling `gaussian(0.25)`, one random float image per
grid, values uniform in [0, 1), seed `[{SEED}, H, W]`) and computes `vortexnumba.retention` for every map of its kind: every
permutation of grids with at most {PERMUTATION_PIXELS_FULL} pixels, every transposition of grids up
to {TRANSPOSITION_SIDE_FULL}x{TRANSPOSITION_SIDE_FULL}.

- *rho = 1*: maps with `|rho - 1| <= {TOLERANCE:g}`.
- *automorphisms*: maps that keep every neighbour distance (found from integer squared
  distances, without the retention code).
- *exact*: the two sets coincide.
- *Thm 2 expects*: the number of transpositions Theorem 2 says keep rho = 1 (the reflection
  swaps of 1x2, 1x3, 2x2 and their transposes; 0 elsewhere).
- *max rho - 1*: the largest retention found, minus 1 (Theorem 1: never positive beyond rounding).
  For permutations `vortexnumba.retention` evaluates `1 - rho` as a sum of squares and cannot
  return more than 1, so the inequality is also checked on its own:
- *max cos - 1*: the largest plain cosine of the bond vectors before and after the move,
  computed in NumPy by this script (its own kernel and coupling code, no clamping), minus 1.
- *max |rho - cos|*: the largest disagreement between the package and that cosine.
- *min loss (others)*: the smallest `1 - rho` among maps that are not automorphisms: how far the
  strict inequality is from the 1e-12 tolerance.
- *pass*: exact, no rho or cosine above `1 + {TOLERANCE:g}`, rho and cosine within
  {TOLERANCE:g}, and for permutations the automorphisms are
  exactly the grid's symmetries (flips, the 180-degree turn, and on square grids the
  90-degree turns and transposes); for transpositions the count matches Theorem 2.

**Summary.**

- permutations: {summary([r for r in rows if r["kind"] == "permutations"])}.
- transpositions: {summary([r for r in rows if r["kind"] == "transpositions"])}.
- all: {summary(rows)}.

{format_table(rows, markdown=True)}
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small grids only (a few seconds)")
    parser.add_argument("--markdown", metavar="PATH", help="also write the table as a Markdown document")
    parser.add_argument("--force", action="store_true", help="overwrite PATH if it exists")
    args = parser.parse_args(argv)
    if args.markdown:
        from vortexnumba.io._files import check_output_path

        check_output_path(args.markdown, force=args.force)
    start = time.perf_counter()
    rows = verify(args.quick)
    seconds = time.perf_counter() - start
    print(format_table(rows))
    print()
    print(summary(rows) + f" ({seconds:.1f} s)")
    if args.markdown:
        from vortexnumba.io._files import atomic_writer

        command = "python proofs/verify_small_grids.py" + (" --quick" if args.quick else "")
        command += f" --markdown {args.markdown}" + (" --force" if args.force else "")
        with atomic_writer(args.markdown, force=args.force, mode="w") as fh:
            fh.write(_markdown_document(rows, command, seconds, args.quick))
    return 0 if all(r["passed"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
