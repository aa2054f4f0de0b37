"""Ciphertext-only attacks: kernels against their naive twins, exact recovery, robustness, errors."""

from __future__ import annotations

import naive_attack as naive
import numpy as np
import pytest
from conftest import examples  # Hypothesis budgets scale with the profile (tests/conftest.py)
from hypothesis import given, settings
from hypothesis import strategies as st

import vortexnumba as vn
from vortexnumba.cipher._vortex import vortex_src
from vortexnumba.security import _generic_attack as ga
from vortexnumba.security import _similarity as sim
from vortexnumba.security import _vortex_attack as va

SETTINGS = settings(max_examples=examples(15))


def smooth_images(shape, n, seed=0):
    """Random smooth images: sums of two low-frequency waves with random phases."""
    h, w = shape
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(float)
    out = np.zeros((n, h, w))
    for _ in range(2):
        f = rng.uniform(0.15, 0.45, (n, 2))
        ph = rng.uniform(0, 2 * np.pi, (n, 2))
        out += np.sin(f[:, :1, None] * yy + ph[:, :1, None]) * np.cos(f[:, 1:, None] * xx + ph[:, 1:, None])
    return np.clip(127.5 + 60 * out, 0, 255).astype(np.uint8)


def similarity_matrix(draw, n):
    kind = draw(st.sampled_from(["random", "two-valued"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    m = rng.random((n, n)) if kind == "random" else rng.integers(0, 2, (n, n)).astype(float)
    return ((m + m.T) / 2).astype(np.float32)


# --------------------------------------------------------------------------- geometry

@pytest.mark.parametrize("mode", ["bijective", "paper"])
@pytest.mark.parametrize("r", [1, 2, 3, 6, 9])
def test_ring_geometry_matches_its_definition(mode, r):
    rid, members, starts = va.ring_geometry(mode, r)
    side = 2 * r + 1
    expected = naive.rings(mode, r)
    for k in range(1, r):
        got = [(int(m) // side - r, int(m) % side - r) for m in members[starts[k - 1]:starts[k]]]
        assert got == expected[k]
    assert np.count_nonzero(rid) == sum(len(v) for v in expected.values())


@pytest.mark.parametrize("r", [2, 3, 5, 8])
def test_bijective_rings_reproduce_the_cipher(r):
    """Turning every ring of the attack's geometry by the cipher's own shifts gives vortex_src."""
    side = 2 * r + 1
    weights = (-1.3, -0.4, -1.9, -0.7, -1.1, -0.2)
    src = vortex_src((side, side), "bijective", r, r, r, 2, weights, 2.5)
    rid, members, starts = va.ring_geometry("bijective", r)
    # each ring of src must be a cyclic shift of the ring's member list
    for k in range(1, r):
        ring = members[starts[k - 1]:starts[k]]
        moved = src[ring]
        n = ring.size
        assert any(np.array_equal(moved, np.roll(ring, -s)) for s in range(n)) or any(
            np.array_equal(moved, ring[(np.arange(n) - s) % n]) for s in range(n))
    assert np.array_equal(src[rid == 0], np.flatnonzero(rid == 0))


# --------------------------------------------------------------------------- kernels vs naive twins

@st.composite
def undo_case(draw):
    h = draw(st.integers(5, 9))
    w = draw(st.integers(5, 9))
    r = draw(st.integers(2, (min(h, w) - 1) // 2))
    cy = draw(st.integers(r, h - 1 - r))
    cx = draw(st.integers(r, w - 1 - r))
    S = similarity_matrix(draw, h * w)
    cur = np.random.default_rng(draw(st.integers(0, 2**31))).permutation(h * w)
    return h, w, r, cy, cx, S, cur, draw(st.sampled_from(["bijective", "paper"])), draw(st.integers(1, 2))


@SETTINGS
@given(undo_case())
def test_undo_matches_naive(case):
    h, w, r, cy, cx, S, cur, mode, passes = case
    geom = va.Geometry(mode, r)
    new, gain = va.apply_undo(S, cur, (h, w), geom, cy, cx, r, passes)
    ref, ref_gain = naive.undo(S, cur, h, w, mode, cy, cx, r, passes)
    assert np.array_equal(new, ref)
    assert gain == pytest.approx(ref_gain, rel=1e-6, abs=1e-6)
    assert sorted(new.tolist()) == sorted(cur.tolist())


@SETTINGS
@given(st.integers(1, 6), st.integers(1, 6), st.data())
def test_energy_and_refine_match_naive(h, w, data):
    S = similarity_matrix(data.draw, h * w)
    cur = np.random.default_rng(data.draw(st.integers(0, 2**31))).permutation(h * w)
    assert va.neighbour_energy(S, cur, (h, w)) == pytest.approx(naive.energy(S, cur, h, w), rel=1e-9, abs=1e-9)
    assert va._energy(S, cur, h, w) == pytest.approx(naive.energy(S, cur, h, w), rel=1e-9, abs=1e-9)
    got = cur.copy()
    ga._refine(S, got, h, w, 3)
    assert np.array_equal(got, naive.refine(S, cur, h, w, 3))


@SETTINGS
@given(st.integers(1, 5), st.integers(1, 5), st.data())
def test_grow_matches_naive(h, w, data):
    S = similarity_matrix(data.draw, h * w)
    seed_pos = data.draw(st.integers(0, h * w - 1))
    got = ga._grow(S, h, w, seed_pos, 0.05)
    assert np.array_equal(got, naive.grow(S, h, w, seed_pos, 0.05))
    assert sorted(got.tolist()) == list(range(h * w))


@SETTINGS
@given(st.integers(2, 6), st.integers(2, 6), st.integers(3, 12), st.data())
def test_similarity_matches_numpy(h, w, b, data):
    x = data.draw(st.sampled_from(["random", "two-valued"]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    imgs = rng.integers(0, 256, (b, h, w), dtype=np.uint8) if x == "random" else \
        (255 * rng.integers(0, 2, (b, h, w))).astype(np.uint8)
    S = sim.position_similarity(sim.as_ciphertexts(imgs), chunk=2)
    flat = imgs.reshape(b, -1).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        ref = np.corrcoef(flat.T)
    ref[~np.isfinite(ref)] = 0.0
    np.fill_diagonal(ref, 1.0)
    assert np.allclose(S, ref, atol=1e-4)
    D = sim.position_similarity(sim.as_ciphertexts(imgs), similarity="difference")
    ref_d = -((flat[:, :, None] - flat[:, None, :]) ** 2).mean(axis=0) / 255.0**2
    assert np.allclose(D, ref_d, atol=1e-5)


# --------------------------------------------------------------------------- the attacks

def test_vortex_attack_recovers_one_vortex_exactly():
    images = smooth_images((12, 12), 300)
    key = vn.VortexKey((12, 12), "bijective", [vn.Vortex((6, 5), 5, 1, (-1.5, -0.3, -1.0, -0.8, -1.2, -0.6), 0.8)])
    est = vn.security.ciphertext_only_attack(vn.encrypt(images, key), progress_bar=False)
    assert np.array_equal(est.src, key.src)
    assert np.array_equal(vn.decrypt(vn.encrypt(images, key), est), images)


def test_vortex_attack_recovers_two_overlapping_vortices_in_order():
    images = smooth_images((16, 16), 400, seed=1)
    v1 = vn.Vortex((7, 7), 6, 2, (-1.2, -0.5, -0.9, -1.7, -0.4, -1.1), 1.5)
    v2 = vn.Vortex((10, 9), 4, 3, (-0.6, -1.4, -0.2, -1.0, -1.8, -0.3), 1.5)
    key = vn.VortexKey((16, 16), "bijective", [v1, v2])
    assert not np.array_equal(key.src, vn.VortexKey((16, 16), "bijective", [v2, v1]).src)  # order matters
    est = vn.security.ciphertext_only_attack(vn.encrypt(images, key), progress_bar=False)
    assert np.mean(est.src == key.src) == 1.0


def test_vortex_attack_on_paper_mode_improves_the_picture():
    images = smooth_images((16, 16), 300, seed=2)
    test = smooth_images((16, 16), 50, seed=3)
    key = vn.VortexKey((16, 16), "paper", [vn.Vortex((8, 8), 7, 1, (-1.0,) * 6, 0.8)])
    est = vn.security.ciphertext_only_attack(vn.encrypt(images, key), mode="paper", progress_bar=False)
    q = vn.security.attack_quality(est, key, test)
    assert q["ssim"] > q["ssim_cipher"] + 0.2


def test_generic_attack_is_the_same_for_every_permutation():
    """The generic attack only sees the ciphertexts' statistics, so its reconstruction is the same
    whichever permutation made them."""
    images = smooth_images((8, 8), 200, seed=4)
    recon = []
    for seed in (1, 2):
        key = vn.PermutationKey.random((8, 8), seed=seed)
        c = vn.encrypt(images, key)
        recon.append(vn.decrypt(c, vn.security.ciphertext_only_attack(c, family="any", progress_bar=False)))
    assert np.array_equal(recon[0], recon[1])


def test_generic_attack_beats_the_ciphertext_on_smooth_images():
    images = smooth_images((8, 8), 300, seed=5)
    key = vn.PermutationKey.random((8, 8), seed=3)
    est = vn.security.ciphertext_only_attack(vn.encrypt(images, key), family="any", progress_bar=False)
    q = vn.security.attack_quality(est, key, smooth_images((8, 8), 40, seed=6), symmetries=True)
    assert q["ssim"] > q["ssim_cipher"] + 0.3


@pytest.mark.parametrize("shape", [(1, 1), (1, 6), (3, 3), (2, 7), (8, 8)])
@pytest.mark.parametrize("family", ["vortex", "any"])
def test_no_crash_on_any_key_type_or_size(shape, family):
    images = np.random.default_rng(0).integers(0, 256, (12,) + shape, dtype=np.uint8)
    keys = [vn.IdentityKey(shape), vn.PermutationKey.random(shape, seed=0)]
    if min(shape) >= 3:
        keys += [vn.VortexKey.random(shape, 2, seed=0), vn.VortexKey.random(shape, 2, mode="paper", seed=0)]
    if shape == (8, 8):
        keys.append(vn.BlockKey.random(shape, 2, seed=0))
    for key in keys:
        mode = key.mode if key.kind == "vortex" else "bijective"
        est = vn.security.ciphertext_only_attack(vn.encrypt(images, key), family=family, mode=mode,
                                                 progress_bar=False)
        assert est.shape == tuple(shape)
        assert sorted(est.src.tolist()) == list(range(shape[0] * shape[1]))


def test_colour_and_single_image():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (2, 9, 9, 3), dtype=np.uint8)
    key = vn.VortexKey.random((9, 9), 2, seed=1)
    est = vn.security.ciphertext_only_attack(vn.encrypt(rgb, key), channel_axis=-1, progress_bar=False)
    assert est.shape == (9, 9)
    one = smooth_images((9, 9), 1)
    est = vn.security.ciphertext_only_attack(vn.encrypt(one, key), similarity="difference", progress_bar=False)
    assert est.shape == (9, 9)


def test_clear_errors():
    attack = vn.security.ciphertext_only_attack
    two = np.zeros((2, 8, 8), dtype=np.uint8)
    with pytest.raises(ValueError, match="at least 3 ciphertexts"):
        attack(two)
    with pytest.raises(ValueError, match="family"):
        attack(np.zeros((5, 8, 8), np.uint8), family="block")
    with pytest.raises(ValueError, match="channel_axis"):
        attack(np.zeros((5, 8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match="at most 4096"):
        attack(np.zeros((3, 65, 65), np.uint8))
    with pytest.raises(ValueError, match="NaN"):
        attack(np.full((4, 5, 5), np.nan))
    with pytest.raises(TypeError, match="numeric"):
        attack(np.array([[["a"]]]))
    with pytest.raises(ValueError, match="mode"):
        attack(np.zeros((5, 8, 8), np.uint8), mode="swirl")
    with pytest.raises(ValueError, match="empty"):
        attack(np.zeros((0, 8, 8), np.uint8))


def test_audit_and_cli_report_the_attack(tmp_path, capsys):
    from vortexnumba.cli import main

    images = vn.data.load("digits")[2][:60]
    key = vn.VortexKey.random((8, 8), 2, seed=1)
    report = vn.security.audit(images, key, key_space_samples=16, attack=True)
    a = report["ciphertext_only"]
    assert a["family"] == "vortex" and 0.0 <= a["recovered"] <= 1.0 and a["ssim"] >= a["ssim_cipher"] - 0.05
    assert "ciphertext_only" not in vn.security.audit(images, key, key_space_samples=16)
    path = tmp_path / "k.json"
    path.write_text(vn.PermutationKey.random((8, 8), seed=0).to_json())
    assert main(["audit", str(path), "--n-images", "40", "--key-space-samples", "16", "--attack"]) == 0
    out = capsys.readouterr().out
    assert "ciphertext-only attack (any)" in out and "recovers" in out
