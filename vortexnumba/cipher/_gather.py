"""The gather engine: apply a key to images, for every key and baseline.

This is the only place where data moves; keys (:mod:`vortexnumba.cipher._keys`,
:mod:`vortexnumba.cipher._scheme_keys`) and the vortex geometry
(:mod:`vortexnumba.cipher._vortex`) only produce index maps.

Spatial keys give a gather index over pixels, ``Y.flat[p] = X.flat[src[p]]``
for every channel of every image. Pixels are moved as raw bits: an array of
any real dtype is viewed as the unsigned integer type of the same width, so
one compiled kernel per width serves every dtype (bool, int8..uint64,
float16..float64) and the result is bit-exact (NaN payloads and negative
zeros included). The output is the only allocation; nothing as large as the
batch is ever created besides it.

Every other key gives an :class:`~vortexnumba.cipher._plan.ElementPlan`: a
gather over the values (or, for LE/ELE, the nibbles) of one image and a
negation mask. Its kernels: an element gather that negates uint8 with XOR 255
(== ``255 - v``), a float32/float64 gather with ``1 - v`` in the images' own
dtype, a nibble gather that reads two nibbles per output byte and XORs 15
where negated, and for uint8 rows of a multiple of four values (plans of at
most 65,536 units) variants that read four packed uint16 indices at once and
store four bytes in one 32-bit word. Non-contiguous inputs are copied to
contiguous chunks of a few MiB first.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
from numba import njit, prange

from .._validate import as_image_batch, as_index, native_dtype
from ._plan import ElementPlan
from ._protocol import check_decryptable, check_key, is_spatial, key_channels

__all__ = ["apply_plan", "apply_src", "batch_view", "check_plan_dtype", "decrypt", "encrypt", "key_src",
           "prepare_out", "run", "run_plan"]

_UINT_BY_SIZE = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


@njit(cache=True, parallel=True)
def _gather_rows(x, src, out):
    """(B, N) C-contiguous batch, one channel: the fast path."""
    n_img, n_pix = x.shape
    shared = src.shape[0] == 1
    for b in prange(n_img):
        s = src[0] if shared else src[b]
        xb = x[b]
        ob = out[b]
        for p in range(n_pix):
            ob[p] = xb[s[p]]


@njit(cache=True, parallel=True)
def _gather_pixels(x, src, out):
    """(B, N, C) C-contiguous batch: move whole pixels (all channels)."""
    n_img, n_pix, n_ch = x.shape
    shared = src.shape[0] == 1
    for b in prange(n_img):
        s = src[0] if shared else src[b]
        for p in range(n_pix):
            q = s[p]
            for c in range(n_ch):
                out[b, p, c] = x[b, q, c]


@njit(cache=True, parallel=True)
def _gather_strided(x, src, out):
    """(B, H, W, C) arrays of any strides (views, slices, Fortran order)."""
    n_img, _, width, n_ch = x.shape
    n_pix = src.shape[1]
    shared = src.shape[0] == 1
    for b in prange(n_img):
        s = src[0] if shared else src[b]
        for p in range(n_pix):
            q = s[p]
            i = p // width
            j = p - i * width
            qi = q // width
            qj = q - qi * width
            for c in range(n_ch):
                out[b, i, j, c] = x[b, qi, qj, c]


def _as_bits(a: np.ndarray) -> np.ndarray | None:
    """View ``a`` as unsigned ints of its own width, or None for unusual widths."""
    kind = _UINT_BY_SIZE.get(a.dtype.itemsize)
    return None if kind is None else a.view(kind)


def batch_view(arr: np.ndarray, is_batch: bool) -> np.ndarray:
    """The same 4-D ``(B, H, W, C)`` view that as_image_batch gave for the input."""
    if arr.ndim == 2:
        return arr[None, :, :, None]
    if arr.ndim == 4:
        return arr
    return arr[..., None] if is_batch else arr[None]


def prepare_out(out: np.ndarray | None, images: np.ndarray, is_batch: bool) -> np.ndarray:
    # the kernels read the native copy that as_image_batch made of a non-native input, so the
    # result is native too: the same numbers, in the machine's byte order
    dtype = native_dtype(images.dtype)
    if out is None:
        return np.empty(images.shape, dtype=dtype)
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a NumPy array, got {type(out).__name__}")
    if out.shape != images.shape:
        raise ValueError(f"out has shape {out.shape}, expected the images' shape {images.shape}")
    if out.dtype != dtype:
        raise TypeError(f"out has dtype {out.dtype}, expected the images' dtype {dtype} (native byte order)")
    if not out.flags.writeable:
        raise ValueError("out is read-only")
    if np.may_share_memory(out, images):
        raise ValueError("out must not share memory with images (a gather cannot run in place)")
    return out


def run(x4: np.ndarray, src2: np.ndarray, o4: np.ndarray) -> None:
    """Dispatch to the fastest kernel that fits the memory layout."""
    xb = _as_bits(x4)
    ob = _as_bits(o4)
    if xb is None:
        # exotic widths (e.g. float128): NumPy fancy indexing, one image at a time
        n_img, h, w, c = x4.shape
        for b in range(n_img):
            s = src2[0] if src2.shape[0] == 1 else src2[b]
            o4[b] = x4[b].reshape(h * w, c)[s].reshape(h, w, c)
        return
    n_img, h, w, c = x4.shape
    if xb.flags.c_contiguous and ob.flags.c_contiguous:
        if c == 1:
            _gather_rows(xb.reshape(n_img, h * w), src2, ob.reshape(n_img, h * w))
        else:
            _gather_pixels(xb.reshape(n_img, h * w, c), src2, ob.reshape(n_img, h * w, c))
    else:
        _gather_strided(xb, src2, ob)


def apply_src(images: Any, src: Any, *, out: np.ndarray | None = None, channels: Any = None,
              name: str = "images") -> np.ndarray:
    """Gather pixels: ``Y.flat[p] = X.flat[src[p]]`` for every channel.

    Parameters
    ----------
    images : array_like
        ``(H, W)``, ``(H, W, C)``, ``(B, H, W)`` or ``(B, H, W, C)``, any real
        numeric dtype (moved bit for bit), contiguous or not. Float images must
        be finite.
    src : array of int, shape (N,) or (B, N)
        One gather index for all images, or one per image; ``N = H * W``.
    out : ndarray, optional
        Where to write the result: same shape and dtype as ``images``, not
        overlapping them.
    channels : bool, optional
        Resolves a 3-D array: ``True`` for one ``(H, W, C)`` image, ``False``
        for a ``(B, H, W)`` batch.

    Returns
    -------
    ndarray
        Same shape and dtype as ``images`` (``out`` if given).

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> x = np.arange(6, dtype=np.uint8).reshape(2, 3)
    >>> vn.apply_src(x, [5, 4, 3, 2, 1, 0])
    array([[5, 4, 3],
           [2, 1, 0]], dtype=uint8)
    """
    if isinstance(src, (str, bytes)) or src is None:
        raise TypeError(f"src must be an integer array, got {type(src).__name__}")
    src_arr = np.asarray(src)
    if src_arr.ndim not in (1, 2) or src_arr.shape[-1] == 0:
        raise ValueError(f"src must have shape (N,) or (B, N), got shape {src_arr.shape}")
    x4, is_batch = as_image_batch(images, name, n_pixels=src_arr.shape[-1], channels=channels,
                                  allow_any_numeric=True)
    n_img = x4.shape[0]
    src2 = as_index(src_arr, "src", n=x4.shape[1] * x4.shape[2], batch=n_img if src_arr.ndim == 2 else None)
    if src2.ndim == 2 and not is_batch:
        raise ValueError(f"src has shape {src2.shape} (one map per image) but images is a single image")
    src2 = src2.reshape(-1, src2.shape[-1])
    arr = np.asarray(images)
    result = prepare_out(out, arr, is_batch)
    run(x4, src2, batch_view(result, is_batch))
    return result


def key_src(key: Any, inverse: bool) -> tuple[np.ndarray, tuple[int, ...]]:
    """The spatial gather index that encrypts (or decrypts) with ``key``, and its grid."""
    shape = check_key(key).shape
    if inverse:
        check_decryptable(key)
        return key.inverse_src, tuple(shape)
    return key.src, tuple(shape)


# --------------------------------------------------------------------------- element plans

@njit(cache=True, parallel=True)
def _plan_gather(x, src, out):
    """(B, M) units moved as raw bits, no negation; ``src`` (1, M) shared or (B, M)."""
    n_img, m = out.shape
    shared = src.shape[0] == 1
    for b in prange(n_img):
        s = src[0] if shared else src[b]
        xb = x[b]
        ob = out[b]
        for k in range(m):
            ob[k] = xb[s[k]]


@njit(cache=True, parallel=True)
def _plan_gather_xor(x, src, mask, out):
    """uint8 elements: gather, then XOR 255 where negated (== 255 - v)."""
    n_img, m = out.shape
    shared = src.shape[0] == 1
    for b in prange(n_img):
        s = src[0] if shared else src[b]
        mk = mask[0] if shared else mask[b]
        xb = x[b]
        ob = out[b]
        for k in range(m):
            ob[k] = xb[s[k]] ^ mk[k]


@njit(cache=True, parallel=True)
def _plan_gather_float(x, src, neg, one, out):
    """float32/float64 elements: gather, then ``one - v`` where negated (``one`` of the images' dtype)."""
    n_img, m = out.shape
    shared = src.shape[0] == 1
    for b in prange(n_img):
        s = src[0] if shared else src[b]
        nb = neg[0] if shared else neg[b]
        xb = x[b]
        ob = out[b]
        for k in range(m):
            v = xb[s[k]]
            if nb[k]:
                v = one - v
            ob[k] = v


@njit(cache=True, parallel=True)
def _plan_gather_nibbles(x, units, mask, out):
    """uint8 nibbles: output byte k reads units 2k (low) and 2k+1 (high), then XORs 15 / 240 where negated.

    Unit ``u`` is nibble ``u & 1`` of byte ``u >> 1`` of the image.
    """
    n_img, m = out.shape
    shared = units.shape[0] == 1
    for b in prange(n_img):
        u = units[0] if shared else units[b]
        mk = mask[0] if shared else mask[b]
        xb = x[b]
        ob = out[b]
        for k in range(m):
            lo_unit = np.int64(u[2 * k])
            hi_unit = np.int64(u[2 * k + 1])
            lo = (xb[lo_unit >> 1] >> ((lo_unit & 1) << 2)) & 15
            hi = (xb[hi_unit >> 1] >> ((hi_unit & 1) << 2)) & 15
            ob[k] = ((hi << 4) | lo) ^ mk[k]


@njit(cache=True, parallel=True)
def _plan_words_xor(x, src4, mask4, out4):
    """uint8 elements, four at a time: ``src4`` packs four uint16 indices per uint64 (little-endian),
    ``mask4`` four XOR bytes per uint32; ``out4`` is the output viewed as uint32 words."""
    n_img, m4 = out4.shape
    shared = src4.shape[0] == 1
    for b in prange(n_img):
        s4 = src4[0] if shared else src4[b]
        mk = mask4[0] if shared else mask4[b]
        xb = x[b]
        ob = out4[b]
        for k in range(m4):
            s = s4[k]
            v = (np.uint32(xb[s & 0xFFFF]) | (np.uint32(xb[(s >> 16) & 0xFFFF]) << 8)
                 | (np.uint32(xb[(s >> 32) & 0xFFFF]) << 16) | (np.uint32(xb[s >> 48]) << 24))
            ob[k] = v ^ mk[k]


@njit(cache=True, parallel=True)
def _plan_words_nibbles(x, units4, mask4, out4):
    """uint8 nibbles, four output bytes at a time.

    Each image is first split into its nibbles (unit ``2e`` the low half of
    byte ``e``, ``2e + 1`` the high half) in a small scratch row; then output
    byte ``k`` is ``nib[unit 2k] | nib[unit 2k + 1] << 4``. ``units4`` packs
    four uint16 units per uint64 (little-endian), ``mask4`` four XOR bytes
    per uint32, ``out4`` is the output viewed as uint32 words.
    """
    n_img, m4 = out4.shape
    m = x.shape[1]
    shared = units4.shape[0] == 1
    n_chunks = min(n_img, 256)
    for c in prange(n_chunks):
        pairs = np.empty(m, dtype=np.uint16)
        nib = pairs.view(np.uint8)
        for b in range(c * n_img // n_chunks, (c + 1) * n_img // n_chunks):
            xb = x[b]
            for e in range(m):
                v = np.uint16(xb[e])
                pairs[e] = (v & 15) | ((v >> 4) << 8)
            u4 = units4[0] if shared else units4[b]
            mk = mask4[0] if shared else mask4[b]
            ob = out4[b]
            for k in range(m4):
                s0 = u4[2 * k]
                s1 = u4[2 * k + 1]
                w = (np.uint32(nib[s0 & 0xFFFF]) | (np.uint32(nib[(s0 >> 16) & 0xFFFF]) << 4)
                     | (np.uint32(nib[(s0 >> 32) & 0xFFFF]) << 8) | (np.uint32(nib[s0 >> 48]) << 12)
                     | (np.uint32(nib[s1 & 0xFFFF]) << 16) | (np.uint32(nib[(s1 >> 16) & 0xFFFF]) << 20)
                     | (np.uint32(nib[(s1 >> 32) & 0xFFFF]) << 24) | (np.uint32(nib[s1 >> 48]) << 28))
                ob[k] = w ^ mk[k]


def _words_fit(x2: np.ndarray, o2: np.ndarray, n_units: int) -> bool:
    """Whether the four-at-a-time kernels apply: uint8 rows of a multiple of 4, uint16 units, little-endian."""
    return (sys.byteorder == "little" and x2.dtype == np.uint8 and x2.shape[1] % 4 == 0 and n_units <= 1 << 16
            and x2.shape[1] > 0 and o2.flags.c_contiguous)


def _narrow(src2: np.ndarray) -> np.ndarray:
    """The gather index in the narrowest integer type that holds it (so a plan's tables stay in cache)."""
    n = src2.shape[-1]
    kind = np.uint16 if n <= 1 << 16 else np.int32 if n < 1 << 31 else np.int64
    return np.ascontiguousarray(src2, dtype=kind)


_FLOAT_KERNEL_TYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_plan_dtype(unit: str, negates: bool, dtype: Any, name: str = "images") -> None:
    """Refuse a dtype a plan cannot transform exactly (``TypeError`` naming it)."""
    dtype = np.dtype(dtype)
    if unit == "nibble":
        if dtype != np.uint8:
            raise TypeError(f"{name} has dtype {dtype}; this key shuffles 4-bit halves of 8-bit values, so it "
                            "encrypts uint8 images only (convert with (x * 255).round().astype(np.uint8))")
    elif negates and not (dtype == np.uint8 or dtype.kind == "f"):
        raise TypeError(f"{name} has dtype {dtype}; this key negates values (255 - v for uint8, 1 - v for "
                        "floats in [0, 1]), so it encrypts uint8 or float images only")


def _plan_rows(x2, unit, src2, neg2, o2) -> None:
    """Apply a plan to C-contiguous ``(B, M_elements)`` arrays."""
    if unit == "nibble":
        if neg2 is None:
            mask = np.zeros((src2.shape[0], src2.shape[1] // 2), np.uint8)
        else:
            mask = (neg2[:, 0::2].astype(np.uint8) * np.uint8(15)) | (neg2[:, 1::2].astype(np.uint8) * np.uint8(240))
        mask = np.ascontiguousarray(mask)
        if _words_fit(x2, o2, src2.shape[1]):
            units = np.ascontiguousarray(src2, dtype=np.uint16)
            _plan_words_nibbles(x2, units.view(np.uint64), mask.view(np.uint32),
                                o2.view(np.uint32).reshape(o2.shape[0], -1))
            return
        _plan_gather_nibbles(x2, _narrow(src2), mask, o2)
        return
    if _words_fit(x2, o2, src2.shape[1]):
        mask = np.zeros(src2.shape, np.uint8) if neg2 is None else neg2.astype(np.uint8) * np.uint8(255)
        _plan_words_xor(x2, np.ascontiguousarray(src2, dtype=np.uint16).view(np.uint64),
                        np.ascontiguousarray(mask).view(np.uint32), o2.view(np.uint32).reshape(o2.shape[0], -1))
        return
    src2 = _narrow(src2)
    if neg2 is None:
        xb, ob = _as_bits(x2), _as_bits(o2)
        if xb is None:
            for b in range(x2.shape[0]):
                o2[b] = x2[b][src2[0] if src2.shape[0] == 1 else src2[b]]
            return
        _plan_gather(xb, src2, ob)
        return
    if x2.dtype == np.uint8:
        _plan_gather_xor(x2, src2, np.ascontiguousarray(neg2.astype(np.uint8) * np.uint8(255)), o2)
    elif x2.dtype in _FLOAT_KERNEL_TYPES:
        _plan_gather_float(x2, src2, np.ascontiguousarray(neg2), np.ones(1, x2.dtype)[0], o2)
    else:
        # float16 and wider floats: NumPy arithmetic in the images' own dtype
        one = x2.dtype.type(1)
        for b in range(x2.shape[0]):
            r = 0 if src2.shape[0] == 1 else b
            v = x2[b][src2[r]]
            v[neg2[r]] = one - v[neg2[r]]
            o2[b] = v


#: a non-contiguous batch is copied to contiguous chunks of about this many values
_CHUNK_VALUES = 1 << 22


def run_plan(x4: np.ndarray, unit: str, src2: np.ndarray, neg2: np.ndarray | None, o4: np.ndarray) -> None:
    """Apply an element plan to a ``(B, H, W, C)`` batch into ``o4``.

    ``src2`` is ``(1, M)`` (one plan for every image) or ``(B, M)`` (one per
    image); ``neg2`` the matching bool mask or None. Units are elements or,
    for ``unit == "nibble"``, the two nibbles of each uint8 element.
    """
    n_img = x4.shape[0]
    m_el = x4.shape[1] * x4.shape[2] * x4.shape[3]
    shared = src2.shape[0] == 1
    if x4.flags.c_contiguous and o4.flags.c_contiguous:
        _plan_rows(x4.reshape(n_img, m_el), unit, src2, neg2, o4.reshape(n_img, m_el))
        return
    step = max(1, _CHUNK_VALUES // max(1, m_el))
    for a in range(0, n_img, step):
        z = min(n_img, a + step)
        xc = np.ascontiguousarray(x4[a:z]).reshape(z - a, m_el)
        oc = np.empty_like(xc)
        s = src2 if shared else src2[a:z]
        n = neg2 if neg2 is None or shared else neg2[a:z]
        _plan_rows(xc, unit, s, n, oc)
        o4[a:z] = oc.reshape(o4[a:z].shape)


def _check_channels(key, n_channels: int) -> None:
    want = key_channels(key)
    if want is not None and want != n_channels:
        raise ValueError(f"images have {n_channels} channel(s), but this {key.kind} key was built for "
                         f"{want}-channel images (channels={want})")


def apply_plan(images: Any, plan: ElementPlan, *, out: np.ndarray | None = None, channels: Any = None,
               name: str = "images") -> np.ndarray:
    """Apply an :class:`ElementPlan` to images: gather the units, then negate.

    Parameters
    ----------
    images : array_like
        ``(H, W)``, ``(H, W, C)``, ``(B, H, W)`` or ``(B, H, W, C)`` whose
        images hold ``plan.n_units`` units each (``H * W * C`` elements, or
        twice that many nibbles). Nibble plans need uint8, negating plans
        uint8 or float; other plans move any real dtype bit for bit.
    plan : ElementPlan
    out : ndarray, optional
        Output buffer of the same shape and dtype, not overlapping ``images``.
    channels : bool, optional
        Resolves a 3-D array whose reading is ambiguous.

    Returns
    -------
    ndarray
        Same shape and dtype as ``images``.

    Examples
    --------
    >>> import numpy as np
    >>> from vortexnumba.cipher import ElementPlan, apply_plan
    >>> x = np.array([[10, 20]], dtype=np.uint8)
    >>> apply_plan(x, ElementPlan("element", np.array([1, 0]), np.array([True, False])))
    array([[235,  10]], dtype=uint8)
    """
    if not isinstance(plan, ElementPlan):
        raise TypeError(f"plan must be an ElementPlan, got {type(plan).__name__}")
    per_element = 2 if plan.unit == "nibble" else 1
    x4, is_batch = as_image_batch(images, name, channels=channels, allow_any_numeric=True)
    m_el = x4.shape[1] * x4.shape[2] * x4.shape[3]
    if m_el * per_element != plan.n_units:
        raise ValueError(f"{name} has {m_el} values per image ({x4.shape[1]}x{x4.shape[2]}x{x4.shape[3]}), but "
                         f"the plan has {plan.n_units} {plan.unit} units")
    check_plan_dtype(plan.unit, plan.negates, x4.dtype, name)
    result = prepare_out(out, np.asarray(images), is_batch)
    run_plan(x4, plan.unit, plan.src[None], None if plan.negate is None else plan.negate[None],
             batch_view(result, is_batch))
    return result


def _apply_key(images, key, out, channels, inverse):
    if is_spatial(check_key(key)):
        src, shape = key_src(key, inverse)
        x4, is_batch = as_image_batch(images, "images", grid=shape, channels=channels, allow_any_numeric=True)
        arr = np.asarray(images)
        result = prepare_out(out, arr, is_batch)
        run(x4, src.reshape(1, -1), batch_view(result, is_batch))
        return result
    if inverse:
        check_decryptable(key)
    x4, is_batch = as_image_batch(images, "images", grid=tuple(key.shape), channels=channels,
                                  allow_any_numeric=True)
    n_ch = x4.shape[3]
    _check_channels(key, n_ch)
    if not (callable(getattr(key, "element_plan", None)) and callable(getattr(key, "inverse_plan", None))):
        raise TypeError(f"key of type {type(key).__name__} says is_spatial=False but lacks element_plan and "
                        "inverse_plan, so there is nothing to apply")
    plan = key.inverse_plan(n_ch) if inverse else key.element_plan(n_ch)
    m_el = x4.shape[1] * x4.shape[2] * n_ch
    if not isinstance(plan, ElementPlan) or plan.n_units != m_el * (2 if plan.unit == "nibble" else 1):
        raise ValueError(f"key of type {type(key).__name__} gave a plan that does not fit {x4.shape[1]}x"
                         f"{x4.shape[2]}x{n_ch} images (expected an ElementPlan over their values or nibbles)")
    check_plan_dtype(plan.unit, plan.negates, x4.dtype)
    result = prepare_out(out, np.asarray(images), is_batch)
    run_plan(x4, plan.unit, plan.src[None], None if plan.negate is None else plan.negate[None],
             batch_view(result, is_batch))
    return result


def encrypt(images: Any, key: Any, *, out: np.ndarray | None = None, channels: Any = None) -> np.ndarray:
    """Encrypt images with a key: every image, every channel, the same map.

    Parameters
    ----------
    images : array_like
        ``(H, W)``, ``(H, W, C)``, ``(B, H, W)`` or ``(B, H, W, C)`` on the
        key's grid, any real numeric dtype.
    key : Key
        Any key: VortexKey, PermutationKey, BlockKey, IdentityKey (any dtype,
        any channel count), LEKey/ELEKey (uint8 only), EtCKey, PEKey,
        BlockwiseKey (uint8 or float in [0, 1] when they negate; images with
        the key's channel count), or a user's key.
    out : ndarray, optional
        Output buffer of the same shape and dtype.
    channels : bool, optional
        Resolves a 3-D array whose reading is ambiguous.

    Returns
    -------
    ndarray
        The encrypted images, same shape and dtype.

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> key = vn.VortexKey.random((28, 28), seed=0)
    >>> x = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    >>> y = vn.encrypt(x, key)
    >>> bool((vn.decrypt(y, key) == x).all())
    True
    """
    return _apply_key(images, key, out, channels, inverse=False)


def decrypt(images: Any, key: Any, *, out: np.ndarray | None = None, channels: Any = None) -> np.ndarray:
    """Undo :func:`encrypt` (bijective keys only).

    Exact on every dtype for keys that only move data; for keys that negate
    float images, within one rounding of ``1 - (1 - x)`` (at most
    ``np.finfo(dtype).eps``); uint8 inverts bit for bit.

    Raises
    ------
    ValueError
        For a ``mode="paper"`` key, whose map is lossy and has no inverse.

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> key = vn.PermutationKey.random((4, 4), seed=0)
    >>> x = np.arange(16.0).reshape(4, 4)
    >>> bool((vn.decrypt(vn.encrypt(x, key), key) == x).all())
    True
    """
    return _apply_key(images, key, out, channels, inverse=True)
