"""Command line for the experiment: ``reproduce`` and ``download``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .. import data as _data


def register(subparsers: Any) -> None:
    from ..learn._config import DEFAULT_TRANSFORMS, TRANSFORMS
    from ..learn._registry import MODEL_NAMES

    p = subparsers.add_parser(
        "reproduce",
        help="train networks on original and encrypted images and relate accuracy to information loss",
        description=(
            "Train small networks (JAX) on original, vortex-encrypted and permuted images; write "
            "DIR/<dataset>/results.json, results.md and two figures. With no arguments: the embedded "
            "8x8 digits, about 35 s on two quiet CPU cores once Numba's kernels are cached."
        ),
    )
    p.add_argument("--dataset", default="digits", choices=_data.DATASETS, help="data set (default digits)")
    p.add_argument("--models", default="cnn,mlp",
                   help=f"comma-separated subset of {','.join(MODEL_NAMES)} (default cnn,mlp)")
    p.add_argument("--epochs", type=int, default=None,
                   help="training epochs (default: digits 20, mnist/fashion-mnist 5, cifar10 10)")
    p.add_argument("--transforms", default=",".join(DEFAULT_TRANSFORMS),
                   help=f"comma-separated subset of {','.join(TRANSFORMS)} (default {','.join(DEFAULT_TRANSFORMS)}; "
                   "origin always runs)")
    p.add_argument("--seed", type=int, default=0, help="seed for keys, permutations and training (default 0)")
    p.add_argument("--out", default="vortexnumba-results", help="output folder (default ./vortexnumba-results)")
    p.add_argument("--data-dir", default=None, help="folder to look for the data in first")
    p.add_argument("--force", action="store_true", help="overwrite existing result files")
    p.add_argument("--batch-size", type=int, default=128, help="images per training step (default 128)")
    p.add_argument("--learning-rate", type=float, default=1e-3, help="AdamW peak learning rate (default 1e-3)")
    p.add_argument("--weight-decay", type=float, default=1e-4, help="AdamW decoupled weight decay (default 1e-4)")
    p.add_argument("--train-limit", type=int, default=None, help="use only the first N training images")
    p.add_argument("--test-limit", type=int, default=None, help="use only the first N test images")
    p.add_argument("--info-loss-limit", type=int, default=None,
                   help="average the information loss over the first N test images only")
    p.add_argument("--loop", choices=("step", "scan"), default="step",
                   help="one compiled call per batch (step, default) or per epoch (scan)")
    p.add_argument("--encrypt-on", choices=("host", "device"), default=None,
                   help="where the keyed transforms run (default: device when JAX has an accelerator)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run_reproduce)

    d = subparsers.add_parser(
        "download",
        help="fetch a data set's official files into the cache and verify their SHA-256",
        description="Fetch the official files of a data set into the user cache, $XDG_CACHE_HOME/vortexnumba/NAME "
        "(default ~/.cache/vortexnumba/NAME; or --cache-dir) "
        "and verify each file's SHA-256; a file with another digest is refused.",
    )
    d.add_argument("name", choices=[n for n in _data.DATASETS if n != "digits"], help="data set")
    d.add_argument("--cache-dir", default=None, help="folder to put the files in")
    d.add_argument("--url-base", default=None, help="URL prefix to fetch the files from (a mirror)")
    d.add_argument("--force", action="store_true", help="replace an existing file whose digest is wrong")
    d.set_defaults(func=run_download)


# The flags and the ExperimentConfig fields they set; the config checks every value (once).
_SETTINGS = ("dataset", "models", "transforms", "epochs", "seed", "batch_size", "learning_rate", "weight_decay",
             "train_limit", "test_limit", "info_loss_limit", "encrypt_on", "loop")


def _config(args):
    """The ExperimentConfig of the flags; a refused value names its flag."""
    from ..learn import ExperimentConfig

    try:
        return ExperimentConfig(**{field: getattr(args, field) for field in _SETTINGS})
    except (TypeError, ValueError) as exc:
        message = str(exc)
        for field in _SETTINGS:
            if message.startswith(field + " ") or message.startswith(field + ":"):
                message = "--" + field.replace("_", "-") + message[len(field):]
                break
        raise type(exc)(message) from None


def run_reproduce(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..learn import reproduce

    result = reproduce(_config(args), out=args.out, data_dir=args.data_dir, force=args.force,
                       progress=False if args.no_progress else None,
                       log=lambda line: print(line, file=sys.stderr, flush=True))
    c = result["correlation"]
    if c["pearson_r"] is None:
        print(f"correlation: not defined ({c['note']})")
    else:
        print(f"correlation over {c['n_runs']} runs: Pearson r = {c['pearson_r']:.3f} (p = {c['pearson_p']:.2g}), "
              f"Spearman rho = {c['spearman_r']:.3f} (p = {c['spearman_p']:.2g})")
    print(f"results written to {Path(args.out) / result['dataset']}")
    return 0


def run_download(args: argparse.Namespace) -> int:
    paths = _data.download(args.name, cache_dir=args.cache_dir, url_base=args.url_base, force=args.force,
                           progress=sys.stderr.isatty())
    for p in paths:
        print(f"verified {p}")
    return 0
