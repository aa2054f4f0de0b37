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
from vortexnumba.security import _block_attack as ba
from vortexnumba.security import _permutation_attack as pa
from vortexnumba.security import _placement as pl
from vortexnumba.security import _similarity as sim
from vortexnumba.security import _vortex_attack as va
from vortexnumba.security._common import grid_symmetries

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
def test_energy_matches_naive(h, w, data):
    S = similarity_matrix(data.draw, h * w)
    cur = np.random.default_rng(data.draw(st.integers(0, 2**31))).permutation(h * w)
    assert va.neighbour_energy(S, cur, (h, w)) == pytest.approx(naive.energy(S, cur, h, w), rel=1e-9, abs=1e-9)
    assert va.energy(S, cur, h, w) == pytest.approx(naive.energy(S, cur, h, w), rel=1e-9, abs=1e-9)


# --------------------------------------------------------------------------- placement engine vs naive twins

@st.composite
def placement_case(draw, max_side=5):
    """A grid, four compatibility matrices (symmetric or directed; random or two-valued) and a placement."""
    h = draw(st.integers(1, max_side))
    w = draw(st.integers(1, max_side))
    n = h * w
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    kind = draw(st.sampled_from(["random", "two-valued", "symmetric"]))
    mats = []
    for _ in range(4):
        m = rng.integers(0, 2, (n, n)).astype(float) if kind == "two-valued" else rng.normal(size=(n, n))
        if kind == "symmetric":
            m = (m + m.T) / 2
        mats.append(np.ascontiguousarray(m))
    if draw(st.booleans()):
        mats[2] = mats[3] = np.zeros((n, n))  # the block attack's case: no diagonal term
    return h, w, mats, rng.permutation(n).astype(np.int64)


@SETTINGS
@given(placement_case(6), st.data())
def test_grid_energy_and_swap_delta_match_naive(case, data):
    h, w, mats, cur = case
    ref = naive.placement_energy(mats, cur, h, w)
    assert pl.grid_energy(*mats, cur, h, w) == pytest.approx(ref, rel=1e-9, abs=1e-9)
    if h * w >= 2:
        g1 = data.draw(st.integers(0, h * w - 1))
        g2 = data.draw(st.integers(0, h * w - 1).filter(lambda g: g != g1))
        new = cur.copy()
        new[[g1, g2]] = new[[g2, g1]]
        want = naive.placement_energy(mats, new, h, w) - ref
        assert pl.swap_delta(*mats, cur, h, w, g1, g2) == pytest.approx(want, rel=1e-9, abs=1e-9)


@SETTINGS
@given(placement_case(4), st.data())
def test_grow_matches_naive(case, data):
    h, w, mats, _ = case
    seed_piece = data.draw(st.integers(0, h * w - 1))
    got = pl.grow(*mats, h, w, seed_piece)
    assert np.array_equal(got, naive.grow_placement(mats, h, w, seed_piece))
    assert sorted(got.tolist()) == list(range(h * w))


@SETTINGS
@given(placement_case(4), st.integers(0, 60), st.sampled_from([0.0, 0.5]), st.integers(0, 2**63 - 1),
       st.integers(0, 3))
def test_anneal_matches_naive(case, steps, t_start, seed, k):
    h, w, mats, cur = case
    k = min(k, h * w - 1)
    partners = pl.best_partners(mats[0] + mats[0].T + mats[1] + mats[1].T, k)
    got = cur.copy()
    e = pl.anneal(*mats, got, h, w, partners, steps, t_start, t_start / 10, seed)
    ref, ref_e = naive.anneal(mats, cur, h, w, partners, steps, t_start, t_start / 10, seed)
    assert np.array_equal(got, ref)
    assert e == pytest.approx(ref_e, rel=1e-9, abs=1e-9)
    assert sorted(got.tolist()) == list(range(h * w))


@pytest.mark.parametrize("seed", [0, 1, 2**63, 2**64 - 1])
def test_splitmix_matches_its_definition(seed):
    state = np.array([seed], dtype=np.uint64)
    ref = naive.SplitMix(seed)
    assert [pl.next_uniform(state) for _ in range(5)] == [ref.uniform() for _ in range(5)]
    assert [pl.next_below(state, 7) for _ in range(20)] == [ref.below(7) for _ in range(20)]


@SETTINGS
@given(placement_case(4))
def test_best_cyclic_shift_is_the_best_roll(case):
    h, w, mats, cur = case
    got, e = pl.best_cyclic_shift(*mats, cur, h, w)
    grid = cur.reshape(h, w)
    energies = [naive.placement_energy(mats, np.roll(grid, (dy, dx), axis=(0, 1)).reshape(-1), h, w)
                for dy in range(h) for dx in range(w)]
    assert e == pytest.approx(max(energies), rel=1e-9, abs=1e-9)
    assert e == pytest.approx(naive.placement_energy(mats, got, h, w), rel=1e-9, abs=1e-9)


# --------------------------------------------------------------------------- compatibilities vs definitions

@SETTINGS
@given(st.integers(2, 6), st.integers(4, 40), st.data())
def test_partial_correlations_are_residual_correlations(n, b, data):
    """With no shrinkage, the partial correlation of a and b is the correlation of what is left of them
    after regressing each on every other position."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    x = rng.normal(size=(b + n + 2, n)) @ rng.normal(size=(n, n))
    cov = np.cov(x.T, bias=True)
    p = pa.partial_correlations(cov, shrinkage=0.0)
    for a in range(n):
        for c in range(a + 1, n):
            rest = [i for i in range(n) if i not in (a, c)]
            z = np.column_stack([x[:, rest], np.ones(len(x))])
            ra = x[:, a] - z @ np.linalg.lstsq(z, x[:, a], rcond=None)[0]
            rc = x[:, c] - z @ np.linalg.lstsq(z, x[:, c], rcond=None)[0]
            assert p[a, c] == pytest.approx(np.corrcoef(ra, rc)[0, 1], abs=1e-6)
    assert np.allclose(np.diag(p), 0.0)


@SETTINGS
@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 12), st.data())
def test_position_covariance_matches_numpy(h, w, b, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    imgs = rng.integers(0, 256, (b, h, w, 2), dtype=np.uint8)
    cov = sim.position_covariance(imgs, chunk=3)
    flat = np.moveaxis(imgs, 3, 1).reshape(b * 2, h * w).astype(float) / 255
    assert np.allclose(cov, np.cov(flat.T, bias=True).reshape(h * w, h * w), atol=1e-6)


@SETTINGS
@given(st.sampled_from([1, 2, 3]), st.integers(1, 3), st.integers(1, 3), st.integers(1, 5), st.data())
def test_edge_dissimilarities_match_naive(t, th, tw, b, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    imgs = rng.integers(0, 256, (b, th * t, tw * t, 1), dtype=np.uint8)
    right, down = ba.edge_dissimilarities(imgs, t)
    ref_r, ref_d = naive.edge_dissimilarities(imgs[..., 0].astype(float) / 255, t)
    assert np.allclose(right, ref_r, atol=1e-9) and np.allclose(down, ref_d, atol=1e-9)


def test_normalised_compatibility_matches_its_definition():
    d = np.random.default_rng(0).random((5, 5))
    c = ba.normalised_compatibility(d)
    off = d + np.diag(np.full(5, np.inf))
    for a in range(5):
        for b in range(5):
            if a != b:
                second = (np.sort(off[a])[1] + np.sort(off[:, b])[1]) / 2
                assert c[a, b] == pytest.approx(np.clip(1 - d[a, b] / second, -1, 1), abs=1e-9)


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


def up_to_symmetry(result, key):
    """Whether the estimate equals the key up to one of the grid's turns and mirror images."""
    cur = result.key.inverse_src
    return any(np.array_equal(np.argsort(cur[t]), key.src) for t in grid_symmetries(key.shape))


@pytest.mark.parametrize("shape, seed", [((8, 8), 1), ((8, 8), 2), ((7, 9), 3)])
def test_permutation_attack_recovers_a_random_key_exactly_up_to_symmetry(shape, seed):
    images = smooth_images(shape, 300, seed=seed)
    key = vn.PermutationKey.random(shape, seed=seed)
    result = vn.security.ciphertext_only_attack(vn.encrypt(images, key), family="permutation", progress_bar=False)
    assert result.family == "permutation" and result.symmetry == "grid"
    assert up_to_symmetry(result, key)
    q = vn.security.attack_quality(result, key, smooth_images(shape, 20, seed=9))
    assert q["recovered"] == 1.0 and q["ssim"] == 1.0 and q["symmetries_tried"] == (8 if shape[0] == shape[1] else 4)


def test_permutation_attack_breaks_vortex_keys_too():
    images = smooth_images((10, 10), 300, seed=4)
    key = vn.VortexKey.random((10, 10), 3, 0.8, seed=2)
    result = vn.security.ciphertext_only_attack(vn.encrypt(images, key), family="any", progress_bar=False)
    assert up_to_symmetry(result, key)


@pytest.mark.parametrize("shape, block, seed", [((12, 12), 3, 0), ((8, 8), 2, 1), ((12, 8), 4, 2)])
def test_block_attack_recovers_the_key_exactly(shape, block, seed):
    images = smooth_images(shape, 200, seed=seed)
    key = vn.BlockKey.random(shape, block, seed=seed)
    result = vn.security.ciphertext_only_attack(vn.encrypt(images, key), family="block", block=block,
                                                progress_bar=False)
    assert result.family == "block" and result.symmetry == "none"
    assert result.key == key
    q = vn.security.attack_quality(result, key, smooth_images(shape, 10, seed=7))
    assert (q["direct"], q["neighbour"], q["recovered"], q["symmetries_tried"]) == (1.0, 1.0, 1.0, 1)


def test_tile_scores_count_tiles_and_joins():
    """Two tiles traded in a 3x3 tile grid: 7 of 9 tiles in place; of the 12 joins, those touching a traded
    tile are wrong unless the two stay side by side in the right order."""
    key = vn.BlockKey((9, 9), 3, np.arange(9))
    est = vn.BlockKey((9, 9), 3, np.array([1, 0, 2, 3, 4, 5, 6, 7, 8]))
    q = vn.security.attack_quality(est, key, smooth_images((9, 9), 5))
    # joins: right 0-1 (reversed: wrong), 1-2 (tile 0 left of 2: wrong), down 0-3 and 1-4 (wrong): 8 of 12 right
    assert q["direct"] == pytest.approx(7 / 9) and q["neighbour"] == pytest.approx(8 / 12)


def test_auto_keeps_the_oriented_estimate_when_it_is_as_good():
    images = smooth_images((12, 12), 300, seed=5)
    key = vn.VortexKey((12, 12), "bijective", [vn.Vortex((6, 5), 5, 1, (-1.5, -0.3, -1.0, -0.8, -1.2, -0.6), 0.8)])
    result = vn.security.ciphertext_only_attack(vn.encrypt(images, key), family="auto", progress_bar=False)
    assert result.family == "vortex" and np.array_equal(result.key.src, key.src)
    assert set(result.candidates) == {"vortex (correlation)", "vortex (partial)", "permutation"}
    # fewer ciphertexts than positions: the pixel attack's statistics are not defined, it does not take part
    few = vn.security.ciphertext_only_attack(vn.encrypt(images[:100], key), family="auto", progress_bar=False)
    assert few.family == "vortex" and "permutation" not in few.candidates
    blocks = vn.BlockKey.random((12, 12), 3, seed=4)
    result = vn.security.ciphertext_only_attack(vn.encrypt(images, blocks), family="auto", block=3,
                                                progress_bar=False)
    assert result.key == blocks and "block" in result.candidates


def test_result_acts_as_its_key():
    images = smooth_images((8, 8), 100, seed=6)
    key = vn.BlockKey.random((8, 8), 2, seed=3)
    c = vn.encrypt(images, key)
    result = vn.security.ciphertext_only_attack(c, family="block", block=2, progress_bar=False)
    assert np.array_equal(vn.decrypt(c, result), images)
    assert result.kind == "block" and result.shape == (8, 8) and np.array_equal(result.src, key.src)
    assert "oriented" in result.symmetry_note
    assert vn.security.family_for(key) == ("block", {"block": 2})
    vortex = vn.VortexKey.random((8, 8), n_vortices=2, mode="paper", seed=0)
    assert vn.security.family_for(vortex) == ("vortex", {"mode": "paper"})


@pytest.mark.parametrize("shape", [(1, 1), (1, 6), (3, 3), (2, 7), (8, 8)])
@pytest.mark.parametrize("family", ["vortex", "permutation", "block"])
def test_no_crash_on_any_key_type_or_size(shape, family):
    images = np.random.default_rng(0).integers(0, 256, (12,) + shape, dtype=np.uint8)
    keys = [vn.IdentityKey(shape), vn.PermutationKey.random(shape, seed=0)]
    if min(shape) >= 3:
        keys += [vn.VortexKey.random(shape, 2, seed=0), vn.VortexKey.random(shape, 2, mode="paper", seed=0)]
    if shape == (8, 8):
        keys.append(vn.BlockKey.random(shape, 2, seed=0))
    for key in keys:
        mode = key.mode if key.kind == "vortex" else "bijective"
        block = 1 if family == "block" else None
        est = vn.security.ciphertext_only_attack(vn.encrypt(images, key), family=family, mode=mode, block=block,
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
        attack(np.zeros((5, 8, 8), np.uint8), family="jigsaw")
    with pytest.raises(ValueError, match="block=..."):
        attack(np.zeros((5, 8, 8), np.uint8), family="block")
    with pytest.raises(ValueError, match="divides the 8x8 grid, got 3"):
        attack(np.zeros((5, 8, 8), np.uint8), family="block", block=3)
    with pytest.raises(ValueError, match="at least 3 ciphertexts"):
        attack(two, family="permutation")
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
    assert "ciphertext-only attack (permutation)" in out and "recovers" in out
