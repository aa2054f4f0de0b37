"""The swap path and information_loss against the exact reference.

Every public entry point that returns a loss or a Delta I is compared with
:mod:`vortexnumba.testing` (the definitions in 120-digit decimal arithmetic).
The contract (``proofs/theorems.md``, section 4): relative error at most
``RTOL`` wherever the loss is at least ``1e-12``; below that a non-negative
result within the absolute bound :func:`small_loss_bound`.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import examples  # Hypothesis budgets scale with the profile (tests/conftest.py)
from hypothesis import given, settings
from hypothesis import strategies as st

import vortexnumba as vn
from vortexnumba.framework._exact_sum import exact_sum
from vortexnumba.testing import exact_energy, exact_loss, exact_swap_delta

RTOL = 1e-9
EPS = 2.0 ** -53
RADII = [1.0, math.sqrt(2.0), 2.0, math.sqrt(5.0), 3.0]


def small_loss_bound(loss: float) -> float:
    """The stated absolute error bound for a loss below 1e-12 (``proofs/theorems.md``, section 4).

    The exact reference resolves a loss to about ``10**-(digits - 20)``; a true zero may come out a
    few units of its last digit below 0 (a 2x2 image's diagonal swap gives -1e-119), which is 0 here.
    """
    loss = max(loss, 0.0)
    return RTOL * loss + 16.0 * EPS * math.sqrt(loss) + 16.0 * EPS * EPS


def assert_loss_close(got: float, exact: float, what: str):
    assert got >= 0.0, f"{what}: negative loss {got!r} (exact {exact!r})"
    if exact >= 1e-12:
        assert abs(got - exact) <= RTOL * exact, f"{what}: {got!r} vs exact {exact!r}"
    else:
        assert abs(got - exact) <= small_loss_bound(exact), f"{what}: {got!r} vs exact {exact!r}"


def swap_src(n: int, a: int, b: int) -> np.ndarray:
    src = np.arange(n)
    src[[a, b]] = [b, a]
    return src


def check_every_entry_point(image, a: int, b: int, kernel, coupling, channels=None):
    """Compare SwapContext.loss/.delta/.deltas, swap_delta, swap_deltas and information_loss with the exact values."""
    n = image.shape[0] * image.shape[1]
    loss = float(exact_loss(image, swap_src(n, a, b), kernel, coupling, channels=channels))
    content = math.sqrt(float(exact_energy(image, kernel, coupling, channels=channels)))
    ctx = vn.SwapContext(image, kernel, coupling, channels=channels)
    assert ctx.content == pytest.approx(content, rel=1e-14)
    assert_loss_close(ctx.loss(a, b), loss, "SwapContext.loss")
    assert_loss_close(-ctx.delta(a, b) / content, loss, "SwapContext.delta")
    assert_loss_close(-ctx.deltas(a).flat[b] / content, loss, "SwapContext.deltas")
    assert_loss_close(-vn.swap_delta(image, a, b, kernel, coupling, channels=channels) / content, loss, "swap_delta")
    assert_loss_close(-vn.swap_deltas(image, a, kernel, coupling, channels=channels).flat[b] / content, loss,
                      "swap_deltas")
    assert_loss_close(vn.information_loss(image, swap_src(n, a, b), kernel, coupling, channels=channels), loss,
                      "information_loss")
    return loss


# ----------------------------------------------------------------------------- cases where cancellation is hardest


@pytest.mark.parametrize("image", [np.array([[0.0, 0.0, 1.0, 1.0, 0.0]]),
                                   np.array([[0, 0, 255, 255, 0]], dtype=np.uint8)])
def test_reproducer_gaussian_kernel_tau_03(image):
    """Returned -0.0014061 (0.9 % off) by forming E/2 minus the moved pairs' energy."""
    kernel, coupling = vn.Kernel.gaussian(tau=0.3, radius=2.0), vn.Coupling.gaussian(h=0.1)
    exact = float(exact_swap_delta(image, 1, 2, kernel, coupling))
    assert exact == pytest.approx(-0.0014188191269, rel=1e-10)
    assert vn.swap_delta(image, 1, 2, kernel, coupling) == pytest.approx(exact, rel=RTOL)
    check_every_entry_point(image, 1, 2, kernel, coupling)


@pytest.mark.parametrize("kernel", [vn.Kernel.power(alpha=30, radius=2), vn.Kernel.gaussian(0.25, 2)])
def test_reproducer_sharp_kernels(kernel):
    """Returned -2.0, 4.4 times the true value: the kept energy cancelled to zero."""
    image = np.array([[0.0, 0.0, 1.0, 1.0, 0.0]])
    coupling = vn.Coupling.gaussian(h=0.1)
    exact = float(exact_swap_delta(image, 1, 2, kernel, coupling))
    if kernel.family == "power":
        assert exact == pytest.approx(-0.367006838, rel=1e-9)
    assert vn.swap_delta(image, 1, 2, kernel, coupling) == pytest.approx(exact, rel=RTOL)
    check_every_entry_point(image, 1, 2, kernel, coupling)


def test_reproducer_retention_near_zero():
    """rho ~ 6e-9: the loss 1 - rho was returned as exactly 1.0 (relative error 5.9e-9)."""
    image = np.array([[1.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 0.0]])
    kernel, coupling = vn.Kernel.power(2, 1), vn.Coupling.gaussian(h=0.16)
    loss = check_every_entry_point(image, 3, 7, kernel, coupling)
    assert 0.0 < 1.0 - loss < 1e-8
    assert vn.SwapContext(image, kernel, coupling).loss(3, 7) < 1.0


def test_reproducer_tiny_loss_on_2x3():
    """A true loss of 5.6e-44 was returned as 6.2e-33 (a floor near eps**2)."""
    image = np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    kernel, coupling = vn.Kernel.power(2, 1.5), vn.Coupling.gaussian(h=0.1)
    loss = check_every_entry_point(image, 1, 4, kernel, coupling)
    assert 1e-44 < loss < 1e-43
    assert vn.SwapContext(image, kernel, coupling).loss(1, 4) == pytest.approx(loss, rel=RTOL)
    assert vn.information_loss(image, swap_src(6, 1, 4), kernel, coupling) == pytest.approx(loss, rel=RTOL)


def test_information_loss_is_not_one_minus_rho():
    """Two isolated bright pixels swapped: 1 - rho rounds to 0, the loss itself is ~1e-47."""
    image = np.zeros((24, 24))
    image[5, 6] = image[17, 12] = 1.0
    a, b = 5 * 24 + 6, 17 * 24 + 12
    kernel, coupling = vn.Kernel.power(2, 3), vn.Coupling.gaussian(h=0.1)
    src = swap_src(image.size, a, b)
    assert 1.0 - vn.retention(image, src, kernel, coupling) == 0.0
    exact = float(exact_loss(image, src, kernel, coupling))
    assert 0.0 < exact < 1e-40
    assert vn.information_loss(image, src, kernel, coupling) == pytest.approx(exact, rel=RTOL)
    assert vn.SwapContext(image, kernel, coupling).loss(a, b) == pytest.approx(exact, rel=RTOL)


def test_swap_loss_on_large_image_agrees_between_paths():
    """128x128, outlier swap: the swap kernel and the histogram path agree on a loss far below eps."""
    image = np.zeros((128, 128))
    image[20, 30] = image[90, 100] = 1.0
    a, b = 20 * 128 + 30, 90 * 128 + 100
    coupling = vn.Coupling.gaussian(h=0.1)
    loss = vn.SwapContext(image, coupling=coupling).loss(a, b)
    assert 1e-52 < loss < 1e-44
    assert vn.information_loss(image, swap_src(image.size, a, b), coupling=coupling) == pytest.approx(loss, rel=1e-12)


def test_uniform_scaling_regime_uses_the_lagrange_form():
    """All bonds scale by one factor (the gap form cancels): 4x1, power(30), h = 0.1."""
    image = np.array([[0.7932046246848263], [0.0], [1.0], [0.0]])
    kernel, coupling = vn.Kernel.power(30.0, math.sqrt(5.0)), vn.Coupling.gaussian(0.1)
    loss = check_every_entry_point(image, 1, 2, kernel, coupling)
    assert 1e-10 < loss < 1e-9


# ----------------------------------------------------------------------------- the exact accumulator


@settings(max_examples=examples(30))
@given(st.lists(st.floats(0.0, 2.0 ** 40, allow_subnormal=True), max_size=50),
       st.lists(st.floats(0.0, 1e-300, allow_subnormal=True), max_size=50))
def test_exact_sum_matches_fsum(big, tiny):
    values = np.array(big + tiny, dtype=np.float64)
    reference = math.fsum(values)
    got = exact_sum(values)
    assert abs(got - reference) <= 4 * EPS * reference


# ----------------------------------------------------------------------------- property test


@st.composite
def adversarial_cases(draw):
    """Two-valued (or random) images, small h, sharp kernels, R in RADII, uint8 or float, 1 or 3 channels."""
    h = draw(st.integers(1, 6))
    w = draw(st.integers(1, 6))
    if h * w < 2:
        w = 2
    channels = draw(st.sampled_from([1, 3]))
    shape = (h, w) if channels == 1 else (h, w, 3)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    uint8 = draw(st.booleans())
    style = draw(st.sampled_from(["two-valued", "two-valued", "three-valued", "random"]))
    if style == "random":
        image = rng.random(shape)
    else:
        levels = [0.0, 1.0] if style == "two-valued" else [0.0, 1.0, float(rng.random())]
        image = rng.choice(levels, shape)
    if uint8:
        image = np.round(image * 255).astype(np.uint8)
    radius = draw(st.sampled_from(RADII))
    family = draw(st.sampled_from(["power", "gaussian", "exponential"]))
    if family == "power":
        kernel = vn.Kernel.power(draw(st.sampled_from([0.5, 2.0, 8.0, 30.0])), radius)
    elif family == "gaussian":
        kernel = vn.Kernel.gaussian(draw(st.sampled_from([0.25, 0.4, 1.0, 3.0])), radius)
    else:
        kernel = vn.Kernel.exponential(draw(st.sampled_from([0.1, 0.3, 1.0, 5.0])), radius)
    if draw(st.integers(0, 4)) == 0:
        coupling = vn.Coupling.constant()
    else:
        coupling = vn.Coupling.gaussian(draw(st.sampled_from([0.05, 0.1, 0.16, 0.25, 1.0])))
    n = h * w
    a = draw(st.integers(0, n - 1))
    b = draw(st.integers(0, n - 2))
    b = b + 1 if b >= a else b
    return image, a, b, kernel, coupling, (True if channels == 3 else None)


@settings(max_examples=examples(25))
@given(adversarial_cases())
def test_every_swap_entry_point_matches_exact_reference(case):
    image, a, b, kernel, coupling, channels = case
    check_every_entry_point(image, a, b, kernel, coupling, channels)
