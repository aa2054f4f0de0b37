"""Figures built as :class:`matplotlib.figure.Figure` objects, never through pyplot.

Building figures this way leaves the caller's backend and pyplot state alone
(a notebook keeps its inline backend); save them with
:func:`vortexnumba.io._files.save_figure` or ``fig.savefig``.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def swap_heatmap(image: np.ndarray, dmap: np.ndarray, a: tuple[int, int]) -> Any:
    """The image beside the map of Delta I for swapping ``a`` with each pixel.

    Parameters
    ----------
    image : ndarray
        ``(H, W)`` or ``(H, W, C)``.
    dmap : ndarray
        ``(H, W)`` map from :func:`vortexnumba.swap_deltas`.
    a : (int, int)
        The pixel that is swapped, marked with a cross.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 4))
    ax0, ax1 = fig.subplots(1, 2)
    shown = image if image.ndim == 2 or image.shape[2] in (3, 4) else image[..., 0]
    ax0.imshow(shown, cmap="gray" if shown.ndim == 2 else None)
    ax0.set_title("image")
    im = ax1.imshow(dmap, cmap="magma")
    for ax in (ax0, ax1):
        ax.plot(a[1], a[0], marker="x", color="cyan", markersize=9, mew=2)
        ax.set_xticks([])
        ax.set_yticks([])
    ax1.set_title(f"$\\Delta I$ of swapping {a} with each pixel")
    fig.colorbar(im, ax=ax1, fraction=0.046)
    fig.tight_layout()
    return fig
