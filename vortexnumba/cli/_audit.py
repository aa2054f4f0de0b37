"""``vortexnumba audit``: the standard cipher metrics of one key on a data set, as a table and a figure."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from .. import security as sec
from .._validate import plain_list
from ..cipher._keyfile import load_key
from ..io._files import check_output_path, read_npy, save_figure

# the data set to use when --dataset is not given, by the key's grid
_DATASET_BY_SHAPE = {(8, 8): "digits", (28, 28): "fashion-mnist", (32, 32): "cifar10"}


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "audit",
        help="cipher metrics of a key: correlation, histogram, NPCR/UACI, key space, known-plaintext attack",
        description=(
            "Print the standard image-cipher metrics of KEY on test images of a data set (adjacent-pixel "
            "correlation, entropy, NPCR/UACI for a one-pixel change of the image and of the key, key space, "
            "how many known plaintext pairs recover the key and, with --attack, what an attacker holding only the "
            "encrypted images recovers), and write a figure of histograms and "
            "adjacent-pixel scatter plots before and after encryption."
        ),
    )
    p.add_argument("key", help="key file (JSON from keygen)")
    p.add_argument("--dataset", default=None,
                   help="digits, fashion-mnist, mnist, cifar10 or an .npy file of images "
                        "(default: chosen by the key's grid: 8x8 digits, 28x28 fashion-mnist, 32x32 cifar10)")
    p.add_argument("--data-dir", default=None, help="folder to look for the data set in first")
    p.add_argument("--n-images", type=int, default=1000, help="test images to measure on (default 1000)")
    p.add_argument("--key-space-samples", type=int, default=2048,
                   help="weight draws per radius for the vortex key-space estimate (default 2048)")
    p.add_argument("--attack", action="store_true",
                   help="also run the ciphertext-only attack on the encrypted images and report how much of "
                        "them it recovers (map entries, SSIM, PSNR)")
    p.add_argument("-o", "--output", default=None, help="figure to write (PNG/PDF/SVG); none if omitted")
    p.add_argument("--force", action="store_true", help="overwrite an existing figure")
    p.set_defaults(func=run)


def _read_dataset(name: str, data_dir) -> np.ndarray:
    """The test images of data set ``name`` (or the array of an .npy file)."""
    from .. import data

    if name.lower().endswith(".npy"):
        path = Path(name)
        if not path.is_file():
            raise FileNotFoundError(f"--dataset {name!r} does not exist")
        images = read_npy(path, name="--dataset")
    else:
        if name not in data.DATASETS:
            raise ValueError(f"--dataset must be one of {plain_list(data.DATASETS)} or an .npy file, got {name!r}")
        images = data.load(name, data_dir)[2]
    if images.ndim not in (3, 4):
        raise ValueError(f"{name}: images of shape {images.shape}; expected (B, H, W) or (B, H, W, C)")
    return images


def _load_key_and_images(args):
    """The key and the images, the cheap side first.

    The key's declared grid is checked against the images' (or, without
    --dataset, against the grids that have a default data set) before the key's
    map is built, so a small forged key file cannot cost much.
    """
    if args.dataset is None:
        key = load_key(args.key, grid=list(_DATASET_BY_SHAPE))
        name = _DATASET_BY_SHAPE[tuple(key.shape)]
        images = _read_dataset(name, args.data_dir)
    else:
        name = args.dataset
        images = _read_dataset(name, args.data_dir)
        key = load_key(args.key, grid=tuple(int(v) for v in images.shape[1:3]))
    return key, _fit(images, key, name, args.n_images), name


def _fit(images: np.ndarray, key, name: str, n_images: int) -> np.ndarray:
    if tuple(images.shape[1:3]) != tuple(key.shape):
        raise ValueError(f"{name}: images of shape {images.shape} do not fit the key's "
                         f"{key.shape[0]}x{key.shape[1]} grid (expected (B, H, W) or (B, H, W, C))")
    if images.dtype != np.uint8 and images.dtype.kind != "f":
        raise ValueError(f"{name}: images must be uint8 or float in [0, 1], got dtype {images.dtype}")
    images = np.ascontiguousarray(images[:n_images])
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    return images


def _rows(report: dict, n_pixels: int) -> list[tuple[str, str, str]]:
    """The audit report as (metric, plain, encrypted) table rows."""
    corr = report["correlation"]
    rows = [(f"correlation {d}", f"{corr['plain'][d]:+.4f}", f"{corr['cipher'][d]:+.4f}") for d in sec.DIRECTIONS]
    rows.append(("entropy (bits)", f"{report['entropy']['plain']:.4f}", f"{report['entropy']['cipher']:.4f}"))
    rows.append(("histogram unchanged", "", "yes" if report["histogram_unchanged"] else "no"))
    rows.append(("one-pixel plaintext change", "",
                 f"NPCR {report['plaintext_npcr']:.3f} %  UACI {report['plaintext_uaci']:.3f} %  "
                 "(ideal 99.61 % / 33.46 %)"))
    for label, s in report["key_changes"].items():
        if "error" in s:
            rows.append((f"key change: {label}", "n/a", s["error"]))
        else:
            rows.append((f"key change: {label}", "",
                         f"NPCR {s['npcr']:.3f} %  UACI {s['uaci']:.3f} %  map changed {100 * s['map_changed']:.2f} %"))
    ks = report["key_space"]
    rows.append(("key space (bits)", f"{ks.parameter_bits:.1f} (parameters)",
                 f"{ks.bits:.1f} ({'exact' if ks.exact else 'estimate'})"))
    k, curve = report["known_plaintext"]["pairs_for_all"], report["known_plaintext"]["curve"]
    unit = report["known_plaintext"].get("unit", "pixel")
    what = "positions" if unit == "pixel" else f"{unit}s (source and negation)"
    done = int(np.count_nonzero(~np.isnan(curve)))
    one = f"{100 * curve[0]:.1f} % of {what} from 1 pair"
    rows.append(("known-plaintext attack", "",
                 (f"all {what} from {k} pairs; " if k else
                  f"{100 * curve[done - 1]:.1f} % of {what} from all {report['n_images']} pairs; ") + one))
    chosen = report["chosen_plaintext"]
    total = chosen.get("units", n_pixels)
    rows.append(("chosen-plaintext attack", "",
                 f"{chosen['images']} crafted image(s) leave {chosen['ambiguous']} of {total} {what.split()[0]} "
                 "ambiguous"))
    if "ciphertext_only" in report and "error" in report["ciphertext_only"]:
        rows.append(("ciphertext-only attack", "n/a", report["ciphertext_only"]["error"]))
    elif "ciphertext_only" in report:
        a = report["ciphertext_only"]
        rows.append((f"ciphertext-only attack ({a['family']})", f"SSIM {a['ssim_cipher']:.3f} (cipher)",
                     f"recovers {100 * a['recovered']:.1f} % of the map; reconstruction SSIM {a['ssim']:.3f}, "
                     f"PSNR {a['psnr']:.2f} dB (ciphertext {a['psnr_cipher']:.2f} dB)"))
    return rows


def run(args: argparse.Namespace) -> int:
    if args.n_images < 1:
        raise ValueError(f"--n-images must be >= 1, got {args.n_images}")
    if args.key_space_samples < 2:
        raise ValueError(f"--key-space-samples must be >= 2, got {args.key_space_samples}")
    output = None if args.output is None else check_output_path(args.output, force=args.force, name="figure")
    key, images, name = _load_key_and_images(args)
    report = sec.audit(images, key, key_space_samples=args.key_space_samples, attack=args.attack,
                       progress=None)  # a bar on a terminal
    rows = _rows(report, key.n_pixels)

    out = sys.stdout
    channels = getattr(key, "channels", None)
    print(f"key:      {args.key} ({key.kind}{', ' + key.mode if key.kind == 'vortex' else ''}, "
          f"{key.shape[0]}x{key.shape[1]}{'' if channels is None else f'x{channels}'})", file=out)
    print(f"images:   {len(images)} test images of {name} {images.shape[1:]} {images.dtype}", file=out)
    width = max(len(r[0]) for r in rows)
    print(f"{'metric':<{width}}  {'plain':>18}  encrypted", file=out)
    for label, before, after in rows:
        print(f"{label:<{width}}  {before:>18}  {after}", file=out)
    if not report["key_space"].exact:
        print(f"note: the key space is an {report['key_space'].method}", file=out)
    if output is not None:
        save_figure(sec.audit_figure(images, key), output, force=args.force)
        print(f"wrote {output}", file=out)
    return 0
