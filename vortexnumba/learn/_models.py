"""The small image classifiers: MLP, CNN, a small ResNet, and Tanaka's adaptation network.

Every model is called on a whole batch: ``model(x, state) -> (logits,
state)`` with ``x`` a float batch ``(B, H, W, C)``; ``state`` holds batch-norm
statistics (an ``eqx.nn.State``; unused by the models without batch norm).
The layer helpers are in :mod:`._layers`, the registry of names in
:mod:`._registry`.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._layers import (
    Classifier,
    batch_norm,
    batch_norm_layer,
    conv,
    conv2d,
    dense,
    linear,
    max_pool,
    pixel_shuffle,
    pooled_size,
)

__all__ = ["CNN", "MLP", "AdaptCNN", "SmallResNet"]


# --------------------------------------------------------------------------- MLP


class MLP(Classifier):
    """Two hidden ReLU layers (256, 128) on the flattened image."""

    hidden: tuple
    out: eqx.nn.Linear

    def __init__(self, image_shape: tuple[int, ...], n_classes: int, key: Any, hidden: tuple[int, ...] = (256, 128)):
        self.name, self.image_shape, self.n_classes = "mlp", image_shape, n_classes
        sizes = (int(np.prod(image_shape)),) + tuple(hidden)
        keys = jax.random.split(key, len(hidden) + 1)
        self.hidden = tuple(linear(k, a, b) for k, a, b in zip(keys, sizes[:-1], sizes[1:], strict=False))
        self.out = linear(keys[-1], sizes[-1], n_classes, scale=0.01)

    def __call__(self, x, state=None):
        h = x.reshape(x.shape[0], -1)
        for layer in self.hidden:
            h = jax.nn.relu(dense(layer, h))
        return dense(self.out, h), state


# --------------------------------------------------------------------------- CNN


class CNN(Classifier):
    """Two 3x3 convolutions (16, 32 channels) with ReLU and 2x2 max pooling, dense 128, output."""

    conv1: eqx.nn.Conv2d
    conv2: eqx.nn.Conv2d
    fc: eqx.nn.Linear
    out: eqx.nn.Linear

    def __init__(self, image_shape: tuple[int, ...], n_classes: int, key: Any, width: int = 16, hidden: int = 128):
        self.name, self.image_shape, self.n_classes = "cnn", image_shape, n_classes
        H, W, C = image_shape
        flat = pooled_size(H, 2) * pooled_size(W, 2) * 2 * width
        k1, k2, k3, k4 = jax.random.split(key, 4)
        self.conv1 = conv2d(k1, 3, C, width)
        self.conv2 = conv2d(k2, 3, width, 2 * width)
        self.fc = linear(k3, flat, hidden)
        self.out = linear(k4, hidden, n_classes, scale=0.01)

    def __call__(self, x, state=None):
        h = max_pool(jax.nn.relu(conv(self.conv1, x)))
        h = max_pool(jax.nn.relu(conv(self.conv2, h)))
        h = jax.nn.relu(dense(self.fc, h.reshape(h.shape[0], -1)))
        return dense(self.out, h), state


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

    def __init__(self, image_shape: tuple[int, ...], n_classes: int, key: Any, widths: tuple[int, ...] = (16, 32, 64)):
        self.name, self.image_shape, self.n_classes = "resnet", image_shape, n_classes
        C = image_shape[2]
        keys = iter(jax.random.split(key, 3 + 3 * len(widths)))
        self.stem = conv2d(next(keys), 3, C, widths[0])
        blocks, c_in = [], widths[0]
        for i, c_out in enumerate(widths):
            stride = 1 if i == 0 else 2
            conv1 = conv2d(next(keys), 3, c_in, c_out, stride=stride)
            conv2 = conv2d(next(keys), 3, c_out, c_out)
            proj_key = next(keys)
            proj = conv2d(proj_key, 1, c_in, c_out, stride=stride) if c_in != c_out else None
            blocks.append(_GainBlock(conv1, conv2, proj, jnp.zeros((), jnp.float32)))
            c_in = c_out
        self.blocks = tuple(blocks)
        self.out = linear(next(keys), c_in, n_classes, scale=0.01)

    def __call__(self, x, state=None):
        h = jax.nn.relu(conv(self.stem, x))
        for block in self.blocks:
            branch = conv(block.conv2, jax.nn.relu(conv(block.conv1, h)))
            skip = h if block.proj is None else conv(block.proj, h)
            h = jax.nn.relu(skip + block.gain * branch)
        return dense(self.out, h.mean(axis=(1, 2))), state


# --------------------------------------------------------------------------- adaptation network


class AdaptCNN(Classifier):
    """Tanaka's adaptation network in front of the CNN, for block-wise encrypted images.

    Block-wise encryption (LE, ELE, EtC, Blockwise) mixes the values inside
    every M x M block. The adaptation network learns to undo such a mix where
    it is the same in every block: a convolution of M x M with stride M (one
    output vector of ``features * M * M`` values per block, the same weights
    for every block), batch norm and LeakyReLU(0.1); two 1 x 1 convolutions,
    each with batch norm and LeakyReLU(0.1) (still one block at a time); a
    pixel shuffle that turns each block's vector back into an M x M patch of
    ``features`` channels at the block's place; then :class:`CNN` on that
    H x W x ``features`` map.

    The convolutions have no bias (the batch norm after each has one); batch
    norm normalises every channel over the batch and all block positions, as
    ``nn.BatchNorm2d`` after a strided convolution does.

    Examples
    --------
    >>> import equinox as eqx, jax.numpy as jnp
    >>> from vortexnumba.learn import make_model
    >>> model = make_model("adapt-cnn", (8, 8), 10, block=4)
    >>> model.block, model.features
    (4, 16)
    >>> model(jnp.zeros((2, 8, 8, 1)), eqx.nn.State(model))[0].shape
    (2, 10)
    """

    block: int = eqx.field(static=True)
    features: int = eqx.field(static=True)
    adapt: tuple
    norms: tuple
    cnn: CNN

    def __init__(self, image_shape: tuple[int, ...], n_classes: int, key: Any, block: int = 4, features: int = 16):
        self.name, self.image_shape, self.n_classes = "adapt-cnn", image_shape, n_classes
        H, W, C = image_shape
        if H % block or W % block:
            raise ValueError(f"adapt-cnn needs image sides divisible by block={block}, got {H}x{W}")
        self.block, self.features = block, features
        width = features * block * block
        k0, k1, k2, k3 = jax.random.split(key, 4)
        self.adapt = (conv2d(k0, block, C, width, stride=block, bias=False),
                      conv2d(k1, 1, width, width, bias=False),
                      conv2d(k2, 1, width, width, bias=False))
        self.norms = tuple(batch_norm_layer(width) for _ in range(3))
        self.cnn = CNN((H, W, features), n_classes, k3)

    def __call__(self, x, state):
        h = x
        for layer, bn in zip(self.adapt, self.norms, strict=False):
            h, state = batch_norm(bn, conv(layer, h), state)
            h = jax.nn.leaky_relu(h, 0.1)
        return self.cnn(pixel_shuffle(h, self.block), state)
