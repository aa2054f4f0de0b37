"""Retention of keys that change values (``is_spatial`` False): the encrypted image against the plain one
through the key's tracking map, fast kernel against the naive twin and the exact reference."""

from __future__ import annotations

import naive
import numpy as np
import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import vortexnumba as vn
from vortexnumba.testing import couplings, exact_loss, exact_retention, gather_maps, images, kernels

RTOL = 1e-10


class HandKey:
    """A key that changes values, built by hand: a pixel gather, then per-pixel channel shuffles and negation.

    ``src`` is its tracking map (every output pixel comes whole from ``src[p]``), ``is_spatial`` False.
    """

    is_spatial = False

    def __init__(self, src, channel_perm=None, negate=None):
        self.src = np.asarray(src, dtype=np.int64)
        self.channel_perm = channel_perm  # (N, C) gather over channels, or None
        self.negate = negate  # (N, C) bool, or None

    def encrypt(self, image):
        x = np.asarray(image)
        flat = x.reshape(x.shape[0] * x.shape[1], -1)[self.src].copy()
        if self.channel_perm is not None:
            flat = np.take_along_axis(flat, self.channel_perm, axis=1)
        if self.negate is not None:
            top = 255 if flat.dtype == np.uint8 else 1.0
            flat[self.negate] = top - flat[self.negate]
        return flat.reshape(x.shape)


def naive_args(kernel, coupling):
    return (kernel.family, kernel.param, kernel.radius), coupling.h


@st.composite
def hand_keys(draw, image):
    n = image.shape[0] * image.shape[1]
    c = 1 if image.ndim == 2 else image.shape[2]
    src = draw(gather_maps(n)) if n > 1 else np.zeros(1, dtype=np.int64)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    perm = np.stack([rng.permutation(c) for _ in range(n)]) if draw(st.booleans()) else None
    negate = rng.random((n, c)) < 0.5 if draw(st.booleans()) else None
    return HandKey(src, perm, negate)


DTYPES = ("uint8", "float32", "float64")


@settings(max_examples=examples(40))
@given(st.data(), images(dtypes=DTYPES, max_side=5), kernels(), couplings())
def test_tracked_retention_matches_naive(data, img, kernel, coupling):
    key = data.draw(hand_keys(img))
    enc = key.encrypt(img)
    k, h = naive_args(kernel, coupling)
    ref = naive.tracked_retention(img, enc, key.src, k, h)
    comp = vn.retention(img, key, kernel, coupling, channels=img.ndim == 3, encrypted=enc)
    assert comp == pytest.approx(ref, rel=RTOL, abs=1e-15)


@settings(max_examples=examples(15))
@given(st.data(), images(dtypes=("uint8", "float64"), max_side=4, kinds=("two_valued", "near_constant")),
       kernels(), couplings())
def test_tracked_retention_matches_exact_on_adversarial_images(data, img, kernel, coupling):
    key = data.draw(hand_keys(img))
    enc = key.encrypt(img)
    ch = img.ndim == 3
    n = img.shape[0] * img.shape[1]
    comp = vn.retention(img, key, kernel, coupling, channels=ch, encrypted=enc)
    if n == 1:
        assert comp == 1.0
        return
    if vn.information_energy(img, kernel, coupling, channels=ch) == 0.0:
        return  # rho undefined for the exact reference; the zero cases are tested below
    if vn.information_energy(enc, kernel, coupling, channels=ch) == 0.0:
        return
    exact = exact_retention(img, key, kernel, coupling, channels=ch, encrypted=enc)
    assert comp == pytest.approx(float(exact), rel=1e-12, abs=1e-15)
    loss = vn.information_loss(img, key, kernel, coupling, channels=ch, encrypted=enc)
    assert loss == pytest.approx(float(exact_loss(img, key, kernel, coupling, channels=ch, encrypted=enc)),
                                 rel=1e-9, abs=1e-14)


def test_keys_that_move_whole_pixels_agree_with_the_gather_index():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, (4, 6, 5, 3), dtype=np.uint8)
    for src in (rng.permutation(30), rng.integers(0, 30, 30), np.arange(30)[::-1].copy()):
        key = HandKey(src)
        got = vn.retention(x, key, encrypted=np.stack([key.encrypt(img) for img in x]))
        np.testing.assert_allclose(got, vn.retention(x, src), rtol=1e-13)


@pytest.mark.parametrize("make", [
    lambda: vn.VortexKey.random((6, 7), n_vortices=2, seed=1),
    lambda: vn.VortexKey.random((6, 7), n_vortices=2, mode="paper", seed=1),
    lambda: vn.PermutationKey.random((6, 7), seed=2),
    lambda: vn.IdentityKey((6, 7)),
])
def test_spatial_keys_give_their_gather_index_bit_for_bit(make):
    key = make()
    x = np.random.default_rng(0).random((5, 6, 7, 3))
    assert vn.retention(x, key).tobytes() == vn.retention(x, key.src).tobytes()
    assert vn.information_loss(x, key).tobytes() == vn.information_loss(x, key.src).tobytes()


def test_a_key_without_is_spatial_is_spatial():
    class Plain:
        def __init__(self, src):
            self.src = src

    src = np.random.default_rng(1).permutation(20)
    x = np.random.default_rng(2).random((3, 4, 5))
    assert vn.retention(x, Plain(src)).tobytes() == vn.retention(x, src).tobytes()


def test_batch_equals_each_image_and_loss_is_one_minus_rho():
    rng = np.random.default_rng(5)
    x = rng.random((6, 5, 5, 3))
    key = HandKey(rng.permutation(25), np.stack([rng.permutation(3) for _ in range(25)]), rng.random((25, 3)) < .5)
    enc = np.stack([key.encrypt(img) for img in x])
    batch = vn.retention(x, key, encrypted=enc)
    for b in range(6):
        assert batch[b] == vn.retention(x[b], key, encrypted=enc[b], channels=True)
    assert vn.information_loss(x, key, encrypted=enc).tobytes() == (1.0 - batch).tobytes()


def test_zero_cases():
    key = HandKey([1, 0])
    flat = np.zeros((1, 2))
    # the pair is within R: both sides have bonds; a 1x1 grid has none
    assert vn.retention(flat, key, encrypted=flat) == pytest.approx(1.0)
    one = np.zeros((1, 1))
    assert vn.retention(one, HandKey([0]), encrypted=one) == 1.0
    assert vn.information_loss(one, HandKey([0]), encrypted=one) == 0.0
    far = np.zeros((1, 5))  # radius 1: the tracked pairs' sources lie beyond R, bonds on both sides remain
    assert vn.retention(far, HandKey([0, 2, 4, 1, 3]), vn.Kernel.power(2, 1), encrypted=far) == 0.0


@pytest.mark.parametrize("call, match", [
    (lambda x: vn.retention(x, np.arange(16), encrypted=x), "encrypted is only for keys that change values"),
    (lambda x: vn.retention(x, HandKey(np.arange(16)), encrypted=x[:2]), "encrypted must have the shape"),
    (lambda x: vn.retention(x, HandKey(np.arange(15)), encrypted=x), "N = 15 pixels"),
    (lambda x: vn.retention(x, HandKey(np.full(16, 16)), encrypted=x), r"key.src entries must lie in \[0, 16\)"),
    (lambda x: vn.retention(x, HandKey(np.zeros((2, 16), int)), encrypted=x), "one tracking map"),
])
def test_bad_input_is_refused_clearly(call, match):
    x = np.zeros((3, 4, 4))
    with pytest.raises(ValueError, match=match):
        call(x)


# ----------------------------------------------------------------------------- the value-changing key kinds

SCHEME_KEYS = [
    lambda c: vn.LEKey.random((4, 4), block=2, channels=c, seed=1),
    lambda c: vn.ELEKey.random((4, 4), block=2, channels=c, seed=2),
    lambda c: vn.EtCKey.random((4, 4), block=2, channels=c, seed=3),
    lambda c: vn.PEKey.random((4, 4), channels=c, seed=4),
    lambda c: vn.BlockwiseKey.random((4, 4), block=2, channels=c, negate=True, seed=5),
]


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("make", SCHEME_KEYS)
def test_every_key_kind_matches_the_naive_twin_through_the_engine(make, channels):
    key = make(channels)
    assert not key.is_spatial
    rng = np.random.default_rng(channels)
    x = rng.integers(0, 256, (2, 4, 4, channels), dtype=np.uint8)
    enc = vn.encrypt(x, key)
    comp = vn.retention(x, key)
    assert comp.tobytes() == vn.retention(x, key, encrypted=enc).tobytes()
    for b in range(2):
        ref = naive.tracked_retention(x[b], enc[b], key.src, ("power", 2.0, 3.0), 0.25)
        assert comp[b] == pytest.approx(ref, rel=RTOL)
    exact = exact_retention(x[0], key, channels=True)
    assert comp[0] == pytest.approx(float(exact), rel=1e-12)
    assert vn.information_loss(x, key).tobytes() == (1.0 - comp).tobytes()
