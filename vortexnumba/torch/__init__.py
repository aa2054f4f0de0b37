"""PyTorch transforms for vortexnumba's keys (the optional extra ``vortexnumba[torch]``).

- ``_transforms`` -- :class:`Encrypt` / :class:`Decrypt` (``torch.nn.Module``\\ s in the style of
  torchvision's v2 transforms), :class:`ShuffleEach`, :class:`PEEach` and :class:`IndexedDataset`
  (per-image baselines drawn from the sample's index), :class:`Collate` (a whole batch at once)
- ``_plans``      -- a key's map written over PyTorch's ``(C, H, W)`` order (NumPy only)

This is the only part of vortexnumba that imports ``torch``.

Examples
--------
>>> import torch, vortexnumba as vn
>>> import vortexnumba.torch as vt
>>> key = vn.VortexKey.random((28, 28), seed=0)
>>> ds = torch.utils.data.TensorDataset(torch.rand(8, 1, 28, 28))
>>> encrypt = vt.Encrypt(key)
>>> tuple(encrypt(ds[0][0]).shape)
(1, 28, 28)
"""

try:
    import torch as _torch  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised where torch is absent
    raise ImportError(
        "vortexnumba.torch needs PyTorch: pip install 'vortexnumba[torch]' (or pip install torch)"
    ) from exc

from ._plans import TorchPlan, plan_for
from ._transforms import Collate, Decrypt, Encrypt, IndexedDataset, PEEach, ShuffleEach

__all__ = ["Collate", "Decrypt", "Encrypt", "IndexedDataset", "PEEach", "ShuffleEach", "TorchPlan", "plan_for"]
