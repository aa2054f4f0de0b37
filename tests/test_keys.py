"""Keys: the specified random draw, validation, JSON round trips and refusal of damaged files."""

import json

import naive
import numpy as np
import pytest
from conftest import examples  # Hypothesis budgets scale with the profile (tests/conftest.py)
from hypothesis import given, settings
from hypothesis import strategies as st

import vortexnumba as vn
from vortexnumba.cipher._keys import src_sha256

# hypothesis draws tiny grids and weak strengths, where a key that moves nothing is expected
pytestmark = pytest.mark.filterwarnings("ignore::vortexnumba.cipher.IdentityKeyWarning")

SETTINGS = settings(max_examples=examples(20))


def spec_draw(shape, n, seed):
    """The draw order the specification fixes, written out independently."""
    h, w = shape
    rng = np.random.default_rng(seed)
    out = []
    for i in range(1, n + 1):
        while True:
            cy = rng.integers(0, h)
            cx = rng.integers(0, w)
            r = min(cy, cx, h - 1 - cy, w - 1 - cx)
            if r >= 1:
                break
        out.append(((int(cy), int(cx)), int(r), i % 5 + 1, tuple(rng.uniform(-2, 0, 6))))
    return out


@SETTINGS
@given(st.integers(3, 40), st.integers(3, 40), st.integers(0, 12), st.integers(0, 2**63 - 1),
       st.sampled_from(["bijective", "paper"]))
def test_random_key_follows_the_specified_draw(h, w, n, seed, mode):
    key = vn.VortexKey.random((h, w), n_vortices=n, strength=0.8, mode=mode, seed=seed)
    expected = spec_draw((h, w), n, seed)
    assert [(v.centre, v.radius, v.family, v.weights) for v in key.vortices] == expected
    assert all(v.strength == 0.8 for v in key.vortices)
    assert key.mode == mode and key.shape == (h, w)
    ref = naive.rvt_key_src((h, w), mode, [(c, r, f, wt, 0.8) for c, r, f, wt in expected])
    assert key.src.tolist() == ref


def test_same_seed_same_bytes_and_families_cycle():
    a = vn.VortexKey.random((28, 28), seed=7)
    b = vn.VortexKey.random((28, 28), seed=7)
    assert a == b and a.src.tobytes() == b.src.tobytes()
    assert [v.family for v in a.vortices] == [2, 3, 4, 5, 1, 2, 3, 4, 5, 1]
    assert vn.VortexKey.random((28, 28), seed=8) != a


def test_src_is_cached_read_only_and_bijective_has_inverse():
    key = vn.VortexKey.random((16, 12), seed=1)
    assert key.src is key.src
    with pytest.raises(ValueError):
        key.src[0] = 5
    assert key.is_bijective
    assert np.array_equal(key.src[key.inverse_src], np.arange(16 * 12))


def test_paper_key_has_no_inverse():
    key = vn.VortexKey.random((28, 28), mode="paper", seed=0)
    assert not key.is_bijective
    with pytest.raises(ValueError, match="no inverse"):
        _ = key.inverse_src


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(shape=(2, 9)), ValueError, "at least 3x3"),
        (dict(shape=(8, 8), mode="swirl"), ValueError, "mode"),
        (dict(shape=(8, 8), n_vortices=-1), ValueError, "n_vortices"),
        (dict(shape=(8, 8), n_vortices=2.5), TypeError, "n_vortices"),
        (dict(shape=(8, 8), strength=float("nan")), ValueError, "strength"),
        (dict(shape=(8, 8), seed=1.5), TypeError, "seed"),
        (dict(shape=(8,)), ValueError, "shape"),
    ],
)
def test_random_refuses_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        vn.VortexKey.random(**kwargs)


def test_explicit_vortices_and_their_validation():
    v = {"centre": [4, 4], "radius": 3, "family": 1, "weights": [-1.0] * 6, "strength": 0.5}
    key = vn.VortexKey((9, 9), "bijective", [v])
    assert key.vortices[0] == vn.Vortex((4, 4), 3, 1, (-1.0,) * 6, 0.5)
    with pytest.raises(ValueError, match="does not fit"):
        vn.VortexKey((9, 9), "bijective", [dict(v, radius=5)])
    with pytest.raises(ValueError, match="family"):
        vn.VortexKey((9, 9), "bijective", [dict(v, family=6)])
    with pytest.raises(ValueError, match="six"):
        vn.VortexKey((9, 9), "bijective", [dict(v, weights=[1.0] * 5)])
    with pytest.raises(ValueError, match="radius"):
        vn.Vortex((4, 4), 0, 1, (0.0,) * 6, 1.0)
    with pytest.raises(ValueError, match="finite"):
        vn.Vortex((4, 4), 1, 1, (0.0,) * 5 + (float("inf"),), 1.0)


@SETTINGS
@given(st.integers(3, 30), st.integers(3, 30), st.integers(0, 6), st.integers(0, 2**32),
       st.sampled_from(["bijective", "paper"]), st.floats(-3, 3))
def test_vortex_json_round_trip_is_exact(h, w, n, seed, mode, strength):
    key = vn.VortexKey.random((h, w), n_vortices=n, strength=strength, mode=mode, seed=seed)
    text = key.to_json()
    back = vn.VortexKey.from_json(text)
    assert back == key
    assert [v.weights for v in back.vortices] == [v.weights for v in key.vortices]  # bit-exact floats
    assert np.array_equal(back.src, key.src)
    doc = json.loads(text)
    assert doc["format"] == "vortexnumba-key" and doc["version"] == 1 and doc["kind"] == "vortex"
    assert doc["src_sha256"] == src_sha256(key.src)
    assert vn.key_from_json(text) == key


@SETTINGS
@given(st.integers(1, 20), st.integers(1, 20), st.integers(0, 2**32))
def test_permutation_and_identity_keys_round_trip(h, w, seed):
    key = vn.PermutationKey.random((h, w), seed=seed)
    assert sorted(key.src.tolist()) == list(range(h * w))
    assert vn.key_from_json(key.to_json()) == key
    assert vn.PermutationKey.random((h, w), seed=seed) == key
    ident = vn.IdentityKey((h, w))
    assert np.array_equal(ident.src, np.arange(h * w))
    assert vn.key_from_json(ident.to_json()) == ident


@SETTINGS
@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 4), st.integers(0, 2**32))
def test_block_key_moves_whole_tiles(th, tw, block, seed):
    h, w = th * block, tw * block
    key = vn.BlockKey.random((h, w), block=block, seed=seed)
    assert vn.key_from_json(key.to_json()) == key
    src = key.src.reshape(h, w)
    for ty in range(th):
        for tx in range(tx_range := tw):
            tile = src[ty * block:(ty + 1) * block, tx * block:(tx + 1) * block]
            si, sj = np.divmod(tile, w)
            # a whole tile read from one source tile, offsets kept
            assert (si - si[0, 0] == np.arange(block)[:, None]).all()
            assert (sj - sj[0, 0] == np.arange(block)[None, :]).all()
            assert si[0, 0] % block == 0 and sj[0, 0] % block == 0
            t_in = (si[0, 0] // block) * tx_range + sj[0, 0] // block
            assert t_in == key.order[ty * tw + tx]
    assert sorted(key.src.tolist()) == list(range(h * w))


def test_block_key_refuses_a_grid_that_is_not_whole_tiles():
    with pytest.raises(ValueError, match="does not divide the 28x30 grid"):
        vn.BlockKey.random((28, 30), block=4)


def _vortex_doc():
    return json.loads(vn.VortexKey.random((12, 10), n_vortices=3, seed=5).to_json())


def _mutations():
    """(description, function doc -> text) for every kind of damage."""
    def edit(fn):
        def apply():
            doc = _vortex_doc()
            fn(doc)
            return json.dumps(doc)
        return apply

    good = vn.VortexKey.random((12, 10), n_vortices=3, seed=5).to_json()
    return [
        ("truncated", lambda: good[: len(good) // 2], "not valid JSON"),
        ("empty", lambda: "", "not valid JSON"),
        ("binary", lambda: b"\xff\xfe\x00", "UTF-8"),
        ("array", lambda: "[1, 2]", "JSON object"),
        ("format", edit(lambda d: d.update(format="other")), "format"),
        ("version", edit(lambda d: d.update(version=2)), "version"),
        ("kind", edit(lambda d: d.update(kind="spiral")), "kind"),
        ("no mode", edit(lambda d: d.pop("mode")), "mode"),
        ("bad mode", edit(lambda d: d.update(mode="swirl")), "mode"),
        ("no digest", edit(lambda d: d.pop("src_sha256")), "src_sha256"),
        ("shape", edit(lambda d: d.update(shape=[12])), "shape"),
        ("shape type", edit(lambda d: d.update(shape=[12, "10"])), "shape"),
        ("extra field", edit(lambda d: d.update(seed=3)), "unknown"),
        ("vortices type", edit(lambda d: d.update(vortices={})), "vortices"),
        ("missing radius", edit(lambda d: d["vortices"][0].pop("radius")), "radius"),
        ("radius too big", edit(lambda d: d["vortices"][0].update(radius=50)), "does not fit"),
        ("family", edit(lambda d: d["vortices"][1].update(family=9)), "family"),
        ("weights", edit(lambda d: d["vortices"][1].update(weights=[0.1] * 5)), "six"),
        ("weight type", edit(lambda d: d["vortices"][1]["weights"].__setitem__(0, "x")), "weights"),
        ("strength", edit(lambda d: d["vortices"][2].update(strength=None)), "strength"),
        ("strength edited", edit(lambda d: [v.update(strength=4.0) for v in d["vortices"]]), "SHA-256"),
        ("digest edited", edit(lambda d: d.update(src_sha256="0" * 64)), "SHA-256"),
        ("shape changed", edit(lambda d: d.update(shape=[13, 10])), "SHA-256"),
    ]


@pytest.mark.parametrize("name, make, match", _mutations(), ids=[m[0] for m in _mutations()])
def test_damaged_vortex_keys_are_refused(name, make, match):
    with pytest.raises(ValueError, match=match):
        vn.VortexKey.from_json(make())
    with pytest.raises(ValueError):
        vn.key_from_json(make())


def test_strength_edit_really_changes_the_map():
    # makes the "strength edited" case above a real test of the digest check
    doc = _vortex_doc()
    edited = vn.VortexKey((12, 10), doc["mode"], [dict(v, strength=4.0) for v in doc["vortices"]])
    assert not np.array_equal(edited.src, vn.VortexKey.random((12, 10), n_vortices=3, seed=5).src)


def test_damaged_baseline_keys_are_refused():
    perm = json.loads(vn.PermutationKey.random((4, 4), seed=0).to_json())
    perm["src"] = perm["src"][:-1]
    with pytest.raises(ValueError, match="truncated"):
        vn.key_from_json(json.dumps(perm))
    perm["src"] = [0] * 16
    with pytest.raises(ValueError, match="exactly once"):
        vn.key_from_json(json.dumps(perm))
    block = json.loads(vn.BlockKey.random((8, 8), block=2, seed=0).to_json())
    block["order"][0], block["order"][1] = block["order"][1], block["order"][0]
    with pytest.raises(ValueError, match="SHA-256"):
        vn.key_from_json(json.dumps(block))
    block["block"] = 3
    with pytest.raises(ValueError, match="does not divide"):
        vn.key_from_json(json.dumps(block))
    ident = json.loads(vn.IdentityKey((3, 3)).to_json())
    with pytest.raises(ValueError, match="kind 'identity'"):
        vn.VortexKey.from_json(json.dumps(ident))
