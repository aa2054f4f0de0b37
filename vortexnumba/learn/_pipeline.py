"""Getting images onto the accelerator: placement, device-resident data, encryption there.

A GPU starves when every step cuts a batch on the host and copies it over.
So the training set (uint8, as stored) goes to the device once when it fits
(:func:`fits_on_device`), and each step receives only the batch's indices and
gathers the batch there (``jnp.take`` inside the compiled step). The same
gather encrypts: a pixel-moving key is a gather index ``src`` over the
flattened pixels, so :func:`encrypt_on_device` is one ``jnp.take``, and a
value-changing key is a gather over the values (or their nibbles) and a
negation; a data set can be encrypted where it will be trained on.

With several devices, the data are replicated on each and the batch indices
are split over a one-axis mesh (``jax.sharding``); parameters and optimizer
state are replicated and the compiler inserts the gradient all-reduce.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["LOOPS", "Pipeline", "Placement", "encrypt_on_device", "fits_on_device"]

#: Training loops: one compiled call per batch, or one per epoch (``lax.scan``).
LOOPS = ("step", "scan")


@dataclass(frozen=True)
class Pipeline:
    """How :func:`vortexnumba.learn.train` feeds the device: the loop, where batches are cut, which devices.

    Parameters
    ----------
    loop : {"step", "scan"}
        ``"step"``: one compiled call per batch (a progress bar per batch);
        ``"scan"``: one compiled call per epoch (``lax.scan``; a bar per
        epoch). Same numbers either way (to float rounding). On XLA's CPU
        backend the scanned epoch is the slower one, so ``"step"`` is the
        default; ``"scan"`` removes per-step dispatch on an accelerator.
    data_on_device : bool, optional
        Place the training set on the device(s) once and cut batches there;
        default: when it fits (:func:`fits_on_device`). ``False`` cuts each
        batch on the host and copies it (``loop="step"`` only).
    devices : sequence of jax.Device, optional
        Devices to train on, data-parallel; default all that JAX sees. The
        batch size is rounded up to a multiple of their number.

    Examples
    --------
    >>> from vortexnumba.learn import Pipeline
    >>> Pipeline(loop="scan").loop
    'scan'
    """

    loop: str = "step"
    data_on_device: bool | None = None
    devices: tuple | None = None

    def __post_init__(self):
        if self.loop not in LOOPS:
            raise ValueError(f"loop must be one of {', '.join(LOOPS)}, got {self.loop!r}")
        if self.data_on_device not in (None, True, False):
            raise TypeError(f"data_on_device must be True, False or None, got {self.data_on_device!r}")
        if self.data_on_device is False and self.loop == "scan":
            raise ValueError("loop='scan' needs the data on the device (data_on_device=True)")
        if self.devices is not None:
            object.__setattr__(self, "devices", tuple(self.devices))

#: Largest training set placed on a device that reports no memory size (the CPU).
DEFAULT_DEVICE_BYTES = 2 << 30


class Placement:
    """Where arrays go: batches split over ``devices``, everything else replicated.

    Parameters
    ----------
    devices : sequence of jax.Device, optional
        Default: all devices JAX sees.
    """

    def __init__(self, devices: Any = None):
        if devices is None:
            devices = jax.devices()
        devices = tuple(devices)
        if not devices or not all(isinstance(d, jax.Device) for d in devices):
            raise TypeError(f"devices must be a non-empty sequence of jax devices, got {devices!r}")
        self.devices = devices
        mesh = jax.sharding.Mesh(np.array(devices), ("data",))
        self.batch = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("data"))
        self.replicated = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())

    @property
    def count(self) -> int:
        return len(self.devices)

    @property
    def constraint(self) -> Any:
        """The batch sharding to impose inside a compiled step, or None on one device."""
        return self.batch if self.count > 1 else None

    def split(self, *arrays: Any) -> tuple:
        return tuple(jax.device_put(a, self.batch) for a in arrays)

    def replicate(self, tree: Any) -> Any:
        return jax.device_put(tree, self.replicated)


def fits_on_device(nbytes: int, devices: Any, fraction: float = 0.25) -> bool:
    """Whether ``nbytes`` of data may live on each of ``devices``.

    At most ``fraction`` of the smallest device's memory (as its
    ``memory_stats`` reports it), so that parameters, optimizer state and
    activations keep the rest; ``DEFAULT_DEVICE_BYTES`` where a device reports
    nothing (the CPU, whose "device" memory is the host's).
    """
    limits = []
    for d in devices:
        try:
            stats = d.memory_stats() or {}
        except Exception:  # noqa: BLE001 - backends without memory statistics
            stats = {}
        limit = stats.get("bytes_limit")
        limits.append(fraction * limit if limit else DEFAULT_DEVICE_BYTES)
    return int(nbytes) <= min(limits)


def _plan_on_device(x, key):
    """A value-changing key on the device: its element (or nibble) gather, then its negation, in ``jnp``."""
    b, h, w = x.shape[:3]
    c = x.shape[3] if x.ndim == 4 else 1
    if x.dtype != jnp.uint8:
        raise TypeError(f"images must be uint8 to encrypt with a value-changing key on the device, got {x.dtype}")
    plan = key.element_plan(c)
    flat = jnp.asarray(x).reshape(b, h * w * c)
    src = jnp.asarray(plan.src, jnp.int32)
    if plan.unit == "nibble":
        units = jnp.stack([flat & 15, flat >> 4], axis=-1).reshape(b, -1)  # unit 2e + h, h = 1 the high half
        out = jnp.take(units, src, axis=1)
        if plan.negate is not None:
            out = jnp.where(jnp.asarray(plan.negate), 15 - out, out)
        out = out.reshape(b, -1, 2)
        out = (out[..., 0] | (out[..., 1] << 4)).astype(jnp.uint8)
    else:
        out = jnp.take(flat, src, axis=1)
        if plan.negate is not None:
            out = jnp.where(jnp.asarray(plan.negate), 255 - out, out)
    return out.reshape(x.shape)


def encrypt_on_device(images: Any, src: Any) -> jax.Array:
    """Encrypt a uint8 batch on the accelerator: one ``jnp.take`` with the gather index.

    Parameters
    ----------
    images : array_like
        ``(B, H, W)`` or ``(B, H, W, C)``, NumPy or JAX (kept on its device).
    src : key or array_like of int
        A key of the package or its gather index ``(H*W,)``: output pixel
        ``i`` is input pixel ``src[i]``. A key that changes values (LE, ELE,
        EtC, PE, Blockwise; ``key.is_spatial`` False) is applied through its
        element plan: a gather over the values (or their nibbles), then the
        negation (uint8 images).

    Returns
    -------
    jax.Array
        Same shape and dtype; equal to :func:`vortexnumba.encrypt` of the same
        key.

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> from vortexnumba.learn import encrypt_on_device
    >>> key = vn.VortexKey.random((8, 8), 3, 0.8, seed=1)
    >>> x = np.random.default_rng(0).integers(0, 256, (5, 8, 8), dtype=np.uint8)
    >>> bool((np.asarray(encrypt_on_device(x, key)) == vn.encrypt(x, key)).all())
    True
    >>> le = vn.LEKey.random((8, 8), block=4, channels=1, seed=2)
    >>> bool((np.asarray(encrypt_on_device(x, le)) == vn.encrypt(x, le)).all())
    True
    """
    x = images if isinstance(images, jax.Array) else np.asarray(images)
    if x.ndim not in (3, 4):
        raise ValueError(f"images must have shape (B, H, W) or (B, H, W, C), got {x.shape}")
    if hasattr(src, "src") and getattr(src, "is_spatial", True) is False:
        return _plan_on_device(x, src)
    src = np.asarray(getattr(src, "src", src))
    n = x.shape[1] * x.shape[2]
    if src.shape != (n,) or src.dtype.kind not in "iu":
        raise ValueError(f"src must be an integer gather index of shape ({n},) for {x.shape[1:3]} images, "
                         f"got {src.dtype} {src.shape}")
    if n and (src.min() < 0 or src.max() >= n):
        raise ValueError(f"src must lie in 0..{n - 1}, found {src.min()}..{src.max()}")
    flat = jnp.asarray(x).reshape((x.shape[0], n) + tuple(x.shape[3:]))
    return jnp.take(flat, jnp.asarray(src, jnp.int32), axis=1).reshape(x.shape)
