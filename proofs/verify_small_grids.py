"""Exhaustive check of Theorems 1 and 2 (``proofs/theorems.md``) and of the swap kernels on small grids.

For every grid H x W with 1 <= H, W <= 6 (N = H W >= 2) it takes every
transposition, and for every grid with at most 8 pixels every permutation,
for each kernel family at each radius R in {1, sqrt 2, 2, sqrt 5, 3}, on
several images per grid (:data:`CASES`: a random float image with
``gaussian(0.25)``, a two-valued uint8 image with the small ``h = 0.1``, and a
random three-channel uint8 image with the constant coupling). Each row of the
table is one (kind, grid, kernel) and reports how many maps lose nothing
(``information_loss == 0``, exactly) and whether those are exactly the
automorphisms of the weighted neighbour graph, for every case.

The automorphisms are found without the retention code: a permutation sigma
is one when, for every pair q != r, the integer squared distances satisfy
``|sigma q - sigma r|^2 == |q - r|^2`` or both exceed ``R^2`` (the kernels
are positive and one-to-one on (0, R] and zero beyond, so this is exactly
``f(|sigma q - sigma r|) = f(|q - r|)``).

A row passes when, for every case,

- no map has ``rho > 1 + 1e-12`` (Theorem 1, the inequality), neither from
  ``vn.retention`` nor from an independent NumPy cosine of the bond vectors
  (:func:`cosines`, not clamped), and the two agree to 1e-12;
- the maps with ``information_loss == 0`` are exactly the automorphisms and
  every other map has a positive loss (Theorem 1, the equality case; the loss
  is computed directly, so a loss of 1e-44 is not mistaken for 0);
- for permutations: the automorphisms are exactly the grid's symmetries
  (flips, the 180-degree turn, and on square grids the 90-degree turns and
  the two transposes);
- for transpositions: the swaps with zero loss are exactly the ones Theorem 2
  predicts (none unless the grid is 1x2, 1x3, 2x2 or a transpose of one), and
  the three swap entry points agree with ``information_loss`` of the same
  transposition: ``SwapContext.loss`` for every pair, ``SwapContext.deltas``
  for every pixel (full mode; two in quick mode) and ``swap_delta`` for a
  sample of pairs, to a relative 1e-9 (or the small-loss bound of
  ``proofs/theorems.md`` below 1e-12); and a sample of swaps agrees with the
  exact decimal reference (:func:`vortexnumba.testing.exact_loss`) to the
  same tolerance.

Usage::

    python proofs/verify_small_grids.py            # the full check
    python proofs/verify_small_grids.py --quick    # the CI subset
    python proofs/verify_small_grids.py --markdown proofs/verification.md --force
    python proofs/verify_small_grids.py --sweep 2000   # random adversarial cases against the exact reference

The exit status is 1 when any row fails. The checks are in ``small_grids.py``, the output in
``small_grids_report.py`` (both beside this script).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the two modules beside this script

from small_grids import (
    all_permutations,
    all_transpositions,
    automorphism_mask,
    grids,
    kernels,
    neighbour_classes,
    sweep,
    verify,
)
from small_grids_report import format_table, markdown_document, summary, sweep_text

__all__ = ["all_permutations", "all_transpositions", "automorphism_mask", "grids", "kernels", "main",
           "neighbour_classes", "sweep", "verify"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small grids only (the CI subset)")
    parser.add_argument("--sweep", type=int, default=0, metavar="N",
                        help="also run N random adversarial cases against the exact reference")
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
    command = "python proofs/verify_small_grids.py" + (" --quick" if args.quick else "")
    command += f" --sweep {args.sweep}" if args.sweep else ""
    sweep_line = "Not run (pass `--sweep N`)."
    sweep_ok = True
    if args.sweep:
        t0 = time.perf_counter()
        result = sweep(args.sweep)
        sweep_line = sweep_text(result, args.sweep, time.perf_counter() - t0, command)
        sweep_ok = result["ratio"] <= 1.0 and result["negative"] == 0
        print(sweep_line)
    if args.markdown:
        from vortexnumba.io._files import atomic_writer

        command += f" --markdown {args.markdown}" + (" --force" if args.force else "")
        with atomic_writer(args.markdown, force=args.force, mode="w") as fh:
            fh.write(markdown_document(rows, command, seconds, args.quick, sweep_line))
    return 0 if all(r["passed"] for r in rows) and sweep_ok else 1


if __name__ == "__main__":
    sys.exit(main())
