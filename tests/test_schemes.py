"""LE, ELE, EtC, PE and block-wise keys: fast engine against the slow transcriptions in naive.py,
exact round trips, JSON, refusals, pe_each."""

import json
import math
import time

import naive
import numpy as np
import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import vortexnumba as vn
from vortexnumba.cipher import ElementPlan, apply_plan

pytestmark = pytest.mark.filterwarnings("ignore::vortexnumba.cipher.IdentityKeyWarning")

SETTINGS = settings(max_examples=examples(30))
KINDS = ("le", "ele", "etc", "pe", "blockwise")
NIBBLE_KINDS = ("le", "ele")


def make_key(kind, shape, block, channels, seed, negate=True, shuffle_blocks=True):
    if kind == "le":
        return vn.LEKey.random(shape, block=block, channels=channels, seed=seed)
    if kind == "ele":
        return vn.ELEKey.random(shape, block=block, channels=channels, seed=seed)
    if kind == "etc":
        return vn.EtCKey.random(shape, block=block, channels=channels, seed=seed)
    if kind == "pe":
        return vn.PEKey.random(shape, channels=channels, seed=seed)
    return vn.BlockwiseKey.random(shape, block=block, channels=channels, negate=negate,
                                  shuffle_blocks=shuffle_blocks, seed=seed)


def images(rng, batch, shape, channels, dtype, style):
    full = (batch, *shape) + ((channels,) if channels > 1 else ())
    if style == "two-valued":
        lo, hi = (0, 255) if dtype == np.uint8 else (0.0, 1.0)
        return np.where(rng.random(full) < 0.5, lo, hi).astype(dtype)
    if style == "constant":
        return np.full(full, 255 if dtype == np.uint8 else 1.0, dtype=dtype)
    if dtype == np.uint8:
        return rng.integers(0, 256, full, dtype=np.uint8)
    return rng.random(full).astype(dtype)


@st.composite
def cases(draw, kinds=KINDS):
    kind = draw(st.sampled_from(kinds))
    block = draw(st.sampled_from((1, 2, 3, 4)))
    shape = (block * draw(st.integers(1, 3)), block * draw(st.integers(1, 3)))
    channels = draw(st.sampled_from((1, 3)))
    dtypes = (np.uint8,) if kind in NIBBLE_KINDS else (np.uint8, np.float32, np.float64)
    dtype = draw(st.sampled_from(dtypes))
    style = draw(st.sampled_from(("random", "two-valued", "constant")))
    seed = draw(st.integers(0, 2**32 - 1))
    negate = draw(st.booleans())
    shuffle = draw(st.booleans())
    key = make_key(kind, shape, block, channels, seed, negate, shuffle)
    x = images(np.random.default_rng(seed), draw(st.integers(1, 3)), shape, channels, dtype, style)
    return key, x


def _bits(a):
    return np.ascontiguousarray(a).view(np.uint8)


@SETTINGS
@given(cases())
def test_encrypt_matches_the_slow_transcription(case):
    key, x = case
    ref = np.stack([naive.scheme_apply(img, key) for img in x])
    comp = vn.encrypt(x, key, channels=False if x.ndim == 3 else None)
    assert comp.dtype == x.dtype
    assert np.array_equal(_bits(ref), _bits(comp))


@SETTINGS
@given(cases())
def test_decrypt_matches_the_slow_transcription(case):
    key, x = case
    ref = np.stack([naive.scheme_apply(img, key, inverse=True) for img in x])
    comp = vn.decrypt(x, key, channels=False if x.ndim == 3 else None)
    assert np.array_equal(_bits(ref), _bits(comp))


@SETTINGS
@given(cases())
def test_round_trip_exact_on_uint8_within_rounding_on_float(case):
    key, x = case
    ch = False if x.ndim == 3 else None
    back = vn.decrypt(vn.encrypt(x, key, channels=ch), key, channels=ch)
    if x.dtype == np.uint8:
        assert np.array_equal(back, x)
    else:
        # 1 - (1 - x) is x up to one rounding: within one ulp of 1.0
        assert np.max(np.abs(back.astype(np.float64) - x.astype(np.float64))) <= np.finfo(x.dtype).eps


@SETTINGS
@given(cases())
def test_json_round_trip_is_exact(case):
    key, x = case
    text = key.to_json()
    again = vn.key_from_json(text)
    assert again == key and type(again) is type(key)
    assert again.to_json() == text
    assert again.fingerprint == key.fingerprint
    assert np.array_equal(vn.encrypt(x, again, channels=False if x.ndim == 3 else None),
                          vn.encrypt(x, key, channels=False if x.ndim == 3 else None))


@SETTINGS
@given(cases())
def test_plan_is_the_key(case):
    """encrypt == gather then negate as element_plan says; src is the tracking map of the plan."""
    key, x = case
    c = 1 if x.ndim == 3 else x.shape[-1]
    plan = key.element_plan(c)
    assert plan.unit == ("nibble" if key.kind in NIBBLE_KINDS else "element")
    assert plan.src.shape == (key.n_pixels * c * (2 if plan.unit == "nibble" else 1),)
    assert sorted(plan.src.tolist()) == list(range(plan.n_units))
    ch = False if x.ndim == 3 else None
    assert np.array_equal(_bits(apply_plan(x, plan, channels=ch)), _bits(vn.encrypt(x, key, channels=ch)))
    # the pixel tracking map, read from the slow transcription: mark the top nibble/value of each pixel
    if plan.unit == "element":
        first = plan.src[::c] // c
    else:
        first = (plan.src[1::2 * c] >> 1) // c
    assert np.array_equal(key.src, first)
    if key.kind == "pe":
        assert np.array_equal(key.src, np.arange(key.n_pixels))
    assert key.is_spatial is False and key.channels == c and key.is_bijective


def test_tracking_map_follows_the_most_significant_bits():
    """For each output pixel p, src[p] is the pixel whose high nibble/value lands in p's first channel."""
    for kind in KINDS:
        key = make_key(kind, (4, 4), 2, 3, seed=5)
        for q in range(16):
            x = np.zeros((4, 4, 3), np.uint8)
            x.reshape(16, 3)[q] = 0xF0
            y = naive.scheme_apply(x, key).astype(np.int64)
            base = naive.scheme_apply(np.zeros_like(x), key).astype(np.int64)
            first = (y ^ base).reshape(16, 3)[:, 0] & 0xF0
            for p in np.flatnonzero(first):
                assert key.src[p] == q, (kind, p, q)


def test_le_flip_set_is_k_greater_than_d():
    key = vn.LEKey.random((4, 4), block=4, channels=3, seed=0)
    d = 48
    assert int(np.count_nonzero(key.perm > d)) == 47  # the values d+1 .. 2d-1
    assert int(np.count_nonzero(key.perm >= d)) == 48
    assert np.array_equal(key.flip, key.perm > d)


def test_le_by_hand_on_one_grey_pixel():
    # block 1, one channel: d = 1, v = [low, high]; k = [1, 0] swaps them, F = {i : k[i] > 1} is empty
    key = vn.LEKey((1, 1), 1, 1, [1, 0])
    assert vn.encrypt(np.array([[0x3A]], np.uint8), key)[0, 0] == 0xA3


def test_etc_negates_half_the_blocks_and_shuffles_channels_truly():
    key = vn.EtCKey.random((16, 16), block=4, channels=3, seed=1)
    assert int(key.negate.sum()) == 8  # floor(16 / 2) of the 16 blocks
    for row in key.channel_perm:
        assert sorted(row.tolist()) == [0, 1, 2]
    # a true channel permutation: each colour plane of a grey-valued block comes back distinct
    x = np.zeros((16, 16, 3), np.uint8)
    x[..., 0], x[..., 1], x[..., 2] = 10, 20, 30
    y = vn.encrypt(x, key)
    for b in range(16):
        i, j = divmod(b, 4)
        values = {int(v) for v in np.unique(y[4 * i:4 * i + 4, 4 * j:4 * j + 4])}
        assert len(values) == 3


def test_blockwise_without_negation_moves_values_of_any_dtype():
    key = vn.BlockwiseKey.random((4, 4), block=2, channels=1, seed=2)
    x = np.arange(16, dtype=np.int32).reshape(4, 4)
    y = vn.encrypt(x, key)
    assert sorted(y.ravel().tolist()) == list(range(16))
    assert np.array_equal(vn.decrypt(y, key), x)


# --------------------------------------------------------------------------- refusals

def test_nibble_keys_refuse_float_images_naming_the_dtype():
    for cls in (vn.LEKey, vn.ELEKey):
        key = cls.random((4, 4), block=2, channels=1, seed=0)
        with pytest.raises(TypeError, match="float64.*uint8"):
            vn.encrypt(np.zeros((4, 4)), key)
        with pytest.raises(TypeError, match="int16"):
            vn.decrypt(np.zeros((4, 4), np.int16), key)


def test_negating_keys_refuse_integer_dtypes_other_than_uint8():
    key = vn.PEKey.random((4, 4), channels=1, seed=0)
    with pytest.raises(TypeError, match="uint16"):
        vn.encrypt(np.zeros((4, 4), np.uint16), key)


def test_wrong_channel_count_names_both():
    key = vn.PEKey.random((4, 4), channels=3, seed=0)
    with pytest.raises(ValueError, match=r"1 channel.*3-channel"):
        vn.encrypt(np.zeros((2, 4, 4), np.uint8), key)
    key = vn.LEKey.random((4, 4), block=2, channels=1, seed=0)
    with pytest.raises(ValueError, match=r"3 channel.*1-channel"):
        vn.encrypt(np.zeros((4, 4, 3), np.uint8), key)


@pytest.mark.parametrize("kind", ["le", "ele", "etc", "blockwise"])
def test_non_divisible_grid_names_block_and_grid(kind):
    with pytest.raises(ValueError, match=r"block = 4 .*6x8"):
        make_key(kind, (6, 8), 4, 1, seed=0)


def test_caller_data_unchanged_and_out_buffer():
    key = vn.ELEKey.random((4, 4), block=2, channels=3, seed=0)
    x = np.random.default_rng(0).integers(0, 256, (2, 4, 4, 3), dtype=np.uint8)
    keep = x.copy()
    out = np.empty_like(x)
    y = vn.encrypt(x, key, out=out)
    assert y is out and np.array_equal(x, keep)
    # a non-contiguous view gives the same result as its copy
    xf = np.asfortranarray(x)
    assert np.array_equal(vn.encrypt(xf, key), y)
    assert np.array_equal(vn.encrypt(x[:, :, :, :], key), y)


# --------------------------------------------------------------------------- JSON refusals

@pytest.mark.parametrize("kind", KINDS)
def test_forged_json_refused(kind):
    key = make_key(kind, (8, 8), 4, 3, seed=3)
    doc = json.loads(key.to_json())
    field = {"le": "perm", "ele": "block_perm", "etc": "block_perm", "pe": "channel_perm",
             "blockwise": "pixel_perm"}[kind]
    values = doc[field]
    values[0], values[1] = values[1], values[0]  # still a valid permutation: only the digest catches it
    with pytest.raises(ValueError, match="SHA-256"):
        vn.key_from_json(json.dumps(doc))
    if kind in ("etc", "pe"):
        doc = json.loads(key.to_json())
        doc["negate"][0] = not doc["negate"][0]
        with pytest.raises(ValueError, match="SHA-256"):
            vn.key_from_json(json.dumps(doc))


@pytest.mark.parametrize("kind", KINDS)
def test_truncated_and_wrong_kind_refused(kind):
    key = make_key(kind, (8, 8), 4, 3, seed=3)
    text = key.to_json()
    for cut in (len(text) // 3, len(text) - 3):
        with pytest.raises(ValueError, match="truncated"):
            vn.key_from_json(text[:cut])
    other = vn.PermutationKey if kind != "pe" else vn.BlockKey
    with pytest.raises(ValueError, match=f"kind '{kind}'"):
        other.from_json(text)
    with pytest.raises(ValueError, match="unknown field"):
        vn.key_from_json(text.replace('"channels"', '"colours"'))


def test_large_forged_or_truncated_keys_refused_within_a_second():
    import base64

    key = vn.PEKey.random((512, 512), channels=3, seed=0)
    text = key.to_json()
    doc = json.loads(text)
    assert set(doc["channel_perm"]) == {"dtype", "shape", "base64"}  # large arrays are packed
    perm = np.frombuffer(base64.b64decode(doc["channel_perm"]["base64"]), np.uint8).copy()
    perm[0], perm[1] = perm[1], perm[0]
    doc["channel_perm"]["base64"] = base64.b64encode(perm.tobytes()).decode()
    forged = json.dumps(doc)
    for bad, match in ((forged, "SHA-256"), (text[: len(text) // 2], "truncated"),
                       (text.replace('"kind": "pe"', '"kind": "le"'), "unknown field|lacks"),
                       (text[: len(text) // 2] + text[len(text) // 2 + 1:], "truncated")):
        start = time.perf_counter()
        with pytest.raises(ValueError, match=match):
            vn.key_from_json(bad)
        assert time.perf_counter() - start < 1.0
    with pytest.raises(ValueError, match="kind 'pe'"):
        vn.LEKey.from_json(text)
    assert vn.key_from_json(text) == key


def test_save_and_load_every_kind(tmp_path):
    for kind in KINDS:
        key = make_key(kind, (8, 8), 2, 3, seed=1)
        path = vn.save_key(key, tmp_path / f"{kind}.json")
        assert vn.load_key(path, grid=(8, 8)) == key


# --------------------------------------------------------------------------- pe_each

def test_pe_each_reproducible_from_its_seed():
    x = np.random.default_rng(1).integers(0, 256, (5, 4, 6, 3), dtype=np.uint8)
    y, keys = vn.pe_each(x, seed=11, return_keys=True)
    assert np.array_equal(vn.pe_each(x, seed=11), y)
    seeds = np.random.default_rng(11).integers(0, 2**63 - 1, size=5, dtype=np.int64)
    for b in range(5):
        assert keys[b] == vn.PEKey.random((4, 6), channels=3, seed=int(seeds[b]))
        assert np.array_equal(naive.pe_apply(x[b], keys[b].negate, keys[b].channel_perm), y[b])
        assert np.array_equal(vn.decrypt(y[b], keys[b]), x[b])
    assert not np.array_equal(vn.pe_each(x, seed=12), y)
    # distinct keys per image
    assert len({k.fingerprint for k in keys}) == 5


def test_pe_each_float_and_grey():
    x = np.random.default_rng(2).random((3, 4, 4))
    y = vn.pe_each(x, seed=0, channels=False)
    assert y.shape == x.shape
    assert np.all((y == x) | (y == 1 - x))


def test_element_plan_of_spatial_keys():
    key = vn.PermutationKey.random((3, 3), seed=0)
    assert key.is_spatial and key.channels is None
    plan = key.element_plan(2)
    x = np.random.default_rng(0).integers(0, 256, (3, 3, 2), dtype=np.uint8)
    assert np.array_equal(apply_plan(x, plan), vn.encrypt(x, key))
    assert np.array_equal(apply_plan(vn.encrypt(x, key), key.inverse_plan(2)), x)


def test_element_plan_validation():
    with pytest.raises(ValueError, match="unit"):
        ElementPlan("pixel", np.arange(3))
    with pytest.raises(ValueError, match="negate"):
        ElementPlan("element", np.arange(3), np.zeros(2, bool))


# --------------------------------------------------------------------------- security basics

def _distinct_plans(keys):
    seen = set()
    for key in keys:
        plan = key.element_plan(key.channels)
        neg = np.zeros(plan.n_units, bool) if plan.negate is None else plan.negate
        seen.add((plan.src.tobytes(), neg.tobytes()))
    return len(seen)


def test_key_space_counts_match_enumeration():
    import itertools

    # EtC on two 2x2 blocks, one channel: every parameter combination, counted by distinct plan
    keys = []
    for bp in itertools.permutations(range(2)):
        for rot in itertools.product(range(4), repeat=2):
            for flip in itertools.product(range(3), repeat=2):
                for neg in ([True, False], [False, True]):
                    keys.append(vn.EtCKey((2, 4), 2, 1, list(bp), list(rot), list(flip), neg, [[0], [0]]))
    space = vn.security.key_space(keys[0])
    assert space.exact and round(2 ** space.bits) == _distinct_plans(keys) == 2 * 8 * 8 * 2
    # LE with d = 2 (a 1x1 block of 2 channels): all 4! nibble permutations give distinct plans
    keys = [vn.LEKey((1, 1), 1, 2, list(p)) for p in itertools.permutations(range(4))]
    assert round(2 ** vn.security.key_space(keys[0]).bits) == _distinct_plans(keys) == 24
    # PE on 1x2 pixels of 2 channels: (2^2 * 2!)^2
    keys = []
    for neg in itertools.product([False, True], repeat=4):
        for cp in itertools.product(itertools.permutations(range(2)), repeat=2):
            keys.append(vn.PEKey((1, 2), 2, np.array(neg).reshape(1, 2, 2), np.array(cp).reshape(1, 2, 2)))
    assert round(2 ** vn.security.key_space(keys[0]).bits) == _distinct_plans(keys) == 64
    # block-wise, 2x2 grid of 1x1 blocks, 2 channels, with negation and block shuffle: 2! * C(2, 1) * 4!
    keys = [vn.BlockwiseKey((2, 2), 1, 2, list(pp), np.array(ns), list(bp))
            for pp in itertools.permutations(range(2)) for ns in ([True, False], [False, True])
            for bp in itertools.permutations(range(4))]
    assert round(2 ** vn.security.key_space(keys[0]).bits) == _distinct_plans(keys) == 96


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("channels", [1, 3])
def test_chosen_plaintext_recovers_every_plan(kind, channels):
    key = make_key(kind, (8, 8), 2, channels, seed=4)
    unit = key.element_plan(channels).unit
    probe = vn.security.chosen_plaintext_plan((8, 8), channels, unit=unit)
    x = probe if channels == 3 else probe[..., 0]
    src, negate, n_ambiguous = vn.security.recover_plan(x, vn.encrypt(x, key, channels=False if channels == 1
                                                                      else None), unit=unit)
    plan = key.element_plan(channels)
    assert n_ambiguous == 0
    assert np.array_equal(src, plan.src)
    assert np.array_equal(negate, np.zeros(plan.n_units, bool) if plan.negate is None else plan.negate)
    assert probe.shape[0] == 1 + math.ceil(math.log(plan.n_units, 256 if unit == "element" else 16) - 1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_known_plaintext_pairs_recover_the_plan(kind):
    key = make_key(kind, (8, 8), 4, 3, seed=5)
    unit = key.element_plan(3).unit
    x = np.random.default_rng(0).integers(0, 256, (12, 8, 8, 3), dtype=np.uint8)
    k, curve = vn.security.plan_pairs_to_recover(x, vn.encrypt(x, key), unit=unit)
    assert k is not None and curve[k - 1] == 1.0
    src, negate, n_ambiguous = vn.security.recover_plan(x[:k], vn.encrypt(x[:k], key), unit=unit)
    assert n_ambiguous == 0 and np.array_equal(src, key.element_plan(3).src)


def test_audit_of_value_changing_keys():
    x = np.random.default_rng(0).integers(0, 256, (20, 8, 8, 3), dtype=np.uint8)
    for kind in KINDS:
        key = make_key(kind, (8, 8), 4, 3, seed=6)
        report = vn.security.audit(x, key, sensitivity_images=5)
        assert report["key_space"].exact
        assert report["chosen_plaintext"]["ambiguous"] == 0
        assert report["known_plaintext"]["unit"] == key.element_plan(3).unit
        assert report["known_plaintext"]["pairs_for_all"] is not None
        # a spatial key never changes the histogram; these keys do (they negate or split values)
        assert not report["histogram_unchanged"]
        assert all("error" in v or v["map_changed"] > 0 for v in report["key_changes"].values())
