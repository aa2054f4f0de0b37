"""Figures of docs/framework.md: the neighbour profile of a real image and a swap map.

    python benchmarks/make_framework_figures.py [--force]
    python benchmarks/make_framework_figures.py --quick   # into a temporary folder (CI)

Uses the first Fashion-MNIST test image when the data set is installed (Debian's
dataset-fashion-mnist), else the first image of scikit-learn's digits.
Writes docs/figures/neighbour_profile.png and docs/figures/swap_heatmap.png.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import vortexnumba as vn
from vortexnumba.io._figures import swap_heatmap
from vortexnumba.io._files import save_figure

FIGURES = Path(__file__).resolve().parent.parent / "docs" / "figures"


def real_image() -> tuple[np.ndarray, str]:
    try:
        _, _, test_x, _ = vn.data.load("fashion-mnist")
        return test_x[0], "Fashion-MNIST test image 0"
    except (FileNotFoundError, ValueError, AttributeError):
        _, _, test_x, _ = vn.data.load("digits")
        return test_x[0], "digits test image 0"


def profile_figure(image: np.ndarray, label: str):
    prof, dist = vn.neighbour_profile(image)
    rng = np.random.default_rng(0)
    perm = rng.permutation(image.size)
    shuffled = image.ravel()[perm].reshape(image.shape)
    prof_s, _ = vn.neighbour_profile(shuffled)
    fig, axes = plt.subplots(2, 5, figsize=(15, 5.8), layout="constrained")
    rows = [(image, prof, label), (shuffled, prof_s, "same pixels, randomly permuted")]
    vmax = max(prof.max(), prof_s.max())
    for r, (img, pr, title) in enumerate(rows):
        axes[r, 0].imshow(img, cmap="gray")
        axes[r, 0].set_title(title, fontsize=9)
        for c, k in enumerate([0, 1, 2]):
            im = axes[r, c + 1].imshow(pr[:, :, k], cmap="viridis", vmin=0, vmax=vmax)
            axes[r, c + 1].set_title(f"$n_X(q, d)$, d = {dist[k]:.3f}", fontsize=9)
        totals = pr.sum(axis=(0, 1))
        axes[r, 4].bar(np.arange(len(dist)), totals, color="tab:blue")
        axes[r, 4].set_xticks(np.arange(len(dist)), [f"{d:.2f}" for d in dist], fontsize=7)
        axes[r, 4].set_title("total per distance", fontsize=9)
        axes[r, 4].set_xlabel("d")
        for ax in axes[r, :4]:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.colorbar(im, ax=axes[:, 3], shrink=0.8, label="information per pixel")
    fig.suptitle(f"Neighbour profile, kernel power(2, 3), coupling gaussian(0.25): I(X) = "
                 f"{vn.information_content(image):.2f}; the permutation keeps rho = {vn.retention(image, perm):.3f} "
                 "of it (in X's frame)", fontsize=10)
    return fig


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--force", action="store_true", help="overwrite existing figures")
    ap.add_argument("--quick", action="store_true", help="write into a temporary folder instead of docs/figures")
    args = ap.parse_args(argv)
    figures = Path(tempfile.mkdtemp(prefix="vortexnumba-quick-")) if args.quick else FIGURES
    figures.mkdir(parents=True, exist_ok=True)
    image, label = real_image()
    save_figure(profile_figure(image, label), figures / "neighbour_profile.png", force=args.force)
    a = (image.shape[0] // 2, image.shape[1] // 2)
    dmap = vn.swap_deltas(image, a)
    save_figure(swap_heatmap(image, dmap, a), figures / "swap_heatmap.png", force=args.force)
    print(f"{label}: I = {vn.information_content(image):.4f}; swap map of {a}: "
          f"min {dmap.min():.4f}, max over others {np.delete(dmap.ravel(), a[0] * image.shape[1] + a[1]).max():.4g}")


if __name__ == "__main__":
    main()
