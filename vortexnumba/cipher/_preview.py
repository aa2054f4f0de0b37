"""Previews: a few images of any input beside their encryptions (``vortexnumba show``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._validate import as_image_batch
from ..io._files import read_npy, read_npz
from ..io._images import IMAGE_SUFFIXES, image_files, image_header, read_image
from ._files import FINGERPRINT_MEMBER, check_image_grid
from ._gather import encrypt

__all__ = ["comparison_grid", "image_names", "read_images"]


def read_images(path: str | Path, key: Any, count: int, channels: Any = None) -> np.ndarray:
    """Up to ``count`` images on the key's grid from any supported input, as ``(B, H, W[, C])``.

    Images of a folder must all have the same shape and colour mode; the
    first that does not is named in the error.
    """
    path = Path(path)
    if path.is_dir():
        files = image_files(path)[:count]
        if not files:
            raise ValueError(f"input folder {str(path)!r} holds no image files")
        first = None
        for f in files:
            shape, dtype = image_header(f)
            check_image_grid(shape, key, str(f))
            if first is None:
                first = (shape, dtype, f)
            elif (shape, dtype) != first[:2]:
                raise ValueError(f"{f} has shape {shape} and dtype {dtype}, but {first[2]} has shape {first[0]} "
                                 f"and dtype {first[1]}: images shown together need the same colour mode")
        return np.stack([read_image(f) for f in files])
    if not path.exists():
        raise FileNotFoundError(f"input {str(path)!r} does not exist")
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        shape, _ = image_header(path)
        check_image_grid(shape, key, str(path))
        return read_image(path)[None]
    if suffix == ".npy":
        arr = read_npy(path)
    elif suffix == ".npz":
        arrays, _ = read_npz(path)
        arrays.pop(FINGERPRINT_MEMBER, None)
        images = [a for a in arrays.values() if a.ndim >= 2]
        if not images:
            raise ValueError(f"{path}: holds no image arrays")
        arr = images[0]
    else:
        raise ValueError(f"input {str(path)!r}: unsupported type {suffix!r}")
    x4, _ = as_image_batch(arr, str(path), grid=key.shape, channels=channels, allow_any_numeric=True)
    x4 = np.asarray(x4[:count])
    return x4[..., 0] if x4.shape[-1] == 1 else x4


def image_names(path: str | Path, count: int) -> list[str]:
    """Captions for the first ``count`` images of an input: file names, or ``name[i]`` in an array file.

    Examples
    --------
    >>> image_names("train.npy", 2)
    ['train.npy[0]', 'train.npy[1]']
    """
    path = Path(path)
    if path.is_dir():
        return [f.name for f in image_files(path)[:count]]
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return [path.name][:count]
    return [f"{path.name}[{i}]" for i in range(count)]


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ValueError, OSError):  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _fit(text: str, font, width: int) -> str:
    """``text`` shortened with '...' until it is at most ``width`` pixels wide."""
    if font.getlength(text) <= width:
        return text
    while len(text) > 1 and font.getlength(text + "...") > width:
        text = text[:-1]
    return text + "..."


def _labelled(canvas: np.ndarray, tile: tuple[int, int], gap: int, names) -> np.ndarray:
    """``canvas`` with the row labels on its left and one caption above each column."""
    from PIL import Image, ImageDraw

    th, tw = tile
    font = _font(max(10, min(14, th // 5)))
    rows = ("original", "encrypted")
    pad = 4
    left = int(max(font.getlength(r) for r in rows)) + 2 * pad
    line = font.getbbox("Ag")[3] + 2
    top = line + pad if names else 0
    h, w = canvas.shape[:2]
    img = Image.fromarray(canvas)
    out = Image.new(img.mode, (w + left, h + top), "white" if img.mode in ("L", "RGB") else (255,) * len(img.mode))
    out.paste(img, (left, top))
    draw = ImageDraw.Draw(out)
    ink = 0 if img.mode == "L" else (0,) * len(img.mode) if img.mode != "RGBA" else (0, 0, 0, 255)
    for r, label in enumerate(rows):
        y = top + gap + r * (th + gap) + (th - line) // 2
        draw.text((pad, y), label, fill=ink, font=font)
    for c, name in enumerate(names or ()):
        draw.text((left + gap + c * (tw + gap), pad // 2), _fit(str(name), font, tw + gap - 2), fill=ink, font=font)
    return np.asarray(out)


def _to_display(batch: np.ndarray) -> np.ndarray:
    """uint8 for display: uint8 as is, floats in [0, 1] scaled, anything else stretched."""
    if batch.dtype == np.uint8:
        return batch
    b = batch.astype(np.float64)
    if batch.dtype.kind == "f" and b.min() >= 0.0 and b.max() <= 1.0:
        return np.round(b * 255).astype(np.uint8)
    lo, hi = b.min(), b.max()
    return np.round((b - lo) / (hi - lo if hi > lo else 1.0) * 255).astype(np.uint8)


def comparison_grid(originals: Any, key: Any, *, scale: int | None = None, labels: bool = False,
                    names: Sequence[str] | None = None) -> np.ndarray:
    """A uint8 picture: ``originals`` in the top row, their encryptions below.

    Parameters
    ----------
    originals : ndarray
        ``(B, H, W)`` or ``(B, H, W, C)`` on the key's grid (as from :func:`read_images`).
    key : Key
    scale : int, optional
        Pixel zoom; by default enough for about 96 pixels per image.
    labels : bool
        Write "original" and "encrypted" beside the rows (a margin on the left).
    names : sequence of str, optional
        With ``labels``, a caption above each column (file names; see :func:`image_names`).

    Returns
    -------
    ndarray of uint8
        ``(rows, cols)`` grey or ``(rows, cols, C)`` colour, white gaps between tiles;
        with ``labels``, the same picture with margins on the left (and on top for ``names``).

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> key = vn.PermutationKey.random((4, 4), seed=0)
    >>> comparison_grid(np.zeros((3, 4, 4), np.uint8), key, scale=2).shape
    (22, 32)
    >>> labelled = comparison_grid(np.zeros((3, 4, 4), np.uint8), key, scale=2, labels=True, names="abc")
    >>> labelled.shape[0] > 22 and labelled.shape[1] > 32
    True
    """
    originals = np.asarray(originals)
    if originals.ndim not in (3, 4) or originals.shape[1:3] != tuple(key.shape):
        raise ValueError(f"originals must be (B, H, W[, C]) on the key's {key.shape[0]}x{key.shape[1]} grid, "
                         f"got shape {originals.shape}")
    if originals.ndim == 4 and originals.shape[-1] not in (3, 4):
        originals = originals[..., 0]
    encrypted = encrypt(originals, key, channels=False if originals.ndim == 3 else None)
    rows = [_to_display(originals), _to_display(encrypted)]
    n, h, w = originals.shape[:3]
    scale = scale if scale else max(1, 96 // max(h, w))
    gap = max(2, scale)
    colour = originals.ndim == 4
    depth = originals.shape[-1] if colour else 1
    canvas = np.full((2 * h * scale + 3 * gap, n * (w * scale + gap) + gap, depth), 255, dtype=np.uint8)
    for r, row in enumerate(rows):
        for c in range(n):
            tile = row[c] if colour else row[c][..., None]
            tile = np.repeat(np.repeat(tile, scale, axis=0), scale, axis=1)
            y0 = gap + r * (h * scale + gap)
            x0 = gap + c * (w * scale + gap)
            canvas[y0:y0 + h * scale, x0:x0 + w * scale] = tile
    canvas = canvas[..., 0] if depth == 1 else canvas
    if labels:
        canvas = _labelled(canvas, (h * scale, w * scale), gap, None if names is None else list(names)[:n])
    return canvas
