"""Small image classifiers as plain JAX pytrees: MLP, CNN, ResNet and ViT.

A model is a pair of pure functions: ``init(key) -> params`` builds a nested
dict of arrays (a pytree), and ``apply(params, x) -> logits`` maps a float
batch ``(B, H, W, C)`` to class scores ``(B, n_classes)``. There is no
framework object and no mutable state (in particular no batch-norm running
statistics), so a parameter set is just data that ``jax.tree_util`` and
Optax handle directly, and the only dependencies are JAX and Optax.

The sizes are chosen for CPU runs of minutes on 8x8 to 32x32 images; on a
GPU the same code runs unchanged.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["MODELS", "Model", "make_model"]

MODELS = ("mlp", "cnn", "resnet", "vit")


@dataclass(frozen=True, eq=False)
class Model:
    """A classifier: its name, input shape and its two pure functions.

    Attributes
    ----------
    name : str
        One of ``MODELS``.
    input_shape : tuple of int
        ``(H, W, C)`` of one image.
    n_classes : int
        Number of classes.
    init : callable
        ``init(key) -> params`` (a pytree of float32 arrays).
    apply : callable
        ``apply(params, x) -> logits`` for ``x`` of shape ``(B, H, W, C)``.
    """

    name: str
    input_shape: tuple
    n_classes: int
    init: Callable
    apply: Callable

    def n_params(self, params) -> int:
        """Number of scalar parameters in ``params``."""
        return int(sum(np.size(p) for p in jax.tree_util.tree_leaves(params)))


# --------------------------------------------------------------------------- layers


def _he(key, shape, fan_in):
    # He initialisation keeps activations' scale through ReLU layers.
    return jax.random.normal(key, shape, jnp.float32) * math.sqrt(2.0 / fan_in)


def _dense_init(key, n_in, n_out, *, scale=None):
    w = _he(key, (n_in, n_out), n_in) if scale is None else jax.random.normal(key, (n_in, n_out), jnp.float32) * scale
    return {"w": w, "b": jnp.zeros((n_out,), jnp.float32)}


def _dense(p, x):
    return x @ p["w"] + p["b"]


def _conv_init(key, k, c_in, c_out):
    return {"w": _he(key, (k, k, c_in, c_out), k * k * c_in), "b": jnp.zeros((c_out,), jnp.float32)}


def _conv(p, x, stride=1):
    y = jax.lax.conv_general_dilated(
        x, p["w"], (stride, stride), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )
    return y + p["b"]


def _max_pool(x):
    """2x2 max pooling, stride 2, odd sides padded at the end ("SAME").

    Written as a reshape and a max rather than ``lax.reduce_window``: XLA's CPU
    gradient of reduce_window (select-and-scatter) took half of the CNN's
    training step (benchmarks/bench_training.py). The two agree except on ties
    within a window, where this one shares the gradient among the tied values.
    """
    _, h, w, _ = x.shape
    if h % 2 or w % 2:
        x = jnp.pad(x, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), constant_values=-jnp.inf)
    b, h2, w2, c = x.shape
    return x.reshape(b, h2 // 2, 2, w2 // 2, 2, c).max(axis=(2, 4))


def _layer_norm_init(d):
    return {"g": jnp.ones((d,), jnp.float32), "b": jnp.zeros((d,), jnp.float32)}


def _layer_norm(p, x, eps=1e-6):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) * jax.lax.rsqrt(var + eps) * p["g"] + p["b"]


def _pooled_size(n, times):
    for _ in range(times):
        n = -(-n // 2)  # SAME pooling rounds up
    return n


# --------------------------------------------------------------------------- MLP


def _mlp(input_shape, n_classes, hidden=(256, 128)):
    n_in = int(np.prod(input_shape))
    sizes = (n_in,) + tuple(hidden)

    def init(key):
        keys = jax.random.split(key, len(hidden) + 1)
        layers = [_dense_init(k, a, b) for k, a, b in zip(keys, sizes[:-1], sizes[1:])]
        return {"hidden": layers, "out": _dense_init(keys[-1], sizes[-1], n_classes, scale=0.01)}

    def apply(params, x):
        h = x.reshape(x.shape[0], -1)
        for layer in params["hidden"]:
            h = jax.nn.relu(_dense(layer, h))
        return _dense(params["out"], h)

    return init, apply


# --------------------------------------------------------------------------- CNN


def _cnn(input_shape, n_classes, width=16, hidden=128):
    H, W, C = input_shape
    flat = _pooled_size(H, 2) * _pooled_size(W, 2) * 2 * width

    def init(key):
        k1, k2, k3, k4 = jax.random.split(key, 4)
        return {
            "conv1": _conv_init(k1, 3, C, width),
            "conv2": _conv_init(k2, 3, width, 2 * width),
            "fc": _dense_init(k3, flat, hidden),
            "out": _dense_init(k4, hidden, n_classes, scale=0.01),
        }

    def apply(params, x):
        h = _max_pool(jax.nn.relu(_conv(params["conv1"], x)))
        h = _max_pool(jax.nn.relu(_conv(params["conv2"], h)))
        h = jax.nn.relu(_dense(params["fc"], h.reshape(h.shape[0], -1)))
        return _dense(params["out"], h)

    return init, apply


# --------------------------------------------------------------------------- ResNet


def _resnet(input_shape, n_classes, widths=(16, 32, 64)):
    # No normalisation layers (they would need mutable running statistics):
    # each residual branch is multiplied by a learned scalar that starts at 0,
    # so every block starts as the identity and training stays stable.
    C = input_shape[2]

    def init(key):
        keys = iter(jax.random.split(key, 3 + 3 * len(widths)))
        params = {"stem": _conv_init(next(keys), 3, C, widths[0]), "blocks": []}
        c_in = widths[0]
        for c_out in widths:
            block = {
                "conv1": _conv_init(next(keys), 3, c_in, c_out),
                "conv2": _conv_init(next(keys), 3, c_out, c_out),
                "gain": jnp.zeros((), jnp.float32),
            }
            proj_key = next(keys)
            if c_in != c_out:
                block["proj"] = _conv_init(proj_key, 1, c_in, c_out)
            params["blocks"].append(block)
            c_in = c_out
        params["out"] = _dense_init(next(keys), c_in, n_classes, scale=0.01)
        return params

    def apply(params, x):
        h = jax.nn.relu(_conv(params["stem"], x))
        for i, block in enumerate(params["blocks"]):
            stride = 1 if i == 0 else 2
            branch = jax.nn.relu(_conv(block["conv1"], h, stride))
            branch = _conv(block["conv2"], branch)
            skip = _conv(block["proj"], h, stride) if "proj" in block else h
            h = jax.nn.relu(skip + block["gain"] * branch)
        return _dense(params["out"], h.mean(axis=(1, 2)))

    return init, apply


# --------------------------------------------------------------------------- ViT


def vit_patch_size(H: int, W: int) -> int:
    """Largest patch side in (4, 2, 1) dividing both sides with at least 16 tokens."""
    for p in (4, 2, 1):
        if H % p == 0 and W % p == 0 and (H // p) * (W // p) >= 16:
            return p
    return 1


def _vit(input_shape, n_classes, dim=64, depth=2, heads=4, mlp_ratio=2):
    H, W, C = input_shape
    p = vit_patch_size(H, W)
    n_tokens = (H // p) * (W // p)
    head_dim = dim // heads

    def init(key):
        keys = iter(jax.random.split(key, 3 + 4 * depth))
        params = {
            "embed": _dense_init(next(keys), p * p * C, dim, scale=1.0 / math.sqrt(p * p * C)),
            "pos": jax.random.normal(next(keys), (n_tokens, dim), jnp.float32) * 0.02,
            "blocks": [],
            "norm": _layer_norm_init(dim),
        }
        for _ in range(depth):
            params["blocks"].append(
                {
                    "ln1": _layer_norm_init(dim),
                    "qkv": _dense_init(next(keys), dim, 3 * dim, scale=1.0 / math.sqrt(dim)),
                    "proj": _dense_init(next(keys), dim, dim, scale=1.0 / math.sqrt(dim)),
                    "ln2": _layer_norm_init(dim),
                    "fc1": _dense_init(next(keys), dim, mlp_ratio * dim),
                    "fc2": _dense_init(next(keys), mlp_ratio * dim, dim, scale=1.0 / math.sqrt(mlp_ratio * dim)),
                }
            )
        params["out"] = _dense_init(next(keys), dim, n_classes, scale=0.01)
        return params

    def apply(params, x):
        B = x.shape[0]
        # (B, H, W, C) -> (B, tokens, p*p*C): cut into p x p patches, row-major.
        t = x.reshape(B, H // p, p, W // p, p, C).transpose(0, 1, 3, 2, 4, 5).reshape(B, n_tokens, p * p * C)
        h = _dense(params["embed"], t) + params["pos"]
        for blk in params["blocks"]:
            a = _layer_norm(blk["ln1"], h)
            qkv = _dense(blk["qkv"], a).reshape(B, n_tokens, 3, heads, head_dim)
            q, k, v = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]
            att = jax.nn.softmax(jnp.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(head_dim), axis=-1)
            a = jnp.einsum("bhqk,bkhd->bqhd", att, v).reshape(B, n_tokens, dim)
            h = h + _dense(blk["proj"], a)
            m = _layer_norm(blk["ln2"], h)
            h = h + _dense(blk["fc2"], jax.nn.gelu(_dense(blk["fc1"], m)))
        h = _layer_norm(params["norm"], h).mean(axis=1)
        return _dense(params["out"], h)

    return init, apply


_BUILDERS = {"mlp": _mlp, "cnn": _cnn, "resnet": _resnet, "vit": _vit}


@functools.lru_cache(maxsize=None)
def _make_model_cached(name, input_shape, n_classes):
    init, apply = _BUILDERS[name](input_shape, n_classes)
    return Model(name=name, input_shape=input_shape, n_classes=n_classes, init=init, apply=apply)


def make_model(name, input_shape, n_classes=10) -> Model:
    """Build one of the small classifiers.

    The same arguments always return the same ``Model`` object, so compiled
    training steps are reused across runs.

    Parameters
    ----------
    name : {"mlp", "cnn", "resnet", "vit"}
        Which architecture.
    input_shape : tuple of int
        ``(H, W)`` or ``(H, W, C)`` of one image.
    n_classes : int
        Number of classes.

    Returns
    -------
    Model

    Examples
    --------
    >>> import jax
    >>> m = make_model("cnn", (8, 8, 1), 10)
    >>> params = m.init(jax.random.PRNGKey(0))
    >>> m.apply(params, jax.numpy.zeros((2, 8, 8, 1))).shape
    (2, 10)
    """
    if not isinstance(name, str) or name.lower() not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}; got {name!r}")
    try:
        shape = tuple(int(s) for s in input_shape)
    except TypeError:
        raise TypeError(f"input_shape must be (H, W) or (H, W, C), got {input_shape!r}") from None
    if len(shape) == 2:
        shape = shape + (1,)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"input_shape must be (H, W) or (H, W, C) of positive ints, got {input_shape!r}")
    if isinstance(n_classes, bool) or int(n_classes) != n_classes or n_classes < 2:
        raise ValueError(f"n_classes must be an int >= 2, got {n_classes!r}")
    return _make_model_cached(name.lower(), shape, int(n_classes))
