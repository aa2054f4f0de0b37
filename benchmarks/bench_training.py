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
import math
import os
import platform
import sys
import time

import numpy as np


def _early_threads(argv):
    """XLA reads its flags when it starts: set them before JAX is imported."""
    if "--threads" in argv:
        n = argv[argv.index("--threads") + 1]
        if n == "1":
            os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                                       " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()


_early_threads(sys.argv)

import equinox as eqx
import jax
import jax.numpy as jnp
from _timing import best_of

from vortexnumba.data import load
from vortexnumba.io._files import atomic_writer, check_output_path
from vortexnumba.learn import MODELS, Pipeline, compiled_step, evaluate, make_model, n_params, train
from vortexnumba.learn._xla import compiler_options

try:
    import torch
    import torch.nn.functional as F
    from torch import nn
except ImportError:  # pragma: no cover - the message is the point
    sys.exit("bench_training.py needs PyTorch: .venv/bin/pip install -e '.[torchbench]'")


LEARNING_RATE = 1e-3
WEIGHT_DECAY = 1e-4
BATCH = {"cnn": 128, "resnet18": 64}


def load_average():
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


# --------------------------------------------------------------------------- PyTorch models


class TorchCNN(nn.Module):
    """``make_model("cnn")`` in PyTorch (NCHW)."""

    def __init__(self, height, width, channels, n_classes, width_=16, hidden=128):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, width_, 3, padding=1)
        self.conv2 = nn.Conv2d(width_, 2 * width_, 3, padding=1)
        self.pool = nn.MaxPool2d(2, 2, ceil_mode=True)  # rounds up like "SAME" pooling (7 -> 4)
        up = lambda n: -(-n // 2)
        self.fc = nn.Linear(up(up(height)) * up(up(width)) * 2 * width_, hidden)
        self.out = nn.Linear(hidden, n_classes)

    def reset(self, generator):
        with torch.no_grad():
            for layer in (self.conv1, self.conv2, self.fc):
                fan_in = layer.weight[0].numel()
                layer.weight.normal_(0.0, math.sqrt(2.0 / fan_in), generator=generator)
                layer.bias.zero_()
            self.out.weight.normal_(0.0, 0.01, generator=generator)
            self.out.bias.zero_()

    def forward(self, x):
        h = self.pool(F.relu(self.conv1(x)))
        h = self.pool(F.relu(self.conv2(h)))
        return self.out(F.relu(self.fc(h.flatten(1))))


class _Block(nn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.short = None
        if stride != 1 or c_in != c_out:
            self.short = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return F.relu(h + (x if self.short is None else self.short(x)))


class TorchResNet18(nn.Module):
    """``make_model("resnet18")`` in PyTorch: CIFAR-style ResNet-18."""

    def __init__(self, height, width, channels, n_classes):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(channels, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU())
        blocks, c_in = [], 64
        for s, c_out in enumerate((64, 128, 256, 512)):
            for b in range(2):
                blocks.append(_Block(c_in, c_out, 2 if (s > 0 and b == 0) else 1))
                c_in = c_out
        self.blocks = nn.Sequential(*blocks)
        self.out = nn.Linear(512, n_classes)

    def reset(self, generator):
        with torch.no_grad():
            for mod in self.modules():
                if isinstance(mod, nn.Conv2d):
                    fan_out = mod.weight.shape[0] * mod.weight[0, 0].numel()
                    mod.weight.normal_(0.0, math.sqrt(2.0 / fan_out), generator=generator)

    def forward(self, x):
        return self.out(self.blocks(self.stem(x)).mean(dim=(2, 3)))


TORCH_MODELS = {"cnn": TorchCNN, "resnet18": TorchResNet18}


# --------------------------------------------------------------------------- the two sides


def torch_side(name, tx, ty, vx, vy, *, epochs, batch_size, seed, device, eval_repeats):
    n, h, w = tx.shape[:3]
    model = TORCH_MODELS[name](h, w, 1, 10).to(device)
    model.reset(torch.Generator().manual_seed(seed))
    mean = float(tx.mean(dtype=np.float64) / 255.0)
    std = float(tx.std(dtype=np.float64) / 255.0) or 1.0
    steps = -(-n // batch_size)
    opt = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, betas=(0.9, 0.999), eps=1e-8,
                            weight_decay=WEIGHT_DECAY)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps * epochs, eta_min=0.0)
    rng = np.random.default_rng(seed)
    on_gpu = device != "cpu"
    x_all = torch.from_numpy(tx).to(device) if on_gpu else None
    y_all = torch.from_numpy(ty.astype(np.int64)).to(device)

    def batch(idx):
        if on_gpu:
            xb = x_all[torch.from_numpy(idx).to(device)]
        else:
            xb = torch.from_numpy(tx[idx])
        return xb.unsqueeze(1).to(torch.float32).div_(255.0).sub_(mean).div_(std)

    def sync():
        if on_gpu:
            torch.cuda.synchronize()

    seconds, loss_sum = [], None
    model.train()
    for _ in range(epochs):
        t0 = time.perf_counter()
        order = rng.permutation(n)
        loss_sum = torch.zeros((), dtype=torch.float64, device=device)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            yb = y_all[torch.from_numpy(idx).to(device)] if on_gpu else y_all[idx]
            loss = F.cross_entropy(model(batch(idx)), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            with torch.no_grad():
                loss_sum += loss.detach().double() * len(idx)
        sync()
        seconds.append(time.perf_counter() - t0)

    vx_dev = torch.from_numpy(vx).to(device) if on_gpu else None

    def run_eval():
        model.eval()
        correct = 0
        with torch.inference_mode():
            for start in range(0, len(vx), 500):
                xb = vx_dev[start : start + 500] if on_gpu else torch.from_numpy(vx[start : start + 500])
                xb = xb.unsqueeze(1).to(torch.float32).div_(255.0).sub_(mean).div_(std)
                pred = model(xb).argmax(1).cpu().numpy()
                correct += int((pred == vy[start : start + 500]).sum())
        sync()
        return correct / len(vx)

    acc = run_eval()
    t_eval = best_of(run_eval, eval_repeats)
    return {"warmup": seconds[0], "train_rate": n * (epochs - 1) / sum(seconds[1:]), "eval_rate": len(vx) / t_eval,
            "accuracy": acc, "loss": float(loss_sum) / n}


def _torch_eval_batch(x, mean, std):
    return torch.from_numpy(x).unsqueeze(1).to(torch.float32).div_(255.0).sub_(mean).div_(std)


def jax_side(name, tx, ty, vx, vy, *, epochs, batch_size, seed, devices, eval_repeats, loop):
    model = make_model(name, tx.shape[1:], 10, seed=seed)
    res = train(model, tx, ty, epochs=epochs, batch_size=batch_size, learning_rate=LEARNING_RATE,
                weight_decay=WEIGHT_DECAY, seed=seed, progress=False, pipeline=Pipeline(loop=loop, devices=devices))
    acc = evaluate(res, vx, vy)  # also compiles the evaluation
    t_eval = best_of(lambda: evaluate(res, vx, vy), eval_repeats)
    return {"warmup": res.history[0]["seconds"],
            "train_rate": len(tx) * (epochs - 1) / sum(h["seconds"] for h in res.history[1:]),
            "eval_rate": len(vx) / t_eval, "accuracy": acc, "loss": res.history[-1]["loss"]}


# --------------------------------------------------------------------------- one step alone


def _jax_step_block(name, tx, ty, *, steps, seed, devices, options):
    """A callable running ``steps`` compiled training steps of ``make_model(name)`` on one fixed batch.

    The batch (the first ``BATCH[name]`` images) is on the device already; the parameters, optimizer
    and batch-norm state are the callable's own copies (the step donates them) and carry over calls.
    """
    bs = BATCH.get(name, 128)
    model = make_model(name, tx.shape[1:], 10, seed=seed)
    cs = compiled_step(model, total_steps=10**6, learning_rate=LEARNING_RATE, weight_decay=WEIGHT_DECAY,
                       devices=devices, xla_options=options)
    params, state, optimizer, step = cs.params, cs.state, cs.optimizer, cs.step
    put = lambda a: jax.device_put(a, devices[0])
    batch = (put(tx[:bs, ..., None]), put(ty[:bs].astype(np.int32)), put(np.arange(bs, dtype=np.int32)),
             put(np.ones(bs, np.float32)), put(jnp.float32(0.286)), put(jnp.float32(0.353)))
    carry = [jax.tree_util.tree_map(jnp.copy, (put(params), put(optimizer.init(params)), put(state)))]

    def block():
        p, o, st = carry[0]
        for _ in range(steps):
            p, o, st, m = step(p, o, st, *batch)
        jax.block_until_ready(m)
        carry[0] = (p, o, st)

    return block


def step_breakdown(tx, ty, *, steps, seed, device, devices, rounds=5):
    """Median ms per CNN training step, input already on the device, frameworks interleaved."""
    bs = BATCH["cnn"]
    jax_block = _jax_step_block("cnn", tx, ty, steps=steps, seed=seed, devices=devices,
                                options=compiler_options(devices))

    tmodel = TorchCNN(tx.shape[1], tx.shape[2], 1, 10).to(device)
    tmodel.reset(torch.Generator().manual_seed(seed))
    opt = torch.optim.AdamW(tmodel.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    xb = _torch_eval_batch(tx[:bs], 0.286, 0.353).to(device)
    yb = torch.from_numpy(ty[:bs].astype(np.int64)).to(device)

    def torch_block():
        for _ in range(steps):
            loss = F.cross_entropy(tmodel(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if device != "cpu":
            torch.cuda.synchronize()

    jax_block()
    torch_block()
    times = {"jax": [], "torch": []}
    for r in range(rounds):
        pair = (("jax", jax_block), ("torch", torch_block))
        for key, fn in (pair if r % 2 == 0 else pair[::-1]):
            t0 = time.perf_counter()
            fn()
            times[key].append(1e3 * (time.perf_counter() - t0) / steps)
    return times


def options_ab(tx, ty, names, *, steps, rounds, devices, seed=0):
    """Median ms per training step compiled without and with the package's CPU compiler options.

    Both compiled steps live in one process and take turns in blocks of ``steps`` steps, so a change
    of load hits both; returns {name: (batch, [ms without], [ms with])}. See vortexnumba/learn/_xla.py.
    """
    chosen = compiler_options(devices)
    out = {}
    for name in names:
        blocks = [_jax_step_block(name, tx, ty, steps=steps, seed=seed, devices=devices, options=options)
                  for options in (None, chosen)]
        for block in blocks:
            block()  # compile and warm up
        times = ([], [])
        for r in range(rounds):
            for i in ((0, 1) if r % 2 == 0 else (1, 0)):
                t0 = time.perf_counter()
                blocks[i]()
                times[i].append(1e3 * (time.perf_counter() - t0) / steps)
        out[name] = (BATCH.get(name, 128), *times)
    return out


# --------------------------------------------------------------------------- main


def _summary(values):
    v = np.asarray(values, float)
    return f"{np.median(v):,.0f} [{v.min():,.0f}-{v.max():,.0f}]"


def _ratio(values):
    v = np.asarray(values, float)
    return f"**{np.median(v):.2f}** [{v.min():.2f}-{v.max():.2f}]"


def run(args, log):
    cores = os.cpu_count() or 1
    torch.set_num_threads(args.threads or cores)
    if args.device == "gpu":
        if jax.default_backend() != "gpu" or not torch.cuda.is_available():
            sys.exit(f"--device gpu needs a GPU for both frameworks (JAX backend {jax.default_backend()}, "
                     f"torch.cuda.is_available() = {torch.cuda.is_available()})")
        devices, tdevice = jax.devices()[:1], "cuda"
    else:
        devices, tdevice = jax.devices("cpu")[:1], "cpu"
    tx_all, ty_all, vx_all, vy_all = load("fashion-mnist")
    loads = {"start": load_average()}
    lines = []
    for name in args.models:
        n_train = args.train_images or (len(tx_all) if name == "cnn" or args.device == "gpu" else 2048)
        n_test = args.test_images or (len(vx_all) if name == "cnn" or args.device == "gpu" else 1000)
        tx, ty, vx, vy = tx_all[:n_train], ty_all[:n_train], vx_all[:n_test], vy_all[:n_test]
        bs = args.batch_size or BATCH[name]
        kw = dict(epochs=args.epochs, batch_size=bs, seed=args.seed, eval_repeats=args.eval_repeats)
        rows = {"jax": [], "torch": []}
        for r in range(args.rounds):
            first_jax = (r % 2 == 0) == (args.order == "jax-first")
            for side in (("jax", "torch") if first_jax else ("torch", "jax")):
                if side == "jax":
                    rows["jax"].append(jax_side(name, tx, ty, vx, vy, devices=devices, loop=args.loop, **kw))
                else:
                    rows["torch"].append(torch_side(name, tx, ty, vx, vy, device=tdevice, **kw))
                log(f"{name} round {r + 1} {side}: {rows[side][-1]} (load {load_average():.2f})")
        j, t = rows["jax"], rows["torch"]
        k = len(j)
        lines += [
            f"**{name}** (`make_model(\"{name}\")`, {n_params(make_model(name, tx.shape[1:], 10)):,} parameters): "
            f"Fashion-MNIST, {n_train:,} training / {n_test:,} test images (28x28 uint8), batch {bs}, "
            f"{args.epochs} epochs (epoch 1 is the warm-up), {args.rounds} rounds.",
            "",
            "| measurement | JAX (vortexnumba) | PyTorch | JAX / PyTorch per round |",
            "|---|---:|---:|---:|",
            f"| training, images/s (epochs 2..{args.epochs}) | {_summary([r['train_rate'] for r in j])} | "
            f"{_summary([r['train_rate'] for r in t])} | "
            f"{_ratio([j[i]['train_rate'] / t[i]['train_rate'] for i in range(k)])} |",
            f"| evaluation, images/s (batches of 500, best of {args.eval_repeats}) | "
            f"{_summary([r['eval_rate'] for r in j])} | {_summary([r['eval_rate'] for r in t])} | "
            f"{_ratio([j[i]['eval_rate'] / t[i]['eval_rate'] for i in range(k)])} |",
            f"| warm-up epoch, s (JAX: includes compilation) | {np.median([r['warmup'] for r in j]):.1f} | "
            f"{np.median([r['warmup'] for r in t]):.1f} | |",
            f"| test accuracy after {args.epochs} epochs | {j[-1]['accuracy']:.4f} | {t[-1]['accuracy']:.4f} | |",
            f"| training loss, epoch {args.epochs} | {j[-1]['loss']:.4f} | {t[-1]['loss']:.4f} | |",
        ]
        if name == "cnn" and args.breakdown_steps:
            times = step_breakdown(tx, ty, steps=args.breakdown_steps, seed=args.seed, device=tdevice,
                                   devices=devices)
            ratio = [b / a for a, b in zip(times["jax"], times["torch"], strict=False)]
            lines.append(f"| one step alone (batch {BATCH['cnn']}, input on the device), ms, 5 interleaved blocks | "
                         f"{np.median(times['jax']):.2f} [{min(times['jax']):.2f}-{max(times['jax']):.2f}] | "
                         f"{np.median(times['torch']):.2f} [{min(times['torch']):.2f}-{max(times['torch']):.2f}] | "
                         f"{_ratio(ratio)} (speed) |")
        lines.append("")
    if args.compare_options and args.device == "cpu":
        if compiler_options(devices) is None:
            lines += ["Compiler options: none apply here (not a CPU, an older jaxlib, or XLA_FLAGS sets the option).", ""]
        else:
            ab = options_ab(tx_all, ty_all, args.compare_options, steps=args.options_steps, rounds=args.options_rounds,
                            devices=devices, seed=args.seed)
            lines += [(f"**JAX compiler options** (vortexnumba/learn/_xla.py): one training step, ms, compiled without "
                       f"and with `{dict(compiler_options(devices))}`, {args.options_rounds} interleaved blocks of "
                       f"{args.options_steps} steps."), "",
                      "| model | batch | without | with | speed-up per block |", "|---|---:|---:|---:|---:|"]
            for name, (bs, without, with_) in ab.items():
                lines.append(f"| {name} | {bs} | {np.median(without):,.1f} [{min(without):,.1f}-{max(without):,.1f}] | "
                             f"{np.median(with_):,.1f} [{min(with_):,.1f}-{max(with_):,.1f}] | "
                             f"{_ratio([a / b for a, b in zip(without, with_, strict=False)])} |")
            lines.append("")
    loads["end"] = load_average()
    dev = jax.devices()[0] if args.device == "gpu" else devices[0]
    lines.append(
        f"Device: {args.device} ({getattr(dev, 'device_kind', str(dev))}"
        f"{', torch ' + torch.cuda.get_device_name(0) if args.device == 'gpu' else ''}). "
        f"Versions: JAX {jax.__version__}, Equinox {eqx.__version__}, PyTorch {torch.__version__}, NumPy "
        f"{np.__version__}, Python {platform.python_version()}. Threads: {cores} cores; torch.set_num_threads("
        f"{torch.get_num_threads()}); XLA_FLAGS={os.environ.get('XLA_FLAGS', '') or 'unset'}; JAX compiler options "
        f"{dict(compiler_options(devices) or ()) or 'none'}; JAX loop "
        f"{args.loop}. Load average {loads['start']:.2f} at the start, {loads['end']:.2f} at the end. "
        f"Order: {args.order} (alternating per round)."
    )
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
    if not set(args.compare_options) <= set(MODELS):
        ap.error(f"--compare-options must name models of {','.join(MODELS)}, got {args.compare_options}")
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
