"""Data-parallel training over several JAX devices equals single-device training.

JAX fixes its device count when it starts, so the check runs in a fresh
interpreter with two host CPU devices
(``XLA_FLAGS=--xla_force_host_platform_device_count=2``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

SCRIPT = r"""
import json, sys
import equinox as eqx, jax, numpy as np
from vortexnumba.data import load
from vortexnumba.learn import Pipeline, evaluate, make_model, train

assert len(jax.devices()) == 2, jax.devices()
tx, ty, vx, vy = load("digits")
tx, ty = tx[:400], ty[:400]
out = {}
for name, loop in (("mlp", "step"), ("cnn", "step"), ("cnn", "scan")):
    model = make_model(name, tx.shape[1:], 10, seed=3)
    one = train(model, tx, ty, epochs=6, batch_size=64, seed=3, progress=False,
                pipeline=Pipeline(loop=loop, devices=jax.devices()[:1]))
    two = train(model, tx, ty, epochs=6, batch_size=64, seed=3, progress=False, pipeline=Pipeline(loop=loop))
    leaves1 = [np.asarray(a) for a in jax.tree_util.tree_leaves(eqx.filter(one.model, eqx.is_inexact_array))]
    leaves2 = [np.asarray(a) for a in jax.tree_util.tree_leaves(eqx.filter(two.model, eqx.is_inexact_array))]
    sharding = jax.tree_util.tree_leaves(eqx.filter(two.model, eqx.is_inexact_array))[0].sharding
    out[name + "-" + loop] = {
        "devices": [len(one.devices), len(two.devices)],
        "param_devices": len(sharding.device_set),
        "max_rel_diff": max(float(np.max(np.abs(a - b)) / (np.max(np.abs(a)) + 1e-12))
                            for a, b in zip(leaves1, leaves2)),
        "loss": [one.history[-1]["loss"], two.history[-1]["loss"]],
        "accuracy": [evaluate(one, vx, vy), evaluate(two, vx, vy)],
    }
json.dump(out, sys.stdout)
"""


@pytest.mark.slow
def test_two_devices_match_one_device():
    env = dict(os.environ)
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=2").strip()
    env["JAX_PLATFORMS"] = "cpu"
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    for name, r in result.items():
        assert r["devices"] == [1, 2], name
        assert r["param_devices"] == 2, name  # parameters replicated on both devices
        # same training up to the order of floating-point reductions
        assert r["max_rel_diff"] < 1e-3, (name, r)
        np.testing.assert_allclose(r["loss"][0], r["loss"][1], rtol=1e-4)
        assert abs(r["accuracy"][0] - r["accuracy"][1]) <= 2 / 359, (name, r)
        assert r["accuracy"][1] > 0.5, (name, r)  # and it learns: chance is 0.1
