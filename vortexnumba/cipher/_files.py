"""Encrypting files: ``.npy``, ``.npz``, image files and folders of images.

What the ``encrypt``/``decrypt`` commands do, as library functions that never
print (notes for the user come back in the :class:`Report`).

All or nothing
--------------
Every input is checked (headers, grids, output formats) before the first
byte is written. A file is written to ``.<name>.<random>.tmp`` beside the
target and renamed into place; a folder is built as
``.<name>.<random>.tmp`` beside the target folder and put in place in one
step when complete (see :func:`vortexnumba.io._files.atomic_folder`). An
error or interruption deletes the temporary; a killed process may leave it
behind (``rm -r .NAME.*.tmp``), never a partial output under the target's
name. Writing a folder onto itself (``force=True``) is safe: the new folder
replaces the old one only once it is complete.

Folders
-------
Every image file under the folder (recursively) is encrypted to the same
relative path in the output folder; every other file (notes, labels,
metadata) is copied there unchanged, so nothing is dropped, and the
:class:`Report` lists them. All images of a folder must have one size: a
folder with an odd one is refused before anything is written, naming the
odd file, its size and the others' size.

Key fingerprints
----------------
Where the format can carry it, the key's :attr:`fingerprint` is recorded
with the ciphertext: an ``.npz`` member :data:`FINGERPRINT_MEMBER`, a PNG
text chunk ``vortexnumba-keys``, a Zarr attribute. Decrypting with another
key is then refused instead of giving noise. The record is a list (outermost
key last), so encrypting twice and decrypting twice works. ``.npy`` files,
JPEG, BMP, TIFF and WebP cannot carry it and are not checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._progress import progress
from .._validate import as_image_batch, native_dtype, plain_list
from ..io._files import atomic_folder, atomic_writer, check_output_path, read_npy, read_npz, write_npz
from ..io._images import (
    IMAGE_SUFFIXES,
    LOSSY_SUFFIXES,
    PNG_TEXT_KEY,
    check_image_writable,
    image_files,
    image_header,
    read_image,
    read_image_text,
    write_image,
)
from ._gather import decrypt, encrypt
from ._protocol import check_decryptable, check_key

__all__ = ["FINGERPRINT_MEMBER", "Report", "input_grids", "transform_file"]

#: .npz member that lists the fingerprints of the keys a file was encrypted with
FINGERPRINT_MEMBER = "vortexnumba_keys"
#: arrays above this many bytes are processed in chunks with a progress bar
CHUNK_BYTES = 64 << 20


@dataclass
class Report:
    """What :func:`transform_file` did: images and files written, notes for the user."""

    images: int = 0  #: images encrypted or decrypted
    files: int = 0  #: files written (for a folder: its images and the other files copied unchanged)
    notes: list = field(default_factory=list)


# --------------------------------------------------------------------------- fingerprints

def push_fingerprint(stack: list, key: Any) -> list:
    """The record after encrypting with ``key``."""
    return [*stack, key.fingerprint]


def pop_fingerprint(stack: list, key: Any, where: str) -> list:
    """The record after decrypting with ``key``; ``ValueError`` if another key encrypted it last."""
    if not stack:
        return []
    if stack[-1] != key.fingerprint:
        raise ValueError(
            f"{where} was encrypted with the key of fingerprint {stack[-1]}, but this key's fingerprint is "
            f"{key.fingerprint}: decrypting with the wrong key would only give noise"
        )
    return list(stack[:-1])


def _npz_stack(arrays: dict, where: str) -> list:
    value = arrays.pop(FINGERPRINT_MEMBER, None)
    if value is None:
        return []
    if value.dtype.kind != "U" or value.ndim != 1:
        raise ValueError(f"{where}: member {FINGERPRINT_MEMBER!r} must be a list of key fingerprints, "
                         f"got shape {value.shape} and dtype {value.dtype}")
    return [str(v) for v in value]


def _png_stack(path: Path) -> list:
    text = read_image_text(path).get(PNG_TEXT_KEY, "")
    return text.split()


# --------------------------------------------------------------------------- arrays

def _transform_array(arr, key, fn, channels, desc, name, show_progress):
    """Apply ``fn`` (encrypt or decrypt) to one array, in chunks with a progress bar if large."""
    _, is_batch = as_image_batch(arr, name, grid=key.shape, channels=channels, allow_any_numeric=True)
    if not is_batch or arr.nbytes <= CHUNK_BYTES:
        return fn(arr, key, channels=channels)
    out = np.empty(arr.shape, dtype=native_dtype(arr.dtype))  # the engine returns native byte order
    step = max(1, CHUNK_BYTES // max(1, arr[0].nbytes))
    with progress(arr.shape[0], desc, unit="img", enabled=show_progress) as bar:
        for start in range(0, arr.shape[0], step):
            stop = min(arr.shape[0], start + step)
            fn(arr[start:stop], key, out=out[start:stop], channels=False if arr.ndim == 3 else None)
            bar.update(stop - start)
    return out


def _need_suffix(dst: Path, allowed, what) -> None:
    if dst.suffix.lower() not in allowed:
        raise ValueError(f"output {str(dst)!r} must end in {plain_list(sorted(allowed))} for {what}")


def _lossy_note(path: Path, inverse: bool) -> str | None:
    if path.suffix.lower() in LOSSY_SUFFIXES and not inverse:
        return (f"warning: {path} is JPEG, which changes pixel values when saved; decrypting it will not give "
                "the original back exactly (write PNG for an exact round trip)")
    return None


def check_image_grid(shape: Any, key: Any, where: str) -> None:
    if tuple(shape[:2]) != tuple(key.shape):
        raise ValueError(f"{where} is {shape[0]}x{shape[1]}, the key is for {key.shape[0]}x{key.shape[1]} images")


# --------------------------------------------------------------------------- the entry point

def transform_file(source: str | Path, target: str | Path, key: Any, *, inverse: bool = False, force: bool = False,
                   channels: Any = None, show_progress: bool | None = None) -> Report:
    """Encrypt (or decrypt) an ``.npy``, ``.npz``, image file or folder of images into ``target``.

    Parameters
    ----------
    source : str or Path
        The input: ``.npy``, ``.npz``, an image file (:data:`IMAGE_SUFFIXES`)
        or a folder (every image file in it, recursively, all of one size;
        every other file in it is copied unchanged and listed in the notes).
    target : str or Path
        Output of the same kind; a folder for a folder.
    key : Key
    inverse : bool
        Decrypt instead of encrypt.
    force : bool
        Replace an existing output (a folder only if it holds nothing but images).
    channels : bool, optional
        How to read 3-D arrays of ``.npy``/``.npz`` inputs.
    show_progress : bool, optional
        Progress bar on stderr; by default only on a terminal.

    Returns
    -------
    Report

    Raises
    ------
    ValueError
        Bad input, a key for another grid, a format that cannot hold the
        output, or a ciphertext recorded as encrypted with another key.
    FileExistsError
        The output exists and ``force`` is not set.
    """
    check_key(key)
    if inverse:
        check_decryptable(key)
    src, dst = Path(source), Path(target)
    if not src.exists():
        raise FileNotFoundError(f"input {str(src)!r} does not exist")
    fn = decrypt if inverse else encrypt
    verb = "decrypt" if inverse else "encrypt"
    report = Report()
    if src.is_dir():
        _transform_folder(src, dst, key, fn, inverse, force, show_progress, report)
        return report
    suffix = src.suffix.lower()
    if suffix == ".npy":
        _need_suffix(dst, {".npy"}, "an .npy input")
        check_output_path(dst, force=force)
        arr = read_npy(src)
        result = _transform_array(arr, key, fn, channels, verb, str(src), show_progress)
        with atomic_writer(dst, force=force) as fh:
            np.save(fh, result)
        report.images = 1 if result.ndim == 2 else len(result)
    elif suffix == ".npz":
        _need_suffix(dst, {".npz"}, "an .npz input")
        check_output_path(dst, force=force)
        inputs, compressed = read_npz(src)
        stack = _npz_stack(inputs, str(src))
        stack = pop_fingerprint(stack, key, str(src)) if inverse else push_fingerprint(stack, key)
        for name, arr in inputs.items():  # every array checked before any work
            if arr.ndim >= 2:
                as_image_batch(arr, f"{src}[{name!r}]", grid=key.shape, channels=channels, allow_any_numeric=True)
        arrays = {}
        for name, arr in inputs.items():
            if arr.ndim < 2:
                report.notes.append(f"{src}: copying {name!r} {arr.shape} unchanged (not an image array)")
                arrays[name] = arr
            else:
                arrays[name] = _transform_array(arr, key, fn, channels, f"{verb} {name}", f"{src}[{name!r}]",
                                                show_progress)
                report.images += 1 if arr.ndim == 2 else len(arr)
        if stack:
            arrays[FINGERPRINT_MEMBER] = np.array(stack)
        with atomic_writer(dst, force=force) as fh:
            write_npz(fh, arrays, compressed=compressed)  # any member name survives, "file" included
    elif suffix in IMAGE_SUFFIXES:
        _need_suffix(dst, IMAGE_SUFFIXES, "an image input")
        check_output_path(dst, force=force)
        shape, dtype = image_header(src)
        check_image_grid(shape, key, str(src))
        check_image_writable(shape, dtype, dst)
        text = _image_fingerprints(src, dst, key, inverse)
        arr = read_image(src)
        note = _lossy_note(dst, inverse)
        if note:
            report.notes.append(note)
        write_image(fn(arr, key, channels=arr.ndim == 3), dst, force=force, text=text)
        report.images = 1
    else:
        raise ValueError(f"input {str(src)!r}: unsupported type {suffix!r}; expected .npy, .npz, an image file "
                         f"({', '.join(sorted(IMAGE_SUFFIXES))}), a folder of images or a Zarr store")
    report.files = 1
    return report


def _image_fingerprints(src: Path, dst: Path, key, inverse: bool) -> dict | None:
    stack = _png_stack(src) if src.suffix.lower() == ".png" else []
    stack = pop_fingerprint(stack, key, str(src)) if inverse else push_fingerprint(stack, key)
    return {PNG_TEXT_KEY: " ".join(stack)} if stack and dst.suffix.lower() == ".png" else None


def _only_images(folder: Path) -> str | None:
    """Why a folder may not be replaced: it holds files that are not images."""
    for p in folder.rglob("*"):
        if not p.is_dir() and p.suffix.lower() not in IMAGE_SUFFIXES:
            return f"holds files that are not images (e.g. {str(p.relative_to(folder))!r})"
    return None


def _other_files(folder: Path) -> list[Path]:
    """Every file under ``folder`` that is not an image (copied unchanged into the output), sorted."""
    return sorted(p for p in folder.rglob("*") if (p.is_file() or p.is_symlink()) and not p.is_dir()
                  and p.suffix.lower() not in IMAGE_SUFFIXES)


def check_one_size(headers: dict, where: str) -> None:
    """Refuse a folder whose images do not all have one grid, naming the odd files and the common size.

    ``headers`` maps each file to its ``(shape, dtype)`` from :func:`image_header`.

    Examples
    --------
    >>> import numpy as np
    >>> u8 = np.dtype(np.uint8)
    >>> check_one_size({"a.png": ((8, 8), u8), "b.png": ((8, 8), u8), "c.png": ((9, 8), u8)}, "imgs")
    Traceback (most recent call last):
    ...
    ValueError: input folder 'imgs' holds images of different sizes: 'c.png' is 9x8, while the other 2 image(s) ...
    """
    from collections import Counter

    grids = {f: tuple(shape[:2]) for f, (shape, _) in headers.items()}
    counts = Counter(grids.values())
    if len(counts) <= 1:
        return
    common, n_common = counts.most_common(1)[0]
    odd = [(f, g) for f, g in grids.items() if g != common]
    listed = ", ".join(f"{str(f)!r} is {g[0]}x{g[1]}" for f, g in odd[:3])
    more = f" (and {len(odd) - 3} more)" if len(odd) > 3 else ""
    raise ValueError(f"input folder {where!r} holds images of different sizes: {listed}{more}, while the other "
                     f"{n_common} image(s) are {common[0]}x{common[1]}; every image of a folder must have one size")


def _transform_folder(src: Path, dst: Path, key, fn, inverse, force, show_progress, report) -> None:
    import shutil

    files = image_files(src)
    if not files:
        raise ValueError(f"input folder {str(src)!r} holds no image files ({', '.join(sorted(IMAGE_SUFFIXES))})")
    others = _other_files(src)
    if dst.exists() and not dst.is_dir():
        raise ValueError(f"output {str(dst)!r} exists and is not a folder (the input is a folder)")
    s_abs, d_abs = src.resolve(), dst.resolve()
    if s_abs != d_abs and s_abs in d_abs.parents:
        raise ValueError(f"output {str(dst)!r} lies inside the input folder {str(src)!r}; write it elsewhere")
    if s_abs != d_abs and d_abs in s_abs.parents:
        raise ValueError(f"input {str(src)!r} lies inside the output folder {str(dst)!r}; replacing the output "
                         "would delete the input")
    # every input checked before the first write: readable header, one size, the key's grid, an exact output
    headers = {f: image_header(f) for f in files}
    check_one_size(headers, str(src))
    for f, (shape, dtype) in headers.items():
        check_image_grid(shape, key, str(f))
        check_image_writable(shape, dtype, f)
    note = next((n for n in (_lossy_note(f, inverse) for f in files) if n), None)
    if note:
        report.notes.append(note.replace(str(files[0]), f"{src} (some files)") if len(files) > 1 else note)
    verb = "decrypt" if inverse else "encrypt"
    # written onto itself, the folder's other files are carried over; any other folder is replaced only if it
    # holds nothing but images
    replaceable = None if s_abs == d_abs else _only_images
    with atomic_folder(dst, force=force, replaceable=replaceable) as tmp:
        for f in others:  # files that are not images: copied unchanged, never dropped
            t = tmp / f.relative_to(src)
            t.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, t, follow_symlinks=False)
        with progress(len(files), verb, unit="img", enabled=show_progress) as bar:
            for f in files:
                rel = f.relative_to(src)
                t = tmp / rel
                t.parent.mkdir(parents=True, exist_ok=True)
                arr = read_image(f)
                try:
                    result = fn(arr, key, channels=arr.ndim == 3)
                except ValueError as exc:
                    raise ValueError(f"{f}: {exc}") from None
                write_image(result, t, text=_image_fingerprints(f, t, key, inverse))
                bar.update(1)
    report.images = len(files)
    report.files = len(files) + len(others)
    if others:
        names = ", ".join(repr(str(f.relative_to(src))) for f in others[:3]) + (", ..." if len(others) > 3 else "")
        report.notes.append(f"{src}: copied {len(others)} file(s) that are not images unchanged ({names})")


# --------------------------------------------------------------------------- cheap look at the input

def _grids_of_shape(shape) -> list:
    if len(shape) == 2:
        return [tuple(shape)]
    if len(shape) == 3:
        return [tuple(shape[:2]), tuple(shape[1:])]
    if len(shape) == 4:
        return [tuple(shape[1:3])]
    return []


def _npz_shapes(path: Path) -> list:
    import zipfile

    shapes = []
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if not info.filename.endswith(".npy"):
                continue
            with zf.open(info) as fh:
                version = np.lib.format.read_magic(fh)
                shape = np.lib.format._read_array_header(fh, version)[0]
            shapes.append(shape)
    return shapes


def input_grids(path: str | Path) -> list | None:
    """The grids ``(H, W)`` an input could be on, read from headers only; None if unknown.

    Lets a key declaring another grid be refused before it is built
    (``load_key(path, grid=input_grids(x))``). Unreadable inputs give None:
    their own reader reports them.
    """
    p = Path(path)
    try:
        if p.is_dir():
            # every size present: a key for any of them loads, and an odd file is then named by the folder's
            # own check instead of being blamed on the key
            sizes = dict.fromkeys(tuple(image_header(f)[0][:2]) for f in image_files(p))
            return list(sizes) or None
        suffix = p.suffix.lower()
        if suffix in IMAGE_SUFFIXES:
            return [image_header(p)[0][:2]]
        if suffix == ".npy":
            return _grids_of_shape(read_npy(p).shape) or None
        if suffix == ".npz":
            grids = [g for shape in _npz_shapes(p) if len(shape) >= 2 for g in _grids_of_shape(shape)]
            return grids or None
    except Exception:  # noqa: BLE001 - the input's own reader gives the clear error later
        return None
    return None
