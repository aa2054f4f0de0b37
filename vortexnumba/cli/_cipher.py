"""Command line for the cipher: ``keygen``, ``encrypt``, ``decrypt`` and ``show``.

Inputs and outputs
------------------
``.npy``
    One array: ``(H, W)``, ``(H, W, C)``, ``(B, H, W)`` or ``(B, H, W, C)``.
``.npz``
    Every array with two or more axes is encrypted (each must be on the key's
    grid); arrays with fewer axes (labels, metadata) are copied unchanged and
    listed on stderr. The output is compressed when the input was.
Image file (PNG, JPEG, BMP, TIFF, WebP; see ``vortexnumba.io._images``)
    One image; palette and other modes are converted to RGB(A) first.
Folder
    Every image file in it (and in its sub-folders), written to the same
    relative path under the output folder.
Zarr store (``.zarr``, or a folder holding Zarr metadata)
    Streamed slab by slab along the batch axis into a new store with the same
    layout (see :mod:`vortexnumba._zarr_io`); ``--scheduler ADDRESS`` runs the
    slabs on a Dask cluster. Needs the ``dask`` extra.

No command replaces an existing file unless ``--force`` is given, every file
is written to a temporary name and renamed into place, and large arrays and
folders show a progress bar (on a terminal).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from .. import _zarr_io
from .._progress import progress
from ..io._files import atomic_writer, check_output_path, read_npy, read_npz
from ..cipher._keys import BlockKey, PermutationKey, VortexKey
from ..cipher._gather import decrypt, encrypt
from ..cipher._keyfile import load_key
from ..io._images import IMAGE_SUFFIXES, LOSSY_SUFFIXES, image_files, read_image, write_image

# arrays above this many bytes are processed in chunks with a progress bar
_CHUNK_BYTES = 64 << 20


def register(subparsers) -> None:
    p = subparsers.add_parser("keygen", help="draw a random key and write it as JSON",
                              description="Draw a random key and write it as JSON.")
    p.add_argument("--shape", nargs=2, type=int, required=True, metavar=("H", "W"), help="image grid")
    p.add_argument("--kind", choices=("vortex", "permutation", "block"), default="vortex")
    p.add_argument("--vortices", type=int, default=10, help="number of vortices (vortex keys; default 10)")
    p.add_argument("--strength", type=float, default=0.8, help="swirl strength S (vortex keys; default 0.8)")
    p.add_argument("--mode", choices=("bijective", "paper"), default="bijective",
                   help="bijective: exactly invertible (default); paper: the lossy reference arithmetic")
    p.add_argument("--block", type=int, default=4, help="tile side (block keys; default 4)")
    p.add_argument("--seed", type=int, default=None, help="seed for a reproducible key")
    p.add_argument("-o", "--output", required=True, help="key file to write (.json)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=run_keygen)

    for name, verb in (("encrypt", "Encrypt"), ("decrypt", "Decrypt")):
        p = subparsers.add_parser(name, help=f"{verb.lower()} .npy/.npz arrays, PNG/JPEG images or folders",
                                  description=f"{verb} .npy/.npz arrays, PNG/JPEG images or folders of them.")
        p.add_argument("key", help="key file (JSON from keygen)")
        p.add_argument("input", help=".npy, .npz, PNG/JPEG file or folder")
        p.add_argument("-o", "--output", required=True, help="where to write (same kind as the input)")
        p.add_argument("--force", action="store_true", help="overwrite existing files")
        p.add_argument("--scheduler", metavar="ADDRESS", default=None,
                       help="Zarr stores only: run on the Dask cluster at this scheduler address")
        _add_channels(p)
        p.set_defaults(func=run_encrypt if name == "encrypt" else run_decrypt)

    p = subparsers.add_parser("show", help="write a figure of images beside their encryptions",
                              description="Write a PNG grid: originals (top row) above their encryptions.")
    p.add_argument("key", help="key file (JSON from keygen)")
    p.add_argument("input", help=".npy, .npz (first image array), PNG/JPEG file or folder")
    p.add_argument("-o", "--output", required=True, help="PNG file to write")
    p.add_argument("--count", type=int, default=8, help="how many images to show (default 8)")
    p.add_argument("--scale", type=int, default=0, help="pixel zoom (default: enough for ~96 px per image)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    _add_channels(p)
    p.set_defaults(func=run_show)


def _add_channels(p) -> None:
    p.add_argument("--channels", dest="channels", action="store_true", default=None,
                   help="read a 3-D array as one (H, W, C) image")
    p.add_argument("--no-channels", dest="channels", action="store_false",
                   help="read a 3-D array as a (B, H, W) batch")


# --------------------------------------------------------------------------- keygen

def run_keygen(args) -> int:
    shape = tuple(args.shape)
    if args.kind == "vortex":
        key = VortexKey.random(shape, n_vortices=args.vortices, strength=args.strength,
                               mode=args.mode, seed=args.seed)
    else:
        if args.mode != "bijective":
            raise ValueError(f"--mode applies to vortex keys only, not --kind {args.kind}")
        if args.kind == "permutation":
            key = PermutationKey.random(shape, seed=args.seed)
        else:
            key = BlockKey.random(shape, block=args.block, seed=args.seed)
    with atomic_writer(args.output, force=args.force, mode="w") as fh:
        fh.write(key.to_json())
    print(f"wrote {args.kind} key for {shape[0]}x{shape[1]} images to {args.output}", file=sys.stderr)
    return 0




# --------------------------------------------------------------------------- helpers

def _progress(total, desc):
    return progress(total, desc, unit="img")


def _transform_array(arr, key, fn, channels, desc, name):
    """Apply ``fn`` (encrypt or decrypt) to one array, in chunks with a progress bar if large."""
    from .._validate import as_image_batch

    _, is_batch = as_image_batch(arr, name, grid=key.shape, channels=channels, allow_any_numeric=True)
    if not is_batch or arr.nbytes <= _CHUNK_BYTES:
        return fn(arr, key, channels=channels)
    out = np.empty(arr.shape, dtype=arr.dtype)
    per_image = max(1, arr[0].nbytes)
    step = max(1, _CHUNK_BYTES // per_image)
    with _progress(arr.shape[0], desc) as bar:
        for start in range(0, arr.shape[0], step):
            stop = min(arr.shape[0], start + step)
            fn(arr[start:stop], key, out=out[start:stop], channels=False if arr.ndim == 3 else None)
            bar.update(stop - start)
    return out








def _warn_lossy(path: Path, verb: str) -> None:
    if path.suffix.lower() in LOSSY_SUFFIXES and verb == "encrypt":
        print(f"warning: {path} is JPEG, which changes pixel values when saved; decrypting it will not "
              "give the original back exactly (write PNG for an exact round trip)", file=sys.stderr)


# --------------------------------------------------------------------------- encrypt / decrypt

def _run_transform(args, fn, verb) -> int:
    key = load_key(args.key)
    if fn is decrypt and not key.is_bijective:
        raise ValueError(
            f"key {args.key!r} is a paper-mode vortex key: its rounding copies some pixels twice and loses "
            "others, so its encryptions cannot be decrypted (use a --mode bijective key)"
        )
    src = Path(args.input)
    dst = Path(args.output)
    if not src.exists():
        raise FileNotFoundError(f"input {str(src)!r} does not exist")
    if _zarr_io.is_zarr_path(src):
        _zarr_io.transform_store(src, dst, key, inverse=fn is decrypt, force=args.force, channels=args.channels,
                                 scheduler=args.scheduler)
        print(f"{verb}ed {src} -> {dst}", file=sys.stderr)
        return 0
    if getattr(args, "scheduler", None) is not None:
        raise ValueError(f"--scheduler applies to Zarr stores only, not to {str(src)!r}")
    if src.is_dir():
        return _transform_folder(src, dst, key, fn, verb, args)
    suffix = src.suffix.lower()
    if suffix == ".npy":
        _need_suffix(dst, {".npy"}, "an .npy input")
        check_output_path(dst, force=args.force)
        arr = read_npy(src)
        result = _transform_array(arr, key, fn, args.channels, verb, str(src))
        with atomic_writer(dst, force=args.force) as fh:
            np.save(fh, result)
    elif suffix == ".npz":
        _need_suffix(dst, {".npz"}, "an .npz input")
        check_output_path(dst, force=args.force)
        inputs, compressed = read_npz(src)
        arrays = {}
        for name, arr in inputs.items():
            if arr.ndim < 2:
                print(f"{src}: copying {name!r} {arr.shape} unchanged (not an image array)", file=sys.stderr)
                arrays[name] = arr
            else:
                arrays[name] = _transform_array(arr, key, fn, args.channels, f"{verb} {name}", f"{src}[{name!r}]")
        with atomic_writer(dst, force=args.force) as fh:
            (np.savez_compressed if compressed else np.savez)(fh, **arrays)
    elif suffix in IMAGE_SUFFIXES:
        _need_suffix(dst, IMAGE_SUFFIXES, "an image input")
        check_output_path(dst, force=args.force)
        _warn_lossy(dst, verb)
        arr = read_image(src)
        write_image(fn(arr, key, channels=arr.ndim == 3), dst, force=args.force)
    else:
        raise ValueError(f"input {str(src)!r}: unsupported type {suffix!r}; expected .npy, .npz, .png, .jpg "
                         "or a folder of images")
    print(f"{verb}ed {src} -> {dst}", file=sys.stderr)
    return 0


def _need_suffix(dst: Path, allowed, what) -> None:
    if dst.suffix.lower() not in allowed:
        raise ValueError(f"output {str(dst)!r} must end in one of {sorted(allowed)} for {what}")


def _transform_folder(src: Path, dst: Path, key, fn, verb, args) -> int:
    files = image_files(src)
    if not files:
        raise ValueError(f"input folder {str(src)!r} holds no PNG or JPEG files")
    if dst.exists() and not dst.is_dir():
        raise ValueError(f"output {str(dst)!r} exists and is not a folder (the input is a folder)")
    targets = [dst / f.relative_to(src) for f in files]
    if not args.force:
        existing = [t for t in targets if t.exists()]
        if existing:
            raise FileExistsError(f"{len(existing)} output file(s) already exist, e.g. {str(existing[0])!r}; "
                                  "pass --force to overwrite them")
    if any(t.suffix.lower() in LOSSY_SUFFIXES for t in targets):
        _warn_lossy(targets[0].with_suffix(".jpg"), verb)
    with _progress(len(files), verb) as bar:
        for f, t in zip(files, targets):
            t.parent.mkdir(parents=True, exist_ok=True)
            arr = read_image(f)
            try:
                result = fn(arr, key, channels=arr.ndim == 3)
            except ValueError as exc:
                raise ValueError(f"{f}: {exc}") from None
            write_image(result, t, force=args.force)
            bar.update(1)
    print(f"{verb}ed {len(files)} image(s) from {src} into {dst}", file=sys.stderr)
    return 0


def run_encrypt(args) -> int:
    return _run_transform(args, encrypt, "encrypt")


def run_decrypt(args) -> int:
    return _run_transform(args, decrypt, "decrypt")


# --------------------------------------------------------------------------- show

def _first_images(path: Path, key, count: int, channels) -> np.ndarray:
    """Up to ``count`` images from any supported input, as a (B, H, W[, C]) array."""
    from .._validate import as_image_batch

    if path.is_dir():
        files = image_files(path)[:count]
        if not files:
            raise ValueError(f"input folder {str(path)!r} holds no PNG or JPEG files")
        return np.stack([read_image(f) for f in files])
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return read_image(path)[None]
    if suffix == ".npy":
        arr = read_npy(path)
    elif suffix == ".npz":
        images = [a for a in read_npz(path)[0].values() if a.ndim >= 2]
        if not images:
            raise ValueError(f"{path}: holds no image arrays")
        arr = images[0]
    else:
        raise ValueError(f"input {str(path)!r}: unsupported type {suffix!r}")
    x4, is_batch = as_image_batch(arr, str(path), grid=key.shape, channels=channels, allow_any_numeric=True)
    x4 = np.asarray(x4[:count])
    return x4[..., 0] if x4.shape[-1] == 1 else x4


def _to_display(batch: np.ndarray) -> np.ndarray:
    """uint8 for display: uint8 as is, floats in [0, 1] scaled, anything else stretched."""
    if batch.dtype == np.uint8:
        return batch
    b = batch.astype(np.float64)
    if batch.dtype.kind == "f" and b.min() >= 0.0 and b.max() <= 1.0:
        return np.round(b * 255).astype(np.uint8)
    lo, hi = b.min(), b.max()
    return np.round((b - lo) / (hi - lo if hi > lo else 1.0) * 255).astype(np.uint8)


def run_show(args) -> int:
    from PIL import Image

    if args.count < 1:
        raise ValueError(f"--count must be >= 1, got {args.count}")
    key = load_key(args.key)
    out_path = Path(args.output)
    _need_suffix(out_path, {".png"}, "a figure")
    check_output_path(out_path, force=args.force)
    originals = _first_images(Path(args.input), key, args.count, args.channels)
    if originals.shape[1:3] != tuple(key.shape):
        raise ValueError(f"images are {originals.shape[1]}x{originals.shape[2]}, the key is for "
                         f"{key.shape[0]}x{key.shape[1]}")
    if originals.ndim == 4 and originals.shape[-1] not in (3, 4):
        originals = originals[..., 0]
    encrypted = encrypt(originals, key, channels=False if originals.ndim == 3 else None)
    rows = [_to_display(originals), _to_display(encrypted)]
    n, h, w = originals.shape[:3]
    scale = args.scale if args.scale > 0 else max(1, 96 // max(h, w))
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
    img = Image.fromarray(canvas[..., 0] if depth == 1 else canvas)
    with atomic_writer(out_path, force=args.force) as fh:
        img.save(fh, format="PNG")
    print(f"wrote {n} original(s) and their encryptions to {out_path}", file=sys.stderr)
    return 0
