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

import numpy as np

__all__ = [
    "plain_list",
    "as_grid_shape",
    "as_image_batch",
    "as_index",
    "as_float",
    "as_int",
    "as_position",
    "as_seed",
    "as_positive_float",
    "check_finite",
]


def plain_list(values) -> str:
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
    return f"{type(x).__name__} {x!r}"


def as_positive_float(value, name: str, *, minimum: float = 0.0, inclusive: bool = False) -> float:
    """Return ``value`` as a finite float greater than ``minimum``.

    With ``inclusive=True`` the value may also equal ``minimum``.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {_describe(value)}")
    v = float(value)
    ok = np.isfinite(v) and (v >= minimum if inclusive else v > minimum)
    if not ok:
        relation = ">=" if inclusive else ">"
        raise ValueError(f"{name} must be a finite number {relation} {minimum:g}, got {value!r}")
    return v


def as_int(value, name: str) -> int:
    """``value`` as a Python int; bools and non-integers raise ``TypeError``."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an int, got {value!r}")
    try:
        return int(operator.index(value))
    except TypeError:
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}") from None


def as_float(value, name: str) -> float:
    """``value`` as a finite Python float; bools and non-reals raise ``TypeError``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v


def as_seed(seed):
    """A seed: None, a ``SeedSequence`` or a non-negative int (returned as int)."""
    if seed is None or isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (numbers.Integral, np.integer)):
        raise TypeError(f"seed must be None or a non-negative int, got {type(seed).__name__} {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed}")
    return int(seed)


def as_grid_shape(shape, name: str = "shape") -> tuple[int, int]:
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


def as_pixel_array(images, name: str = "images", *, allow_any_numeric: bool = False) -> np.ndarray:
    """Return ``images`` as an ndarray of a supported pixel dtype.

    The information functions read uint8 as ``value / 255`` and floats as
    given, so only those are accepted unless ``allow_any_numeric`` is set
    (the gather engine moves any numeric dtype unchanged).
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
    check_finite(arr, name)
    return arr


def as_image_batch(
    images,
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
    """
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


def as_index(src, name: str = "src", *, n: int | None = None, batch: int | None = None) -> np.ndarray:
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


def as_position(pos, shape: tuple[int, int], name: str) -> int:
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
