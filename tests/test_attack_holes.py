"""Non-bijective (paper-mode) pixel maps: duplicate detection, the refinement with holes, the scores."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vortexnumba as vn
from vortexnumba.security._holes import _fill, duplicate_groups, refine_with_holes


def _naive_groups(x, min_varying):
    """Position p joins the smallest q <= p with an identical column, if that column varies enough."""
    b, h, w, c = x.shape
    cols = [tuple(x[:, i // w, i % w, :].reshape(-1).tolist()) for i in range(h * w)]
    rep = []
    for p, col in enumerate(cols):
        vals = list(col)
        common = max(vals.count(v) for v in set(vals))
        q = next(q for q in range(p + 1) if cols[q] == col)
        rep.append(q if len(vals) - common >= min_varying else p)
    return rep


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(1, 3), st.integers(1, 3), st.integers(1, 2), st.integers(1, 4),
       st.integers(0, 2**32 - 1))
def test_duplicate_groups_match_naive(b, h, w, c, min_varying, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, (b, h, w, c)).astype(np.uint8)  # two-valued: many chance agreements
    n = h * w
    copy = rng.integers(0, n, n)
    x = x.reshape(b, n, c)[:, np.where(rng.random(n) < 0.5, copy, np.arange(n))].reshape(b, h, w, c)
    assert duplicate_groups(x, min_varying=min_varying).tolist() == _naive_groups(x, min_varying)


def test_duplicate_groups_find_paper_copies():
    key = vn.VortexKey.random((12, 12), 4, 0.8, mode="paper", seed=1)
    rng = np.random.default_rng(0)
    x = vn.encrypt(rng.integers(0, 256, (50, 12, 12), dtype=np.uint8), key)
    rep = duplicate_groups(x[..., None])
    src = key.src
    assert np.array_equal(src[rep], src)  # merged only true copies
    assert np.unique(rep).size == np.unique(src).size  # and every one of them


def test_constant_columns_are_not_merged():
    x = np.zeros((100, 3, 3, 1), np.uint8)
    x[:2, 0, 0] = 7  # too rare to tell apart from chance
    x[:2, 0, 1] = 7
    assert duplicate_groups(x).tolist() == list(range(9))


def test_bad_min_varying():
    with pytest.raises(ValueError, match="min_varying"):
        duplicate_groups(np.zeros((2, 2, 2, 1)), min_varying=0)
    with pytest.raises(ValueError, match=r"\(B, H, W, C\)"):
        duplicate_groups(np.zeros((2, 2, 2)))


def test_fill_gives_each_hole_a_copy_next_to_its_source():
    # cells 0..3 of a 2x2 grid; positions 0, 1, 2 distinct, 3 a copy of 1; cell 3 is a hole
    rep = np.array([0, 1, 2, 1])
    kept = np.array([0, 1, 2])
    out = _fill(np.array([0, 1, 2, 3]), kept, rep, (2, 2))
    assert out.tolist() == [0, 1, 2, 3]
    assert sorted(out.tolist()) == [0, 1, 2, 3]


def _smooth(n, shape, seed):
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w]
    phase = np.random.default_rng(seed).uniform(0, 6.3, (n, 2))
    return (127 + 120 * np.sin(yy[None] / 3 + phase[:, :1, None])
            * np.cos(xx[None] / 4 + phase[:, 1:, None])).astype(np.uint8)


def test_refinement_is_a_permutation_and_deterministic():
    key = vn.VortexKey.random((10, 10), 4, 0.8, mode="paper", seed=1)
    x = vn.encrypt(_smooth(300, (10, 10), 0), key)[..., None].astype(np.float64) / 255
    rep = duplicate_groups(x)
    assert np.any(rep != np.arange(100))
    cur0 = np.arange(100)
    a, ea = refine_with_holes(x, cur0, rep, (10, 10))
    b, eb = refine_with_holes(x, cur0, rep, (10, 10))
    assert vn.cipher._vortex.is_permutation(a) and np.array_equal(a, b) and ea == eb


def test_paper_attack_scores_kept_sources():
    key = vn.VortexKey.random((12, 12), 4, 0.8, mode="paper", seed=0)
    images = _smooth(400, (12, 12), 1)
    result = vn.security.ciphertext_only_attack(vn.encrypt(images, key), mode="paper", progress_bar=False)
    q = vn.security.attack_quality(result, key, images[:50])
    cipher = vn.security.attack_quality(vn.PermutationKey((12, 12), np.arange(144)), key, images[:50])
    assert q["recovered"] > cipher["recovered"] and q["ssim"] > q["ssim_cipher"]
    # an estimate that shows every kept source at its own place scores 1
    src = key.src
    kept = np.unique(src)
    cur = np.full(144, -1)
    cur[src] = np.arange(144)  # some cell gets each source's last reader
    rest = np.setdiff1d(np.arange(144), cur[cur >= 0])
    cur[cur < 0] = rest
    oracle = vn.PermutationKey((12, 12), vn.cipher._vortex.inverse(cur))
    assert vn.security.attack_quality(oracle, key, images[:5])["recovered"] == 1.0
    assert kept.size < 144
