"""Training and evaluation speed of vortexnumba's JAX backend against the same models in PyTorch.

    .venv/bin/pip install -e '.[torchbench]'              # torch 2.13.0; bench only
    .venv/bin/python benchmarks/bench_training.py          # CPU: CNN on all of Fashion-MNIST, ResNet-18 on 2,048 images
    .venv/bin/python benchmarks/bench_training.py --quick  # CPU smoke run, CNN only (< 30 s on a quiet 2-core machine)
    .venv/bin/python benchmarks/bench_training.py --device gpu --models cnn,resnet18   # one GPU, both frameworks
    .venv/bin/python benchmarks/bench_training.py --order torch-first --rounds 3 --out table.md [--force]
    .venv/bin/python benchmarks/bench_training.py --compare-options cnn,resnet18   # + the CPU compiler options' A/B

What is compared
----------------
JAX: ``vortexnumba.learn.train`` and ``evaluate`` on ``make_model("cnn")`` or
``make_model("resnet18")``, called as a user calls them (``progress=False``;
the training set is placed on the device once and batches are cut there).

PyTorch: the same networks written layer by layer as a user would write them:

- CNN: 3x3 convolution 1->16 ("same"), ReLU, 2x2 max pool (rounding up),
  3x3 convolution 16->32, ReLU, 2x2 max pool, dense to 128, ReLU, dense to
  10; He-normal weights, the output layer N(0, 0.01^2), zero biases.
- ResNet-18, CIFAR style: 3x3 stem without bias, batch norm, ReLU; four
  stages of two basic blocks at 64/128/256/512 channels (stride 2 and a 1x1
  convolution with batch norm on the shortcut at the start of stages 2-4);
  global average pooling; dense to 10. Batch norm momentum 0.1 (Equinox's
  0.9), eps 1e-5.

Both: AdamW (lr 1e-3, betas 0.9/0.999, eps 1e-8, decoupled weight decay 1e-4
on every parameter) with a cosine decay to 0 over all steps, batch 128 (CNN)
or 64 (ResNet-18), a permutation from ``numpy.random.default_rng(seed)`` per
epoch, uint8 images converted to float per batch and normalised by one scalar
mean and spread. On the CPU PyTorch cuts each batch from the NumPy array; on a
GPU (``--device gpu``) it keeps the uint8 set on the GPU and indexes it there,
as the JAX side does.

Measurements
------------
- training images per second over epochs 2..E (epoch 1 is the warm-up: JAX
  compiles there, PyTorch allocates; its time is reported, not in the rate);
- evaluation images per second on the test set, batches of 500, best of
  ``--eval-repeats`` after a warm-up pass;
- test accuracy and last-epoch training loss, to see that both learn;
- for the CNN, one training step alone (batch 128, input already on the
  device), median of five interleaved blocks per framework.

The frameworks take turns: ``--rounds`` rounds, each running both, the first
framework alternating from round to round (``--order`` picks who starts), so
that a change of load hits both alike. The table gives the median over rounds
and the range [min-max], and the ratio JAX / PyTorch per round (median and
range). The load average is printed with the table. PyTorch's intra-op threads
are set to ``--threads`` (default: all cores); XLA's CPU client uses all cores
unless ``--threads 1``, which also sets
``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1``
(before JAX starts). torch is imported only here, never by the package.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys


def _early_threads(argv):
    """XLA reads its flags when it starts: set them before JAX is imported."""
    if "--threads" in argv:
        n = argv[argv.index("--threads") + 1]
        if n == "1":
            os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                                       " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()


_early_threads(sys.argv)

try:
    import torch
except ImportError:  # pragma: no cover - the message is the point
    sys.exit("bench_training.py needs PyTorch: .venv/bin/pip install -e '.[torchbench]'")

import equinox as eqx  # noqa: E402 - after XLA_FLAGS
import jax  # noqa: E402
import numpy as np  # noqa: E402
from _training.harness import BATCH, jax_side, options_ab, step_breakdown, torch_side  # noqa: E402
from _training.report import model_table, options_table, step_row  # noqa: E402
from _training.torch_models import TORCH_MODELS  # noqa: E402

from vortexnumba.data import load  # noqa: E402
from vortexnumba.io._files import atomic_writer, check_output_path  # noqa: E402
from vortexnumba.learn import MODEL_NAMES, make_model, n_params  # noqa: E402
from vortexnumba.learn._xla import compiler_options  # noqa: E402


def load_average():
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def _devices(args):
    if args.device == "gpu":
        if jax.default_backend() != "gpu" or not torch.cuda.is_available():
            sys.exit(f"--device gpu needs a GPU for both frameworks (JAX backend {jax.default_backend()}, "
                     f"torch.cuda.is_available() = {torch.cuda.is_available()})")
        return jax.devices()[:1], "cuda"
    return jax.devices("cpu")[:1], "cpu"


def _rounds(name, data, args, devices, tdevice, log):
    """Both frameworks on one model, ``args.rounds`` times, taking turns."""
    tx, ty, vx, vy = data
    kw = dict(epochs=args.epochs, batch_size=args.batch_size or BATCH[name], seed=args.seed,
              eval_repeats=args.eval_repeats)
    rows = {"jax": [], "torch": []}
    for r in range(args.rounds):
        first_jax = (r % 2 == 0) == (args.order == "jax-first")
        for side in (("jax", "torch") if first_jax else ("torch", "jax")):
            if side == "jax":
                rows["jax"].append(jax_side(name, tx, ty, vx, vy, devices=devices, loop=args.loop, **kw))
            else:
                rows["torch"].append(torch_side(name, tx, ty, vx, vy, device=tdevice, **kw))
            log(f"{name} round {r + 1} {side}: {rows[side][-1]} (load {load_average():.2f})")
    return rows["jax"], rows["torch"]


def _footer(args, devices, cores, loads):
    dev = jax.devices()[0] if args.device == "gpu" else devices[0]
    return (
        f"Device: {args.device} ({getattr(dev, 'device_kind', str(dev))}"
        f"{', torch ' + torch.cuda.get_device_name(0) if args.device == 'gpu' else ''}). "
        f"Versions: JAX {jax.__version__}, Equinox {eqx.__version__}, PyTorch {torch.__version__}, NumPy "
        f"{np.__version__}, Python {platform.python_version()}. Threads: {cores} cores; torch.set_num_threads("
        f"{torch.get_num_threads()}); XLA_FLAGS={os.environ.get('XLA_FLAGS', '') or 'unset'}; JAX compiler options "
        f"{dict(compiler_options(devices) or ()) or 'none'}; JAX loop "
        f"{args.loop}. Load average {loads['start']:.2f} at the start, {loads['end']:.2f} at the end. "
        f"Order: {args.order} (alternating per round)."
    )


def run(args, log):
    cores = os.cpu_count() or 1
    torch.set_num_threads(args.threads or cores)
    devices, tdevice = _devices(args)
    tx_all, ty_all, vx_all, vy_all = load("fashion-mnist")
    loads = {"start": load_average()}
    lines = []
    for name in args.models:
        n_train = args.train_images or (len(tx_all) if name == "cnn" or args.device == "gpu" else 2048)
        n_test = args.test_images or (len(vx_all) if name == "cnn" or args.device == "gpu" else 1000)
        data = (tx_all[:n_train], ty_all[:n_train], vx_all[:n_test], vy_all[:n_test])
        j, t = _rounds(name, data, args, devices, tdevice, log)
        lines += model_table(name, n_params(make_model(name, data[0].shape[1:], 10)), n_train, n_test,
                             args.batch_size or BATCH[name], args, j, t)
        if name == "cnn" and args.breakdown_steps:
            times = step_breakdown(data[0], data[1], steps=args.breakdown_steps, seed=args.seed, device=tdevice,
                                   devices=devices)
            lines.append(step_row(times, BATCH["cnn"]))
        lines.append("")
    if args.compare_options and args.device == "cpu":
        chosen = compiler_options(devices)
        ab = {} if chosen is None else options_ab(tx_all, ty_all, args.compare_options, steps=args.options_steps,
                                                  rounds=args.options_rounds, devices=devices, seed=args.seed)
        lines += options_table(ab, chosen, args.options_steps, args.options_rounds)
    loads["end"] = load_average()
    lines.append(_footer(args, devices, cores, loads))
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="CNN only, 3,000 / 1,000 images, 2 epochs, 1 round")
    ap.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    ap.add_argument("--models", default=None, help="comma-separated subset of cnn,resnet18 (default both)")
    ap.add_argument("--epochs", type=int, default=None, help="epochs including the warm-up one (default 3)")
    ap.add_argument("--rounds", type=int, default=None, help="rounds of both frameworks (default 2)")
    ap.add_argument("--batch-size", type=int, default=None, help="default 128 (CNN), 64 (ResNet-18)")
    ap.add_argument("--train-images", type=int, default=None,
                    help="first N training images (default: all; ResNet-18 on the CPU 2,048)")
    ap.add_argument("--test-images", type=int, default=None)
    ap.add_argument("--eval-repeats", type=int, default=3)
    ap.add_argument("--breakdown-steps", type=int, default=None, help="steps per timed block (0: skip)")
    ap.add_argument("--order", choices=("jax-first", "torch-first"), default="jax-first")
    ap.add_argument("--threads", type=int, default=None, help="1: single-threaded XLA and PyTorch")
    ap.add_argument("--loop", choices=("step", "scan"), default="step", help="JAX training loop")
    ap.add_argument("--compare-options", default=None,
                    help="comma-separated models whose step is timed without and with the package's CPU compiler "
                         "options (e.g. cnn,resnet18,mlp,vit-tiny; --quick: cnn)")
    ap.add_argument("--options-steps", type=int, default=10, help="steps per timed block for --compare-options")
    ap.add_argument("--options-rounds", type=int, default=7, help="blocks per variant for --compare-options")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", help="also write the Markdown table to this file (atomically)")
    ap.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    args = ap.parse_args(argv)
    if args.quick:
        args.models = args.models or "cnn"
        args.train_images = args.train_images or 3000
        args.test_images = args.test_images or 1000
        args.epochs = args.epochs or 2
        args.rounds = args.rounds or 1
        args.eval_repeats = 1
        args.breakdown_steps = 5 if args.breakdown_steps is None else args.breakdown_steps
        args.compare_options = "cnn" if args.compare_options is None else args.compare_options
        args.options_steps, args.options_rounds = 3, 2
    args.models = [m.strip() for m in (args.models or "cnn,resnet18").split(",") if m.strip()]
    args.compare_options = [m.strip() for m in (args.compare_options or "").split(",") if m.strip()]
    if not set(args.compare_options) <= set(MODEL_NAMES):
        ap.error(f"--compare-options must name models of {','.join(MODEL_NAMES)}, got {args.compare_options}")
    if not set(args.models) <= set(TORCH_MODELS):
        ap.error(f"--models must be a subset of {','.join(TORCH_MODELS)}, got {args.models}")
    args.epochs = args.epochs or 3
    args.rounds = args.rounds or 2
    args.breakdown_steps = 20 if args.breakdown_steps is None else args.breakdown_steps
    if args.epochs < 2:
        ap.error(f"--epochs must be at least 2 (one warm-up and one timed), got {args.epochs}")
    if args.out:
        try:
            check_output_path(args.out, force=args.force, name="--out")
        except (FileExistsError, OSError, ValueError) as exc:
            ap.error(str(exc))

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    table = run(args, log)
    print(table)
    if args.out:
        with atomic_writer(args.out, force=args.force, mode="w", name="--out") as fh:
            fh.write(table)


if __name__ == "__main__":
    main()
