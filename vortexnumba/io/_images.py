"""Image files: which suffixes the package reads and writes, and how.

One list serves every command, so ``encrypt`` and ``info`` accept the same
files. Lossless formats round-trip exactly; JPEG does not (the commands warn).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._files import atomic_writer

#: image files the package reads (Pillow decodes them)
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})
#: formats whose saving changes pixel values, so a decryption cannot be exact
LOSSY_SUFFIXES = frozenset({".jpg", ".jpeg"})
#: Pillow format names by suffix, for writing
_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP", ".tif": "TIFF", ".tiff": "TIFF",
            ".webp": "WEBP"}
#: Pillow modes that are converted to RGB(A) on reading (palette, bit and exotic modes)
_CONVERTED_MODES = ("1", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV", "RGBX", "La", "RGBa")


def is_image_path(path) -> bool:
    """Whether ``path`` has one of :data:`IMAGE_SUFFIXES`."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def read_image(path, *, name: str = "input") -> np.ndarray:
    """Read one image file as an ``(H, W)`` or ``(H, W, C)`` uint8 (or 16-bit) array.

    Palette and other modes are converted to RGB (RGBA when the image has
    transparency). A file Pillow cannot decode raises ``ValueError`` naming it.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            if im.mode in _CONVERTED_MODES:
                transparent = "A" in im.mode or "a" in im.mode or im.info.get("transparency") is not None
                im = im.convert("RGBA" if transparent else "RGB")
            return np.asarray(im).copy()
    except FileNotFoundError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ValueError(f"{name} {str(path)!r} is not a readable image ({type(exc).__name__}: {exc})") from None


def write_image(arr: np.ndarray, path, *, force: bool = False) -> None:
    """Write ``arr`` to an image file atomically, the format chosen by the suffix."""
    from PIL import Image

    p = Path(path)
    fmt = _FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise ValueError(f"output {str(p)!r}: unsupported image suffix; expected one of {sorted(IMAGE_SUFFIXES)}")
    img = Image.fromarray(arr)
    with atomic_writer(p, force=force) as fh:
        img.save(fh, format=fmt, **({"quality": 95} if fmt == "JPEG" else {}))


def image_files(folder) -> list[Path]:
    """Every image file under ``folder`` (recursively), sorted."""
    return sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
