"""JAX models and training: shapes, determinism, learning far above chance."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from vortexnumba import data
from vortexnumba.learn._models import MODELS, make_model, vit_patch_size
from vortexnumba.learn._train import evaluate, predict, train


@pytest.fixture(scope="module")
def digits():
    return data.load("digits")


@pytest.mark.parametrize("name", MODELS)
def test_model_shapes_and_finite_output(name):
    for shape, c in (((8, 8), 1), ((6, 6, 3), 3)):
        m = make_model(name, shape, 7)
        assert m.input_shape == tuple(shape[:2]) + (c,)
        params = m.init(jax.random.PRNGKey(0))
        apply = jax.jit(m.apply)
        x = jax.random.uniform(jax.random.PRNGKey(1), (3,) + m.input_shape)
        logits = apply(params, x)
        assert logits.shape == (3, 7)
        assert bool(jnp.isfinite(logits).all())
        # Different inputs give different outputs: the model looks at its input.
        assert not np.allclose(np.asarray(apply(params, x[::-1])), np.asarray(logits))
        assert m.n_params(params) > 1000
        assert make_model(name, shape, 7) is m  # cached: compiled steps are reused


def test_vit_patch_size():
    assert vit_patch_size(8, 8) == 2 and vit_patch_size(28, 28) == 4 and vit_patch_size(32, 32) == 4
    assert vit_patch_size(5, 7) == 1 and vit_patch_size(6, 6) == 1


def test_make_model_rejects_bad_input():
    with pytest.raises(ValueError, match="model must be one of"):
        make_model("resnet18", (8, 8))
    with pytest.raises(ValueError, match="input_shape"):
        make_model("cnn", (8, 8, 1, 1))
    with pytest.raises(ValueError, match="n_classes"):
        make_model("cnn", (8, 8), 1)


def test_training_learns_and_is_bit_identical(digits):
    tx, ty, vx, vy = digits
    tx, ty = tx[:400], ty[:400]
    m = make_model("cnn", tx.shape[1:], 10)
    kw = dict(epochs=8, batch_size=64, seed=3, progress=False)
    first = train(m, tx, ty, **kw)
    acc = evaluate(m, first, vx, vy)
    assert acc > 0.8, acc  # chance is 0.1
    assert first.history[-1]["loss"] < first.history[0]["loss"]
    assert len(first.history) == 8

    second = train(m, tx, ty, **kw)
    leaves1 = jax.tree_util.tree_leaves(first.params)
    leaves2 = jax.tree_util.tree_leaves(second.params)
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(leaves1, leaves2))
    assert [h["loss"] for h in first.history] == [h["loss"] for h in second.history]
    np.testing.assert_array_equal(predict(m, first, vx), predict(m, second, vx))

    other = train(m, tx, ty, **{**kw, "seed": 4})
    assert not np.array_equal(np.asarray(jax.tree_util.tree_leaves(other.params)[0]), np.asarray(leaves1[0]))


def test_last_partial_batch_counts(digits):
    # 100 images with batch 64: the padded second batch must not be counted twice.
    tx, ty, _, _ = digits
    m = make_model("mlp", tx.shape[1:], 10)
    res = train(m, tx[:100], ty[:100], epochs=1, batch_size=64, seed=0, progress=False)
    assert 0.0 <= res.history[0]["train_accuracy"] <= 1.0
    # Predictions on odd-sized inputs come back with one entry per image.
    assert predict(m, res, tx[:7], batch_size=4).shape == (7,)


def test_train_rejects_bad_input(digits):
    tx, ty, _, _ = digits
    m = make_model("mlp", tx.shape[1:], 10)
    with pytest.raises(TypeError, match="train_x must be a uint8"):
        train(m, tx.astype(np.float32), ty, epochs=1, progress=False)
    with pytest.raises(ValueError, match="the model expects"):
        train(m, np.zeros((4, 9, 9), np.uint8), ty[:4], epochs=1, progress=False)
    with pytest.raises(ValueError, match="train_y must have shape"):
        train(m, tx, ty[:-1], epochs=1, progress=False)
    with pytest.raises(ValueError, match="train_y must lie in 0..9"):
        train(m, tx[:4], np.array([0, 1, 2, 10]), epochs=1, progress=False)
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        train(m, tx, ty, epochs=0, progress=False)


@pytest.mark.parametrize("shape", [(3, 28, 28, 4), (2, 7, 9, 3), (2, 8, 8, 1), (1, 1, 1, 2), (1, 3, 1, 1)])
def test_max_pool_equals_reduce_window(shape):
    """The reshape max-pool equals XLA's "SAME" reduce_window, values and gradients
    (random normal inputs: no ties, where the two may split the gradient differently)."""
    from vortexnumba.learn._models import _max_pool

    def reference(x):
        return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "SAME")

    x = jnp.asarray(np.random.default_rng(sum(shape)).standard_normal(shape), jnp.float32)
    np.testing.assert_array_equal(np.asarray(_max_pool(x)), np.asarray(reference(x)))
    grad = jax.grad(lambda v: (_max_pool(v) ** 2).sum())(x)
    grad_ref = jax.grad(lambda v: (reference(v) ** 2).sum())(x)
    np.testing.assert_array_equal(np.asarray(grad), np.asarray(grad_ref))
