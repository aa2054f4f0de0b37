"""The pieces every model is built from: the base class, initialisers, layer calls.

A model is an ``equinox.Module``: a frozen dataclass whose array fields are
its parameters, so a model *is* a pytree of arrays that ``jax.tree_util``,
``jax.jit`` and Optax handle directly. The layers are Equinox's own
(``eqx.nn.Linear``, ``eqx.nn.Conv2d``, ``eqx.nn.BatchNorm``, ...); this
module creates them with the package's initialisation and applies them to a
whole batch.

Convolutions run over the batch in NHWC with the Conv2d layer's own weights
(:func:`conv`): on XLA's CPU backend that layout trains the CNN several times
faster than mapping ``eqx.nn.Conv2d`` (NCHW, one image at a time) over the
batch with ``jax.vmap`` (``benchmarks/bench_training.py``). Dense layers are
mapped with ``jax.vmap``, which costs nothing.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp

__all__ = ["BATCH_AXIS", "Classifier", "batch_norm", "batch_norm_layer", "conv", "conv2d", "dense", "he_normal",
           "linear", "max_pool", "pixel_shuffle", "pooled_size"]

#: The named axis that batch norm reduces over (the batch, across devices when it is split).
BATCH_AXIS = "batch"


class Classifier(eqx.Module):
    """Base of every model: its name, image shape and number of classes (static).

    Subclasses define ``__call__(x, state) -> (logits, state)`` for a float
    batch ``x`` of shape ``(B, H, W, C)``.

    Examples
    --------
    >>> from vortexnumba.learn import Classifier, make_model
    >>> isinstance(make_model("mlp", (8, 8), 10), Classifier)
    True
    """

    name: str = eqx.field(static=True)
    image_shape: tuple = eqx.field(static=True)
    n_classes: int = eqx.field(static=True)


def he_normal(key: jax.Array, shape: tuple, fan_in: int) -> jax.Array:
    """Normal weights with variance ``2 / fan_in`` (He et al.), which keep the scale through ReLU layers.

    Examples
    --------
    >>> import jax
    >>> he_normal(jax.random.PRNGKey(0), (3, 4), 3).shape
    (3, 4)
    """
    return jax.random.normal(key, shape, jnp.float32) * math.sqrt(2.0 / fan_in)


def linear(key: jax.Array, n_in: int, n_out: int, *, scale: float | None = None, bias: bool = True) -> eqx.nn.Linear:
    """``eqx.nn.Linear`` with He-normal weights (or N(0, scale²)) and zero bias.

    Examples
    --------
    >>> import jax
    >>> linear(jax.random.PRNGKey(0), 3, 5).weight.shape
    (5, 3)
    """
    layer = eqx.nn.Linear(n_in, n_out, use_bias=bias, key=key)
    # Drawn as (in, out) and transposed: the values of an ``x @ w`` layer with w of shape (in, out).
    w = (he_normal(key, (n_in, n_out), n_in) if scale is None
         else jax.random.normal(key, (n_in, n_out), jnp.float32) * scale)
    layer = eqx.tree_at(lambda m: m.weight, layer, w.T)
    if bias:
        layer = eqx.tree_at(lambda m: m.bias, layer, jnp.zeros((n_out,), jnp.float32))
    return layer


def conv2d(key: jax.Array, k: int, c_in: int, c_out: int, *, stride: int = 1, bias: bool = True,
           fan: str = "in") -> eqx.nn.Conv2d:
    """``eqx.nn.Conv2d`` (k x k) with He-normal weights (fan ``"in"`` or ``"out"``) and zero bias.

    Examples
    --------
    >>> import jax
    >>> conv2d(jax.random.PRNGKey(0), 3, 1, 8).weight.shape
    (8, 1, 3, 3)
    """
    layer = eqx.nn.Conv2d(c_in, c_out, k, stride=stride, padding="SAME", use_bias=bias, key=key)
    fan_n = k * k * (c_in if fan == "in" else c_out)
    w = he_normal(key, (k, k, c_in, c_out), fan_n)  # drawn in HWIO; the layer stores OIHW
    layer = eqx.tree_at(lambda m: m.weight, layer, jnp.transpose(w, (3, 2, 0, 1)))
    if bias:
        layer = eqx.tree_at(lambda m: m.bias, layer, jnp.zeros((c_out, 1, 1), jnp.float32))
    return layer


def conv(layer: eqx.nn.Conv2d, x: jax.Array) -> jax.Array:
    """Apply an ``eqx.nn.Conv2d`` to a whole NHWC batch (XLA CPU's fast layout), "SAME" padding.

    (A k x k convolution with stride k on sides divisible by k pads nothing.)

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> conv(conv2d(jax.random.PRNGKey(0), 3, 1, 8), jnp.zeros((2, 6, 6, 1))).shape
    (2, 6, 6, 8)
    """
    y = jax.lax.conv_general_dilated(x, layer.weight, layer.stride, "SAME", dimension_numbers=("NHWC", "OIHW", "NHWC"))
    return y if layer.bias is None else y + layer.bias[:, 0, 0]


def dense(layer: eqx.nn.Linear, x: jax.Array) -> jax.Array:
    """Apply an ``eqx.nn.Linear`` to every row of ``x`` (any leading axes).

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> dense(linear(jax.random.PRNGKey(0), 3, 5), jnp.zeros((2, 4, 3))).shape
    (2, 4, 5)
    """
    return jax.vmap(layer)(x.reshape(-1, x.shape[-1])).reshape(x.shape[:-1] + (-1,))


def max_pool(x: jax.Array) -> jax.Array:
    """2x2 max pooling, stride 2, odd sides padded at the end ("SAME").

    Written as a reshape and a max rather than ``lax.reduce_window`` (or
    ``eqx.nn.MaxPool2d``, which is reduce_window): XLA's CPU gradient of
    reduce_window (select-and-scatter) is a large share of the CNN's training
    step (benchmarks/bench_training.py). The two agree except on ties within a
    window, where this one shares the gradient among the tied values.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> max_pool(jnp.arange(16.0).reshape(1, 4, 4, 1))[0, :, :, 0].tolist()
    [[5.0, 7.0], [13.0, 15.0]]
    """
    _, h, w, _ = x.shape
    if h % 2 or w % 2:
        x = jnp.pad(x, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), constant_values=-jnp.inf)
    b, h2, w2, c = x.shape
    return x.reshape(b, h2 // 2, 2, w2 // 2, 2, c).max(axis=(2, 4))


def pooled_size(n: int, times: int) -> int:
    """Side after ``times`` "SAME" 2x2 poolings (each rounds up).

    Examples
    --------
    >>> pooled_size(28, 2), pooled_size(7, 1)
    (7, 4)
    """
    for _ in range(times):
        n = -(-n // 2)
    return n


def pixel_shuffle(x: jax.Array, r: int) -> jax.Array:
    """Depth to space: ``(B, h, w, F*r*r) -> (B, h*r, w*r, F)`` (PyTorch's ``PixelShuffle`` order in NHWC).

    Input channel ``f*r*r + i*r + j`` of cell ``(y, x)`` becomes channel ``f``
    of pixel ``(y*r + i, x*r + j)``.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> pixel_shuffle(jnp.arange(4.0).reshape(1, 1, 1, 4), 2)[0, :, :, 0].tolist()
    [[0.0, 1.0], [2.0, 3.0]]
    """
    b, h, w, c = x.shape
    f = c // (r * r)
    return x.reshape(b, h, w, f, r, r).transpose(0, 1, 4, 2, 5, 3).reshape(b, h * r, w * r, f)


def batch_norm_layer(channels: int) -> eqx.nn.BatchNorm:
    """PyTorch's batch norm as ``eqx.nn.BatchNorm``: batch statistics in training, momentum 0.9 (= PyTorch's 0.1).

    Examples
    --------
    >>> batch_norm_layer(4).momentum
    0.9
    """
    return eqx.nn.BatchNorm(channels, axis_name=BATCH_AXIS, momentum=0.9, eps=1e-5, mode="batch")


def batch_norm(bn: eqx.nn.BatchNorm, x: jax.Array, state: eqx.nn.State) -> tuple[jax.Array, eqx.nn.State]:
    """Apply ``bn`` to an NHWC batch: mapped over images with the batch as the named axis.

    Examples
    --------
    >>> import equinox as eqx, jax.numpy as jnp
    >>> bn = batch_norm_layer(2)
    >>> y, _ = batch_norm(bn, jnp.arange(16.0).reshape(2, 2, 2, 2), eqx.nn.State(bn))
    >>> round(float(abs(y.mean())), 6)
    0.0
    """

    def one(xi, s):
        y, s = bn(jnp.moveaxis(xi, -1, 0), s)
        return jnp.moveaxis(y, 0, -1), s

    return jax.vmap(one, in_axes=(0, None), out_axes=(0, None), axis_name=BATCH_AXIS)(x, state)
