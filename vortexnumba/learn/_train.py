"""Training and evaluation of the small classifiers with Optax.

Batches are cut from uint8 NumPy arrays as training goes (only one batch at a
time is converted to float, on the device), so encrypted copies of a data set
cost no more memory than the uint8 arrays themselves. One jit-compiled step
does forward, backward and the AdamW update; every batch has the same shape
(the last one is padded and the padding masked out of the loss), so a model
compiles once per run and once more for evaluation.

Determinism: parameters come from ``jax.random.PRNGKey(seed)`` and the batch
order from ``numpy.random.default_rng(seed)``; on one machine and JAX version
the same seed gives bit-identical parameters. When JAX sees a GPU the same
code runs there.

Several devices: when JAX sees more than one device (several GPUs, or CPU
devices from ``XLA_FLAGS=--xla_force_host_platform_device_count=N``), training
is data-parallel. Each batch is split along its first axis over a one-axis
device mesh (``jax.sharding``), parameters and optimizer state are replicated,
and the compiler inserts the gradient all-reduce. The result equals
single-device training up to the order of floating-point reductions.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ._models import Model

__all__ = ["TrainResult", "evaluate", "predict", "train"]


@dataclass
class TrainResult:
    """What ``train`` returns.

    Attributes
    ----------
    params : pytree
        The trained parameters.
    mean, std : float
        The input normalisation (of pixel values in [0, 1]) used in training;
        ``evaluate`` needs the same.
    history : list of dict
        One entry per epoch: ``epoch``, ``loss``, ``train_accuracy``, ``seconds``.
    seconds : float
        Wall time of the whole training.
    devices : tuple
        The devices the parameters live on (the batch was split over them).
    """

    params: object
    mean: float
    std: float
    history: list = field(default_factory=list)
    seconds: float = 0.0
    devices: tuple = ()


def _as_nhwc(x, name):
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


def _normalise(x_uint8, mean, std):
    return (x_uint8.astype(jnp.float32) / 255.0 - mean) / std


class _Placement:
    """Where arrays go: batches split over the devices, everything else replicated."""

    def __init__(self, devices):
        if devices is None:
            devices = jax.devices()
        devices = tuple(devices)
        if not devices or not all(isinstance(d, jax.Device) for d in devices):
            raise TypeError(f"devices must be a non-empty sequence of jax devices, got {devices!r}")
        self.devices = devices
        mesh = jax.sharding.Mesh(np.array(devices), ("data",))
        self.batch = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("data"))
        self.replicated = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())

    @property
    def count(self) -> int:
        return len(self.devices)

    def split(self, *arrays):
        return tuple(jax.device_put(a, self.batch) for a in arrays)

    def replicate(self, tree):
        return jax.device_put(tree, self.replicated)


@functools.lru_cache(maxsize=None)
def _compiled_step(model: Model, learning_rate: float, weight_decay: float, total_steps: int):
    schedule = optax.cosine_decay_schedule(learning_rate, decay_steps=max(total_steps, 1))
    optimizer = optax.adamw(schedule, weight_decay=weight_decay)

    def loss_fn(params, x, y, mask, mean, std):
        logits = model.apply(params, _normalise(x, mean, std))
        losses = optax.softmax_cross_entropy_with_integer_labels(logits, y)
        weight = mask.sum()
        loss = (losses * mask).sum() / jnp.maximum(weight, 1.0)
        correct = ((logits.argmax(-1) == y) * mask).sum()
        return loss, (correct, weight, (losses * mask).sum())

    @jax.jit
    def step(params, opt_state, x, y, mask, mean, std):
        (_, (correct, weight, loss_sum)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            params, x, y, mask, mean, std
        )
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        return params, opt_state, loss_sum, correct, weight

    return optimizer, step


@functools.lru_cache(maxsize=None)
def _compiled_predict(model: Model):
    @jax.jit
    def predict_batch(params, x, mean, std):
        return model.apply(params, _normalise(x, mean, std)).argmax(-1)

    return predict_batch


def _padded_batches(order, batch_size):
    """Yield (indices, n_real) with every index array exactly ``batch_size`` long."""
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        n_real = len(idx)
        if n_real < batch_size:
            idx = np.concatenate([idx, np.full(batch_size - n_real, idx[0] if n_real else 0, dtype=idx.dtype)])
        yield idx, n_real


def train(
    model: Model,
    train_x,
    train_y,
    *,
    epochs: int = 10,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    weight_decay: float = 1e-4,
    seed: int = 0,
    progress: bool = True,
    desc: str | None = None,
    devices=None,
) -> TrainResult:
    """Train ``model`` on uint8 images with AdamW and a cosine learning-rate decay.

    Parameters
    ----------
    model : Model
        From ``make_model``; its ``input_shape`` must match the images.
    train_x : numpy.ndarray
        uint8 images ``(B, H, W)`` or ``(B, H, W, C)``.
    train_y : numpy.ndarray
        Integer labels ``(B,)`` in ``0..n_classes-1``.
    epochs : int
        Passes over the data.
    batch_size : int
        Images per step (the last batch of an epoch is padded and masked).
    learning_rate, weight_decay : float
        AdamW's peak rate (decayed to 0 along a cosine) and decoupled decay.
    seed : int
        Seeds the initial parameters and the batch order.
    progress : bool
        Show a progress bar per epoch with the running loss and accuracy.
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
    >>> from vortexnumba.learn._models import make_model
    >>> tx, ty, vx, vy = load("digits")
    >>> m = make_model("mlp", tx.shape[1:], 10)
    >>> res = train(m, tx, ty, epochs=2, progress=False)
    >>> 0.0 <= evaluate(m, res, vx, vy) <= 1.0
    True
    """
    x = _as_nhwc(train_x, "train_x")
    if x.shape[1:] != model.input_shape:
        raise ValueError(f"train_x images have shape {x.shape[1:]}, but the model expects {model.input_shape}")
    y = _as_labels(train_y, len(x), model.n_classes, "train_y")
    for value, name in ((epochs, "epochs"), (batch_size, "batch_size")):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if len(x) == 0:
        raise ValueError("train_x must hold at least one image")
    place = _Placement(devices)
    batch_size = int(min(batch_size, len(x)))
    batch_size = -(-batch_size // place.count) * place.count  # whole rows for every device
    rng = np.random.default_rng(seed)
    # One scalar mean and spread over all pixels: permuting pixels leaves them unchanged.
    mean = float(x.mean(dtype=np.float64) / 255.0)
    std = float(x.std(dtype=np.float64) / 255.0) or 1.0
    steps_per_epoch = -(-len(x) // batch_size)
    optimizer, step = _compiled_step(model, float(learning_rate), float(weight_decay), steps_per_epoch * int(epochs))
    params = place.replicate(model.init(jax.random.PRNGKey(seed)))
    opt_state = place.replicate(optimizer.init(params))
    mean_j, std_j = place.replicate((jnp.float32(mean), jnp.float32(std)))
    history = []
    t_start = time.perf_counter()
    if progress:
        from tqdm.auto import tqdm
    for epoch in range(1, int(epochs) + 1):
        t0 = time.perf_counter()
        order = rng.permutation(len(x))
        bar = None
        if progress:
            label = f"{desc + ' ' if desc else ''}epoch {epoch}/{epochs}"
            bar = tqdm(total=steps_per_epoch, desc=label, leave=False, unit="batch")
        loss_sum, correct, seen = 0.0, 0.0, 0.0
        pending = []
        for i, (idx, n_real) in enumerate(_padded_batches(order, batch_size)):
            mask = np.zeros(batch_size, np.float32)
            mask[:n_real] = 1.0
            xb, yb, mb = place.split(x[idx], y[idx], mask)
            params, opt_state, l_sum, c, w = step(params, opt_state, xb, yb, mb, mean_j, std_j)
            pending.append((l_sum, c, w))
            # Reading values back forces a sync; do it only now and then.
            if bar is not None and (i % 20 == 19 or i == steps_per_epoch - 1):
                for l_sum, c, w in pending:
                    loss_sum, correct, seen = loss_sum + float(l_sum), correct + float(c), seen + float(w)
                pending.clear()
                bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.4f}", refresh=False)
            if bar is not None:
                bar.update(1)
        for l_sum, c, w in pending:
            loss_sum, correct, seen = loss_sum + float(l_sum), correct + float(c), seen + float(w)
        if bar is not None:
            bar.close()
        history.append(
            {
                "epoch": epoch,
                "loss": loss_sum / seen,
                "train_accuracy": correct / seen,
                "seconds": time.perf_counter() - t0,
            }
        )
    jax.block_until_ready(params)
    return TrainResult(params=params, mean=mean, std=std, history=history, seconds=time.perf_counter() - t_start,
                       devices=place.devices)


def predict(model: Model, result: TrainResult, images, *, batch_size: int = 500) -> np.ndarray:
    """Class predictions ``(B,)`` for uint8 ``images`` with trained parameters."""
    x = _as_nhwc(images, "images")
    if x.shape[1:] != model.input_shape:
        raise ValueError(f"images have shape {x.shape[1:]}, but the model expects {model.input_shape}")
    fn = _compiled_predict(model)
    place = _Placement(result.devices or None)
    params = place.replicate(result.params)
    out = np.empty(len(x), np.int64)
    bs = int(min(batch_size, max(len(x), 1)))
    bs = -(-bs // place.count) * place.count
    order = np.arange(len(x))
    mean, std = place.replicate((jnp.float32(result.mean), jnp.float32(result.std)))
    for start, (idx, n_real) in zip(range(0, len(x), bs), _padded_batches(order, bs)):
        (xb,) = place.split(x[idx])
        out[start : start + n_real] = np.asarray(fn(params, xb, mean, std))[:n_real]
    return out


def evaluate(model: Model, result: TrainResult, images, labels, *, batch_size: int = 500) -> float:
    """Fraction of ``images`` whose predicted class equals ``labels``.

    Parameters
    ----------
    model : Model
    result : TrainResult
        From ``train``.
    images : numpy.ndarray
        uint8 images shaped like the training images.
    labels : numpy.ndarray
        Integer labels ``(B,)``.
    batch_size : int
        Images per compiled call.

    Returns
    -------
    float
        Accuracy in [0, 1].
    """
    x = _as_nhwc(images, "images")
    y = _as_labels(labels, len(x), model.n_classes, "labels")
    if len(x) == 0:
        raise ValueError("images must hold at least one image")
    return float((predict(model, result, x, batch_size=batch_size) == y).mean())
