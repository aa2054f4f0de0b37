"""Per-image baselines: a fresh pixel permutation (the paper's "random") or PE key for every image.

Not a cipher (nobody could decrypt without storing one permutation per
image, and a network cannot learn a map that changes from image to image);
it is the "random" column of the paper's table and the lower bound of how
much neighbour information an encryption can destroy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validate import as_image_batch, as_seed
from ._gather import batch_view, check_plan_dtype, prepare_out, run, run_plan
from ._limits import check_plan_units
from ._scheme_keys import PEKey, pe_draw, pe_plan_arrays

__all__ = ["pe_each", "shuffle_each"]

# Images are shuffled in chunks so that the int64 indices never take more
# memory than a few MiB, whatever the batch size.
_CHUNK_PIXELS = 1 << 20


def shuffle_each(images: Any, seed: Any = None, return_src: bool = False, *, out: np.ndarray | None = None,
                 channels: Any = None) -> Any:
    """Move the pixels of every image by its own random permutation.

    The channels of an image share its permutation. Image ``b`` uses the
    ``b``-th draw ``rng.permutation(H * W)`` of ``numpy.random.default_rng(seed)``,
    so the result does not depend on how the batch is split.

    Parameters
    ----------
    images : array_like
        ``(H, W)``, ``(H, W, C)``, ``(B, H, W)`` or ``(B, H, W, C)``, any real dtype.
    seed : int or None
        Same seed, same permutations.
    return_src : bool
        Also return the gather indices, ``(B, N)`` (``(N,)`` for one image).
    out : ndarray, optional
        Output buffer, same shape and dtype as ``images``.
    channels : bool, optional
        How to read a 3-D array: ``True`` for one ``(H, W, C)`` image,
        ``False`` for a ``(B, H, W)`` batch. Without a key there is no grid to
        tell the two apart; by default a last axis longer than 4 means a
        batch, a last axis of at most 4 that is shorter than both other axes
        means one image (gray, RGB, RGBA), and anything else must be said.

    Returns
    -------
    shuffled : ndarray
    src : ndarray of int64, only if ``return_src``

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> x = np.arange(50, dtype=np.uint8).reshape(2, 5, 5)
    >>> y = vn.shuffle_each(x, seed=0)
    >>> [sorted(y[b].ravel().tolist()) == sorted(x[b].ravel().tolist()) for b in range(2)]
    [True, True]
    """
    x4, is_batch = as_image_batch(images, "images", channels=channels, allow_any_numeric=True)
    rng = np.random.default_rng(as_seed(seed))
    arr = np.asarray(images)
    result = prepare_out(out, arr, is_batch)
    o4 = batch_view(result, is_batch)
    n_img, h, w, _ = x4.shape
    n_pix = h * w
    all_src = np.empty((n_img, n_pix), dtype=np.int64) if return_src else None
    chunk = max(1, _CHUNK_PIXELS // n_pix)
    for start in range(0, n_img, chunk):
        stop = min(n_img, start + chunk)
        src = all_src[start:stop] if return_src else np.empty((stop - start, n_pix), dtype=np.int64)
        for row in src:
            row[:] = rng.permutation(n_pix)
        run(x4[start:stop], src, o4[start:stop])
    if return_src:
        return result, (all_src if is_batch else all_src[0])
    return result


def pe_each(images: Any, seed: Any = None, return_keys: bool = False, *, out: np.ndarray | None = None,
            channels: Any = None) -> Any:
    """Encrypt every image with its own fresh PE key (pixel-based encryption without key management).

    Image ``b`` uses ``PEKey.random(grid, channels=C, seed=s[b])``, where
    ``s = default_rng(seed).integers(0, 2**63 - 1, size=B)``; so each image's
    key can be rebuilt from ``seed`` alone, and the same seed gives the same
    bytes however the work is chunked.

    Parameters
    ----------
    images : array_like
        ``(H, W)``, ``(H, W, C)``, ``(B, H, W)`` or ``(B, H, W, C)``, uint8
        or float in [0, 1] (negation is ``255 - v`` or ``1 - v``).
    seed : int or None
    return_keys : bool
        Also return the keys: a list of :class:`PEKey` (one key for one image).
    out : ndarray, optional
        Output buffer, same shape and dtype as ``images``.
    channels : bool, optional
        How to read a 3-D array (see :func:`shuffle_each`).

    Returns
    -------
    encrypted : ndarray
    keys : list of PEKey (or one PEKey), only if ``return_keys``

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> x = np.random.default_rng(0).integers(0, 256, (3, 4, 4, 3), dtype=np.uint8)
    >>> y, keys = vn.pe_each(x, seed=7, return_keys=True)
    >>> bool((vn.decrypt(y[2], keys[2]) == x[2]).all())
    True
    >>> bool((vn.pe_each(x, seed=7) == y).all())
    True
    """
    x4, is_batch = as_image_batch(images, "images", channels=channels, allow_any_numeric=True)
    n_img, h, w, c = x4.shape
    check_plan_units((h, w), c, 1, "pe")
    check_plan_dtype("element", True, x4.dtype)
    seeds = np.random.default_rng(as_seed(seed)).integers(0, 2**63 - 1, size=n_img, dtype=np.int64)
    result = prepare_out(out, np.asarray(images), is_batch)
    o4 = batch_view(result, is_batch)
    m = h * w * c
    chunk = max(1, _CHUNK_PIXELS // m)
    keys = []
    for start in range(0, n_img, chunk):
        stop = min(n_img, start + chunk)
        src = np.empty((stop - start, m), dtype=np.int64)
        neg = np.empty((stop - start, m), dtype=np.bool_)
        for r, b in enumerate(range(start, stop)):
            negate, channel_perm = pe_draw(np.random.default_rng(int(seeds[b])), h, w, c)
            src[r], neg[r] = pe_plan_arrays(negate, channel_perm)
            if return_keys:
                keys.append(PEKey((h, w), c, negate, channel_perm))
        run_plan(x4[start:stop], "element", src, neg, o4[start:stop])
    if return_keys:
        return result, (keys if is_batch else keys[0])
    return result
