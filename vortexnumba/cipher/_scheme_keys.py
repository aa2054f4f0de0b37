"""The field's learnable encryptions: LE, ELE, EtC, PE and block-wise keys.

Unlike the spatial keys these change values (negation) or move parts of
pixels (single channels, 4-bit halves), so each one builds an
:class:`~vortexnumba.cipher._plan.ElementPlan` -- a gather over the image's
elements or nibbles and a negation mask -- that :mod:`._gather` applies. Each
key is built for one grid and one channel count.

Conventions (every permutation attribute is a *gather*: output slot ``i``
comes from input slot ``perm[i]``):

- blocks are numbered in row-major order over the block grid;
  ``block_perm[b]`` is the source block position of output block position ``b``;
- LE/ELE flatten a block in (row, column, channel) order into ``d = M*M*C``
  bytes and work on ``v``: the ``d`` low nibbles, then the ``d`` high nibbles;
  the flip set of a permutation ``k`` is ``F = {i : k[i] > d}``;
- EtC's per-block parameters are indexed by the *source* block position;
  rotation ``r`` is ``np.rot90(block, k=r)``, flip 1 is up-down, 2 is
  left-right (after the rotation), then the negation, then the channel gather;
- PE negates per (pixel, channel) first, then gathers the pixel's channels;
- block-wise flattens a block in (channel, row, column) order into
  ``d = C*p*p`` slots: ``pixel_perm`` gathers slots, ``negate_slots[i]``
  negates output slot ``i``, then ``block_perm`` moves whole blocks.

Random draws (``numpy.random.default_rng(seed)``, in this order)
------------------------------------------------------------------
- LE: ``perm = rng.permutation(2d)``.
- ELE: ``perms = rng.permuted(tile(arange(2d), (n_blocks, 1)), axis=1)``, then
  ``block_perm = rng.permutation(n_blocks)``.
- EtC: ``block_perm = rng.permutation(n)``, ``rotation = rng.integers(0, 4, n)``,
  ``flip = rng.integers(0, 3, n)``, the negated blocks ``rng.permutation(n)[:n // 2]``,
  ``channel_perm = rng.permuted(tile(arange(C), (n, 1)), axis=1)``.
- PE: ``negate = rng.integers(0, 2, (H, W, C)) == 1``, then for ``C <= 6``
  ``channel_perm = orders[rng.integers(0, C!, (H, W))]`` with ``orders`` the
  ``C!`` permutations in lexicographic order (``itertools.permutations``);
  for more channels ``rng.permuted(tile(arange(C), (H, W, 1)), axis=2)``.
- Block-wise: ``pixel_perm = rng.permutation(d)``; with ``negate=True`` the
  negated slots ``rng.permutation(d)[:d // 2]``; with ``shuffle_blocks=True``
  ``block_perm = rng.permutation(n_blocks)``.
"""

from __future__ import annotations

import base64
import binascii
import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

from .._validate import as_int, as_seed, plain_list
from . import _vortex
from ._baseline_keys import check_perm
from ._keybase import KeyBase, build_key, get_field, key_grid, parse_key_doc, read_only, warn_if_identity
from ._limits import MAX_CHANNELS, check_plan_units
from ._plan import ElementPlan, inverse_plan, plan_sha256, tracking_src

__all__ = ["BlockwiseKey", "ELEKey", "EtCKey", "LEKey", "PEKey", "SCHEME_CLASSES", "SchemeKey", "block_elements",
           "channel_permutations", "encode_array", "pe_draw", "pe_plan_arrays"]


# --------------------------------------------------------------------------- helpers

def _channels(value, name: str = "channels") -> int:
    c = as_int(value, name)
    if not 1 <= c <= MAX_CHANNELS:
        raise ValueError(f"{name} must lie in 1..{MAX_CHANNELS}, got {c}")
    return c


def _block_size(shape, block, kind: str) -> int:
    b = as_int(block, "block")
    if b < 1:
        raise ValueError(f"block must be >= 1, got {b}")
    h, w = shape
    if h % b or w % b:
        divisors = [d for d in range(1, min(h, w) + 1) if h % d == 0 and w % d == 0]
        raise ValueError(f"block = {b} does not divide the {h}x{w} grid ({kind} keys cut the image into "
                         f"{b}x{b} blocks); choose a grid divisible by it or one of the blocks {divisors}")
    return b


def block_elements(shape: Any, block: int, channels: int, order: str) -> np.ndarray:
    """Flat ``(H, W, C)`` element indices of every block, ``(n_blocks, M*M*C)``.

    ``order`` is ``"rcc"`` (row, column, channel: LE, ELE) or ``"crc"``
    (channel, row, column: block-wise). Blocks in row-major order.

    Examples
    --------
    >>> from vortexnumba.cipher._scheme_keys import block_elements
    >>> block_elements((2, 4), 2, 1, "rcc").tolist()
    [[0, 1, 4, 5], [2, 3, 6, 7]]
    """
    h, w = shape
    m, c = block, channels
    idx = np.arange(h * w * c, dtype=np.int64).reshape(h // m, m, w // m, m, c).transpose(0, 2, 1, 3, 4)
    n = (h // m) * (w // m)
    if order == "rcc":
        return np.ascontiguousarray(idx.reshape(n, m * m * c))
    return np.ascontiguousarray(idx.transpose(0, 1, 4, 2, 3).reshape(n, c * m * m))


def _as_array(values, name: str, shape: tuple, kind: str) -> np.ndarray:
    """A private read-only copy of ``values`` as an array of ``shape`` (``kind`` "int" or "bool")."""
    if values is None or isinstance(values, (str, bytes, dict)):
        raise TypeError(f"{name} must be an array of shape {shape}, got {type(values).__name__}")
    try:
        arr = np.array(values)
    except (ValueError, TypeError):
        raise ValueError(f"{name} must be an array of shape {shape} (ragged or mixed values given)") from None
    ok_kind = arr.dtype.kind in "iu" if kind == "int" else arr.dtype.kind == "b"
    if arr.shape != tuple(shape) or not ok_kind:
        want = "ints" if kind == "int" else "bools"
        raise ValueError(f"{name} must be an array of shape {shape} of {want}, got shape {arr.shape} and "
                         f"dtype {arr.dtype}")
    return read_only(np.array(arr, dtype=np.int64 if kind == "int" else np.bool_, copy=True))


def _rows_are_perms(arr: np.ndarray, name: str) -> None:
    n = arr.shape[-1]
    flat = arr.reshape(-1, n)
    if not flat.size:
        return
    if flat.min() < 0 or flat.max() >= n:
        raise ValueError(f"every row of {name} must hold each index 0..{n - 1} exactly once")
    seen = np.zeros(flat.shape, dtype=np.bool_)
    seen[np.arange(flat.shape[0])[:, None], flat] = True
    if not seen.all():
        raise ValueError(f"every row of {name} must hold each index 0..{n - 1} exactly once")


#: arrays with more entries than this are written packed (base64 of little-endian bytes), not as lists
PACK_ABOVE = 4096
_PACKED_TYPES = {"uint8": "<u1", "uint16": "<u2", "uint32": "<u4", "bool": "<u1"}


def encode_array(arr: np.ndarray) -> list | dict:
    """The JSON value of a key array: a list, or for a large one ``{"dtype", "shape", "base64"}``.

    Examples
    --------
    >>> import numpy as np
    >>> from vortexnumba.cipher._scheme_keys import encode_array
    >>> encode_array(np.array([2, 0, 1]))
    [2, 0, 1]
    """
    if arr.size <= PACK_ABOVE:
        return arr.tolist()
    if arr.dtype == np.bool_:
        name = "bool"
    else:
        top = int(arr.max()) if arr.size else 0
        name = "uint8" if top < 1 << 8 else "uint16" if top < 1 << 16 else "uint32"
    data = np.ascontiguousarray(arr, dtype=_PACKED_TYPES[name]).tobytes()
    return {"dtype": name, "shape": list(arr.shape), "base64": base64.b64encode(data).decode("ascii")}


def _decode_packed(value: dict, where: str, shape: tuple, kind: str) -> np.ndarray:
    if set(value) != {"dtype", "shape", "base64"}:
        raise ValueError(f"{where} must be a list or an object with 'dtype', 'shape' and 'base64'")
    name, declared, data = value["dtype"], value["shape"], value["base64"]
    allowed = ("bool",) if kind == "bool" else ("uint8", "uint16", "uint32")
    if name not in allowed:
        raise ValueError(f"{where} has packed dtype {name!r}, expected one of {plain_list(allowed)}")
    if declared != list(shape):
        raise ValueError(f"{where} has shape {declared!r}, expected {list(shape)}")
    itemsize = np.dtype(_PACKED_TYPES[name]).itemsize
    n_bytes = math.prod(shape) * itemsize
    if not isinstance(data, str) or len(data) != 4 * ((n_bytes + 2) // 3):
        raise ValueError(f"{where} must hold {n_bytes} bytes in base64 (truncated?)")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{where} is not valid base64") from None
    arr = np.frombuffer(raw, dtype=_PACKED_TYPES[name]).reshape(shape)
    if kind == "bool":
        if arr.size and arr.max() > 1:
            raise ValueError(f"{where} must hold 0/1 values")
        return arr.astype(np.bool_)
    return arr.astype(np.int64)


def _doc_array(doc, name: str, shape: tuple, kind: str):
    if name not in doc:
        raise ValueError(f"key lacks the field {name!r}")
    value = doc[name]
    where = f"key field {name!r}"
    if isinstance(value, dict):
        value = _decode_packed(value, where, shape, kind)
    elif not isinstance(value, list):
        raise ValueError(f"{where} must be a list or a packed array, got {value!r:.40}")
    try:
        return _as_array(value, where, shape, kind)
    except TypeError as exc:
        raise ValueError(str(exc)) from None


def _scatter(units: np.ndarray, src_units: np.ndarray, neg, n_units: int) -> tuple:
    """Plan arrays from per-block tables: output unit ``units[...]`` reads ``src_units[...]``."""
    src = np.empty(n_units, dtype=np.int64)
    src[units.reshape(-1)] = src_units.reshape(-1)
    negate = None
    if neg is not None:
        negate = np.zeros(n_units, dtype=np.bool_)
        negate[units.reshape(-1)] = np.broadcast_to(neg, units.shape).reshape(-1)
    return src, negate


def _eq_fields(a, b, names) -> bool:
    if type(a) is not type(b):
        return False
    for n in names:
        x, y = getattr(a, n), getattr(b, n)
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            if x is None or y is None or not np.array_equal(x, y):
                return False
        elif x != y:
            return False
    return True


class SchemeKey(KeyBase):
    """What the value-changing keys share: a cached element plan, its inverse and digest."""

    is_spatial = False
    _unit = "element"
    _fields: tuple = ()

    def __eq__(self, other):
        return _eq_fields(self, other, self._fields)

    __hash__ = None

    @property
    def n_units(self) -> int:
        return self.shape[0] * self.shape[1] * self.channels * (2 if self._unit == "nibble" else 1)

    @functools.cached_property
    def plan(self) -> ElementPlan:
        """The encrypting :class:`ElementPlan` for the key's own channel count."""
        src, negate = self._build_plan()
        return ElementPlan(self._unit, src, negate)

    @functools.cached_property
    def _inverse(self) -> ElementPlan:
        return inverse_plan(self.plan)

    def _plan_for(self, channels) -> None:
        c = as_int(channels, "channels")
        if c != self.channels:
            raise ValueError(f"images have {c} channel(s), but this {self.kind} key was built for "
                             f"{self.channels}-channel images (channels={self.channels})")

    def element_plan(self, channels: int) -> ElementPlan:
        """The plan that encrypts; ``channels`` must be the key's own (``ValueError`` naming both)."""
        self._plan_for(channels)
        return self.plan

    def inverse_plan(self, channels: int) -> ElementPlan:
        """The plan that decrypts; ``channels`` must be the key's own."""
        self._plan_for(channels)
        return self._inverse

    def _build_src(self):
        return tracking_src(self.plan, self.channels)

    @functools.cached_property
    def inverse_src(self) -> np.ndarray:
        """Inverse of the pixel tracking map, where that map is a permutation (``ValueError`` otherwise)."""
        if not _vortex.is_permutation(self.src):
            raise ValueError(f"this {self.kind} key mixes values of several pixels, so its pixel tracking map "
                             "src is not a permutation and has no inverse; decrypt() uses its inverse_plan")
        return read_only(_vortex.inverse(self.src))

    @functools.cached_property
    def digest(self) -> str:
        return plan_sha256(self.plan)

    @functools.cached_property
    def moved_fraction(self) -> float:
        """Share of units the key moves or negates (0 for a key that changes nothing)."""
        plan = self.plan
        changed = plan.src != np.arange(plan.n_units)
        if plan.negate is not None:
            changed |= plan.negate
        return float(np.count_nonzero(changed)) / plan.n_units

    @classmethod
    def from_json(cls, text: str | bytes) -> Any:
        """Read a key written by ``to_json``; ``ValueError`` if damaged, of another kind or altered."""
        return cls.from_doc(parse_key_doc(text, cls.kind))

    @classmethod
    def _common(cls, doc) -> tuple:
        shape = tuple(doc["shape"])
        channels = get_field(doc, "channels", int)
        if isinstance(channels, bool) or not 1 <= channels <= MAX_CHANNELS:
            raise ValueError(f"key field 'channels' must lie in 1..{MAX_CHANNELS}, got {channels!r}")
        return shape, channels

    @classmethod
    def _doc_block(cls, doc, shape) -> int:
        block = get_field(doc, "block", int)
        if isinstance(block, bool) or block < 1 or shape[0] % block or shape[1] % block:
            raise ValueError(f"key field 'block' = {block!r} does not divide the grid {shape}")
        return block


@njit(cache=True)
def _le_plan(elements, perms, shared, block_perm, src, neg):
    """Fill an LE/ELE plan: output block ``b`` is source block ``block_perm[b]`` under its LE permutation.

    Slot ``s`` of a block is nibble ``s // d`` (0 low, 1 high) of its byte
    ``s % d``; its flip set is ``perms[.][s] > d``.
    """
    n, d = elements.shape
    for b in range(n):
        bp = block_perm[b]
        k = perms[0] if shared else perms[bp]
        for i in range(2 * d):
            ki = k[i]
            out_unit = 2 * elements[b, i % d] + i // d
            src[out_unit] = 2 * elements[bp, ki % d] + ki // d
            neg[out_unit] = (k[i] > d) != (k[ki] > d)


def _le_tables(shape, block, channels, perms, block_perm):
    """Plan arrays of LE blocks (``perms`` of one row: one key shared by every block)."""
    elements = block_elements(shape, block, channels, "rcc")
    n_units = 2 * shape[0] * shape[1] * channels
    src = np.empty(n_units, dtype=np.int64)
    neg = np.empty(n_units, dtype=np.bool_)
    _le_plan(elements, np.ascontiguousarray(perms, dtype=np.int64), perms.shape[0] == 1,
             np.ascontiguousarray(block_perm, dtype=np.int64), src, neg)
    return src, neg


# --------------------------------------------------------------------------- LE

@dataclass(frozen=True, eq=False)
class LEKey(SchemeKey):
    """Learnable image encryption (Tanaka 2018): one nibble shuffle with negation for every block.

    Parameters
    ----------
    shape : (int, int)
        Grid ``(H, W)``; both divisible by ``block``.
    block : int
        Block side ``M``.
    channels : int
        ``C``; a block holds ``d = M*M*C`` bytes, ``2d`` nibbles.
    perm : array of int, shape (2d,)
        The permutation ``k`` (a gather over the nibble slots); its flip set
        ``F = {i : k[i] > d}`` is negated before and after the gather.

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> key = vn.LEKey.random((8, 8), block=4, channels=3, seed=0)
    >>> key.perm.shape, int((key.perm > 48).sum())
    ((96,), 47)
    >>> x = np.random.default_rng(0).integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)
    >>> bool((vn.decrypt(vn.encrypt(x, key), key) == x).all())
    True

    References
    ----------
    .. [1] M. Tanaka, "Learnable image encryption", IEEE ICCE-TW 2018.
    """

    shape: tuple
    block: int
    channels: int
    perm: np.ndarray

    kind = "le"
    _unit = "nibble"
    _fields = ("shape", "block", "channels", "perm")

    def __post_init__(self):
        shape = key_grid(self.shape, "shape")
        block = _block_size(shape, self.block, "le")
        channels = _channels(self.channels)
        check_plan_units(shape, channels, 2, "le")
        d = block * block * channels
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "block", block)
        object.__setattr__(self, "channels", channels)
        object.__setattr__(self, "perm", check_perm(self.perm, 2 * d, "perm"))

    @property
    def flip(self) -> np.ndarray:
        """The flip set as a mask: ``perm > d`` (d - 1 of the 2d slots)."""
        return self.perm > self.block * self.block * self.channels

    @classmethod
    def random(cls, shape: Any, block: int = 4, channels: int = 1, seed: Any = None) -> LEKey:
        """Draw ``perm = default_rng(seed).permutation(2 * block * block * channels)``."""
        h, w = key_grid(shape, "shape")
        block = _block_size((h, w), block, "le")
        channels = _channels(channels)
        rng = np.random.default_rng(as_seed(seed))
        return warn_if_identity(cls((h, w), block, channels, rng.permutation(2 * block * block * channels)))

    def _build_plan(self):
        n_blocks = (self.shape[0] // self.block) * (self.shape[1] // self.block)
        return _le_tables(self.shape, self.block, self.channels, self.perm[None], np.arange(n_blocks))

    def _payload(self):
        return {"channels": self.channels, "block": self.block, "perm": encode_array(self.perm)}

    @classmethod
    def from_doc(cls, doc: dict) -> LEKey:
        shape, channels = cls._common(doc)
        block = cls._doc_block(doc, shape)
        check_plan_units(shape, channels, 2, "key")
        perm = _doc_array(doc, "perm", (2 * block * block * channels,), "int")
        return build_key(cls, doc, shape=shape, block=block, channels=channels, perm=perm)


# --------------------------------------------------------------------------- ELE

@dataclass(frozen=True, eq=False)
class ELEKey(SchemeKey):
    """Extended learnable encryption (Madono et al. 2020): an LE key per block, then a block shuffle.

    Parameters
    ----------
    shape, block, channels
        As for :class:`LEKey`.
    perms : array of int, shape (n_blocks, 2d)
        Row ``b``: the LE permutation applied to the block at position ``b``.
    block_perm : array of int, shape (n_blocks,)
        Output block ``b`` is the (LE-encrypted) block from position ``block_perm[b]``.

    Examples
    --------
    >>> import vortexnumba as vn
    >>> key = vn.ELEKey.random((8, 8), block=4, channels=1, seed=0)
    >>> key.perms.shape, key.block_perm.shape
    ((4, 32), (4,))
    """

    shape: tuple
    block: int
    channels: int
    perms: np.ndarray
    block_perm: np.ndarray

    kind = "ele"
    _unit = "nibble"
    _fields = ("shape", "block", "channels", "perms", "block_perm")

    def __post_init__(self):
        shape = key_grid(self.shape, "shape")
        block = _block_size(shape, self.block, "ele")
        channels = _channels(self.channels)
        check_plan_units(shape, channels, 2, "ele")
        n_blocks = (shape[0] // block) * (shape[1] // block)
        d = block * block * channels
        perms = _as_array(self.perms, "perms", (n_blocks, 2 * d), "int")
        _rows_are_perms(perms, "perms")
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "block", block)
        object.__setattr__(self, "channels", channels)
        object.__setattr__(self, "perms", perms)
        object.__setattr__(self, "block_perm", check_perm(self.block_perm, n_blocks, "block_perm"))

    @classmethod
    def random(cls, shape: Any, block: int = 4, channels: int = 1, seed: Any = None) -> ELEKey:
        """Draw a fresh LE permutation per block, then the block permutation (module docstring)."""
        h, w = key_grid(shape, "shape")
        block = _block_size((h, w), block, "ele")
        channels = _channels(channels)
        check_plan_units((h, w), channels, 2, "ele")
        n_blocks = (h // block) * (w // block)
        rng = np.random.default_rng(as_seed(seed))
        d2 = 2 * block * block * channels
        perms = rng.permuted(np.tile(np.arange(d2), (n_blocks, 1)), axis=1)
        return warn_if_identity(cls((h, w), block, channels, perms, rng.permutation(n_blocks)))

    def _build_plan(self):
        return _le_tables(self.shape, self.block, self.channels, self.perms, self.block_perm)

    def _payload(self):
        return {"channels": self.channels, "block": self.block, "perms": encode_array(self.perms),
                "block_perm": encode_array(self.block_perm)}

    @classmethod
    def from_doc(cls, doc: dict) -> ELEKey:
        shape, channels = cls._common(doc)
        block = cls._doc_block(doc, shape)
        check_plan_units(shape, channels, 2, "key")
        n_blocks = (shape[0] // block) * (shape[1] // block)
        perms = _doc_array(doc, "perms", (n_blocks, 2 * block * block * channels), "int")
        block_perm = _doc_array(doc, "block_perm", (n_blocks,), "int")
        return build_key(cls, doc, shape=shape, block=block, channels=channels, perms=perms,
                         block_perm=block_perm)


# --------------------------------------------------------------------------- EtC

@dataclass(frozen=True, eq=False)
class EtCKey(SchemeKey):
    """Encryption-then-compression block scrambling (Kurihara, Chuman, Kiya).

    Per source block: rotation, flip, negative-positive, colour-channel
    shuffle; then the blocks are moved by ``block_perm``.

    Parameters
    ----------
    shape, block, channels
        Grid, block side ``M`` (dividing H and W) and channel count ``C``.
    block_perm : array of int, shape (n_blocks,)
        Output block ``b`` shows source block ``block_perm[b]``.
    rotation : array of int in 0..3, shape (n_blocks,)
        ``np.rot90(block, k=rotation[b])`` of source block ``b``.
    flip : array of int in 0..2, shape (n_blocks,)
        0 none, 1 up-down, 2 left-right, after the rotation.
    negate : array of bool, shape (n_blocks,)
        ``255 - v`` (``1 - v`` for floats) on every element of the block.
    channel_perm : array of int, shape (n_blocks, C)
        A permutation of the channels per block (a gather: ``out[..., c] = in[..., perm[c]]``).

    Examples
    --------
    >>> import vortexnumba as vn
    >>> key = vn.EtCKey.random((8, 8), block=4, channels=3, seed=0)
    >>> int(key.negate.sum()), key.channel_perm.shape
    (2, (4, 3))
    """

    shape: tuple
    block: int
    channels: int
    block_perm: np.ndarray
    rotation: np.ndarray
    flip: np.ndarray
    negate: np.ndarray
    channel_perm: np.ndarray

    kind = "etc"
    _fields = ("shape", "block", "channels", "block_perm", "rotation", "flip", "negate", "channel_perm")

    def __post_init__(self):
        shape = key_grid(self.shape, "shape")
        block = _block_size(shape, self.block, "etc")
        channels = _channels(self.channels)
        check_plan_units(shape, channels, 1, "etc")
        n = (shape[0] // block) * (shape[1] // block)
        rotation = _as_array(self.rotation, "rotation", (n,), "int")
        if rotation.size and (rotation.min() < 0 or rotation.max() > 3):
            raise ValueError("rotation must hold values in 0..3 (quarter turns)")
        flip = _as_array(self.flip, "flip", (n,), "int")
        if flip.size and (flip.min() < 0 or flip.max() > 2):
            raise ValueError("flip must hold values in 0..2 (none, up-down, left-right)")
        channel_perm = _as_array(self.channel_perm, "channel_perm", (n, channels), "int")
        _rows_are_perms(channel_perm, "channel_perm")
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "block", block)
        object.__setattr__(self, "channels", channels)
        object.__setattr__(self, "block_perm", check_perm(self.block_perm, n, "block_perm"))
        object.__setattr__(self, "rotation", rotation)
        object.__setattr__(self, "flip", flip)
        object.__setattr__(self, "negate", _as_array(self.negate, "negate", (n,), "bool"))
        object.__setattr__(self, "channel_perm", channel_perm)

    @classmethod
    def random(cls, shape: Any, block: int = 4, channels: int = 1, seed: Any = None) -> EtCKey:
        """Draw every parameter as the module docstring says; floor(n_blocks / 2) blocks negated."""
        h, w = key_grid(shape, "shape")
        block = _block_size((h, w), block, "etc")
        channels = _channels(channels)
        check_plan_units((h, w), channels, 1, "etc")
        n = (h // block) * (w // block)
        rng = np.random.default_rng(as_seed(seed))
        block_perm = rng.permutation(n)
        rotation = rng.integers(0, 4, n)
        flip = rng.integers(0, 3, n)
        negate = np.zeros(n, dtype=np.bool_)
        negate[rng.permutation(n)[: n // 2]] = True
        channel_perm = rng.permuted(np.tile(np.arange(channels), (n, 1)), axis=1)
        return warn_if_identity(cls((h, w), block, channels, block_perm, rotation, flip, negate, channel_perm))

    def _build_plan(self):
        h, w = self.shape
        m, c = self.block, self.channels
        nbh, nbw = h // m, w // m
        blocks = np.arange(h * w * c, dtype=np.int64).reshape(nbh, m, nbw, m, c).transpose(0, 2, 1, 3, 4)
        blocks = blocks.reshape(nbh * nbw, m, m, c).copy()
        for r in (1, 2, 3):
            sel = self.rotation == r
            blocks[sel] = np.rot90(blocks[sel], k=r, axes=(1, 2))
        sel = self.flip == 1
        blocks[sel] = blocks[sel][:, ::-1]
        sel = self.flip == 2
        blocks[sel] = blocks[sel][:, :, ::-1]
        blocks = np.take_along_axis(blocks, self.channel_perm[:, None, None, :], axis=3)
        moved = blocks[self.block_perm]
        src = moved.reshape(nbh, nbw, m, m, c).transpose(0, 2, 1, 3, 4).reshape(-1)
        neg = np.broadcast_to(self.negate[self.block_perm][:, None, None, None], moved.shape)
        neg = neg.reshape(nbh, nbw, m, m, c).transpose(0, 2, 1, 3, 4).reshape(-1)
        return np.ascontiguousarray(src), np.ascontiguousarray(neg)

    def _payload(self):
        return {"channels": self.channels, "block": self.block, "block_perm": encode_array(self.block_perm),
                "rotation": encode_array(self.rotation), "flip": encode_array(self.flip),
                "negate": encode_array(self.negate), "channel_perm": encode_array(self.channel_perm)}

    @classmethod
    def from_doc(cls, doc: dict) -> EtCKey:
        shape, channels = cls._common(doc)
        block = cls._doc_block(doc, shape)
        check_plan_units(shape, channels, 1, "key")
        n = (shape[0] // block) * (shape[1] // block)
        arrays = {name: _doc_array(doc, name, (n,), kind) for name, kind in
                  (("block_perm", "int"), ("rotation", "int"), ("flip", "int"), ("negate", "bool"))}
        arrays["channel_perm"] = _doc_array(doc, "channel_perm", (n, channels), "int")
        return build_key(cls, doc, shape=shape, block=block, channels=channels, **arrays)


# --------------------------------------------------------------------------- PE

@dataclass(frozen=True, eq=False)
class PEKey(SchemeKey):
    """Pixel-based encryption (Sirichotedumrong, Kinoshita, Kiya 2019): negation and channel shuffle per pixel.

    No pixel moves. Each (pixel, channel) value is negated where ``negate``
    says, then the pixel's channels are gathered by ``channel_perm``.

    Parameters
    ----------
    shape : (int, int)
    channels : int
    negate : array of bool, shape (H, W, C)
        Indexed by the input channel.
    channel_perm : array of int, shape (H, W, C)
        A permutation of the channels per pixel: ``out[i, j, c] = in[i, j, channel_perm[i, j, c]]``.

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> key = vn.PEKey.random((4, 4), channels=3, seed=0)
    >>> x = np.full((4, 4, 3), 10, dtype=np.uint8)
    >>> sorted(set(vn.encrypt(x, key).ravel().tolist()))
    [10, 245]
    """

    shape: tuple
    channels: int
    negate: np.ndarray
    channel_perm: np.ndarray

    kind = "pe"
    _fields = ("shape", "channels", "negate", "channel_perm")

    def __post_init__(self):
        shape = key_grid(self.shape, "shape")
        channels = _channels(self.channels)
        check_plan_units(shape, channels, 1, "pe")
        full = (shape[0], shape[1], channels)
        channel_perm = _as_array(self.channel_perm, "channel_perm", full, "int")
        _rows_are_perms(channel_perm, "channel_perm")
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "channels", channels)
        object.__setattr__(self, "negate", _as_array(self.negate, "negate", full, "bool"))
        object.__setattr__(self, "channel_perm", channel_perm)

    @classmethod
    def random(cls, shape: Any, channels: int = 1, seed: Any = None) -> PEKey:
        """Negation bits with probability 1/2, then one channel permutation per pixel (module docstring)."""
        h, w = key_grid(shape, "shape")
        channels = _channels(channels)
        check_plan_units((h, w), channels, 1, "pe")
        rng = np.random.default_rng(as_seed(seed))
        return warn_if_identity(cls((h, w), channels, *pe_draw(rng, h, w, channels)))

    def _build_plan(self):
        return pe_plan_arrays(self.negate, self.channel_perm)

    def _payload(self):
        return {"channels": self.channels, "negate": encode_array(self.negate.reshape(-1)),
                "channel_perm": encode_array(self.channel_perm.reshape(-1))}

    @classmethod
    def from_doc(cls, doc: dict) -> PEKey:
        shape, channels = cls._common(doc)
        check_plan_units(shape, channels, 1, "key")
        n = shape[0] * shape[1] * channels
        full = (shape[0], shape[1], channels)
        negate = _doc_array(doc, "negate", (n,), "bool").reshape(full)
        channel_perm = _doc_array(doc, "channel_perm", (n,), "int").reshape(full)
        return build_key(cls, doc, shape=shape, channels=channels, negate=negate, channel_perm=channel_perm)


def pe_plan_arrays(negate: np.ndarray, channel_perm: np.ndarray) -> tuple:
    """``(src, negate)`` of the element plan of PE parameters, both ``(H, W, C)`` arrays."""
    h, w, c = channel_perm.shape
    base = (np.arange(h * w, dtype=np.int64) * c).reshape(h, w, 1)
    src = (base + channel_perm).reshape(-1)
    # the negation is applied before the shuffle, so output element m carries the flag of its source
    return src, negate.reshape(-1)[src]


@functools.lru_cache(maxsize=8)
def _all_orders(c: int) -> np.ndarray:
    """Every permutation of ``range(c)`` in lexicographic order, ``(c!, c)``."""
    import itertools

    return np.array(list(itertools.permutations(range(c))), dtype=np.int64).reshape(-1, c)


#: up to this many channels PE draws one of the C! orders per pixel; beyond, a shuffle per pixel
_PE_TABLE_CHANNELS = 6


def pe_draw(rng: np.random.Generator, h: int, w: int, c: int) -> tuple:
    """PE parameters ``(negate, channel_perm)`` drawn from ``rng`` (the order of the module docstring)."""
    negate = rng.integers(0, 2, (h, w, c)) == 1
    if c <= _PE_TABLE_CHANNELS:
        channel_perm = _all_orders(c)[rng.integers(0, math.factorial(c), (h, w))]
    else:
        channel_perm = rng.permuted(np.tile(np.arange(c), (h, w, 1)), axis=2)
    return negate, channel_perm


# --------------------------------------------------------------------------- block-wise

@dataclass(frozen=True, eq=False)
class BlockwiseKey(SchemeKey):
    """Block-wise encryption (AprilPyone and Kiya 2021; Kiya et al. 2023 for vision transformers).

    Every ``p x p`` block is flattened in (channel, row, column) order into
    ``d = C*p*p`` slots; one shared ``pixel_perm`` gathers the slots, the
    slots of ``negate_slots`` are negated, and ``block_perm`` (if any) moves
    whole blocks. With ``p`` equal to a ViT's patch size, the model itself
    can be transformed to accept the encrypted images.

    Parameters
    ----------
    shape, block, channels
        Grid, block side ``p`` and channel count ``C``.
    pixel_perm : array of int, shape (d,)
    negate_slots : array of bool, shape (d,)
        All False for a key without negation.
    block_perm : array of int, shape (n_blocks,), or None
        None: blocks stay where they are.

    Examples
    --------
    >>> import vortexnumba as vn
    >>> key = vn.BlockwiseKey.random((8, 8), block=4, channels=3, negate=True, seed=0)
    >>> key.pixel_perm.shape, int(key.negate_slots.sum()), key.block_perm.shape
    ((48,), 24, (4,))
    """

    shape: tuple
    block: int
    channels: int
    pixel_perm: np.ndarray
    negate_slots: np.ndarray | None = None
    block_perm: np.ndarray | None = None

    kind = "blockwise"
    _fields = ("shape", "block", "channels", "pixel_perm", "negate_slots", "block_perm")

    def __post_init__(self):
        shape = key_grid(self.shape, "shape")
        block = _block_size(shape, self.block, "blockwise")
        channels = _channels(self.channels)
        check_plan_units(shape, channels, 1, "blockwise")
        d = channels * block * block
        n = (shape[0] // block) * (shape[1] // block)
        negate_slots = np.zeros(d, np.bool_) if self.negate_slots is None else self.negate_slots
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "block", block)
        object.__setattr__(self, "channels", channels)
        object.__setattr__(self, "pixel_perm", check_perm(self.pixel_perm, d, "pixel_perm"))
        object.__setattr__(self, "negate_slots", _as_array(negate_slots, "negate_slots", (d,), "bool"))
        if self.block_perm is not None:
            object.__setattr__(self, "block_perm", check_perm(self.block_perm, n, "block_perm"))

    @property
    def negates(self) -> bool:
        """Whether any slot is negated."""
        return bool(self.negate_slots.any())

    @classmethod
    def random(cls, shape: Any, block: int = 4, channels: int = 1, negate: bool = False, shuffle_blocks: bool = True,
               seed: Any = None) -> BlockwiseKey:
        """Draw the slot shuffle, then (``negate``) half the slots, then (``shuffle_blocks``) the block order."""
        h, w = key_grid(shape, "shape")
        block = _block_size((h, w), block, "blockwise")
        channels = _channels(channels)
        if not isinstance(negate, (bool, np.bool_)):
            raise TypeError(f"negate must be True or False, got {negate!r}")
        if not isinstance(shuffle_blocks, (bool, np.bool_)):
            raise TypeError(f"shuffle_blocks must be True or False, got {shuffle_blocks!r}")
        d = channels * block * block
        n = (h // block) * (w // block)
        rng = np.random.default_rng(as_seed(seed))
        pixel_perm = rng.permutation(d)
        negate_slots = np.zeros(d, np.bool_)
        if negate:
            negate_slots[rng.permutation(d)[: d // 2]] = True
        block_perm = rng.permutation(n) if shuffle_blocks else None
        return warn_if_identity(cls((h, w), block, channels, pixel_perm, negate_slots, block_perm))

    def _build_plan(self):
        elements = block_elements(self.shape, self.block, self.channels, "crc")
        n = elements.shape[0]
        bp = np.arange(n) if self.block_perm is None else self.block_perm
        src_units = elements[bp][:, self.pixel_perm]
        neg = np.broadcast_to(self.negate_slots, elements.shape) if self.negates else None
        return _scatter(elements, src_units, neg, self.shape[0] * self.shape[1] * self.channels)

    def _payload(self):
        return {"channels": self.channels, "block": self.block, "pixel_perm": encode_array(self.pixel_perm),
                "negate_slots": encode_array(self.negate_slots),
                "block_perm": None if self.block_perm is None else encode_array(self.block_perm)}

    @classmethod
    def from_doc(cls, doc: dict) -> BlockwiseKey:
        shape, channels = cls._common(doc)
        block = cls._doc_block(doc, shape)
        check_plan_units(shape, channels, 1, "key")
        d = channels * block * block
        n = (shape[0] // block) * (shape[1] // block)
        pixel_perm = _doc_array(doc, "pixel_perm", (d,), "int")
        negate_slots = _doc_array(doc, "negate_slots", (d,), "bool")
        if "block_perm" not in doc:
            raise ValueError("key lacks the field 'block_perm' (null for a key that keeps the blocks in place)")
        block_perm = None if doc["block_perm"] is None else _doc_array(doc, "block_perm", (n,), "int")
        return build_key(cls, doc, shape=shape, block=block, channels=channels, pixel_perm=pixel_perm,
                         negate_slots=negate_slots, block_perm=block_perm)


SCHEME_CLASSES = {"le": LEKey, "ele": ELEKey, "etc": EtCKey, "pe": PEKey, "blockwise": BlockwiseKey}


def channel_permutations(channels: int) -> int:
    """``C!``, the number of channel shuffles of a pixel or block."""
    return math.factorial(channels)
