"""Image files: which suffixes the package reads and writes, and how.

One list serves every command, so ``encrypt`` and ``info`` accept the same
files. Lossless formats round-trip exactly; JPEG does not (the commands warn).

Bit depth: every sample keeps its bits. 8-bit images read as ``uint8``,
16-bit grey as ``uint16`` ``(H, W)``, and 16-bit colour PNGs (grey+alpha,
RGB, RGBA at 16 bits per sample) as ``uint16`` ``(H, W, C)`` through
:mod:`._png16`, since Pillow would narrow them to 8 bits. Any other file
whose samples Pillow would narrow (a 16-bit RGB TIFF, say) is refused with
a ``ValueError`` naming the file and its bit depth, before anything is
written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .._validate import plain_list
from ._files import atomic_writer
from ._png16 import ImageRefused, png16_header, read_png16, write_png16

#: image files the package reads (Pillow decodes them)
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})
#: formats whose saving changes pixel values, so a decryption cannot be exact
LOSSY_SUFFIXES = frozenset({".jpg", ".jpeg"})
#: Pillow format names by suffix, for writing
_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP", ".tif": "TIFF", ".tiff": "TIFF",
            ".webp": "WEBP"}
#: Pillow modes that are converted to RGB(A) on reading (palette, bit and exotic modes)
_CONVERTED_MODES = ("1", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV", "RGBX", "La", "RGBa")


def is_image_path(path: str | Path) -> bool:
    """Whether ``path`` has one of :data:`IMAGE_SUFFIXES`."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


#: Pillow modes that hold more than 8 bits per sample; any other mode holds 8 (or fewer)
_DEEP_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")


def _check_depth(im, path, name: str) -> None:
    """Refuse a file whose samples Pillow would narrow to 8 bits (its raw mode says 16 or 32 bits)."""
    if im.mode in _DEEP_MODES:
        return
    for tile in getattr(im, "tile", None) or ():
        args = tile[3] if len(tile) > 3 else None
        rawmode = args[0] if isinstance(args, tuple) and args else args
        if isinstance(rawmode, str) and (";16" in rawmode or ";32" in rawmode):
            bits = 16 if ";16" in rawmode else 32
            raise ImageRefused(f"{name} {str(path)!r} has {bits} bits per sample ({im.format} {rawmode}), which "
                             f"would be read as 8: the low bits would be lost; save it as a PNG (16-bit colour "
                             "PNGs are kept exactly) or as 8-bit")


def read_image(path: str | Path, *, name: str = "input") -> np.ndarray:
    """Read one image file as an ``(H, W)`` or ``(H, W, C)`` uint8 (or uint16) array, every bit kept.

    Palette and other modes are converted to RGB (RGBA when the image has
    transparency). 16-bit colour PNGs read as ``uint16`` ``(H, W, C)``. A
    file Pillow cannot decode, or one whose samples it would narrow to 8
    bits, raises ``ValueError`` naming it.

    Examples
    --------
    >>> import numpy as np, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "rgba64.png")
    >>> rgba64 = np.full((2, 3, 4), 65534, dtype=np.uint16)
    >>> write_image(rgba64, path)
    >>> back = read_image(path)
    >>> back.dtype, back.shape, bool((back == rgba64).all())
    (dtype('uint16'), (2, 3, 4), True)
    """
    from PIL import Image, UnidentifiedImageError

    try:
        deep = read_png16(path, name=name)
        if deep is not None:
            return deep
        with Image.open(path) as im:
            _check_depth(im, path, name)
            if im.mode in _CONVERTED_MODES:
                transparent = "A" in im.mode or "a" in im.mode or im.info.get("transparency") is not None
                return np.asarray(im.convert("RGBA" if transparent else "RGB")).copy()
            return np.asarray(im).copy()
    except (FileNotFoundError, ImageRefused):
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ValueError(f"{name} {str(path)!r} is not a readable image ({type(exc).__name__}: {exc})") from None


#: Pillow modes each format stores exactly (JPEG: stores, but lossily)
_STORES = {
    "PNG": frozenset({"L", "LA", "RGB", "RGBA", "I;16", "LA;16", "RGB;16", "RGBA;16"}),
    "TIFF": frozenset({"L", "LA", "RGB", "RGBA", "I;16"}),
    "BMP": frozenset({"L", "RGB"}),
    "WEBP": frozenset({"RGB", "RGBA"}),
    "JPEG": frozenset({"L", "RGB"}),
}
# WebP: "exact" keeps the colour of fully transparent pixels, which lossless WebP would otherwise discard
_SAVE_OPTIONS = {"JPEG": {"quality": 95}, "WEBP": {"lossless": True, "quality": 100, "exact": True}}
#: text chunk that records key fingerprints in a PNG
PNG_TEXT_KEY = "vortexnumba-keys"


def _mode(shape, dtype) -> str | None:
    dtype = np.dtype(dtype)
    if dtype == np.uint16 and len(shape) == 2:
        return "I;16"
    if dtype == np.uint16 and len(shape) == 3:  # 16-bit colour: written by _png16, PNG only
        return {2: "LA;16", 3: "RGB;16", 4: "RGBA;16"}.get(shape[2])
    if dtype != np.uint8:
        return None
    if len(shape) == 2:
        return "L"
    if len(shape) == 3:
        return {2: "LA", 3: "RGB", 4: "RGBA"}.get(shape[2])
    return None


def check_image_writable(shape: tuple, dtype: Any, path: str | Path) -> str:
    """The Pillow format for writing an array of ``shape``/``dtype`` to ``path``.

    Raises ``ValueError`` when the suffix is not an image format or the format
    cannot hold such an array exactly (JPEG, which is lossy, is allowed for
    grey and RGB; the commands warn).
    """
    p = Path(path)
    fmt = _FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise ValueError(f"output {str(p)!r}: unsupported image suffix; "
                         f"expected one of {plain_list(sorted(IMAGE_SUFFIXES))}")
    mode = _mode(shape, dtype)
    if mode is None:
        raise ValueError(f"output {str(p)!r}: an array of shape {tuple(shape)} and dtype {np.dtype(dtype)} is not "
                         "an image (uint8 or uint16 grey, grey+alpha, RGB or RGBA); write .npy instead")
    if mode not in _STORES[fmt]:
        able = sorted(f for f, modes in _STORES.items() if mode in modes and f != "JPEG")
        raise ValueError(f"output {str(p)!r}: {fmt} cannot store a {mode} image exactly; use one of {able}")
    return fmt


def write_image(arr: np.ndarray, path: str | Path, *, force: bool = False, text: dict | None = None) -> None:
    """Write ``arr`` to an image file atomically, the format chosen by the suffix.

    ``text`` entries are stored as PNG text chunks (other formats cannot carry
    them and ignore it). Formats that cannot hold the array exactly are refused
    before anything is written (see :func:`check_image_writable`); 16-bit
    colour images go to PNG only.

    Examples
    --------
    >>> import numpy as np
    >>> write_image(np.zeros((4, 4, 3), dtype=np.uint16), "rgb48.bmp", force=True)
    Traceback (most recent call last):
    ...
    ValueError: output 'rgb48.bmp': BMP cannot store a RGB;16 image exactly; use one of ['PNG']
    """
    from PIL import Image, PngImagePlugin

    p = Path(path)
    fmt = check_image_writable(arr.shape, arr.dtype, p)
    if _mode(arr.shape, arr.dtype) in ("LA;16", "RGB;16", "RGBA;16"):  # 16-bit colour: Pillow cannot write it
        with atomic_writer(p, force=force) as fh:
            write_png16(np.asarray(arr), fh, text=text if fmt == "PNG" else None)
        return
    img = Image.fromarray(np.ascontiguousarray(arr))
    options: dict[str, object] = dict(_SAVE_OPTIONS.get(fmt, {}))
    if text and fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        for k, v in text.items():
            info.add_text(k, v)
        options["pnginfo"] = info
    with atomic_writer(p, force=force) as fh:
        img.save(fh, format=fmt, **options)


def read_image_text(path: str | Path) -> dict:
    """Text chunks of a PNG (``{}`` for other formats or none)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return dict(getattr(im, "text", {}) or {})
    except Exception:  # noqa: BLE001 - unreadable files are reported by read_image
        return {}


def image_header(path: str | Path, *, name: str = "input") -> tuple[tuple, np.dtype]:
    """Shape and dtype that :func:`read_image` will return, from the header only."""
    from PIL import Image, UnidentifiedImageError

    try:
        deep = png16_header(path, name=name)
        if deep is not None:
            return deep
        with Image.open(path) as im:
            _check_depth(im, path, name)
            mode = im.mode
            if mode in _CONVERTED_MODES:
                transparent = "A" in mode or "a" in mode or im.info.get("transparency") is not None
                mode = "RGBA" if transparent else "RGB"
            probe = Image.new(mode, (1, 1))
            sample = np.asarray(probe)
            return (im.height, im.width) + sample.shape[2:], sample.dtype
    except (FileNotFoundError, ImageRefused):
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ValueError(f"{name} {str(path)!r} is not a readable image ({type(exc).__name__}: {exc})") from None


def image_files(folder: str | Path) -> list[Path]:
    """Every image file under ``folder`` (recursively), sorted."""
    return sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def read_one_image(path: str | Path, index: int | None = None, *, name: str = "input") -> np.ndarray:
    """One image ``(H, W)`` or ``(H, W, C)`` from an image file, an ``.npy`` or an ``.npz`` (its first array).

    A batch array (``(B, H, W, C)``, or 3-D with a last axis longer than 4)
    gives its image ``index`` (default 0); ``index`` with a single image is an
    error.
    """
    from ._files import read_npy, read_npz

    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        if index is not None:
            raise ValueError(f"index given, but {str(p)!r} is one image")
        return read_image(p, name=name)
    if suffix == ".npz":
        arrays = read_npz(p, name=name)[0]
        arrays = {k: v for k, v in arrays.items() if k != "vortexnumba_keys"}
        if not arrays:
            raise ValueError(f"{name} {str(p)!r} holds no arrays")
        arr = next(iter(arrays.values()))
    elif suffix == ".npy":
        arr = read_npy(p, name=name)
    else:
        raise ValueError(f"{name} {str(p)!r}: expected .npy, .npz or an image file "
                         f"({', '.join(sorted(IMAGE_SUFFIXES))}), got {suffix!r}")
    is_batch = arr.ndim == 4 or (arr.ndim == 3 and arr.shape[-1] > 4)
    if is_batch:
        k = 0 if index is None else index
        if not 0 <= k < arr.shape[0]:
            raise ValueError(f"index {k} is outside the batch of {arr.shape[0]} images")
        return arr[k]
    if index is not None:
        raise ValueError(f"index given, but {str(p)!r} holds one image of shape {arr.shape}")
    return arr
