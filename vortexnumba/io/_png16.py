"""16-bit colour PNGs (48-bit RGB, 64-bit RGBA, 32-bit grey+alpha), read and written exactly.

Pillow decodes these to 8 bits per sample (it has no 16-bit colour modes), so
the low byte of every sample would be lost on the way through encryption.
This module reads and writes them itself, with NumPy and :mod:`zlib`: a
``uint16`` array ``(H, W, C)`` with C = 2 (grey+alpha), 3 (RGB) or 4 (RGBA).
16-bit grey PNGs need none of this (Pillow keeps them as ``I;16``).

Only what the PNG standard requires of a decoder is read: the ``IHDR`` and
``IDAT`` chunks and the five row filters; other chunks (text, gamma, ...)
are skipped, and the writer stores text chunks only. Interlaced files are
refused (with the file and the bit depth named), not decoded.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import IO

import numpy as np

__all__ = ["ImageRefused", "png16_header", "read_png16", "write_png16"]


class ImageRefused(ValueError):
    """An image file refused with a message of its own (readers pass it on unwrapped)."""

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: PNG colour type -> samples per pixel, for the colour types Pillow would narrow at 16 bits
_CHANNELS = {4: 2, 2: 3, 6: 4}
_COLOUR_TYPE = {c: t for t, c in _CHANNELS.items()}
_NAMES = {2: "grey+alpha", 3: "RGB", 4: "RGBA"}


def _ihdr(path) -> tuple[int, int, int, int, int] | None:
    """(width, height, bit depth, colour type, interlace) of a PNG, or None if not a PNG."""
    with open(path, "rb") as fh:
        head = fh.read(33)
    if len(head) < 33 or head[:8] != _SIGNATURE or head[12:16] != b"IHDR":
        return None
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", head[16:29])
    return width, height, depth, colour, interlace


def png16_header(path: str | Path, *, name: str = "input") -> tuple[tuple, np.dtype] | None:
    """Shape and dtype of a 16-bit colour PNG (what :func:`read_png16` returns); None for any other file.

    Raises ``ValueError`` naming the file and its bit depth for an interlaced
    16-bit colour PNG, which would lose bits through Pillow and is not decoded here.
    """
    head = _ihdr(path)
    if head is None:
        return None
    width, height, depth, colour, interlace = head
    if depth != 16 or colour not in _CHANNELS:
        return None
    c = _CHANNELS[colour]
    if interlace:
        raise ImageRefused(f"{name} {str(path)!r} is an interlaced {16 * c}-bit {_NAMES[c]} PNG (16 bits per "
                         "sample): its low bytes would be lost; save it without interlacing")
    return (height, width, c), np.dtype(np.uint16)


def _chunks(data: bytes):
    pos = 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        yield kind, data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IEND":
            return


def _paeth_row(line: bytearray, prev: bytes, bpp: int) -> None:
    for i in range(len(line)):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
        line[i] = (line[i] + pred) & 255


def _average_row(line: bytearray, prev: bytes, bpp: int) -> None:
    for i in range(len(line)):
        a = line[i - bpp] if i >= bpp else 0
        line[i] = (line[i] + ((a + prev[i]) >> 1)) & 255


def _unfilter(raw: np.ndarray, height: int, stride: int, bpp: int, where: str) -> np.ndarray:
    """Undo the PNG row filters: ``raw`` holds ``height`` rows of a filter byte and ``stride`` bytes."""
    rows = raw.reshape(height, stride + 1)
    out = np.empty((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        kind = int(rows[y, 0])
        line = rows[y, 1:]
        if kind == 0:
            cur = line
        elif kind == 1:  # Sub: running sums along each byte of the pixel (uint8 wraps modulo 256)
            cur = np.cumsum(line.reshape(-1, bpp), axis=0, dtype=np.uint8).reshape(-1)
        elif kind == 2:  # Up
            cur = line + prev
        elif kind in (3, 4):  # Average, Paeth: each byte depends on the one before it
            buf = bytearray(line.tobytes())
            (_average_row if kind == 3 else _paeth_row)(buf, prev.tobytes(), bpp)
            cur = np.frombuffer(bytes(buf), dtype=np.uint8)
        else:
            raise ValueError(f"{where} is not a readable image (PNG row {y} has unknown filter type {kind})")
        out[y] = cur
        prev = out[y]
    return out


def read_png16(path: str | Path, *, name: str = "input") -> np.ndarray | None:
    """A 16-bit colour PNG as a ``uint16`` array ``(H, W, C)``, bit for bit; None for any other file.

    Examples
    --------
    >>> import numpy as np, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "rgb48.png")
    >>> rgb48 = np.array([[[1, 2, 65535], [256, 0, 7]]], dtype=np.uint16)
    >>> with open(path, "wb") as fh:
    ...     write_png16(rgb48, fh)
    >>> np.array_equal(read_png16(path), rgb48), png16_header(path)
    (True, ((1, 2, 3), dtype('uint16')))
    """
    header = png16_header(path, name=name)
    if header is None:
        return None
    (height, width, c), _ = header
    where = f"{name} {str(path)!r}"
    data = Path(path).read_bytes()
    compressed = b"".join(body for kind, body in _chunks(data) if kind == b"IDAT")
    stride = width * c * 2
    try:
        raw = zlib.decompress(compressed)
    except zlib.error as exc:
        raise ValueError(f"{where} is not a readable image (damaged PNG data: {exc})") from None
    if len(raw) < height * (stride + 1):
        raise ValueError(f"{where} is not a readable image (PNG data truncated: {len(raw)} of "
                         f"{height * (stride + 1)} bytes)")
    rows = _unfilter(np.frombuffer(raw[:height * (stride + 1)], dtype=np.uint8), height, stride, 2 * c, where)
    return rows.view(">u2").reshape(height, width, c).astype(np.uint16)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def write_png16(arr: np.ndarray, fh: IO[bytes], *, text: dict | None = None) -> None:
    """Write a ``uint16`` array ``(H, W, C)``, C in (2, 3, 4), as a 16-bit colour PNG to the open file ``fh``.

    ``text`` entries become ``tEXt`` chunks (Latin-1). Rows are stored
    unfiltered; the data is deflated.

    Examples
    --------
    >>> import io, numpy as np
    >>> buf = io.BytesIO()
    >>> write_png16(np.zeros((2, 2, 4), dtype=np.uint16), buf, text={"k": "v"})
    >>> buf.getvalue()[1:4]
    b'PNG'
    """
    height, width, c = arr.shape
    rows = np.ascontiguousarray(arr, dtype=">u2").reshape(height, width * c).view(np.uint8)
    raw = np.zeros((height, rows.shape[1] + 1), dtype=np.uint8)  # filter type 0 on every row
    raw[:, 1:] = rows
    fh.write(_SIGNATURE)
    fh.write(_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, _COLOUR_TYPE[c], 0, 0, 0)))
    for k, v in (text or {}).items():
        fh.write(_chunk(b"tEXt", k.encode("latin-1") + b"\x00" + v.encode("latin-1")))
    fh.write(_chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)))
    fh.write(_chunk(b"IEND", b""))
