"""Cipher keys: plain data that fix a gather index, with an exact JSON form.

Every key has a grid ``shape = (H, W)`` and a gather index ``src`` of
``H * W`` int64 entries (``Y.flat[p] = X.flat[src[p]]``; for the keys that
change values, :mod:`._scheme_keys`, the pixel tracking map). Keys are frozen
dataclasses; ``src`` is computed once and cached as a read-only array.

The JSON form, its checks and the shared base class are in
:mod:`vortexnumba.cipher._keybase`; the baseline keys (permutation, block,
identity) in :mod:`vortexnumba.cipher._baseline_keys`. This module holds the
vortex keys and :func:`key_from_json`, and re-exports the rest.

Random draws
------------
``VortexKey.random`` uses ``numpy.random.default_rng(seed)`` and, for each
vortex ``i = 1, 2, ...`` in turn, draws ``cy = rng.integers(0, H)`` then
``cx = rng.integers(0, W)``, computes ``r = min(cy, cx, H-1-cy, W-1-cx)``
and repeats those two draws while ``r < 1``; it then draws
``weights = rng.uniform(-2, 0, 6)``. Vortex ``i`` uses family
``(i mod 5) + 1``. This order fixes the bytes of every seeded key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validate import as_float, as_int, as_seed, plain_list
from . import _vortex
from ._baseline_keys import BlockKey, IdentityKey, PermutationKey
from ._keybase import (
    IdentityKeyWarning,
    KeyBase,
    build_key,
    get_field,
    key_grid,
    parse_key_doc,
    src_sha256,
    warn_if_identity,
)
from ._limits import check_vortex_area, check_vortex_count
from ._scheme_keys import SCHEME_CLASSES, BlockwiseKey, ELEKey, EtCKey, LEKey, PEKey

__all__ = ["BlockKey", "BlockwiseKey", "ELEKey", "EtCKey", "IdentityKey", "IdentityKeyWarning", "LEKey",
           "PEKey", "PermutationKey", "Vortex", "VortexKey", "key_from_json", "src_sha256"]


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
    def from_dict(cls, d: Any) -> Vortex:
        if isinstance(d, Vortex):
            return d
        if not isinstance(d, dict):
            raise TypeError(f"a vortex must be a Vortex or a dict of its fields, got {type(d).__name__}")
        where = "vortex"
        centre = get_field(d, "centre", list, where)
        weights = get_field(d, "weights", list, where)
        for v in centre:
            if isinstance(v, bool) or not isinstance(v, int):
                raise ValueError(f"vortex field 'centre' must hold two ints, got {centre!r}")
        for v in weights:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ValueError(f"vortex field 'weights' must hold six numbers, got {weights!r}")
        radius = get_field(d, "radius", int, where)
        family = get_field(d, "family", int, where)
        extra = set(d) - {"centre", "radius", "family", "weights", "strength"}
        if extra:
            raise ValueError(f"vortex has unknown field(s) {plain_list(sorted(extra))}")
        return cls(centre, radius, family, weights, get_field(d, "strength", float, where))


@dataclass(frozen=True)
class VortexKey(KeyBase):
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
    channels = None

    def __post_init__(self):
        shape = key_grid(self.shape, "shape")
        if not isinstance(self.mode, str) or self.mode not in _vortex.MODES:
            raise ValueError(f"mode must be one of {plain_list(_vortex.MODES)}, got {self.mode!r}")
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
        check_vortex_area(v.radius for v in vortices)
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "vortices", vortices)

    @classmethod
    def random(cls, shape: Any, n_vortices: int = 10, strength: float = 0.8, mode: str = "bijective",
               seed: Any = None) -> VortexKey:
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
        h, w = key_grid(shape, "shape")
        n_vortices = check_vortex_count(as_int(n_vortices, "n_vortices"))
        strength = as_float(strength, "strength")
        if not isinstance(mode, str) or mode not in _vortex.MODES:
            raise ValueError(f"mode must be one of {plain_list(_vortex.MODES)}, got {mode!r}")
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
        return warn_if_identity(cls((h, w), mode, tuple(vortices)))

    @property
    def is_bijective(self) -> bool:
        return self.mode == "bijective"

    def _build_src(self):
        params = [(v.centre[0], v.centre[1], v.radius, v.family, v.weights, v.strength) for v in self.vortices]
        return _vortex.build_key_src(self.shape, self.mode, params)

    def _payload(self):
        return {"mode": self.mode, "vortices": [v.to_dict() for v in self.vortices]}

    @classmethod
    def from_json(cls, text: str | bytes) -> VortexKey:
        """Read a key written by :meth:`to_json`; ``ValueError`` if it is damaged."""
        doc = parse_key_doc(text, "vortex")
        mode = get_field(doc, "mode", str)
        vortices = get_field(doc, "vortices", list)
        check_vortex_count(len(vortices), "key field 'vortices' (count)")
        try:
            parsed = tuple(Vortex.from_dict(v) for v in vortices)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"key holds an invalid vortex: {exc}") from None
        return build_key(cls, doc, shape=tuple(doc["shape"]), mode=mode, vortices=parsed)


_CLASSES = {"vortex": VortexKey, "permutation": PermutationKey, "block": BlockKey, "identity": IdentityKey,
            **SCHEME_CLASSES}


def key_from_json(text: str | bytes, *, grid: Any = None) -> Any:
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
    doc = parse_key_doc(text, None, grid)
    cls: Any = _CLASSES[doc["kind"]]
    if hasattr(cls, "from_doc"):
        return cls.from_doc(doc)  # decoded once: the value-changing keys can be large
    return cls.from_json(text)
