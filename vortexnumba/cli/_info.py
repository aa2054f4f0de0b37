"""``vortexnumba info``: information content, neighbour profile and swap map of one image."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from .._validate import as_position
from ..framework._information import information_energy, neighbour_profile
from ..framework._kernels import Coupling, Kernel
from ..framework._swap import SwapContext
from ..io._figures import swap_heatmap
from ..io._files import check_output_path, save_figure
from ..io._images import read_one_image
from ._options import builtin_coupling, builtin_kernel


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "info",
        help="information content and neighbour profile of one image",
        description=(
            "Print the information content I(X), the energy E(X) and the neighbour profile of one image. "
            "With --swap I,J also save the map of Delta I for swapping pixel (I, J) with every other pixel."
        ),
    )
    p.add_argument("image", metavar="IMAGE_OR_ARRAY",
                   help="a PNG/JPEG file, a .npy/.npz array, or digits:K for image K of the embedded digits")
    p.add_argument("--index", type=int, default=None,
                   help="which image of a batch array (B, H, W[, C]) to use (default 0)")
    p.add_argument("--kernel", choices=("power", "gaussian", "exponential"), default="power")
    p.add_argument("--radius", type=float, default=3.0, help="kernel radius R >= 1 (default 3)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--alpha", type=float, default=None, help="exponent of the power kernel (default 2)")
    g.add_argument("--tau", type=float, default=None, help="scale of the gaussian/exponential kernel (default 1)")
    p.add_argument("--coupling", choices=("gaussian", "constant"), default="gaussian")
    p.add_argument("--h", type=float, default=None, help="bandwidth of the gaussian coupling (default 0.25)")
    p.add_argument("--swap", metavar="I,J", default=None, help="pixel whose swap map to compute")
    p.add_argument("-o", "--output", default=None, help="PNG for the swap heatmap (default swap_I_J.png)")
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")
    p.set_defaults(func=run)


def kernel_from_args(args: argparse.Namespace) -> tuple[Kernel, Coupling]:
    return builtin_kernel(args), builtin_coupling(args)


def load_one_image(spec: str, index: int | None = None) -> tuple[np.ndarray, str]:
    """Read one image (H, W) or (H, W, C) from a file or ``digits:K``; returns it and a label."""
    if spec.startswith("digits:"):
        from ..data import digits_uint8

        try:
            k = int(spec.split(":", 1)[1])
        except ValueError:
            raise ValueError(f"IMAGE_OR_ARRAY {spec!r}: expected digits:K with an integer K") from None
        images, _ = digits_uint8()
        if not 0 <= k < len(images):
            raise ValueError(f"IMAGE_OR_ARRAY {spec!r}: K must lie in 0..{len(images) - 1}")
        return images[k], f"digits image {k} (8x8, 0..16 scaled to uint8)"
    path = Path(spec)
    if not path.is_file():
        raise FileNotFoundError(f"IMAGE_OR_ARRAY {spec!r} does not exist (give a file or digits:K)")
    arr = read_one_image(path, index, name="IMAGE_OR_ARRAY")
    return arr, f"{path.name} {arr.shape} {arr.dtype}"


def _parse_pixel(text: str) -> tuple[int, int]:
    try:
        i, j = (int(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"--swap expects I,J (two integers), got {text!r}") from None
    return i, j


def run(args: argparse.Namespace) -> int:
    kernel, coupling = kernel_from_args(args)
    image, label = load_one_image(args.image, args.index)
    channels = image.ndim == 3
    output = None
    if args.swap is not None:
        a = _parse_pixel(args.swap)
        as_position(a, image.shape[:2], "--swap")  # a bad pixel fails before anything is printed
        output = check_output_path(args.output or f"swap_{a[0]}_{a[1]}.png", force=args.force)
    energy = information_energy(image, kernel, coupling, channels=channels)
    profile, distances = neighbour_profile(image, kernel, coupling)
    out = sys.stdout
    print(f"image:    {label}", file=out)
    k_param = "alpha" if kernel.family == "power" else "tau"
    print(f"kernel:   {kernel.family}({k_param}={kernel.param:g}, R={kernel.radius:g});  "
          f"coupling: {coupling.family}" + (f"(h={coupling.h:g})" if coupling.h else "()"), file=out)
    print(f"information energy  E(X) = {energy:.10g}", file=out)
    print(f"information content I(X) = {np.sqrt(energy):.10g}", file=out)
    print("neighbour profile (information per distance):", file=out)
    print(f"  {'distance':>9} {'total':>14} {'mean/pixel':>12}", file=out)
    totals = profile.sum(axis=(0, 1))
    for d, t in zip(distances, totals):
        print(f"  {d:9.4f} {t:14.6f} {t / (image.shape[0] * image.shape[1]):12.6f}", file=out)
    if args.swap is not None:
        ctx = SwapContext(image, kernel, coupling, channels=channels)
        dmap = ctx.deltas(a)
        others = np.delete(dmap.ravel(), a[0] * image.shape[1] + a[1])
        print(f"swap map for pixel {a}: Delta I from {others.min():.6g} to {others.max():.6g} "
              f"(mean {others.mean():.6g}); {int((others < 0).sum())} of {others.size} swaps lose information",
              file=out)
        save_figure(swap_heatmap(image, dmap, a), output, force=args.force)
        print(f"wrote {output}", file=out)
    return 0
