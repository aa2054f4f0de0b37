"""Regenerate docs/figures/schemes.png: the same images under every scheme of vortexnumba.

    .venv/bin/python benchmarks/make_scheme_figure.py [--out docs/figures/schemes.png] [--force]
    .venv/bin/python benchmarks/make_scheme_figure.py --quick    # written to a temporary folder (CI)

Columns: four Fashion-MNIST test images (28x28 grey; the 8x8 scikit-learn
digits enlarged to 28x28 when Debian's dataset-fashion-mnist is not
installed) and scikit-image's astronaut photograph (every 4th pixel: 128x128
colour). Rows: the plain images, RVT, a fixed pixel permutation, then LE,
ELE, EtC, PE and block-wise (without and with negation), all with 4x4
blocks and seed 0, so the figure is reproducible. It also prints, for each
scheme, whether decryption gave the images back bit for bit.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

import vortexnumba as vn


def load_grey(n: int):
    try:
        return vn.data.load("fashion-mnist")[2][:n], "Fashion-MNIST test images"
    except FileNotFoundError:
        digits = vn.data.digits_uint8()[0][:n].astype(np.float64) / 255.0
        x = np.pad(np.kron(digits, np.ones((1, 3, 3))), ((0, 0), (2, 2), (2, 2)))
        return np.round(x * 255).astype(np.uint8), "scikit-learn digits (enlarged to 28x28)"


def photograph() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[::4, ::4])


def keys_for(shape, channels):
    """(label, key) of every scheme for images of ``shape`` and ``channels``; seed 0 throughout."""
    strength = 0.8 if channels == 1 else 0.1
    return [
        ("RVT (vortex)", vn.VortexKey.random(shape, strength=strength, seed=0)),
        ("permutation", vn.PermutationKey.random(shape, seed=0)),
        ("LE", vn.LEKey.random(shape, block=4, channels=channels, seed=0)),
        ("ELE", vn.ELEKey.random(shape, block=4, channels=channels, seed=0)),
        ("EtC", vn.EtCKey.random(shape, block=4, channels=channels, seed=0)),
        ("PE", vn.PEKey.random(shape, channels=channels, seed=0)),
        ("block-wise", vn.BlockwiseKey.random(shape, block=4, channels=channels, seed=0)),
        ("block-wise, negation", vn.BlockwiseKey.random(shape, block=4, channels=channels, negate=True, seed=0)),
    ]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="docs/figures/schemes.png")
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--quick", action="store_true", help="write the figure to a temporary folder")
    args = ap.parse_args(argv)
    if args.quick:
        args.out = str(Path(tempfile.mkdtemp(prefix="vortexnumba-quick-")) / "schemes.png")

    from matplotlib.figure import Figure

    from vortexnumba.io._files import save_figure

    grey, source = load_grey(4)
    photo = photograph()
    grey_keys = keys_for(grey.shape[1:], 1)
    photo_keys = keys_for(photo.shape[:2], 3)
    rows = [("plain", grey, photo)]
    for (label, kg), (_, kp) in zip(grey_keys, photo_keys, strict=True):
        eg, ep = vn.encrypt(grey, kg), vn.encrypt(photo, kp)
        exact = np.array_equal(vn.decrypt(eg, kg), grey) and np.array_equal(vn.decrypt(ep, kp), photo)
        print(f"{label:22s} decrypts exactly: {exact}")
        rows.append((label, eg, ep))

    n_cols = grey.shape[0] + 1
    fig = Figure(figsize=(1.25 * n_cols + 0.6, 1.3 * len(rows)))
    axes = fig.subplots(len(rows), n_cols, gridspec_kw={"width_ratios": [1] * grey.shape[0] + [1.4]})
    for r, (label, g, p) in enumerate(rows):
        for c in range(grey.shape[0]):
            axes[r, c].imshow(g[c], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        axes[r, -1].imshow(p, interpolation="nearest")
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
        for ax in axes[r]:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(f"{source} and the astronaut (scikit-image) under every scheme; 4x4 blocks, seed 0", fontsize=9)
    fig.tight_layout()
    out = Path(args.out)
    save_figure(fig, out, force=args.force)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
