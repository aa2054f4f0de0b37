"""Cipher metrics on inputs with known answers, and the plaintext attacks on every key kind."""

import math

import numpy as np
import pytest
from conftest import examples  # Hypothesis budgets scale with the profile (tests/conftest.py)
from hypothesis import given, settings
from hypothesis import strategies as st

import vortexnumba as vn
from vortexnumba import security as sec
from vortexnumba.cipher import _vortex

SETTINGS = settings(max_examples=examples(20))


def _digits():
    from vortexnumba import data

    train_x, _, test_x, _ = data.load("digits")
    return train_x, test_x


# --------------------------------------------------------------------------- correlation


def test_correlation_of_crafted_images():
    ramp = np.tile(np.linspace(0, 1, 9), (9, 1))  # every row the same ramp
    corr = sec.adjacent_correlation(ramp)
    assert corr["horizontal"] == pytest.approx(1.0)  # b = a + 1/8
    assert corr["vertical"] == pytest.approx(1.0)  # b = a
    assert math.isnan(sec.adjacent_correlation(np.zeros((5, 5)))["horizontal"])  # no variance: undefined
    assert math.isnan(sec.adjacent_correlation(np.ones((1, 5)))["vertical"])  # no vertical pairs
    # checkerboard: every horizontal and vertical neighbour is the opposite value, diagonal the same
    board = (np.indices((6, 6)).sum(axis=0) % 2).astype(np.float64)
    corr = sec.adjacent_correlation(board)
    assert corr["horizontal"] == pytest.approx(-1.0)
    assert corr["vertical"] == pytest.approx(-1.0)
    assert corr["diagonal"] == pytest.approx(1.0)


def test_correlation_matches_numpy_corrcoef_and_drops_under_encryption():
    train_x, _ = _digits()
    x = train_x[:200]
    corr = sec.adjacent_correlation(x)
    a, b = x[:, :, :-1].ravel() / 255.0, x[:, :, 1:].ravel() / 255.0
    assert corr["horizontal"] == pytest.approx(np.corrcoef(a, b)[0, 1], rel=1e-12)
    a, b = x[:, :-1, :-1].ravel() / 255.0, x[:, 1:, 1:].ravel() / 255.0
    assert corr["diagonal"] == pytest.approx(np.corrcoef(a, b)[0, 1], rel=1e-12)
    perm = sec.adjacent_correlation(vn.encrypt(x, vn.PermutationKey.random((8, 8), seed=0)))
    assert all(corr[d] > 0.2 for d in sec.DIRECTIONS)  # 8x8 digits: 0.39, 0.70, 0.23
    assert abs(perm["horizontal"]) < 0.1 and abs(perm["vertical"]) < 0.1
    assert sum(corr.values()) - sum(perm.values()) > 0.9


def test_rgb_image_is_read_as_one_image():
    img = np.random.default_rng(0).random((6, 7, 3))
    assert sec.adjacent_correlation(img) == sec.adjacent_correlation(img, channels=True)
    a, _ = sec.adjacent_pairs(img, "vertical")
    assert a.size == 5 * 7 * 3


# --------------------------------------------------------------------------- histogram / entropy


def test_histogram_and_entropy_known_answers():
    x = np.arange(256, dtype=np.uint8).reshape(16, 16)
    assert (sec.histogram(x) == 1).all()
    assert sec.shannon_entropy(x) == 8.0
    assert sec.shannon_entropy(np.zeros((4, 4), np.uint8)) == 0.0
    half = np.array([[0, 255], [0, 255]], dtype=np.uint8)
    assert sec.shannon_entropy(half) == 1.0
    assert sec.histogram(x, bins=4).tolist() == [64, 64, 64, 64]
    f = np.array([[0.0, 1.0], [0.5, 0.49]])
    assert sec.histogram(f, bins=2).tolist() == [2, 2]  # [0, 0.5) and [0.5, 1]
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        sec.histogram(np.array([[1.5, 0.0]]))


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(2, 9), st.integers(2, 9), st.sampled_from([np.uint8, np.float64]))
def test_every_permutation_keeps_histogram_and_entropy(seed, h, w, dtype):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (3, h, w)).astype(np.uint8)
    if dtype is np.float64:
        x = x / 255.0
    y = vn.apply_src(x, rng.permutation(h * w), channels=False)
    assert np.array_equal(sec.histogram(y), sec.histogram(x))
    assert sec.shannon_entropy(y) == sec.shannon_entropy(x)


# --------------------------------------------------------------------------- NPCR / UACI


def test_npcr_uaci_known_answers():
    a = np.zeros((4, 4), np.uint8)
    assert sec.npcr_uaci(a, a) == (0.0, 0.0)
    b = np.full((4, 4), 255, np.uint8)
    assert sec.npcr_uaci(a, b) == (100.0, 100.0)
    c = a.copy()
    c[0, :2] = [255, 51]
    npcr, uaci = sec.npcr_uaci(a, c)
    assert npcr == 2 / 16 * 100
    assert uaci == pytest.approx((1.0 + 0.2) / 16 * 100)
    assert sec.npcr_uaci(a / 255.0, c / 255.0)[1] == pytest.approx(uaci)
    # two independent uniform images: the ideal values of Wu et al.
    rng = np.random.default_rng(0)
    u, v = rng.integers(0, 256, (2, 400, 400), dtype=np.uint8)
    npcr, uaci = sec.npcr_uaci(u, v)
    assert npcr == pytest.approx(99.6094, abs=0.05)
    assert uaci == pytest.approx(33.4635, abs=0.2)
    with pytest.raises(ValueError, match="same shape"):
        sec.npcr_uaci(a, a[:3])
    with pytest.raises(TypeError, match="same dtype"):
        sec.npcr_uaci(a, a.astype(float))


@pytest.mark.parametrize("key", [
    vn.VortexKey.random((8, 8), seed=1),
    vn.PermutationKey.random((8, 8), seed=1),
    vn.BlockKey.random((8, 8), block=2, seed=1),
])
def test_plaintext_sensitivity_of_a_pixel_mover_is_one_pixel(key):
    _, test_x = _digits()
    for img in test_x[:5]:
        npcr, uaci = sec.plaintext_sensitivity(img, key, (3, 4))
        assert npcr == 100 / 64
        assert uaci == pytest.approx(abs(255 - 2 * int(img[3, 4])) / 255 / 64 * 100)


def test_perturbed_keys_differ_in_exactly_one_parameter():
    key = vn.VortexKey.random((16, 16), n_vortices=4, seed=2)
    for parameter in ("weight", "weight-ulp", "strength", "centre"):
        other = sec.perturb_key(key, parameter, vortex=1)
        assert other.vortices[0] == key.vortices[0] and other.vortices[2:] == key.vortices[2:]
        a, b = key.vortices[1], other.vortices[1]
        changed = [f for f in ("centre", "radius", "family", "weights", "strength") if getattr(a, f) != getattr(b, f)]
        assert changed == {"weight": ["weights"], "weight-ulp": ["weights"], "strength": ["strength"],
                           "centre": ["centre"]}[parameter]
    assert sec.perturb_key(key, "weight-ulp").vortices[0].weights[0] == np.nextafter(key.vortices[0].weights[0], 1)
    moved = sec.perturb_key(key, "centre").vortices[0].centre
    assert abs(moved[0] - key.vortices[0].centre[0]) + abs(moved[1] - key.vortices[0].centre[1]) == 1
    perm = vn.PermutationKey.random((4, 4), seed=0)
    swapped = sec.perturb_key(perm, "swap")
    assert np.count_nonzero(swapped.src != perm.src) == 2
    with pytest.raises(ValueError, match="parameter"):
        sec.perturb_key(perm, "weight")
    with pytest.raises(ValueError, match="keeps its disc"):
        sec.perturb_key(vn.VortexKey.random((3, 3), n_vortices=1, seed=0), "centre")


def test_key_sensitivity_is_low_for_vortex_keys():
    _, test_x = _digits()
    x = np.zeros((50, 28, 28), np.uint8)
    x[:, 10:18, 4:24] = 200  # a bar
    x[:, 2:26, 13:15] = 90
    key = vn.VortexKey.random((28, 28), seed=0)
    tiny = sec.key_sensitivity(x, key, "weight-ulp")
    assert tiny == {"npcr": 0.0, "uaci": 0.0, "map_changed": 0.0}  # one ulp never changes a rounded turn
    moved = sec.key_sensitivity(x, key, "centre")
    assert 0 < moved["map_changed"] < 1
    npcr, _ = sec.npcr_uaci(vn.encrypt(x, key), vn.encrypt(x, sec.perturb_key(key, "centre")))
    assert moved["npcr"] == npcr
    swap = sec.key_sensitivity(x, vn.PermutationKey.random((28, 28), seed=0), "swap")
    assert swap["map_changed"] == 2 / 784


# --------------------------------------------------------------------------- key space


def test_key_space_exact_counts():
    assert sec.key_space(vn.PermutationKey.random((3, 3), seed=0)).bits == pytest.approx(math.log2(362880))
    ks = sec.key_space(vn.BlockKey.random((8, 8), block=2, seed=0))
    assert ks.exact and ks.bits == pytest.approx(math.log2(math.factorial(16)))
    assert sec.key_space(vn.IdentityKey((5, 5))).bits == 0.0


@pytest.mark.parametrize("mode", ["bijective", "paper"])
def test_vortex_signatures_identify_the_real_maps(mode):
    """Equal sampled signatures <=> equal vortex maps built by the real geometry code."""
    rng = np.random.default_rng(7)
    r, family, strength = 4, 3, 0.8
    weights = rng.uniform(-2, 0, (60, 6))
    sig = sec._keyspace._vortex_signatures(mode, r, family, strength, weights)
    side = 2 * r + 1
    maps = [_vortex.vortex_src((side, side), mode, r, r, r, family, tuple(w), strength) for w in weights]
    for i in range(len(weights)):
        for j in range(i):
            assert np.array_equal(sig[i], sig[j]) == np.array_equal(maps[i], maps[j])


def test_vortex_key_space_estimate_is_far_below_parameter_bits():
    key = vn.VortexKey.random((12, 12), n_vortices=3, seed=0)
    ks = sec.key_space(key, n_samples=512)
    assert not ks.exact and "estimate" in ks.method
    assert 0 < ks.bits < ks.parameter_bits / 10
    # the radius-1 vortex has one map only (its single ring never turns)
    assert [d["distinct"] for d in ks.details if d["radius"] == 1] == [1] * 3
    # the estimate is reproducible
    assert sec.key_space(key, n_samples=512).bits == ks.bits


# --------------------------------------------------------------------------- attacks


def _naive_recover(plain, cipher):
    """Reference: compare every output position's values with every input position's, one by one."""
    b, h, w = plain.shape[:3]
    p_sig = [tuple(plain.reshape(b, h * w, -1)[:, q].ravel().tolist()) for q in range(h * w)]
    c_sig = [tuple(cipher.reshape(b, h * w, -1)[:, p].ravel().tolist()) for p in range(h * w)]
    index = []
    for p in range(h * w):
        matches = [q for q in range(h * w) if p_sig[q] == c_sig[p]]
        assert matches, "no fixed map"
        index.append(matches[0] if len(matches) == 1 else -1)
    return np.array(index), index.count(-1)


KEYS8 = [
    vn.VortexKey.random((8, 8), seed=3),
    vn.VortexKey.random((8, 8), seed=3, mode="paper"),
    vn.PermutationKey.random((8, 8), seed=3),
    vn.BlockKey.random((8, 8), block=2, seed=3),
]


@pytest.mark.parametrize("key", KEYS8)
def test_known_plaintext_on_real_images_matches_the_naive_attack(key):
    train_x, test_x = _digits()
    for n_pairs in (1, 3, 30, 400):
        plain = train_x[:n_pairs]
        cipher = vn.encrypt(plain, key)
        index, n_ambiguous = sec.recover_index(plain, cipher)
        ref_index, ref_ambiguous = _naive_recover(plain, cipher)
        assert np.array_equal(index, ref_index) and n_ambiguous == ref_ambiguous
        known = index >= 0
        assert np.array_equal(index[known], key.src[known])
    # 400 digits leave ambiguous only outputs whose source pixel is 0 in all of them (the left and right edge)
    always_zero = (train_x[:400] == 0).all(axis=0).ravel()
    assert n_ambiguous == np.count_nonzero(always_zero[key.src]) if key.is_bijective else n_ambiguous <= 8
    if key.is_bijective:
        # scattering the cipher back through the known entries (0 elsewhere) decrypts the test set almost exactly
        stolen = np.zeros((len(test_x), 64), np.uint8)
        stolen[:, index[known]] = vn.encrypt(test_x, key).reshape(-1, 64)[:, known]
        assert np.mean(stolen == test_x.reshape(-1, 64)) > 0.999
    k, curve = sec.pairs_to_recover(train_x, vn.encrypt(train_x, key), target=0.9)
    assert k is not None and curve[k - 1] >= 0.9 and (k == 1 or curve[k - 2] < 0.9)
    assert np.all(np.diff(curve[:k]) >= 0)


@pytest.mark.parametrize("key", KEYS8)
def test_known_plaintext_recovers_every_key_completely(key):
    rng = np.random.default_rng(0)
    plain = rng.integers(0, 256, (4, 8, 8), dtype=np.uint8)
    k, curve = sec.pairs_to_recover(plain, vn.encrypt(plain, key))
    assert k is not None and curve[k - 1] == 1.0
    index, n_ambiguous = sec.recover_index(plain[:k], vn.encrypt(plain[:k], key))
    assert n_ambiguous == 0 and np.array_equal(index, key.src)
    if k > 1:
        assert sec.recover_index(plain[: k - 1], vn.encrypt(plain[: k - 1], key))[1] > 0


def test_ambiguity_count_on_crafted_pairs():
    # 2 pairs on a 2x3 grid: positions 0 and 4 share the signature (1, 1), position 2 and 5 share (0, 0)
    plain = np.array([[[1, 2, 0], [3, 1, 0]],
                      [[1, 5, 0], [6, 1, 0]]], dtype=np.uint8)
    src = np.array([4, 5, 3, 0, 1, 2])
    cipher = vn.apply_src(plain, src, channels=False)
    index, n_ambiguous = sec.recover_index(plain, cipher)
    # outputs 0 and 3 read positions 4 and 0 (both (1, 1)); outputs 1 and 5 read 5 and 2 (both (0, 0))
    assert index.tolist() == [-1, -1, 3, -1, 1, -1]
    assert n_ambiguous == 4
    # a third pair that separates 0 from 4 but not 2 from 5
    plain3 = np.concatenate([plain, [[[9, 2, 0], [3, 8, 0]]]]).astype(np.uint8)
    index, n_ambiguous = sec.recover_index(plain3, vn.apply_src(plain3, src, channels=False))
    assert index.tolist() == [4, -1, 3, 0, 1, -1] and n_ambiguous == 2
    # channels count as extra evidence: pairs as one 2-channel image
    rgb = np.moveaxis(plain3, 0, -1)[None]
    index, n_ambiguous = sec.recover_index(rgb, vn.apply_src(rgb, src))
    assert n_ambiguous == 2


def test_recover_index_refuses_unrelated_pairs():
    x = np.arange(16, dtype=np.uint8).reshape(1, 4, 4)
    y = x.copy()
    y[0, 0, 0] = 200
    with pytest.raises(ValueError, match="not related by one fixed spatial map"):
        sec.recover_index(x, y)
    with pytest.raises(ValueError, match="same shape"):
        sec.recover_index(x, x[:, :3])
    with pytest.raises(TypeError, match="same dtype"):
        sec.recover_index(x, x.astype(np.int16))


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(1, 40), st.integers(1, 40), st.sampled_from(["images", "channels"]))
def test_chosen_plaintext_recovers_any_permutation_at_once(seed, h, w, layout):
    src = np.random.default_rng(seed).permutation(h * w)
    probe = sec.chosen_plaintext((h, w), layout=layout)
    digits = max(1, math.ceil(math.log(h * w, 256))) if h * w > 1 else 1
    assert probe.shape == ((digits, h, w) if layout == "images" else (h, w, digits))
    cipher = vn.apply_src(probe, src, channels=layout == "channels")
    index, n_ambiguous = sec.recover_index(probe if layout == "images" else probe[None],
                                           cipher if layout == "images" else cipher[None])
    assert n_ambiguous == 0 and np.array_equal(index, src)


def test_chosen_plaintext_recovers_keys_and_large_grids():
    for key in (vn.VortexKey.random((28, 28), seed=9), vn.VortexKey.random((28, 28), seed=9, mode="paper"),
                vn.BlockKey.random((28, 28), block=7, seed=9)):
        probe = sec.chosen_plaintext(key.shape)
        index, n_ambiguous = sec.recover_index(probe, vn.encrypt(probe, key))
        assert n_ambiguous == 0 and np.array_equal(index, key.src)
    probe = sec.chosen_plaintext((300, 300), layout="channels")  # 90,000 pixels: 3 digits, one RGB image
    assert probe.shape == (300, 300, 3)
    src = np.random.default_rng(0).permutation(90000)
    index, n_ambiguous = sec.recover_index(probe[None], vn.apply_src(probe, src)[None])
    assert n_ambiguous == 0 and np.array_equal(index, src)
