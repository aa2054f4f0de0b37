"""Property tests of Theorems 1 and 2 (proofs/theorems.md) and of the exhaustive check.

Theorem 1: a permutation never raises the retention above 1, and keeps exactly 1
iff it preserves every kernel weight (flips, 180-degree turns, and on square grids
90-degree turns and transposes). Theorem 2: on grids with at least 5 pixels every
swap of two pixels loses information; on 1x2, 1x3, 2x2 and their transposes exactly
the reflection swaps lose none. The fast kernels are compared with tests/naive.py.
"""

from __future__ import annotations

import importlib.util
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import vortexnumba as vn

import naive

TOLERANCE = 1e-12
# Agreement with the naive sums: relative 1e-10, plus an absolute 1e-15 because the fast
# kernels form rho = 1 - L, which cannot resolve a retention near 0 below a few units of
# round-off of 1.
RTOL, ATOL = 1e-10, 1e-15
SETTINGS = settings(max_examples=40, deadline=None)
FEW = settings(max_examples=25, deadline=None)
PROOFS = Path(__file__).resolve().parent.parent / "proofs"

# Grids where some swap keeps rho = 1, with those swaps (flat indices), from Theorem 2.
REFLECTION_SWAPS = {
    (1, 2): {(0, 1)},
    (2, 1): {(0, 1)},
    (1, 3): {(0, 2)},
    (3, 1): {(0, 2)},
    (2, 2): {(0, 3), (1, 2)},
}


# ----------------------------------------------------------------------------- strategies


@st.composite
def kernels(draw):
    """(vn.Kernel, the same kernel as naive's (family, param, radius) tuple)."""
    family = draw(st.sampled_from(["power", "gaussian", "exponential"]))
    if family == "power":
        param = draw(st.floats(0.5, 4.0))
    else:
        param = draw(st.floats(0.3, 3.0))
    radius = draw(st.floats(1.0, 3.5))
    return getattr(vn.Kernel, family)(param, radius), (family, param, radius)


@st.composite
def couplings(draw):
    """(vn.Coupling, naive's h: a float, or None for the constant coupling).

    h >= 0.08 because naive.retention forms E(X) * E(Y), which underflows to 0
    (and divides by it) once bonds weigh about exp(-1/(2 h^2)) with h near 0.05.
    """
    h = draw(st.one_of(st.none(), st.floats(0.08, 2.0)))
    return (vn.Coupling.constant(), None) if h is None else (vn.Coupling.gaussian(h), h)


# Below this bandwidth a bond between pixel values 0 and 1 weighs exp(-1/(2 h^2)) <= 4e-6
# or less, and a transformation that only changes such bonds can lose less than float64
# can show next to 1: rho then rounds to exactly 1 although the strict inequality holds.
# The strict "rho < 1" is asserted only from this bandwidth up; everything else (the
# comparison with the naive sums, rho <= 1, Delta I < 0) is asserted for every h.
STRICT_MIN_H = 0.2


def strict_inequality_visible(coupling):
    return coupling[1] is None or coupling[1] >= STRICT_MIN_H


@st.composite
def images(draw, shape):
    """uint8 or float image of grid ``shape``, with no channel axis, 1 or 3 channels."""
    channels = draw(st.sampled_from([None, 1, 3]))
    full = tuple(shape) if channels is None else (*shape, channels)
    if draw(st.booleans()):
        return draw(hnp.arrays(np.uint8, full))
    return draw(hnp.arrays(np.float64, full, elements=st.floats(0.0, 1.0, allow_nan=False, width=64)))


def grid_shapes(min_pixels=2, max_pixels=36):
    return st.tuples(st.integers(1, 6), st.integers(1, 6)).filter(lambda s: min_pixels <= s[0] * s[1] <= max_pixels)


def channel_kw(image):
    """Say explicitly that a 3-D array is one (H, W, C) image."""
    return {"channels": True} if image.ndim == 3 else {}


def gather(image, src):
    """Y with Y.flat[p] = X.flat[src[p]] (per channel)."""
    h, w = image.shape[:2]
    return image.reshape(h * w, -1)[np.asarray(src)].reshape(image.shape)


def symmetries(h, w):
    """Gather indices of the grid's symmetries, with what each does to an image."""
    idx = np.arange(h * w).reshape(h, w)
    maps = {
        "flip rows": (idx[::-1, :], lambda x: x[::-1, :]),
        "flip columns": (idx[:, ::-1], lambda x: x[:, ::-1]),
        "turn 180": (idx[::-1, ::-1], lambda x: x[::-1, ::-1]),
    }
    if h == w:
        maps["turn 90"] = (np.rot90(idx, 1), lambda x: np.rot90(x, 1))
        maps["turn 270"] = (np.rot90(idx, 3), lambda x: np.rot90(x, 3))
        maps["transpose"] = (idx.T, lambda x: np.swapaxes(x, 0, 1))
        maps["anti-transpose"] = (idx[::-1, ::-1].T, lambda x: np.swapaxes(x[::-1, ::-1], 0, 1))
    return {name: (view.ravel().copy(), act) for name, (view, act) in maps.items()}


def swap_src(n, a, b):
    src = np.arange(n)
    src[[a, b]] = [b, a]
    return src


# ----------------------------------------------------------------------------- Theorem 1


@SETTINGS
@given(data=st.data(), shape=grid_shapes(), kernel=kernels(), coupling=couplings())
def test_random_permutation_never_gains(data, shape, kernel, coupling):
    h, w = shape
    image = data.draw(images(shape))
    src = np.array(data.draw(st.permutations(range(h * w))), dtype=np.int64)
    rho = vn.retention(image, src, kernel[0], coupling[0], **channel_kw(image))
    assert rho <= 1.0 + TOLERANCE
    # Both bond vectors are non-negative, so their cosine is too.
    assert rho >= -TOLERANCE
    ref = naive.retention(image, src, kernel[1], coupling[1])
    np.testing.assert_allclose(rho, ref, rtol=RTOL, atol=ATOL)
    # Equality case: rho = 1 exactly for the maps that keep every kernel weight.
    sigma = np.argsort(src)
    # Undoing the map, measured from the scrambled image, loses what the map lost.
    back = vn.retention(gather(image, src), sigma, kernel[0], coupling[0], **channel_kw(image))
    np.testing.assert_allclose(back, rho, rtol=RTOL, atol=ATOL)
    if naive.is_automorphism(h, w, sigma, kernel[1]):
        assert abs(rho - 1.0) <= TOLERANCE
    elif strict_inequality_visible(coupling):
        assert rho < 1.0 - TOLERANCE


@SETTINGS
@given(data=st.data(), shape=grid_shapes(), kernel=kernels(), coupling=couplings())
def test_grid_symmetries_keep_everything(data, shape, kernel, coupling):
    h, w = shape
    image = data.draw(images(shape))
    maps = symmetries(h, w)
    compare = data.draw(st.sampled_from(sorted(maps)))  # one map per example against the naive sum
    for name, (src, act) in maps.items():
        np.testing.assert_array_equal(gather(image, src), act(image), err_msg=name)
        rho = vn.retention(image, src, kernel[0], coupling[0], **channel_kw(image))
        assert abs(rho - 1.0) <= TOLERANCE, (name, rho)
        if name == compare:
            ref = naive.retention(image, src, kernel[1], coupling[1])
            np.testing.assert_allclose(rho, ref, rtol=RTOL, atol=ATOL, err_msg=name)


@FEW
@given(data=st.data(), shape=grid_shapes(), kernel=kernels(), coupling=couplings())
def test_batch_of_permutations_matches_one_at_a_time(data, shape, kernel, coupling):
    h, w = shape
    n_images = data.draw(st.integers(1, 4))
    batch = np.stack([data.draw(hnp.arrays(np.float64, shape, elements=st.floats(0, 1, width=64)))
                      for _ in range(n_images)])
    srcs = np.array([data.draw(st.permutations(range(h * w))) for _ in range(n_images)], dtype=np.int64)
    rho = vn.retention(batch, srcs, kernel[0], coupling[0], channels=False)
    assert rho.shape == (n_images,)
    assert (rho <= 1.0 + TOLERANCE).all()
    for k in range(n_images):
        ref = naive.retention(batch[k], srcs[k], kernel[1], coupling[1])
        assert rho[k] == pytest.approx(ref, rel=RTOL, abs=ATOL)


def test_non_bijective_gather_can_exceed_one():
    """Theorem 1 needs a permutation: a gather map that reads one pixel twice can give rho > 1.

    On a 1x4 strip with f(d) = d^-2, R = 3 and s = 1, the map (0, 1, 2, 1) has
    inner = 457/72 and E(X) = E(Y) = 2033/324, so rho = 4113/4066.
    """
    image = np.linspace(0.0, 1.0, 4).reshape(1, 4)
    src = np.array([0, 1, 2, 1])
    kernel = vn.Kernel.power(2.0, 3.0)
    exact = float(Fraction(4113, 4066))
    rho = vn.retention(image, src, kernel, vn.Coupling.constant())
    assert rho == pytest.approx(exact, rel=1e-13)
    assert naive.retention(image, src, ("power", 2.0, 3.0), None) == pytest.approx(exact, rel=1e-13)
    assert rho > 1.0


# ----------------------------------------------------------------------------- Theorem 2


@SETTINGS
@given(data=st.data(), shape=grid_shapes(min_pixels=5), kernel=kernels(), coupling=couplings())
def test_every_swap_loses_on_grids_of_five_or_more(data, shape, kernel, coupling):
    h, w = shape
    n = h * w
    image = data.draw(images(shape))
    a = data.draw(st.integers(0, n - 1))
    b = data.draw(st.integers(0, n - 1).filter(lambda v: v != a))
    kw = channel_kw(image)
    rho = vn.retention(image, swap_src(n, a, b), kernel[0], coupling[0], **kw)
    delta = vn.swap_delta(image, a, b, kernel[0], coupling[0], **kw)
    if strict_inequality_visible(coupling):
        assert rho < 1.0
    assert rho <= 1.0
    assert delta < 0.0
    # The same swap given as (i, j) pairs.
    assert vn.swap_delta(image, divmod(a, w), divmod(b, w), kernel[0], coupling[0], **kw) == delta
    if n <= 16:
        ref = naive.swap_delta(image, a, b, kernel[1], coupling[1])
        content = math.sqrt(naive.energy(image, kernel[1], coupling[1]))
        # naive evaluates 1 - rho by subtraction, good to about 1e-13 in rho; hence the small atol.
        np.testing.assert_allclose(delta, ref, rtol=1e-9, atol=1e-13 * content)


@pytest.mark.parametrize("shape", [(1, 2), (2, 1), (1, 3), (3, 1), (2, 2), (1, 4), (4, 1)])
@FEW
@given(data=st.data(), kernel=kernels(), coupling=couplings())
def test_tiny_grids_exactly_the_reflection_swaps_keep_everything(shape, data, kernel, coupling):
    h, w = shape
    n = h * w
    image = data.draw(images(shape))
    kw = channel_kw(image)
    expected = REFLECTION_SWAPS.get(shape, set())
    for a in range(n):
        for b in range(a + 1, n):
            src = swap_src(n, a, b)
            rho = vn.retention(image, src, kernel[0], coupling[0], **kw)
            ref = naive.retention(image, src, kernel[1], coupling[1])
            np.testing.assert_allclose(rho, ref, rtol=RTOL, atol=ATOL)
            delta = vn.swap_delta(image, a, b, kernel[0], coupling[0], **kw)
            if (a, b) in expected:
                assert abs(rho - 1.0) <= TOLERANCE, (a, b, rho)
                assert delta == pytest.approx(0.0, abs=1e-12)
            else:
                if strict_inequality_visible(coupling):
                    assert rho < 1.0, (a, b, rho)
                assert delta < 0.0, (a, b, delta)


# ----------------------------------------------------------------------------- far from 1: large losses


@pytest.mark.parametrize("h", [0.25, 0.2, 0.15, 0.1])
def test_retention_accurate_when_almost_everything_is_lost(h):
    """A closed form where the moved bonds outweigh the original ones by far.

    Image (0, 1, 0) on a 1x3 strip, R = 1, f(1) = 1: the two original bonds weigh
    s = exp(-1 / (2 h^2)); exchanging pixels 1 and 2 makes the two zeros neighbours
    (bond 1) and keeps one weak bond, so rho = s / sqrt(2 (1 + s^2)).
    """
    image = np.array([[0.0, 1.0, 0.0]])
    src = np.array([0, 2, 1])
    s = math.exp(-1.0 / (2.0 * h * h))
    exact = s / math.sqrt(2.0 * (1.0 + s * s))
    kernel = vn.Kernel.power(2.0, 1.0)
    assert naive.retention(image, src, ("power", 2.0, 1.0), h) == pytest.approx(exact, rel=1e-12)
    assert vn.retention(image, src, kernel, vn.Coupling.gaussian(h)) == pytest.approx(exact, rel=RTOL, abs=ATOL)
    # The same map is the swap of positions 1 and 2: Delta I = -(1 - rho) I(X), I(X) = 2 s.
    delta = vn.swap_delta(image, 1, 2, kernel, vn.Coupling.gaussian(h))
    assert delta == pytest.approx(-(1.0 - exact) * 2.0 * s, rel=1e-10)


@pytest.mark.parametrize("h", [0.25, 0.2, 0.15, 0.1])
def test_swap_on_alternating_strip_matches_naive(h):
    """Theorem 2 on a 1x5 strip of alternating 0/1 values, where every bond is weak."""
    image = np.array([[0.0, 1.0, 0.0, 1.0, 0.0]])
    kernel, ref_kernel = vn.Kernel.power(2.0, 1.0), ("power", 2.0, 1.0)
    src = np.array(naive.swap_src(5, 1, 2))
    rho = vn.retention(image, src, kernel, vn.Coupling.gaussian(h))
    ref = naive.retention(image, src, ref_kernel, h)
    assert 0.0 <= rho < 1.0
    assert rho == pytest.approx(ref, rel=RTOL, abs=ATOL)
    delta = vn.swap_delta(image, 1, 2, kernel, vn.Coupling.gaussian(h))
    assert delta == pytest.approx(naive.swap_delta(image, 1, 2, ref_kernel, h), rel=1e-9)


# ----------------------------------------------------------------------------- the exhaustive check


def _load_verifier():
    spec = importlib.util.spec_from_file_location("verify_small_grids", PROOFS / "verify_small_grids.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def verifier():
    return _load_verifier()


def test_quick_exhaustive_check_passes(verifier):
    rows = verifier.verify(quick=True)
    perm_grids, trans_grids = verifier.grids(quick=True)
    n_kernels = len(verifier.kernels())
    assert len(rows) == (len(perm_grids) + len(trans_grids)) * n_kernels
    failed = [r for r in rows if not r["passed"]]
    assert not failed, failed
    by_key = {(r["kind"], r["grid"], r["kernel"]): r for r in rows}
    # Counts the theorems fix independently of the image: the 2x2 square has 8
    # symmetries, a 2x3 rectangle 4; 2 swaps of 2x2 and none of 3x3 keep rho = 1.
    assert by_key["permutations", "2x2", "power(2, 3)"]["keep_rho_1"] == 8
    assert by_key["permutations", "2x3", "gaussian(1, 1)"]["keep_rho_1"] == 4
    assert by_key["permutations", "2x3", "gaussian(1, 1)"]["checked"] == 720
    assert by_key["transpositions", "2x2", "exponential(1, 3)"]["keep_rho_1"] == 2
    assert by_key["transpositions", "3x3", "power(2, 1)"]["keep_rho_1"] == 0
    assert by_key["transpositions", "3x3", "power(2, 1)"]["checked"] == 36


@pytest.mark.parametrize("shape,radius", [((2, 3), 3.0), ((2, 3), 1.0), ((2, 2), 1.0), ((1, 5), 1.5)])
def test_verifier_automorphisms_match_naive(verifier, shape, radius):
    """The script's integer-distance test agrees with naive.is_automorphism on every permutation."""
    h, w = shape
    sigmas = verifier.all_permutations(h * w)
    mask = verifier.automorphism_mask(sigmas, verifier.neighbour_classes(h, w, radius))
    ref = [naive.is_automorphism(h, w, s, ("power", 2.0, radius)) for s in sigmas]
    np.testing.assert_array_equal(mask, ref)
