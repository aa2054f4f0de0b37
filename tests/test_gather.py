"""The gather engine: every layout and dtype against a per-pixel reference; round trips; errors."""

import naive
import numpy as np
import pytest
from conftest import examples  # Hypothesis budgets scale with the profile (tests/conftest.py)
from hypothesis import given, settings
from hypothesis import strategies as st

import vortexnumba as vn

# hypothesis draws tiny grids and weak strengths, where a key that moves nothing is expected
pytestmark = pytest.mark.filterwarnings("ignore::vortexnumba.cipher.IdentityKeyWarning")

SETTINGS = settings(max_examples=examples(20))

DTYPES = [np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.int64, np.uint64,
          np.float16, np.float32, np.float64, np.bool_]


def _random_images(rng, shape, dtype):
    if dtype == np.bool_:
        return rng.integers(0, 2, shape).astype(bool)
    if np.dtype(dtype).kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)


def _key(kind, shape, seed):
    h, w = shape
    if kind == "vortex":
        return vn.VortexKey.random(shape, n_vortices=4, strength=2.0, seed=seed)
    if kind == "permutation":
        return vn.PermutationKey.random(shape, seed=seed)
    if kind == "block":
        return vn.BlockKey.random(shape, block=1 if h % 2 or w % 2 else 2, seed=seed)
    return vn.IdentityKey(shape)


def _reference(images, src, layout):
    """Apply src image by image with the per-pixel reference."""
    if layout in ("HW", "HWC"):
        return naive.rvt_apply(images, src)
    return np.stack([naive.rvt_apply(img, src) for img in images])


@st.composite
def cases(draw):
    h = draw(st.integers(3, 9))
    w = draw(st.integers(3, 9))
    layout = draw(st.sampled_from(["HW", "HWC", "BHW", "BHWC"]))
    b = draw(st.integers(1, 4))
    c = draw(st.integers(2, 4))
    shape = {"HW": (h, w), "HWC": (h, w, c), "BHW": (b, h, w), "BHWC": (b, h, w, c)}[layout]
    dtype = draw(st.sampled_from(DTYPES))
    kind = draw(st.sampled_from(["vortex", "permutation", "block", "identity"]))
    order = draw(st.sampled_from(["C", "F", "strided"]))
    seed = draw(st.integers(0, 2**32))
    return (h, w), layout, shape, dtype, kind, order, seed


@SETTINGS
@given(cases())
def test_encrypt_matches_reference_and_decrypt_is_bit_exact(case):
    grid, layout, shape, dtype, kind, order, seed = case
    rng = np.random.default_rng(seed)
    if order == "strided":
        big = _random_images(rng, tuple(2 * s for s in shape), dtype)
        x = big[tuple(slice(None, None, 2) for _ in shape)]
        assert not x.flags.c_contiguous
    else:
        x = np.asarray(_random_images(rng, shape, dtype), order=order)
    key = _key(kind, grid, seed)
    channels = {"HWC": True, "BHW": False}.get(layout)
    y = vn.encrypt(x, key, channels=channels)
    assert y.shape == x.shape and y.dtype == x.dtype
    expected = _reference(x, key.src.tolist(), layout)
    assert y.tobytes() == np.ascontiguousarray(expected).tobytes()
    back = vn.decrypt(y, key, channels=channels)
    assert back.tobytes() == np.ascontiguousarray(x).tobytes()
    # values only move: the multiset of each image is unchanged
    flat_x = np.sort(np.ascontiguousarray(x).reshape(-1))
    assert np.array_equal(np.sort(y.reshape(-1)), flat_x)


@SETTINGS
@given(cases())
def test_out_buffer_of_any_layout(case):
    grid, layout, shape, dtype, kind, order, seed = case
    rng = np.random.default_rng(seed)
    x = _random_images(rng, shape, dtype)
    key = _key(kind, grid, seed)
    channels = {"HWC": True, "BHW": False}.get(layout)
    out = np.zeros(shape, dtype=dtype, order="F" if order == "F" else "C")
    got = vn.encrypt(x, key, out=out, channels=channels)
    assert got is out
    assert np.array_equal(out, vn.encrypt(x, key, channels=channels))


def test_paper_mode_matches_reference_and_refuses_to_decrypt():
    key = vn.VortexKey.random((12, 12), n_vortices=3, strength=2.0, mode="paper", seed=4)
    x = np.arange(144, dtype=np.float32).reshape(12, 12) / 144
    y = vn.encrypt(x, key)
    assert np.array_equal(y, naive.rvt_apply(x, key.src.tolist()))
    with pytest.raises(ValueError, match="paper.*lost|cannot decrypt"):
        vn.decrypt(y, key)


def test_nan_float_images_are_refused():
    key = vn.IdentityKey((4, 4))
    x = np.zeros((4, 4))
    x[1, 2] = np.nan
    with pytest.raises(ValueError, match="finite"):
        vn.encrypt(x, key)


@pytest.mark.parametrize(
    "images, kwargs, exc, match",
    [
        (np.zeros((5, 5), np.uint8), {}, ValueError, "does not match"),
        (np.zeros((2, 4, 5), np.uint8), {}, ValueError, "grid 4x4"),
        (np.zeros((4, 4), complex), {}, TypeError, "real"),
        (np.array([["a"] * 4] * 4), {}, TypeError, "numeric"),
        (np.zeros((4, 4, 4), np.uint8), {}, ValueError, "channels"),
        (np.zeros((4, 4), np.uint8), {"out": np.zeros((4, 4), np.int16)}, TypeError, "dtype"),
        (np.zeros((4, 4), np.uint8), {"out": np.zeros((4, 5), np.uint8)}, ValueError, "shape"),
        (np.zeros((4, 4), np.uint8), {"out": [0] * 16}, TypeError, "NumPy"),
    ],
)
def test_bad_inputs_give_clear_errors(images, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        vn.encrypt(images, vn.PermutationKey.random((4, 4), seed=0), **kwargs)


def test_out_must_not_overlap_and_key_must_be_a_key():
    x = np.zeros((3, 4, 4), np.uint8)
    key = vn.IdentityKey((4, 4))
    with pytest.raises(ValueError, match="share memory"):
        vn.encrypt(x, key, out=x)
    with pytest.raises(TypeError, match="key"):
        vn.encrypt(x, np.arange(16))


def test_apply_src_per_image_maps_and_errors():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (3, 2, 5, 2), dtype=np.uint8)
    src = np.stack([rng.permutation(10) for _ in range(3)])
    y = vn.apply_src(x, src)
    for b in range(3):
        assert np.array_equal(y[b], naive.rvt_apply(x[b], src[b].tolist()))
    with pytest.raises(ValueError, match="one per image"):
        vn.apply_src(x, src[:2])
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        vn.apply_src(x, np.full(10, 10))
    with pytest.raises(TypeError, match="integer"):
        vn.apply_src(x, np.arange(10.0))


def test_shuffle_each_is_seeded_per_image_and_shares_channels():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 255, (6, 5, 5, 3), dtype=np.uint8)
    y, src = vn.shuffle_each(x, seed=3, return_src=True)
    assert src.shape == (6, 25)
    assert np.array_equal(y, vn.shuffle_each(x, seed=3))
    assert not np.array_equal(y, vn.shuffle_each(x, seed=4))
    draw = np.random.default_rng(3)
    for b in range(6):
        assert np.array_equal(src[b], draw.permutation(25))  # the documented draw
        assert np.array_equal(y[b], naive.rvt_apply(x[b], src[b].tolist()))  # channels move together
    assert len({tuple(s) for s in src.tolist()}) == 6  # a fresh map for each image


def test_shuffle_each_reads_3d_arrays_only_when_clear():
    rng = np.random.default_rng(2)
    batch = rng.integers(0, 255, (3, 6, 6), dtype=np.uint8)
    _, src = vn.shuffle_each(batch, seed=0, return_src=True)
    assert src.shape == (3, 36)
    rgb = rng.integers(0, 255, (6, 7, 3), dtype=np.uint8)
    _, src = vn.shuffle_each(rgb, seed=0, return_src=True)
    assert src.shape == (42,)
    with pytest.raises(ValueError, match="channels"):
        vn.shuffle_each(np.zeros((2, 4, 4), np.uint8), seed=0)
    _, src = vn.shuffle_each(np.zeros((2, 4, 4), np.uint8), seed=0, channels=False, return_src=True)
    assert src.shape == (2, 16)


def test_shuffle_each_does_not_depend_on_chunking(monkeypatch):
    import vortexnumba.cipher._baselines as baselines

    x = np.arange(7 * 16, dtype=np.uint16).reshape(7, 4, 4)
    whole = vn.shuffle_each(x, seed=9, channels=False)
    monkeypatch.setattr(baselines, "_CHUNK_PIXELS", 32)  # two images per chunk
    assert np.array_equal(vn.shuffle_each(x, seed=9, channels=False), whole)


def test_default_key_keeps_far_more_information_than_a_random_permutation():
    from sklearn.datasets import load_digits

    # 8x8 digits enlarged 3x with np.kron (24x24) and padded by 2 to 28x28
    digits = load_digits().images[:60] / 16.0
    x = np.pad(np.kron(digits, np.ones((1, 3, 3))), ((0, 0), (2, 2), (2, 2)))
    key = vn.VortexKey.random((28, 28), seed=0)
    perm = vn.PermutationKey.random((28, 28), seed=0)
    r_vortex = float(np.mean(vn.retention(x, key.src)))
    r_perm = float(np.mean(vn.retention(x, perm.src)))
    assert r_vortex > 0.3 and r_vortex > 5 * r_perm, (
        f"mean retention on digits: default vortex key {r_vortex:.3f}, random permutation {r_perm:.3f}"
    )
