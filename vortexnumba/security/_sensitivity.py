"""Plaintext and key sensitivity: NPCR/UACI after a one-pixel change of the image or of the key."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from .._validate import as_image_batch, as_int, as_one_image, as_position, plain_list
from ..cipher._gather import encrypt
from ..cipher._keys import BlockKey, BlockwiseKey, ELEKey, EtCKey, LEKey, PEKey, PermutationKey, VortexKey
from ..cipher._protocol import is_spatial
from ._common import check_key_arg
from ._metrics import npcr_uaci


def plaintext_sensitivity(image: Any, key: Any, position: Any = None, *, channels: Any = None) -> Any:
    """NPCR and UACI between the encryptions of an image and of a copy changed in one pixel.

    The changed pixel gets the value farthest from its own (``v -> 255 - v``
    for uint8, ``v -> 1 - v`` for floats, so it always changes; a value
    of exactly 0.5 becomes 0), in every channel.

    Parameters
    ----------
    image : array_like
        One image ``(H, W)`` or ``(H, W, C)`` on the key's grid.
    key : VortexKey, PermutationKey, BlockKey or IdentityKey
    position : (int, int) or int, optional
        The pixel to change; default the centre of the grid.

    Returns
    -------
    npcr, uaci : float
        For any bijective key, NPCR is exactly ``100 / N``: one input pixel
        changes one output pixel.

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> key = vn.VortexKey.random((8, 8), seed=0)
    >>> npcr, uaci = plaintext_sensitivity(np.zeros((8, 8), np.uint8), key)
    >>> npcr == 100 / 64
    True
    """
    check_key_arg(key)
    x4 = as_one_image(image, "image", grid=key.shape, channels=channels)
    h, w = key.shape
    q = as_position((h // 2, w // 2) if position is None else position, (h, w), "position")
    other = np.array(x4[0], copy=True)
    i, j = divmod(q, w)
    if other.dtype == np.uint8:
        other[i, j] = 255 - other[i, j]
    else:
        v = other[i, j]
        other[i, j] = np.where(v == 0.5, 0.0, 1.0 - v)
    return npcr_uaci(encrypt(x4[0], key, channels=True), encrypt(other, key, channels=True), channels=True)


def _moved_centre(key: VortexKey, vortex: int):
    h, w = key.shape
    v = key.vortices[vortex]
    cy, cx = v.centre
    for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        ny, nx = cy + dy, cx + dx
        if min(ny, nx, h - 1 - ny, w - 1 - nx) >= v.radius:
            return replace(v, centre=(ny, nx))
    raise ValueError(f"vortex {vortex}: no one-pixel move of centre {v.centre} keeps its disc of radius "
                     f"{v.radius} inside the {h}x{w} grid")


def perturb_key(key: Any, parameter: str, *, vortex: int = 0, delta: float | None = None) -> Any:
    """A key that differs from ``key`` in one parameter (for key-sensitivity tests).

    Parameters
    ----------
    key : VortexKey, PermutationKey or BlockKey
    parameter : str
        Vortex keys: ``"weight"`` (first weight of the vortex plus ``delta``,
        default 1e-6), ``"weight-ulp"`` (that weight moved by one unit in the
        last place), ``"strength"`` (plus ``delta``, default 1e-6) or
        ``"centre"`` (moved by one pixel, to the first of right, left, down,
        up that keeps the disc inside the grid). Permutation and block keys:
        ``"swap"`` (the first two entries of the permutation or tile order
        trade places: the smallest change such a key allows). LE, ELE,
        EtC, PE and block-wise keys: ``"swap"`` (two entries of ``perm``,
        ``perms[0]``, ``block_perm``, ``channel_perm[0, 0]`` or ``pixel_perm``)
        and, for EtC and PE, ``"negate"`` (the first negation flag turned).
    vortex : int
        Which vortex of a vortex key to change (0-based).
    delta : float, optional

    Returns
    -------
    key of the same type

    Examples
    --------
    >>> import vortexnumba as vn
    >>> key = vn.VortexKey.random((28, 28), seed=0)
    >>> perturb_key(key, "strength").vortices[0].strength - 0.8
    1.0000000000287557e-06
    """
    check_key_arg(key)
    if isinstance(key, VortexKey):
        allowed = ("weight", "weight-ulp", "strength", "centre")
        if parameter not in allowed:
            raise ValueError(f"parameter must be one of {plain_list(allowed)} for a vortex key, got {parameter!r}")
        vortex = as_int(vortex, "vortex")
        if not 0 <= vortex < len(key.vortices):
            raise ValueError(f"vortex must lie in 0..{len(key.vortices) - 1}, got {vortex}")
        v = key.vortices[vortex]
        if parameter == "centre":
            new = _moved_centre(key, vortex)
        elif parameter == "weight-ulp":
            new = replace(v, weights=(float(np.nextafter(v.weights[0], np.inf)),) + v.weights[1:])
        else:
            d = 1e-6 if delta is None else float(delta)
            if not math.isfinite(d) or d == 0:
                raise ValueError(f"delta must be a finite non-zero number, got {delta!r}")
            if parameter == "weight":
                new = replace(v, weights=(v.weights[0] + d,) + v.weights[1:])
            else:
                new = replace(v, strength=v.strength + d)
        vortices = key.vortices[:vortex] + (new,) + key.vortices[vortex + 1:]
        return VortexKey(key.shape, key.mode, vortices)
    if isinstance(key, (PermutationKey, BlockKey)):
        if parameter != "swap":
            raise ValueError(f"parameter must be 'swap' for a {key.kind} key, got {parameter!r}")
        perm = np.array(key.permutation if isinstance(key, PermutationKey) else key.order)
        if perm.size < 2:
            raise ValueError(f"a {key.kind} key with a single entry has nothing to swap")
        perm[[0, 1]] = perm[[1, 0]]
        if isinstance(key, PermutationKey):
            return PermutationKey(key.shape, perm)
        return BlockKey(key.shape, key.block, perm)
    if isinstance(key, (LEKey, ELEKey, EtCKey, PEKey, BlockwiseKey)):
        return _perturb_scheme(key, parameter)
    raise ValueError("an identity key has no parameter to change")


def _swapped(a: np.ndarray, what: str) -> np.ndarray:
    a = np.array(a)
    flat = a.reshape(-1)
    if flat.size < 2:
        raise ValueError(f"{what} has a single entry: nothing to swap")
    flat[[0, 1]] = flat[[1, 0]]
    return a


def _perturb_scheme(key, parameter: str):
    """The smallest change of a value-changing key: two entries of its main permutation swapped
    (``"swap"``), or one negation flag turned (``"negate"``, EtC and PE)."""
    allowed = ("swap", "negate") if isinstance(key, (EtCKey, PEKey)) else ("swap",)
    if parameter not in allowed:
        raise ValueError(f"parameter must be one of {plain_list(allowed)} for a {key.kind} key, got {parameter!r}")
    if isinstance(key, LEKey):
        return LEKey(key.shape, key.block, key.channels, _swapped(key.perm, "perm"))
    if isinstance(key, ELEKey):
        perms = np.array(key.perms)
        perms[0] = _swapped(perms[0], "perms[0]")
        return ELEKey(key.shape, key.block, key.channels, perms, key.block_perm)
    if isinstance(key, BlockwiseKey):
        return BlockwiseKey(key.shape, key.block, key.channels, _swapped(key.pixel_perm, "pixel_perm"),
                            key.negate_slots, key.block_perm)
    if isinstance(key, EtCKey):
        if parameter == "negate":
            negate = np.array(key.negate)
            negate[0] = ~negate[0]
            return EtCKey(key.shape, key.block, key.channels, key.block_perm, key.rotation, key.flip, negate,
                          key.channel_perm)
        return EtCKey(key.shape, key.block, key.channels, _swapped(key.block_perm, "block_perm"), key.rotation,
                      key.flip, key.negate, key.channel_perm)
    if parameter == "negate":
        negate = np.array(key.negate)
        negate[0, 0, 0] = ~negate[0, 0, 0]
        return PEKey(key.shape, key.channels, negate, key.channel_perm)
    if key.channels < 2:
        raise ValueError("a one-channel PE key has no channel permutation to change; use parameter='negate'")
    perm = np.array(key.channel_perm)
    perm[0, 0] = _swapped(perm[0, 0], "channel_perm[0, 0]")
    return PEKey(key.shape, key.channels, key.negate, perm)


def key_sensitivity(images: Any, key: Any, parameter: str, *, vortex: int = 0, delta: float | None = None,
                    channels: Any = None) -> dict:
    """NPCR/UACI between encryptions of the same images under ``key`` and a one-parameter change of it.

    Parameters
    ----------
    images : array_like
        Images on the key's grid (one or a batch), uint8 or float in [0, 1].
    key, parameter, vortex, delta
        As for :func:`perturb_key`.

    Returns
    -------
    dict
        ``npcr`` and ``uaci`` (percent, over all images), ``map_changed``:
        the fraction of output positions whose source differs between the two
        keys' gather indices (for value-changing keys: of units whose source
        or negation differs between the two element plans).

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> key = vn.VortexKey.random((28, 28), seed=0)
    >>> x = np.random.default_rng(0).integers(0, 256, (4, 28, 28), dtype=np.uint8)
    >>> key_sensitivity(x, key, "weight-ulp")["map_changed"]
    0.0
    """
    other = perturb_key(key, parameter, vortex=vortex, delta=delta)
    as_image_batch(images, "images", grid=key.shape, channels=channels)  # validate once, clearly
    npcr, uaci = npcr_uaci(encrypt(images, key, channels=channels), encrypt(images, other, channels=channels),
                           channels=channels)
    if is_spatial(key):
        changed = float(np.count_nonzero(key.src != other.src)) / key.n_pixels
    else:
        # the share of units (values, or nibbles) whose source or negation differs
        c = key.channels
        a, b = key.element_plan(c), other.element_plan(c)
        neg_a = np.zeros(a.n_units, bool) if a.negate is None else a.negate
        neg_b = np.zeros(b.n_units, bool) if b.negate is None else b.negate
        changed = float(np.count_nonzero((a.src != b.src) | (neg_a != neg_b))) / a.n_units
    return {"npcr": npcr, "uaci": uaci, "map_changed": changed}
