"""The benchmark's frontier figure: accuracy drop against the attacker's SSIM, one labelled point per scheme.

Built as a :class:`matplotlib.figure.Figure` without pyplot (the caller's
backend is left alone). Labels are placed by :func:`place_labels`, a
deterministic greedy search over positions around each point that never
lets two labels, or a label and a point, overlap when a free place exists.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["figure_frontier", "place_labels"]

#: Distances (points) from the marker tried for a label, nearest first.
_RADII = (7, 13, 21, 31, 44, 60, 80, 105)
#: Pixels kept free around every label and marker.
_PAD = 2.0


def _overlap(a, b) -> float:
    """Overlap area of two boxes ``(x0, y0, x1, y1)``."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


def place_labels(ax: Any, xs: Sequence[float], ys: Sequence[float], labels: Sequence[str], *,
                 fontsize: float = 8.0, marker_px: float = 8.0) -> list:
    """Annotate points with labels that overlap neither each other nor any point.

    Each label in turn takes the first free place on rings of growing radius
    around its point (angles in a fixed order: right, left, up, down, then
    the diagonals and finer steps on the outer rings); a label that finds no
    free place takes the place of least overlap. The result depends only on
    the points, the labels and the figure's size: no randomness, no
    iteration to convergence. Place labels after the axes' limits and the
    figure's layout are final (they are placed in screen space).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Axes of a figure that has a canvas (e.g. ``FigureCanvasAgg(fig)``).
    xs, ys : sequence of float
        Data coordinates of the points.
    labels : sequence of str
    fontsize : float
    marker_px : float
        Side of the square kept free around every point, in pixels.

    Returns
    -------
    list of matplotlib.text.Annotation
        One per label, in order; a grey leader line joins a label placed
        away from its point.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from matplotlib.backends.backend_agg import FigureCanvasAgg
    >>> fig = Figure(figsize=(3, 2)); _ = FigureCanvasAgg(fig); ax = fig.subplots()
    >>> _ = ax.scatter([0.5, 0.5], [0.5, 0.5]); _ = ax.set_xlim(0, 1); _ = ax.set_ylim(0, 1)
    >>> a, b = place_labels(ax, [0.5, 0.5], [0.5, 0.5], ["one", "two"])
    >>> from matplotlib.text import Text
    >>> fig.canvas.draw()
    >>> r = fig.canvas.get_renderer()
    >>> bool(Text.get_window_extent(a, r).overlaps(Text.get_window_extent(b, r)))
    False
    """
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    to_px = fig.dpi / 72.0
    pts = ax.transData.transform(np.column_stack([np.asarray(xs, float), np.asarray(ys, float)]))
    half = marker_px / 2 + _PAD
    taken = [(x - half, y - half, x + half, y + half) for x, y in pts]
    frame = ax.get_window_extent(renderer)
    angles = [0, 180, 90, 270, 45, 135, 315, 225, 22.5, 157.5, 337.5, 202.5, 67.5, 112.5, 292.5, 247.5]
    out = []
    for (px, py), x, y, label in zip(pts, xs, ys, labels, strict=True):
        probe = ax.text(0, 0, label, fontsize=fontsize)
        ext = probe.get_window_extent(renderer)
        probe.remove()
        w, h = ext.width + 2 * _PAD, ext.height + 2 * _PAD
        best = None
        for radius in _RADII:
            r = radius * to_px
            for ang in angles:
                c, s = math.cos(math.radians(ang)), math.sin(math.radians(ang))
                # the box's centre, pushed out so that its near edge is ``r`` from the point
                cx = px + c * (r + w / 2 * abs(c) / max(abs(c), abs(s)))
                cy = py + s * (r + h / 2 * abs(s) / max(abs(c), abs(s)))
                box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
                cost = sum(_overlap(box, t) for t in taken)
                outside = (max(0.0, frame.x0 - box[0]) + max(0.0, box[2] - frame.x1)
                           + max(0.0, frame.y0 - box[1]) + max(0.0, box[3] - frame.y1))
                cost += 1e3 * outside
                if best is None or cost < best[0]:
                    best = (cost, box, cx, cy, radius)
                if cost == 0:
                    break
            if best[0] == 0:
                break
        _, box, cx, cy, radius = best
        taken.append(box)
        arrow = {"arrowstyle": "-", "color": "0.6", "lw": 0.6, "shrinkA": 0, "shrinkB": 3} if radius > 13 else None
        # offsets in points from the data point: the placement survives another dpi when saved
        out.append(ax.annotate(label, xy=(float(x), float(y)), xytext=((cx - px) / to_px, (cy - py) / to_px),
                               textcoords="offset points", ha="center", va="center", fontsize=fontsize,
                               arrowprops=arrow, annotation_clip=False))
    return out


def figure_frontier(result: dict) -> Any:
    """Accuracy drop against the attacker's SSIM, one labelled point per scheme; a ``Figure``.

    The left panel holds the schemes that an attack reached (x: the mean SSIM
    of the attacker's reconstruction of held-out test images, from the most
    ciphertexts tried; y: the accuracy drop of the scheme's best model). The
    right panel holds, at their drops, the schemes for which the toolkit has
    no ciphertext-only attack yet: their privacy is not measured, not zero.

    Parameters
    ----------
    result : dict
        The benchmark's ``results.json`` structure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = [(name, s["frontier"]) for name, s in result["schemes"].items()]
    attacked = [(n, f) for n, f in rows if f["ssim"] is not None]
    unattacked = [(n, f) for n, f in rows if f["ssim"] is None]
    fig = Figure(figsize=(9.0, 5.2), dpi=110)
    FigureCanvasAgg(fig)
    ax, side = fig.subplots(1, 2, gridspec_kw={"width_ratios": [4, 1]}, sharey=True)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.16, top=0.85, wspace=0.06)
    drops = [100 * f["drop"] for _, f in rows] or [0.0]
    lo, hi = min(min(drops), 0.0), max(max(drops), 1.0)
    pad = 0.12 * (hi - lo)
    ax.set_ylim(lo - pad, hi + pad)
    xs = [f["ssim"] for _, f in attacked]
    ax.set_xlim(min([-0.05, *(x - 0.08 for x in xs)]), 1.08)
    ys = [100 * f["drop"] for _, f in attacked]
    ax.scatter(xs, ys, s=30, color="C3", zorder=3)
    ax.axvline(1.0, color="0.8", lw=0.8, zorder=1)
    ax.set_xlabel(f"attacker's SSIM on held-out test images ({result['frontier_attack']})")
    ax.set_ylabel("accuracy drop from plain images (points)")
    ax.set_title("attacked: right = images recovered, down = accuracy kept", fontsize=9)
    ax.grid(alpha=0.3)
    side.set_xlim(-1, 1)
    side.set_xticks([])
    side.set_title("no attack yet", fontsize=9)
    side.grid(alpha=0.3, axis="y")
    sx = [0.0] * len(unattacked)
    sy = [100 * f["drop"] for _, f in unattacked]
    side.scatter(sx, sy, s=30, facecolors="none", edgecolors="C0", zorder=3)
    fig.suptitle(f"{result['dataset']}: accuracy kept against images recovered, every scheme\n"
                 f"({result['reduced_note']})", fontsize=10)
    fig.text(0.5, 0.015, "y: the drop of each scheme's best model (named in results.md); x: the ciphertext-only "
             "attack for the key's kind\n(the best of the grid's turns and mirror images where the attack cannot "
             "tell them apart); hollow: not attacked, so not measured.", ha="center", fontsize=7, color="0.3")
    place_labels(ax, xs, ys, [n for n, _ in attacked])
    place_labels(side, sx, sy, [n for n, _ in unattacked])
    return fig
