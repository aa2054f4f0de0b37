"""Property tests of Theorems 1 and 2 (proofs/theorems.md) and of the exhaustive check.

Theorem 1: a permutation never raises the retention above 1, and keeps exactly 1
iff it preserves every kernel weight (flips, 180-degree turns, and on square grids
90-degree turns and transposes). Theorem 2: on grids with at least 5 pixels every
swap of two pixels loses information; on 1x2, 1x3, 2x2 and their transposes exactly
the reflection swaps lose none.

Every claim is judged by the exact reference (vortexnumba.testing, 120+ digit
decimal arithmetic), so strict inequalities are asserted for every bandwidth,
down to h = 0.05; the fast kernels are compared with it. The strategies are the
public ones of vortexnumba.testing (two-valued and near-constant images, small h).
"""

from __future__ import annotations

import importlib.util
import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import naive
import numpy as np
import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import vortexnumba as vn
from vortexnumba.testing import (
    assert_retention_matches_exact,
    assert_swap_lowers,
    couplings,
    digits_needed,
    exact_loss,
    exact_retention,
    exact_swap_delta,
    grid_shapes,
    images,
    kernels,
    permutations,
    swaps,
)

# The fast retention near 1 is good to a few units of float64 round-off; relative 1e-13 elsewhere.
RHO_RTOL, RHO_ATOL = 1e-13, 2e-15
FEW = settings(max_examples=examples(25))
PROOFS = Path(__file__).resolve().parent.parent / "proofs"

# Grids where some swap keeps rho = 1, with those swaps (flat indices), from Theorem 2.
REFLECTION_SWAPS = {
    (1, 2): {(0, 1)},
    (2, 1): {(0, 1)},
    (1, 3): {(0, 2)},
    (3, 1): {(0, 2)},
    (2, 2): {(0, 3), (1, 2)},
}


def as_naive_kernel(kernel):
    return kernel.family, kernel.param, kernel.radius


def channel_kw(image):
    """Say explicitly that a 3-D array is one (H, W, C) image."""
    return {"channels": True} if image.ndim == 3 else {}


def exact_zero(kernel, coupling):
    """Exact results below this are 0 (rounding of the decimal arithmetic)."""
    return Decimal(10) ** -(digits_needed(kernel, coupling) - 20)


def assert_rho_close(rho, exact_rho):
    assert abs(rho - float(exact_rho)) <= max(RHO_RTOL * abs(float(exact_rho)), RHO_ATOL), (rho, exact_rho)


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


@given(data=st.data(), shape=grid_shapes(min_pixels=2), kernel=kernels(), coupling=couplings())
def test_random_permutation_never_gains(data, shape, kernel, coupling):
    h, w = shape
    image = data.draw(images(shape))
    src = data.draw(permutations(h * w))
    kw = channel_kw(image)
    loss = exact_loss(image, src, kernel, coupling, **kw)
    zero = exact_zero(kernel, coupling)
    # Equality case: rho = 1 exactly for the maps that keep every kernel weight, < 1 otherwise.
    sigma = np.argsort(src)
    if naive.is_automorphism(h, w, sigma, as_naive_kernel(kernel)):
        assert abs(loss) <= zero, loss
    else:
        assert loss > zero, loss
    rho = vn.retention(image, src, kernel, coupling, **kw)
    assert_rho_close(rho, 1 - loss)
    # Undoing the map, measured from the scrambled image, loses what the map lost.
    back = vn.retention(gather(image, src), sigma, kernel, coupling, **kw)
    assert_rho_close(back, 1 - loss)


@given(data=st.data(), shape=grid_shapes(min_pixels=2), kernel=kernels(), coupling=couplings())
def test_information_loss_of_permutation_matches_exact(data, shape, kernel, coupling):
    """information_loss to 1e-9 relative (absolute 1e-21 below a loss of 1e-12), also for tiny losses."""
    image = data.draw(images(shape))
    src = data.draw(permutations(shape[0] * shape[1]))
    assert_retention_matches_exact(image, src, kernel, coupling, **channel_kw(image))


@given(data=st.data(), shape=grid_shapes(), kernel=kernels(), coupling=couplings())
def test_grid_symmetries_keep_everything(data, shape, kernel, coupling):
    h, w = shape
    image = data.draw(images(shape))
    maps = symmetries(h, w)
    compare = data.draw(st.sampled_from(sorted(maps)))  # one map per example against the exact reference
    kw = channel_kw(image)
    for name, (src, act) in maps.items():
        np.testing.assert_array_equal(gather(image, src), act(image), err_msg=name)
        rho = vn.retention(image, src, kernel, coupling, **kw)
        assert abs(rho - 1.0) <= RHO_ATOL, (name, rho)
        assert vn.information_loss(image, src, kernel, coupling, **kw) == pytest.approx(0.0, abs=RHO_ATOL)
        if name == compare and h * w > 1:
            assert abs(exact_loss(image, src, kernel, coupling, **kw)) <= exact_zero(kernel, coupling), name


@FEW
@given(data=st.data(), shape=grid_shapes(min_pixels=2), kernel=kernels(), coupling=couplings())
def test_batch_of_permutations_matches_one_at_a_time(data, shape, kernel, coupling):
    h, w = shape
    n_images = data.draw(st.integers(1, 4))
    batch = np.stack([data.draw(images(shape, dtypes=["float64"], channels=[None])) for _ in range(n_images)])
    srcs = np.stack([data.draw(permutations(h * w)) for _ in range(n_images)])
    rho = vn.retention(batch, srcs, kernel, coupling, channels=False)
    assert rho.shape == (n_images,)
    for k in range(n_images):
        assert rho[k] == vn.retention(batch[k], srcs[k], kernel, coupling)
    k = data.draw(st.integers(0, n_images - 1))
    assert_rho_close(rho[k], exact_retention(batch[k], srcs[k], kernel, coupling))


def test_non_bijective_gather_can_exceed_one():
    """Theorem 1 needs a permutation: a gather map that reads one pixel twice can give rho > 1.

    On a 1x4 strip with f(d) = d^-2, R = 3 and s = 1, the map (0, 1, 2, 1) has
    inner = 457/72 and E(X) = E(Y) = 2033/324, so rho = 4113/4066.
    """
    image = np.linspace(0.0, 1.0, 4).reshape(1, 4)
    src = np.array([0, 1, 2, 1])
    kernel = vn.Kernel.power(2.0, 3.0)
    exact = Fraction(4113, 4066)
    rho = vn.retention(image, src, kernel, vn.Coupling.constant())
    assert rho == pytest.approx(float(exact), rel=1e-15)
    ref = exact_retention(image, src, kernel, vn.Coupling.constant())
    assert abs(Fraction(ref) - exact) < Fraction(1, 10**100)
    assert rho > 1.0


# ----------------------------------------------------------------------------- Theorem 2


@given(data=st.data(), shape=grid_shapes(min_pixels=5), kernel=kernels(), coupling=couplings())
def test_every_swap_loses_on_grids_of_five_or_more(data, shape, kernel, coupling):
    """The theorem itself (exact Delta I < 0) and the sign of the fast result."""
    h, w = shape
    image = data.draw(images(shape))
    a, b = data.draw(swaps(shape))
    kw = channel_kw(image)
    exact = exact_swap_delta(image, a, b, kernel, coupling, **kw)
    assert exact < 0, exact
    delta = vn.swap_delta(image, a, b, kernel, coupling, **kw)
    assert delta < 0.0
    # The same swap given as (i, j) pairs.
    assert vn.swap_delta(image, divmod(a, w), divmod(b, w), kernel, coupling, **kw) == delta


@given(data=st.data(), shape=grid_shapes(min_pixels=5), kernel=kernels(), coupling=couplings())
def test_swap_delta_matches_exact(data, shape, kernel, coupling):
    """swap_delta, swap_deltas and SwapContext to 1e-9 relative on adversarial images and small h."""
    image = data.draw(images(shape))
    a, b = data.draw(swaps(shape))
    assert_swap_lowers(image, a, b, kernel, coupling, **channel_kw(image))


@pytest.mark.parametrize("shape", [(1, 2), (2, 1), (1, 3), (3, 1), (2, 2), (1, 4), (4, 1)])
@FEW
@given(data=st.data(), kernel=kernels(), coupling=couplings())
def test_tiny_grids_exactly_the_reflection_swaps_keep_everything(shape, data, kernel, coupling):
    h, w = shape
    n = h * w
    image = data.draw(images(shape))
    kw = channel_kw(image)
    expected = REFLECTION_SWAPS.get(shape, set())
    zero = exact_zero(kernel, coupling)
    for a in range(n):
        for b in range(a + 1, n):
            exact = exact_swap_delta(image, a, b, kernel, coupling, **kw)
            rho = vn.retention(image, swap_src(n, a, b), kernel, coupling, **kw)
            delta = vn.swap_delta(image, a, b, kernel, coupling, **kw)
            if (a, b) in expected:
                assert abs(exact) <= zero, (a, b, exact)
                assert abs(rho - 1.0) <= RHO_ATOL, (a, b, rho)
                assert delta == pytest.approx(0.0, abs=1e-12)
            else:
                assert exact < -zero, (a, b, exact)
                assert delta < 0.0, (a, b, delta)


@pytest.mark.slow
@settings(max_examples=examples(4))
@given(data=st.data(), shape=grid_shapes(7, 12), kernel=kernels(), coupling=couplings())
def test_swap_theorem_on_grids_up_to_12x12(data, shape, kernel, coupling):
    """The slower tier: the theorem and the fast sign on grids from 7x7 to 12x12."""
    image = data.draw(images(shape, channels=[None]))
    a, b = data.draw(swaps(shape))
    exact = exact_swap_delta(image, a, b, kernel, coupling)
    assert exact < 0, exact
    assert vn.swap_delta(image, a, b, kernel, coupling) < 0.0
    src = swap_src(shape[0] * shape[1], a, b)
    assert_rho_close(vn.retention(image, src, kernel, coupling), exact_retention(image, src, kernel, coupling))


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
    assert float(exact_retention(image, src, kernel, vn.Coupling.gaussian(h))) == pytest.approx(exact, rel=1e-14)
    assert vn.retention(image, src, kernel, vn.Coupling.gaussian(h)) == pytest.approx(exact, rel=RHO_RTOL)
    # The same map is the swap of positions 1 and 2: Delta I = -(1 - rho) I(X), I(X) = 2 s.
    delta = vn.swap_delta(image, 1, 2, kernel, vn.Coupling.gaussian(h))
    assert delta == pytest.approx(-(1.0 - exact) * 2.0 * s, rel=1e-10)


@pytest.mark.parametrize("h", [0.25, 0.2, 0.15, 0.1])
def test_swap_on_alternating_strip_matches_exact(h):
    """Theorem 2 on a 1x5 strip of alternating 0/1 values, where every bond is weak."""
    image = np.array([[0.0, 1.0, 0.0, 1.0, 0.0]])
    kernel, coupling = vn.Kernel.power(2.0, 1.0), vn.Coupling.gaussian(h)
    src = swap_src(5, 1, 2)
    rho = vn.retention(image, src, kernel, coupling)
    assert 0.0 <= rho < 1.0
    assert_rho_close(rho, exact_retention(image, src, kernel, coupling))
    assert_swap_lowers(image, 1, 2, kernel, coupling)


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
