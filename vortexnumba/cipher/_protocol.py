"""What a key is: the :class:`Key` protocol and the one check every module uses.

Any object with these attributes can encrypt: the four key classes of
:mod:`vortexnumba.cipher._keys`, or a user's own. The gather engine, the Dask
functions and the security tools all call :func:`check_key`, so they accept
and refuse the same objects with the same message.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = ["Key", "check_decryptable", "check_key", "is_key", "is_spatial", "key_channels"]


@runtime_checkable
class Key(Protocol):
    """A cipher key: a grid and a gather index over it.

    Attributes
    ----------
    shape : (int, int)
        Grid ``(H, W)`` of the images it encrypts.
    n_pixels : int
        ``H * W``.
    src : ndarray of int64, shape (H * W,)
        Gather index: ``Y.flat[p] = X.flat[src[p]]``.
    is_bijective : bool
        Whether ``src`` is a permutation (so the key can decrypt).
    inverse_src : ndarray of int64
        The inverse gather index (bijective keys only).
    kind : str
        ``"vortex"``, ``"permutation"``, ``"block"``, ``"identity"``, ``"le"``,
        ``"ele"``, ``"etc"``, ``"pe"``, ``"blockwise"`` or a user's own.
    is_spatial : bool, optional
        True when encryption moves whole pixels by ``src`` (the same map for
        every channel) and never changes a value. A key without the
        attribute is treated as spatial.
    channels : int or None, optional
        The channel count the key was built for (None: any; the default).
    element_plan, inverse_plan : callable, optional
        ``element_plan(channels) -> ElementPlan``: the gather over the image's
        elements (or nibbles) and the negation mask that encrypt; the keys
        that are not spatial must have both.

    Examples
    --------
    >>> import vortexnumba as vn
    >>> from vortexnumba.cipher import Key
    >>> isinstance(vn.PermutationKey.random((4, 4), seed=0), Key)
    True
    """

    shape: tuple
    kind: str

    @property
    def n_pixels(self) -> int: ...

    @property
    def src(self) -> np.ndarray: ...

    @property
    def is_bijective(self) -> bool: ...

    @property
    def inverse_src(self) -> np.ndarray: ...

    def to_json(self) -> str: ...

    # is_spatial, channels, element_plan and inverse_plan are optional (see the
    # docstring): a user's key without them is a spatial key, so they are not
    # members that isinstance(..., Key) would require.


_NAMES = ("shape", "n_pixels", "src", "is_bijective", "inverse_src", "kind", "to_json")


def is_key(obj: Any) -> bool:
    """Whether ``obj`` has every attribute of :class:`Key` (without computing ``src``).

    Examples
    --------
    >>> import vortexnumba as vn
    >>> from vortexnumba.cipher import is_key
    >>> is_key(vn.IdentityKey((3, 3))), is_key("key.json")
    (True, False)
    """
    cls = type(obj)
    # look on the class first: hasattr on the instance would build a cached src
    return all(hasattr(cls, n) or n in getattr(obj, "__dict__", {}) for n in _NAMES)


def check_key(key: Any, name: str = "key") -> Any:
    """Return ``key`` if it is a :class:`Key` on a valid grid, else raise ``TypeError``.

    Examples
    --------
    >>> from vortexnumba.cipher import check_key
    >>> check_key(None)
    Traceback (most recent call last):
    ...
    TypeError: key must be a key (VortexKey, PermutationKey, BlockKey, IdentityKey or an object with ...), got NoneType
    """
    if not is_key(key):
        raise TypeError(
            f"{name} must be a key (VortexKey, PermutationKey, BlockKey, IdentityKey or an object with "
            f"shape, n_pixels, src, is_bijective, inverse_src, kind and to_json), got {type(key).__name__}"
        )
    shape = key.shape
    if (not isinstance(shape, tuple) or len(shape) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in shape)):
        raise TypeError(f"{name}.shape must be a pair (H, W) of positive ints, got {shape!r}")
    return key


def is_spatial(key: Any) -> bool:
    """Whether ``key`` moves whole pixels only (``key.is_spatial``; True for a key without it).

    Examples
    --------
    >>> import vortexnumba as vn
    >>> from vortexnumba.cipher import is_spatial
    >>> is_spatial(vn.IdentityKey((2, 2))), is_spatial(vn.PEKey.random((2, 2), channels=3, seed=0))
    (True, False)
    """
    return bool(getattr(key, "is_spatial", True))


def key_channels(key: Any) -> int | None:
    """The channel count ``key`` was built for, or None when it serves any.

    Examples
    --------
    >>> import vortexnumba as vn
    >>> from vortexnumba.cipher import key_channels
    >>> key_channels(vn.LEKey.random((4, 4), channels=3, seed=0)) is None
    False
    """
    value = getattr(key, "channels", None)
    return None if value is None else int(value)


def check_decryptable(key: Any) -> None:
    """Raise the one ``ValueError`` for a key that cannot decrypt; do nothing for one that can.

    Every decrypting path (arrays, files, Dask, the command line) calls this,
    so a lossy key is refused everywhere with the same words.

    Examples
    --------
    >>> import vortexnumba as vn
    >>> from vortexnumba.cipher import check_decryptable
    >>> check_decryptable(vn.VortexKey.random((8, 8), mode="paper", seed=0))
    Traceback (most recent call last):
    ...
    ValueError: this vortex key cannot decrypt: its map is not a permutation, so it has no inverse ...
    """
    if key.is_bijective:
        return
    kind = getattr(key, "kind", type(key).__name__)
    raise ValueError(
        f"this {kind} key cannot decrypt: its map is not a permutation, so it has no inverse (in mode='paper' "
        "the vortex rounds "
        "coordinates, so some pixels are copied twice and others are lost); encrypt with a mode='bijective' "
        "key to be able to decrypt"
    )
