"""``vortexnumba verify``: the theorems' properties for a kernel and a coupling (vortexnumba.testing.verify)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable
from typing import Any

from ..framework._kernels import Coupling, Kernel
from ._options import builtin_coupling, builtin_kernel

_BUILT_IN = ("power", "gaussian", "exponential")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "verify",
        help="check the swap theorem and its relatives for a kernel (built-in or your own)",
        description=(
            "Run one of the theorems' properties (swap: every swap of two pixels loses information; "
            "bijection: no permutation gains; lossy: retention of non-bijective maps is computed right) "
            "exhaustively on the smallest grids and through Hypothesis on grids up to --max-grid, every case "
            "against the exact reference (decimal arithmetic, 120 digits or more). Prints the cases that passed per "
            "grid size, or a shrunk "
            "counterexample and exits 1. Needs Hypothesis (pip install 'vortexnumba[testing]')."
        ),
    )
    p.add_argument("--kernel", default="power", metavar="power|gaussian|exponential|MODULE:FUNCTION",
                   help="a built-in family, or MODULE:FUNCTION for your own f(d), cut off at --radius")
    p.add_argument("--radius", type=float, default=3.0, help="kernel radius R >= 1 (default 3)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--alpha", type=float, default=None, help="exponent of the power kernel (default 2)")
    g.add_argument("--tau", type=float, default=None, help="scale of the gaussian/exponential kernel (default 1)")
    p.add_argument("--no-check", action="store_true",
                   help="accept a custom kernel or coupling that breaks the theorem's assumptions")
    p.add_argument("--coupling", default="gaussian", metavar="gaussian|constant|MODULE:FUNCTION",
                   help="value coupling; MODULE:FUNCTION for your own s(x, y) (uint8 images only)")
    p.add_argument("--h", type=float, default=None, help="bandwidth of the gaussian coupling (default 0.25)")
    p.add_argument("--property", choices=("swap", "bijection", "lossy"), default="swap")
    p.add_argument("--max-grid", type=int, default=6, help="largest grid side Hypothesis draws (default 6)")
    p.add_argument("--examples", type=int, default=100, help="cases Hypothesis generates (default 100)")
    p.add_argument("--seed", type=int, default=0, help="seed of the generated cases (default 0)")
    p.set_defaults(func=run)


def load_function(spec: str, what: str) -> Callable[..., Any]:
    """``module:function`` -> the function (the current folder is importable, as with ``python -m``)."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ValueError(f"--{what} {spec!r}: expected a built-in name or MODULE:FUNCTION")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"--{what} {spec!r}: cannot import {module_name!r} ({exc})") from None
    fn = module
    for part in attr.split("."):
        if not hasattr(fn, part):
            raise ValueError(f"--{what} {spec!r}: {module_name!r} has no attribute {attr!r}")
        fn = getattr(fn, part)
    if not callable(fn):
        raise ValueError(f"--{what} {spec!r}: {attr!r} is not callable")
    return fn


def kernel_and_coupling(args: argparse.Namespace) -> tuple[Kernel, Coupling]:
    check = not args.no_check
    if args.kernel in _BUILT_IN:
        kernel = builtin_kernel(args)
    else:
        if args.alpha is not None or args.tau is not None:
            raise ValueError("--alpha and --tau apply to the built-in kernels only")
        try:
            kernel = Kernel.from_function(load_function(args.kernel, "kernel"), args.radius, check=check)
        except ValueError as exc:
            raise ValueError(f"{exc} (--no-check runs it anyway)") from None
    if args.coupling in ("constant", "gaussian"):
        return kernel, builtin_coupling(args)
    if args.h is not None:
        raise ValueError("--h applies to the gaussian coupling only")
    try:
        return kernel, Coupling.from_function(load_function(args.coupling, "coupling"), check=check)
    except ValueError as exc:
        raise ValueError(f"{exc} (--no-check runs it anyway)") from None


def run(args: argparse.Namespace) -> int:
    try:
        from ..testing import verify
    except ImportError as exc:  # Hypothesis is an optional extra
        raise ValueError(str(exc)) from None

    kernel, coupling = kernel_and_coupling(args)
    report = verify(kernel, coupling, property=args.property, max_grid=args.max_grid, examples=args.examples,
                    seed=args.seed, progress=None)
    print(report.text())
    return 0 if report.ok else 1
