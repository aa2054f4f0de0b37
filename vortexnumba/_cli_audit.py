"""``vortexnumba audit``: the standard cipher metrics of one key on a data set, as a table and a figure."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from . import security as sec
from ._gather import encrypt
from ._io import check_output_path, save_figure, read_npy

# the data set to use when --dataset is not given, by the key's grid
_DATASET_BY_SHAPE = {(8, 8): "digits", (28, 28): "fashion-mnist", (32, 32): "cifar10"}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "audit",
        help="cipher metrics of a key: correlation, histogram, NPCR/UACI, key space, known-plaintext attack",
        description=(
            "Print the standard image-cipher metrics of KEY on test images of a data set (adjacent-pixel "
            "correlation, entropy, NPCR/UACI for a one-pixel change of the image and of the key, key space, "
            "and how many known plaintext pairs recover the key), and write a figure of histograms and "
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
    p.add_argument("-o", "--output", default=None, help="figure to write (PNG/PDF/SVG); none if omitted")
    p.add_argument("--force", action="store_true", help="overwrite an existing figure")
    p.set_defaults(func=run)


def _load_images(args, key) -> tuple[np.ndarray, str]:
    from . import data

    name = args.dataset or _DATASET_BY_SHAPE.get(tuple(key.shape))
    if name is None:
        raise ValueError(f"no data set has the key's {key.shape[0]}x{key.shape[1]} grid by default; "
                         "pass --dataset NAME or --dataset FILE.npy")
    if name.lower().endswith(".npy"):
        path = Path(name)
        if not path.is_file():
            raise FileNotFoundError(f"--dataset {name!r} does not exist")
        images = read_npy(path, name="--dataset")
    else:
        if name not in data.DATASETS:
            raise ValueError(f"--dataset must be one of {data.DATASETS} or an .npy file, got {name!r}")
        images = data.load(name, args.data_dir)[2]
    if images.ndim not in (3, 4) or tuple(images.shape[1:3]) != tuple(key.shape):
        raise ValueError(f"{name}: images of shape {images.shape} do not fit the key's "
                         f"{key.shape[0]}x{key.shape[1]} grid (expected (B, H, W) or (B, H, W, C))")
    if images.dtype != np.uint8 and images.dtype.kind != "f":
        raise ValueError(f"{name}: images must be uint8 or float in [0, 1], got dtype {images.dtype}")
    images = np.ascontiguousarray(images[: args.n_images])
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    return images, name


def _sensitivity_rows(images, key):
    rows = []
    parameters = ("weight", "weight-ulp", "strength", "centre") if key.kind == "vortex" else ("swap",)
    if key.kind == "identity":
        return rows
    labels = {"weight": "weight + 1e-6", "weight-ulp": "weight + 1 ulp", "strength": "strength + 1e-6",
              "centre": "centre moved 1 px", "swap": "two entries swapped"}
    for parameter in parameters:
        try:
            s = sec.key_sensitivity(images, key, parameter)
        except ValueError as exc:  # e.g. a vortex whose centre cannot move on a tiny grid
            rows.append((f"key change: {labels[parameter]}", "n/a", str(exc)))
            continue
        rows.append((f"key change: {labels[parameter]}", "",
                     f"NPCR {s['npcr']:.3f} %  UACI {s['uaci']:.3f} %  map changed {100 * s['map_changed']:.2f} %"))
    return rows


def run(args) -> int:
    from ._cli_cipher import _load_key

    if args.n_images < 1:
        raise ValueError(f"--n-images must be >= 1, got {args.n_images}")
    if args.key_space_samples < 2:
        raise ValueError(f"--key-space-samples must be >= 2, got {args.key_space_samples}")
    key = _load_key(args.key)
    output = None if args.output is None else check_output_path(args.output, force=args.force, name="figure")
    images, name = _load_images(args, key)
    channels = images.ndim == 4
    ch = False if images.ndim == 3 else None  # how the data-set functions read the array: a batch
    cipher = encrypt(images, key, channels=ch)
    corr_p = sec.adjacent_correlation(images, channels=ch)
    corr_c = sec.adjacent_correlation(cipher, channels=ch)
    rows = [(f"correlation {d}", f"{corr_p[d]:+.4f}", f"{corr_c[d]:+.4f}") for d in sec.DIRECTIONS]
    rows.append(("entropy (bits)", f"{sec.shannon_entropy(images, channels=ch):.4f}",
                 f"{sec.shannon_entropy(cipher, channels=ch):.4f}"))
    same_hist = np.array_equal(sec.histogram(images, channels=ch),
                               sec.histogram(cipher, channels=ch))
    rows.append(("histogram unchanged", "", "yes" if same_hist else "no"))
    npcr, uaci = zip(*(sec.plaintext_sensitivity(img, key, channels=channels) for img in images[:100]))
    rows.append(("one-pixel plaintext change", "",
                 f"NPCR {np.mean(npcr):.3f} %  UACI {np.mean(uaci):.3f} %  (ideal 99.61 % / 33.46 %)"))
    rows.extend(_sensitivity_rows(images, key))
    ks = sec.key_space(key, n_samples=args.key_space_samples)
    rows.append(("key space (bits)", f"{ks.parameter_bits:.1f} (parameters)",
                 f"{ks.bits:.1f} ({'exact' if ks.exact else 'estimate'})"))
    k, curve = sec.pairs_to_recover(images, cipher)
    done = int(np.count_nonzero(~np.isnan(curve)))
    one = f"{100 * curve[0]:.1f} % of positions from 1 pair"
    rows.append(("known-plaintext attack", "",
                 (f"all positions from {k} pairs; " if k else
                  f"{100 * curve[done - 1]:.1f} % of positions from all {len(images)} pairs; ") + one))
    probe = sec.chosen_plaintext(key.shape)
    _, n_amb = sec.recover_index(probe, encrypt(probe, key, channels=False))
    rows.append(("chosen-plaintext attack", "",
                 f"{len(probe)} crafted image(s) leave {n_amb} of {key.n_pixels} positions ambiguous"))

    out = sys.stdout
    print(f"key:      {args.key} ({key.kind}{', ' + key.mode if key.kind == 'vortex' else ''}, "
          f"{key.shape[0]}x{key.shape[1]})", file=out)
    print(f"images:   {len(images)} test images of {name} {images.shape[1:]} {images.dtype}", file=out)
    width = max(len(r[0]) for r in rows)
    print(f"{'metric':<{width}}  {'plain':>18}  encrypted", file=out)
    for label, before, after in rows:
        print(f"{label:<{width}}  {before:>18}  {after}", file=out)
    if not ks.exact:
        print(f"note: the key space is an {ks.method}", file=out)
    if output is not None:
        save_figure(audit_figure(images, cipher, key), output, force=args.force)
        print(f"wrote {output}", file=out)
    return 0


def audit_figure(images: np.ndarray, cipher: np.ndarray, key):
    """Histograms and adjacent-pixel scatter plots of plain (top) and encrypted (bottom) images."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    channels = False if images.ndim == 3 else None
    fig, axes = plt.subplots(2, 4, figsize=(14, 6.5))
    rng = np.random.default_rng(0)
    for row, (label, x) in enumerate((("plain", images), ("encrypted", cipher))):
        hist = sec.histogram(x, channels=channels)
        axes[row, 0].bar(np.arange(256), hist, width=1.0, color="0.3")
        axes[row, 0].set_yscale("log")
        axes[row, 0].set_title(f"{label}: histogram (entropy {sec.shannon_entropy(x, channels=channels):.3f} bits)",
                               fontsize=9)
        corr = sec.adjacent_correlation(x, channels=channels)
        for col, direction in enumerate(sec.DIRECTIONS, start=1):
            a, b = sec.adjacent_pairs(x, direction, channels=channels)
            pick = rng.choice(a.size, size=min(a.size, 5000), replace=False)
            ax = axes[row, col]
            ax.scatter(a[pick], b[pick], s=2, alpha=0.3, color="C0" if row == 0 else "C3")
            ax.set_xlim(-0.02, 1.02)
            ax.set_ylim(-0.02, 1.02)
            ax.set_aspect("equal")
            ax.set_title(f"{label}: {direction} neighbours, r = {corr[direction]:+.3f}", fontsize=9)
    kind = key.kind + (f" ({key.mode})" if key.kind == "vortex" else "")
    fig.suptitle(f"{kind} key on {key.shape[0]}x{key.shape[1]} images: a pixel permutation keeps the histogram "
                 "and lowers the neighbour correlation")
    fig.tight_layout()
    return fig
