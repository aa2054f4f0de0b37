"""Training and evaluation speed of the JAX backend against the same CNN in PyTorch (CPU).

    .venv/bin/pip install -e '.[torchbench]'        # torch 2.13.0, CPU build; bench only
    .venv/bin/python benchmarks/bench_training.py             # full Fashion-MNIST, 3 epochs
    .venv/bin/python benchmarks/bench_training.py --quick     # 6,000 / 2,000 images, 2 epochs
    .venv/bin/python benchmarks/bench_training.py --out table.md [--force]

What is compared
----------------
JAX: ``vortexnumba``'s own ``train`` and ``evaluate`` on ``make_model("cnn")``,
called exactly as a user calls them (``progress=False``).

PyTorch: the same network written layer by layer as a user would write it:
3x3 convolution 1->16 ("same" padding), ReLU, 2x2 max pool (rounding up, as
"SAME" pooling does), 3x3 convolution 16->32, ReLU, 2x2 max pool, dense
to 128, ReLU, dense to 10. Weights are drawn from He normal distributions
(std sqrt(2 / fan_in)) and the output layer from N(0, 0.01^2); biases start at
0, as in ``vortexnumba.learn._models``. AdamW (lr 1e-3, betas 0.9/0.999, eps 1e-8,
decoupled weight decay 1e-4 on every parameter) with a cosine decay to 0 over
all steps, stepped per batch, as ``vortexnumba.learn._train`` builds with Optax. The
input pipeline is the same too: uint8 NumPy arrays, a permutation from
``numpy.random.default_rng(seed)`` per epoch, each batch cut from the uint8
array with that permutation and converted to float per batch, normalised by
one scalar mean and spread of the training pixels. (The JAX step pads the last
batch of an epoch to a fixed shape and masks it; PyTorch simply runs a smaller
last batch. That is 32 images of 60,000 per epoch.)

Measurements
------------
- training images per second over epochs 2..E (the first epoch is the warm-up:
  it includes XLA's compilation for JAX and first-touch allocation for PyTorch;
  its time is reported but not in the rate);
- evaluation images per second on the test set, batches of 500, best of
  ``--eval-repeats`` after one warm-up pass;
- test accuracy and last-epoch training loss after the same number of epochs,
  so that both are seen to learn;
- a breakdown of one training step with batch 128: the step alone on a batch
  that is already a tensor / device array, against the same step fed by the
  NumPy pipeline (cut, convert), to see where a difference comes from; the
  frameworks take turns in five blocks and the median block counts.

A third column (``--no-before`` drops it) runs the JAX backend as it was before
its max pooling was rewritten: 2x2 pooling by ``jax.lax.reduce_window``, whose
gradient is XLA's ``select_and_scatter`` and dominated the step on CPU. The
package now pools with a reshape and a max (``vortexnumba.learn._models._max_pool``);
values are the same, so the column shows what that change bought.

The rates depend strongly on other work on the machine (PyTorch's OpenMP
threads in particular slow down many times over when the cores are
oversubscribed), so the run first waits until the 1-minute load average is
below ``--max-load`` and prints the load with the table.

PyTorch's intra-op threads are set to the machine's core count
(``torch.set_num_threads(os.cpu_count())``); XLA's CPU client uses all cores
by default. Both settings, the versions and the load average are printed with
the table. torch is imported only here, never by the package.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time

import numpy as np

import jax
import jax.numpy as jnp

from vortexnumba.io._files import atomic_writer
from vortexnumba.learn import _models
from vortexnumba.learn._models import Model, make_model
from vortexnumba.learn._train import _compiled_step, evaluate, train
from vortexnumba.data import load

from _timing import best_of

try:
    import torch
    import torch.nn.functional as F
    from torch import nn
except ImportError:  # pragma: no cover - the message is the point
    sys.exit("bench_training.py needs PyTorch: .venv/bin/pip install -e '.[torchbench]'")


LEARNING_RATE = 1e-3
WEIGHT_DECAY = 1e-4


def load_average():
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


# --------------------------------------------------------------------------- JAX, previous pooling


def _max_pool_reduce_window(x):
    """2x2 max pool, stride 2, "SAME": the package's pooling before it became a reshape and a max."""
    return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "SAME")


def reduce_window_cnn(input_shape, n_classes=10):
    """``make_model("cnn")`` with the same parameters and init, pooling by ``reduce_window``."""
    base = make_model("cnn", input_shape, n_classes)

    def apply(params, x):
        h = _max_pool_reduce_window(jax.nn.relu(_models._conv(params["conv1"], x)))
        h = _max_pool_reduce_window(jax.nn.relu(_models._conv(params["conv2"], h)))
        h = jax.nn.relu(_models._dense(params["fc"], h.reshape(h.shape[0], -1)))
        return _models._dense(params["out"], h)

    return Model(name="cnn", input_shape=base.input_shape, n_classes=n_classes, init=base.init, apply=apply)


# --------------------------------------------------------------------------- PyTorch side


def _same_pool_size(n):
    return -(-n // 2)


class TorchCNN(nn.Module):
    """``vortexnumba.learn._models._cnn`` written in PyTorch (NCHW)."""

    def __init__(self, height, width, channels, n_classes, width_=16, hidden=128):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, width_, 3, padding=1)
        self.conv2 = nn.Conv2d(width_, 2 * width_, 3, padding=1)
        # ceil_mode=True rounds the output size up like XLA's "SAME" pooling (7 -> 4).
        self.pool = nn.MaxPool2d(2, 2, ceil_mode=True)
        flat = _same_pool_size(_same_pool_size(height)) * _same_pool_size(_same_pool_size(width)) * 2 * width_
        self.fc = nn.Linear(flat, hidden)
        self.out = nn.Linear(hidden, n_classes)

    def reset(self, generator):
        with torch.no_grad():
            for layer in (self.conv1, self.conv2, self.fc):
                fan_in = layer.weight[0].numel()  # in_channels * k * k, or in_features
                layer.weight.normal_(0.0, math.sqrt(2.0 / fan_in), generator=generator)
                layer.bias.zero_()
            self.out.weight.normal_(0.0, 0.01, generator=generator)
            self.out.bias.zero_()

    def forward(self, x):
        h = self.pool(F.relu(self.conv1(x)))
        h = self.pool(F.relu(self.conv2(h)))
        h = F.relu(self.fc(h.flatten(1)))
        return self.out(h)


def torch_batch(x_uint8, mean, std):
    """uint8 (B, H, W) NumPy batch -> normalised float32 (B, 1, H, W) tensor."""
    t = torch.from_numpy(x_uint8).unsqueeze(1).to(torch.float32)
    return t.div_(255.0).sub_(mean).div_(std)


def torch_train(x, y, *, epochs, batch_size, seed):
    n, height, width = x.shape
    model = TorchCNN(height, width, 1, 10)
    model.reset(torch.Generator().manual_seed(seed))
    mean = float(x.mean(dtype=np.float64) / 255.0)
    std = float(x.std(dtype=np.float64) / 255.0) or 1.0
    steps_per_epoch = -(-n // batch_size)
    opt = torch.optim.AdamW(
        model.parameters(), lr=LEARNING_RATE, betas=(0.9, 0.999), eps=1e-8, weight_decay=WEIGHT_DECAY
    )
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps_per_epoch * epochs, eta_min=0.0)
    rng = np.random.default_rng(seed)
    labels = y.astype(np.int64)
    history = []
    model.train()
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        order = rng.permutation(n)
        loss_sum = torch.zeros((), dtype=torch.float64)
        correct = torch.zeros((), dtype=torch.int64)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            xb = torch_batch(x[idx], mean, std)
            yb = torch.from_numpy(labels[idx])
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            with torch.no_grad():
                loss_sum += loss.detach().double() * len(idx)
                correct += (logits.argmax(1) == yb).sum()
        history.append(
            {
                "epoch": epoch,
                "loss": float(loss_sum) / n,
                "train_accuracy": int(correct) / n,
                "seconds": time.perf_counter() - t0,
            }
        )
    return model, mean, std, history


def torch_evaluate(model, mean, std, x, y, batch_size=500):
    model.eval()
    correct = 0
    with torch.inference_mode():
        for start in range(0, len(x), batch_size):
            pred = model(torch_batch(x[start : start + batch_size], mean, std)).argmax(1).numpy()
            correct += int((pred == y[start : start + batch_size]).sum())
    return correct / len(x)


# --------------------------------------------------------------------------- step breakdown


def breakdown(x, y, *, batch_size, steps, seed, with_before=True, rounds=5):
    """Median seconds per training step: the step alone vs. fed from NumPy, per framework.

    The frameworks take turns in blocks of ``steps`` steps, ``rounds`` times,
    so that a change of load on the machine hits all of them alike.
    """
    rng = np.random.default_rng(seed)
    n = len(x)
    idx_list = [rng.permutation(n)[:batch_size] for _ in range(steps)]
    mean = float(x.mean(dtype=np.float64) / 255.0)
    std = float(x.std(dtype=np.float64) / 255.0)
    runners = {}

    # JAX: the very step vortexnumba.train runs.
    def jax_runner(model):
        optimizer, step = _compiled_step(model, LEARNING_RATE, WEIGHT_DECAY, steps * rounds * 4)
        state = {"params": model.init(jax.random.PRNGKey(seed))}
        state["opt"] = optimizer.init(state["params"])
        x4, yi = x[..., None], y.astype(np.int32)
        mean_j, std_j = jnp.float32(mean), jnp.float32(std)
        fixed = [jax.device_put(a) for a in (x4[idx_list[0]], yi[idx_list[0]], np.ones(batch_size, np.float32))]

        def alone():
            p, o = state["params"], state["opt"]
            for _ in range(steps):
                p, o, *_ = step(p, o, *fixed, mean_j, std_j)
            state["params"], state["opt"] = jax.block_until_ready((p, o))

        def fed():
            p, o = state["params"], state["opt"]
            for idx in idx_list:
                m = np.zeros(batch_size, np.float32)  # built per batch, as train() does
                m[: len(idx)] = 1.0
                p, o, *_ = step(p, o, x4[idx], yi[idx], m, mean_j, std_j)
            state["params"], state["opt"] = jax.block_until_ready((p, o))

        p, o, *_ = step(state["params"], state["opt"], *fixed, mean_j, std_j)  # compile
        jax.block_until_ready(p)
        return alone, fed

    runners["jax"] = jax_runner(make_model("cnn", x.shape[1:], 10))
    if with_before:
        runners["before"] = jax_runner(reduce_window_cnn(x.shape[1:]))

    # PyTorch: the loop body of torch_train.
    tmodel = TorchCNN(x.shape[1], x.shape[2], 1, 10)
    tmodel.reset(torch.Generator().manual_seed(seed))
    opt = torch.optim.AdamW(tmodel.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    labels = y.astype(np.int64)

    def tstep(xb, yb):
        loss = F.cross_entropy(tmodel(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    xb_t, yb_t = torch_batch(x[idx_list[0]], mean, std), torch.from_numpy(labels[idx_list[0]])
    for _ in range(5):
        tstep(xb_t, yb_t)

    def t_alone():
        for _ in range(steps):
            tstep(xb_t, yb_t)

    def t_fed():
        for idx in idx_list:
            tstep(torch_batch(x[idx], mean, std), torch.from_numpy(labels[idx]))

    runners["torch"] = (t_alone, t_fed)

    times = {f"{k}_{what}": [] for k in runners for what in ("step", "fed")}
    for _ in range(rounds):
        for k, (alone, fed) in runners.items():
            for what, fn in (("step", alone), ("fed", fed)):
                t0 = time.perf_counter()
                fn()
                times[f"{k}_{what}"].append((time.perf_counter() - t0) / steps)
    return {k: float(np.median(v)) for k, v in times.items()}


def wait_for_quiet(max_load, max_wait, log):
    """Wait (up to ``max_wait`` seconds) until the 1-minute load average is below ``max_load``."""
    t0 = time.perf_counter()
    while load_average() >= max_load and time.perf_counter() - t0 < max_wait:
        log(f"load average {load_average():.2f} >= {max_load}; waiting")
        time.sleep(15)
    return load_average()


# --------------------------------------------------------------------------- main


def run(args):
    cores = os.cpu_count() or 1
    torch.set_num_threads(cores)
    tx, ty, vx, vy = load("fashion-mnist")
    if args.train_images:
        tx, ty = tx[: args.train_images], ty[: args.train_images]
    if args.test_images:
        vx, vy = vx[: args.test_images], vy[: args.test_images]
    n_train, n_test = len(tx), len(vx)
    epochs, bs = args.epochs, args.batch_size
    timed_images = n_train * (epochs - 1)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    loads = {"start": wait_for_quiet(args.max_load, args.max_wait, log)}

    log(f"{n_train} train / {n_test} test images, {epochs} epochs, batch {bs}, load {loads['start']:.2f}")
    rows = {}

    def jax_side(key="jax", model=None):
        model = model or make_model("cnn", tx.shape[1:], 10)
        res = train(
            model, tx, ty, epochs=epochs, batch_size=bs, learning_rate=LEARNING_RATE,
            weight_decay=WEIGHT_DECAY, seed=args.seed, progress=False,
        )
        acc = evaluate(model, res, vx, vy)  # also compiles the evaluation
        t_eval = best_of(lambda: evaluate(model, res, vx, vy), args.eval_repeats)
        rows[key] = {
            "warmup": res.history[0]["seconds"],
            "train_rate": timed_images / sum(h["seconds"] for h in res.history[1:]),
            "eval_rate": n_test / t_eval,
            "accuracy": acc,
            "loss": res.history[-1]["loss"],
        }
        log(f"{key}: {rows[key]}")

    def torch_side():
        model, mean, std, history = torch_train(tx, ty, epochs=epochs, batch_size=bs, seed=args.seed)
        acc = torch_evaluate(model, mean, std, vx, vy)
        t_eval = best_of(lambda: torch_evaluate(model, mean, std, vx, vy), args.eval_repeats)
        rows["torch"] = {
            "warmup": history[0]["seconds"],
            "train_rate": timed_images / sum(h["seconds"] for h in history[1:]),
            "eval_rate": n_test / t_eval,
            "accuracy": acc,
            "loss": history[-1]["loss"],
        }
        log(f"PyTorch: {rows['torch']}")

    sides = [jax_side, torch_side] if args.order == "jax-first" else [torch_side, jax_side]
    if not args.no_before:
        sides.append(lambda: jax_side("before", reduce_window_cnn(tx.shape[1:])))
    for side in sides:
        side()
    loads["training"] = load_average()
    parts = breakdown(
        tx, ty, batch_size=bs, steps=args.breakdown_steps, seed=args.seed, with_before=not args.no_before
    )
    log(f"breakdown: {parts}")
    loads["end"] = load_average()

    cnn = make_model("cnn", tx.shape[1:], 10)
    n_params = cnn.n_params(cnn.init(jax.random.PRNGKey(0)))
    cols = ["jax", "torch"] + ([] if args.no_before else ["before"])
    head = {"jax": "JAX (vortexnumba)", "torch": "PyTorch", "before": "JAX, reduce_window max-pool (before)"}
    header = "| measurement | " + " | ".join(head[c] for c in cols) + " | JAX / PyTorch |"
    header += "" if args.no_before else " before / PyTorch |"
    n_ratio = 1 if args.no_before else 2

    def row(label, values, ratios):
        cells = list(values) + list(ratios) + [""] * (n_ratio - len(ratios))
        return f"| {label} | " + " | ".join(cells) + " |"

    def rate_row(label, key):
        vals = [f"{rows[c][key]:,.0f}" for c in cols]
        ratios = [f"**{rows[c][key] / rows['torch'][key]:.2f}**" for c in cols if c != "torch"]
        return row(label, vals, ratios)

    def ms_row(label, key):
        vals = [f"{1e3 * parts[f'{c}_{key}']:.2f}" for c in cols]
        # As a speed ratio (PyTorch's time over JAX's), so that > 1 means JAX is faster, like the rows above.
        ratios = [f"{parts[f'torch_{key}'] / parts[f'{c}_{key}']:.2f}" for c in cols if c != "torch"]
        return row(label, vals, ratios)

    lines = [
        f"Fashion-MNIST, {n_train:,} training / {n_test:,} test images (28x28 uint8), "
        f"CNN `make_model(\"cnn\")` ({n_params:,} parameters), "
        f"batch {bs}, {epochs} epochs (epoch 1 is the warm-up), AdamW lr {LEARNING_RATE:g} "
        f"wd {WEIGHT_DECAY:g} with cosine decay, seed {args.seed}.",
        "",
        header,
        "|---|" + "---:|" * (len(cols) + n_ratio),
        rate_row(f"training, images/s (epochs 2..{epochs})", "train_rate"),
        rate_row(f"evaluation, images/s (batches of 500, best of {args.eval_repeats})", "eval_rate"),
        row("warm-up epoch (JAX: includes compilation), s", [f"{rows[c]['warmup']:.1f}" for c in cols], []),
        row(f"test accuracy after {epochs} epochs", [f"{rows[c]['accuracy']:.4f}" for c in cols], []),
        row(f"training loss, epoch {epochs}", [f"{rows[c]['loss']:.4f}" for c in cols], []),
        ms_row(f"one step alone (batch {bs}, input already a tensor), ms, median of 5 interleaved blocks", "step"),
        ms_row("one step fed from uint8 NumPy (cut + convert), ms", "fed"),
        "",
        f"Versions: JAX {jax.__version__} (jaxlib {_jaxlib_version()}, backend {jax.default_backend()}, "
        f"{jax.device_count()} device), PyTorch {torch.__version__}, NumPy {np.__version__}, "
        f"Python {platform.python_version()}. Threads: {cores} cores; "
        f"torch.set_num_threads({cores}) (interop {torch.get_num_interop_threads()}); XLA default "
        f"CPU thread pool (XLA_FLAGS={os.environ.get('XLA_FLAGS', '') or 'unset'}). "
        f"Load average: {loads['start']:.2f} at start, {loads['training']:.2f} after training, "
        f"{loads['end']:.2f} at the end. Order: {args.order}.",
    ]
    return "\n".join(lines) + "\n"


def _jaxlib_version():
    try:
        import jaxlib

        return jaxlib.__version__
    except (ImportError, AttributeError):
        return "?"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="6,000 / 2,000 images, 2 epochs, for a smoke run")
    ap.add_argument("--epochs", type=int, default=None, help="epochs including the warm-up one (default 3)")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--train-images", type=int, default=None, help="use the first N training images")
    ap.add_argument("--test-images", type=int, default=None, help="use the first N test images")
    ap.add_argument("--eval-repeats", type=int, default=3)
    ap.add_argument("--breakdown-steps", type=int, default=None, help="steps per timed block (5 blocks)")
    ap.add_argument("--order", choices=("jax-first", "torch-first"), default="jax-first")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--max-load", type=float, default=1.5, help="wait until the 1-minute load average is below this (default 1.5)"
    )
    ap.add_argument("--max-wait", type=float, default=600, help="give up waiting after this many seconds")
    ap.add_argument(
        "--no-before", action="store_true", help="skip the JAX model with the previous reduce_window max-pooling"
    )
    ap.add_argument("--out", help="also write the Markdown table to this file (atomically)")
    ap.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    args = ap.parse_args(argv)
    if args.quick:
        args.train_images = args.train_images or 6000
        args.test_images = args.test_images or 2000
        args.epochs = args.epochs or 2
        args.breakdown_steps = args.breakdown_steps or 10
    args.epochs = args.epochs or 3
    args.breakdown_steps = args.breakdown_steps or 20
    if args.epochs < 2:
        ap.error(f"--epochs must be at least 2 (one warm-up and one timed), got {args.epochs}")
    if args.out:
        # Refuse before minutes of work rather than after.
        from vortexnumba.io._files import check_output_path

        try:
            check_output_path(args.out, force=args.force, name="--out")
        except (FileExistsError, OSError, ValueError) as exc:
            ap.error(str(exc))
    table = run(args)
    print(table)
    if args.out:
        with atomic_writer(args.out, force=args.force, mode="w", name="--out") as fh:
            fh.write(table)


if __name__ == "__main__":
    main()
