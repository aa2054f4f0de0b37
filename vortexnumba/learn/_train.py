"""Training and evaluation with Optax: one compiled step, data on the device.

``train`` keeps the uint8 training set on the device when it fits (see
:mod:`._pipeline`) and hands each step only the batch's indices; the step
gathers, converts to float, runs forward, backward and the optimizer's update
(by default AdamW with a cosine decay, :func:`adamw_cosine`; any
``optax.GradientTransformation``),
and is jit-compiled once per model structure and optimizer with its
parameter, optimizer and batch-norm buffers donated (updated in place); on
the CPU with the compiler options of :mod:`._xla` (convolutions to XLA's own
kernels). Every batch has the same shape (the last one of an epoch is padded
and the padding masked out of the loss and accuracy; batch-norm statistics do
see the padding rows). With ``Pipeline(loop="scan")`` a whole epoch is one
compiled ``lax.scan`` over the batches.

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
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from .._progress import progress as _progress
from .._validate import as_positive_float, as_seed
from ._checks import positive_int
from ._layers import Classifier
from ._pipeline import Pipeline, Placement, fits_on_device
from ._xla import compiler_options

__all__ = ["AdamWCosine", "CompiledStep", "TrainResult", "adamw_cosine", "compiled_step", "default_optimizer",
           "evaluate", "predict", "train"]

#: AdamW's moment decay rates and epsilon (Optax's defaults, PyTorch's too).
ADAMW_B1, ADAMW_B2, ADAMW_EPS = 0.9, 0.999, 1e-8


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
    optimizer : dict
        What was optimised with: for :func:`adamw_cosine` (the default), ``name`` ``"adamw"``,
        ``learning_rate``, ``weight_decay``, ``schedule``, ``decay_steps``,
        ``b1``, ``b2``, ``eps``; for an optimizer of the caller's, ``name``
        ``"custom"`` and the ``init`` function's qualified name.
    """

    model: Classifier
    state: object
    mean: float
    std: float
    history: list = field(default_factory=list)
    seconds: float = 0.0
    devices: tuple = ()
    data_on_device: bool = False
    optimizer: dict = field(default_factory=dict)


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
    if x is not None and tuple(x.shape[1:]) != model.image_shape:
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


def default_optimizer(learning_rate: float, weight_decay: float, total_steps: int) -> optax.GradientTransformation:
    """AdamW with a cosine decay of the learning rate from ``learning_rate`` to 0 over ``total_steps``.

    What ``adamw_cosine(learning_rate, weight_decay).build(total_steps)``
    gives: the optimizer :func:`train` uses unless it is given an Optax one.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> opt = default_optimizer(1e-3, 1e-4, 100)
    >>> state = opt.init({"w": jnp.zeros(3)})
    """
    schedule = optax.cosine_decay_schedule(learning_rate, decay_steps=max(total_steps, 1))
    return optax.adamw(schedule, b1=ADAMW_B1, b2=ADAMW_B2, eps=ADAMW_EPS, weight_decay=weight_decay)


@dataclass(frozen=True)
class AdamWCosine:
    """The default optimizer of :func:`train` as plain data: AdamW whose rate decays along a cosine to 0.

    The number of steps is only known once :func:`train` has cut the data into
    batches, so this holds the settings and :meth:`build` makes the
    ``optax.GradientTransformation`` (:func:`default_optimizer`). Build one
    with :func:`adamw_cosine`, which checks the numbers.

    Attributes
    ----------
    learning_rate : float
        The peak rate (finite, > 0).
    weight_decay : float
        AdamW's decoupled weight decay (finite, >= 0).
    """

    learning_rate: float = 1e-3
    weight_decay: float = 1e-4

    def __post_init__(self) -> None:
        object.__setattr__(self, "learning_rate", as_positive_float(self.learning_rate, "learning_rate"))
        object.__setattr__(self, "weight_decay",
                           as_positive_float(self.weight_decay, "weight_decay", inclusive=True))

    def build(self, total_steps: int) -> optax.GradientTransformation:
        """The Optax optimizer for a training of ``total_steps`` steps.

        Examples
        --------
        >>> import jax.numpy as jnp
        >>> state = adamw_cosine(1e-3).build(100).init({"w": jnp.zeros(3)})
        """
        return default_optimizer(self.learning_rate, self.weight_decay, positive_int(total_steps, "total_steps"))


def adamw_cosine(learning_rate: float = 1e-3, weight_decay: float = 1e-4) -> AdamWCosine:
    """AdamW with a cosine decay of the rate from ``learning_rate`` to 0 over all steps: the default of :func:`train`.

    Parameters
    ----------
    learning_rate : float
        The peak rate (finite, > 0).
    weight_decay : float
        Decoupled weight decay (finite, >= 0).

    Returns
    -------
    AdamWCosine
        Pass it as ``optimizer=`` to :func:`train` or :func:`compiled_step`.

    Examples
    --------
    >>> adamw_cosine(2e-3, weight_decay=0.0)
    AdamWCosine(learning_rate=0.002, weight_decay=0.0)
    >>> adamw_cosine(0.0)
    Traceback (most recent call last):
    ...
    ValueError: learning_rate must be a finite number > 0, got 0.0
    """
    return AdamWCosine(learning_rate, weight_decay)


def _describe_optimizer(spec) -> dict:
    if isinstance(spec, tuple) and spec and spec[0] == "adamw-cosine":
        _, lr, wd, total = spec
        return {"name": "adamw", "learning_rate": lr, "weight_decay": wd, "schedule": "cosine decay to 0",
                "decay_steps": max(total, 1), "b1": ADAMW_B1, "b2": ADAMW_B2, "eps": ADAMW_EPS}
    init = getattr(spec, "init", None)
    where = f"{getattr(init, '__module__', '?')}.{getattr(init, '__qualname__', type(init).__name__)}"
    return {"name": "custom", "type": type(spec).__name__, "init": where}


@functools.lru_cache(maxsize=64)
def _compiled(static, spec, constraint, options=None):
    """The optimizer and the compiled step and epoch for one model structure and optimizer.

    ``spec``: ``("adamw-cosine", learning_rate, weight_decay, total_steps)``
    for the default optimizer (cached by value), or the caller's
    ``optax.GradientTransformation`` (cached by identity). ``options``: XLA
    compiler options as a tuple of pairs (see :mod:`._xla`).
    """
    optimizer = default_optimizer(*spec[1:]) if isinstance(spec, tuple) and spec[0] == "adamw-cosine" else spec

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


def _as_optimizer(optimizer):
    if optimizer is None:
        return AdamWCosine()
    if not isinstance(optimizer, (AdamWCosine, optax.GradientTransformation)):
        raise TypeError("optimizer must be adamw_cosine(...), an optax.GradientTransformation or None, "
                        f"got {type(optimizer).__name__}")
    return optimizer


def _optimizer_spec(optimizer, total_steps):
    """What :func:`_compiled` caches on: the default's settings by value, the caller's optimizer by identity."""
    if isinstance(optimizer, AdamWCosine):
        return ("adamw-cosine", optimizer.learning_rate, optimizer.weight_decay, int(total_steps))
    return optimizer


@dataclass(frozen=True)
class CompiledStep:
    """One compiled training step and what it needs (:func:`compiled_step`).

    Attributes
    ----------
    optimizer : optax.GradientTransformation
        The optimizer the step applies; ``optimizer.init(params)`` gives its state.
    step : callable
        ``step(params, opt_state, state, data_x, data_y, idx, mask, mean, std)
        -> (params, opt_state, state, metrics)``: gathers the batch
        ``data_x[idx]`` (uint8, NHWC) and ``data_y[idx]`` on the device,
        normalises it with ``mean`` and ``std``, and applies one update;
        ``mask`` (float, 1 for real rows) weights the loss; ``metrics`` holds
        the masked loss sum, the number correct and the weight. The first
        three arguments are donated (overwritten).
    epoch : callable
        The same over ``(steps, B)`` rows of ``idx`` and ``mask`` in one ``lax.scan``.
    params, static : pytree
        The model split by ``equinox.partition`` into its arrays (fresh
        copies, which the step may overwrite) and the rest.
    state : equinox.nn.State
        The model's batch-norm state.
    """

    optimizer: optax.GradientTransformation
    step: object
    epoch: object
    params: object
    static: object
    state: object


def compiled_step(
    model: Classifier,
    *,
    total_steps: int,
    optimizer: AdamWCosine | optax.GradientTransformation | None = None,
    devices: Any = None,
    xla_options: Any = "auto",
) -> CompiledStep:
    """The compiled training step :func:`train` runs, for timing it or driving it by hand.

    Parameters
    ----------
    model : Classifier
        From :func:`make_model`.
    total_steps : int
        Length of the cosine schedule of :func:`adamw_cosine` (unused with an Optax optimizer).
    optimizer : AdamWCosine or optax.GradientTransformation, optional
        :func:`adamw_cosine` with its settings (the default: ``adamw_cosine()``),
        or any Optax optimizer.
    devices : sequence of jax.Device, optional
        Where the step will run (for the compiler options); default all JAX sees.
    xla_options : "auto", None or tuple of (str, str)
        XLA compiler options: ``"auto"`` those :func:`train` uses on these
        devices (:mod:`vortexnumba.learn._xla`), None none, or the pairs given.

    Returns
    -------
    CompiledStep

    Examples
    --------
    >>> import numpy as np, jax.numpy as jnp
    >>> from vortexnumba.learn import compiled_step, make_model
    >>> cs = compiled_step(make_model("mlp", (4, 4), 3), total_steps=10)
    >>> x = jnp.zeros((8, 4, 4, 1), jnp.uint8); y = jnp.zeros(8, jnp.int32)
    >>> p, o, s, m = cs.step(cs.params, cs.optimizer.init(cs.params), cs.state, x, y,
    ...                      jnp.arange(4, dtype=jnp.int32), jnp.ones(4), jnp.float32(0.5), jnp.float32(0.3))
    >>> float(m[2])
    4.0
    """
    _check_model(model, None, "images")
    spec = _optimizer_spec(_as_optimizer(optimizer), positive_int(total_steps, "total_steps"))
    devices = tuple(jax.devices() if devices is None else devices)
    options = compiler_options(devices) if xla_options == "auto" else (None if xla_options is None
                                                                       else tuple(map(tuple, xla_options)))
    state = eqx.nn.State(model)
    params, static = eqx.partition(eqx.nn.delete_init_state(model), eqx.is_inexact_array)
    opt, step, epoch = _compiled(static, spec, None, options)
    params, state = jax.tree_util.tree_map(jnp.copy, (params, state))  # the step donates them; the model's stay
    return CompiledStep(optimizer=opt, step=step, epoch=epoch, params=params, static=static, state=state)


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


def train(
    model: Classifier,
    images: Any,
    labels: Any,
    *,
    epochs: int = 10,
    batch_size: int = 128,
    optimizer: AdamWCosine | optax.GradientTransformation | None = None,
    seed: int | np.random.SeedSequence = 0,
    progress: bool | str | None = None,
    pipeline: Pipeline | None = None,
) -> TrainResult:
    """Train ``model`` on uint8 images, by default with AdamW and a cosine learning-rate decay.

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
    optimizer : AdamWCosine or optax.GradientTransformation, optional
        :func:`adamw_cosine` with its peak rate and weight decay (the rate
        decays to 0 along a cosine over all steps; the default is
        ``adamw_cosine()``: 1e-3 and 1e-4), or any Optax optimizer (its own
        schedule included).
    seed : int
        Seeds the batch order (the initial weights come from ``make_model``).
    progress : bool or str, optional
        Show a progress bar: ``True`` always, ``False`` never, ``None`` (the
        default) only when stderr is a terminal; a string does as ``None``
        and labels the bar.
    pipeline : Pipeline, optional
        The loop (per batch or per epoch), where batches are cut and on
        which devices (:class:`Pipeline`; default ``Pipeline()``).

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
    >>> result.optimizer["name"], result.optimizer["decay_steps"]
    ('adamw', 24)
    >>> faster = train(make_model("mlp", tx.shape[1:], 10), tx, ty, epochs=1, progress=False,
    ...                optimizer=adamw_cosine(learning_rate=3e-3, weight_decay=0.0))
    >>> faster.optimizer["learning_rate"]
    0.003
    """
    epochs = positive_int(epochs, "epochs")
    batch_size = positive_int(batch_size, "batch_size")
    seed = as_seed(seed)
    optimizer = _as_optimizer(optimizer)
    if progress is not None and not isinstance(progress, (bool, str)):
        raise TypeError(f"progress must be True, False, None or a label, got {type(progress).__name__}")
    pipeline = Pipeline() if pipeline is None else pipeline
    if not isinstance(pipeline, Pipeline):
        raise TypeError(f"pipeline must be a vortexnumba.learn.Pipeline or None, got {type(pipeline).__name__}")
    x = _as_nhwc(images, "images")
    _check_model(model, x, "images")
    y = _as_labels(labels, len(x), model.n_classes, "labels")
    if len(x) == 0:
        raise ValueError("images must hold at least one image")
    place = Placement(pipeline.devices)
    batch_size = min(batch_size, len(x))
    batch_size = -(-batch_size // place.count) * place.count  # whole rows for every device
    data_on_device = pipeline.data_on_device
    if data_on_device is None:
        data_on_device = isinstance(x, jax.Array) or fits_on_device(x.nbytes + y.nbytes, place.devices)
    steps_per_epoch = -(-len(x) // batch_size)
    spec = _optimizer_spec(optimizer, steps_per_epoch * epochs)
    label, enabled = (f"{progress} ", None) if isinstance(progress, str) else ("", progress)
    loop = _Loop(place, data_on_device, pipeline.loop, batch_size, label, enabled)
    state = eqx.nn.State(model)
    params, static = eqx.partition(eqx.nn.delete_init_state(model), eqx.is_inexact_array)
    optimizer_, step, epoch_fn = _compiled(static, spec, place.constraint, compiler_options(place.devices))
    # Fresh copies: the step donates (overwrites) its buffers, and the caller's model must survive.
    params, state = jax.tree_util.tree_map(jnp.copy, place.replicate((params, state)))
    carry = (params, place.replicate(optimizer_.init(params)), state)
    mean, std = _pixel_stats(x)
    consts = place.replicate((jnp.float32(mean), jnp.float32(std)))
    data = place.replicate((x, y)) if data_on_device else (x, y)
    rng = np.random.default_rng(seed)
    history = []
    t_start = time.perf_counter()
    for ep in range(1, epochs + 1):
        t0 = time.perf_counter()
        idx, mask = _padded(rng.permutation(len(x)), batch_size)
        desc = f"{label}epoch {ep}/{epochs}"
        if pipeline.loop == "scan":
            carry, totals = loop.scan_epoch(epoch_fn, carry, data, idx, mask, consts, desc)
        else:
            carry, totals = loop.step_epoch(step, carry, data, idx, mask, consts, desc)
        history.append({"epoch": ep, "loss": totals[0] / totals[2], "train_accuracy": totals[1] / totals[2],
                        "seconds": time.perf_counter() - t0})
    params, _, state = carry
    jax.block_until_ready(params)
    return TrainResult(model=eqx.combine(params, static), state=state, mean=mean, std=std, history=history,
                       seconds=time.perf_counter() - t_start, devices=place.devices, data_on_device=data_on_device,
                       optimizer=_describe_optimizer(spec))


@dataclass(frozen=True)
class _Loop:
    """One epoch of compiled steps, per batch or scanned, with its progress bar."""

    place: Placement
    data_on_device: bool
    kind: str
    batch_size: int
    label: str
    enabled: bool | None

    def scan_epoch(self, epoch_fn, carry, data, idx, mask, consts, desc):
        with _progress(1, desc, unit="epoch", enabled=self.enabled) as bar:
            *carry, metrics = epoch_fn(*carry, *data, *_split_rows(self.place, idx, mask), *consts)
            totals = np.asarray(metrics, np.float64).sum(axis=0)
            bar.update(1)
        return tuple(carry), totals

    def step_epoch(self, step, carry, data, idx, mask, consts, desc):
        place, n_steps = self.place, len(idx)
        totals = np.zeros(3)
        pending = []
        with _progress(n_steps, desc, unit="batch", enabled=self.enabled) as bar:
            for i in range(n_steps):
                if self.data_on_device:
                    batch = (*data, *place.split(idx[i], mask[i]))
                else:
                    rows = idx[i]
                    batch = (*place.split(data[0][rows], data[1][rows]),
                             *place.split(np.arange(self.batch_size, dtype=np.int32), mask[i]))
                *carry, m = step(*carry, *batch, *consts)
                pending.append(m)
                # Reading values back forces a sync; do it only now and then.
                if i % 20 == 19 or i == n_steps - 1:
                    totals += np.asarray(jnp.stack(pending), np.float64).sum(axis=0)
                    pending.clear()
                    if not bar.disable:
                        bar.set_postfix(loss=f"{totals[0] / totals[2]:.4f}", acc=f"{totals[1] / totals[2]:.4f}",
                                        refresh=False)
                bar.update(1)
        return tuple(carry), totals


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


def predict(result: TrainResult, images: Any, *, batch_size: int = 500) -> np.ndarray:
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
    batch_size = positive_int(batch_size, "batch_size")
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
    for row, m in zip(idx, mask, strict=False):
        n_real = int(m.sum())
        xb = x[row] if not isinstance(x, jax.Array) else jnp.take(x, jnp.asarray(row), axis=0)
        (xb,) = place.split(xb)
        start = int(row[0])
        out[start : start + n_real] = np.asarray(fn(params, state, xb, mean, std))[:n_real]
    return out


def evaluate(result: TrainResult, images: Any, labels: Any, *, batch_size: int = 500) -> float:
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
