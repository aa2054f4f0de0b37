"""JAX models and training: shapes, determinism, learning far above chance, the device pipeline."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import vortexnumba as vn
from vortexnumba import data
from vortexnumba.learn import (
    MODEL_NAMES,
    MODELS,
    Pipeline,
    encrypt_on_device,
    evaluate,
    make_model,
    n_params,
    predict,
    train,
)
from vortexnumba.learn._layers import batch_norm, batch_norm_layer, max_pool
from vortexnumba.learn._vit import vit_patch_size

#: Options that fit the test's 6x6 images.
OPTIONS = {"adapt-cnn": {"block": 2}}


@pytest.fixture(scope="module")
def digits():
    return data.load("digits")


def leaves(model):
    return [np.asarray(a) for a in jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_inexact_array))]


@eqx.filter_jit
def _call(model, x, state):
    return model(x, state)


def test_registry_is_a_dict_of_constructors():
    assert MODEL_NAMES == tuple(MODELS) and all(callable(c) for c in MODELS.values())
    assert {"mlp", "cnn", "resnet", "resnet18", "vit", "vit-tiny", "adapt-cnn"} == set(MODELS)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_model_shapes_and_finite_output(name):
    opts = OPTIONS.get(name, {})
    m = make_model(name, (6, 6, 3), 7, seed=1, **opts)
    assert isinstance(m, eqx.Module) and m.name == name
    assert m.image_shape == (6, 6, 3) and make_model(name, (6, 6), 7, **opts).image_shape == (6, 6, 1)
    state = eqx.nn.State(m)
    x = jax.random.uniform(jax.random.PRNGKey(1), (3,) + m.image_shape)
    logits, _ = _call(m, x, state)
    assert logits.shape == (3, 7)
    assert bool(jnp.isfinite(logits).all())
    # Each image's logits follow that image (batch statistics only reorder their sums),
    # and other inputs give other outputs.
    np.testing.assert_allclose(np.asarray(_call(m, x[::-1], state)[0]), np.asarray(logits)[::-1], atol=2e-3)
    x2 = jax.random.uniform(jax.random.PRNGKey(2), x.shape)
    assert not np.allclose(np.asarray(_call(m, x2, state)[0]), np.asarray(logits))
    assert n_params(m) > 1000
    if name == "resnet18":  # the CIFAR-style ResNet-18: 11,173,962 parameters for ten classes
        assert n_params(m) == 11_173_962 - 3 * 513
    # Parameters are plain data: the same seed gives the same arrays, another seed others.
    again = make_model(name, (6, 6, 3), 7, seed=1, **opts)
    assert all(np.array_equal(a, b) for a, b in zip(leaves(m), leaves(again), strict=False))
    other = make_model(name, (6, 6, 3), 7, seed=2, **opts)
    assert not all(np.array_equal(a, b) for a, b in zip(leaves(m), leaves(other), strict=False))


def test_resnet18_is_the_cifar_resnet18():
    m = make_model("resnet18", (32, 32, 3), 10)
    assert n_params(m) == 11_173_962  # torchvision's resnet18 with a 3x3 stem, no max pool, 10 classes
    assert m.stem.weight.shape == (64, 3, 3, 3)
    assert [b.conv1.weight.shape[0] for b in m.blocks] == [64, 64, 128, 128, 256, 256, 512, 512]
    assert [b.conv1.stride for b in m.blocks] == [(1, 1), (1, 1), (2, 2), (1, 1), (2, 2), (1, 1), (2, 2), (1, 1)]


def test_resnet18_batch_norm_uses_the_batch_in_training_and_running_averages_in_inference():
    """PyTorch's batch norm: batch statistics while training (Equinox's "ema" mode would not), running ones after."""
    bn = batch_norm_layer(4)
    state = eqx.nn.State(bn)
    rng = np.random.default_rng(0)
    for _ in range(3):  # fill the running averages with batches around 2 +- 1
        _, state = batch_norm(bn, jnp.asarray(rng.normal(2.0, 1.0, (16, 5, 5, 4)), jnp.float32), state)
    x = jnp.asarray(rng.normal(-3.0, 7.0, (16, 5, 5, 4)), jnp.float32)  # a batch unlike them
    y, state = batch_norm(bn, x, state)
    np.testing.assert_allclose(np.asarray(y.mean(axis=(0, 1, 2))), 0.0, atol=1e-5)
    np.testing.assert_allclose(np.asarray(y.std(axis=(0, 1, 2))), 1.0, rtol=1e-4)
    # inference: the running mean, (1 - 0.9^k)-weighted towards the batches seen, not this batch's
    y_inf, _ = batch_norm(eqx.nn.inference_mode(bn), x, state)
    assert np.all(np.abs(np.asarray(y_inf.mean(axis=(0, 1, 2)))) > 0.3)


def test_models_of_one_architecture_share_their_structure():
    # so that compiled training steps are reused across seeds (batch norm's markers included)
    a, b = make_model("resnet18", (4, 4, 3), 3, seed=0), make_model("resnet18", (4, 4, 3), 3, seed=1)
    static_a = eqx.partition(eqx.nn.delete_init_state(a), eqx.is_inexact_array)[1]
    static_b = eqx.partition(eqx.nn.delete_init_state(b), eqx.is_inexact_array)[1]
    assert static_a == static_b and hash(static_a) == hash(static_b)
    assert not np.array_equal(np.asarray(a.stem.weight), np.asarray(b.stem.weight))


def test_vit_sizes():
    m = make_model("vit", (28, 28), 10)
    assert (m.patch, m.dim, m.depth, m.heads, m.pool) == (4, 192, 6, 3, "cls")
    assert m.pos.shape == (50, 192)  # 49 patches and the class token
    t = make_model("vit-tiny", (28, 28), 10)
    assert (t.patch, t.dim, t.depth, t.heads, t.pool) == (4, 64, 2, 4, "mean") and n_params(t) == 71_946
    assert vit_patch_size(8, 8) == 2 and vit_patch_size(28, 28) == 4 and vit_patch_size(32, 32) == 4
    assert vit_patch_size(5, 7) == 1 and vit_patch_size(6, 6) == 1


@pytest.mark.parametrize("name", ["resnet18", "vit"])
def test_paper_models_train_a_couple_of_steps(name):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (8, 4, 4, 3), dtype=np.uint8)
    y = rng.integers(0, 3, 8)
    m = make_model(name, (4, 4, 3), 3)
    res = train(m, x, y, epochs=2, batch_size=4, progress=False)
    assert len(res.history) == 2 and all(np.isfinite(h["loss"]) for h in res.history)
    # the weights moved
    assert not all(np.array_equal(a, b) for a, b in zip(leaves(m), leaves(res.model), strict=False))
    if name == "resnet18":
        # batch-norm running statistics were updated in the state, and inference uses them
        first_bn = res.model.stem_bn
        mean, var = res.state.get(first_bn.batch_state_index)
        initial_mean, _ = eqx.nn.State(m).get(first_bn.batch_state_index)
        assert np.abs(np.asarray(mean)).max() > 0 and not np.array_equal(np.asarray(mean), np.asarray(initial_mean))
    assert predict(res, x).shape == (8,)


def test_make_model_rejects_bad_input():
    with pytest.raises(ValueError, match="model must be one of"):
        make_model("resnet50", (8, 8))
    with pytest.raises(ValueError, match="image_shape"):
        make_model("cnn", (8, 8, 1, 1))
    with pytest.raises(ValueError, match="n_classes"):
        make_model("cnn", (8, 8), 1)
    with pytest.raises(ValueError, match="seed"):
        make_model("cnn", (8, 8), 10, seed=-1)


def test_training_learns_and_is_bit_identical(digits):
    tx, ty, vx, vy = digits
    tx, ty = tx[:400], ty[:400]
    m = make_model("cnn", tx.shape[1:], 10, seed=3)
    kw = dict(epochs=8, batch_size=64, seed=3, progress=False)
    first = train(m, tx, ty, **kw)
    acc = evaluate(first, vx, vy)
    assert acc > 0.8, acc  # chance is 0.1
    assert first.history[-1]["loss"] < first.history[0]["loss"]
    assert len(first.history) == 8 and first.data_on_device

    # the step donates its buffers, but the caller's model is untouched and can be trained again
    fresh = make_model("cnn", tx.shape[1:], 10, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(leaves(m), leaves(fresh), strict=False))
    second = train(m, tx, ty, **kw)
    assert all(np.array_equal(a, b) for a, b in zip(leaves(first.model), leaves(second.model), strict=False))
    assert [h["loss"] for h in first.history] == [h["loss"] for h in second.history]
    np.testing.assert_array_equal(predict(first, vx), predict(second, vx))

    other = train(m, tx, ty, **{**kw, "seed": 4})
    assert not np.array_equal(leaves(other.model)[0], leaves(first.model)[0])


def test_pipelines_agree(digits):
    """Batches cut on the host, on the device, and a scanned epoch: the same training."""
    tx, ty, _, _ = digits
    tx, ty = tx[:300], ty[:300]
    m = make_model("cnn", tx.shape[1:], 10)
    kw = dict(epochs=2, batch_size=64, seed=1, progress=False)
    runs = [train(m, tx, ty, pipeline=Pipeline(data_on_device=False), **kw), train(m, tx, ty, **kw),
            train(m, tx, ty, pipeline=Pipeline(loop="scan"), **kw), train(m, jnp.asarray(tx), ty, **kw)]
    assert [r.data_on_device for r in runs] == [False, True, True, True]
    for r in runs[1:]:
        for a, b in zip(leaves(runs[0].model), leaves(r.model), strict=False):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)  # same training, float rounding apart
        np.testing.assert_allclose([h["loss"] for h in r.history], [h["loss"] for h in runs[0].history], rtol=1e-4)
    with pytest.raises(ValueError, match="loop='scan' needs the data on the device"):
        Pipeline(loop="scan", data_on_device=False)


def test_encrypt_on_device_equals_encrypt():
    rng = np.random.default_rng(5)
    for shape in ((4, 9, 7), (3, 8, 8, 3)):
        x = rng.integers(0, 256, shape, dtype=np.uint8)
        for key in (vn.VortexKey.random(shape[1:3], 3, 0.8, seed=1),
                    vn.VortexKey.random(shape[1:3], 3, 0.8, mode="paper", seed=1),
                    vn.PermutationKey.random(shape[1:3], seed=2)):
            out = encrypt_on_device(jnp.asarray(x), key)
            assert isinstance(out, jax.Array)
            np.testing.assert_array_equal(np.asarray(out), vn.encrypt(x, key))
    # keys that change values go through their element plan on the device, bit for bit as vn.encrypt
    for c in (1, 3):
        xc = rng.integers(0, 256, (3, 8, 8, c), dtype=np.uint8)
        for key in (vn.LEKey.random((8, 8), block=4, channels=c, seed=3),
                    vn.ELEKey.random((8, 8), block=2, channels=c, seed=4),
                    vn.EtCKey.random((8, 8), block=4, channels=c, seed=5),
                    vn.PEKey.random((8, 8), channels=c, seed=6),
                    vn.BlockwiseKey.random((8, 8), block=4, channels=c, negate=True, seed=7)):
            np.testing.assert_array_equal(np.asarray(encrypt_on_device(jnp.asarray(xc), key)), vn.encrypt(xc, key))
    with pytest.raises(ValueError, match="gather index of shape"):
        encrypt_on_device(x, np.arange(10))
    with pytest.raises(ValueError, match="must lie in"):
        encrypt_on_device(x, np.full(64, 64))


def test_last_partial_batch_counts(digits):
    # 100 images with batch 64: the padded second batch must not be counted twice.
    tx, ty, _, _ = digits
    m = make_model("mlp", tx.shape[1:], 10)
    res = train(m, tx[:100], ty[:100], epochs=1, batch_size=64, seed=0, progress=False)
    assert 0.0 <= res.history[0]["train_accuracy"] <= 1.0
    # Predictions on odd-sized inputs come back with one entry per image, in order.
    assert predict(res, tx[:7], batch_size=4).shape == (7,)
    np.testing.assert_array_equal(predict(res, tx[:7], batch_size=4), predict(res, tx[:7], batch_size=500))


def test_train_rejects_bad_input(digits):
    tx, ty, _, _ = digits
    m = make_model("mlp", tx.shape[1:], 10)
    with pytest.raises(TypeError, match="images must be a uint8"):
        train(m, tx.astype(np.float32), ty, epochs=1, progress=False)
    with pytest.raises(ValueError, match="the model expects"):
        train(m, np.zeros((4, 9, 9), np.uint8), ty[:4], epochs=1, progress=False)
    with pytest.raises(ValueError, match="labels must have shape"):
        train(m, tx, ty[:-1], epochs=1, progress=False)
    with pytest.raises(ValueError, match="labels must lie in 0..9"):
        train(m, tx[:4], np.array([0, 1, 2, 10]), epochs=1, progress=False)
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        train(m, tx, ty, epochs=0, progress=False)
    with pytest.raises(ValueError, match="loop must be one of"):
        train(m, tx, ty, epochs=1, pipeline=Pipeline(loop="while"), progress=False)
    with pytest.raises(TypeError, match="epochs must be an int"):
        train(m, tx, ty, epochs=2.5, progress=False)
    with pytest.raises(TypeError, match="pipeline must be"):
        train(m, tx, ty, epochs=1, pipeline="scan", progress=False)
    with pytest.raises(TypeError, match=r"optimizer must be adamw_cosine\(...\), an optax.Gra.* or None, got str"):
        train(m, tx, ty, epochs=1, optimizer="adam", progress=False)
    with pytest.raises(TypeError, match="model must come from make_model"):
        train(object(), tx, ty, epochs=1, progress=False)
    with pytest.raises(TypeError, match="TrainResult"):
        evaluate(m, tx, ty)


@pytest.mark.parametrize("shape", [(3, 28, 28, 4), (2, 7, 9, 3), (2, 8, 8, 1), (1, 1, 1, 2), (1, 3, 1, 1)])
def test_max_pool_equals_reduce_window(shape):
    """The reshape max-pool equals XLA's "SAME" reduce_window, values and gradients
    (random normal inputs: no ties, where the two may split the gradient differently)."""

    def reference(x):
        return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "SAME")

    x = jnp.asarray(np.random.default_rng(sum(shape)).standard_normal(shape), jnp.float32)
    np.testing.assert_array_equal(np.asarray(max_pool(x)), np.asarray(reference(x)))
    grad = jax.grad(lambda v: (max_pool(v) ** 2).sum())(x)
    grad_ref = jax.grad(lambda v: (reference(v) ** 2).sum())(x)
    np.testing.assert_array_equal(np.asarray(grad), np.asarray(grad_ref))


@pytest.mark.parametrize("kw, name", [({"epochs": 0}, "epochs"),
                                      ({"batch_size": 0}, "batch_size")])
def test_bad_numbers_are_refused_before_any_work(kw, name):
    # The number is checked first: even with no model and no data the error names it.
    with pytest.raises(ValueError, match=rf"^{name} must be a "):
        train(object(), None, None, progress=False, **kw)
    with pytest.raises(TypeError, match=rf"^{name} must be"):
        train(object(), None, None, progress=False, **{name: "1"})


@pytest.mark.parametrize("kw, name", [({"learning_rate": float("nan")}, "learning_rate"),
                                      ({"learning_rate": float("inf")}, "learning_rate"),
                                      ({"learning_rate": -1e-3}, "learning_rate"),
                                      ({"learning_rate": 0.0}, "learning_rate"),
                                      ({"weight_decay": float("nan")}, "weight_decay"),
                                      ({"weight_decay": -1.0}, "weight_decay")])
def test_bad_optimizer_settings_are_refused_when_built(kw, name):
    from vortexnumba.learn import AdamWCosine, adamw_cosine

    with pytest.raises(ValueError, match=rf"^{name} must be a "):
        adamw_cosine(**kw)
    with pytest.raises(ValueError, match=rf"^{name} must be a "):
        AdamWCosine(**kw)
    with pytest.raises(TypeError, match=rf"^{name} must be"):
        adamw_cosine(**{name: "1"})


def test_optimizer_default_is_adamw_cosine_and_any_optax_optimizer_works(digits):
    import optax

    from vortexnumba.learn import adamw_cosine, default_optimizer

    tx, ty, _, _ = digits
    tx, ty = tx[:128], ty[:128]
    m = make_model("mlp", tx.shape[1:], 10, seed=0)
    kw = dict(epochs=2, batch_size=64, seed=0, progress=False)
    default = train(m, tx, ty, optimizer=adamw_cosine(2e-3, 1e-3), **kw)
    assert default.optimizer == {"name": "adamw", "learning_rate": 2e-3, "weight_decay": 1e-3,
                                 "schedule": "cosine decay to 0", "decay_steps": 4, "b1": 0.9, "b2": 0.999,
                                 "eps": 1e-8}
    # The same optimizer passed explicitly: the same training, bit for bit.
    explicit = train(m, tx, ty, optimizer=default_optimizer(2e-3, 1e-3, 4), **kw)
    assert all(np.array_equal(a, b) for a, b in zip(leaves(default.model), leaves(explicit.model), strict=False))
    assert explicit.optimizer["name"] == "custom"
    sgd = train(m, tx, ty, optimizer=optax.sgd(0.05), **kw)
    assert sgd.optimizer["name"] == "custom" and sgd.optimizer["init"]
    assert not np.array_equal(leaves(sgd.model)[0], leaves(default.model)[0])
    assert all(np.isfinite(h["loss"]) for h in sgd.history)
    # No optimizer is adamw_cosine() with its defaults.
    assert train(m, tx, ty, **kw).optimizer == {**default.optimizer, "learning_rate": 1e-3, "weight_decay": 1e-4}


def test_compiled_step_is_the_training_step(digits):
    from vortexnumba.learn import compiled_step

    tx, ty, _, _ = digits
    m = make_model("mlp", tx.shape[1:], 10, seed=0)
    cs = compiled_step(m, total_steps=2, xla_options=None)
    x, y = jnp.asarray(tx[:64, ..., None]), jnp.asarray(ty[:64].astype(np.int32))
    before = np.asarray(jax.tree_util.tree_leaves(cs.params)[0])
    p, o, s, metrics = cs.step(cs.params, cs.optimizer.init(cs.params), cs.state, x, y,
                               jnp.arange(64, dtype=jnp.int32), jnp.ones(64), jnp.float32(0.3), jnp.float32(0.4))
    assert float(metrics[2]) == 64.0 and 0 <= float(metrics[1]) <= 64
    assert not np.array_equal(np.asarray(jax.tree_util.tree_leaves(p)[0]), before)
    np.testing.assert_array_equal(np.asarray(m.hidden[0].weight), before)  # the model's own arrays survive
    with pytest.raises(ValueError, match="total_steps must be a positive int"):
        compiled_step(m, total_steps=0)
