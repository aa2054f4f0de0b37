"""Keys as PyTorch transforms: ``transform=vortexnumba.torch.Encrypt(key)``.

The transforms are ``torch.nn.Module``\\ s in the style of torchvision's v2
transforms. They take a uint8 or float tensor shaped ``(C, H, W)`` or
``(B, C, H, W)`` on any device, or a PIL image, and give the same type back. The
gather runs with ``torch.index_select`` on the tensor's own device, so a GPU
pipeline never leaves the GPU; the index is built once from the key (per channel
count and device) and reused. The bytes are those of :func:`vortexnumba.encrypt`
on the same images in ``(H, W, C)`` order.

The per-image baselines (a fresh permutation per image) draw each image's
permutation from the sample's index, so a data set reads the same in every
worker and every epoch: :class:`ShuffleEach` takes ``(index, image)``, and
:class:`IndexedDataset` feeds it the index of each sample.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from .._validate import as_seed
from ..cipher import PEKey, check_key
from ._plans import TorchPlan, plan_for

__all__ = ["Collate", "Decrypt", "Encrypt", "IndexedDataset", "PEEach", "ShuffleEach"]

_FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def _describe(x) -> str:
    if isinstance(x, torch.Tensor):
        return f"a tensor of shape {tuple(x.shape)} and dtype {x.dtype}"
    return type(x).__name__


def _is_pil(x) -> bool:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a dependency
        return False
    return isinstance(x, Image.Image)


def _check_tensor(x: torch.Tensor, grid: tuple[int, int] | None, name: str) -> None:
    """A ``(C, H, W)`` or ``(B, C, H, W)`` uint8/float tensor on ``grid`` (None: any grid)."""
    if x.dtype != torch.uint8 and x.dtype not in _FLOAT_DTYPES:
        raise TypeError(f"{name} must be a uint8 or float tensor, got {_describe(x)}")
    if x.ndim not in (3, 4):
        hint = " (add a channel axis: x.unsqueeze(-3))" if x.ndim == 2 else ""
        raise ValueError(f"{name} must be (C, H, W) or (B, C, H, W), got {_describe(x)}{hint}")
    if x.numel() == 0:
        raise ValueError(f"{name} must not be empty, got {_describe(x)}")
    if grid is None or tuple(x.shape[-2:]) == grid:
        return
    lead = x.shape[:-3]
    if tuple(x.shape[-3:-1]) == grid:
        order = "(B, H, W, C)" if lead else "(H, W, C)"
        want = "(B, C, H, W)" if lead else "(C, H, W)"
        perm = "x.permute(0, 3, 1, 2)" if lead else "x.permute(2, 0, 1)"
        raise ValueError(
            f"{name} has shape {tuple(x.shape)}, which reads as {order} on the key's "
            f"{grid[0]}x{grid[1]} grid; expected {want} (use {perm})"
        )
    raise ValueError(
        f"{name} has shape {tuple(x.shape)}; expected (C, H, W) or (B, C, H, W) with H, W = "
        f"{grid[0]}, {grid[1]} (the key's grid)"
    )


class _Gather:
    """A :class:`TorchPlan` for one channel count, as functions on flat ``(L, C * H * W)`` tensors.

    Every plan becomes gathers over the flat values of an image: a pixel index is
    widened to the channels once (one ``index_select`` then moves every value); a
    nibble plan becomes two byte gathers (the sources of each byte's low and high
    halves) and shifts. The index tensors are kept once per device.
    """

    def __init__(self, plan: TorchPlan, channels: int, n_pix: int):
        self.unit = plan.unit
        self.channels, self.n_pix = channels, n_pix
        index = plan.index
        if plan.unit == "pixel":
            index = (np.arange(channels, dtype=np.int64)[:, None] * n_pix + index[None, :]).ravel()
        self.arrays: dict[str, np.ndarray] = {}
        if plan.unit == "nibble":
            lo, hi = index[0::2], index[1::2]
            self.arrays.update(lo=lo // 2, lo_shift=((lo % 2) * 4).astype(np.uint8),
                               hi=hi // 2, hi_shift=((hi % 2) * 4).astype(np.uint8))
            if plan.negate is not None:
                pair = plan.negate.reshape(-1, 2).astype(np.uint8)
                self.arrays["xor"] = pair[:, 0] * np.uint8(0x0F) | pair[:, 1] * np.uint8(0xF0)
        else:
            self.arrays["index"] = index
            if plan.negate is not None:
                self.arrays["xor"] = plan.negate.astype(np.uint8) * np.uint8(255)
                self.arrays["negate"] = plan.negate
        self._on: dict[torch.device, dict[str, torch.Tensor]] = {}

    def on(self, device: torch.device) -> dict[str, torch.Tensor]:
        found = self._on.get(device)
        if found is None:
            found = {k: torch.from_numpy(np.ascontiguousarray(v)).to(device) for k, v in self.arrays.items()}
            self._on[device] = found
        return found

    def numpy_hwc(self):
        """``f(hwc) -> hwc`` for one uint8 ``(H, W, C)`` NumPy image (a PIL image's pixels).

        The same maps rewritten over the ``(H, W, C)`` order, so a PIL image is
        gathered where it lies, without the round trip through a ``(C, H, W)``
        tensor and its copies (which cost more than the gather itself).
        """
        channels, n_pix = self.channels, self.n_pix
        j = np.arange(channels * n_pix, dtype=np.int64)
        chw_of_hwc = (j % channels) * n_pix + j // channels
        def hwc_of_chw(q):
            return (q % n_pix) * channels + q // n_pix
        a = {k: v[chw_of_hwc] for k, v in self.arrays.items()}
        if self.unit == "nibble":
            lo, hi = hwc_of_chw(a["lo"]), hwc_of_chw(a["hi"])
            lo_shift, hi_shift, xor = a["lo_shift"], a["hi_shift"], a.get("xor")

            def nibbles(hwc):
                flat = hwc.reshape(-1)
                out = (flat[lo] >> lo_shift) & np.uint8(0x0F)
                out |= (flat[hi] >> hi_shift) << np.uint8(4)
                if xor is not None:
                    out ^= xor
                return out.reshape(hwc.shape)

            return nibbles
        index, xor = hwc_of_chw(a["index"]), a.get("xor")

        def elements(hwc):
            out = hwc.reshape(-1)[index]
            if xor is not None:
                out ^= xor
            return out.reshape(hwc.shape)

        return elements

    def function(self, dtype: torch.dtype, device: torch.device):
        """``f(flat) -> flat`` for ``(L, M)`` tensors of this dtype on this device."""
        t = self.on(device)
        if self.unit == "nibble":
            lo, lo_shift, hi, hi_shift, xor = t["lo"], t["lo_shift"], t["hi"], t["hi_shift"], t.get("xor")

            def nibbles(flat):
                low = flat.index_select(-1, lo).bitwise_right_shift_(lo_shift).bitwise_and_(0x0F)
                high = flat.index_select(-1, hi).bitwise_right_shift_(hi_shift).bitwise_left_shift_(4)
                out = low.bitwise_or_(high)
                return out if xor is None else out.bitwise_xor_(xor)

            return nibbles
        index = t["index"]
        if "negate" not in t:
            return lambda flat: flat.index_select(-1, index)
        if dtype == torch.uint8:
            xor = t["xor"]
            return lambda flat: flat.index_select(-1, index).bitwise_xor_(xor)
        negate = t["negate"]

        def floats(flat):
            out = flat.index_select(-1, index)
            return torch.where(negate, 1 - out, out)

        return floats


class _KeyTransform(torch.nn.Module):
    """Shared by :class:`Encrypt` and :class:`Decrypt`."""

    _inverse = False
    _MAX_CACHED = 64  # (shape, dtype, device) combinations kept ready

    def __init__(self, key) -> None:
        super().__init__()
        self.key = check_key(key)
        if self._inverse:
            # fail now, not in a worker, for a key that cannot decrypt
            plan_for(key, getattr(key, "channels", None) or 1, inverse=True)
        self._plans: dict[int, _Gather] = {}
        self._ready: dict[tuple, Any] = {}

    def __getstate__(self) -> dict:
        # the device copies of the index are rebuilt where the transform is unpickled
        state = self.__dict__.copy()
        state["_plans"], state["_ready"] = {}, {}
        return state

    def extra_repr(self) -> str:
        """The key's kind and grid, as ``repr`` shows them."""
        shape = tuple(self.key.shape)
        return f"key={self.key.kind!r} on a {shape[0]}x{shape[1]} grid"

    def _gather(self, channels: int) -> _Gather:
        g = self._plans.get(channels)
        if g is None:
            shape = tuple(self.key.shape)
            g = _Gather(plan_for(self.key, channels, inverse=self._inverse), channels, shape[0] * shape[1])
            self._plans[channels] = g
        return g

    def _prepare(self, x: torch.Tensor):
        """The checks of a (shape, dtype, device), once; then the function that transforms such tensors."""
        _check_tensor(x, tuple(self.key.shape), "image")
        g = self._gather(int(x.shape[-3]))
        if g.unit == "nibble" and x.dtype != torch.uint8:
            raise TypeError(
                f"a {self.key.kind!r} key splits bytes into 4-bit halves: the image must be uint8, "
                f"got {_describe(x)}"
            )
        fn = g.function(x.dtype, x.device)
        shape = tuple(x.shape)
        rows = (shape[0], -1) if x.ndim == 4 else (-1,)
        return lambda t: fn(t.reshape(rows)).view(shape)

    def transform_tensor(self, x: torch.Tensor) -> torch.Tensor:
        """Encrypt (or decrypt) one ``(C, H, W)`` image or a ``(B, C, H, W)`` batch."""
        sig = (x.shape, x.dtype, x.device)
        fn = self._ready.get(sig)
        if fn is None:
            fn = self._prepare(x)
            if len(self._ready) >= self._MAX_CACHED:
                self._ready.clear()
            self._ready[sig] = fn
        return fn(x)

    def _numpy_hwc(self, hwc: np.ndarray) -> np.ndarray:
        """A uint8 ``(H, W, C)`` image's pixels (from a PIL image), transformed in that layout."""
        sig = ("hwc", hwc.shape)
        fn = self._ready.get(sig)
        if fn is None:
            # the checks (and their messages) of the same image as a (C, H, W) tensor
            h, w, c = hwc.shape
            self._prepare(torch.empty((c, h, w), dtype=torch.uint8))
            fn = self._gather(c).numpy_hwc()
            if len(self._ready) >= self._MAX_CACHED:
                self._ready.clear()
            self._ready[sig] = fn
        return fn(hwc)

    def _one(self, x):
        if isinstance(x, torch.Tensor):
            return self.transform_tensor(x)
        if _is_pil(x):
            return _pil_apply(x, self.transform_tensor, self._numpy_hwc)
        if isinstance(x, np.ndarray):
            raise TypeError(
                f"{type(self).__name__} takes a torch tensor (C, H, W) or (B, C, H, W) or a PIL image, "
                f"got a NumPy array of shape {x.shape}; for NumPy arrays in (H, W, C) order use "
                f"vortexnumba.{'decrypt' if self._inverse else 'encrypt'}"
            )
        raise TypeError(
            f"{type(self).__name__} takes a torch tensor (C, H, W) or (B, C, H, W) or a PIL image, "
            f"got {_describe(x)}"
        )

    def forward(self, *inputs: Any) -> Any:
        """Transform the image; in a tuple ``(image, target, ...)`` only the first image.

        As torchvision's v2 transforms do, other entries (labels, boxes as plain
        values) pass through unchanged.
        """
        if len(inputs) == 1 and isinstance(inputs[0], torch.Tensor):
            return self.transform_tensor(inputs[0])
        sample = inputs if len(inputs) > 1 else inputs[0]
        if isinstance(sample, (tuple, list)):
            out = list(sample)
            for i, item in enumerate(out):
                if isinstance(item, torch.Tensor) or _is_pil(item):
                    out[i] = self._one(item)
                    break
            else:
                raise TypeError(f"{type(self).__name__} found no tensor or PIL image in the {type(sample).__name__}")
            return type(sample)(out) if isinstance(sample, tuple) else out
        return self._one(sample)


def _pil_apply(img, fn, numpy_fn=None):
    """``fn`` on a PIL image as a ``(C, H, W)`` tensor (``numpy_fn`` on its uint8 ``(H, W, C)`` pixels
    where given); the result in the image's mode."""
    from PIL import Image

    arr = np.asarray(img)
    if arr.dtype != np.uint8 and arr.dtype.kind != "f":
        raise TypeError(f"PIL images of mode {img.mode!r} are not supported (uint8 or float pixels only)")
    hwc = arr if arr.ndim == 3 else arr[:, :, None]
    if numpy_fn is not None and hwc.dtype == np.uint8:
        out = numpy_fn(np.ascontiguousarray(hwc))
    else:
        # a writable copy: torch.from_numpy shares its memory
        t = torch.from_numpy(np.array(hwc, copy=True)).permute(2, 0, 1)
        out = fn(t).permute(1, 2, 0).contiguous().numpy()
    out = out if arr.ndim == 3 else out[:, :, 0]
    result = Image.fromarray(out)
    if result.mode != img.mode:
        result = result.convert(img.mode)
    return result


class Encrypt(_KeyTransform):
    """Encrypt images with a key, as a PyTorch transform.

    Parameters
    ----------
    key : Key
        Any vortexnumba key (spatial keys and the element schemes alike).

    Notes
    -----
    Takes uint8 or float tensors ``(C, H, W)`` or ``(B, C, H, W)`` on any device,
    or PIL images; returns the same kind. The result equals
    ``vortexnumba.encrypt`` of the same images in ``(H, W, C)`` order, bit for bit.
    Picklable, so it works in ``DataLoader(num_workers > 0)``.

    Examples
    --------
    >>> import numpy as np, torch, vortexnumba as vn
    >>> import vortexnumba.torch as vt
    >>> key = vn.VortexKey.random((8, 8), seed=0)
    >>> x = torch.randint(0, 256, (3, 8, 8), dtype=torch.uint8)
    >>> y = vt.Encrypt(key)(x)
    >>> same = vn.encrypt(x.permute(1, 2, 0).numpy(), key, channels=True)   # (H, W, C)
    >>> bool((y.permute(1, 2, 0).numpy() == same).all())
    True
    >>> bool((vt.Decrypt(key)(y) == x).all())
    True
    """


class Decrypt(_KeyTransform):
    """Undo :class:`Encrypt` (keys that can decrypt), as a PyTorch transform.

    Parameters
    ----------
    key : Key

    Raises
    ------
    ValueError
        For a key that cannot decrypt (a ``mode="paper"`` vortex key).

    Examples
    --------
    >>> import torch, vortexnumba as vn
    >>> import vortexnumba.torch as vt
    >>> key = vn.PermutationKey.random((4, 4), seed=1)
    >>> x = torch.rand(2, 3, 4, 4)
    >>> bool(torch.equal(vt.Decrypt(key)(vt.Encrypt(key)(x)), x))
    True
    """

    _inverse = True


def _dataset_seed(seed) -> int:
    seed = as_seed(seed)
    if seed is None or isinstance(seed, np.random.SeedSequence):
        raise TypeError(f"seed must be a non-negative int (the same in every worker), got {seed!r}")
    return seed


def _sample_index(index) -> int:
    if isinstance(index, torch.Tensor):
        index = index.item()
    if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)) or index < 0:
        raise ValueError(f"index must be a non-negative int (the sample's index), got {index!r}")
    return int(index)


def _first_image(sample, fn):
    """``fn`` on ``sample``, or on the first entry of a tuple/list ``(image, target, ...)``."""
    if isinstance(sample, (tuple, list)):
        out = list(sample)
        out[0] = fn(out[0])
        return type(sample)(out) if isinstance(sample, tuple) else out
    return fn(sample)


class _PerSample(torch.nn.Module):
    """A transform of one (C, H, W) image drawn from the data set's seed and the sample's index.

    Subclasses give ``_transform(index, tensor)``; the checks, PIL images and
    ``(image, target, ...)`` samples are handled here once.
    """

    def __init__(self, seed: int) -> None:
        super().__init__()
        self.seed = _dataset_seed(seed)

    def extra_repr(self) -> str:
        """The seed, as ``repr`` shows it."""
        return f"seed={self.seed}"

    def _transform(self, index: int, x):
        raise NotImplementedError

    def _one(self, index: int, x):
        if _is_pil(x):
            return _pil_apply(x, lambda t: self._one(index, t))
        name = type(self).__name__
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{name} takes a torch tensor (C, H, W) or a PIL image, got {_describe(x)}")
        _check_tensor(x, None, "image")
        if x.ndim != 3:
            raise ValueError(f"{name} takes one (C, H, W) image per index, got {_describe(x)}")
        return self._transform(index, x)

    def forward(self, index: int, image: Any) -> Any:
        """Transform ``image`` (or the first image of a tuple) as sample ``index``."""
        return _first_image(image, lambda im: self._one(index, im))


class ShuffleEach(_PerSample):
    """The per-image baseline: a fresh pixel permutation for every sample, drawn from its index.

    Sample ``index`` is shuffled as
    ``vortexnumba.shuffle_each(image, seed=numpy.random.SeedSequence([seed, index]))``
    would shuffle it, whichever worker reads it and in whichever epoch; the
    channels of an image share its permutation.

    Parameters
    ----------
    seed : int
        The data set's seed.

    Examples
    --------
    >>> import numpy as np, torch, vortexnumba as vn
    >>> import vortexnumba.torch as vt
    >>> shuffle = vt.ShuffleEach(seed=7)
    >>> x = torch.arange(16, dtype=torch.uint8).reshape(1, 4, 4)
    >>> y = shuffle(3, x)
    >>> bool(torch.equal(y, shuffle(3, x))), bool(torch.equal(y, shuffle(4, x)))
    (True, False)
    >>> ref = vn.shuffle_each(x[0].numpy(), seed=np.random.SeedSequence([7, 3]))
    >>> bool((y[0].numpy() == ref).all())
    True
    """

    def permutation(self, index: int, n_pixels: int) -> np.ndarray:
        """The gather index of sample ``index`` over ``n_pixels`` pixels."""
        seq = np.random.SeedSequence([self.seed, _sample_index(index)])
        return np.random.default_rng(seq).permutation(n_pixels)

    def _transform(self, index: int, x):
        c, h, w = x.shape
        src = torch.from_numpy(self.permutation(index, h * w)).to(x.device)
        return x.reshape(c, h * w).index_select(-1, src).reshape(c, h, w)


class PEEach(_PerSample):
    """Pixel-based encryption with a fresh key for every sample, drawn from its index.

    Sample ``index`` is encrypted as
    ``vortexnumba.encrypt(image, PEKey.random((H, W), channels=C, seed=numpy.random.SeedSequence([seed, index])))``
    (:meth:`key` rebuilds that key), whichever worker reads it and in whichever
    epoch: the torch form of :func:`vortexnumba.pe_each`.

    Parameters
    ----------
    seed : int
        The data set's seed.

    Examples
    --------
    >>> import numpy as np, torch, vortexnumba as vn
    >>> import vortexnumba.torch as vt
    >>> pe = vt.PEEach(seed=3)
    >>> x = torch.randint(0, 256, (3, 4, 4), dtype=torch.uint8)
    >>> y = pe(5, x)
    >>> bool(torch.equal(y, pe(5, x))), bool(torch.equal(vt.Decrypt(pe.key(5, (4, 4), 3))(y), x))
    (True, True)
    """

    def key(self, index: int, shape: tuple[int, int], channels: int) -> PEKey:
        """The PE key of sample ``index`` for images of grid ``shape`` and ``channels`` channels."""
        return PEKey.random(tuple(shape), channels=int(channels),
                            seed=np.random.SeedSequence([self.seed, _sample_index(index)]))

    def _transform(self, index: int, x):
        return Encrypt(self.key(index, (int(x.shape[1]), int(x.shape[2])), x.shape[0])).transform_tensor(x)


class IndexedDataset(torch.utils.data.Dataset):
    """A data set whose first item goes through a transform that also takes the sample's index.

    Parameters
    ----------
    dataset : torch.utils.data.Dataset
        Yields an image, or a tuple ``(image, target, ...)``.
    transform : callable
        Called as ``transform(index, image)``, e.g. :class:`ShuffleEach`.

    Examples
    --------
    >>> import torch, vortexnumba.torch as vt
    >>> base = torch.utils.data.TensorDataset(torch.rand(4, 1, 5, 5), torch.arange(4))
    >>> ds = vt.IndexedDataset(base, vt.ShuffleEach(seed=0))
    >>> image, label = ds[2]
    >>> tuple(image.shape), int(label)
    ((1, 5, 5), 2)
    """

    def __init__(self, dataset: Any, transform: Callable[..., Any]) -> None:
        self.dataset = dataset
        self.transform = transform

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int):
        item = self.dataset[index]
        if isinstance(item, (tuple, list)):
            out = list(item)
            out[0] = self.transform(index, out[0])
            return tuple(out) if isinstance(item, tuple) else out
        return self.transform(index, item)


class Collate:
    """A ``collate_fn`` that collates the samples, then transforms the batch's images in one call.

    A per-sample transform costs one small gather (and its Python call) per
    image; after collation one gather moves the whole batch. The result is the
    same images.

    Parameters
    ----------
    transform : callable
        Applied to the collated images, e.g. :class:`Encrypt` (a ``(B, C, H, W)`` tensor).
    collate : callable, optional
        How to collate the samples; default ``torch.utils.data.default_collate``.

    Examples
    --------
    >>> import torch, vortexnumba as vn
    >>> import vortexnumba.torch as vt
    >>> key = vn.PermutationKey.random((4, 4), seed=0)
    >>> ds = torch.utils.data.TensorDataset(torch.rand(6, 1, 4, 4), torch.arange(6))
    >>> loader = torch.utils.data.DataLoader(ds, batch_size=3, collate_fn=vt.Collate(vt.Encrypt(key)))
    >>> x, y = next(iter(loader))
    >>> bool(torch.equal(x, vt.Encrypt(key)(ds.tensors[0][:3])))
    True
    """

    def __init__(self, transform: Callable[..., Any], collate: Callable[..., Any] | None = None) -> None:
        self.transform = transform
        self.collate = collate

    def __repr__(self) -> str:
        return f"Collate({self.transform!r})"

    def __call__(self, samples):
        collate = self.collate
        if collate is None:
            from torch.utils.data import default_collate as collate
        return _first_image(collate(samples), self.transform)
