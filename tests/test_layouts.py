"""The NumPy door names the layout it saw (PyTorch's channels-first) and the one it wants."""

from __future__ import annotations

import numpy as np
import pytest

import vortexnumba as vn

KEY = vn.VortexKey.random((28, 28), seed=0)


def test_channels_first_batch_is_named():
    with pytest.raises(ValueError, match=r"\(5, 1, 28, 28\); expected \(B, H, W, C\).*\(B, C, H, W\)"):
        vn.encrypt(np.zeros((5, 1, 28, 28), np.uint8), KEY)


def test_channels_first_image_is_named():
    with pytest.raises(ValueError, match=r"as \(H, W, C\).*reads as \(C, H, W\)"):
        vn.encrypt(np.zeros((3, 28, 28), np.uint8), KEY, channels=True)


def test_channels_last_arrays_still_work():
    x = np.random.default_rng(0).integers(0, 256, (2, 28, 28, 3), dtype=np.uint8)
    assert np.array_equal(vn.decrypt(vn.encrypt(x, KEY), KEY), x)


@pytest.mark.parametrize("fn", [vn.encrypt, vn.decrypt])
def test_torch_tensor_is_refused_with_a_pointer(fn):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    x = torch.zeros(3, 28, 28, dtype=torch.uint8)
    with pytest.raises(TypeError, match=r"torch tensor.*vortexnumba\.torch"):
        fn(x, KEY)
    with pytest.raises(TypeError, match=r"torch tensor"):
        vn.shuffle_each(x, seed=0)
