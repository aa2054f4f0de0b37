"""Models for block-wise encryption: the adaptation network, the ViT with patch = block, model encryption."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from vortexnumba.learn import TrainResult, encrypt_model, make_model, n_params, train
from vortexnumba.learn._layers import pixel_shuffle


def blockwise_encrypt(x, p, pixel_perm, negate_slots, block_perm):
    """Block-wise encryption written from its definition, one block at a time (uint8 batch (B, H, W, C))."""
    B, H, W, C = x.shape
    out = np.empty_like(x)
    n_cols = W // p
    blocks = []
    for by in range(H // p):
        for bx in range(n_cols):
            block = x[:, by * p:(by + 1) * p, bx * p:(bx + 1) * p, :]
            flat = np.stack([block[:, r, q, c] for c in range(C) for r in range(p) for q in range(p)], axis=1)
            enc = flat[:, pixel_perm]
            if negate_slots is not None:
                enc[:, negate_slots] = 255 - enc[:, negate_slots]
            blocks.append(enc)
    n_blocks = len(blocks)
    order = range(n_blocks) if block_perm is None else block_perm
    for b, src in enumerate(order):
        by, bx = divmod(b, n_cols)
        for s in range(C * p * p):
            c, rest = divmod(s, p * p)
            r, q = divmod(rest, p)
            out[:, by * p + r, bx * p + q, c] = blocks[src][:, s]
    return out


class Key:
    """The attributes of a block-wise key, built by hand."""

    def __init__(self, block, channels, pixel_perm, negate_slots, block_perm):
        self.block, self.channels = block, channels
        self.pixel_perm, self.negate_slots, self.block_perm = pixel_perm, negate_slots, block_perm


def logits(result, x_uint8):
    x = (jnp.asarray(x_uint8, jnp.float32) / 255.0 - result.mean) / result.std
    return np.asarray(result.model(x, result.state)[0], np.float64)


def test_pixel_shuffle_is_depth_to_space():
    x = np.random.default_rng(0).standard_normal((2, 3, 2, 2 * 2 * 5)).astype(np.float32)
    y = np.asarray(pixel_shuffle(jnp.asarray(x), 2))
    assert y.shape == (2, 6, 4, 5)
    for b, h, w, f, i, j in [(0, 0, 0, 0, 0, 0), (1, 2, 1, 4, 1, 0), (0, 1, 0, 3, 1, 1), (1, 0, 1, 2, 0, 1)]:
        assert y[b, h * 2 + i, w * 2 + j, f] == x[b, h, w, f * 4 + i * 2 + j]


def test_adapt_cnn_layers_and_training():
    m = make_model("adapt-cnn", (8, 8, 3), 10, block=4)
    conv0, conv1, conv2 = m.adapt
    assert conv0.weight.shape == (4 * 4 * 16, 3, 4, 4) and conv0.stride == (4, 4) and conv0.bias is None
    assert conv1.weight.shape == conv2.weight.shape == (256, 256, 1, 1)
    assert m.cnn.conv1.weight.shape[1] == 16  # the CNN reads the 16 feature channels
    assert n_params(make_model("adapt-cnn", (8, 8, 3), 10, block=2)) != n_params(m)
    with pytest.raises(ValueError, match="divisible by block=3"):
        make_model("adapt-cnn", (8, 8), 10, block=3)
    with pytest.raises(TypeError, match="no option 'patch'"):
        make_model("adapt-cnn", (8, 8), 10, patch=4)
    with pytest.raises(ValueError, match="block must be a positive int"):
        make_model("adapt-cnn", (8, 8), 10, block=0)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (16, 8, 8, 3), dtype=np.uint8)
    y = rng.integers(0, 10, 16)
    res = train(m, x, y, epochs=2, batch_size=8, progress=False)
    assert all(np.isfinite(h["loss"]) for h in res.history)
    # batch norm's running statistics moved
    mean, _ = res.state.get(res.model.norms[0].batch_state_index)
    assert np.abs(np.asarray(mean)).max() > 0


def test_vit_patch_option():
    m = make_model("vit", (8, 8), 10, patch=4)
    assert m.patch == 4 and m.pos.shape == (4 + 1, 192)
    assert make_model("vit-tiny", (8, 12, 3), 10, patch=4).pos.shape == (6, 64)
    assert make_model("vit", (8, 8), 10).patch == 2  # the default stays
    with pytest.raises(ValueError, match="patch must divide"):
        make_model("vit", (8, 8), 10, patch=3)


def _key(rng, p, channels, n_blocks, negate, shuffle):
    d = channels * p * p
    slots = np.zeros(d, bool)
    slots[rng.choice(d, d // 2, replace=False)] = True
    return Key(p, channels, rng.permutation(d), slots if negate else None,
               rng.permutation(n_blocks) if shuffle else None)


@settings(max_examples=examples(6), deadline=None)
@given(p=st.sampled_from([1, 2, 4]), channels=st.sampled_from([1, 3]), grid=st.sampled_from([(2, 2), (2, 3)]),
       negate=st.booleans(), shuffle=st.booleans(), seed=st.integers(0, 2**16))
def test_encrypted_vit_on_encrypted_images_gives_the_plain_logits(p, channels, grid, negate, shuffle, seed):
    rng = np.random.default_rng(seed)
    shape = (grid[0] * p, grid[1] * p, channels)
    model = make_model("vit-tiny", shape, 5, seed=seed % 7, patch=p)
    result = TrainResult(model=model, state=eqx.nn.State(model), mean=0.3 + 0.2 * rng.random(),
                         std=0.2 + 0.2 * rng.random())
    key = _key(rng, p, channels, grid[0] * grid[1], negate, shuffle)
    x = rng.integers(0, 256, (3,) + shape, dtype=np.uint8)
    enc_x = blockwise_encrypt(x, p, key.pixel_perm, key.negate_slots, key.block_perm)
    enc = encrypt_model(result, key)
    assert isinstance(enc, TrainResult) and (enc.mean, enc.std) == (result.mean, result.std)
    plain = logits(result, x)
    np.testing.assert_allclose(logits(enc, enc_x), plain, rtol=1e-4, atol=1e-5 * np.abs(plain).max())


def test_encrypted_vit_with_class_token_and_bare_model():
    rng = np.random.default_rng(1)
    model = make_model("vit", (8, 8, 3), 4, patch=4)
    key = _key(rng, 4, 3, 4, True, True)
    x = rng.integers(0, 256, (4, 8, 8, 3), dtype=np.uint8)
    enc_x = blockwise_encrypt(x, 4, key.pixel_perm, key.negate_slots, key.block_perm)
    result = TrainResult(model=model, state=eqx.nn.State(model), mean=0.45, std=0.28)
    plain = logits(result, x)
    assert not np.allclose(logits(result, enc_x), plain, rtol=1e-3)  # the plain model is lost on ciphertext
    np.testing.assert_allclose(logits(encrypt_model(result, key), enc_x), plain, rtol=1e-4,
                               atol=1e-5 * np.abs(plain).max())
    # A bare model reads values in [0, 1] directly: negation is x -> 1 - x.
    bare = encrypt_model(model, key)
    assert isinstance(bare, type(model)) and np.array_equal(np.asarray(bare.cls), np.asarray(model.cls))
    f = jnp.asarray(x, jnp.float32) / 255.0
    fe = jnp.asarray(enc_x, jnp.float32) / 255.0
    np.testing.assert_allclose(np.asarray(bare(fe, None)[0]), np.asarray(model(f, None)[0]), rtol=1e-4, atol=1e-6)


def test_encrypt_model_refuses_what_does_not_fit():
    rng = np.random.default_rng(2)
    model = make_model("vit-tiny", (8, 8), 4, patch=4)
    with pytest.raises(ValueError, match="block 2 and patch 4"):
        encrypt_model(model, _key(rng, 2, 1, 16, False, False))
    with pytest.raises(ValueError, match="built for 3 channels"):
        encrypt_model(model, _key(rng, 4, 3, 4, False, False))
    with pytest.raises(ValueError, match="block_perm must be a permutation of the model's 4 patches"):
        encrypt_model(model, Key(4, 1, np.arange(16), None, np.arange(5)))
    with pytest.raises(TypeError, match="block-wise key"):
        encrypt_model(model, object())
    with pytest.raises(TypeError, match="ViT"):
        encrypt_model(make_model("cnn", (8, 8), 4), _key(rng, 4, 1, 4, False, False))


@settings(max_examples=examples(4), deadline=None)
@given(channels=st.sampled_from([1, 3]), negate=st.booleans(), shuffle=st.booleans(), seed=st.integers(0, 2**16))
def test_encrypt_model_with_the_package_key(channels, negate, shuffle, seed):
    import vortexnumba as vn

    rng = np.random.default_rng(seed)
    key = vn.BlockwiseKey.random((8, 8), block=4, channels=channels, negate=negate, shuffle_blocks=shuffle,
                                 seed=seed)
    x = rng.integers(0, 256, (3, 8, 8, channels), dtype=np.uint8)
    enc_x = vn.encrypt(x, key)
    # the package's encryption is the one this file writes from the definition
    np.testing.assert_array_equal(enc_x, blockwise_encrypt(x, 4, key.pixel_perm, key.negate_slots if negate
                                                           else None, key.block_perm))
    model = make_model("vit-tiny", (8, 8, channels), 5, seed=1, patch=4)
    result = TrainResult(model=model, state=eqx.nn.State(model), mean=0.4, std=0.3)
    plain = logits(result, x)
    np.testing.assert_allclose(logits(encrypt_model(result, key), enc_x), plain, rtol=1e-4,
                               atol=1e-5 * np.abs(plain).max())
