"""Command line for the field's benchmark: ``vortexnumba benchmark``.

Registering the command imports nothing heavy: the training and attack
stack (JAX) loads only when the command runs.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any

from .. import data as _data

# Kept here as plain strings so that registering the command loads no JAX; the library checks them again.
_SCHEMES = "vor,vor-paper,perm,block,random,le,ele,etc,pe,pe-each,blockwise"


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "benchmark",
        help="train, attack and measure every encryption scheme on one data set",
        description=(
            "For every scheme (RVT in both modes, the baselines and the field's learnable encryptions): the "
            "accuracy drop of the CNN and of the scheme's own model, the information loss, the ciphertext-only "
            "attack's SSIM from 1,000 and 10,000 ciphertexts, the known-plaintext pairs for 90 % of the key and "
            "the chosen plaintexts. Writes OUT/results.json, results.md and frontier.png, all or nothing."
        ),
    )
    p.add_argument("--dataset", default="fashion-mnist", choices=_data.DATASETS,
                   help="data set (default fashion-mnist)")
    p.add_argument("--out", default="vortexnumba-benchmark", help="output folder (default ./vortexnumba-benchmark)")
    p.add_argument("--force", action="store_true", help="replace an existing output folder")
    p.add_argument("--schemes", default=_SCHEMES, help=f"comma-separated subset of {_SCHEMES} (default all)")
    p.add_argument("--keys", type=int, default=1, help="keys per scheme, medians over them (default 1)")
    p.add_argument("--epochs", type=int, default=None, help="training epochs (default per data set)")
    p.add_argument("--seed", type=int, default=0, help="seed of the keys and the training (default 0)")
    p.add_argument("--train-limit", type=int, default=None, help="use only the first N training images")
    p.add_argument("--test-limit", type=int, default=None, help="use only the first N test images")
    p.add_argument("--info-loss-limit", type=int, default=None,
                   help="average the information loss over the first N test images only")
    p.add_argument("--attack-sizes", default="1000,10000",
                   help="comma-separated numbers of training ciphertexts the attacker fits on (default 1000,10000)")
    p.add_argument("--attack-test", type=int, default=1000,
                   help="held-out test images the attack is scored on (default 1000)")
    p.add_argument("--known-plaintext-limit", type=int, default=1000,
                   help="most known-plaintext pairs tried (default 1000)")
    p.add_argument("--batch-size", type=int, default=128, help="images per training step (default 128)")
    p.add_argument("--vit", choices=("vit", "vit-tiny"), default="vit",
                   help="the ViT for block-wise encryption (default vit)")
    p.add_argument("--data-dir", default=None, help="folder to look for the data in first")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run_benchmark)


def _sizes(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise ValueError(f"--attack-sizes must be comma-separated integers, got {text!r}") from None


def _command(args) -> str:
    """The command line of these settings, every setting spelled out (quoted in results.md)."""
    words = ["vortexnumba", "benchmark"]
    for attr in ("dataset", "out", "schemes", "keys", "epochs", "seed", "train_limit", "test_limit",
                 "info_loss_limit", "attack_sizes", "attack_test", "known_plaintext_limit", "batch_size", "vit",
                 "data_dir"):
        value = getattr(args, attr)
        if value is not None:
            words += ["--" + attr.replace("_", "-"), str(value)]
    if args.force:
        words.append("--force")
    return " ".join(shlex.quote(w) for w in words)


def run_benchmark(args: argparse.Namespace) -> int:
    from ..study import BenchmarkConfig, benchmark

    command = _command(args)
    config = BenchmarkConfig(args.dataset, schemes=args.schemes, keys=args.keys, epochs=args.epochs, seed=args.seed,
                             train_limit=args.train_limit, test_limit=args.test_limit,
                             info_loss_limit=args.info_loss_limit, attack_sizes=_sizes(args.attack_sizes),
                             attack_test=args.attack_test, known_plaintext_limit=args.known_plaintext_limit,
                             batch_size=args.batch_size, vit=args.vit)
    doc = benchmark(config, out=args.out, force=args.force, command=command, data_dir=args.data_dir,
                    progress=False if args.no_progress else None,
                    log=lambda line: print(line, file=sys.stderr, flush=True))
    print(f"{len(doc['schemes'])} schemes in {doc['total_seconds']:.0f} s; results written to {args.out}")
    return 0
