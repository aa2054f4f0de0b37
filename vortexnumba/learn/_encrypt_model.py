"""Model encryption: a ViT that reads block-wise encrypted images as the plain model reads plain ones.

A block-wise key with block p acts on a ViT with patch p one patch at a time:
inside every block it gathers the d = C*p*p values (flattened in (channel,
row, column) order) by ``pixel_perm`` and negates the slots ``negate_slots``
(a uint8 value v becomes 255 - v, that is x = v/255 becomes 1 - x); then it
moves whole blocks by ``block_perm`` (output block b is input block
``block_perm[b]``). The patch embedding is linear and the transformer after
it sees the patches only through their embeddings and position embeddings,
so the key folds into the model:

- embedding column for encrypted slot i = the plain column for slot
  ``pixel_perm[i]``, negated where ``negate_slots[i]``; every negated slot
  adds ``c * column`` to the bias, where ``c`` is what "1" becomes after the
  model's input normalisation (``(1 - 2 mean) / std`` for a
  :class:`TrainResult`, 1 for a bare model fed values in [0, 1]): the model
  reads ``x' = c - x`` there, and ``w (c - x) + c w = ...`` restores ``w x``
  up to the sign folded into the column;
- position embedding of encrypted patch b = the plain one of patch
  ``block_perm[b]``; the class token keeps its own.

The encrypted model's tokens are then the plain model's tokens in another
order, and self-attention without positional bias, the class token and mean
pooling do not see the order: the logits agree to float rounding.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from ._train import TrainResult
from ._vit import ViT

__all__ = ["encrypt_model"]


def _key_parts(key, channels: int, patch: int, n_blocks: int):
    missing = [a for a in ("block", "pixel_perm") if not hasattr(key, a)]
    if missing:
        raise TypeError(f"key must be a block-wise key (with block, pixel_perm, negate_slots, block_perm), "
                        f"got {type(key).__name__} without {', '.join(missing)}")
    block = int(key.block)
    if block != patch:
        raise ValueError(f"key.block must equal the model's patch size, got block {block} and patch {patch}")
    key_channels = getattr(key, "channels", None)
    if key_channels is not None and int(key_channels) != channels:
        raise ValueError(f"the key was built for {key_channels} channels, the model reads {channels}")
    d = channels * patch * patch
    perm = np.asarray(key.pixel_perm, np.int64)
    if perm.shape != (d,) or not np.array_equal(np.sort(perm), np.arange(d)):
        raise ValueError(f"key.pixel_perm must be a permutation of 0..{d - 1} for {channels} channels and "
                         f"block {patch}, got shape {perm.shape}")
    negate = getattr(key, "negate_slots", None)
    negate = np.zeros(d, bool) if negate is None else np.asarray(negate, bool)
    if negate.shape != (d,):
        raise ValueError(f"key.negate_slots must have shape ({d},), got {negate.shape}")
    block_perm = getattr(key, "block_perm", None)
    block_perm = np.arange(n_blocks) if block_perm is None else np.asarray(block_perm, np.int64)
    if block_perm.shape != (n_blocks,) or not np.array_equal(np.sort(block_perm), np.arange(n_blocks)):
        raise ValueError(f"key.block_perm must be a permutation of the model's {n_blocks} patches, "
                         f"got shape {block_perm.shape}")
    return perm, negate, block_perm


def encrypt_model(result: Any, key: Any) -> Any:
    """The ViT that gives on ``encrypt(X, key)`` the logits the given ViT gives on ``X``.

    Parameters
    ----------
    result : TrainResult or ViT
        A trained ViT (from :func:`train`) or a bare ViT model (then read as
        fed values in [0, 1], where negation is ``x -> 1 - x``).
    key : BlockwiseKey
        A block-wise key whose ``block`` equals the model's patch size (and
        whose ``channels``, if set, its channel count).

    Returns
    -------
    TrainResult or ViT
        The same kind of object as ``result``: the model with its patch
        embedding and position embeddings transformed (the normalisation,
        history and devices of a ``TrainResult`` are kept).

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> from vortexnumba.learn import make_model, encrypt_model
    >>> model = make_model("vit-tiny", (8, 8), 10, patch=4)
    >>> class Key:  # any object with the block-wise key's attributes
    ...     block, channels = 4, 1
    ...     pixel_perm = np.random.default_rng(0).permutation(16)
    ...     negate_slots, block_perm = None, np.array([3, 2, 1, 0])
    >>> enc = encrypt_model(model, Key())
    >>> bool(np.array_equal(np.asarray(enc.pos), np.asarray(model.pos)[[3, 2, 1, 0]]))
    True
    """
    if isinstance(result, TrainResult):
        model, c = result.model, (1.0 - 2.0 * result.mean) / result.std
    else:
        model, c = result, 1.0
    if not isinstance(model, ViT):
        raise TypeError(f"result must be a TrainResult of a ViT or a ViT model, got {type(model).__name__}")
    H, W, C = model.image_shape
    p = model.patch
    n_blocks = (H // p) * (W // p)
    perm, negate, block_perm = _key_parts(key, C, p, n_blocks)

    # Slot s of the key's (channel, row, column) order is column vit[s] of the ViT's (row, column, channel) order.
    ch, r, q = np.unravel_index(np.arange(C * p * p), (C, p, p))
    vit = (r * p + q) * C + ch
    w = np.asarray(model.embed.weight, np.float64)  # (dim, d) in the ViT's order
    w_key = w[:, vit]
    sign = np.where(negate, -1.0, 1.0)
    w_enc_key = w_key[:, perm] * sign
    w_enc = np.empty_like(w)
    w_enc[:, vit] = w_enc_key
    bias = np.asarray(model.embed.bias, np.float64) + c * w_key[:, perm][:, negate].sum(axis=1)
    pos = np.asarray(model.pos)
    offset = 1 if model.cls is not None else 0
    new_pos = np.concatenate([pos[:offset], pos[offset:][block_perm]], axis=0)
    dtype = model.embed.weight.dtype
    enc = eqx.tree_at(lambda m: (m.embed.weight, m.embed.bias, m.pos), model,
                      (jnp.asarray(w_enc, dtype), jnp.asarray(bias, dtype), jnp.asarray(new_pos, dtype)))
    if isinstance(result, TrainResult):
        return dataclasses.replace(result, model=enc)
    return enc
