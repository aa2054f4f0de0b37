"""The experiment's statistics and report: correlation, Markdown, figures.

Everything here works from the ``results.json`` structure alone, so a
committed result can be re-rendered without training again
(:func:`write_report`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..io._files import atomic_writer

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["PAPER_RESULTS", "correlation", "write_figures", "write_report"]

#: Test accuracy (%) reported by the paper for origin / vor / random.
PAPER_RESULTS = {
    "mnist": {"ResNet-18": (99.20, 98.89, 28.99), "ViT": (99.47, 99.15, 31.84)},
    "fashion-mnist": {"ResNet-18": (94.12, 92.85, 40.10), "ViT": (94.95, 92.61, 56.19)},
    "cifar10": {"ResNet-18": (92.80, 87.56, 42.80), "ViT": (98.50, 92.04, 50.03)},
}

#: Transforms that apply one key to every image; "random" and "pe-each" draw a key per image.
FIXED_MAP = ("origin", "vor", "vor-paper", "perm", "block", "le", "ele", "etc", "pe", "blockwise")

#: Up to this many runs Spearman's p-value counts every ordering (8! = 40,320).
EXACT_SPEARMAN_MAX_RUNS = 8
#: Random orderings drawn (seeded) for Spearman's p-value above that.
SPEARMAN_RESAMPLES = 100_000


def _finite_or_none(v):
    return None if v is None or not math.isfinite(v) else float(v)


def _spearman_p(x, y):
    """Two-sided permutation p-value of Spearman's rho (scipy.stats.permutation_test).

    Ranks once, then correlates the ranks of ``x`` in every (or, above
    ``EXACT_SPEARMAN_MAX_RUNS`` runs, 100,000 seeded random) orderings with
    the ranks of ``y``.
    """
    from scipy import stats

    ry = stats.rankdata(y)
    ry = (ry - ry.mean()) / np.sqrt(((ry - ry.mean()) ** 2).sum())

    def rho(rx, axis=-1):
        rx = np.moveaxis(rx, axis, -1)
        rc = rx - rx.mean(axis=-1, keepdims=True)
        return (rc * ry).sum(axis=-1) / np.sqrt((rc**2).sum(axis=-1))

    exact = x.size <= EXACT_SPEARMAN_MAX_RUNS
    res = stats.permutation_test((stats.rankdata(x),), rho, permutation_type="pairings", vectorized=True,
                                 n_resamples=np.inf if exact else SPEARMAN_RESAMPLES, alternative="two-sided",
                                 rng=np.random.default_rng(0))
    method = ("exact permutation test: every ordering of the runs (scipy.stats.permutation_test)" if exact else
              f"permutation test: {SPEARMAN_RESAMPLES:,} seeded random orderings (scipy.stats.permutation_test)")
    return float(res.pvalue), method


def correlation(info_loss: Sequence[float], accuracy_drop: Sequence[float]) -> dict:
    """Pearson and Spearman correlation of information loss with accuracy drop.

    Parameters
    ----------
    info_loss, accuracy_drop : sequence of float
        One value per run.

    Returns
    -------
    dict
        ``pearson_r``, ``pearson_p``, ``spearman_r``, ``spearman_p`` (None when
        undefined), ``n_runs``, ``spearman_p_method`` and ``note`` (why a value
        is None, else None). Pearson's p-value is SciPy's (it assumes normal
        data); Spearman's comes from a permutation test, exact up to
        ``EXACT_SPEARMAN_MAX_RUNS`` runs (SciPy's t approximation is far off
        for a handful of points: about 1e-24 for five points in perfect
        order, where the exact two-sided value is 2/120).

    Examples
    --------
    >>> c = correlation([0.0, 0.1, 0.5, 0.9, 0.95], [0.0, 0.01, 0.02, 0.3, 0.5])
    >>> round(c["spearman_r"], 3), round(c["spearman_p"], 4)
    (1.0, 0.0167)
    """
    from scipy import stats

    x = np.asarray(info_loss, dtype=np.float64)
    y = np.asarray(accuracy_drop, dtype=np.float64)
    out = {"pearson_r": None, "pearson_p": None, "spearman_r": None, "spearman_p": None, "n_runs": int(x.size),
           "spearman_p_method": None, "note": None}
    if x.size < 3:
        out["note"] = f"needs at least 3 runs, got {x.size}"
        return out
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        out["note"] = "a value is not finite"
        return out
    for arr, label in ((x, "information loss"), (y, "accuracy drop")):
        if np.ptp(arr) == 0:
            out["note"] = f"{label} is the same in every run, so no correlation is defined"
            return out
    pr = stats.pearsonr(x, y)
    sr = stats.spearmanr(x, y)
    spearman_p, method = (_spearman_p(x, y) if math.isfinite(sr[0]) else (None, None))
    out.update(pearson_r=_finite_or_none(pr[0]), pearson_p=_finite_or_none(pr[1]),
               spearman_r=_finite_or_none(sr[0]), spearman_p=_finite_or_none(spearman_p),
               spearman_p_method=method)
    if None in (out["spearman_r"], out["pearson_r"]):
        out["note"] = "a correlation is undefined for these values (e.g. constant ranks)"
    return out


# --------------------------------------------------------------------------- Markdown


def _epochs(n) -> str:
    return f"{n} epoch" if n == 1 else f"{n} epochs"


def markdown(result: dict) -> str:
    """The ``results.md`` text of a ``results.json`` structure (ending in one newline).

    Examples
    --------
    >>> doc = {"dataset": "digits", "transforms": ["origin"], "models": ["mlp"], "epochs": 1, "seed": 0,
    ...        "runs": [{"model": "mlp", "transform": "origin", "accuracy": 0.5, "accuracy_drop": 0.0,
    ...                  "info_loss": 0.0, "seconds": 1.0}], "n_info_loss_images": 10,
    ...        "correlation": correlation([0.0], [0.0]),
    ...        "settings": {"n_vortices": 5, "strength": 0.8, "block": 2}}
    >>> text = markdown(doc)
    >>> "| mlp (this run, 1 epoch) | 50.00 |" in text, text.endswith(")\\n")
    (True, True)
    """
    ds = result["dataset"]
    transforms = result["transforms"]
    runs = result["runs"]
    acc = {(r["model"], r["transform"]): r["accuracy"] for r in runs}
    lines = [f"# Test accuracy on {ds} (%), this run beside the paper", ""]
    lines.append("| model | " + " | ".join(transforms) + " |")
    lines.append("|---" * (len(transforms) + 1) + "|")
    for m in result["models"]:
        cells = [f"{100 * acc[(m, t)]:.2f}" if (m, t) in acc else "–" for t in transforms]
        lines.append(f"| {m} (this run, {_epochs(result['epochs'])}) | " + " | ".join(cells) + " |")
    paper = PAPER_RESULTS.get(ds)
    if paper:
        for model, (o, v, r) in paper.items():
            cells = [{"origin": f"{o:.2f}", "vor": f"{v:.2f}", "random": f"{r:.2f}"}.get(t, "–") for t in transforms]
            lines.append(f"| {model} (paper) | " + " | ".join(cells) + " |")
        lines += ["", "The paper reports only origin, vor and random (–: not reported)."]
    else:
        lines += ["", f"The paper has no results on {ds}; its table (MNIST, Fashion-MNIST, CIFAR-10) is in "
                  "the documentation for comparison."]
    lines += ["", "## Every run", "",
              "| model | transform | accuracy (%) | drop (points) | information loss | seconds |",
              "|---|---|---|---|---|---|"]
    for r in runs:
        lines.append(f"| {r['model']} | {r['transform']} | {100 * r['accuracy']:.2f} | "
                     f"{100 * r['accuracy_drop']:+.2f} | {r['info_loss']:.4f} | {r['seconds']:.1f} |")
    c = result["correlation"]
    lines += ["", "## Information loss against accuracy drop", ""]
    if c["pearson_r"] is None:
        lines.append(f"Correlation not defined: {c['note']}.")
    else:
        lines.append(f"Over {c['n_runs']} runs: Pearson r = {c['pearson_r']:.3f} (p = {c['pearson_p']:.2g}), "
                     f"Spearman rho = {c['spearman_r']:.3f} (p = {c['spearman_p']:.2g}; {c['spearman_p_method']}).")
    s = result["settings"]
    env = result.get("environment") or {}
    lines += ["", f"Vortex keys: {s['n_vortices']} vortices, strength {s['strength']}; block tiles "
              f"{s['block']}x{s['block']}; seed {result['seed']}; information loss with the default "
              "kernel (power, alpha 2, radius 3) and coupling (gaussian, h 0.25), averaged over "
              f"{result['n_info_loss_images']} test images. Device: {env.get('device', '?')} "
              f"({env.get('backend', '?')} backend).", "",
              "![originals and transforms](transforms.png) ![information loss against accuracy drop]"
              "(info_loss_vs_drop.png)"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- figures


def _save(fig, path, force):
    with atomic_writer(path, force=force, name="figure") as fh:
        fig.savefig(fh, format="png", dpi=110, metadata={"Software": None})


def figure_transforms(samples: dict) -> Any:
    """Grid of sample images (rows) under each transform (columns); a ``Figure``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = list(samples)
    n_rows = len(next(iter(samples.values())))
    fig = Figure(figsize=(1.4 * len(names), 1.4 * n_rows + 0.4))
    FigureCanvasAgg(fig)
    axes = fig.subplots(n_rows, len(names), squeeze=False)
    for j, name in enumerate(names):
        for i in range(n_rows):
            img = np.asarray(samples[name][i])
            if img.ndim == 3 and img.shape[2] == 1:
                img = img[..., 0]
            ax = axes[i][j]
            ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=255, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(name, fontsize=9)
    fig.tight_layout()
    return fig


def _distinct_colours(names: Sequence[str]) -> dict:
    """A colour per name: the default cycle up to 10 names; beyond, tab20's 10 dark shades, then its light ones."""
    if len(names) <= 10:
        return {t: f"C{i}" for i, t in enumerate(names)}
    from matplotlib import colormaps

    cmap = colormaps["tab20"]
    return {t: cmap((2 * i if i < 10 else 2 * (i - 10) + 1) % 20) for i, t in enumerate(names)}


def figure_correlation(result: dict) -> Any:
    """Information loss against accuracy drop, one point per run; a ``Figure``.

    Two panels keep the two families of transforms apart: on the left the
    fixed-map transforms (one map for every image: origin, vor, vor-paper,
    perm, block), joined per model in order of information loss; on the
    right the per-image ``random`` map, whose drops are an order of magnitude
    larger and which is a different kind of map, so no line is fitted through
    both. Colour names the transform, the marker the model (two legends, no
    labels on the points).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    runs = result["runs"]
    models, transforms = result["models"], result["transforms"]
    per_image = [t for t in transforms if t not in FIXED_MAP]
    fig = Figure(figsize=(9.4, 4.4))
    FigureCanvasAgg(fig)
    if per_image:
        ax_fixed, ax_random = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 1.2]})
    else:
        ax_fixed, ax_random = fig.subplots(), None
    markers = {m: "osD^v<>pPX*h"[i % 12] for i, m in enumerate(models)}
    colours = _distinct_colours(transforms)
    for m in models:
        mine = [r for r in runs if r["model"] == m]
        fixed = sorted((r for r in mine if r["transform"] in FIXED_MAP), key=lambda r: r["info_loss"])
        if len(fixed) > 1:
            ax_fixed.plot([r["info_loss"] for r in fixed], [100 * r["accuracy_drop"] for r in fixed], "-",
                          color="0.65", lw=0.8, zorder=1)
        for r in mine:
            ax = ax_fixed if r["transform"] in FIXED_MAP else ax_random
            ax.scatter([r["info_loss"]], [100 * r["accuracy_drop"]], marker=markers[m], s=48, zorder=2,
                       color=colours[r["transform"]], alpha=0.85)
    ax_fixed.set_title("fixed map: one key for every image", fontsize=9)
    ax_fixed.set_xlabel("information loss rate L on test images")
    ax_fixed.set_ylabel("accuracy drop from origin (points)")
    ax_fixed.grid(alpha=0.3)
    t_handles = [Line2D([], [], ls="", marker="o", color=colours[t], label=t) for t in transforms]
    m_handles = [Line2D([], [], ls="", marker=markers[m], color="0.3", label=m) for m in models]
    # Legends outside the axes, so that they never hide a point.
    fig.legend(handles=t_handles, title="transform", fontsize=7, title_fontsize=8, loc="upper right",
               bbox_to_anchor=(0.995, 0.9))
    fig.legend(handles=m_handles, title="model", fontsize=7, title_fontsize=8, loc="lower right",
               bbox_to_anchor=(0.995, 0.12))
    if ax_random is not None:
        ax_random.set_title(f"per-image map ({', '.join(per_image)})", fontsize=9)
        ax_random.set_xlabel("information loss rate L")
        ax_random.grid(alpha=0.3)
        ax_random.margins(x=0.5, y=0.3)
    c = result["correlation"]
    note = (f"All {c['n_runs']} runs: Spearman rho = {c['spearman_r']:.2f} (p = {c['spearman_p']:.2g}), "
            f"Pearson r = {c['pearson_r']:.2f} (p = {c['pearson_p']:.2g})" if c["spearman_r"] is not None
            else f"Correlation not defined: {c['note']}")
    fig.suptitle(f"{result['dataset']}, {', '.join(models)}, {_epochs(result['epochs'])}: "
                 "information loss vs accuracy drop", fontsize=10)
    fig.text(0.5, 0.01, note + "; grey lines join one model's fixed-map runs in order of L (not a fit).",
             ha="center", va="bottom", fontsize=7, color="0.25")
    fig.tight_layout(rect=(0, 0.04, 0.86, 1))
    return fig


def write_figures(result: dict, samples: dict | None, out_dir: str | Path, *, force: bool = False) -> None:
    """Write ``transforms.png`` (when ``samples`` is given) and ``info_loss_vs_drop.png``."""
    from pathlib import Path

    out_dir = Path(out_dir)
    if samples is not None:
        _save(figure_transforms(samples), out_dir / "transforms.png", force)
    _save(figure_correlation(result), out_dir / "info_loss_vs_drop.png", force)


def write_report(result: dict, out_dir: str | Path, *, force: bool = False) -> None:
    """Re-render ``results.md`` and ``info_loss_vs_drop.png`` from a ``results.json`` structure.

    Parameters
    ----------
    result : dict
        As :func:`vortexnumba.reproduce` returns it or ``results.json`` holds it.
    out_dir : path-like
        Folder to write into.
    force : bool
        Replace existing files.
    """
    from pathlib import Path

    with atomic_writer(Path(out_dir) / "results.md", force=force, mode="w", name="result file") as fh:
        fh.write(markdown(result))
    write_figures(result, None, out_dir, force=force)
