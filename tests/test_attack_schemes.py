"""Ciphertext-only attacks on the field's schemes (LE, block-wise, EtC, PE): kernels against their naive
twins, exact recovery on smooth synthetic images, the scores and the errors."""

from __future__ import annotations

import itertools

import naive_attack as naive
import numpy as np
import pytest
from conftest import examples  # Hypothesis budgets scale with the profile (tests/conftest.py)
from hypothesis import given, settings
from hypothesis import strategies as st

import vortexnumba as vn
from vortexnumba.security import _inblock as ib
from vortexnumba.security import _placement as pl
from vortexnumba.security import _scheme_attacks as sa

SETTINGS = settings(max_examples=examples(10), deadline=None)
FEW = settings(max_examples=examples(3), deadline=None)


def smooth_images(shape, n, seed=0, channels=1):
    """Smooth random images: low-frequency waves with random phases, values within [24, 231]."""
    h, w = shape
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(float)
    out = np.zeros((n, h, w, channels))
    for ch in range(channels):
        for _ in range(2):
            f = rng.uniform(0.1, 0.3, (n, 2))
            ph = rng.uniform(0, 2 * np.pi, (n, 2))
            wave = np.sin(f[:, :1, None] * yy + ph[:, :1, None]) * np.cos(f[:, 1:, None] * xx + ph[:, 1:, None])
            out[..., ch] += wave + 0.3 * ch
    img = np.clip(127.5 + 50 * out, 24, 231).astype(np.uint8)
    return img[..., 0] if channels == 1 else img


# --------------------------------------------------------------------------- in-block slot kernels

@st.composite
def slot_case(draw):
    nibbles = draw(st.booleans())
    block = draw(st.sampled_from([1, 2]))
    channels = draw(st.integers(1, 2))
    order = "rcc" if nibbles else "crc"
    n_el = block * block * channels
    s = n_el * (2 if nibbles else 1)
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    top = 15 if nibbles else 255
    kind = draw(st.sampled_from(["random", "two-valued"]))
    rows = 16  # a power of two: the means are exact
    obs = rng.integers(0, top + 1, (rows, s)) if kind == "random" else rng.choice([0, top], (rows, s))
    assign = rng.permutation(s).astype(np.int64)
    sign = rng.integers(0, 2, s) == 1
    return obs.astype(np.float64), assign, sign, block, channels, order, nibbles


@SETTINGS
@given(slot_case())
def test_slot_energy_matches_its_definition(case):
    obs, assign, sign, block, channels, order, nibbles = case
    n_el = block * block * channels
    unit_w = np.array([1.0, 16.0]) if nibbles else np.array([1.0])
    top = 15.0 if nibbles else 255.0
    pa, pb, pw = sa.element_pairs(block, channels, order)
    mean, mom = obs.mean(axis=0), obs.T @ obs / len(obs)
    got = ib.slot_energy(mom, mean, assign, sign, unit_w, n_el, top, pa, pb, pw)
    pairs = list(zip(pa.tolist(), pb.tolist(), pw.tolist(), strict=True))
    want = naive.slot_energy(obs, assign, sign, unit_w, n_el, top, pairs)
    assert got == pytest.approx(want, rel=1e-9, abs=1e-6)
    assert got == pytest.approx(naive.moment_energy(mom, mean, assign, sign, unit_w, n_el, top, pairs),
                                rel=1e-9, abs=1e-6)


@SETTINGS
@given(slot_case(), st.integers(0, 40), st.sampled_from([0.0, 50.0]), st.booleans(), st.integers(0, 2**63 - 1))
def test_anneal_slots_matches_naive(case, steps, t_start, allow_sign, seed):
    obs, assign, sign, block, channels, order, nibbles = case
    n_el = block * block * channels
    unit_w = np.array([1.0, 16.0]) if nibbles else np.array([1.0])
    top = 15.0 if nibbles else 255.0
    if not allow_sign:
        sign = np.zeros_like(sign)
    pa, pb, pw = sa.element_pairs(block, channels, order)
    ptr, inc = ib.incidence(n_el, pa, pb)
    mean, mom = obs.mean(axis=0), obs.T @ obs / len(obs)
    a, g = assign.copy(), sign.copy()
    e = ib.anneal_slots(mom, mean, a, g, unit_w, n_el, top, pa, pb, pw, ptr, inc, allow_sign, steps, t_start,
                        t_start / 10, seed)
    pairs = list(zip(pa.tolist(), pb.tolist(), pw.tolist(), strict=True))
    ra, rg, re = naive.anneal_slots(mom, mean, assign, sign, unit_w, n_el, top, pairs, allow_sign, steps, t_start,
                                    t_start / 10, seed)
    assert np.array_equal(a, ra) and np.array_equal(g, rg)
    assert e == pytest.approx(re, rel=1e-9, abs=1e-6)


# --------------------------------------------------------------------------- variant placement kernels

@st.composite
def variant_case(draw):
    h = draw(st.integers(1, 3))
    w = draw(st.integers(1, 3))
    n_hyp = draw(st.integers(1, 3))
    nv = h * w * n_hyp
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    kind = draw(st.sampled_from(["random", "two-valued"]))
    mats = [rng.random((nv, nv)) if kind == "random" else rng.integers(0, 2, (nv, nv)).astype(float)
            for _ in range(2)]
    blocks = rng.permutation(h * w)
    cur = (blocks * n_hyp + rng.integers(0, n_hyp, h * w)).astype(np.int64)
    return h, w, n_hyp, mats, cur


@SETTINGS
@given(variant_case(), st.data())
def test_grow_variants_matches_naive(case, data):
    h, w, n_hyp, (right, down), _ = case
    seed_piece = data.draw(st.integers(0, h * w * n_hyp - 1))
    got = pl.grow_variants(right, down, n_hyp, h, w, seed_piece)
    assert np.array_equal(got, naive.grow_variants(right, down, n_hyp, h, w, seed_piece))
    assert sorted((got // n_hyp).tolist()) == list(range(h * w))


@SETTINGS
@given(variant_case(), st.integers(0, 40), st.sampled_from([0.0, 0.5]), st.integers(0, 2**63 - 1))
def test_anneal_variants_matches_naive(case, steps, t_start, seed):
    h, w, n_hyp, (right, down), cur = case
    got = cur.copy()
    e = pl.anneal_variants(right, down, got, h, w, n_hyp, steps, t_start, t_start / 10, seed)
    ref, ref_e = naive.anneal_variants(right, down, cur, h, w, n_hyp, steps, t_start, t_start / 10, seed)
    assert np.array_equal(got, ref)
    assert e == pytest.approx(ref_e, rel=1e-9, abs=1e-9)
    assert pl.variant_energy(right, down, got, h, w) == pytest.approx(naive.variant_energy(right, down, got, h, w))


# --------------------------------------------------------------------------- sign kernels

@st.composite
def sign_case(draw):
    h = draw(st.integers(1, 4))
    w = draw(st.integers(1, 4))
    c = draw(st.integers(1, 2))
    ea, eb = sa.element_edges(h, w, c)
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    kind = draw(st.sampled_from(["random", "two-valued"]))
    m = ea.shape[0]
    same = rng.random(m) if kind == "random" else rng.integers(0, 2, m).astype(float)
    diff = rng.random(m) if kind == "random" else rng.integers(0, 2, m).astype(float)
    return ea, eb, same, diff, h * w * c


@SETTINGS
@given(sign_case(), st.integers(0, 4))
def test_tree_and_icm_signs_match_naive(case, sweeps):
    ea, eb, same, diff, n = case
    label = ib.tree_signs(ea, eb, same, diff, n)
    assert np.array_equal(label, naive.tree_signs(ea, eb, same, diff, n))
    ref, ref_cost = naive.icm_signs(ea, eb, same, diff, label, sweeps)
    cost = ib.icm_signs(ea, eb, same, diff, label, sweeps)
    assert np.array_equal(label, ref) and cost == pytest.approx(ref_cost, rel=1e-9, abs=1e-9)


@SETTINGS
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 2), st.integers(0, 2**31), st.booleans())
def test_image_signs_match_naive(h, w, c, seed, two_valued):
    rng = np.random.default_rng(seed)
    images = (rng.choice([0.0, 255.0], (2, h, w, c)) if two_valued
              else rng.integers(0, 256, (2, h, w, c)).astype(np.float64))
    out = np.empty(images.shape, dtype=np.int64)
    ib.image_signs(images, 255.0, 3, out)
    assert np.array_equal(out, naive.image_signs(images, 255.0, 3))


# --------------------------------------------------------------------------- exact recovery

@FEW
@given(st.integers(0, 2**31))
def test_le_attack_recovers_a_random_key_exactly(seed):
    images = smooth_images((8, 8), 300, seed=1)
    key = vn.LEKey.random((8, 8), block=2, seed=seed)
    result = vn.security.ciphertext_only_attack(vn.encrypt(images, key), family="le", block=2, progress_bar=False)
    assert result.symmetry == "none" and isinstance(result.key, vn.LEKey)
    assert np.array_equal(result.key.perm, key.perm)
    test = smooth_images((8, 8), 20, seed=2)
    assert np.array_equal(vn.decrypt(vn.encrypt(test, key), result), test)


@FEW
@given(st.integers(0, 2**31))
def test_ele_attack_recovers_a_random_key_on_smooth_images(seed):
    # every block position has its own nibble map: on smooth images each is found, and the blocks placed
    images = smooth_images((8, 8), 300, seed=1)
    key = vn.ELEKey.random((8, 8), block=2, seed=seed)
    result = vn.security.ciphertext_only_attack(vn.encrypt(images, key), family="ele", block=2, progress_bar=False)
    assert isinstance(result.key, vn.ELEKey)
    test = smooth_images((8, 8), 20, seed=2)
    q = vn.security.attack_quality(result, key, test)
    assert q["ssim"] > 0.99 and q["recovered"] > 0.95


def test_ele_attack_refuses_colour_and_float_ciphertexts_naming_them():
    key = vn.ELEKey.random((8, 8), block=2, channels=3, seed=0)
    colour = vn.encrypt(smooth_images((8, 8), 40, channels=3), key)
    with pytest.raises(ValueError, match="grey"):
        vn.security.ciphertext_only_attack(colour, family="ele", block=2, channel_axis=-1, progress_bar=False)
    with pytest.raises(TypeError, match="uint8"):
        vn.security.ciphertext_only_attack(smooth_images((8, 8), 40) / 255.0, family="ele", block=2,
                                           progress_bar=False)


@FEW
@given(st.integers(0, 2**31), st.booleans())
def test_blockwise_attack_recovers_a_random_key_up_to_its_symmetries(seed, negate):
    images = smooth_images((12, 12), 300, seed=3)
    key = vn.BlockwiseKey.random((12, 12), block=3, negate=negate, seed=seed)
    result = vn.security.ciphertext_only_attack(vn.encrypt(images, key), family="blockwise", block=3,
                                                progress_bar=False)
    assert isinstance(result.key, vn.BlockwiseKey)
    assert result.symmetry == ("grid" if not negate else "grid")  # d = 9 slots: the count tells the negative
    q = vn.security.attack_quality(result, key, smooth_images((12, 12), 20, seed=4))
    assert q["recovered"] == 1.0 and q["direct"] == 1.0 and q["neighbour"] == 1.0


@FEW
@given(st.integers(0, 2**31))
def test_etc_attack_recovers_a_random_key_up_to_its_symmetries(seed):
    images = smooth_images((12, 12), 200, seed=5)
    key = vn.EtCKey.random((12, 12), block=4, seed=seed)
    result = vn.security.ciphertext_only_attack(vn.encrypt(images, key), family="etc", block=4, progress_bar=False)
    assert isinstance(result.key, vn.EtCKey) and result.symmetry == "grid"  # 9 blocks: 4 negated, not 5
    q = vn.security.attack_quality(result, key, smooth_images((12, 12), 20, seed=6))
    assert q["recovered"] == 1.0 and q["ssim"] == 1.0 and q["direct"] == 1.0


def test_etc_attack_on_colour_tries_the_channel_orders():
    images = smooth_images((8, 8), 150, seed=7, channels=3)
    key = vn.EtCKey.random((8, 8), block=4, channels=3, seed=1)
    result = vn.security.ciphertext_only_attack(vn.encrypt(images, key, channels=True), family="etc", block=4,
                                                channel_axis=-1, progress_bar=False)
    assert result.symmetry == "grid-negative"  # 4 blocks, 2 negated: the negative negates 2 as well
    # seams cannot tell the channels apart: the estimate is also defined up to one relabelling of them
    test = smooth_images((8, 8), 10, seed=8, channels=3)
    rec = vn.decrypt(vn.encrypt(test, key, channels=True), result, channels=True)
    maps = vn.security._common.grid_symmetries((8, 8))
    flat = rec.reshape(10, 64, 3)
    views = [flat[:, t][..., list(p)].reshape(test.shape) for t in maps for p in itertools.permutations(range(3))]
    assert any(np.array_equal(test, v) or np.array_equal(test, 255 - v) for v in views)


@FEW
@given(st.integers(0, 2**31))
def test_pe_attack_recovers_the_negations_up_to_the_negative(seed):
    images = smooth_images((8, 8), 200, seed=9)
    key = vn.PEKey.random((8, 8), seed=seed)
    result = vn.security.ciphertext_only_attack(vn.encrypt(images, key), family="pe", progress_bar=False)
    assert result.symmetry == "negative"
    assert np.array_equal(result.key.negate, key.negate) or np.array_equal(result.key.negate, ~key.negate)
    assert vn.security.attack_quality(result, key, smooth_images((8, 8), 10, seed=10))["recovered"] == 1.0


def test_pe_each_reconstructs_every_image_up_to_its_negative():
    images = smooth_images((10, 10), 6, seed=11)
    cipher = vn.pe_each(images, seed=0)
    result = vn.security.ciphertext_only_attack(cipher, family="pe_each", progress_bar=False)
    assert result.key is None and result.reconstructions.shape == images.shape
    assert result.symmetry == "negative-each" and "per-image" in result.symmetry_note
    q = vn.security.attack_quality(result, None, images, ciphertexts=cipher)
    fold = vn.security.attack_quality(result.alternatives["fold"], None, images)
    # an element near mid-grey and its negative are close, so a region bounded by mid-grey can come out negated
    assert q["recovered"] > 0.7 and q["ssim"] > 0.8 and q["ssim_cipher"] < 0.1 and fold["ssim"] < q["ssim"]
    with pytest.raises(AttributeError, match="reconstructions, not a key"):
        _ = result.shape


# --------------------------------------------------------------------------- families, audit, errors

@pytest.mark.parametrize("key, family", [
    (vn.LEKey.random((8, 8), 4, seed=0), ("le", {"block": 4})),
    (vn.BlockwiseKey.random((8, 8), 2, seed=0), ("blockwise", {"block": 2})),
    (vn.EtCKey.random((8, 8), 4, seed=0), ("etc", {"block": 4})),
    (vn.PEKey.random((8, 8), seed=0), ("pe", {})),
])
def test_family_for_names_the_scheme_attack(key, family):
    assert vn.security.family_for(key) == family


def test_audit_runs_the_scheme_attack():
    images = smooth_images((8, 8), 60, seed=12)
    key = vn.EtCKey.random((8, 8), block=4, seed=2)
    report = vn.security.audit(images, key, key_space_samples=8, attack=True)
    assert report["ciphertext_only"]["family"] == "etc"
    assert report["ciphertext_only"]["recovered"] == 1.0
    ele = vn.security.audit(images, vn.ELEKey.random((8, 8), block=4, seed=0), key_space_samples=8, attack=True)
    assert ele["ciphertext_only"]["family"] == "ele" and 0.0 <= ele["ciphertext_only"]["recovered"] <= 1.0
    colour = smooth_images((8, 8), 60, seed=12, channels=3)
    ele3 = vn.security.audit(colour, vn.ELEKey.random((8, 8), block=4, channels=3, seed=0), key_space_samples=8,
                             attack=True)
    assert "no ciphertext-only attack" in ele3["ciphertext_only"]["error"]


def test_scheme_attack_errors_name_the_argument():
    x = smooth_images((8, 8), 10)
    with pytest.raises(ValueError, match="needs the tile side"):
        vn.security.ciphertext_only_attack(x, family="etc", progress_bar=False)
    with pytest.raises(TypeError, match="must be uint8"):
        vn.security.ciphertext_only_attack(x / 255.0, family="le", block=4, progress_bar=False)
    with pytest.raises(ValueError, match="block must be"):
        vn.security.ciphertext_only_attack(x, family="blockwise", block=3, progress_bar=False)
    key = vn.LEKey.random((8, 8), 4, seed=0)
    with pytest.raises(ValueError, match="images must be uint8"):
        vn.security.attack_quality(key, key, x[:, :4])
