"""Cipher keys: plain data that fix a gather index, with an exact JSON form.

Every key has a grid ``shape = (H, W)`` and a gather index ``src`` of
``H * W`` int64 entries (``Y.flat[p] = X.flat[src[p]]``). Keys are frozen
dataclasses; ``src`` is computed once and cached as a read-only array.

JSON
----
Every key serialises to one JSON object with ``"format": "vortexnumba-key"``,
``"version": 1``, a ``"kind"`` (``"vortex"``, ``"permutation"``, ``"block"`` or
``"identity"``), ``"shape"``, the parameters of its kind and ``"src_sha256"``:
the SHA-256 of ``src`` written as little-endian int64 bytes. Loading rebuilds
``src`` from the parameters and refuses the key if the digest differs, so a
key file can never silently stand for another map (after an edit of the file
or a change of the code that builds the map). Floats are written with
Python's shortest round-trip representation, which reads back bit for bit.

Random draws
------------
``VortexKey.random`` uses ``numpy.random.default_rng(seed)`` and, for each
vortex ``i = 1, 2, ...`` in turn, draws ``cy = rng.integers(0, H)`` then
``cx = rng.integers(0, W)``, computes ``r = min(cy, cx, H-1-cy, W-1-cx)``
and repeats those two draws while ``r < 1``; it then draws
``weights = rng.uniform(-2, 0, 6)``. Vortex ``i`` uses family
``(i mod 5) + 1``. This order fixes the bytes of every seeded key.

``PermutationKey`` and ``BlockKey`` store their permutations explicitly in
the JSON (NumPy does not promise that a seeded shuffle stays the same across
releases, so the seed alone would not pin the map down).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import warnings
from dataclasses import dataclass

import numpy as np

from . import _vortex
from ._limits import MAX_PIXELS, MAX_VORTICES, check_grid, check_vortex_area, check_vortex_count
from .._validate import as_float, as_grid_shape, as_int, as_seed

__all__ = ["BlockKey", "IdentityKey", "IdentityKeyWarning", "PermutationKey", "Vortex", "VortexKey",
           "key_from_json"]

FORMAT = "vortexnumba-key"
VERSION = 1
KINDS = ("vortex", "permutation", "block", "identity")
#: Largest grid a key file may declare (kept for compatibility; see ``_limits``).
MAX_KEY_PIXELS = MAX_PIXELS
#: Deepest JSON nesting a key file may have (a vortex key needs 4).
MAX_DEPTH = 8
_COMMON_FIELDS = {"format", "version", "kind", "shape", "src_sha256"}
_KIND_FIELDS = {
    "vortex": {"mode", "vortices"},
    "permutation": {"src"},
    "block": {"block", "order"},
    "identity": set(),
}


# --------------------------------------------------------------------------- helpers

class IdentityKeyWarning(UserWarning):
    """A key that moves no pixel (its encryption is the plaintext)."""


def _read_only(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def _grid(shape, name: str = "shape") -> tuple[int, int]:
    """A grid ``(H, W)`` of positive ints within the key size limits."""
    return check_grid(as_grid_shape(shape, name), name)


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def _json_depth(text: str) -> int:
    """Deepest nesting of ``[``/``{`` outside strings, found without recursion.

    Only the brackets are visited, so a large permutation key (two brackets)
    costs one regular-expression pass.
    """
    depth = deepest = 0
    for m in _JSON_BRACKET.finditer(_JSON_STRING.sub('""', text)):
        if m.group() in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    break
        else:
            depth -= 1
    return deepest


#: above this many pixels ``random`` does not build the map just to look for a key that moves nothing
_IDENTITY_CHECK_PIXELS = 1 << 20


def _warn_if_identity(key):
    if key.n_pixels <= _IDENTITY_CHECK_PIXELS and key.moved_fraction == 0.0:
        hint = "more vortices, a stronger strength or another seed" if key.kind == "vortex" else \
            "another seed or a larger grid"
        warnings.warn(f"this {key.kind} key moves no pixel, so its encryption is the plaintext (try {hint})",
                      IdentityKeyWarning, stacklevel=3)
    return key


def src_sha256(src: np.ndarray) -> str:
    """SHA-256 hex digest of a gather index as little-endian int64 bytes."""
    return hashlib.sha256(np.ascontiguousarray(src, dtype="<i8").tobytes()).hexdigest()


def _header(kind: str, shape) -> dict:
    return {"format": FORMAT, "version": VERSION, "kind": kind, "shape": [int(shape[0]), int(shape[1])]}


def _parse(text, kind: str | None, grid=None):
    """Decode a key document and check the fields every kind shares.

    Cheap checks come first: nesting depth before decoding, then the declared
    grid against ``grid`` (the input's, when known) and the size limits, all
    before any array is built.
    """
    if isinstance(text, (bytes, bytearray)):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("key is not UTF-8 text") from None
    if not isinstance(text, str):
        raise TypeError(f"key text must be str or bytes, got {type(text).__name__}")
    if _json_depth(text) > MAX_DEPTH:
        raise ValueError(f"key is nested more than {MAX_DEPTH} levels deep; a key file never is "
                         "(damaged or not a key)")
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"key is not valid JSON (truncated or corrupted?): {exc}") from None
    if not isinstance(doc, dict):
        raise ValueError(f"key must be a JSON object, got a JSON {type(doc).__name__}")
    if doc.get("format") != FORMAT:
        raise ValueError(f"key has format {doc.get('format')!r}, expected {FORMAT!r}")
    version = doc.get("version")
    if version != VERSION or isinstance(version, bool):
        raise ValueError(f"key has version {version!r}; this vortexnumba reads version {VERSION}")
    found = doc.get("kind")
    if found not in KINDS:
        raise ValueError(f"key has kind {found!r}, expected one of {KINDS}")
    if kind is not None and found != kind:
        raise ValueError(f"key has kind {found!r}, but a {kind!r} key was expected (use key_from_json)")
    extra = set(doc) - _COMMON_FIELDS - _KIND_FIELDS[found]
    if extra:
        raise ValueError(f"key has unknown field(s) {sorted(extra)} for a {found!r} key")
    digest = doc.get("src_sha256")
    if not isinstance(digest, str) or len(digest) != 64:
        raise ValueError("key lacks a valid 'src_sha256' (64 hex digits)")
    shape = _field(doc, "shape", list)
    if len(shape) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in shape):
        raise ValueError(f"key field 'shape' must be [H, W] of ints, got {shape!r}")
    if shape[0] < 1 or shape[1] < 1:
        raise ValueError(f"key field 'shape' must be [H, W] of positive ints, got {shape!r}")
    if grid is not None:
        grids = [tuple(grid)] if len(grid) == 2 and all(isinstance(v, int) for v in grid) else \
            [tuple(g) for g in grid]
        if grids and tuple(shape) not in grids:
            # refuse before building anything: this key cannot serve the input anyway
            found = " or ".join(f"{g[0]}x{g[1]}" for g in grids)
            raise ValueError(f"key is for {shape[0]}x{shape[1]} images, which does not match the input's "
                             f"grid {found}")
    # refuse before building a gather index of H*W entries (a damaged or hostile file)
    check_grid(shape, "key field 'shape'")
    return doc


def _field(doc: dict, name: str, kind, where: str = "key"):
    if name not in doc:
        raise ValueError(f"{where} lacks the field {name!r}")
    value = doc[name]
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{where} field {name!r} must be a number, got {value!r}")
        return float(value)
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise ValueError(f"{where} field {name!r} must be {kind.__name__}, got {value!r}")
    return value


def _check_digest(key, doc) -> None:
    expected = doc["src_sha256"]
    actual = src_sha256(key.src)
    if actual != expected.lower():
        raise ValueError(
            "key's gather index does not match its recorded SHA-256: the file was altered, "
            "or it was written by a version of vortexnumba that builds a different map"
        )


def _build(cls, doc, **kwargs):
    """Construct a key from parsed fields, reporting bad values as ValueError."""
    try:
        key = cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"key holds invalid parameters: {exc}") from None
    _check_digest(key, doc)
    return key


class _KeyBase:
    """Shared behaviour: the cached gather index, its inverse and JSON."""

    kind = ""

    @property
    def n_pixels(self) -> int:
        return self.shape[0] * self.shape[1]

    @functools.cached_property
    def moved_fraction(self) -> float:
        """Share of pixels the key moves (``src[p] != p``); 0 for a key that encrypts nothing."""
        src = self.src
        return float(np.count_nonzero(src != np.arange(src.shape[0]))) / src.shape[0]

    @functools.cached_property
    def fingerprint(self) -> str:
        """16 hex digits naming the key's map (the start of its ``src_sha256``).

        Recorded with ciphertexts so that decrypting with another key is
        refused. Like the checksum it detects accidents, not forgery: anyone
        can compute it for a key they hold, and it lets a guessed key be
        checked against a ciphertext.
        """
        return src_sha256(self.src)[:16]

    @property
    def is_bijective(self) -> bool:
        """Whether the key's map is a permutation (so it can be decrypted)."""
        return True

    @functools.cached_property
    def src(self) -> np.ndarray:
        """Gather index (N,) int64, read-only: ``Y.flat[p] = X.flat[src[p]]``."""
        return _read_only(self._build_src())

    @functools.cached_property
    def inverse_src(self) -> np.ndarray:
        """Gather index of the inverse map (N,) int64, read-only."""
        if not self.is_bijective:
            raise ValueError(
                f"a {self.kind} key in {getattr(self, 'mode', '?')!r} mode reads some pixels twice and "
                "drops others, so it has no inverse; use mode='bijective' for a key that can decrypt"
            )
        return _read_only(_vortex.inverse(self.src))

    def _payload(self) -> dict:
        return {}

    def to_json(self) -> str:
        """The key as JSON text; ``from_json`` reads it back exactly.

        One field per line, each vortex on a line of its own, lists kept on
        one line, so that key files stay short and readable in a diff.
        """
        doc = _header(self.kind, self.shape)
        doc.update(self._payload())
        doc["src_sha256"] = src_sha256(self.src)
        lines = []
        for name, value in doc.items():
            if name == "vortices" and value:
                inner = ",\n".join(f"    {json.dumps(v)}" for v in value)
                text = f"[\n{inner}\n  ]"
            else:
                text = json.dumps(value)
            lines.append(f"  {json.dumps(name)}: {text}")
        return "{\n" + ",\n".join(lines) + "\n}\n"


# --------------------------------------------------------------------------- vortex key

@dataclass(frozen=True)
class Vortex:
    """One vortex: integer centre ``(cy, cx)``, radius ``r >= 1``, function
    family 1..5, six weights and a strength ``S``.

    The grid-dependent check (the disc must lie inside the grid) is made by
    :class:`VortexKey`.
    """

    centre: tuple
    radius: int
    family: int
    weights: tuple
    strength: float

    def __post_init__(self):
        try:
            centre = tuple(self.centre)
        except TypeError:
            raise TypeError(f"vortex centre must be a pair (cy, cx) of ints, got {self.centre!r}") from None
        if len(centre) != 2:
            raise ValueError(f"vortex centre must be a pair (cy, cx) of ints, got {self.centre!r}")
        centre = (as_int(centre[0], "vortex centre cy"), as_int(centre[1], "vortex centre cx"))
        radius = as_int(self.radius, "vortex radius")
        if radius < 1:
            raise ValueError(f"vortex radius must be >= 1, got {radius}")
        family = as_int(self.family, "vortex family")
        if not 1 <= family <= _vortex.N_FAMILIES:
            raise ValueError(f"vortex family must be 1..{_vortex.N_FAMILIES}, got {family}")
        try:
            weights = tuple(self.weights)
        except TypeError:
            raise TypeError(f"vortex weights must be six floats, got {self.weights!r}") from None
        if len(weights) != 6:
            raise ValueError(f"vortex weights must be six floats, got {len(weights)}")
        weights = tuple(as_float(v, "vortex weight") for v in weights)
        strength = as_float(self.strength, "vortex strength")
        object.__setattr__(self, "centre", centre)
        object.__setattr__(self, "radius", radius)
        object.__setattr__(self, "family", family)
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "strength", strength)

    def to_dict(self) -> dict:
        return {
            "centre": list(self.centre),
            "radius": self.radius,
            "family": self.family,
            "weights": list(self.weights),
            "strength": self.strength,
        }

    @classmethod
    def from_dict(cls, d) -> "Vortex":
        if isinstance(d, Vortex):
            return d
        if not isinstance(d, dict):
            raise TypeError(f"a vortex must be a Vortex or a dict of its fields, got {type(d).__name__}")
        where = "vortex"
        centre = _field(d, "centre", list, where)
        weights = _field(d, "weights", list, where)
        for v in centre:
            if isinstance(v, bool) or not isinstance(v, int):
                raise ValueError(f"vortex field 'centre' must hold two ints, got {centre!r}")
        for v in weights:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ValueError(f"vortex field 'weights' must hold six numbers, got {weights!r}")
        radius = _field(d, "radius", int, where)
        family = _field(d, "family", int, where)
        extra = set(d) - {"centre", "radius", "family", "weights", "strength"}
        if extra:
            raise ValueError(f"vortex has unknown field(s) {sorted(extra)}")
        return cls(centre, radius, family, weights, _field(d, "strength", float, where))


@dataclass(frozen=True)
class VortexKey(_KeyBase):
    """A Random Vortex Transformation key: vortices applied one after another.

    Parameters
    ----------
    shape : (int, int)
        Grid ``(H, W)`` of the images the key encrypts.
    mode : {"bijective", "paper"}
        ``"bijective"`` turns each ring of pixels by a whole number of places
        (a permutation, exactly decryptable); ``"paper"`` is the reference
        implementation's rounded pull map (lossy, cannot be decrypted).
    vortices : sequence of Vortex or dict
        Each disc must lie inside the grid.

    Attributes
    ----------
    src : ndarray of int64, shape (H * W,)
        The composed gather index.
    inverse_src : ndarray of int64
        Its inverse (bijective mode only; ``ValueError`` otherwise).

    Examples
    --------
    >>> import vortexnumba as vn
    >>> key = vn.VortexKey.random((28, 28), seed=0)
    >>> key.src.shape
    (784,)
    >>> sorted(key.src.tolist()) == list(range(784))
    True
    >>> vn.VortexKey.from_json(key.to_json()) == key
    True

    References
    ----------
    .. [1] Cao, Mo, Wang, Lai, Huang, arXiv:2411.16207 (random vortex transformation).
    """

    shape: tuple
    mode: str = "bijective"
    vortices: tuple = ()

    kind = "vortex"

    def __post_init__(self):
        shape = _grid(self.shape, "shape")
        if not isinstance(self.mode, str) or self.mode not in _vortex.MODES:
            raise ValueError(f"mode must be one of {_vortex.MODES}, got {self.mode!r}")
        if isinstance(self.vortices, (dict, Vortex, str, bytes)) or not hasattr(self.vortices, "__iter__"):
            raise TypeError(f"vortices must be a sequence of Vortex objects or dicts, got "
                            f"{type(self.vortices).__name__}")
        if hasattr(self.vortices, "__len__"):
            check_vortex_count(len(self.vortices), "number of vortices")
        vortices = tuple(Vortex.from_dict(v) for v in self.vortices)
        check_vortex_count(len(vortices), "number of vortices")
        h, w = shape
        for n, v in enumerate(vortices, start=1):
            cy, cx = v.centre
            r = v.radius
            if cy - r < 0 or cx - r < 0 or cy + r > h - 1 or cx + r > w - 1:
                raise ValueError(
                    f"vortex {n}: the disc of centre ({cy}, {cx}) and radius {r} does not fit in the "
                    f"{h}x{w} grid (need r <= min(cy, cx, H-1-cy, W-1-cx))"
                )
        check_vortex_area((v.radius for v in vortices))
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "vortices", vortices)

    @classmethod
    def random(cls, shape, n_vortices: int = 10, strength: float = 0.8, mode: str = "bijective",
               seed=None) -> "VortexKey":
        """Draw a random key as the specification does (see the module docstring).

        Parameters
        ----------
        shape : (int, int)
            Grid ``(H, W)``; both sides at least 3 so that a disc of radius 1 fits.
        n_vortices : int, default 10
        strength : float, default 0.8
            Swirl strength S (the paper uses 0.8 for 28x28, 0.1 for 32x32x3).
        mode : {"bijective", "paper"}
        seed : int or None
            Same seed, same key on every machine.

        Returns
        -------
        VortexKey

        Warns
        -----
        IdentityKeyWarning
            When the key moves no pixel (no vortices, or a strength too weak
            to turn any ring).
        """
        h, w = _grid(shape, "shape")
        n_vortices = check_vortex_count(as_int(n_vortices, "n_vortices"))
        strength = as_float(strength, "strength")
        if not isinstance(mode, str) or mode not in _vortex.MODES:
            raise ValueError(f"mode must be one of {_vortex.MODES}, got {mode!r}")
        if n_vortices and (h < 3 or w < 3):
            raise ValueError(f"a vortex needs a grid of at least 3x3 (radius >= 1), got shape {(h, w)}")
        rng = np.random.default_rng(as_seed(seed))
        vortices = []
        for i in range(1, n_vortices + 1):
            while True:
                cy = int(rng.integers(0, h))
                cx = int(rng.integers(0, w))
                r = min(cy, cx, h - 1 - cy, w - 1 - cx)
                if r >= 1:
                    break
            weights = tuple(float(v) for v in rng.uniform(-2.0, 0.0, 6))
            vortices.append(Vortex((cy, cx), r, (i % 5) + 1, weights, strength))
        return _warn_if_identity(cls((h, w), mode, tuple(vortices)))

    @property
    def is_bijective(self) -> bool:
        return self.mode == "bijective"

    def _build_src(self):
        params = [(v.centre[0], v.centre[1], v.radius, v.family, v.weights, v.strength) for v in self.vortices]
        return _vortex.build_key_src(self.shape, self.mode, params)

    def _payload(self):
        return {"mode": self.mode, "vortices": [v.to_dict() for v in self.vortices]}

    @classmethod
    def from_json(cls, text) -> "VortexKey":
        """Read a key written by :meth:`to_json`; ``ValueError`` if it is damaged."""
        doc = _parse(text, "vortex")
        mode = _field(doc, "mode", str)
        vortices = _field(doc, "vortices", list)
        check_vortex_count(len(vortices), "key field 'vortices' (count)")
        try:
            parsed = tuple(Vortex.from_dict(v) for v in vortices)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"key holds an invalid vortex: {exc}") from None
        return _build(cls, doc, shape=tuple(doc["shape"]), mode=mode, vortices=parsed)


# --------------------------------------------------------------------------- baselines

def _check_perm(values, n: int, name: str) -> np.ndarray:
    if values is None or isinstance(values, (str, bytes, dict)):
        raise TypeError(f"{name} must be a permutation of 0..{n - 1} ({n} ints), got {type(values).__name__}")
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.shape[0] != n or arr.dtype.kind not in "iu":
        raise ValueError(f"{name} must be a permutation of 0..{n - 1} ({n} ints), got shape {arr.shape} "
                         f"and dtype {arr.dtype}")
    if not _vortex.is_permutation(arr):
        raise ValueError(f"{name} must hold every index 0..{n - 1} exactly once")
    # always a private copy: the caller's array stays as it was (writeable, unchanged)
    return _read_only(np.array(arr, dtype=np.int64, copy=True))


def _perm_list(doc, name, n):
    values = _field(doc, name, list)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise ValueError(f"key field {name!r} must hold ints only")
    if len(values) != n:
        raise ValueError(f"key field {name!r} must hold {n} ints, got {len(values)} (truncated?)")
    return np.array(values, dtype=np.int64)


@dataclass(frozen=True, eq=False)
class PermutationKey(_KeyBase):
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

    def __post_init__(self):
        shape = _grid(self.shape, "shape")
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "permutation", _check_perm(self.permutation, shape[0] * shape[1], "permutation"))

    def __eq__(self, other):
        return (type(other) is type(self) and self.shape == other.shape
                and np.array_equal(self.permutation, other.permutation))

    __hash__ = None

    @classmethod
    def random(cls, shape, seed=None) -> "PermutationKey":
        """A uniformly random permutation from ``default_rng(seed).permutation(H * W)``."""
        h, w = _grid(shape, "shape")
        rng = np.random.default_rng(as_seed(seed))
        return _warn_if_identity(cls((h, w), rng.permutation(h * w)))

    def _build_src(self):
        return self.permutation.copy()

    def _payload(self):
        return {"src": self.permutation.tolist()}

    @classmethod
    def from_json(cls, text) -> "PermutationKey":
        doc = _parse(text, "permutation")
        shape = tuple(doc["shape"])
        perm = _perm_list(doc, "src", shape[0] * shape[1])
        return _build(cls, doc, shape=shape, permutation=perm)


@dataclass(frozen=True, eq=False)
class BlockKey(_KeyBase):
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

    def __post_init__(self):
        shape = _grid(self.shape, "shape")
        block = as_int(self.block, "block")
        if block < 1:
            raise ValueError(f"block must be >= 1, got {block}")
        h, w = shape
        if h % block or w % block:
            divisors = [d for d in range(1, min(h, w) + 1) if h % d == 0 and w % d == 0]
            raise ValueError(
                f"block = {block} does not divide the {h}x{w} grid; choose one of {divisors}"
            )
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "block", block)
        n_tiles = (h // block) * (w // block)
        object.__setattr__(self, "order", _check_perm(self.order, n_tiles, "order"))

    def __eq__(self, other):
        return (type(other) is type(self) and self.shape == other.shape and self.block == other.block
                and np.array_equal(self.order, other.order))

    __hash__ = None

    @classmethod
    def random(cls, shape, block: int = 4, seed=None) -> "BlockKey":
        """Shuffle the tiles with ``default_rng(seed).permutation(n_tiles)``."""
        h, w = _grid(shape, "shape")
        block = as_int(block, "block")
        if block < 1:
            raise ValueError(f"block must be >= 1, got {block}")
        if h % block or w % block:
            cls((h, w), block, np.arange(1))  # raises the explanatory error
        rng = np.random.default_rng(as_seed(seed))
        return _warn_if_identity(cls((h, w), block, rng.permutation((h // block) * (w // block))))

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
    def from_json(cls, text) -> "BlockKey":
        doc = _parse(text, "block")
        shape = tuple(doc["shape"])
        block = _field(doc, "block", int)
        if isinstance(block, bool) or block < 1 or shape[0] % block or shape[1] % block:
            raise ValueError(f"key field 'block' = {block!r} does not divide the grid {shape}")
        order = _perm_list(doc, "order", (shape[0] // block) * (shape[1] // block))
        return _build(cls, doc, shape=shape, block=block, order=order)


@dataclass(frozen=True)
class IdentityKey(_KeyBase):
    """The map that moves nothing (the unencrypted control)."""

    shape: tuple

    kind = "identity"

    def __post_init__(self):
        object.__setattr__(self, "shape", _grid(self.shape, "shape"))

    def _build_src(self):
        return np.arange(self.shape[0] * self.shape[1], dtype=np.int64)

    @classmethod
    def from_json(cls, text) -> "IdentityKey":
        doc = _parse(text, "identity")
        return _build(cls, doc, shape=tuple(doc["shape"]))


_CLASSES = {"vortex": VortexKey, "permutation": PermutationKey, "block": BlockKey, "identity": IdentityKey}


def key_from_json(text, *, grid=None):
    """Read any key written by ``to_json``, whatever its kind.

    Parameters
    ----------
    text : str or bytes
        The JSON document.
    grid : (int, int) or list of them, optional
        The grid (or the possible grids) of the images the key is for; a key
        declaring another grid is refused before anything is built (a cheap
        check against a forged key).

    Raises
    ------
    ValueError
        If the text is not a complete, untampered vortexnumba key.

    Examples
    --------
    >>> import vortexnumba as vn
    >>> key = vn.BlockKey.random((8, 8), block=2, seed=3)
    >>> vn.key_from_json(key.to_json()) == key
    True
    """
    doc = _parse(text, None, grid)
    return _CLASSES[doc["kind"]].from_json(text)
