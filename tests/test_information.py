"""The information kernels against the naive references of tests/naive.py."""

from __future__ import annotations

import math

import naive
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import vortexnumba as vn
from vortexnumba.testing import assert_swap_lowers, couplings, exact_retention, gather_maps, images, kernels, swaps

RTOL = 1e-10
# The fast retention is good to a few units of float64 round-off near 1; relative 1e-13 elsewhere.
RHO_RTOL, RHO_ATOL = 1e-13, 2e-15
DTYPES = ("uint8", "float32", "float64")


def any_images(min_pixels=1):
    return images(dtypes=DTYPES, min_pixels=min_pixels)


def naive_args(kernel, coupling):
    return (kernel.family, kernel.param, kernel.radius), coupling.h


def random_maps(draw, n, count):
    """``count`` gather indices: permutations and arbitrary (non-bijective) maps."""
    return np.stack([draw(gather_maps(n)) if n > 1 else np.zeros(1, dtype=np.int64) for _ in range(count)])


@given(any_images(), kernels(), couplings())
def test_energy_and_content_match_naive(img, kernel, coupling):
    k, h = naive_args(kernel, coupling)
    expected = naive.energy(img, k, h)
    assert vn.information_energy(img, kernel, coupling, channels=img.ndim == 3) == pytest.approx(expected, rel=RTOL)
    content = vn.information_content(img, kernel, coupling, channels=img.ndim == 3)
    assert content == pytest.approx(math.sqrt(expected), rel=RTOL)


@given(any_images(), kernels(), couplings())
def test_profile_matches_naive(img, kernel, coupling):
    k, h = naive_args(kernel, coupling)
    prof, dist = vn.neighbour_profile(img, kernel, coupling)
    ref, ref_dist = naive.profile(img, k, h)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-14)
    np.testing.assert_allclose(prof, ref, rtol=RTOL, atol=1e-300)


@given(st.data(), any_images(), kernels(), couplings())
def test_retention_matches_exact(data, img, kernel, coupling):
    n = img.shape[0] * img.shape[1]
    (src,) = random_maps(data.draw, n, 1)
    got = vn.retention(img, src, kernel, coupling, channels=img.ndim == 3)
    exact = float(exact_retention(img, src, kernel, coupling, channels=img.ndim == 3))
    assert abs(got - exact) <= max(RHO_RTOL * abs(exact), RHO_ATOL), (got, exact)


@given(st.data(), st.integers(1, 5), st.integers(1, 5), st.integers(2, 20), st.sampled_from([None, 1, 2, 5]),
       st.sampled_from([np.uint8, np.float32, np.float64]), kernels(), couplings())
def test_batch_retention_equals_per_image(data, h, w, batch, channels, dtype, kernel, coupling):
    """A batch with one shared map and with per-image maps equals image-by-image calls.

    Batches above 16 images cross a block of the shared-map kernel; 2 and 5
    channels take its general (non-grayscale-table) branch.
    """
    shape = (batch, h, w) if channels is None else (batch, h, w, channels)
    elements = None if dtype == np.uint8 else st.floats(0, 1, width=32)
    imgs = data.draw(hnp.arrays(dtype, shape, elements=elements))
    n = h * w
    maps = random_maps(data.draw, n, batch)
    shared = vn.retention(imgs, maps[0], kernel, coupling, channels=False)
    each = vn.retention(imgs, maps, kernel, coupling)
    assert shared.shape == each.shape == (batch,)
    k, hh = naive_args(kernel, coupling)
    for b in data.draw(st.lists(st.integers(0, batch - 1), min_size=1, max_size=3, unique=True)):
        assert shared[b] == pytest.approx(naive.retention(imgs[b], maps[0], k, hh), rel=RTOL, abs=1e-15)
        assert each[b] == pytest.approx(naive.retention(imgs[b], maps[b], k, hh), rel=RTOL, abs=1e-15)


@given(st.data(), any_images(min_pixels=2), kernels(), couplings())
def test_swap_delta_and_map_match_recomputation(data, img, kernel, coupling):
    """swap_deltas / SwapContext.deltas equal the swap's loss recomputed through retention."""
    n = img.shape[0] * img.shape[1]
    a, b = data.draw(swaps(img.shape[:2]))
    ch = img.ndim == 3
    assert vn.swap_delta(img, a, b, kernel, coupling, channels=ch) == vn.SwapContext(
        img, kernel, coupling, channels=ch).delta(a, b)
    ctx = vn.SwapContext(img, kernel, coupling, channels=ch)
    full = ctx.deltas(a)
    assert full.shape == img.shape[:2]
    assert full.flat[a] == 0.0
    for q in range(n):
        if q != a:
            ref = -(1 - vn.retention(img, naive.swap_src(n, a, q), kernel, coupling, channels=ch)) * ctx.content
            # 1 - rho formed by subtraction is good to ~1e-16 absolute, hence the absolute part
            assert full.flat[q] == pytest.approx(ref, rel=1e-9, abs=1e-15 * ctx.content)


@given(st.data(), any_images(min_pixels=5), kernels(), couplings())
def test_swap_delta_matches_exact(data, img, kernel, coupling):
    """All three swap entry points against the exact reference (float32 images too)."""
    a, b = data.draw(swaps(img.shape[:2]))
    assert_swap_lowers(img, a, b, kernel, coupling, channels=img.ndim == 3)


def longdouble_loss(img: np.ndarray, src: np.ndarray, kernel) -> np.longdouble:
    """1 - rho straight from its definition in 80-bit extended precision (x86
    long double, ~19 digits): the cancellation in 1 - rho costs ~3 digits when
    rho ~ 1 - 1e-4, leaving ~15, enough to check float64 to 1e-10."""
    ld = np.longdouble
    h, w = img.shape
    x = img.astype(ld).ravel() / ld(255)
    pos = np.indices((h, w)).reshape(2, -1).T
    n = h * w
    sigma = np.empty(n, dtype=np.int64)
    sigma[src] = np.arange(n)

    def f(d2):
        d = np.sqrt(d2.astype(ld))
        return np.where((d2 > 0) & (d <= kernel.radius), d ** ld(-kernel.param), ld(0))

    q, r = np.triu_indices(n, 1)
    near = ((pos[q] - pos[r]) ** 2).sum(1) <= int(kernel.radius) ** 2
    near |= ((pos[sigma[q]] - pos[sigma[r]]) ** 2).sum(1) <= int(kernel.radius) ** 2
    q, r = q[near], r[near]
    s2 = np.exp(-((x[q] - x[r]) ** 2) / ld(0.0625))
    fb = f(((pos[q] - pos[r]) ** 2).sum(1))
    fc = f(((pos[sigma[q]] - pos[sigma[r]]) ** 2).sum(1))
    return 1 - (s2 * fb * fc).sum() / np.sqrt((s2 * fb * fb).sum() * (s2 * fc * fc).sum())


@pytest.mark.skipif(np.finfo(np.longdouble).eps > 1e-18, reason="needs 80-bit long double (x86)")
def test_swap_loss_accurate_against_extended_precision():
    rng = np.random.default_rng(11)
    img = rng.integers(0, 256, (40, 40), dtype=np.uint8)
    ctx = vn.SwapContext(img)
    for a, b in [((3, 4), (30, 33)), ((20, 20), (20, 21)), ((0, 0), (39, 39))]:
        qa, qb = a[0] * 40 + a[1], b[0] * 40 + b[1]
        src = np.array(naive.swap_src(1600, qa, qb))
        ref = float(longdouble_loss(img, src, vn.Kernel.power()))
        assert 0 < ref < 1e-2
        assert ctx.loss(a, b) == pytest.approx(ref, rel=1e-10)
        assert 1 - vn.retention(img, src) == pytest.approx(ref, rel=1e-10)


def test_swap_on_large_image_gives_positive_loss():
    """The sum-of-squares form keeps a single swap's loss on 128x128 positive and accurate."""
    rng = np.random.default_rng(7)
    img = rng.integers(0, 256, (128, 128), dtype=np.uint8)
    ctx = vn.SwapContext(img)
    a, b = (10, 10), (100, 90)
    loss = ctx.loss(a, b)
    assert loss > 0
    n = 128 * 128
    src = naive.swap_src(n, 10 * 128 + 10, 100 * 128 + 90)
    assert 1 - vn.retention(img, src) == pytest.approx(loss, rel=1e-6)
    # the direct formula agrees, computed independently from energies in the output frame
    swapped = img.ravel()[src].reshape(img.shape)
    e_y = vn.information_energy(swapped)
    assert e_y == pytest.approx(ctx.energy, rel=1e-3)


def test_identity_and_flips_keep_everything():
    rng = np.random.default_rng(0)
    img = rng.random((7, 9, 3))
    idx = np.arange(63).reshape(7, 9)
    for src in (idx.ravel(), idx[::-1].ravel(), idx[:, ::-1].ravel(), idx[::-1, ::-1].ravel()):
        assert vn.retention(img, src, channels=True) == 1.0


def test_constant_image_energy_by_hand():
    # 2x2 grid, power(2, 3): 8 ordered pairs at distance 1 (f = 1), 4 at sqrt 2 (f = 1/2).
    assert vn.information_energy(np.zeros((2, 2))) == pytest.approx(8 * 1 + 4 * 0.25)
    assert vn.information_energy(np.zeros((1, 1))) == 0.0
    assert vn.retention(np.zeros((1, 1)), [0]) == 1.0


def test_uint8_equals_float_scaled():
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (6, 5), dtype=np.uint8)
    src = rng.permutation(30)
    assert vn.retention(img, src) == pytest.approx(vn.retention(img / 255.0, src), rel=1e-12)
    assert vn.information_energy(img) == pytest.approx(vn.information_energy(img / 255.0), rel=1e-12)


def test_non_contiguous_input():
    rng = np.random.default_rng(4)
    big = rng.random((10, 12, 3))
    view = big[::2, 1::2, 1]
    src = rng.permutation(30)
    assert vn.retention(view, src) == pytest.approx(vn.retention(view.copy(), src), rel=1e-15)


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "images, src, match",
    [
        (np.zeros((3, 3)), np.arange(8), r"shape \(3, 3\), which does not match the N = 8 pixels"),
        (np.zeros((3, 3)), np.arange(9) + 1, r"src entries must lie in \[0, 9\)"),
        (np.zeros((3, 3)), -np.arange(9), "src entries must lie"),
        (np.zeros((3, 3)), np.arange(9.0), "integer array"),
        (np.zeros((3, 3)), "abc", "integer array"),
        (np.zeros((3, 3)), np.zeros((2, 9), dtype=int), "src must have shape"),
        (np.zeros((2, 3, 3)), np.zeros((3, 9), dtype=int), "expected one per image"),
        (np.array([[0.0, np.nan], [0, 0]]), np.arange(4), "finite"),
        (np.array([[0.0, np.inf], [0, 0]]), np.arange(4), "finite"),
        (np.zeros((0, 3)), np.arange(0), "must not be empty"),
        (np.zeros(9), np.arange(9), r"\(H, W\)"),
        (np.zeros((3, 3), dtype=np.int32), np.arange(9), "dtype uint8"),
        (np.zeros((3, 3), dtype=complex), np.arange(9), "dtype uint8"),
        (np.zeros((3, 3, 3)), np.arange(9), "pass channels=True"),
    ],
)
def test_retention_rejects_bad_input(images, src, match):
    with pytest.raises((ValueError, TypeError), match=match):
        vn.retention(images, src)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: vn.Kernel.power(alpha=0), "alpha must be a finite number > 0"),
        (lambda: vn.Kernel.power(alpha=-1), "alpha"),
        (lambda: vn.Kernel.gaussian(tau=0), "tau must be a finite number > 0"),
        (lambda: vn.Kernel.exponential(tau=float("nan")), "tau"),
        (lambda: vn.Kernel.power(radius=0.5), r"radius must be a finite number >= 1"),
        (lambda: vn.Kernel.power(radius="3"), "radius must be a real number"),
        (lambda: vn.Kernel("cubic", 1.0, 2.0), "family must be one of"),
        (lambda: vn.Coupling.gaussian(h=0), "h must be a finite number > 0"),
        (lambda: vn.Coupling.gaussian(h=-0.1), "h must be"),
        (lambda: vn.information_energy(np.zeros((3, 3)), kernel="power"), "kernel must be a vortexnumba.Kernel"),
        (lambda: vn.information_energy(np.zeros((3, 3)), coupling=0.25), "coupling must be a vortexnumba.Coupling"),
        (lambda: vn.swap_delta(np.zeros((3, 3)), (1, 1), (1, 1)), "a and b must be distinct"),
        (lambda: vn.swap_delta(np.zeros((3, 3)), 4, 4), "a and b must be distinct"),
        (lambda: vn.swap_delta(np.zeros((3, 3)), (3, 0), (1, 1)), r"a = \(3, 0\) lies outside the 3x3 grid"),
        (lambda: vn.swap_delta(np.zeros((3, 3)), 0, 9), "b = 9 lies outside"),
        (lambda: vn.swap_delta(np.zeros((3, 3)), 0, (1,)), "pair"),
        (lambda: vn.swap_deltas(np.zeros((3, 3)), (-1, 0)), "outside"),
        (lambda: vn.swap_deltas(np.zeros((2, 3, 3)), 0, channels=False), "one image"),
        (lambda: vn.neighbour_profile(np.zeros((2, 3, 3, 1))), "one image"),
        (lambda: vn.neighbour_profile(np.zeros((3, 3)) * np.nan), "finite"),
    ],
)
def test_parameters_rejected_with_clear_message(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_kernel_callable_and_data():
    k = vn.Kernel.exponential(tau=2.0, radius=2.0)
    np.testing.assert_allclose(k([1.0, 2.0, 2.5]), [math.exp(-0.5), math.exp(-1.0), 0.0])
    assert k == vn.Kernel.exponential(2.0, 2.0)
    with pytest.raises(ValueError, match="> 0"):
        k(0.0)


def test_three_dimensional_arrays_read_by_one_rule():
    """Without a gather index to decide, a long last axis is a batch, a short one channels."""
    rng = np.random.default_rng(5)
    batch = rng.random((5, 8, 8))
    rgb = rng.random((8, 7, 3))
    e = vn.information_energy(batch)
    assert e.shape == (5,) and e[2] == pytest.approx(vn.information_energy(batch[2]), rel=1e-12)
    assert vn.information_energy(rgb) == pytest.approx(vn.information_energy(rgb, channels=True), rel=1e-15)
    with pytest.raises(ValueError, match="pass channels=True"):
        vn.information_energy(rng.random((2, 4, 4)))
