"""The CPU compiler options of vortexnumba.learn._xla: they take effect, change nothing but speed, and yield."""

from __future__ import annotations

import re

import jax
import numpy as np
import pytest

from vortexnumba import data
from vortexnumba.learn import compiled_step, make_model
from vortexnumba.learn._xla import CPU_OPTIONS, YNN_OPTION, compiler_options

CPU = tuple(jax.devices("cpu"))[:1]
needs_option = pytest.mark.skipif(compiler_options(CPU) is None,
                                   reason="this jaxlib does not know the YNNPACK fusion option (or XLA_FLAGS sets it)")


def _step_and_inputs(options):
    tx, ty, _, _ = data.load("digits")
    model = make_model("cnn", tx.shape[1:], 10, seed=2)
    cs = compiled_step(model, total_steps=100, devices=CPU, xla_options=options)
    step, params, state = cs.step, cs.params, cs.state
    bs = 32
    args = (params, cs.optimizer.init(params), state, tx[:bs, ..., None], ty[:bs].astype(np.int32),
            np.arange(bs, dtype=np.int32), np.ones(bs, np.float32), np.float32(0.3), np.float32(0.3))
    return step, args


def _ynn_convolutions(hlo: str) -> int:
    """How many YNNPACK fusions XLA built around a convolution (a fusion's metadata names its root op)."""
    return sum(1 for line in hlo.splitlines()
               if "__ynn_fusion" in line and re.search(r'op_name="[^"]*/conv_general_dilated"', line))


@needs_option
def test_cpu_options_keep_convolutions_away_from_ynnpack():
    step, args = _step_and_inputs(None)
    default = step.lower(*args).compile().as_text()
    step, args = _step_and_inputs(compiler_options(CPU))
    chosen = step.lower(*args).compile().as_text()
    # Without the options this jaxlib fuses the CNN's convolutions into YNNPACK calls (the slow path
    # measured in docs/benchmarks.md); with them, none is. If a future jaxlib stops doing the former,
    # the first assertion says so and the options can go.
    assert _ynn_convolutions(default) > 0
    assert _ynn_convolutions(chosen) == 0
    assert " convolution(" in chosen  # the convolutions are still there, in XLA's own kernels


@needs_option
def test_cpu_options_change_speed_not_results():
    outs = []
    for options in (None, compiler_options(CPU)):
        step, args = _step_and_inputs(options)
        params, opt_state, state = args[:3]
        for _ in range(3):
            params, opt_state, state, metrics = step(params, opt_state, state, *args[3:])
        outs.append((jax.tree_util.tree_leaves(params), np.asarray(metrics)))
    for a, b in zip(outs[0][0], outs[1][0], strict=False):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-5)


def test_options_only_for_the_cpu_and_only_unless_the_user_chose(monkeypatch):
    class Gpu:
        platform = "gpu"

    assert compiler_options([Gpu()]) is None
    assert compiler_options([CPU[0], Gpu()]) is None
    assert compiler_options([]) is None
    monkeypatch.setenv("XLA_FLAGS", f"--{YNN_OPTION}=")
    assert compiler_options(CPU) is None
    monkeypatch.delenv("XLA_FLAGS")
    assert compiler_options(CPU) in (CPU_OPTIONS, None)
