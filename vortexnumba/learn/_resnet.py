"""ResNet-18, CIFAR style, with batch normalisation as Equinox state.

The paper trains a ResNet-18 on 28x28 and 32x32 images. For images this
small the usual variant (He et al. 2016, Sec. 4.2; the common CIFAR
adaptation) replaces ImageNet's 7x7 stride-2 stem and its max pooling by one
3x3 convolution, so the 32x32 input keeps its resolution into the first
stage. Then four stages of two basic blocks (two 3x3 convolutions each) at
64, 128, 256 and 512 channels, stride 2 at the start of stages 2-4 with a
1x1 convolution and batch norm on the shortcut, global average pooling and
one dense layer: 11,173,962 parameters for 32x32x3 input and 10 classes.

Batch normalisation is ``eqx.nn.BatchNorm`` with ``mode="batch"`` and
momentum 0.9 (PyTorch's default 0.1 update): in training it normalises with
the statistics of the batch (across devices when the batch is split over
them) and updates running averages kept in an ``eqx.nn.State``; in inference
mode (``eqx.nn.inference_mode(model)``) it uses the running mean and unbiased
variance, as PyTorch does. (Equinox's other mode, ``"ema"``, normalises in
training with the running averages once they are filled: not the batch norm
of the paper's ResNet; ``tests/test_train.py`` checks that training
normalises with the batch's own statistics.)
Convolutions have no bias (the batch norm after each has one) and
He-normal weights with fan-out, as torchvision's ResNet.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax

from ._layers import Classifier, batch_norm, batch_norm_layer, conv, conv2d, dense

__all__ = ["ResNet18"]

STAGES = ((64, 2), (128, 2), (256, 2), (512, 2))


class BasicBlock(eqx.Module):
    """Two 3x3 convolutions with batch norm; a 1x1 projection when the shape changes."""

    conv1: eqx.nn.Conv2d
    bn1: eqx.nn.BatchNorm
    conv2: eqx.nn.Conv2d
    bn2: eqx.nn.BatchNorm
    proj: eqx.nn.Conv2d | None
    proj_bn: eqx.nn.BatchNorm | None

    def __init__(self, c_in: int, c_out: int, stride: int, key: Any):
        k1, k2, k3 = jax.random.split(key, 3)
        self.conv1 = conv2d(k1, 3, c_in, c_out, stride=stride, bias=False, fan="out")
        self.bn1 = batch_norm_layer(c_out)
        self.conv2 = conv2d(k2, 3, c_out, c_out, bias=False, fan="out")
        self.bn2 = batch_norm_layer(c_out)
        if stride != 1 or c_in != c_out:
            self.proj = conv2d(k3, 1, c_in, c_out, stride=stride, bias=False, fan="out")
            self.proj_bn = batch_norm_layer(c_out)
        else:
            self.proj = self.proj_bn = None

    def __call__(self, x, state):
        h, state = batch_norm(self.bn1, conv(self.conv1, x), state)
        h, state = batch_norm(self.bn2, conv(self.conv2, jax.nn.relu(h)), state)
        if self.proj is None:
            skip = x
        else:
            skip, state = batch_norm(self.proj_bn, conv(self.proj, x), state)
        return jax.nn.relu(h + skip), state


class ResNet18(Classifier):
    """CIFAR-style ResNet-18 (3x3 stem, no max pooling, [2, 2, 2, 2] basic blocks).

    Examples
    --------
    >>> import equinox as eqx, jax.numpy as jnp
    >>> from vortexnumba.learn import make_model
    >>> model = make_model("resnet18", (8, 8), 10)
    >>> state = eqx.nn.State(model)
    >>> logits, state = model(jnp.ones((4, 8, 8, 1)), state)
    >>> logits.shape
    (4, 10)
    """

    stem: eqx.nn.Conv2d
    stem_bn: eqx.nn.BatchNorm
    blocks: tuple
    out: eqx.nn.Linear

    def __init__(self, image_shape: tuple[int, ...], n_classes: int, key: Any):
        self.name, self.image_shape, self.n_classes = "resnet18", image_shape, n_classes
        keys = jax.random.split(key, 2 + sum(n for _, n in STAGES))
        self.stem = conv2d(keys[0], 3, image_shape[2], STAGES[0][0], bias=False, fan="out")
        self.stem_bn = batch_norm_layer(STAGES[0][0])
        blocks, c_in, i = [], STAGES[0][0], 1
        for s, (c_out, n) in enumerate(STAGES):
            for b in range(n):
                stride = 2 if (s > 0 and b == 0) else 1
                blocks.append(BasicBlock(c_in, c_out, stride, keys[i]))
                c_in, i = c_out, i + 1
        self.blocks = tuple(blocks)
        # The output layer keeps Equinox's default (uniform) initialisation, as PyTorch's nn.Linear.
        self.out = eqx.nn.Linear(c_in, n_classes, key=keys[-1])

    def __call__(self, x, state):
        h, state = batch_norm(self.stem_bn, conv(self.stem, x), state)
        h = jax.nn.relu(h)
        for block in self.blocks:
            h, state = block(h, state)
        return dense(self.out, h.mean(axis=(1, 2))), state

