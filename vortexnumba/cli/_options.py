"""Command-line options that several commands share: the built-in kernel and coupling."""

from __future__ import annotations

import argparse

from ..framework._kernels import Coupling, Kernel


def builtin_kernel(args: argparse.Namespace) -> Kernel:
    """The kernel named by ``--kernel power|gaussian|exponential`` with ``--alpha``/``--tau``/``--radius``."""
    if args.kernel == "power":
        if args.tau is not None:
            raise ValueError("--tau applies to the gaussian and exponential kernels; use --alpha with power")
        return Kernel.power(2.0 if args.alpha is None else args.alpha, args.radius)
    if args.alpha is not None:
        raise ValueError(f"--alpha applies to the power kernel; use --tau with {args.kernel}")
    return getattr(Kernel, args.kernel)(1.0 if args.tau is None else args.tau, args.radius)


def builtin_coupling(args: argparse.Namespace) -> Coupling:
    """The coupling named by ``--coupling gaussian|constant`` with ``--h``."""
    if args.coupling == "constant":
        if args.h is not None:
            raise ValueError("--h applies to the gaussian coupling only")
        return Coupling.constant()
    return Coupling.gaussian(0.25 if args.h is None else args.h)
