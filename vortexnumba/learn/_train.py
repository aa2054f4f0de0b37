"""Training and evaluation with Optax: one compiled step, data on the device.

``train`` keeps the uint8 training set on the device when it fits (see
:mod:`._pipeline`) and hands each step only the batch's indices; the step
gathers, converts to float, runs forward, backward and the AdamW update, and
is jit-compiled once per run with its parameter, optimizer and batch-norm
buffers donated (updated in place); on the CPU with the compiler options of
:mod:`._xla` (convolutions to XLA's own kernels, 1.4x faster for the CNN). Every batch has the same shape (the last
one of an epoch is padded and the padding masked out of the loss and
accuracy; batch-norm statistics do see the padding rows). With
``loop="scan"`` a whole epoch is one compiled ``lax.scan`` over the batches.

Determinism: the initial parameters come from ``make_model(..., seed=)``, the
batch order from ``numpy.random.default_rng(seed)``; on one machine and JAX
version the same seeds give bit-identical parameters.

Several devices: when JAX sees more than one device (several GPUs, or CPU
devices from ``XLA_FLAGS=--xla_force_host_platform_device_count=N``), training
is data-parallel; the result equals single-device training up to the order
of floating-point reductions.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from .._progress import progress as _progress
from ._models import Classifier
from ._pipeline import Placement, fits_on_device
from ._xla import compiler_options

__all__ = ["TrainResult", "evaluate", "predict", "train"]

LOOPS = ("step", "scan")


@dataclass
class TrainResult:
    """What :func:`train` returns.

    Attributes
    ----------
    model : Classifier
        The trained model (an ``equinox.Module``).
    state : equinox.nn.State
        Its batch-norm statistics (empty for models without batch norm).
    mean, std : float
        The input normalisation (of pixel values in [0, 1]) used in training;
        :func:`evaluate` applies the same.
    history : list of dict
        One entry per epoch: ``epoch``, ``loss``, ``train_accuracy``, ``seconds``.
    seconds : float
        Wall time of the whole training.
    devices : tuple
        The devices the parameters live on (the batch was split over them).
    data_on_device : bool
        Whether the training set was placed on the device once.
    """

    model: Classifier
    state: object
    mean: float
    std: float
    history: list = field(default_factory=list)
    seconds: float = 0.0
    devices: tuple = ()
    data_on_device: bool = False


def _as_nhwc(x, name):
    if not isinstance(x, jax.Array):
        x = np.asarray(x)
    if x.dtype != np.uint8:
        raise TypeError(f"{name} must be a uint8 image batch, got dtype {x.dtype}")
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4:
        raise ValueError(f"{name} must have shape (B, H, W) or (B, H, W, C), got {x.shape}")
    return x


def _as_labels(y, n, n_classes, name):
    y = np.asarray(y)
    if y.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},) to match the images, got {y.shape}")
    if y.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer class numbers, got dtype {y.dtype}")
    if n and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"{name} must lie in 0..{n_classes - 1}, found {y.min()}..{y.max()}")
    return y.astype(np.int32)


def _check_model(model, x, name):
    if not isinstance(model, Classifier):
        raise TypeError(f"model must come from make_model, got {type(model).__name__}")
    if tuple(x.shape[1:]) != model.image_shape:
        raise ValueError(f"{name} images have shape {tuple(x.shape[1:])}, but the model expects {model.image_shape}")


def _pixel_stats(x):
    """One scalar mean and spread over all pixels (permuting pixels leaves them unchanged)."""
    if isinstance(x, jax.Array):
        # Exact integer sums per image, added up in float64 on the host.
        flat = x.reshape(x.shape[0], -1).astype(jnp.int32)
        s = np.asarray(flat.sum(axis=1), np.float64).sum()
        ss = np.asarray((flat * flat).sum(axis=1), np.float64).sum()
        n = float(flat.size)
        mean = s / n
        var = max(ss / n - mean * mean, 0.0)
        return float(mean / 255.0), float(np.sqrt(var) / 255.0) or 1.0
    return float(x.mean(dtype=np.float64) / 255.0), float(x.std(dtype=np.float64) / 255.0) or 1.0


def _normalise(x_uint8, mean, std):
    return (x_uint8.astype(jnp.float32) / 255.0 - mean) / std


@functools.lru_cache(maxsize=64)
def _compiled(static, learning_rate, weight_decay, total_steps, constraint, options=None):
    """The optimizer and the compiled step and epoch for one model structure and schedule.

    ``options``: XLA compiler options as a tuple of pairs (see :mod:`._xla`).
    """
    schedule = optax.cosine_decay_schedule(learning_rate, decay_steps=max(total_steps, 1))
    optimizer = optax.adamw(schedule, weight_decay=weight_decay)

    def loss_fn(params, state, x, y, mask, mean, std):
        logits, state = eqx.combine(params, static)(_normalise(x, mean, std), state)
        losses = optax.softmax_cross_entropy_with_integer_labels(logits, y)
        weight = mask.sum()
        loss_sum = (losses * mask).sum()
        correct = ((logits.argmax(-1) == y) * mask).sum()
        return loss_sum / jnp.maximum(weight, 1.0), (state, loss_sum, correct, weight)

    def one_step(params, opt_state, state, data_x, data_y, idx, mask, mean, std):
        x, y = jnp.take(data_x, idx, axis=0), jnp.take(data_y, idx, axis=0)
        if constraint is not None:
            x, y = jax.lax.with_sharding_constraint((x, y), constraint)
        (_, (state, loss_sum, correct, weight)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            params, state, x, y, mask, mean, std
        )
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, state, jnp.stack([loss_sum, correct, weight])

    def epoch(params, opt_state, state, data_x, data_y, idx, mask, mean, std):
        def body(carry, batch):
            p, o, s, m = one_step(*carry, data_x, data_y, *batch, mean, std)
            return (p, o, s), m

        (params, opt_state, state), metrics = jax.lax.scan(body, (params, opt_state, state), (idx, mask))
        return params, opt_state, state, metrics

    donate = (0, 1, 2)
    opts = dict(options) if options else None
    return (optimizer, jax.jit(one_step, donate_argnums=donate, compiler_options=opts),
            jax.jit(epoch, donate_argnums=donate, compiler_options=opts))


@functools.lru_cache(maxsize=64)
def _compiled_predict(static, options=None):
    def predict_batch(params, state, x, mean, std):
        logits, _ = eqx.combine(params, static)(_normalise(x, mean, std), state)
        return logits.argmax(-1)

    return jax.jit(predict_batch, compiler_options=dict(options) if options else None)


def _padded(order, batch_size):
    """``order`` cut into rows of ``batch_size`` (the last padded with its first index) and a 0/1 mask."""
    n_steps = -(-len(order) // batch_size)
    pad = n_steps * batch_size - len(order)
    last = order[(n_steps - 1) * batch_size] if len(order) else 0
    idx = np.concatenate([order, np.full(pad, last, dtype=order.dtype)]).astype(np.int32)
    mask = np.zeros(n_steps * batch_size, np.float32)
    mask[: len(order)] = 1.0
    return idx.reshape(n_steps, batch_size), mask.reshape(n_steps, batch_size)


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def train(
    model: Classifier,
    images,
    labels,
    *,
    epochs: int = 10,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    weight_decay: float = 1e-4,
    seed: int = 0,
    loop: str = "step",
    data_on_device: bool | None = None,
    progress: bool | None = None,
    desc: str | None = None,
    devices=None,
) -> TrainResult:
    """Train ``model`` on uint8 images with AdamW and a cosine learning-rate decay.

    Parameters
    ----------
    model : Classifier
        From :func:`make_model`; its ``image_shape`` must match the images.
    images : numpy.ndarray or jax.Array
        uint8 images ``(B, H, W)`` or ``(B, H, W, C)`` (a JAX array stays on its device).
    labels : array_like
        Integer labels ``(B,)`` in ``0..n_classes-1``.
    epochs : int
        Passes over the data.
    batch_size : int
        Images per step (the last batch of an epoch is padded and masked).
    learning_rate, weight_decay : float
        AdamW's peak rate (decayed to 0 along a cosine) and decoupled decay.
    seed : int
        Seeds the batch order (the initial weights come from ``make_model``).
    loop : {"step", "scan"}
        ``"step"``: one compiled call per batch, with a progress bar per
        batch; ``"scan"``: one compiled call per epoch (``lax.scan``), with a
        bar per epoch. Same numbers either way (to float rounding). On XLA's
        CPU backend the scanned epoch measured about ten times slower, so
        ``"step"`` is the default; ``"scan"`` removes per-step dispatch on an
        accelerator.
    data_on_device : bool, optional
        Place the training set on the device(s) once and cut batches there;
        default: when it fits (:func:`fits_on_device`). ``False`` cuts each
        batch on the host and copies it (``loop="step"`` only).
    progress : bool, optional
        Show a progress bar; default only when stderr is a terminal.
    desc : str, optional
        Label of the progress bar.
    devices : sequence of jax.Device, optional
        Devices to train on, data-parallel; default all that JAX sees. The
        batch size is rounded up to a multiple of their number.

    Returns
    -------
    TrainResult

    Examples
    --------
    >>> from vortexnumba.data import load
    >>> from vortexnumba.learn import make_model, train, evaluate
    >>> tx, ty, vx, vy = load("digits")
    >>> result = train(make_model("mlp", tx.shape[1:], 10), tx, ty, epochs=2, progress=False)
    >>> 0.5 < evaluate(result, vx, vy) <= 1.0
    True
    """
    x = _as_nhwc(images, "images")
    _check_model(model, x, "images")
    y = _as_labels(labels, len(x), model.n_classes, "labels")
    epochs = _positive_int(epochs, "epochs")
    batch_size = _positive_int(batch_size, "batch_size")
    if loop not in LOOPS:
        raise ValueError(f"loop must be one of {', '.join(LOOPS)}, got {loop!r}")
    if len(x) == 0:
        raise ValueError("images must hold at least one image")
    place = Placement(devices)
    batch_size = min(batch_size, len(x))
    batch_size = -(-batch_size // place.count) * place.count  # whole rows for every device
    if data_on_device is None:
        data_on_device = isinstance(x, jax.Array) or fits_on_device(x.nbytes + y.nbytes, place.devices)
    if not data_on_device and loop == "scan":
        raise ValueError("loop='scan' needs the data on the device (data_on_device=True)")
    rng = np.random.default_rng(seed)
    mean, std = _pixel_stats(x)
    steps_per_epoch = -(-len(x) // batch_size)

    state = eqx.nn.State(model)
    params, static = eqx.partition(eqx.nn.delete_init_state(model), eqx.is_inexact_array)
    optimizer, step, epoch_fn = _compiled(static, float(learning_rate), float(weight_decay),
                                          steps_per_epoch * epochs, place.constraint,
                                          compiler_options(place.devices))
    # Fresh copies: the step donates (overwrites) its buffers, and the caller's model must survive.
    params, state = jax.tree_util.tree_map(jnp.copy, place.replicate((params, state)))
    opt_state = place.replicate(optimizer.init(params))
    mean_j, std_j = place.replicate((jnp.float32(mean), jnp.float32(std)))
    if data_on_device:
        data_x, data_y = place.replicate((x, y))
    history = []
    t_start = time.perf_counter()
    label = f"{desc} " if desc else ""
    for ep in range(1, epochs + 1):
        t0 = time.perf_counter()
        idx, mask = _padded(rng.permutation(len(x)), batch_size)
        if loop == "scan":
            with _progress(1, f"{label}epoch {ep}/{epochs}", unit="epoch", enabled=progress) as bar:
                params, opt_state, state, metrics = epoch_fn(params, opt_state, state, data_x, data_y,
                                                             *_split_rows(place, idx, mask), mean_j, std_j)
                totals = np.asarray(metrics, np.float64).sum(axis=0)
                bar.update(1)
        else:
            totals = np.zeros(3)
            pending = []
            with _progress(steps_per_epoch, f"{label}epoch {ep}/{epochs}", unit="batch", enabled=progress) as bar:
                for i in range(steps_per_epoch):
                    if data_on_device:
                        batch = (data_x, data_y, *place.split(idx[i], mask[i]))
                    else:
                        rows = idx[i]
                        batch = (*place.split(x[rows], y[rows]), *place.split(np.arange(batch_size, dtype=np.int32),
                                                                             mask[i]))
                    params, opt_state, state, m = step(params, opt_state, state, *batch, mean_j, std_j)
                    pending.append(m)
                    # Reading values back forces a sync; do it only now and then.
                    if i % 20 == 19 or i == steps_per_epoch - 1:
                        totals += np.asarray(jnp.stack(pending), np.float64).sum(axis=0)
                        pending.clear()
                        if not bar.disable:
                            bar.set_postfix(loss=f"{totals[0] / totals[2]:.4f}", acc=f"{totals[1] / totals[2]:.4f}",
                                            refresh=False)
                    bar.update(1)
        history.append({"epoch": ep, "loss": totals[0] / totals[2], "train_accuracy": totals[1] / totals[2],
                        "seconds": time.perf_counter() - t0})
    jax.block_until_ready(params)
    trained = eqx.combine(params, static)
    return TrainResult(model=trained, state=state, mean=mean, std=std, history=history,
                       seconds=time.perf_counter() - t_start, devices=place.devices, data_on_device=data_on_device)


def _split_rows(place, idx, mask):
    """(steps, B) index and mask rows, each row split over the devices along B."""
    if place.count == 1:
        return jax.device_put(idx), jax.device_put(mask)
    spec = jax.sharding.NamedSharding(place.batch.mesh, jax.sharding.PartitionSpec(None, "data"))
    return jax.device_put(idx, spec), jax.device_put(mask, spec)


def _as_result(result):
    if not isinstance(result, TrainResult):
        raise TypeError(f"result must be the TrainResult of train(), got {type(result).__name__}")
    return result


def predict(result: TrainResult, images, *, batch_size: int = 500) -> np.ndarray:
    """Class predictions ``(B,)`` for uint8 ``images`` with a trained model.

    Parameters
    ----------
    result : TrainResult
        From :func:`train`.
    images : numpy.ndarray or jax.Array
        uint8 images shaped like the training images.
    batch_size : int
        Images per compiled call.

    Returns
    -------
    numpy.ndarray
        int64 class numbers.

    Examples
    --------
    >>> from vortexnumba.data import load
    >>> from vortexnumba.learn import make_model, train, predict
    >>> tx, ty, vx, vy = load("digits")
    >>> result = train(make_model("mlp", tx.shape[1:], 10), tx, ty, epochs=1, progress=False)
    >>> predict(result, vx[:3]).shape
    (3,)
    """
    result = _as_result(result)
    x = _as_nhwc(images, "images")
    _check_model(result.model, x, "images")
    batch_size = _positive_int(batch_size, "batch_size")
    params, static = eqx.partition(eqx.nn.inference_mode(result.model), eqx.is_inexact_array)
    place = Placement(result.devices or None)
    fn = _compiled_predict(static, compiler_options(place.devices))
    params, state = place.replicate((params, result.state))
    mean, std = place.replicate((jnp.float32(result.mean), jnp.float32(result.std)))
    out = np.empty(len(x), np.int64)
    bs = min(batch_size, max(len(x), 1))
    bs = -(-bs // place.count) * place.count
    if len(x) == 0:
        return out
    idx, mask = _padded(np.arange(len(x)), bs)
    for row, m in zip(idx, mask):
        n_real = int(m.sum())
        xb = x[row] if not isinstance(x, jax.Array) else jnp.take(x, jnp.asarray(row), axis=0)
        (xb,) = place.split(xb)
        start = int(row[0])
        out[start : start + n_real] = np.asarray(fn(params, state, xb, mean, std))[:n_real]
    return out


def evaluate(result: TrainResult, images, labels, *, batch_size: int = 500) -> float:
    """Fraction of ``images`` whose predicted class equals ``labels``.

    Parameters
    ----------
    result : TrainResult
        From :func:`train`.
    images : numpy.ndarray or jax.Array
        uint8 images shaped like the training images.
    labels : array_like
        Integer labels ``(B,)``.
    batch_size : int
        Images per compiled call.

    Returns
    -------
    float
        Accuracy in [0, 1].

    Examples
    --------
    >>> from vortexnumba.data import load
    >>> from vortexnumba.learn import make_model, train, evaluate
    >>> tx, ty, vx, vy = load("digits")
    >>> result = train(make_model("cnn", tx.shape[1:], 10), tx, ty, epochs=3, progress=False)
    >>> evaluate(result, vx, vy) > 0.8
    True
    """
    result = _as_result(result)
    x = _as_nhwc(images, "images")
    y = _as_labels(labels, len(x), result.model.n_classes, "labels")
    if len(x) == 0:
        raise ValueError("images must hold at least one image")
    return float((predict(result, x, batch_size=batch_size) == y).mean())
