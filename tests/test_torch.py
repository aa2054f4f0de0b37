"""vortexnumba.torch: the transforms give vn.encrypt's bytes, in every layout, in DataLoader workers."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import vortexnumba as vn

torch = pytest.importorskip("torch", reason="PyTorch is not installed (pip install 'vortexnumba[torch]')")
import vortexnumba.torch as vt  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# tiny random vortex keys may move no pixel; that is a fine test case here
pytestmark = pytest.mark.filterwarnings("ignore::vortexnumba.IdentityKeyWarning")

# ---------------------------------------------------------------- keys of every kind

SPATIAL_KINDS = ("vortex", "vortex-paper", "permutation", "block", "identity")
# the element schemes, where the cipher package has them
ELEMENT_KINDS = tuple(k for k, cls in (("le", "LEKey"), ("ele", "ELEKey"), ("etc", "EtCKey"),
                                       ("pe", "PEKey"), ("blockwise", "BlockwiseKey")) if hasattr(vn, cls))


def make_key(kind: str, shape, channels: int, seed: int):
    if kind == "vortex":
        return vn.VortexKey.random(shape, n_vortices=2, seed=seed)
    if kind == "vortex-paper":
        return vn.VortexKey.random(shape, n_vortices=2, mode="paper", seed=seed)
    if kind == "permutation":
        return vn.PermutationKey.random(shape, seed=seed)
    if kind == "block":
        return vn.BlockKey.random(shape, block=2, seed=seed)
    if kind == "identity":
        return vn.IdentityKey(shape)
    cls = {"le": "LEKey", "ele": "ELEKey", "etc": "EtCKey", "pe": "PEKey", "blockwise": "BlockwiseKey"}[kind]
    if kind == "pe":
        return getattr(vn, cls).random(shape, channels=channels, seed=seed)
    return getattr(vn, cls).random(shape, block=2, channels=channels, seed=seed)


def hwc(x):
    """A (C, H, W) / (B, C, H, W) tensor as the (H, W, C) / (B, H, W, C) array vn.encrypt reads."""
    return np.ascontiguousarray(x.movedim(-3, -1).numpy())


def reference(x, key, inverse=False):
    fn = vn.decrypt if inverse else vn.encrypt
    return fn(hwc(x), key, channels=True) if x.ndim == 3 else fn(hwc(x), key)


def random_images(rng, batch, c, h, w, dtype):
    shape = (c, h, w) if batch is None else (batch, c, h, w)
    if dtype == torch.uint8:
        return torch.from_numpy(rng.integers(0, 256, shape, dtype=np.uint8))
    return torch.from_numpy(rng.random(shape)).to(dtype)


@settings(max_examples=examples(30))
@given(kind=st.sampled_from(SPATIAL_KINDS + ELEMENT_KINDS), h=st.sampled_from([4, 6]),
       w=st.sampled_from([4, 8]), c=st.integers(1, 4), batch=st.sampled_from([None, 1, 3]),
       dtype=st.sampled_from([torch.uint8, torch.float32, torch.float64]), seed=st.integers(0, 2**16))
def test_encrypt_matches_numpy_engine(kind, h, w, c, batch, dtype, seed):
    key = make_key(kind, (h, w), c, seed)
    if kind in ("le", "ele") and dtype != torch.uint8:
        dtype = torch.uint8  # 4-bit halves exist only for bytes
    x = random_images(np.random.default_rng(seed), batch, c, h, w, dtype)
    before = x.clone()
    y = vt.Encrypt(key)(x)
    assert y.dtype == x.dtype and y.shape == x.shape
    np.testing.assert_array_equal(hwc(y), reference(x, key))
    assert torch.equal(x, before)  # the caller's tensor is untouched
    if getattr(key, "is_bijective", True) and kind != "vortex-paper":
        back = vt.Decrypt(key)(y)
        np.testing.assert_array_equal(hwc(back), reference(y, key, inverse=True))
        # float negation (1 - v) undoes itself only up to rounding; bytes come back exactly
        assert torch.equal(back, x) if dtype == torch.uint8 else torch.allclose(back, x, rtol=0, atol=1e-6)


# ---------------------------------------------------- the element-plan path, from its definition


@dataclass(frozen=True)
class _Plan:
    unit: str
    src: np.ndarray
    negate: np.ndarray | None


class PlanKey:
    """A hand-made non-spatial key: a random element (or nibble) gather with a negation mask."""

    kind = "test-plan"
    is_spatial = False
    is_bijective = True

    def __init__(self, shape, channels, unit, seed):
        self.shape, self.channels, self.unit = tuple(shape), channels, unit
        rng = np.random.default_rng(seed)
        self.m = shape[0] * shape[1] * channels * (2 if unit == "nibble" else 1)
        self.perm = rng.permutation(self.m)
        self.neg = rng.random(self.m) < 0.5

    n_pixels = property(lambda self: self.shape[0] * self.shape[1])
    src = property(lambda self: np.arange(self.n_pixels))
    inverse_src = src

    def to_json(self):
        return "{}"

    def element_plan(self, channels):
        assert channels == self.channels
        return _Plan(self.unit, self.perm, self.neg)

    def inverse_plan(self, channels):
        # gather then negate; undone by negating (at the output slot) and gathering back
        inv = np.argsort(self.perm)
        return _Plan(self.unit, inv, self.neg[inv])


def naive_plan_encrypt(image_hwc, plan):
    """Definition: out_unit[m] = in_unit[src[m]], then the marked units negated."""
    flat = image_hwc.reshape(-1)
    if plan.unit == "nibble":
        units = np.stack([flat & 15, flat >> 4], axis=1).reshape(-1).astype(np.int64)
        out = units[plan.src]
        out = np.where(plan.negate, 15 - out, out).reshape(-1, 2)
        return (out[:, 0] | (out[:, 1] << 4)).astype(np.uint8).reshape(image_hwc.shape)
    out = flat[plan.src]
    if plan.negate is not None:
        top = 255 if flat.dtype == np.uint8 else 1
        out = np.where(plan.negate, top - out, out).astype(flat.dtype)
    return out.reshape(image_hwc.shape)


@settings(max_examples=examples(20))
@given(unit=st.sampled_from(["element", "nibble"]), h=st.integers(1, 5), w=st.integers(1, 5),
       c=st.integers(1, 4), batch=st.sampled_from([None, 2]), floats=st.booleans(), seed=st.integers(0, 2**16))
def test_element_plan_path_follows_the_definition(unit, h, w, c, batch, floats, seed):
    key = PlanKey((h, w), c, unit, seed)
    dtype = torch.float32 if floats and unit == "element" else torch.uint8
    x = random_images(np.random.default_rng(seed), batch, c, h, w, dtype)
    y = vt.Encrypt(key)(x)
    plan = key.element_plan(c)
    xs = hwc(x) if batch else hwc(x)[None]
    want = np.stack([naive_plan_encrypt(img, plan) for img in xs])
    np.testing.assert_array_equal(hwc(y) if batch else hwc(y)[None], want)
    back = vt.Decrypt(key)(y)
    # 1 - (1 - v) is v up to rounding for floats; bytes come back exactly
    assert torch.equal(back, x) if dtype == torch.uint8 else torch.allclose(back, x, rtol=0, atol=1e-6)


def test_two_valued_and_extreme_images():
    key = vn.VortexKey.random((8, 8), n_vortices=5, strength=3.0, seed=3)
    for x in (torch.zeros(2, 3, 8, 8, dtype=torch.uint8), torch.full((1, 8, 8), 255, dtype=torch.uint8),
              (torch.arange(64).reshape(1, 8, 8) % 2).to(torch.uint8) * 255):
        np.testing.assert_array_equal(hwc(vt.Encrypt(key)(x)), reference(x, key))


# ------------------------------------------------------------------------ PIL, pickle, errors


@pytest.mark.parametrize("mode,channels", [("L", 1), ("RGB", 3), ("RGBA", 4)])
def test_pil_in_pil_out(mode, channels):
    from PIL import Image

    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, (6, 10, channels), dtype=np.uint8)
    img = Image.fromarray(arr[:, :, 0] if channels == 1 else arr).convert(mode)
    key = vn.PermutationKey.random((6, 10), seed=2)
    out = vt.Encrypt(key)(img)
    assert isinstance(out, Image.Image) and out.mode == mode and out.size == img.size
    want = vn.encrypt(np.asarray(img), key, channels=True) if channels > 1 else vn.encrypt(np.asarray(img), key)
    np.testing.assert_array_equal(np.asarray(out), want)
    np.testing.assert_array_equal(np.asarray(vt.Decrypt(key)(out)), np.asarray(img))


@settings(max_examples=examples(30))
@given(kind=st.sampled_from(SPATIAL_KINDS + ELEMENT_KINDS), h=st.sampled_from([4, 6]),
       w=st.sampled_from([4, 8]), mode=st.sampled_from(["L", "RGB", "RGBA"]), seed=st.integers(0, 2**16),
       fill=st.sampled_from(["random", "zeros", "max", "two-valued"]))
def test_pil_images_of_every_key_kind_give_the_numpy_engines_bytes(kind, h, w, mode, seed, fill):
    # a PIL image is gathered in its own (H, W, C) layout, a path apart from the tensor gather
    from PIL import Image

    channels = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
    rng = np.random.default_rng(seed)
    arr = {"random": lambda: rng.integers(0, 256, (h, w, channels), dtype=np.uint8),
           "zeros": lambda: np.zeros((h, w, channels), np.uint8),
           "max": lambda: np.full((h, w, channels), 255, np.uint8),
           "two-valued": lambda: rng.choice(np.array([0, 255], np.uint8), (h, w, channels))}[fill]()
    img = Image.fromarray(arr[:, :, 0] if channels == 1 else arr, mode=mode)
    key = make_key(kind, (h, w), channels, seed)
    pixels = np.asarray(img)
    out = vt.Encrypt(key)(img)
    want = vn.encrypt(pixels, key, channels=True) if channels > 1 else vn.encrypt(pixels, key)
    assert out.mode == mode
    np.testing.assert_array_equal(np.asarray(out), want)
    if kind != "vortex-paper":  # the paper mode is not a bijection
        np.testing.assert_array_equal(np.asarray(vt.Decrypt(key)(out)), pixels)
    np.testing.assert_array_equal(np.asarray(img), pixels)  # the caller's image is untouched


def test_pil_image_of_the_wrong_size_is_refused_naming_the_grid():
    from PIL import Image

    key = vn.PermutationKey.random((6, 10), seed=2)
    with pytest.raises(ValueError, match="the key's grid"):
        vt.Encrypt(key)(Image.new("L", (6, 10)))  # PIL sizes are (width, height): a 10x6 image


def test_tuple_sample_transforms_only_the_image():
    key = vn.PermutationKey.random((4, 4), seed=0)
    x = torch.rand(1, 4, 4)
    y, label = vt.Encrypt(key)((x, 3))
    assert label == 3 and torch.equal(y, vt.Encrypt(key)(x))


@pytest.mark.parametrize("kind", SPATIAL_KINDS + ELEMENT_KINDS)
def test_transforms_pickle(kind):
    key = make_key(kind, (4, 4), 3, 5)
    enc = vt.Encrypt(key)
    x = torch.randint(0, 256, (2, 3, 4, 4), dtype=torch.uint8)
    y = enc(x)  # fills the per-device cache, which must not travel
    enc2 = pickle.loads(pickle.dumps(enc))
    assert torch.equal(enc2(x), y)


def test_hwc_tensor_names_both_layouts():
    enc = vt.Encrypt(vn.VortexKey.random((28, 28), seed=0))
    with pytest.raises(ValueError, match=r"\(H, W, C\).*expected \(C, H, W\).*permute\(2, 0, 1\)"):
        enc(torch.zeros(28, 28, 3, dtype=torch.uint8))
    with pytest.raises(ValueError, match=r"\(B, H, W, C\).*expected \(B, C, H, W\)"):
        enc(torch.zeros(5, 28, 28, 1, dtype=torch.uint8))
    with pytest.raises(ValueError, match=r"H, W = 28, 28"):
        enc(torch.zeros(1, 27, 28))
    with pytest.raises(ValueError, match=r"unsqueeze"):
        enc(torch.zeros(28, 28))
    with pytest.raises(TypeError, match="uint8 or float tensor"):
        enc(torch.zeros(1, 28, 28, dtype=torch.int32))
    with pytest.raises(TypeError, match=r"NumPy array.*vortexnumba.encrypt"):
        enc(np.zeros((28, 28), np.uint8))
    with pytest.raises(ValueError, match="cannot decrypt"):
        vt.Decrypt(vn.VortexKey.random((8, 8), mode="paper", seed=0))
    with pytest.raises(TypeError):
        vt.Encrypt("key.json")


def test_shuffle_each_is_seeded_by_the_index():
    shuffle = vt.ShuffleEach(seed=11)
    x = torch.arange(3 * 36, dtype=torch.uint8).reshape(3, 6, 6)
    ys = [shuffle(i, x) for i in range(4)]
    for i, y in enumerate(ys):
        want = vn.shuffle_each(hwc(x), seed=np.random.SeedSequence([11, i]), channels=True)
        np.testing.assert_array_equal(hwc(y), want)
    assert not torch.equal(ys[0], ys[1])
    with pytest.raises(TypeError):
        vt.ShuffleEach(seed=None)
    with pytest.raises(ValueError, match="one"):
        shuffle(0, x[None])


def test_pe_each_is_seeded_by_the_index():
    pe = vt.PEEach(seed=5)
    x = torch.randint(0, 256, (3, 4, 6), dtype=torch.uint8)
    for i in range(3):
        key = vn.PEKey.random((4, 6), channels=3, seed=np.random.SeedSequence([5, i]))
        np.testing.assert_array_equal(hwc(pe(i, x)), vn.encrypt(hwc(x), key, channels=True))
        assert torch.equal(vt.Decrypt(pe.key(i, (4, 6), 3))(pe(i, x)), x)
    assert not torch.equal(pe(0, x), pe(1, x))
    y, label = pe(torch.tensor(2), (x, 7))  # a tensor index, a (image, label) sample
    assert label == 7 and torch.equal(y, pe(2, x))
    with pytest.raises(ValueError, match="index"):
        pe(-1, x)


@pytest.mark.parametrize("cls", ["ShuffleEach", "PEEach"])
def test_per_sample_transforms_are_ordinary_modules(cls):
    # nn.Module's own machinery (.to, .eval, repr) works, and the messages name the class
    t = getattr(vt, cls)(seed=3).to("cpu").eval()
    assert repr(t) == f"{cls}(seed=3)"
    with pytest.raises(TypeError, match=rf"^{cls} takes a torch tensor"):
        t(0, [1, 2])
    with pytest.raises(ValueError, match=rf"^{cls} takes one \(C, H, W\) image per index"):
        t(0, torch.zeros(2, 1, 4, 4, dtype=torch.uint8))


# ------------------------------------------------------------ DataLoader workers (fork)


def test_dataloader_workers_after_the_parent_encrypted():
    """A real DataLoader forks after the parent ran the Numba engine; workers encrypt too."""
    key = vn.VortexKey.random((8, 8), seed=4)
    images = torch.randint(0, 256, (12, 1, 8, 8), dtype=torch.uint8)
    vn.encrypt(hwc(images), key)  # the parent has run a parallel kernel
    ds = torch.utils.data.TensorDataset(images, torch.arange(12))

    class Encrypted(torch.utils.data.Dataset):
        def __init__(self, base, transform):
            self.base, self.transform = base, transform

        def __len__(self):
            return len(self.base)

        def __getitem__(self, i):
            return self.transform(self.base[i])

    loader = torch.utils.data.DataLoader(Encrypted(ds, vt.Encrypt(key)), batch_size=4, num_workers=2,
                                         multiprocessing_context="fork")
    got = torch.cat([x for x, _ in loader])
    np.testing.assert_array_equal(hwc(got), vn.encrypt(hwc(images), key))
    batched = torch.utils.data.DataLoader(ds, batch_size=5, num_workers=2, multiprocessing_context="fork",
                                          collate_fn=vt.Collate(vt.Encrypt(key)))
    got, labels = zip(*batched, strict=True)
    np.testing.assert_array_equal(hwc(torch.cat(got)), vn.encrypt(hwc(images), key))
    assert torch.equal(torch.cat(labels), torch.arange(12))

    indexed = vt.IndexedDataset(ds, vt.ShuffleEach(seed=1))
    if hasattr(vt, "PEEach"):
        pe = vt.IndexedDataset(ds, vt.PEEach(seed=2))
        got = torch.cat([x for x, _ in torch.utils.data.DataLoader(pe, batch_size=5, num_workers=2,
                                                                  multiprocessing_context="fork")])
        assert torch.equal(got, torch.stack([pe[i][0] for i in range(12)]))
    epochs = [torch.cat([x for x, _ in torch.utils.data.DataLoader(indexed, batch_size=5, num_workers=2,
                                                                    multiprocessing_context="fork")])
              for _ in range(2)]
    serial = torch.stack([indexed[i][0] for i in range(12)])
    assert torch.equal(epochs[0], epochs[1]) and torch.equal(epochs[0], serial)


_FORK_SCRIPT = textwrap.dedent("""
    import numpy as np, numba, torch, vortexnumba as vn
    key = vn.VortexKey.random((8, 8), seed=0)
    x = np.arange(10 * 64, dtype=np.uint8).reshape(10, 8, 8)
    want = vn.encrypt(x, key)

    class NumbaInWorker(torch.utils.data.Dataset):
        def __len__(self):
            return 10
        def __getitem__(self, i):
            return torch.from_numpy(vn.encrypt(x[i], key))

    got = torch.cat([b for b in torch.utils.data.DataLoader(NumbaInWorker(), batch_size=5, num_workers=2,
                                                             multiprocessing_context="fork")])
    assert (got.numpy().reshape(10, 8, 8) == want).all()
    print("layer", numba.threading_layer())
""")


def _run(script, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_THREADING_LAYER"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *sys.path])
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=600)


def test_numba_kernels_in_forked_workers_after_the_parent_encrypted():
    from vortexnumba._threading import find_tbb

    if find_tbb() is None:
        pytest.skip("no TBB library (pip install tbb): Numba keeps its default layer, which may not be fork-safe")
    r = _run(_FORK_SCRIPT)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "layer tbb" in r.stdout


def test_a_users_threading_layer_is_kept():
    r = _run("import numpy as np, numba, vortexnumba as vn\n"
             "vn.encrypt(np.zeros((3, 4, 4), np.uint8), vn.PermutationKey.random((4, 4), seed=0))\n"
             "print('layer', numba.threading_layer())",
             {"NUMBA_THREADING_LAYER": "workqueue"})
    assert r.returncode == 0, r.stderr[-2000:]
    assert "layer workqueue" in r.stdout


def test_package_and_cli_do_not_import_torch():
    r = _run("import sys, vortexnumba as vn\n"
             "from vortexnumba.cli import build_parser\n"
             "build_parser()\n"
             "print(sorted(m for m in ('torch', 'torchvision') if m in sys.modules))")
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_tensors_stay_on_the_device():
    key = vn.VortexKey.random((8, 8), seed=0)
    x = torch.randint(0, 256, (4, 3, 8, 8), dtype=torch.uint8)
    y = vt.Encrypt(key)(x.cuda())
    assert y.is_cuda and torch.equal(y.cpu(), vt.Encrypt(key)(x))
