"""Known- and chosen-plaintext attacks on any fixed gather map, and on element plans with negation."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validate import as_grid_shape, as_image_batch

# --------------------------------------------------------------------------- known-plaintext attack

def _pair_batches(plain, cipher, channels):
    if channels is None:
        channels = False  # pairs come as batches: a 3-D array is (B, H, W)
    p4, _ = as_image_batch(plain, "plain", channels=channels, allow_any_numeric=True)
    c4, _ = as_image_batch(cipher, "cipher", channels=channels, allow_any_numeric=True)
    if p4.shape != c4.shape:
        raise ValueError(f"plain and cipher must have the same shape (B, H, W[, C]), got {np.shape(plain)} and "
                         f"{np.shape(cipher)}")
    if p4.dtype != c4.dtype:
        raise TypeError(f"plain and cipher must have the same dtype, got {p4.dtype} and {c4.dtype}")
    return p4, c4


def _signatures(x4: np.ndarray) -> np.ndarray:
    """Each grid position's values across all images and channels, as one opaque byte string."""
    b, h, w, c = x4.shape
    rows = np.ascontiguousarray(np.moveaxis(x4, 0, 2).reshape(h * w, b * c))
    return rows.view(np.dtype((np.void, rows.dtype.itemsize * b * c))).ravel()


def recover_index(plain: Any, cipher: Any, *, channels: Any = None) -> tuple[np.ndarray, int]:
    """Known-plaintext attack on a fixed spatial map: recover its gather index from pairs.

    For every grid position ``q`` the attacker writes down its *signature*:
    the values it holds in all plaintexts (every channel). Since
    ``cipher.flat[p] = plain.flat[src[p]]`` in every pair, output position
    ``p`` has the signature of ``src[p]``. Where exactly one plaintext
    position carries that signature, ``src[p]`` is found; where several do
    (e.g. pixels that are 0 in every known image), it stays ambiguous.

    Parameters
    ----------
    plain, cipher : array_like
        Plaintexts and their encryptions under one key: ``(B, H, W)`` or
        ``(B, H, W, C)`` (or one pair ``(H, W)``), same shape and dtype, any
        real dtype (values compared bit for bit).
    channels : bool, optional
        ``True`` reads a 3-D array as one ``(H, W, C)`` pair; by default it is
        a batch ``(B, H, W)`` of grey pairs.

    Returns
    -------
    index : ndarray of int64, shape (H * W,)
        The recovered ``src[p]``, or -1 where the pairs leave it ambiguous.
    n_ambiguous : int
        How many entries are -1.

    Raises
    ------
    ValueError
        If some cipher position's values occur at no plaintext position: no
        fixed gather map relates the pairs.

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> key = vn.PermutationKey.random((4, 4), seed=0)
    >>> x = np.random.default_rng(1).integers(0, 256, (3, 4, 4), dtype=np.uint8)
    >>> index, n_ambiguous = recover_index(x, vn.encrypt(x, key))
    >>> n_ambiguous, bool((index == key.src).all())
    (0, True)
    """
    p4, c4 = _pair_batches(plain, cipher, channels)
    n = p4.shape[1] * p4.shape[2]
    sig = np.concatenate([_signatures(p4), _signatures(c4)])
    _, labels = np.unique(sig, return_inverse=True)
    labels = labels.ravel()
    plain_labels, cipher_labels = labels[:n], labels[n:]
    n_labels = int(labels.max()) + 1
    count = np.bincount(plain_labels, minlength=n_labels)
    owner = np.full(n_labels, -1, dtype=np.int64)
    owner[plain_labels] = np.arange(n, dtype=np.int64)
    missing = count[cipher_labels] == 0
    if missing.any():
        p = int(np.flatnonzero(missing)[0])
        raise ValueError(f"cipher position {p} holds values found at no plaintext position: the pairs are not "
                         f"related by one fixed spatial map ({int(missing.sum())} such position(s))")
    index = np.where(count[cipher_labels] == 1, owner[cipher_labels], -1)
    return index, int(np.count_nonzero(index < 0))


def pairs_to_recover(plain: Any, cipher: Any, *, channels: Any = None,
                     target: float = 1.0) -> tuple[int | None, np.ndarray]:
    """How many of the given pairs, taken in order, the attack needs.

    Parameters
    ----------
    plain, cipher : array_like
        ``(B, H, W[, C])`` pairs as for :func:`recover_index`.
    target : float
        Fraction of positions in ``(0, 1]`` that must be recovered.

    Returns
    -------
    k : int or None
        The smallest ``k`` such that the first ``k`` pairs recover at least
        ``target`` of the positions (``None`` if all ``B`` pairs do not).
    recovered : ndarray of float64, shape (B,)
        Fraction of positions recovered by the first ``1, 2, ..., B`` pairs
        (computed until ``target`` is reached; NaN after).

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> key = vn.PermutationKey.random((4, 4), seed=0)
    >>> x = np.random.default_rng(1).integers(0, 256, (3, 4, 4), dtype=np.uint8)
    >>> k, curve = pairs_to_recover(x, vn.encrypt(x, key))
    >>> k, curve[:k].tolist()  # one pair repeats a value, so two positions stay ambiguous
    (2, [0.875, 1.0])
    """
    target = float(target)
    if not 0.0 < target <= 1.0:
        raise ValueError(f"target must lie in (0, 1], got {target}")
    p4, c4 = _pair_batches(plain, cipher, channels)
    b, h, w, _ = p4.shape
    n = h * w
    curve = np.full(b, np.nan)
    # refine position classes one pair at a time: a class splits by the new values
    labels = np.zeros(2 * n, dtype=np.int64)
    for k in range(b):
        values = np.concatenate([_signatures(p4[k : k + 1]), _signatures(c4[k : k + 1])])
        _, value_labels = np.unique(values, return_inverse=True)
        combined = labels * (int(value_labels.max()) + 1) + value_labels.ravel()
        _, labels = np.unique(combined, return_inverse=True)
        labels = labels.ravel()
        count = np.bincount(labels[:n], minlength=int(labels.max()) + 1)
        hits = count[labels[n:]]
        if (hits == 0).any():
            raise ValueError(f"pair {k}: the pairs are not related by one fixed spatial map")
        curve[k] = float(np.count_nonzero(hits == 1)) / n
        if curve[k] >= target:
            return k + 1, curve
    return None, curve


def chosen_plaintext(shape: Any, *, layout: str = "images") -> np.ndarray:
    """Plaintexts whose pixels spell their own position, so that one encryption reveals any map.

    Position ``q`` holds the base-256 digits of ``q``; ``D = max(1, ceil(log256 N))``
    digits are needed. After encryption, output position ``p`` holds the
    digits of ``src[p]``, which :func:`recover_index` (or reading the digits)
    turns back into the whole gather index, with nothing ambiguous, whatever
    the map.

    Parameters
    ----------
    shape : (int, int)
        Grid ``(H, W)``.
    layout : {"images", "channels"}
        ``"images"``: ``D`` grey images ``(D, H, W)`` (digit ``d`` in image
        ``d``, least significant first); ``"channels"``: one image
        ``(H, W, D)`` (e.g. one 2-channel image for 28x28, one RGB image for
        up to 2**24 pixels).

    Returns
    -------
    ndarray of uint8

    Examples
    --------
    >>> import vortexnumba as vn
    >>> key = vn.VortexKey.random((28, 28), seed=5)
    >>> probe = chosen_plaintext((28, 28))
    >>> probe.shape
    (2, 28, 28)
    >>> index, n_ambiguous = recover_index(probe, vn.encrypt(probe, key))
    >>> n_ambiguous, bool((index == key.src).all())
    (0, True)
    """
    h, w = as_grid_shape(shape, "shape")
    if layout not in ("images", "channels"):
        raise ValueError(f"layout must be 'images' or 'channels', got {layout!r}")
    n = h * w
    digits = max(1, math.ceil(math.log(n, 256) - 1e-12)) if n > 1 else 1
    while 256**digits < n:  # guard against rounding in the logarithm
        digits += 1
    q = np.arange(n, dtype=np.int64)
    planes = np.stack([(q >> (8 * d)) & 0xFF for d in range(digits)]).astype(np.uint8).reshape(digits, h, w)
    return planes if layout == "images" else np.ascontiguousarray(np.moveaxis(planes, 0, -1))


# --------------------------------------------------------------------------- element plans (value-changing keys)

def _units(x4: np.ndarray, unit: str) -> tuple[np.ndarray, int]:
    """``(U, B)`` values of every unit over the images, and the top value that negation maps 0 to."""
    b = x4.shape[0]
    flat = np.ascontiguousarray(x4).reshape(b, -1)
    if unit == "element":
        top = 255 if x4.dtype == np.uint8 else 1
        return np.ascontiguousarray(flat.T), top
    if x4.dtype != np.uint8:
        raise TypeError(f"nibble units need uint8 images, got dtype {x4.dtype}")
    nib = np.empty((b, 2 * flat.shape[1]), np.uint8)
    nib[:, 0::2] = flat & 15
    nib[:, 1::2] = flat >> 4
    return np.ascontiguousarray(nib.T), 15


def _row_labels(rows: np.ndarray) -> np.ndarray:
    rows = np.ascontiguousarray(rows)
    view = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    return np.unique(view, return_inverse=True)[1].ravel()


def _match(labels: np.ndarray, n: int):
    """From labels of [plain units, negated plain units, cipher units]: source, negation, matches per cipher unit."""
    n_labels = int(labels.max()) + 1
    plain, negated, cipher = labels[:n], labels[n:2 * n], labels[2 * n:]
    count_p = np.bincount(plain, minlength=n_labels)
    count_n = np.bincount(negated, minlength=n_labels)
    owner_p = np.full(n_labels, -1, np.int64)
    owner_p[plain] = np.arange(n)
    owner_n = np.full(n_labels, -1, np.int64)
    owner_n[negated] = np.arange(n)
    hits = count_p[cipher] + count_n[cipher]
    from_plain = count_p[cipher] == 1
    src = np.where(hits == 1, np.where(from_plain, owner_p[cipher], owner_n[cipher]), -1)
    negate = (hits == 1) & ~from_plain
    return src, negate, hits


def recover_plan(plain: Any, cipher: Any, *, unit: str = "element",
                 channels: Any = None) -> tuple[np.ndarray, np.ndarray, int]:
    """Known-plaintext attack on a fixed element (or nibble) gather with negation.

    The generalisation of :func:`recover_index` to the keys that change
    values (LE, ELE, EtC, PE, block-wise): each unit (a value at a position
    and channel, or a 4-bit half of one) has a signature, its values over
    all plaintexts. Output unit ``m`` comes from input unit ``q`` un-negated
    when its signature equals ``q``'s, negated when it equals the negation
    of ``q``'s (``255 - v``, ``15 - v`` for nibbles, ``1 - v`` for floats).
    Where exactly one of these matches, the plan entry is found.

    Parameters
    ----------
    plain, cipher : array_like
        ``(B, H, W)`` or ``(B, H, W, C)`` pairs under one key, same shape and
        dtype (uint8 for ``unit="nibble"``).
    unit : {"element", "nibble"}
    channels : bool, optional
        As for :func:`recover_index`.

    Returns
    -------
    src : ndarray of int64, shape (M,)
        The recovered gather over units, -1 where ambiguous.
    negate : ndarray of bool, shape (M,)
        Whether the recovered entry is negated (False where ambiguous).
    n_ambiguous : int

    Raises
    ------
    ValueError
        If a cipher unit matches no plaintext unit, plain or negated.

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> key = vn.PEKey.random((4, 4), channels=3, seed=0)
    >>> x = np.random.default_rng(1).integers(0, 256, (3, 4, 4, 3), dtype=np.uint8)
    >>> src, negate, n_ambiguous = recover_plan(x, vn.encrypt(x, key))
    >>> plan = key.element_plan(3)
    >>> n_ambiguous, bool((src == plan.src).all()), bool((negate == plan.negate).all())
    (0, True, True)
    """
    if unit not in ("element", "nibble"):
        raise ValueError(f"unit must be 'element' or 'nibble', got {unit!r}")
    p4, c4 = _pair_batches(plain, cipher, channels)
    pu, top = _units(p4, unit)
    cu, _ = _units(c4, unit)
    negated = (top - pu).astype(pu.dtype)
    n = pu.shape[0]
    labels = _row_labels(np.concatenate([pu, negated, cu]))
    src, negate, hits = _match(labels, n)
    if (hits == 0).any():
        p = int(np.flatnonzero(hits == 0)[0])
        raise ValueError(f"cipher unit {p} holds values found at no plaintext unit, plain or negated: the pairs "
                         f"are not related by one fixed {unit} plan ({int((hits == 0).sum())} such unit(s))")
    return src, negate, int(np.count_nonzero(src < 0))


def plan_pairs_to_recover(plain: Any, cipher: Any, *, unit: str = "element", channels: Any = None,
                          target: float = 1.0) -> tuple[int | None, np.ndarray]:
    """How many of the given pairs, in order, :func:`recover_plan` needs for ``target`` of the units.

    Returns
    -------
    k : int or None
        The smallest number of pairs recovering at least ``target`` of the
        units (gather and negation); None if all pairs do not.
    recovered : ndarray of float64, shape (B,)
        Share of units recovered after ``1, 2, ...`` pairs (NaN after ``k``).

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> key = vn.LEKey.random((4, 4), block=2, channels=1, seed=0)
    >>> x = np.random.default_rng(1).integers(0, 256, (8, 4, 4), dtype=np.uint8)
    >>> k, curve = plan_pairs_to_recover(x, vn.encrypt(x, key), unit="nibble")
    >>> k is not None and bool(curve[k - 1] == 1.0)
    True
    """
    target = float(target)
    if not 0.0 < target <= 1.0:
        raise ValueError(f"target must lie in (0, 1], got {target}")
    if unit not in ("element", "nibble"):
        raise ValueError(f"unit must be 'element' or 'nibble', got {unit!r}")
    p4, c4 = _pair_batches(plain, cipher, channels)
    b = p4.shape[0]
    curve = np.full(b, np.nan)
    labels = None
    for k in range(b):
        pu, top = _units(p4[k:k + 1], unit)
        cu, _ = _units(c4[k:k + 1], unit)
        values = np.concatenate([pu, (top - pu).astype(pu.dtype), cu])
        value_labels = _row_labels(values)
        if labels is None:
            labels = value_labels
        else:
            _, labels = np.unique(labels * (int(value_labels.max()) + 1) + value_labels, return_inverse=True)
            labels = labels.ravel()
        src, _, hits = _match(labels, pu.shape[0])
        if (hits == 0).any():
            raise ValueError(f"pair {k}: the pairs are not related by one fixed {unit} plan")
        curve[k] = float(np.count_nonzero(src >= 0)) / pu.shape[0]
        if curve[k] >= target:
            return k + 1, curve
    return None, curve


def chosen_plaintext_plan(shape: Any, channels: int, *, unit: str = "element") -> np.ndarray:
    """uint8 plaintexts that reveal any element (or nibble) plan with negation in one encryption each.

    Image 0 is all zeros: a negated unit comes out as its top value (255 or
    15), an un-negated one as 0, so it reads off the negation mask. Images
    ``1..D`` hold, in unit ``q``, digit ``d`` of ``q`` in base 256 (elements)
    or 16 (nibbles); once the negation is undone the cipher spells the gather.
    ``D = ceil(log_base(M))`` for ``M`` units, so ``1 + D`` images in all
    (e.g. 3 for 32x32x3 elements, 5 for its 6,144 nibbles).

    Returns
    -------
    ndarray of uint8, shape (1 + D, H, W, C)

    Examples
    --------
    >>> import vortexnumba as vn
    >>> key = vn.EtCKey.random((8, 8), block=2, channels=3, seed=0)
    >>> probe = chosen_plaintext_plan((8, 8), 3)
    >>> src, negate, n_ambiguous = recover_plan(probe, vn.encrypt(probe, key))
    >>> probe.shape[0], n_ambiguous, bool((src == key.element_plan(3).src).all())
    (2, 0, True)
    """
    h, w = as_grid_shape(shape, "shape")
    c = int(channels)
    if c < 1:
        raise ValueError(f"channels must be >= 1, got {channels!r}")
    if unit not in ("element", "nibble"):
        raise ValueError(f"unit must be 'element' or 'nibble', got {unit!r}")
    base = 256 if unit == "element" else 16
    n_units = h * w * c * (1 if unit == "element" else 2)
    digits = 1
    while base**digits < n_units:
        digits += 1
    q = np.arange(n_units, dtype=np.int64)
    planes = [np.zeros(n_units, np.int64)] + [(q // base**d) % base for d in range(digits)]
    out = []
    for values in planes:
        if unit == "nibble":
            values = values[0::2] | (values[1::2] << 4)
        out.append(values.astype(np.uint8).reshape(h, w, c))
    return np.stack(out)
