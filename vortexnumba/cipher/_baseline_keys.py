"""The baseline keys: one fixed pixel permutation, block scrambling, the identity.

``PermutationKey`` and ``BlockKey`` store their permutations explicitly in
the JSON (NumPy does not promise that a seeded shuffle stays the same across
releases, so the seed alone would not pin the map down). Their constructors
copy the caller's array; the caller's array is never made read-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validate import as_int, as_int_array, as_seed, plain_list
from . import _vortex
from ._keybase import KeyBase, build_key, get_field, key_grid, parse_key_doc, read_only, warn_if_identity

__all__ = ["BlockKey", "IdentityKey", "PermutationKey", "check_perm", "perm_list"]


def check_perm(values: Any, n: int, name: str) -> np.ndarray:
    if values is None or isinstance(values, (str, bytes, dict)):
        raise TypeError(f"{name} must be a permutation of 0..{n - 1} ({n} ints), got {type(values).__name__}")
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.shape[0] != n or arr.dtype.kind not in "iu":
        raise ValueError(f"{name} must be a permutation of 0..{n - 1} ({n} ints), got shape {arr.shape} "
                         f"and dtype {arr.dtype}")
    if not _vortex.is_permutation(arr):
        raise ValueError(f"{name} must hold every index 0..{n - 1} exactly once")
    # always a private copy: the caller's array stays as it was (writeable, unchanged)
    return read_only(np.array(arr, dtype=np.int64, copy=True))


def perm_list(doc: dict, name: str, n: int) -> np.ndarray:
    values = get_field(doc, name, list)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise ValueError(f"key field {name!r} must hold ints only")
    if len(values) != n:
        raise ValueError(f"key field {name!r} must hold {n} ints, got {len(values)} (truncated?)")
    return as_int_array(values, f"key field {name!r}", minimum=0, maximum=n - 1)  # 10**30: ValueError


@dataclass(frozen=True, eq=False)
class PermutationKey(KeyBase):
    """One fixed random permutation of the pixels, used for every image.

    Parameters
    ----------
    shape : (int, int)
    permutation : array of int, shape (H * W,)
        The gather index itself.

    Examples
    --------
    >>> import vortexnumba as vn
    >>> key = vn.PermutationKey.random((4, 4), seed=1)
    >>> sorted(key.src.tolist()) == list(range(16))
    True
    """

    shape: tuple
    permutation: np.ndarray

    kind = "permutation"
    channels = None

    def __post_init__(self):
        shape = key_grid(self.shape, "shape")
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "permutation", check_perm(self.permutation, shape[0] * shape[1], "permutation"))

    def __eq__(self, other):
        return (type(other) is type(self) and self.shape == other.shape
                and np.array_equal(self.permutation, other.permutation))

    __hash__ = None

    @classmethod
    def random(cls, shape: Any, seed: Any = None) -> PermutationKey:
        """A uniformly random permutation from ``default_rng(seed).permutation(H * W)``."""
        h, w = key_grid(shape, "shape")
        rng = np.random.default_rng(as_seed(seed))
        return warn_if_identity(cls((h, w), rng.permutation(h * w)))

    def _build_src(self):
        return self.permutation.copy()

    def _payload(self):
        return {"src": self.permutation.tolist()}

    @classmethod
    def from_json(cls, text: str | bytes) -> PermutationKey:
        doc = parse_key_doc(text, "permutation")
        shape = tuple(doc["shape"])
        perm = perm_list(doc, "src", shape[0] * shape[1])
        return build_key(cls, doc, shape=shape, permutation=perm)


@dataclass(frozen=True, eq=False)
class BlockKey(KeyBase):
    """A fixed random shuffle of ``block x block`` tiles (block scrambling).

    The grid must be a whole number of blocks in each direction: a partial
    tile at the border could not trade places with a full one, and leaving
    it unscrambled would leak that strip, so such shapes are refused.

    Parameters
    ----------
    shape : (int, int)
    block : int
        Tile side; must divide both H and W.
    order : array of int, shape (H/block * W/block,)
        Output tile ``P`` (row-major over the tile grid) shows input tile ``order[P]``.

    Examples
    --------
    >>> import vortexnumba as vn
    >>> key = vn.BlockKey.random((8, 8), block=4, seed=0)
    >>> key.order.shape
    (4,)
    """

    shape: tuple
    block: int
    order: np.ndarray

    kind = "block"
    channels = None

    def __post_init__(self):
        shape = key_grid(self.shape, "shape")
        block = as_int(self.block, "block")
        if block < 1:
            raise ValueError(f"block must be >= 1, got {block}")
        h, w = shape
        if h % block or w % block:
            divisors = [d for d in range(1, min(h, w) + 1) if h % d == 0 and w % d == 0]
            raise ValueError(
                f"block = {block} does not divide the {h}x{w} grid; choose one of {plain_list(divisors)}"
            )
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "block", block)
        n_tiles = (h // block) * (w // block)
        object.__setattr__(self, "order", check_perm(self.order, n_tiles, "order"))

    def __eq__(self, other):
        return (type(other) is type(self) and self.shape == other.shape and self.block == other.block
                and np.array_equal(self.order, other.order))

    __hash__ = None

    @classmethod
    def random(cls, shape: Any, block: int = 4, seed: Any = None) -> BlockKey:
        """Shuffle the tiles with ``default_rng(seed).permutation(n_tiles)``."""
        h, w = key_grid(shape, "shape")
        block = as_int(block, "block")
        if block < 1:
            raise ValueError(f"block must be >= 1, got {block}")
        if h % block or w % block:
            cls((h, w), block, np.arange(1))  # raises the explanatory error
        rng = np.random.default_rng(as_seed(seed))
        return warn_if_identity(cls((h, w), block, rng.permutation((h // block) * (w // block))))

    def _build_src(self):
        h, w = self.shape
        b = self.block
        tiles_w = w // b
        i = np.arange(h)[:, None]
        j = np.arange(w)[None, :]
        tile_out = (i // b) * tiles_w + (j // b)
        tile_in = self.order[tile_out]
        src = ((tile_in // tiles_w) * b + i % b) * w + (tile_in % tiles_w) * b + j % b
        return np.ascontiguousarray(src.reshape(-1), dtype=np.int64)

    def _payload(self):
        return {"block": self.block, "order": self.order.tolist()}

    @classmethod
    def from_json(cls, text: str | bytes) -> BlockKey:
        doc = parse_key_doc(text, "block")
        shape = tuple(doc["shape"])
        block = get_field(doc, "block", int)
        if isinstance(block, bool) or block < 1 or shape[0] % block or shape[1] % block:
            raise ValueError(f"key field 'block' = {block!r} does not divide the grid {shape}")
        order = perm_list(doc, "order", (shape[0] // block) * (shape[1] // block))
        return build_key(cls, doc, shape=shape, block=block, order=order)


@dataclass(frozen=True)
class IdentityKey(KeyBase):
    """The map that moves nothing (the unencrypted control)."""

    shape: tuple

    kind = "identity"
    channels = None

    def __post_init__(self):
        object.__setattr__(self, "shape", key_grid(self.shape, "shape"))

    def _build_src(self):
        return np.arange(self.shape[0] * self.shape[1], dtype=np.int64)

    @classmethod
    def from_json(cls, text: str | bytes) -> IdentityKey:
        doc = parse_key_doc(text, "identity")
        return build_key(cls, doc, shape=tuple(doc["shape"]))
