"""``vortexnumba verify`` and ``vn.testing.verify``: clean bills for the built-ins, counterexamples otherwise."""

from __future__ import annotations

import numpy as np
import pytest

import vortexnumba as vn
from vortexnumba.testing import exact_swap_delta, verify

STEP_MODULE = '''
def step(d):
    return 1.0 if d < 1.9 else 1.3

def rising(d):
    return d

def cut(x, y):
    return 1.0 if abs(x - y) <= 0.1 else 0.0
'''


def step(d):
    return 1.0 if d < 1.9 else 1.3


def test_builtin_kernel_gets_a_clean_bill():
    report = verify(vn.Kernel.gaussian(0.8, 2.0), vn.Coupling.gaussian(0.3), examples=8, seed=3)
    assert report.ok, report.text()
    # the exhaustive stage: every swap of the 5- and 6-pixel grids on 5 fixed images
    assert report.grids["2x3"]["exhaustive"] == 15 * 5
    assert report.grids["1x5"]["exhaustive"] == 10 * 5
    assert report.passed == 400 + 8
    assert "no counterexample: clean bill" in report.text()


def test_step_kernel_breaks_the_swap_theorem_on_a_2x3_grid():
    kernel = vn.Kernel.from_function(step, 2.5, check=False)
    report = verify(kernel, examples=0)
    assert not report.ok
    cx = report.counterexample
    assert cx.grid == "2x3" and cx.stage == "exhaustive"
    # exchanging the two pixels of one column keeps every bond
    a, b = (int(v) for v in cx.case["swap"].split("flat ")[1].rstrip(")").split(", "))
    assert b - a == 3
    assert cx.exact == 0.0 == float(exact_swap_delta(cx.image, a, b, kernel))
    assert "the swap does not lower the information" in report.text()


def test_hypothesis_stage_shrinks_the_step_kernel_counterexample():
    kernel = vn.Kernel.from_function(step, 2.5, check=False)
    report = verify(kernel, exhaustive=False, examples=100, seed=0)
    cx = report.counterexample
    assert cx is not None and cx.stage == "Hypothesis, shrunk"
    assert cx.grid in ("2x3", "3x2")  # a 2-pixel column (or row) of the smallest grid where it happens
    assert not cx.image.any()  # shrunk to a constant image
    assert cx.exact == 0.0


def test_outside_coupling_breaks_the_theorem():
    cut = vn.Coupling.from_function(lambda x, y: np.where(np.abs(x - y) <= 0.0, 1.0, 0.0), check=False)
    report = verify(vn.Kernel.power(2.0, 1.0), cut, examples=0)
    assert not report.ok
    assert report.counterexample.grid == "1x5"
    assert "no bonds" in report.counterexample.reason  # the checkerboard image: every bond has s = 0


@pytest.mark.parametrize("prop", ["bijection", "lossy"])
def test_other_properties_clean_on_builtins(prop):
    report = verify(vn.Kernel.exponential(1.0, 2.0), vn.Coupling.constant(), property=prop, examples=5,
                    max_grid=4)
    assert report.ok, report.text()
    assert report.grids["1x3"]["exhaustive"] > 0


@pytest.mark.parametrize("kwargs, match", [
    ({"property": "triangle"}, "property must be one of"),
    ({"max_grid": 2}, "max_grid must be >= 3"),
    ({"examples": -1}, "examples must be >= 0"),
    ({"examples": 1.5}, "examples must be an int"),
])
def test_verify_rejects_bad_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        verify(**kwargs)


# ----------------------------------------------------------------------------- command line


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    (tmp_path / "mykernels_for_test.py").write_text(STEP_MODULE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "mykernels_for_test"


def test_cli_counterexample_and_exit_1(user_module, cli_run):
    rc, out, _ = cli_run(["verify", "--kernel", f"{user_module}:step", "--radius", "2.5", "--no-check",
                          "--examples", "3"])
    assert rc == 1
    assert "counterexample (exhaustive, 2x3 grid): the swap does not lower the information" in out
    assert "swap = (0, 0) <-> (1, 0)" in out and "Delta I exact" in out and "Delta I swap_delta" in out
    assert "   1x5          50" in out  # cases passed per grid size


def test_cli_refuses_a_kernel_that_fails_the_check(user_module, cli_run):
    rc, _, err = cli_run(["verify", "--kernel", f"{user_module}:rising", "--radius", "2"])
    assert rc == 1
    assert "strictly decreasing" in err and "f(1) = 1 <= f(1.41421) = 1.41421" in err and "--no-check" in err


def test_cli_clean_bill_exit_0(cli_run):
    rc, out, _ = cli_run(["verify", "--kernel", "exponential", "--tau", "0.7", "--radius", "1.5", "--property",
                          "lossy", "--examples", "3", "--max-grid", "3", "--seed", "1"])
    assert rc == 0, out
    assert "kernel exponential(tau=0.7, R=1.5)" in out and "clean bill" in out


@pytest.mark.parametrize("argv, match", [
    (["--kernel", "nosuchmodule_xyz:f"], "cannot import 'nosuchmodule_xyz'"),
    (["--kernel", "math:nosuch"], "'math' has no attribute 'nosuch'"),
    (["--kernel", "cubic"], "expected a built-in name or MODULE:FUNCTION"),
    (["--kernel", "power", "--tau", "1"], "--tau applies to the gaussian and exponential kernels"),
    (["--coupling", "constant", "--h", "0.1"], "--h applies to the gaussian coupling only"),
    (["--max-grid", "2"], "max_grid must be >= 3"),
])
def test_cli_bad_arguments(argv, match, cli_run):
    code, _, err = cli_run(["verify", *argv])
    assert code == 1
    assert match in err


def test_cli_without_hypothesis_says_how_to_install_it():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    code = ("import sys; sys.modules['hypothesis'] = None\n"
            "from vortexnumba.cli import main\n"
            "sys.exit(main(['verify', '--examples', '1']))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root,
                         env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert out.returncode == 1
    assert "vortexnumba verify: error: vortexnumba.testing.verify needs Hypothesis: " \
           "pip install 'vortexnumba[testing]'" in out.stderr
