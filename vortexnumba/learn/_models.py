"""Image classifiers as Equinox modules: MLP, CNN, small ResNet; the registry.

A model is an ``equinox.Module``: a frozen dataclass whose array fields are
its parameters, so a model *is* a pytree of arrays that ``jax.tree_util``,
``jax.jit`` and Optax handle directly ("parameters are ordinary data").
The layers are Equinox's own (``eqx.nn.Linear``, ``eqx.nn.Conv2d``,
``eqx.nn.LayerNorm``, ``eqx.nn.MultiheadAttention``, ``eqx.nn.BatchNorm``);
the batch-norm statistics of ``resnet18`` live in an ``eqx.nn.State``,
threaded through every call, the Equinox way.

Every model is called on a whole batch: ``model(x, state) -> (logits,
state)`` with ``x`` a float batch ``(B, H, W, C)``. Convolutions run over
the batch in NHWC with the Conv2d layer's own weights (``_conv``): on XLA's
CPU backend that layout trained the CNN about 3x faster than mapping
``eqx.nn.Conv2d`` (NCHW, one image at a time) over the batch with
``jax.vmap`` (93 ms against 26-46 ms per step, batch 128, 28x28, loaded
2-core machine). Dense layers and attention are mapped with ``jax.vmap``,
which costs nothing.

``mlp``, ``cnn``, ``resnet`` and ``vit-tiny`` draw their initial weights
exactly as the earlier hand-written versions did (same keys, same
distributions), so the committed results reproduce.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["MODELS", "Classifier", "make_model", "n_params"]

#: Names accepted by :func:`make_model`.
MODELS = ("mlp", "cnn", "resnet", "resnet18", "vit", "vit-tiny")


class Classifier(eqx.Module):
    """Base of every model: its name, image shape and number of classes (static).

    Subclasses define ``__call__(x, state) -> (logits, state)`` for a float
    batch ``x`` of shape ``(B, H, W, C)``.
    """

    name: str = eqx.field(static=True)
    image_shape: tuple = eqx.field(static=True)
    n_classes: int = eqx.field(static=True)


# --------------------------------------------------------------------------- shared pieces


def _he(key, shape, fan_in):
    # He initialisation keeps activations' scale through ReLU layers.
    return jax.random.normal(key, shape, jnp.float32) * math.sqrt(2.0 / fan_in)


def _linear(key, n_in, n_out, *, scale=None, bias=True):
    """``eqx.nn.Linear`` with He-normal weights (or N(0, scale²)) and zero bias."""
    layer = eqx.nn.Linear(n_in, n_out, use_bias=bias, key=key)
    # Drawn as (in, out) and transposed: the same values as the earlier x @ w layers.
    w = _he(key, (n_in, n_out), n_in) if scale is None else jax.random.normal(key, (n_in, n_out), jnp.float32) * scale
    layer = eqx.tree_at(lambda m: m.weight, layer, w.T)
    if bias:
        layer = eqx.tree_at(lambda m: m.bias, layer, jnp.zeros((n_out,), jnp.float32))
    return layer


def _conv2d(key, k, c_in, c_out, *, stride=1, bias=True, fan="in"):
    """``eqx.nn.Conv2d`` (k x k, "SAME" padding) with He-normal weights and zero bias."""
    layer = eqx.nn.Conv2d(c_in, c_out, k, stride=stride, padding="SAME", use_bias=bias, key=key)
    fan_n = k * k * (c_in if fan == "in" else c_out)
    w = _he(key, (k, k, c_in, c_out), fan_n)  # HWIO, as drawn before; the layer stores OIHW
    layer = eqx.tree_at(lambda m: m.weight, layer, jnp.transpose(w, (3, 2, 0, 1)))
    if bias:
        layer = eqx.tree_at(lambda m: m.bias, layer, jnp.zeros((c_out, 1, 1), jnp.float32))
    return layer


def _conv(layer: eqx.nn.Conv2d, x):
    """Apply an ``eqx.nn.Conv2d`` to a whole NHWC batch (XLA CPU's fast layout)."""
    y = jax.lax.conv_general_dilated(
        x, layer.weight, layer.stride, "SAME", dimension_numbers=("NHWC", "OIHW", "NHWC")
    )
    return y if layer.bias is None else y + layer.bias[:, 0, 0]


def _dense(layer: eqx.nn.Linear, x):
    """Apply an ``eqx.nn.Linear`` to every row of ``x`` (any leading axes)."""
    return jax.vmap(layer)(x.reshape(-1, x.shape[-1])).reshape(x.shape[:-1] + (-1,))


def _max_pool(x):
    """2x2 max pooling, stride 2, odd sides padded at the end ("SAME").

    Written as a reshape and a max rather than ``lax.reduce_window`` (or
    ``eqx.nn.MaxPool2d``, which is reduce_window): XLA's CPU gradient of
    reduce_window (select-and-scatter) took half of the CNN's training step
    (benchmarks/bench_training.py). The two agree except on ties within a
    window, where this one shares the gradient among the tied values.
    """
    _, h, w, _ = x.shape
    if h % 2 or w % 2:
        x = jnp.pad(x, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), constant_values=-jnp.inf)
    b, h2, w2, c = x.shape
    return x.reshape(b, h2 // 2, 2, w2 // 2, 2, c).max(axis=(2, 4))


def _pooled_size(n, times):
    for _ in range(times):
        n = -(-n // 2)  # SAME pooling rounds up
    return n


# --------------------------------------------------------------------------- MLP


class MLP(Classifier):
    """Two hidden ReLU layers (256, 128) on the flattened image."""

    hidden: tuple
    out: eqx.nn.Linear

    def __init__(self, image_shape, n_classes, key, hidden=(256, 128)):
        self.name, self.image_shape, self.n_classes = "mlp", image_shape, n_classes
        sizes = (int(np.prod(image_shape)),) + tuple(hidden)
        keys = jax.random.split(key, len(hidden) + 1)
        self.hidden = tuple(_linear(k, a, b) for k, a, b in zip(keys, sizes[:-1], sizes[1:]))
        self.out = _linear(keys[-1], sizes[-1], n_classes, scale=0.01)

    def __call__(self, x, state=None):
        h = x.reshape(x.shape[0], -1)
        for layer in self.hidden:
            h = jax.nn.relu(_dense(layer, h))
        return _dense(self.out, h), state


# --------------------------------------------------------------------------- CNN


class CNN(Classifier):
    """Two 3x3 convolutions (16, 32 channels) with ReLU and 2x2 max pooling, dense 128, output."""

    conv1: eqx.nn.Conv2d
    conv2: eqx.nn.Conv2d
    fc: eqx.nn.Linear
    out: eqx.nn.Linear

    def __init__(self, image_shape, n_classes, key, width=16, hidden=128):
        self.name, self.image_shape, self.n_classes = "cnn", image_shape, n_classes
        H, W, C = image_shape
        flat = _pooled_size(H, 2) * _pooled_size(W, 2) * 2 * width
        k1, k2, k3, k4 = jax.random.split(key, 4)
        self.conv1 = _conv2d(k1, 3, C, width)
        self.conv2 = _conv2d(k2, 3, width, 2 * width)
        self.fc = _linear(k3, flat, hidden)
        self.out = _linear(k4, hidden, n_classes, scale=0.01)

    def __call__(self, x, state=None):
        h = _max_pool(jax.nn.relu(_conv(self.conv1, x)))
        h = _max_pool(jax.nn.relu(_conv(self.conv2, h)))
        h = jax.nn.relu(_dense(self.fc, h.reshape(h.shape[0], -1)))
        return _dense(self.out, h), state


# --------------------------------------------------------------------------- small ResNet


class _GainBlock(eqx.Module):
    conv1: eqx.nn.Conv2d
    conv2: eqx.nn.Conv2d
    proj: eqx.nn.Conv2d | None
    gain: jax.Array


class SmallResNet(Classifier):
    """Three residual stages (16, 32, 64 channels) without normalisation.

    Each residual branch is multiplied by a learned scalar that starts at 0,
    so every block starts as the identity and training stays stable without
    batch statistics.
    """

    stem: eqx.nn.Conv2d
    blocks: tuple
    out: eqx.nn.Linear

    def __init__(self, image_shape, n_classes, key, widths=(16, 32, 64)):
        self.name, self.image_shape, self.n_classes = "resnet", image_shape, n_classes
        C = image_shape[2]
        keys = iter(jax.random.split(key, 3 + 3 * len(widths)))
        self.stem = _conv2d(next(keys), 3, C, widths[0])
        blocks, c_in = [], widths[0]
        for i, c_out in enumerate(widths):
            stride = 1 if i == 0 else 2
            conv1 = _conv2d(next(keys), 3, c_in, c_out, stride=stride)
            conv2 = _conv2d(next(keys), 3, c_out, c_out)
            proj_key = next(keys)
            proj = _conv2d(proj_key, 1, c_in, c_out, stride=stride) if c_in != c_out else None
            blocks.append(_GainBlock(conv1, conv2, proj, jnp.zeros((), jnp.float32)))
            c_in = c_out
        self.blocks = tuple(blocks)
        self.out = _linear(next(keys), c_in, n_classes, scale=0.01)

    def __call__(self, x, state=None):
        h = jax.nn.relu(_conv(self.stem, x))
        for block in self.blocks:
            branch = _conv(block.conv2, jax.nn.relu(_conv(block.conv1, h)))
            skip = h if block.proj is None else _conv(block.proj, h)
            h = jax.nn.relu(skip + block.gain * branch)
        return _dense(self.out, h.mean(axis=(1, 2))), state


# --------------------------------------------------------------------------- registry


def _build(name, shape, n_classes, key):
    if name == "mlp":
        return MLP(shape, n_classes, key)
    if name == "cnn":
        return CNN(shape, n_classes, key)
    if name == "resnet":
        return SmallResNet(shape, n_classes, key)
    if name == "resnet18":
        from ._resnet import ResNet18

        return ResNet18(shape, n_classes, key)
    from ._vit import ViT

    return ViT.paper(shape, n_classes, key) if name == "vit" else ViT.tiny(shape, n_classes, key)


def make_model(name, image_shape, n_classes=10, *, seed=0) -> Classifier:
    """Build a classifier with its initial parameters.

    Parameters
    ----------
    name : {"mlp", "cnn", "resnet", "resnet18", "vit", "vit-tiny"}
        ``mlp``: two hidden layers; ``cnn``: two convolutions and a dense
        layer; ``resnet``: a small ResNet without normalisation; ``resnet18``:
        the CIFAR-style ResNet-18 of the paper (batch norm, 11.2 M parameters
        at 32x32x3); ``vit``: a ViT sized after the paper (see
        :class:`vortexnumba.learn._vit.ViT`); ``vit-tiny``: a 72k-parameter ViT
        for CPU runs.
    image_shape : tuple of int
        ``(H, W)`` or ``(H, W, C)`` of one image.
    n_classes : int
        Number of classes (>= 2).
    seed : int
        Seeds the initial weights (``jax.random.PRNGKey(seed)``).

    Returns
    -------
    Classifier
        An ``equinox.Module``; ``model(x, state) -> (logits, state)`` on a
        float batch ``(B, H, W, C)``. Models with batch norm carry their
        initial statistics; ``eqx.nn.State(model)`` gives the state to pass.

    Examples
    --------
    >>> import equinox as eqx, jax.numpy as jnp
    >>> from vortexnumba.learn import make_model, n_params
    >>> model = make_model("cnn", (8, 8), 10, seed=0)
    >>> logits, _ = model(jnp.zeros((2, 8, 8, 1)), eqx.nn.State(model))
    >>> logits.shape
    (2, 10)
    >>> n_params(make_model("resnet18", (32, 32, 3), 10))
    11173962
    """
    if not isinstance(name, str) or name.lower() not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}; got {name!r}")
    try:
        shape = tuple(int(s) for s in image_shape)
    except TypeError:
        raise TypeError(f"image_shape must be (H, W) or (H, W, C), got {image_shape!r}") from None
    if len(shape) == 2:
        shape = shape + (1,)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"image_shape must be (H, W) or (H, W, C) of positive ints, got {image_shape!r}")
    if isinstance(n_classes, bool) or int(n_classes) != n_classes or n_classes < 2:
        raise ValueError(f"n_classes must be an int >= 2, got {n_classes!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    key = (name.lower(), shape, int(n_classes))
    model = _build(*key, jax.random.PRNGKey(int(seed)))
    # One tree structure per architecture: batch norm's state markers are fresh objects in every
    # new model, and they are part of the structure that compiled steps are cached on. Reusing the
    # first model's structure (its markers) with the new arrays lets every model of an
    # architecture share one compiled training step.
    leaves, treedef = jax.tree_util.tree_flatten(model)
    treedef = _STRUCTURES.setdefault(key, treedef)
    return jax.tree_util.tree_unflatten(treedef, leaves)


_STRUCTURES: dict = {}


def n_params(model) -> int:
    """Number of trainable scalars in ``model`` (batch-norm statistics excluded).

    Examples
    --------
    >>> from vortexnumba.learn import make_model, n_params
    >>> n_params(make_model("mlp", (8, 8), 10))
    50826
    """
    model = eqx.nn.delete_init_state(model)
    return int(sum(np.size(a) for a in jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_inexact_array))))
