"""What every key shares: the JSON document, its cheap checks, and the base class.

The JSON form
-------------
Every key serialises to one JSON object with ``"format": "vortexnumba-key"``,
``"version": 1``, a ``"kind"`` (one of :data:`KINDS`), ``"shape"``, the
parameters of its kind and a digest of the map it stands for. Spatial kinds
(vortex, permutation, block, identity) record ``"src_sha256"``: the SHA-256
of ``src`` written as little-endian int64 bytes. The value-changing kinds
(le, ele, etc, pe, blockwise) record ``"plan_sha256"``, the digest of their
element plan (:func:`vortexnumba.cipher._plan.plan_sha256`: unit, gather and
negation mask), since their pixel tracking map alone does not pin the key
down. Loading rebuilds the map from the parameters and refuses the key if
the digest differs, so a key file can never silently stand for another map
(after an edit of the file or a change of the code that builds the map). The
digest detects accidents, not forgery. Floats are written with Python's
shortest round-trip representation, which reads back bit for bit.

Loading checks the cheap things first (a document that does not end in
``}``, a ``"kind"`` near the start that is not the one asked for, nesting
depth, fields, the declared grid against the input's and against
:mod:`._limits`) before any array is built.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from .._validate import as_float, as_grid_shape, as_int, plain_list
from . import _vortex
from ._limits import MAX_PIXELS, check_grid
from ._protocol import check_decryptable

if TYPE_CHECKING:
    from ._plan import ElementPlan

__all__ = ["DIGEST_FIELD", "KINDS", "SPATIAL_KINDS", "SCHEME_KINDS", "IdentityKeyWarning", "KeyBase", "json_depth",
           "build_key", "get_field", "key_grid", "parse_key_doc", "read_only", "src_sha256", "warn_if_identity"]

FORMAT = "vortexnumba-key"
VERSION = 1
SPATIAL_KINDS = ("vortex", "permutation", "block", "identity")
SCHEME_KINDS = ("le", "ele", "etc", "pe", "blockwise")
KINDS = SPATIAL_KINDS + SCHEME_KINDS
#: the digest field of each kind
DIGEST_FIELD = {**{k: "src_sha256" for k in SPATIAL_KINDS}, **{k: "plan_sha256" for k in SCHEME_KINDS}}
#: Largest grid a key file may declare (kept for compatibility; see ``_limits``).
MAX_KEY_PIXELS = MAX_PIXELS
#: Deepest JSON nesting a key file may have (a vortex key needs 4).
MAX_DEPTH = 8
_COMMON_FIELDS = {"format", "version", "kind", "shape"}
_KIND_FIELDS = {
    "vortex": {"mode", "vortices"},
    "permutation": {"src"},
    "block": {"block", "order"},
    "identity": set(),
    "le": {"channels", "block", "perm"},
    "ele": {"channels", "block", "perms", "block_perm"},
    "etc": {"channels", "block", "block_perm", "rotation", "flip", "negate", "channel_perm"},
    "pe": {"channels", "negate", "channel_perm"},
    "blockwise": {"channels", "block", "pixel_perm", "negate_slots", "block_perm"},
}
#: a key written by ``to_json`` names its kind within its first lines
_KIND_NEAR_START = re.compile(r'"kind"\s*:\s*"([^"\\]{0,40})"')
_START_CHARS = 4096


# --------------------------------------------------------------------------- helpers

class IdentityKeyWarning(UserWarning):
    """A key that moves no pixel (its encryption is the plaintext)."""


def read_only(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def key_grid(shape: Any, name: str = "shape") -> tuple[int, int]:
    """A grid ``(H, W)`` of positive ints within the key size limits."""
    return check_grid(as_grid_shape(shape, name), name)


_JSON_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """Deepest nesting of ``[``/``{`` outside strings, found without recursion.

    Escaped backslashes and quotes are dropped first, so every remaining
    ``"`` opens or closes a string; splitting on them leaves the text outside
    strings at the even places. Only the brackets there are visited, so a
    large key (few brackets, long lists or one long packed string) costs a
    few passes of C string code.
    """
    if "\\" in text:
        text = text.replace("\\\\", "").replace('\\"', "")
    outside = "".join(text.split('"')[::2])
    depth = deepest = 0
    for m in _JSON_BRACKET.finditer(outside):
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


def warn_if_identity(key: Any) -> Any:
    if key.n_pixels <= _IDENTITY_CHECK_PIXELS and key.moved_fraction == 0.0:
        hint = "more vortices, a stronger strength or another seed" if key.kind == "vortex" else \
            "another seed or a larger grid"
        what = "moves no pixel" if getattr(key, "is_spatial", True) else "changes no value"
        warnings.warn(f"this {key.kind} key {what}, so its encryption is the plaintext (try {hint})",
                      IdentityKeyWarning, stacklevel=3)
    return key


def src_sha256(src: np.ndarray) -> str:
    """SHA-256 hex digest of a gather index as little-endian int64 bytes."""
    return hashlib.sha256(np.ascontiguousarray(src, dtype="<i8").tobytes()).hexdigest()


def _header(kind: str, shape) -> dict:
    return {"format": FORMAT, "version": VERSION, "kind": kind, "shape": [int(shape[0]), int(shape[1])]}


def parse_key_doc(text: str | bytes, kind: str | None, grid: Any = None) -> dict:
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
    # the cheapest refusals first: a cut-off file, a file of another kind (no decoding of the rest)
    if text.lstrip().startswith("{") and not text.rstrip().endswith("}"):
        raise ValueError("key is not valid JSON (truncated or corrupted?): it does not end with '}'")
    near = _KIND_NEAR_START.search(text, 0, _START_CHARS)
    if near is not None:
        if near.group(1) not in KINDS:
            raise ValueError(f"key has kind {near.group(1)!r}, expected one of {plain_list(KINDS)}")
        if kind is not None and near.group(1) != kind:
            raise ValueError(f"key has kind {near.group(1)!r}, but a {kind!r} key was expected (use key_from_json)")
    if json_depth(text) > MAX_DEPTH:
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
        raise ValueError(f"key has kind {found!r}, expected one of {plain_list(KINDS)}")
    if kind is not None and found != kind:
        raise ValueError(f"key has kind {found!r}, but a {kind!r} key was expected (use key_from_json)")
    digest_field = DIGEST_FIELD[found]
    extra = set(doc) - _COMMON_FIELDS - _KIND_FIELDS[found] - {digest_field}
    if extra:
        raise ValueError(f"key has unknown field(s) {plain_list(sorted(extra))} for a {found!r} key")
    digest = doc.get(digest_field)
    if not isinstance(digest, str) or len(digest) != 64:
        raise ValueError(f"key lacks a valid {digest_field!r} (64 hex digits)")
    shape = get_field(doc, "shape", list)
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


def get_field(doc: dict, name: str, kind: Any, where: str = "key") -> Any:
    if name not in doc:
        raise ValueError(f"{where} lacks the field {name!r}")
    value = doc[name]
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{where} field {name!r} must be a number, got {value!r}")
        return as_float(value, f"{where} field {name!r}")  # 10**400 or NaN: ValueError naming the field
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise ValueError(f"{where} field {name!r} must be {kind.__name__}, got {value!r}")
    return value


def _check_digest(key, doc) -> None:
    expected = doc[DIGEST_FIELD[key.kind]]
    if key.digest != expected.lower():
        raise ValueError(
            "key's gather index does not match its recorded SHA-256: the file was altered, "
            "or it was written by a version of vortexnumba that builds a different map"
        )


def build_key(cls: Any, doc: dict, **kwargs: Any) -> Any:
    """Construct a key from parsed fields, reporting bad values as ValueError."""
    try:
        key = cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"key holds invalid parameters: {exc}") from None
    _check_digest(key, doc)
    return key


class KeyBase:
    """Shared behaviour: the cached gather index, its inverse and JSON."""

    kind = ""
    #: spatial keys move whole pixels by ``src`` and change no value
    is_spatial = True

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
        return self.digest[:16]

    @functools.cached_property
    def digest(self) -> str:
        """The SHA-256 recorded in the key's JSON (of ``src``; of the element plan for non-spatial kinds)."""
        return src_sha256(self.src)

    def element_plan(self, channels: int) -> ElementPlan:
        """The key as an :class:`ElementPlan` for images of ``channels`` channels.

        Spatial keys move every channel with its pixel and negate nothing.

        Examples
        --------
        >>> import vortexnumba as vn
        >>> vn.PermutationKey((1, 2), [1, 0]).element_plan(2).src.tolist()
        [2, 3, 0, 1]
        """
        from ._plan import spatial_plan

        return spatial_plan(self.src, as_int(channels, "channels"))

    def inverse_plan(self, channels: int) -> ElementPlan:
        """The :class:`ElementPlan` that decrypts images of ``channels`` channels."""
        from ._plan import spatial_plan

        return spatial_plan(self.inverse_src, as_int(channels, "channels"))

    @property
    def is_bijective(self) -> bool:
        """Whether the key's map is a permutation (so it can be decrypted)."""
        return True

    @functools.cached_property
    def src(self) -> np.ndarray:
        """Gather index (N,) int64, read-only: ``Y.flat[p] = X.flat[src[p]]``."""
        return read_only(self._build_src())

    @functools.cached_property
    def inverse_src(self) -> np.ndarray:
        """Gather index of the inverse map (N,) int64, read-only."""
        check_decryptable(self)
        return read_only(_vortex.inverse(self.src))

    def _payload(self) -> dict:
        return {}

    def to_json(self) -> str:
        """The key as JSON text; ``from_json`` reads it back exactly.

        One field per line, each vortex on a line of its own, lists kept on
        one line, so that key files stay short and readable in a diff.
        """
        doc = _header(self.kind, self.shape)
        doc.update(self._payload())
        doc[DIGEST_FIELD[self.kind]] = self.digest
        lines = []
        for name, value in doc.items():
            if name == "vortices" and value:
                inner = ",\n".join(f"    {json.dumps(v)}" for v in value)
                text = f"[\n{inner}\n  ]"
            else:
                text = json.dumps(value)
            lines.append(f"  {json.dumps(name)}: {text}")
        return "{\n" + ",\n".join(lines) + "\n}\n"
