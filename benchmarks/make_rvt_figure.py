"""Regenerate docs/figures/rvt_examples.png and the retention table of docs/rvt.md.

    .venv/bin/python benchmarks/make_rvt_figure.py [--out docs/figures/rvt_examples.png] [--images 500]
    .venv/bin/python benchmarks/make_rvt_figure.py --quick     # a small run into a temporary folder (CI)

Uses the real Fashion-MNIST test images when Debian's dataset-fashion-mnist
package is installed (/usr/share/datasets/fashion-mnist), otherwise the 8x8
scikit-learn digits enlarged 3x with np.kron and padded to 28x28. Every key
is drawn with seed 0, so the figure and table are reproducible.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

import vortexnumba as vn


def load_images(n):
    try:
        images = vn.data.load("fashion-mnist")[2]
        return images[:n], "Fashion-MNIST (test set)"
    except FileNotFoundError:
        digits = vn.data.digits_uint8()[0][:n].astype(np.float64) / 255.0
        x = np.pad(np.kron(digits, np.ones((1, 3, 3))), ((0, 0), (2, 2), (2, 2)))
        return np.round(x * 255).astype(np.uint8), "scikit-learn digits (3x np.kron, padded to 28x28)"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="docs/figures/rvt_examples.png")
    ap.add_argument("--images", type=int, default=500, help="images for the retention table")
    ap.add_argument("--show", type=int, default=6, help="images in the figure")
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--quick", action="store_true", help="50 images, figure written to a temporary folder")
    args = ap.parse_args(argv)
    if args.quick:
        args.images = 50
        args.out = str(Path(tempfile.mkdtemp(prefix="vortexnumba-quick-")) / "rvt_examples.png")

    from matplotlib.figure import Figure

    from vortexnumba.io._files import save_figure

    x, source = load_images(args.images)
    shape = x.shape[1:]
    methods = {
        "original": vn.IdentityKey(shape),
        "RVT bijective (default key)": vn.VortexKey.random(shape, seed=0),
        "RVT paper mode": vn.VortexKey.random(shape, mode="paper", seed=0),
        "block 4x4": vn.BlockKey.random(shape, block=4, seed=0),
        "random permutation": vn.PermutationKey.random(shape, seed=0),
    }
    encrypted = {name: vn.encrypt(x, key) for name, key in methods.items()}
    retention = {name: vn.retention(x, key.src) for name, key in methods.items()}
    shuffled, src_each = vn.shuffle_each(x, seed=0, return_src=True)
    retention["shuffle_each (new permutation per image)"] = vn.retention(x, src_each)

    rows = ["original", "RVT bijective (default key)", "RVT paper mode", "random permutation"]
    fig = Figure(figsize=(1.3 * args.show, 1.45 * len(rows)))
    axes = fig.subplots(len(rows), args.show)
    for r, name in enumerate(rows):
        for c in range(args.show):
            ax = axes[r, c]
            ax.imshow(encrypted[name][c], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(name.replace(" (default key)", "").replace("random ", "random\n")
                              .replace("RVT ", "RVT\n"), fontsize=8)
    fig.suptitle(f"{source}: 10 vortices, S = 0.8, seed 0", fontsize=9)
    fig.tight_layout()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, out, force=args.force)
    print(f"wrote {out}")
    print(f"\nretention on {len(x)} images of {source} (default kernel power(2, 3), coupling gaussian(0.25))\n")
    print("| transformation | mean retention | min | max | information loss rate |")
    print("|---|---|---|---|---|")
    for name, rho in retention.items():
        rho = np.asarray(rho)
        print(f"| {name} | {rho.mean():.3f} | {rho.min():.3f} | {rho.max():.3f} | {1 - rho.mean():.3f} |")


if __name__ == "__main__":
    main()
