"""vortexnumba.testing as a product: custom kernels and couplings, assumption checks, strategies, helpers."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import vortexnumba as vn
from vortexnumba.framework._assumptions import check_kernel_values, grid_distances
from vortexnumba.testing import (
    assert_retention_matches_exact,
    assert_swap_lowers,
    block_keys,
    couplings,
    digits_needed,
    exact_loss,
    exact_swap_delta,
    gather_maps,
    grid_shapes,
    images,
    kernels,
    permutation_keys,
    permutations,
    swaps,
    vortex_keys,
)

ROOT = Path(__file__).resolve().parent.parent


def step(d):
    """A kernel that rises: 1 below distance 1.9, 1.3 from there to R = 2.5 (not strictly decreasing)."""
    return 1.0 if d < 1.9 else 1.3


# ----------------------------------------------------------------------------- custom kernels


def test_custom_kernel_gives_the_builtin_results_bit_for_bit():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (9, 7), dtype=np.uint8)
    src = rng.permutation(63)
    custom = vn.Kernel.from_function(lambda d: d ** -2.0, 3.0)
    builtin = vn.Kernel.power(2.0, 3.0)
    assert custom.values == builtin.values
    assert vn.retention(img, src, custom) == vn.retention(img, src, builtin)
    assert vn.information_energy(img, custom) == vn.information_energy(img, builtin)
    np.testing.assert_array_equal(vn.swap_deltas(img, (4, 3), custom), vn.swap_deltas(img, (4, 3), builtin))


def test_custom_kernel_is_evaluated_once_at_the_grid_distances():
    calls = []

    def f(d):
        calls.append(np.array(d, copy=True))
        return np.exp(-np.asarray(d))

    kernel = vn.Kernel.from_function(f, math.sqrt(5))
    assert len(calls) == 1
    np.testing.assert_array_equal(calls[0], [1.0, math.sqrt(2), 2.0, math.sqrt(5)])
    vn.retention(np.zeros((4, 4)), np.arange(16), kernel)
    vn.swap_delta(np.zeros((4, 4)), 0, 5, kernel)
    assert len(calls) == 1


def test_scalar_only_function_is_called_per_distance():
    kernel = vn.Kernel.from_function(lambda d: 1.0 / (1.0 + d) if d > 0 else math.nan, 2.0)
    assert kernel.values == pytest.approx([1 / 2, 1 / (1 + math.sqrt(2)), 1 / 3])
    assert kernel.describe() == "custom(test_scalar_only_function_is_called_per_distance.<locals>.<lambda>, R=2)"


@pytest.mark.parametrize("f, radius, match", [
    (step, 2.5, r"strictly decreasing .* but f\(1\) = 1 <= f\(1\.41421\) = 1"),
    (lambda d: d, 2.0, r"strictly decreasing .* but f\(1\) = 1 <= f\(1\.41421\) = 1\.41421"),
    (lambda d: 1.0 - d / 2, 2.0, r"positive and finite .* but f\(2\) = 0\.0"),
    (lambda d: np.where(d > 1.5, np.nan, 1 / d), 2.0, r"positive and finite .* f\(2\) = nan"),
    (lambda d: np.where(d > 1.5, 1e-200, 1 / d), 2.0, r"f\*\*2 > 0 .* f\(2\) = 1e-200"),
])
def test_custom_kernel_assumptions_checked_with_witness(f, radius, match):
    with pytest.raises(ValueError, match=match):
        vn.Kernel.from_function(f, radius)
    vn.Kernel.from_function(f, radius, check=False)  # the opt-out


@pytest.mark.parametrize("make, err, match", [
    (lambda: vn.Kernel.from_function(step, 0.5), ValueError, r"radius must be a finite number >= 1"),
    (lambda: vn.Kernel.from_function(step, 100.0), ValueError, "radius must be <= 64"),
    (lambda: vn.Kernel.from_function("step", 2.0), TypeError, "needs a callable f"),
    (lambda: vn.Kernel.from_function(lambda d: "x", 2.0), TypeError, "must return a real number"),
    (lambda: vn.Coupling.from_function(3.0), TypeError, "needs a callable s"),
])
def test_custom_kernel_bad_arguments(make, err, match):
    with pytest.raises(err, match=match):
        make()


@pytest.mark.parametrize("make, match", [
    (lambda: vn.Kernel.power(1e-17, 4.0), r"Kernel.power\(alpha=1e-17, radius=4\): .*strictly decreasing.* alpha is "
                                          r"too small"),
    (lambda: vn.Kernel.exponential(1e17, 4.0), r"Kernel.exponential\(tau=1e\+17.*strictly decreasing.* tau is too "
                                               r"large"),
    (lambda: vn.Kernel.gaussian(1e9, 2.0), "tau is too large"),
    (lambda: vn.Kernel.power(1000.0, 3.0), r"positive and finite .* alpha is too large \(f underflows\)"),
    (lambda: vn.Kernel.gaussian(1e-3, 1.0), r"f\(1\) = 0\.0; tau is too small"),
    (lambda: vn.Kernel.exponential(0.005, 3.0), "tau is too small"),
    (lambda: vn.Coupling.gaussian(1e-5), r"s\(0/255, 1/255\) = 0\.0; h is too small"),
])
def test_builtin_parameters_whose_float64_values_collapse_are_refused(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_builtin_check_is_the_custom_check():
    """One implementation: a built-in's values pass exactly when the same values pass as a custom kernel."""
    for radius in (1.0, 2.5, 3.5):
        _, d = grid_distances(radius)
        for kernel in (vn.Kernel.power(3.0, radius), vn.Kernel.gaussian(0.4, radius)):
            check_kernel_values(d, kernel.values)
            custom = vn.Kernel.from_function(lambda x, k=kernel: k(x), radius)
            assert custom.values == kernel.values
    assert vn.Coupling.gaussian(1.5e-4).h == 1.5e-4  # just above the uint8 collapse


# ----------------------------------------------------------------------------- custom couplings


def test_custom_coupling_matches_gaussian_on_uint8_gray_and_colour():
    rng = np.random.default_rng(1)
    h = 0.2
    custom = vn.Coupling.from_function(lambda x, y: np.exp(-((x - y) ** 2) / (2 * h * h)))
    for shape in [(6, 7), (6, 7, 3)]:
        img = rng.integers(0, 256, shape, dtype=np.uint8)
        src = rng.permutation(42)
        kw = {"channels": True} if len(shape) == 3 else {}
        a = vn.retention(img, src, coupling=custom, **kw)
        b = vn.retention(img, src, coupling=vn.Coupling.gaussian(h), **kw)
        assert a == pytest.approx(b, rel=1e-13)
        assert vn.swap_delta(img, 3, 30, coupling=custom, **kw) == pytest.approx(
            vn.swap_delta(img, 3, 30, coupling=vn.Coupling.gaussian(h), **kw), rel=1e-9)
    assert float(custom(0.0, 0.5)) == pytest.approx(float(vn.Coupling.gaussian(h)(0.0, 0.5)), rel=1e-15)


def test_custom_coupling_refuses_float_images():
    custom = vn.Coupling.from_function(lambda x, y: 1.0 / (1.0 + abs(x - y)))
    with pytest.raises(ValueError, match="works on uint8 images only, got dtype float64"):
        vn.retention(np.zeros((3, 3)), np.arange(9), coupling=custom)
    with pytest.raises(ValueError, match="uint8 images only"):
        vn.SwapContext(np.zeros((3, 3), dtype=np.float32), coupling=custom)


@pytest.mark.parametrize("s, match", [
    (lambda x, y: 1.0 + x, r"symmetric .* s\(0/255, 1/255\) = 1 != s\(1/255, 0/255\) = 1\.00392"),
    (lambda x, y: np.where(abs(x - y) > 0.5, 0.0, 1.0), r"positive and finite .* s\(0/255, 128/255\) = 0\.0"),
    (lambda x, y: 1.0 + x * y, r"depend on the values only through \|x - y\|"),
    (lambda x, y: np.full(np.broadcast(x, y).shape, np.inf), "positive and finite"),
])
def test_custom_coupling_assumptions_checked_with_witness(s, match):
    with pytest.raises(ValueError, match=match):
        vn.Coupling.from_function(s)
    vn.Coupling.from_function(s, check=False)


def test_custom_kernel_and_coupling_against_exact_reference():
    rng = np.random.default_rng(2)
    img = rng.integers(0, 256, (4, 5), dtype=np.uint8)
    kernel = vn.Kernel.from_function(lambda d: 1.0 / (1.0 + d * d), 2.5)
    coupling = vn.Coupling.from_function(lambda x, y: 1.0 / (1.0 + 20.0 * np.abs(x - y)))
    assert_retention_matches_exact(img, rng.permutation(20), kernel, coupling)
    assert_swap_lowers(img, (0, 0), (2, 3), kernel, coupling)


# ----------------------------------------------------------------------------- strategies


@settings(max_examples=examples(30))
@given(st.data(), kernels())
def test_strategy_kernels_within_pass_the_check_and_outside_fail_it(data, kernel):
    _, d = grid_distances(kernel.radius)
    check_kernel_values(d, kernel.values)
    outside = data.draw(kernels(within=False))
    with pytest.raises(ValueError, match="strictly decreasing"):
        vn.Kernel.from_function(outside.function, outside.radius)


@settings(max_examples=examples(30))
@given(st.data(), couplings(), couplings(within=False))
def test_strategy_couplings(data, coupling, outside):
    assert coupling.family == "constant" or 0.05 <= coupling.h <= 2.0
    with pytest.raises(ValueError, match="positive"):
        vn.Coupling.from_function(outside.function)


@settings(max_examples=examples(40))
@given(st.data(), grid_shapes(max_side=5, min_pixels=2))
def test_strategy_images_swaps_and_maps(data, shape):
    kind = data.draw(st.sampled_from(["two_valued", "near_constant", "any"]))
    img = data.draw(images(shape, kinds=[kind]))
    assert img.shape[:2] == shape and img.dtype in (np.uint8, np.float64)
    values = np.unique(img.reshape(shape[0] * shape[1], -1), axis=0)
    if kind == "two_valued":
        assert len(values) <= 2
    if kind == "near_constant":
        assert float(np.ptp(img.astype(np.float64))) <= (2.0 if img.dtype == np.uint8 else 4.01e-3)
    n = shape[0] * shape[1]
    a, b = data.draw(swaps(shape))
    assert a != b and 0 <= a < n and 0 <= b < n
    assert sorted(data.draw(permutations(n)).tolist()) == list(range(n))
    lossy = data.draw(gather_maps(n, bijective=False))
    assert lossy.shape == (n,) and len(set(lossy.tolist())) < n and lossy.min() >= 0 and lossy.max() < n


@settings(max_examples=examples(20))
@given(block_keys(max_side=8), vortex_keys(max_side=8), permutation_keys(max_side=4))
def test_strategy_keys(block, vortex, perm):
    for key in (block, vortex, perm):
        assert key.src.shape == (key.shape[0] * key.shape[1],)
    assert sorted(block.src.tolist()) == list(range(block.src.size))
    if vortex.mode == "bijective":
        assert sorted(vortex.src.tolist()) == list(range(vortex.src.size))
    assert type(vortex).from_json(vortex.to_json()) == vortex


# ----------------------------------------------------------------------------- assertion helpers


def test_assert_swap_lowers_prints_the_case():
    kernel = vn.Kernel.from_function(step, 2.5, check=False)
    with pytest.raises(AssertionError, match=r"(?s)does not lower the information.*image \(2, 3\) uint8.*"
                                             r"custom\(step, R=2\.5\).*a = \(0, 0\).*b = \(1, 0\)"):
        assert_swap_lowers(np.zeros((2, 3), dtype=np.uint8), (0, 0), (1, 0), kernel)
    assert exact_swap_delta(np.zeros((2, 3), dtype=np.uint8), 0, 3, kernel) == 0


def test_assert_retention_matches_exact_catches_an_error_of_1e_9(monkeypatch):
    import vortexnumba.testing._assertions as assertions

    img = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    src = np.array([1, 0, *range(2, 12)])
    exact = assert_retention_matches_exact(img, src)
    assert exact == pytest.approx(float(exact_loss(img, src)), rel=1e-15) and exact > 0
    monkeypatch.setattr(assertions, "information_loss", lambda *a, **k: exact * (1 + 2e-9))
    with pytest.raises(AssertionError, match=r"(?s)information_loss is off.*src = \[1, 0, 2"):
        assert_retention_matches_exact(img, src)


def test_digits_needed_resolves_losses_at_small_h():
    """[[1,1,1],[0,0,0]] with h = 0.05: the swap loses 2.87e-174, which 120 digits cannot see."""
    img = np.array([[1, 1, 1], [0, 0, 0]], dtype=np.float64)
    src = [0, 4, 2, 3, 1, 5]
    kernel, coupling = vn.Kernel.power(2.0, 1.5), vn.Coupling.gaussian(0.05)
    assert digits_needed(kernel, coupling) > 174 + 20
    assert float(exact_loss(img, src, kernel, coupling)) == pytest.approx(2.872754395071136e-174, rel=1e-12)
    assert abs(exact_loss(img, src, kernel, coupling, digits=120)) < 1e-118  # rounding, not the loss
    assert float(exact_loss(img, src, kernel, vn.Coupling.gaussian(0.1))) == pytest.approx(5.580113964031316e-44,
                                                                                           rel=1e-12)


# ----------------------------------------------------------------------------- optional dependency


def test_import_vortexnumba_does_not_import_hypothesis_and_exact_works_without_it():
    code = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "import vortexnumba as vn\n"
        "from vortexnumba.testing import exact_loss, assert_swap_lowers\n"
        "import numpy as np\n"
        "assert assert_swap_lowers(np.eye(3), 0, 1) < 0\n"
        "try:\n"
        "    vn.testing.images\n"
        "except ImportError as exc:\n"
        "    print('ImportError:', exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "vortexnumba.testing.images needs Hypothesis: pip install 'vortexnumba[testing]'" in out.stdout
    plain = subprocess.run([sys.executable, "-c", "import sys, vortexnumba; print('hypothesis' in sys.modules)"],
                           capture_output=True, text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT),
                                                                          "PATH": "/usr/bin:/bin"}, timeout=120)
    assert plain.stdout.strip() == "False", plain.stderr


# ----------------------------------------------------------------------------- docs/verification.md


def test_the_ten_line_pytest_file_of_the_docs_runs():
    import re

    text = (ROOT / "docs" / "verification.md").read_text()
    block = re.search(r"## A property of your own transformation in ten lines.*?```python\n(.*?)```", text,
                      re.S).group(1)
    assert len([line for line in block.splitlines() if line.strip()]) <= 10
    namespace = {}
    exec(compile(block, "docs/verification.md", "exec"), namespace)
    tests = [fn for name, fn in namespace.items() if name.startswith("test_")]
    assert len(tests) == 1
    settings(max_examples=examples(10))(tests[0])()


def test_docs_coupling_outside_s1_example():
    coupling = vn.Coupling.from_function(lambda x, y: 1.0 if x == y else 0.0, check=False)
    report = __import__("vortexnumba.testing", fromlist=["verify"]).verify(vn.Kernel.power(2, 1), coupling,
                                                                           examples=0)
    assert report.counterexample.grid == "1x5" and "no bonds" in report.counterexample.reason
