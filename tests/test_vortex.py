"""Vortex geometry: both modes against the per-pixel references in naive.py."""

import math

import naive
import numpy as np
import pytest
from conftest import examples  # Hypothesis budgets scale with the profile (tests/conftest.py)
from hypothesis import given, settings
from hypothesis import strategies as st

from vortexnumba.cipher import _vortex

# hypothesis draws tiny grids and weak strengths, where a key that moves nothing is expected
pytestmark = pytest.mark.filterwarnings("ignore::vortexnumba.cipher.IdentityKeyWarning")

SETTINGS = settings(max_examples=examples(20))

weights_st = st.lists(st.floats(-2.0, 0.0, exclude_max=True), min_size=6, max_size=6)


@st.composite
def vortex_lists(draw, max_side=17, max_vortices=4):
    """A grid (possibly non-square) and vortices whose discs fit in it."""
    h = draw(st.integers(3, max_side))
    w = draw(st.integers(3, max_side))
    vortices = []
    for _ in range(draw(st.integers(1, max_vortices))):
        cy = draw(st.integers(1, h - 2))
        cx = draw(st.integers(1, w - 2))
        r_max = min(cy, cx, h - 1 - cy, w - 1 - cx)
        r = draw(st.integers(1, r_max))
        family = draw(st.integers(1, 5))
        vortices.append((cy, cx, r, family, tuple(draw(weights_st)), draw(st.floats(-4.0, 4.0))))
    return (h, w), vortices


def _naive_form(vortices):
    return [((cy, cx), r, f, w, s) for cy, cx, r, f, w, s in vortices]


@SETTINGS
@given(st.floats(-1e6, 1e6) | st.sampled_from([0.5, -0.5, 1.5, -2.5, 0.49999999999999994, 2.5000000000000004]))
def test_round_half_away_matches_reference(x):
    assert _vortex.round_half_away(x) == naive.rvt_round(x)


def test_round_half_away_on_halves():
    # np.round would give 0, 2, -2 here (half to even)
    assert [_vortex.round_half_away(v) for v in (0.5, 1.5, 2.5, -0.5, -2.5)] == [1, 2, 3, -1, -3]


@SETTINGS
@given(st.integers(1, 5), weights_st, st.floats(0.0, 1.0))
def test_families_match_reference(family, w, t):
    got = _vortex.family_value(family, np.array(w), t)
    assert got == pytest.approx(naive.rvt_family(family, w, t), rel=1e-12, abs=1e-12)


@SETTINGS
@given(vortex_lists())
def test_bijective_matches_reference(case):
    shape, vortices = case
    got = _vortex.build_key_src(shape, "bijective", vortices)
    assert got.tolist() == naive.rvt_key_src(shape, "bijective", _naive_form(vortices))


@SETTINGS
@given(vortex_lists())
def test_paper_matches_reference_and_never_clips(case):
    shape, vortices = case
    got, clips = _vortex.build_key_src(shape, "paper", vortices, return_clips=True)
    assert got.tolist() == naive.rvt_key_src(shape, "paper", _naive_form(vortices))
    assert clips == 0
    for cy, cx, r, f, w, s in vortices:
        assert naive.rvt_paper_vortex(shape, (cy, cx), r, f, w, s)[1] == 0


@SETTINGS
@given(vortex_lists(max_vortices=1))
def test_single_vortex_keeps_rings_and_leaves_the_rest(case):
    (h, w), vortices = case
    cy, cx, r, *_ = vortices[0]
    src = _vortex.build_key_src((h, w), "bijective", vortices)
    assert _vortex.is_permutation(src)
    ii, jj = np.divmod(np.arange(h * w), w)
    si, sj = np.divmod(src, w)
    ring_out = [naive.rvt_round(math.hypot(i - cy, j - cx)) for i, j in zip(ii, jj)]
    ring_in = [naive.rvt_round(math.hypot(i - cy, j - cx)) for i, j in zip(si, sj)]
    assert ring_out == ring_in
    outside = np.array([k > r or k == 0 for k in ring_out])
    assert (src[outside] == np.arange(h * w)[outside]).all()


@SETTINGS
@given(vortex_lists())
def test_pixels_outside_every_disc_do_not_move(case):
    (h, w), vortices = case
    for mode in _vortex.MODES:
        src = _vortex.build_key_src((h, w), mode, vortices)
        for p in range(h * w):
            i, j = divmod(p, w)
            untouched = all(
                max(abs(i - cy), abs(j - cx)) > r for cy, cx, r, *_ in vortices
            )
            if untouched:
                assert src[p] == p


@SETTINGS
@given(vortex_lists(max_vortices=3))
def test_key_is_the_composition_of_its_vortices(case):
    shape, vortices = case
    total = np.arange(shape[0] * shape[1])
    for v in vortices:
        total = _vortex.compose(total, _vortex.build_key_src(shape, "bijective", [v]))
    assert np.array_equal(total, _vortex.build_key_src(shape, "bijective", vortices))


def test_composition_order_is_first_then_second():
    a = np.array([1, 2, 0])  # Y = X[a]
    b = np.array([0, 2, 1])
    x = np.array([10, 20, 30])
    assert np.array_equal(x[_vortex.compose(a, b)], x[a][b])


@SETTINGS
@given(st.integers(1, 200), st.integers(0, 2**32))
def test_inverse_undoes_a_permutation(n, seed):
    src = np.random.default_rng(seed).permutation(n)
    inv = _vortex.inverse(src)
    assert np.array_equal(src[inv], np.arange(n))
    assert np.array_equal(inv[src], np.arange(n))


def test_inverse_refuses_a_non_permutation():
    with pytest.raises(ValueError, match="not a permutation"):
        _vortex.inverse(np.array([0, 0, 2]))
    assert not _vortex.is_permutation([0, 0, 2])
    assert _vortex.is_permutation([2, 0, 1])


def test_a_strong_vortex_really_moves_pixels():
    src = _vortex.build_key_src((21, 21), "bijective", [(10, 10, 10, 1, (-1.0,) * 6, 2.0)])
    assert (src != np.arange(441)).sum() > 200


def test_paper_mode_is_lossy_for_strong_vortices():
    src = _vortex.build_key_src((21, 21), "paper", [(10, 10, 10, 1, (-1.0,) * 6, 2.0)])
    assert len(np.unique(src)) < 441
