"""Vision transformers: ``vit`` (sized after the paper) and ``vit-tiny`` (CPU runs).

The image is cut into p x p patches (row-major), each patch flattened and
embedded by one dense layer, learned position embeddings are added, and
pre-norm transformer blocks follow (layer norm, multi-head self-attention,
residual; layer norm, a GELU MLP, residual). A final layer norm, then either
the class token (``vit``) or the mean over tokens (``vit-tiny``) goes to the
output layer. Attention is ``eqx.nn.MultiheadAttention``, the norms
``eqx.nn.LayerNorm``, the dense layers ``eqx.nn.Linear``.

``vit``: the paper calls its model "ViT" and reports its accuracy, but its
text (as far as we had it: the abstract, the experiment description and the
table) gives no patch size, depth, width or number of heads. We therefore
take the standard ViT design (Dosovitskiy et al. 2021: class token, learned
positions, pre-norm, GELU, MLP four times the width) at ViT-Tiny's width --
192-wide tokens, 3 heads of 64 -- with 6 blocks (half of ViT-Tiny's 12, for
images with 49-64 tokens) and 4x4 patches (7x7 = 49 tokens at 28x28, 8x8 = 64
at 32x32; smaller images get 2x2 or 1x1 patches, see :func:`vit_patch_size`):
about 2.7 M parameters. The paper's 98.50% on CIFAR-10 is beyond what a ViT
of any size reaches trained from scratch on CIFAR-10 alone, which suggests a
model pre-trained elsewhere; we train from scratch and say so beside the
numbers.

``vit-tiny``: 64-wide tokens, 4 heads, 2 blocks, MLP twice the width, mean
pooling, 72k parameters; the model of the committed
``docs/results/fashion-mnist-vit`` run.

``make_model("vit", shape, n, patch=p)`` (or ``"vit-tiny"``) fixes the patch
side instead; for block-wise encryption it equals the key's block, so that a
patch is a block and :func:`vortexnumba.learn.encrypt_model` can fold the key
into the patch embedding.
"""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

from ._layers import Classifier, dense, linear

__all__ = ["ViT", "vit_patch_size"]


def vit_patch_size(H: int, W: int) -> int:
    """Largest patch side in (4, 2, 1) dividing both sides with at least 16 tokens.

    Examples
    --------
    >>> vit_patch_size(28, 28), vit_patch_size(32, 32), vit_patch_size(8, 8)
    (4, 4, 2)
    """
    for p in (4, 2, 1):
        if H % p == 0 and W % p == 0 and (H // p) * (W // p) >= 16:
            return p
    return 1


def _attention(key_qkv, key_proj, dim, heads):
    """``eqx.nn.MultiheadAttention`` with biases, drawn like one fused qkv dense layer."""
    att = eqx.nn.MultiheadAttention(heads, dim, use_query_bias=True, use_key_bias=True, use_value_bias=True,
                                    use_output_bias=True, key=key_qkv)
    qkv = linear(key_qkv, dim, 3 * dim, scale=1.0 / math.sqrt(dim))  # weight (3*dim, dim): q, k, v rows
    proj = linear(key_proj, dim, dim, scale=1.0 / math.sqrt(dim))
    zeros = jnp.zeros((dim,), jnp.float32)
    att = eqx.tree_at(
        lambda a: (a.query_proj.weight, a.key_proj.weight, a.value_proj.weight, a.query_proj.bias,
                   a.key_proj.bias, a.value_proj.bias, a.output_proj.weight, a.output_proj.bias),
        att,
        (qkv.weight[:dim], qkv.weight[dim : 2 * dim], qkv.weight[2 * dim :], zeros, zeros, zeros,
         proj.weight, zeros),
    )
    return att


class _Block(eqx.Module):
    ln1: eqx.nn.LayerNorm
    attn: eqx.nn.MultiheadAttention
    ln2: eqx.nn.LayerNorm
    fc1: eqx.nn.Linear
    fc2: eqx.nn.Linear

    def __call__(self, h):
        ln1, ln2 = jax.vmap(jax.vmap(self.ln1)), jax.vmap(jax.vmap(self.ln2))
        a = ln1(h)
        h = h + jax.vmap(lambda t: self.attn(t, t, t))(a)
        m = ln2(h)
        return h + dense(self.fc2, jax.nn.gelu(dense(self.fc1, m)))


class ViT(Classifier):
    """A vision transformer; build it with :meth:`paper` or :meth:`tiny` (or ``make_model``).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from vortexnumba.learn import make_model
    >>> model = make_model("vit", (28, 28), 10)
    >>> (model.patch, model.dim, model.depth, model.heads, model.pool)
    (4, 192, 6, 3, 'cls')
    >>> model(jnp.zeros((2, 28, 28, 1)), None)[0].shape
    (2, 10)
    """

    patch: int = eqx.field(static=True)
    dim: int = eqx.field(static=True)
    depth: int = eqx.field(static=True)
    heads: int = eqx.field(static=True)
    pool: str = eqx.field(static=True)
    embed: eqx.nn.Linear
    pos: jax.Array
    cls: jax.Array | None
    blocks: tuple
    norm: eqx.nn.LayerNorm
    out: eqx.nn.Linear

    def __init__(self, name: str, image_shape: tuple[int, ...], n_classes: int, key: Any, *, dim: int, depth: int,
                 heads: int, mlp_ratio: int, pool: str, patch: int | None = None):
        H, W, C = image_shape
        p = vit_patch_size(H, W) if patch is None else patch
        if H % p or W % p:
            raise ValueError(f"patch must divide the image sides, got patch={p} for {H}x{W} images")
        self.name, self.image_shape, self.n_classes = name, image_shape, n_classes
        self.patch, self.dim, self.depth, self.heads, self.pool = p, dim, depth, heads, pool
        n_tokens = (H // p) * (W // p) + (pool == "cls")
        # Key order: embed, pos, 4 per block, out (+ cls); the committed ViT results depend on it.
        keys = iter(jax.random.split(key, 3 + 4 * depth + (pool == "cls")))
        self.embed = linear(next(keys), p * p * C, dim, scale=1.0 / math.sqrt(p * p * C))
        self.pos = jax.random.normal(next(keys), (n_tokens, dim), jnp.float32) * 0.02
        blocks = []
        for _ in range(depth):
            k_qkv, k_proj, k_fc1, k_fc2 = next(keys), next(keys), next(keys), next(keys)
            blocks.append(_Block(
                ln1=eqx.nn.LayerNorm(dim, eps=1e-6),
                attn=_attention(k_qkv, k_proj, dim, heads),
                ln2=eqx.nn.LayerNorm(dim, eps=1e-6),
                fc1=linear(k_fc1, dim, mlp_ratio * dim),
                fc2=linear(k_fc2, mlp_ratio * dim, dim, scale=1.0 / math.sqrt(mlp_ratio * dim)),
            ))
        self.blocks = tuple(blocks)
        self.norm = eqx.nn.LayerNorm(dim, eps=1e-6)
        self.out = linear(next(keys), dim, n_classes, scale=0.01)
        self.cls = jax.random.normal(next(keys), (1, dim), jnp.float32) * 0.02 if pool == "cls" else None

    @classmethod
    def paper(cls, image_shape: tuple[int, ...], n_classes: int, key: Any, patch: int | None = None) -> ViT:
        """The ``vit`` model: width 192, 3 heads, 6 blocks, MLP 768, class token."""
        return cls("vit", image_shape, n_classes, key, dim=192, depth=6, heads=3, mlp_ratio=4, pool="cls",
                   patch=patch)

    @classmethod
    def tiny(cls, image_shape: tuple[int, ...], n_classes: int, key: Any, patch: int | None = None) -> ViT:
        """The ``vit-tiny`` model: width 64, 4 heads, 2 blocks, MLP 128, mean pooling."""
        return cls("vit-tiny", image_shape, n_classes, key, dim=64, depth=2, heads=4, mlp_ratio=2, pool="mean",
                   patch=patch)

    def __call__(self, x, state=None):
        B, H, W, C = x.shape
        p = self.patch
        # (B, H, W, C) -> (B, tokens, p*p*C): cut into p x p patches, row-major.
        t = x.reshape(B, H // p, p, W // p, p, C).transpose(0, 1, 3, 2, 4, 5).reshape(B, -1, p * p * C)
        h = dense(self.embed, t)
        if self.cls is not None:
            h = jnp.concatenate([jnp.broadcast_to(self.cls, (B, 1, self.dim)), h], axis=1)
        h = h + self.pos
        for block in self.blocks:
            h = block(h)
        h = jax.vmap(jax.vmap(self.norm))(h)
        h = h[:, 0] if self.cls is not None else h.mean(axis=1)
        return dense(self.out, h), state
