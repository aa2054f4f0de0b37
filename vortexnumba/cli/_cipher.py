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
    relative path under the output folder; every other file is copied
    unchanged (and counted on stderr). All images must have one size.
Zarr store (``.zarr``, or a folder holding Zarr metadata)
    Encrypted through Dask (:func:`vortexnumba.dask.encrypt_zarr`) into a new
    store with the same layout; ``--scheduler ADDRESS`` runs it on a Dask
    cluster. Needs the ``dask`` extra.

No command replaces an existing file unless ``--force`` is given; outputs
are all-or-nothing (see :mod:`vortexnumba.cipher._files`), and large arrays
and folders show a progress bar (on a terminal). The work is done by the
library; this module parses, calls and prints.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Any

from ..cipher._files import input_grids, transform_file
from ..cipher._keyfile import load_key, save_key
from ..cipher._keys import (
    BlockKey,
    BlockwiseKey,
    ELEKey,
    EtCKey,
    IdentityKeyWarning,
    LEKey,
    PEKey,
    PermutationKey,
    VortexKey,
)
from ..cipher._preview import comparison_grid, image_names, read_images
from ..cipher._protocol import check_decryptable
from ..io._files import check_output_path
from ..io._images import is_image_path, write_image

SCHEMES = ("vortex", "permutation", "block", "le", "ele", "etc", "pe", "blockwise")
_VALUE_SCHEMES = ("le", "ele", "etc", "pe", "blockwise")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("keygen", help="draw a random key and write it as JSON",
                              description="Draw a random key and write it as JSON.")
    p.add_argument("--shape", nargs=2, type=int, required=True, metavar=("H", "W"), help="image grid")
    p.add_argument("--scheme", "--kind", dest="scheme", choices=SCHEMES, default="vortex",
                   help="vortex (default), permutation, block (tile shuffle), le (Tanaka's learnable encryption), "
                        "ele (extended LE), etc (encryption-then-compression scrambling), pe (pixel-based "
                        "encryption) or blockwise (block-wise encryption for ViTs); --kind is the old name")
    p.add_argument("--vortices", type=int, default=10, help="number of vortices (vortex keys; default 10)")
    p.add_argument("--strength", type=float, default=0.8, help="swirl strength S (vortex keys; default 0.8)")
    p.add_argument("--mode", choices=("bijective", "paper"), default="bijective",
                   help="bijective: exactly invertible (default); paper: the lossy reference arithmetic")
    p.add_argument("--block", type=int, default=4,
                   help="block side (block, le, ele, etc and blockwise keys; must divide H and W; default 4)")
    p.add_argument("--channels", type=int, default=None, metavar="C",
                   help="channels of the images (le, ele, etc, pe and blockwise keys: 1 grey, 3 colour; default 1)")
    p.add_argument("--negate", action="store_true",
                   help="blockwise keys: also negate a fixed random half of the block's slots")
    p.add_argument("--keep-blocks", action="store_true",
                   help="blockwise keys: shuffle inside blocks only, leave the blocks where they are")
    p.add_argument("--seed", type=int, default=None, help="seed for a reproducible key")
    p.add_argument("--allow-identity", action="store_true",
                   help="write the key even if it moves no pixel (its encryption would be the plaintext)")
    p.add_argument("-o", "--output", required=True, help="key file to write (.json, readable by you only)")
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
                              description="Write a PNG grid: originals (top row) above their encryptions, "
                              "the rows labelled, each column captioned with its file name.")
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

def _draw_key(args, shape):
    scheme = args.scheme
    if scheme != "vortex" and args.mode != "bijective":
        raise ValueError(f"--mode applies to vortex keys only, not --scheme {scheme}")
    if scheme not in _VALUE_SCHEMES and args.channels is not None:
        raise ValueError(f"--channels applies to le, ele, etc, pe and blockwise keys; a {scheme} key serves "
                         "images of any channel count")
    if scheme != "blockwise" and (args.negate or args.keep_blocks):
        raise ValueError(f"--negate and --keep-blocks apply to blockwise keys only, not --scheme {scheme}")
    channels = 1 if args.channels is None else args.channels
    if scheme == "vortex":
        return VortexKey.random(shape, n_vortices=args.vortices, strength=args.strength, mode=args.mode,
                                seed=args.seed)
    if scheme == "permutation":
        return PermutationKey.random(shape, seed=args.seed)
    if scheme == "block":
        return BlockKey.random(shape, block=args.block, seed=args.seed)
    if scheme == "pe":
        return PEKey.random(shape, channels=channels, seed=args.seed)
    if scheme == "blockwise":
        return BlockwiseKey.random(shape, block=args.block, channels=channels, negate=args.negate,
                                   shuffle_blocks=not args.keep_blocks, seed=args.seed)
    cls = {"le": LEKey, "ele": ELEKey, "etc": EtCKey}[scheme]
    return cls.random(shape, block=args.block, channels=channels, seed=args.seed)


def run_keygen(args: argparse.Namespace) -> int:
    shape = tuple(args.shape)
    check_output_path(args.output, force=args.force)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IdentityKeyWarning)  # reported below, in the command's own words
        key = _draw_key(args, shape)
    moved = key.moved_fraction
    spatial = getattr(key, "is_spatial", True)
    if moved == 0.0 and not args.allow_identity:
        what = "moves no pixel" if spatial else "changes no value"
        raise ValueError(f"this {args.scheme} key {what}, so encrypting with it would write the plaintext; "
                         "draw another (other --seed, more --vortices, a non-zero --strength) or pass "
                         "--allow-identity")
    save_key(key, args.output, force=args.force)
    grid = f"{shape[0]}x{shape[1]}" + ("" if spatial else f"x{key.channels}")
    if spatial:
        share = f"moves {moved:.1%} of the pixels"
    else:
        units = "nibbles" if key.element_plan(key.channels).unit == "nibble" else "values"
        share = f"moves or negates {moved:.1%} of the {units}"
    print(f"wrote {args.scheme} key for {grid} images to {args.output} ({share}; fingerprint {key.fingerprint})",
          file=sys.stderr)
    return 0


# --------------------------------------------------------------------------- encrypt / decrypt

def _load_key_for(key_path, input_path, grid):
    """The key of a command whose arguments are ``KEY INPUT``, saying so when the two look swapped."""
    k = Path(key_path)
    what = None
    if k.is_dir():
        what = "a Zarr store" if _is_zarr(k) else "a folder"
    elif k.is_file() and k.suffix.lower() in (".npy", ".npz", ".zarr") or is_image_path(k):
        what = "an image file" if is_image_path(k) else f"a {k.suffix.lower()} array file"
    if what is not None and k.exists():
        hint = " (the key comes first: KEY INPUT)" if Path(input_path).suffix.lower() == ".json" else ""
        raise ValueError(f"key file {str(k)!r} is {what}, not a key file (JSON from keygen){hint}")
    return load_key(key_path, grid=grid)


def _is_zarr(path: Path) -> bool:
    return path.suffix.lower() == ".zarr" or (
        path.is_dir() and any((path / m).is_file() for m in ("zarr.json", ".zarray", ".zgroup")))


def _run_transform(args, inverse: bool) -> int:
    verb = "decrypt" if inverse else "encrypt"
    src = Path(args.input)
    dst = Path(args.output)
    if not src.exists():
        raise FileNotFoundError(f"input {str(src)!r} does not exist")
    zarr_input = _is_zarr(src)
    if args.scheduler is not None and not zarr_input:
        raise ValueError(f"--scheduler applies to Zarr stores only, not to {str(src)!r}")
    key = _load_key_for(args.key, src, grid=None if zarr_input else input_grids(src))
    if inverse:
        try:
            check_decryptable(key)
        except ValueError as exc:
            raise ValueError(f"key {args.key!r}: {exc}") from None
    if zarr_input:
        from ..dask import decrypt_zarr, encrypt_zarr

        fn = decrypt_zarr if inverse else encrypt_zarr
        notes = []
        fn(src, dst, key, force=args.force, scheduler=args.scheduler, channels=args.channels, notes=notes)
        for note in notes:
            print(note, file=sys.stderr)
        print(f"{verb}ed {src} -> {dst}", file=sys.stderr)
        return 0
    report = transform_file(src, dst, key, inverse=inverse, force=args.force, channels=args.channels)
    for note in report.notes:
        print(note, file=sys.stderr)
    if src.is_dir():
        print(f"{verb}ed {report.images} image(s) from {src} into {dst}", file=sys.stderr)
    else:
        print(f"{verb}ed {src} -> {dst}", file=sys.stderr)
    return 0


def run_encrypt(args: argparse.Namespace) -> int:
    return _run_transform(args, inverse=False)


def run_decrypt(args: argparse.Namespace) -> int:
    return _run_transform(args, inverse=True)


# --------------------------------------------------------------------------- show

def run_show(args: argparse.Namespace) -> int:
    if args.count < 1:
        raise ValueError(f"--count must be >= 1, got {args.count}")
    if args.scale < 0:
        raise ValueError(f"--scale must be >= 0 (0: automatic), got {args.scale}")
    out_path = Path(args.output)
    if out_path.suffix.lower() != ".png":
        raise ValueError(f"output {str(out_path)!r} must end in '.png' for a figure")
    check_output_path(out_path, force=args.force)
    key = _load_key_for(args.key, args.input, grid=input_grids(args.input))
    originals = read_images(args.input, key, args.count, args.channels)
    canvas = comparison_grid(originals, key, scale=args.scale or None, labels=True,
                             names=image_names(args.input, len(originals)))
    write_image(canvas, out_path, force=args.force)
    print(f"wrote {len(originals)} original(s) and their encryptions to {out_path}", file=sys.stderr)
    return 0
