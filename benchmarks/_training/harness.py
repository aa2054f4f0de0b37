"""What is timed: one framework's training and evaluation, one training step alone, the options A/B.

Both frameworks: AdamW (lr ``LEARNING_RATE``, decoupled weight decay
``WEIGHT_DECAY``) with a cosine decay to 0, a permutation from
``numpy.random.default_rng(seed)`` per epoch, uint8 images normalised by one
scalar mean and spread. The JAX side is ``vortexnumba.learn`` called as a user
calls it; its bare step comes from :func:`vortexnumba.learn.compiled_step`.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np
import torch
import torch.nn.functional as F
from _timing import best_of

from vortexnumba.learn import Pipeline, adamw_cosine, compiled_step, evaluate, make_model, train
from vortexnumba.learn._xla import compiler_options

from .torch_models import TORCH_MODELS, TorchCNN

__all__ = ["BATCH", "LEARNING_RATE", "WEIGHT_DECAY", "jax_side", "options_ab", "step_breakdown", "torch_side"]

LEARNING_RATE = 1e-3
WEIGHT_DECAY = 1e-4
BATCH = {"cnn": 128, "resnet18": 64}
#: A stand-in normalisation for the one-step timings (Fashion-MNIST's pixel mean and spread).
STEP_MEAN, STEP_STD = 0.286, 0.353
#: Schedule length of the one-step timings: long enough that the rate stays at its peak while timed.
STEP_SCHEDULE = 10**6


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
    res = train(model, tx, ty, epochs=epochs, batch_size=batch_size,
                optimizer=adamw_cosine(LEARNING_RATE, WEIGHT_DECAY), seed=seed, progress=False,
                pipeline=Pipeline(loop=loop, devices=devices))
    acc = evaluate(res, vx, vy)  # also compiles the evaluation
    t_eval = best_of(lambda: evaluate(res, vx, vy), eval_repeats)
    return {"warmup": res.history[0]["seconds"],
            "train_rate": len(tx) * (epochs - 1) / sum(h["seconds"] for h in res.history[1:]),
            "eval_rate": len(vx) / t_eval, "accuracy": acc, "loss": res.history[-1]["loss"]}


def _jax_step_block(name, tx, ty, *, steps, seed, devices, options):
    """A callable running ``steps`` compiled training steps of ``make_model(name)`` on one fixed batch.

    The batch (the first ``BATCH[name]`` images) is on the device already; the parameters, optimizer
    and batch-norm state are the callable's own copies (the step donates them) and carry over calls.
    """
    bs = BATCH.get(name, 128)
    model = make_model(name, tx.shape[1:], 10, seed=seed)
    cs = compiled_step(model, total_steps=STEP_SCHEDULE, optimizer=adamw_cosine(LEARNING_RATE, WEIGHT_DECAY),
                       devices=devices, xla_options=options)
    params, state, optimizer, step = cs.params, cs.state, cs.optimizer, cs.step

    def put(a):
        return jax.device_put(a, devices[0])

    batch = (put(tx[:bs, ..., None]), put(ty[:bs].astype(np.int32)), put(np.arange(bs, dtype=np.int32)),
             put(np.ones(bs, np.float32)), put(jnp.float32(STEP_MEAN)), put(jnp.float32(STEP_STD)))
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
    xb = _torch_eval_batch(tx[:bs], STEP_MEAN, STEP_STD).to(device)
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
