"""Options for XLA's compiler when training and predicting on the CPU.

XLA's CPU backend hands some fused operations to the YNNPACK library. With
this package's convolutional models that choice costs more than it gives:
the elementwise work around each convolution (bias, ReLU, pooling and their
gradients) goes to YNNPACK with the convolution's neighbours, and the
training step of ``make_model("cnn")`` (batch 128, 28x28) measured 36-42 ms
instead of 21-27 ms; ResNet-18 (batch 64) 7.4 s instead of 1.9 s per step
(2-core x86-64, JAX 0.10.2; ``benchmarks/bench_training.py`` and
``docs/benchmarks.md``). Restricting YNNPACK to reductions keeps the MLP and
the ViTs at their speed (within 3 %) and gives the convolutions to XLA's own
(Eigen) kernels.

So on the CPU the compiled training step and prediction pass
``{"xla_cpu_experimental_ynn_fusion_type": "LIBRARY_FUSION_TYPE_REDUCE"}``
to ``jax.jit(..., compiler_options=...)``: per function, never a process
setting, and nothing else in the caller's process changes. It is left out

- on other platforms (the option concerns the CPU only);
- when this jaxlib does not know the option (it is experimental; a probe
  compiles a one-line function once per process to find out);
- when the caller chose for themselves in ``XLA_FLAGS`` (the option's name
  appears there).
"""

from __future__ import annotations

import functools
import os
from typing import Any

import jax
import jax.numpy as jnp

__all__ = ["CPU_OPTIONS", "compiler_options"]

YNN_OPTION = "xla_cpu_experimental_ynn_fusion_type"
#: What the CPU training step and prediction are compiled with.
CPU_OPTIONS = ((YNN_OPTION, "LIBRARY_FUSION_TYPE_REDUCE"),)


@functools.cache
def _accepted(options: tuple) -> bool:
    """Whether this jaxlib's CPU compiler knows ``options`` (compiles a one-line function once)."""
    try:
        fn = jax.jit(lambda x: x + 1, compiler_options=dict(options))
        jax.block_until_ready(fn(jax.device_put(jnp.zeros(1), jax.devices("cpu")[0])))
    except Exception:  # noqa: BLE001 - an unknown option or value, or a jax without compiler_options
        return False
    return True


def compiler_options(devices: Any) -> tuple | None:
    """The compiler options for a step running on ``devices``, as a hashable tuple of pairs (or None).

    Parameters
    ----------
    devices : sequence of jax.Device
        Where the compiled function runs.

    Returns
    -------
    tuple of (str, str) or None
        ``CPU_OPTIONS`` when every device is a CPU, the jaxlib accepts them
        and ``XLA_FLAGS`` does not set the option; otherwise None.

    Examples
    --------
    >>> import jax
    >>> from vortexnumba.learn._xla import CPU_OPTIONS, compiler_options
    >>> compiler_options(jax.devices("cpu")) in (CPU_OPTIONS, None)
    True
    """
    devices = tuple(devices)
    if not devices or any(d.platform != "cpu" for d in devices):
        return None
    if YNN_OPTION in os.environ.get("XLA_FLAGS", ""):
        return None
    return CPU_OPTIONS if _accepted(CPU_OPTIONS) else None
