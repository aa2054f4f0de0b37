"""The Markdown table of ``bench_training.py``: medians, ranges and per-round ratios."""

from __future__ import annotations

import numpy as np

__all__ = ["model_table", "options_table", "ratio", "step_row", "summary"]


def summary(values):
    v = np.asarray(values, float)
    return f"{np.median(v):,.0f} [{v.min():,.0f}-{v.max():,.0f}]"


def ratio(values):
    v = np.asarray(values, float)
    return f"**{np.median(v):.2f}** [{v.min():.2f}-{v.max():.2f}]"


def model_table(name, n_params, n_train, n_test, bs, args, j, t):
    """The table of one model: training and evaluation rates of both frameworks, warm-up, accuracy, loss."""
    k = len(j)
    return [
        f"**{name}** (`make_model(\"{name}\")`, {n_params:,} parameters): "
        f"Fashion-MNIST, {n_train:,} training / {n_test:,} test images (28x28 uint8), batch {bs}, "
        f"{args.epochs} epochs (epoch 1 is the warm-up), {args.rounds} rounds.",
        "",
        "| measurement | JAX (vortexnumba) | PyTorch | JAX / PyTorch per round |",
        "|---|---:|---:|---:|",
        f"| training, images/s (epochs 2..{args.epochs}) | {summary([r['train_rate'] for r in j])} | "
        f"{summary([r['train_rate'] for r in t])} | "
        f"{ratio([j[i]['train_rate'] / t[i]['train_rate'] for i in range(k)])} |",
        f"| evaluation, images/s (batches of 500, best of {args.eval_repeats}) | "
        f"{summary([r['eval_rate'] for r in j])} | {summary([r['eval_rate'] for r in t])} | "
        f"{ratio([j[i]['eval_rate'] / t[i]['eval_rate'] for i in range(k)])} |",
        f"| warm-up epoch, s (JAX: includes compilation) | {np.median([r['warmup'] for r in j]):.1f} | "
        f"{np.median([r['warmup'] for r in t]):.1f} | |",
        f"| test accuracy after {args.epochs} epochs | {j[-1]['accuracy']:.4f} | {t[-1]['accuracy']:.4f} | |",
        f"| training loss, epoch {args.epochs} | {j[-1]['loss']:.4f} | {t[-1]['loss']:.4f} | |",
    ]


def step_row(times, batch):
    """The table row of one CNN step alone, both frameworks interleaved."""
    speed = [b / a for a, b in zip(times["jax"], times["torch"], strict=True)]
    return (f"| one step alone (batch {batch}, input on the device), ms, 5 interleaved blocks | "
            f"{np.median(times['jax']):.2f} [{min(times['jax']):.2f}-{max(times['jax']):.2f}] | "
            f"{np.median(times['torch']):.2f} [{min(times['torch']):.2f}-{max(times['torch']):.2f}] | "
            f"{ratio(speed)} (speed) |")


def options_table(ab, options, steps, rounds):
    """The compiler-options A/B: ms per step without and with ``options``, per model."""
    if options is None:
        return ["Compiler options: none apply here (not a CPU, an older jaxlib, or XLA_FLAGS sets the option).", ""]
    lines = [(f"**JAX compiler options** (vortexnumba/learn/_xla.py): one training step, ms, compiled without "
              f"and with `{dict(options)}`, {rounds} interleaved blocks of {steps} steps."), "",
             "| model | batch | without | with | speed-up per block |", "|---|---:|---:|---:|---:|"]
    for name, (bs, without, with_) in ab.items():
        lines.append(f"| {name} | {bs} | {np.median(without):,.1f} [{min(without):,.1f}-{max(without):,.1f}] | "
                     f"{np.median(with_):,.1f} [{min(with_):,.1f}-{max(with_):,.1f}] | "
                     f"{ratio([a / b for a, b in zip(without, with_, strict=True)])} |")
    return lines + [""]
