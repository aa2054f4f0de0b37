"""Argument checks shared by every public function.

Every public entry point validates its inputs here, before any Numba kernel
sees them, so that bad input gives a ``ValueError`` or ``TypeError`` that
names the argument, what was given and what was expected -- never a Numba
traceback and never a silently wrong answer.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "plain_list",
    "as_grid_shape",
    "as_image_batch",
    "as_index",
    "as_float",
    "as_int",
    "as_int_array",
    "as_native",
    "native_dtype",
    "as_real",
    "as_position",
    "as_seed",
    "as_positive_float",
    "check_finite",
]


def plain_list(values: Iterable[Any]) -> str:
    """Choices for a message, as plain words: ``'a', 'b', 'c'`` (never a Python list).

    Examples
    --------
    >>> plain_list(("bijective", "paper")), plain_list([1, 2, 4])
    ("'bijective', 'paper'", '1, 2, 4')
    """
    return ", ".join(repr(v) if isinstance(v, str) else str(v) for v in values)


def _describe(x) -> str:
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} and dtype {x.dtype}"
    return f"{type(x).__name__} {_show(x)}"


def _show(value) -> str:
    """``repr(value)``, shortened for huge ints (``10**400`` has 401 digits)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        text = str(int(value))
        digits = len(text.lstrip("-"))
        if digits > 24:
            return f"{text[:8]}... (an int of {digits} digits)"
        return text
    if isinstance(value, np.floating):
        return repr(float(value))
    return repr(value)


#: the range every integer parameter must fit unless a caller says otherwise: what NumPy's int64 holds
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1


def _real_or_type_error(value, name: str, what: str = "a real number"):
    """``value`` unwrapped to a Python int or float; ``TypeError`` for bools, strings, complex, arrays."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value[()]  # a 0-d array holds one number: read it as the scalar it holds
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {what}, got {_describe(value)}")
    if isinstance(value, numbers.Integral):
        return int(value)
    return value


def as_real(value: object, name: str, *, minimum: float | None = None, maximum: float | None = None,
            min_inclusive: bool = True, max_inclusive: bool = True) -> float:
    """Return ``value`` as a finite Python float within the given bounds.

    The one check of every real parameter: Python and NumPy ints and floats
    (and 0-d arrays of them) are accepted; bools, strings, complex numbers and
    other objects raise ``TypeError``; NaN, infinities, ints too large for a
    float64 (``10**400``) and values outside the bounds raise ``ValueError``
    naming ``name`` -- never ``OverflowError``.

    Parameters
    ----------
    value : real number
    name : str
        The argument's name, for the message.
    minimum, maximum : float, optional
        Bounds (inclusive unless ``min_inclusive``/``max_inclusive`` is False).

    Examples
    --------
    >>> import numpy as np
    >>> as_real(np.float32(0.5), "h")
    0.5
    >>> as_real(10**400, "strength")
    Traceback (most recent call last):
    ...
    ValueError: strength must be a finite number, got 10000000... (an int of 401 digits) (too large for a float64)
    >>> as_real(float("nan"), "lr", minimum=0.0, min_inclusive=False)
    Traceback (most recent call last):
    ...
    ValueError: lr must be a finite number > 0, got nan
    """
    v = _real_or_type_error(value, name)
    relation = ""
    if minimum is not None:
        relation = f" {'>=' if min_inclusive else '>'} {minimum:g}"
    if maximum is not None:
        relation += (" and" if relation else "") + f" {'<=' if max_inclusive else '<'} {maximum:g}"
    try:
        f = float(v)
    except OverflowError:
        raise ValueError(f"{name} must be a finite number{relation}, got {_show(v)} (too large for a "
                         "float64)") from None
    if not math.isfinite(f):
        raise ValueError(f"{name} must be a finite number{relation}, got {_show(value)}")
    low_ok = minimum is None or (f >= minimum if min_inclusive else f > minimum)
    high_ok = maximum is None or (f <= maximum if max_inclusive else f < maximum)
    if not (low_ok and high_ok):
        raise ValueError(f"{name} must be a finite number{relation}, got {_show(value)}")
    return f


def as_positive_float(value: object, name: str, *, minimum: float = 0.0, inclusive: bool = False,
                      maximum: float | None = None) -> float:
    """Return ``value`` as a finite float greater than ``minimum`` (at most ``maximum``).

    With ``inclusive=True`` the value may also equal ``minimum``. Errors as
    :func:`as_real`.

    Examples
    --------
    >>> as_positive_float(3, "radius", minimum=1.0, inclusive=True)
    3.0
    >>> as_positive_float(-0.1, "learning_rate")
    Traceback (most recent call last):
    ...
    ValueError: learning_rate must be a finite number > 0, got -0.1
    """
    return as_real(value, name, minimum=minimum, min_inclusive=inclusive, maximum=maximum)


def as_float(value: object, name: str, *, minimum: float | None = None, maximum: float | None = None) -> float:
    """``value`` as a finite Python float, optionally within ``[minimum, maximum]``.

    Bools and non-reals raise ``TypeError``; NaN, infinities, ints too large
    for a float64 and values out of bounds raise ``ValueError``
    (see :func:`as_real`).

    Examples
    --------
    >>> import numpy as np
    >>> as_float(np.int64(2), "weight_decay")
    2.0
    >>> as_float(float("inf"), "weight_decay")
    Traceback (most recent call last):
    ...
    ValueError: weight_decay must be a finite number, got inf
    """
    return as_real(value, name, minimum=minimum, maximum=maximum)


def as_int(value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as a Python int within ``[minimum, maximum]``.

    Python and NumPy ints (and 0-d integer arrays) are accepted; bools, floats
    (even ``3.0``) and other objects raise ``TypeError``. Without bounds the
    value must still fit NumPy's int64 (:data:`INT64_MIN` .. :data:`INT64_MAX`),
    so that nothing downstream meets an ``OverflowError``; out of range is a
    ``ValueError`` naming ``name``.

    Examples
    --------
    >>> import numpy as np
    >>> as_int(np.uint8(7), "batch_size", minimum=1)
    7
    >>> as_int(0, "batch_size", minimum=1)
    Traceback (most recent call last):
    ...
    ValueError: batch_size must be an int >= 1, got 0
    >>> as_int(10**400, "n", minimum=0, maximum=10**4)
    Traceback (most recent call last):
    ...
    ValueError: n must be an int from 0 to 10000, got 10000000... (an int of 401 digits)
    """
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iu":
        value = value[()]
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an int, got {value!r}")
    try:
        v = int(operator.index(value))
    except TypeError:
        raise TypeError(f"{name} must be an int, got {_describe(value)}") from None
    lo = INT64_MIN if minimum is None else minimum
    hi = INT64_MAX if maximum is None else maximum
    if not lo <= v <= hi:
        if minimum is not None and maximum is not None:
            relation = f"from {minimum} to {maximum}"
        elif minimum is not None:
            relation = f">= {minimum}" + (f" (and at most {INT64_MAX})" if v > INT64_MAX else "")
        elif maximum is not None:
            relation = f"<= {maximum}" + (f" (and at least {INT64_MIN})" if v < INT64_MIN else "")
        else:
            relation = f"from {INT64_MIN} to {INT64_MAX}"
        raise ValueError(f"{name} must be an int {relation}, got {_show(v)}")
    return v


def as_int_array(values: Any, name: str, *, minimum: int | None = None, maximum: int | None = None) -> np.ndarray:
    """A 1-D sequence of ints (a parsed JSON list, say) as an int64 array, every entry checked first.

    Each entry must be an int (not a bool or float) within ``[minimum,
    maximum]`` (default: int64's range), so a huge entry such as ``10**30``
    is a ``ValueError`` naming ``name`` and the entry's position instead of
    NumPy's ``OverflowError``.

    Examples
    --------
    >>> as_int_array([2, 0, 1], "key field 'src'", minimum=0, maximum=2).tolist()
    [2, 0, 1]
    >>> as_int_array([0, 10**30], "key field 'src'", minimum=0, maximum=1)
    Traceback (most recent call last):
    ...
    ValueError: key field 'src'[1] must be an int from 0 to 1, got 10000000... (an int of 31 digits)
    """
    if isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise ValueError(f"{name} must be a 1-D sequence of ints, got shape {values.shape}")
        if values.size and values.dtype.kind not in "iu":
            raise TypeError(f"{name} must hold ints only, got dtype {values.dtype}")
        values = values.tolist()
    if isinstance(values, (str, bytes, dict)) or values is None:
        raise TypeError(f"{name} must be a sequence of ints, got {_describe(values)}")
    try:
        items = list(values)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of ints, got {_describe(values)}") from None

    def first_bad(entries):
        for i, v in enumerate(entries):  # raises at the first entry that is not an int in range
            as_int(v, f"{name}[{i}]", minimum=minimum, maximum=maximum)

    if not all(type(v) is int for v in items):  # NumPy ints, bools, floats, ...: entry by entry
        first_bad(items)
        return np.array([int(v) for v in items], dtype=np.int64)
    try:
        arr = np.array(items, dtype=np.int64)
    except OverflowError:
        first_bad(items)
        raise
    lo = INT64_MIN if minimum is None else minimum
    hi = INT64_MAX if maximum is None else maximum
    if arr.size and (int(arr.min()) < lo or int(arr.max()) > hi):
        first_bad(items)
    return arr


def as_seed(seed: object) -> int | np.random.SeedSequence | None:
    """A seed: None, a ``SeedSequence`` or a non-negative int (returned as int).

    Any size of int is a valid seed (NumPy's ``SeedSequence`` takes them all).

    Examples
    --------
    >>> import numpy as np
    >>> as_seed(np.uint32(7)), as_seed(None)
    (7, None)
    >>> as_seed(-1)
    Traceback (most recent call last):
    ...
    ValueError: seed must be a non-negative int, got -1
    """
    if seed is None or isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.ndarray) and seed.ndim == 0 and seed.dtype.kind in "iu":
        seed = seed[()]
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (numbers.Integral, np.integer)):
        raise TypeError(f"seed must be None or a non-negative int, got {_describe(seed)}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {_show(seed)}")
    return int(seed)


def as_grid_shape(shape: Any, name: str = "shape") -> tuple[int, int]:
    """Return ``shape`` as a pair of positive ints ``(H, W)``."""
    try:
        items = tuple(shape)
    except TypeError:
        raise TypeError(f"{name} must be a pair (H, W) of positive ints, got {_describe(shape)}") from None
    if len(items) != 2:
        raise ValueError(f"{name} must be a pair (H, W) of positive ints, got {shape!r}")
    out = []
    for v in items:
        if isinstance(v, (bool, np.bool_)):  # operator.index(True) == 1 would pass silently
            raise TypeError(f"{name} must be a pair (H, W) of positive ints, got {shape!r}")
        try:
            iv = operator.index(v)
        except TypeError:
            raise TypeError(f"{name} must be a pair (H, W) of positive ints, got {shape!r}") from None
        if iv < 1:
            raise ValueError(f"{name} must be a pair (H, W) of positive ints, got {shape!r}")
        out.append(int(iv))
    return out[0], out[1]


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise ``ValueError`` if a floating array holds NaN or infinity."""
    if arr.dtype.kind in "fc" and arr.size and not np.isfinite(arr).all():
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} must hold only finite values, got {bad} NaN or infinite value(s)")


def as_native(arr: np.ndarray) -> np.ndarray:
    """``arr`` in the machine's byte order: itself when already native, else a native copy.

    The one byte-order conversion of the package: every array a kernel reads
    passes through here (via :func:`as_pixel_array`), so a big-endian array
    (a memmap of a file written elsewhere, a ``>f8`` ``.npy``) is read as the
    numbers it holds, never as byte-swapped data. The caller's array is
    never changed. A Dask array gets a lazy conversion (``astype``).

    Examples
    --------
    >>> import numpy as np
    >>> big = np.arange(3, dtype=">f8")
    >>> native = as_native(big)
    >>> native.dtype.isnative, native.tolist() == big.tolist()
    (True, True)
    >>> x = np.zeros(3)
    >>> as_native(x) is x
    True
    """
    if arr.dtype.isnative:
        return arr
    return arr.astype(native_dtype(arr.dtype))


def native_dtype(dtype: npt.DTypeLike) -> np.dtype:
    """``dtype`` in the machine's byte order (itself when already native).

    What :func:`as_native` converts to; outputs allocated for a possibly
    non-native input use it, so that they match the data the kernels read.
    Works on anything with a ``dtype`` that NumPy understands (a Dask array's too).

    Examples
    --------
    >>> import numpy as np
    >>> native_dtype(">f8") == np.float64
    True
    """
    dtype = np.dtype(dtype)
    return dtype if dtype.isnative else dtype.newbyteorder("=")


def as_pixel_array(images: Any, name: str = "images", *, allow_any_numeric: bool = False) -> np.ndarray:
    """Return ``images`` as an ndarray of a supported pixel dtype.

    The information functions read uint8 as ``value / 255`` and floats as
    given, so only those are accepted unless ``allow_any_numeric`` is set
    (the gather engine moves any numeric dtype unchanged). Any byte order is
    accepted: a non-native array comes back as a native copy
    (:func:`as_native`), a native one as itself.

    Examples
    --------
    >>> import numpy as np
    >>> as_pixel_array(np.zeros((2, 2), dtype=">f4")).dtype.isnative
    True
    >>> as_pixel_array(np.zeros((2, 2), dtype=np.int16))
    Traceback (most recent call last):
    ...
    TypeError: images must have dtype uint8 (read as value/255) or a float dtype, got dtype int16
    """
    if isinstance(images, (str, bytes)) or images is None:
        raise TypeError(f"{name} must be a numeric array, got {_describe(images)}")
    arr = np.asarray(images)
    if arr.dtype == object or arr.dtype.kind not in "biufc":
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if allow_any_numeric:
        if arr.dtype.kind == "c":
            raise TypeError(f"{name} must be a real-valued array, got dtype {arr.dtype}")
    elif not (arr.dtype == np.uint8 or arr.dtype.kind == "f"):
        raise TypeError(
            f"{name} must have dtype uint8 (read as value/255) or a float dtype, got dtype {arr.dtype}"
        )
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    arr = as_native(arr)
    check_finite(arr, name)
    return arr


def as_image_batch(
    images: Any,
    name: str = "images",
    *,
    n_pixels: int | None = None,
    grid: tuple[int, int] | None = None,
    channels: bool | None = None,
    allow_any_numeric: bool = False,
) -> tuple[np.ndarray, bool]:
    """View ``images`` as a 4-D batch ``(B, H, W, C)`` without copying.

    Parameters
    ----------
    images : array_like
        ``(H, W)``, ``(H, W, C)``, ``(B, H, W)`` or ``(B, H, W, C)``.
    n_pixels : int, optional
        The grid must hold this many pixels (the length of a gather index).
    grid : (int, int), optional
        The grid must have exactly this shape (a key's shape).
    channels : bool, optional
        Resolve a 3-D array explicitly: ``True`` means ``(H, W, C)``,
        ``False`` means ``(B, H, W)``. ``None`` infers it from ``n_pixels`` or
        ``grid``; without them, a last axis longer than 4 means a batch and a
        last axis of at most 4 that is shorter than both others means
        channels. It raises when the shape leaves both readings open.

    Returns
    -------
    batch : ndarray
        A 4-D view ``(B, H, W, C)`` of the input.
    is_batch : bool
        Whether the input had a batch axis.

    Examples
    --------
    >>> import numpy as np
    >>> batch, is_batch = as_image_batch(np.zeros((5, 6, 3)), channels=True)
    >>> batch.shape, is_batch
    ((1, 5, 6, 3), False)
    """
    if channels is not None and not isinstance(channels, (bool, np.bool_)):
        raise TypeError(f"channels must be None, True or False, got {_describe(channels)}")
    channels = None if channels is None else bool(channels)
    if type(images).__module__.partition(".")[0] == "torch":
        # np.asarray would silently take a CPU tensor's (C, H, W) as (B, H, W) or (H, W, C)
        raise TypeError(
            f"{name} is a torch tensor; this function takes NumPy arrays in (B, H, W, C) order. For "
            "(C, H, W) tensors use the transforms of vortexnumba.torch (Encrypt(key), Decrypt(key)), "
            "or pass x.permute(0, 2, 3, 1).cpu().numpy()"
        )
    arr = as_pixel_array(images, name, allow_any_numeric=allow_any_numeric)

    def fits(h: int, w: int) -> bool:
        if grid is not None:
            return (h, w) == tuple(grid)
        if n_pixels is not None:
            return h * w == n_pixels
        return True

    expected = (
        f"grid {grid[0]}x{grid[1]}" if grid is not None
        else f"N = {n_pixels} pixels of the gather index" if n_pixels is not None else "any grid"
    )
    if arr.ndim == 2:
        if not fits(*arr.shape):
            raise ValueError(f"{name} has shape {arr.shape}, which does not match the {expected}")
        return arr[None, :, :, None], False
    if arr.ndim == 4:
        if not fits(arr.shape[1], arr.shape[2]):
            seen = (" (it reads as (B, C, H, W), PyTorch's order: move the channels last with "
                    "x.transpose(0, 2, 3, 1))") if fits(arr.shape[2], arr.shape[3]) else ""
            raise ValueError(
                f"{name} has shape {arr.shape}; expected (B, H, W, C) with the {expected}{seen}"
            )
        return arr, True
    if arr.ndim != 3:
        raise ValueError(
            f"{name} must be (H, W), (H, W, C), (B, H, W) or (B, H, W, C), got shape {arr.shape}"
        )
    as_image = fits(arr.shape[0], arr.shape[1])
    as_batch = fits(arr.shape[1], arr.shape[2])
    if channels is None and as_image and as_batch and grid is None and n_pixels is None:
        # Nothing fixes the grid: read the last axis as channels when it is short (grey+alpha,
        # RGB, RGBA) and shorter than both others, as a batch when it is longer than 4.
        d0, d1, d2 = arr.shape
        if d2 > 4:
            channels = False
        elif d2 < min(d0, d1):
            channels = True
        else:
            raise ValueError(
                f"{name} has shape {arr.shape}: pass channels=True for one (H, W, C) image "
                "or channels=False for a (B, H, W) batch"
            )
    if channels is None:
        if as_image and as_batch:
            raise ValueError(
                f"{name} has shape {arr.shape}, which reads both as one (H, W, C) image and as "
                "a (B, H, W) batch: pass channels=True or channels=False"
            )
        channels = as_image
    if channels:
        if not as_image:
            seen = (" (it reads as (C, H, W), PyTorch's order: move the channels last with "
                    "x.transpose(1, 2, 0))") if as_batch else ""
            raise ValueError(f"{name} has shape {arr.shape}; as (H, W, C) it does not match the {expected}{seen}")
        return arr[None], False
    if not as_batch:
        raise ValueError(f"{name} has shape {arr.shape}; as (B, H, W) it does not match the {expected}")
    return arr[..., None], True


def as_index(src: Any, name: str = "src", *, n: int | None = None, batch: int | None = None) -> np.ndarray:
    """Return a gather index as a C-contiguous int64 array.

    ``src`` is ``(N,)`` or, when ``batch`` is given, may also be ``(B, N)``.
    Every entry must lie in ``[0, N)``.
    """
    if isinstance(src, (str, bytes)) or src is None:
        raise TypeError(f"{name} must be an integer array, got {_describe(src)}")
    arr = np.asarray(src)
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "b" or arr.dtype == object or arr.size == 0 and arr.dtype.kind != "f":
            raise TypeError(f"{name} must be an integer array, got dtype {arr.dtype}")
        if arr.dtype.kind == "f" and arr.size and np.isfinite(arr).all() and (arr == np.round(arr)).all():
            raise TypeError(
                f"{name} must be an integer array, got dtype {arr.dtype} (cast it with .astype(int))"
            )
        raise TypeError(f"{name} must be an integer array, got dtype {arr.dtype}")
    allowed = (1, 2) if batch is not None else (1,)
    if arr.ndim not in allowed:
        shapes = "(N,) or (B, N)" if batch is not None else "(N,)"
        raise ValueError(f"{name} must have shape {shapes}, got shape {arr.shape}")
    if arr.shape[-1] == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if n is not None and arr.shape[-1] != n:
        raise ValueError(f"{name} has {arr.shape[-1]} entries per map, expected N = {n} (one per pixel)")
    if arr.ndim == 2 and batch is not None and arr.shape[0] != batch:
        raise ValueError(f"{name} has {arr.shape[0]} maps, expected one per image ({batch})")
    n_eff = arr.shape[-1]
    lo, hi = arr.min(), arr.max()
    if lo < 0 or hi >= n_eff:
        raise ValueError(f"{name} entries must lie in [0, {n_eff}), got values from {lo} to {hi}")
    return np.ascontiguousarray(arr, dtype=np.int64)


def as_position(pos: Any, shape: tuple[int, int], name: str) -> int:
    """Return a grid position, ``(i, j)`` or a flat int, as a flat index."""
    h, w = shape
    if isinstance(pos, (bool, np.bool_)):
        raise TypeError(f"{name} must be a flat int or an (i, j) pair, got {pos!r}")
    if isinstance(pos, (numbers.Integral, np.integer)):
        q = int(pos)
        if not 0 <= q < h * w:
            raise ValueError(f"{name} = {q} lies outside the {h}x{w} grid (flat indices 0..{h * w - 1})")
        return q
    try:
        items = tuple(pos)
    except TypeError:
        raise TypeError(f"{name} must be a flat int or an (i, j) pair, got {_describe(pos)}") from None
    if len(items) != 2 or not all(
        isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in items
    ):
        raise TypeError(f"{name} must be a flat int or an (i, j) pair of ints, got {pos!r}")
    i, j = int(items[0]), int(items[1])
    if not (0 <= i < h and 0 <= j < w):
        raise ValueError(f"{name} = ({i}, {j}) lies outside the {h}x{w} grid")
    return i * w + j


def as_one_image(
    image: Any,
    name: str = "image",
    *,
    grid: tuple[int, int] | None = None,
    channels: bool | None = None,
) -> np.ndarray:
    """View one image ``(H, W)`` or ``(H, W, C)`` as ``(1, H, W, C)``; a batch is a ``ValueError``.

    The single check behind every function that measures one image; ``grid``
    and ``channels`` are as for :func:`as_image_batch`.

    Examples
    --------
    >>> import numpy as np
    >>> from vortexnumba._validate import as_one_image
    >>> as_one_image(np.zeros((4, 5))).shape
    (1, 4, 5, 1)
    >>> as_one_image(np.zeros((2, 4, 5, 3)))
    Traceback (most recent call last):
    ...
    ValueError: image must be one image (H, W) or (H, W, C), got a batch of shape (2, 4, 5, 3)
    """
    batch, is_batch = as_image_batch(image, name, grid=grid, channels=channels)
    if is_batch:
        raise ValueError(f"{name} must be one image (H, W) or (H, W, C), got a batch of shape {np.shape(image)}")
    return batch
