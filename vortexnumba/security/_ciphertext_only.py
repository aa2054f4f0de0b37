"""The ciphertext-only attacks: what the party that trains on encrypted images can recover.

:func:`ciphertext_only_attack` sees only ciphertexts made with one fixed key
and returns an :class:`AttackResult` holding the estimated key;
:func:`attack_quality` scores an estimate against the true key on held-out
images.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._progress import progress
from .._validate import as_int, plain_list
from ..cipher._baseline_keys import BlockKey, PermutationKey
from ..cipher._gather import apply_src, decrypt, encrypt
from ..cipher._protocol import is_spatial
from ..cipher._vortex import inverse
from ._block_attack import block_attack
from ._common import check_key_arg, grid_symmetries
from ._ele_attack import attack_ele
from ._holes import duplicate_groups, refine_with_holes
from ._peel import PeelSearch, peel
from ._permutation_attack import objective_of, permutation_attack
from ._scheme_attacks import attack_blockwise, attack_etc, attack_le, attack_pe, attack_pe_each
from ._similarity import (
    MIN_FOR_CORRELATION,
    SIMILARITIES,
    as_ciphertexts,
    position_covariance,
    position_similarity,
)
from ._vortex_attack import neighbour_energy

#: the attack families; ``"any"`` is the older name of ``"permutation"``
FAMILIES = ("vortex", "permutation", "block", "le", "ele", "blockwise", "etc", "pe", "pe_each", "auto", "any")
#: the families of the field's schemes (keys that change values)
SCHEME_FAMILIES = ("le", "ele", "blockwise", "etc", "pe")
#: the families that need the block side
_BLOCK_FAMILIES = ("block", "le", "ele", "blockwise", "etc")
#: the vortex attack cross-validates its edits between these numbers of ciphertexts: below, halves are
#: too small; above, the similarity is estimated well enough that held-out and in-sample gains agree
_MIN_FOR_HALVES = 6
_MAX_FOR_HALVES = 2000
#: ``"auto"`` keeps an oriented estimate (vortex, block) unless the pixel attack's objective beats it by this share
_AUTO_MARGIN = 1e-3
#: attack_quality picks the grid symmetry on this many images
_SYMMETRY_IMAGES = 100

SYMMETRY_NOTES = {
    "none": "the estimate is oriented: scores compare it as it is",
    "grid": "correlations cannot tell the picture from its turns and mirror images: the estimate is defined up to "
            "the grid's symmetries (8 on a square grid, 4 otherwise), and attack_quality scores the best of them",
    "negative": "the data cannot tell the picture from its negative (v -> 255 - v): the estimate is defined up to "
                "it, and attack_quality scores the better of the two",
    "grid-negative": "the estimate is defined up to the grid's symmetries and the negative image: attack_quality "
                     "scores the best of them",
    "negative-each": "per-image keys: the result holds one reconstruction per ciphertext, each defined up to its "
                     "own negative; attack_quality scores the better of the two for every image",
}


@dataclass(frozen=True)
class AttackResult:
    """What a ciphertext-only attack returns.

    An ``AttackResult`` also acts as its estimated key (``src``,
    ``inverse_src``, ``shape``, ``kind``, ``to_json`` are the key's), so
    ``vn.decrypt(ciphertexts, result)`` is the attacker's reconstruction.

    Attributes
    ----------
    key : key object or None
        The estimated key: a ``PermutationKey`` (vortex and pixel attacks), a
        ``BlockKey`` (block attack), or the scheme's own ``LEKey``,
        ``ELEKey``, ``BlockwiseKey``, ``EtCKey`` or ``PEKey``; None for per-image
        results (see ``reconstructions``).
    family : str
        The attack that produced it.
    objective : float
        The attack's own objective at the estimate (larger is better; the
        vortex attack's is its neighbour similarity, the pixel and block
        attacks' their placement objective). Not comparable across families.
    symmetry : str
        ``"none"``, ``"grid"``, ``"negative"``, ``"grid-negative"`` or
        ``"negative-each"`` (see :data:`SYMMETRY_NOTES`): what the data cannot
        tell apart (the grid's turns and mirror images, the negative image),
        which ``attack_quality`` then tries.
    candidates : dict
        For ``family="auto"``: the pixel objective of every attack tried.
    alternatives : dict
        For ``family="auto"``: every attack's own result, by the names of
        ``candidates``; for ``family="pe_each"``: ``"fold"``, the
        ``min(v, 255 - v)`` baseline.
    reconstructions : ndarray or None
        For per-image schemes (``family="pe_each"``), where there is no one
        key to estimate: the attacker's reconstruction of every ciphertext
        (``key`` is then None and the key protocol is not available).
    """

    key: Any
    family: str
    objective: float
    symmetry: str = "none"
    candidates: dict = field(default_factory=dict)
    alternatives: dict = field(default_factory=dict, repr=False)
    reconstructions: Any = field(default=None, repr=False)

    def __getattr__(self, name: str) -> Any:
        # the rest of the estimated key's protocol (element_plan, inverse_plan, channels, block, ...)
        if name.startswith("__") or name in ("key", "family"):
            raise AttributeError(name)
        key = self.__dict__.get("key")
        if key is None:
            raise AttributeError(f"this {self.__dict__.get('family')!r} result holds reconstructions, not a key, "
                                 f"so it has no {name!r}")
        return getattr(key, name)

    @property
    def symmetry_note(self) -> str:
        """The sentence that says how the symmetry ambiguity is handled."""
        return SYMMETRY_NOTES[self.symmetry]

    # the key protocol, delegated to the estimated key
    @property
    def shape(self) -> tuple:
        return self.key.shape

    @property
    def n_pixels(self) -> int:
        return self.key.n_pixels

    @property
    def src(self) -> np.ndarray:
        return self.key.src

    @property
    def inverse_src(self) -> np.ndarray:
        return self.key.inverse_src

    @property
    def is_bijective(self) -> bool:
        return self.key.is_bijective

    @property
    def kind(self) -> str:
        return self.key.kind

    @property
    def is_spatial(self) -> bool:
        return bool(getattr(self.key, "is_spatial", True))

    def to_json(self) -> str:
        return self.key.to_json()


def family_for(key: Any) -> tuple[str, dict]:
    """The attack family (and its options) for a key of a known kind: ``(family, options)``.

    Examples
    --------
    >>> import vortexnumba as vn
    >>> family_for(vn.BlockKey.random((8, 8), 4, seed=0))
    ('block', {'block': 4})
    >>> family_for(vn.PermutationKey.random((8, 8), seed=0))
    ('permutation', {})
    >>> family_for(vn.VortexKey.random((8, 8), n_vortices=2, seed=0))
    ('vortex', {'mode': 'bijective'})
    >>> family_for(vn.EtCKey.random((8, 8), block=4, seed=0))
    ('etc', {'block': 4})
    >>> family_for(vn.ELEKey.random((8, 8), block=2, seed=0))
    ('ele', {'block': 2})
    >>> family_for(vn.PEKey.random((8, 8), seed=0))
    ('pe', {})

    A vortex key gets the vortex-aware attack, the one for few ciphertexts. A
    bijective vortex key is a fixed permutation too: from many ciphertexts
    ``family="permutation"`` recovers more, and ``family="auto"`` keeps
    whichever of the two scores higher on the attack's own objective.
    """
    kind = getattr(key, "kind", None)
    if kind == "vortex":
        return "vortex", {"mode": key.mode}
    if kind in ("block", "le", "ele", "blockwise", "etc"):
        return kind, {"block": int(key.block)}
    if kind == "pe":
        return "pe", {}
    return "permutation", {}


def unattacked_reason(key: Any) -> str | None:
    """Why the attack of ``key``'s family does not take it, or None when it does.

    The attack families take every key of their kind but one: the ELE attack
    works on grey images, so a colour ELE key has no attack here.

    Examples
    --------
    >>> import vortexnumba as vn
    >>> unattacked_reason(vn.ELEKey.random((8, 8), block=2, seed=0)) is None
    True
    >>> unattacked_reason(vn.ELEKey.random((8, 8), block=2, channels=3, seed=0))
    'the ele attack takes grey images; this key is for 3 channels'
    """
    if getattr(key, "kind", None) == "ele" and key.channels > 1:
        return f"the ele attack takes grey images; this key is for {key.channels} channels"
    return None


def ciphertext_only_attack(ciphertexts: Any, *, family: str = "vortex", mode: str = "bijective",
                           block: int | None = None, similarity: str = "correlation", channel_axis: int | None = None,
                           radii: str = "border", max_vortices: int = 32, min_improvement: float = 2e-3,
                           progress_bar: bool | None = None) -> AttackResult:
    """Estimate a fixed key from its ciphertexts alone (or, for per-image PE, the images).

    Parameters
    ----------
    ciphertexts : ndarray
        Images encrypted with one key: ``(B, H, W)``, or ``(B, H, W, C)`` with
        ``channel_axis=-1``; uint8 or float. At most 4096 pixels per image.
    family : {"vortex", "permutation", "block", "le", "ele", "blockwise", "etc", "pe", "pe_each", "auto", "any"}
        ``"vortex"``: the key is an RVT key; its vortices are peeled off
        (:mod:`vortexnumba.security._vortex_attack`). ``"permutation"`` (or
        its older name ``"any"``): any fixed pixel permutation; the grid is
        rebuilt from partial correlations between positions
        (:mod:`vortexnumba.security._permutation_attack`), up to a turn or
        mirror image. ``"block"``: block scrambling with tiles of side
        ``block``, solved as one jigsaw puzzle for the whole data set
        (:mod:`vortexnumba.security._block_attack`). ``"auto"``: the vortex
        and pixel attacks (and the block attack if ``block`` is given), the
        estimate with the largest pixel objective kept (an oriented estimate
        wins unless the pixel attack beats it by more than 0.1 %); the pixel
        attack joins only when there are at least as many values per
        position (ciphertexts x channels) as positions. The field's schemes
        (:mod:`vortexnumba.security._scheme_attacks`): ``"le"`` (an
        ``LEKey``: the shared nibble map from the slots' moments over every
        block, oriented by the smoothness of its decryption), ``"ele"`` (an
        ``ELEKey``, grey uint8 only: every block position's own nibble map
        from that position's slot statistics -- which nibbles make a pixel,
        where the pixels sit, oriented by the negations ELE's permutation
        implies -- then the undone blocks as a jigsaw), ``"blockwise"``
        (a ``BlockwiseKey``: the shared slot map and its negations, then the
        blocks as a jigsaw), ``"etc"`` (an ``EtCKey``: a jigsaw whose pieces
        also try every turn, mirror image, negation and channel order),
        ``"pe"`` (a ``PEKey`` under one key: each element's sign from its
        correlations with its neighbours; the channel order is kept) and
        ``"pe_each"`` (one PE key per image, ``vn.pe_each``: each image's
        signs from its own neighbours; the result holds reconstructions, the
        fold ``min(v, 255 - v)`` baseline in ``alternatives["fold"]``).
        :func:`family_for` names the family for a key of known kind.
    mode : {"bijective", "paper"}
        The vortex mode to model (vortex attack only).
    block : int, optional
        Tile side of the block attacks (required for ``family`` "block",
        "le", "ele", "blockwise" and "etc"; the key's ``block``).
    similarity : {"correlation", "difference"}
        The vortex attack's similarity of two positions (see
        ``position_similarity``); ``"correlation"`` needs at least 3 values
        per position, ``"difference"`` works on a single image.
    channel_axis : None or -1
        Where the colour channels are (None: grey images).
    radii : {"border", "all"}
        Candidate radii of the vortex attack: the distance of the centre to
        the border (as ``VortexKey.random`` draws them), or every radius.
    max_vortices : int
        Most vortices the vortex attack undoes.
    min_improvement : float
        The vortex attack's stopping rule (see ``peel``).
    progress_bar : bool or None
        Show a progress bar (None: only on a terminal).

    Returns
    -------
    AttackResult
        ``result.key`` is the estimate; ``vn.decrypt(ciphertexts, result)``
        the attacker's reconstruction.

    Raises
    ------
    ValueError
        Too few ciphertexts for the chosen attack, an unknown family, a block
        side that does not divide the grid, a grid larger than 4096 pixels, or
        colour ciphertexts for ``family="ele"`` (grey only).
    TypeError
        Ciphertexts that are not uint8 for ``family`` "le" and "ele".

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> yy, xx = np.mgrid[0:12, 0:12]
    >>> rng = np.random.default_rng(0)
    >>> phase = rng.uniform(0, 6.3, (200, 2))
    >>> images = (127 + 120 * np.sin(yy[None] / 3 + phase[:, :1, None])
    ...           * np.cos(xx[None] / 4 + phase[:, 1:, None])).astype(np.uint8)
    >>> key = vn.VortexKey((12, 12), "bijective", [vn.Vortex((6, 6), 5, 1, (-1.5,) * 6, 0.8)])
    >>> result = vn.security.ciphertext_only_attack(vn.encrypt(images, key), progress_bar=False)
    >>> bool(np.array_equal(result.key.src, key.src)), result.symmetry
    (True, 'none')
    >>> blocks = vn.BlockKey.random((12, 12), 3, seed=1)
    >>> result = vn.security.ciphertext_only_attack(vn.encrypt(images, blocks), family="block", block=3,
    ...                                             progress_bar=False)
    >>> bool(np.array_equal(result.key.order, blocks.order))
    True
    >>> etc = vn.EtCKey.random((12, 12), block=4, seed=2)
    >>> result = vn.security.ciphertext_only_attack(vn.encrypt(images, etc), family="etc", block=4,
    ...                                             progress_bar=False)
    >>> vn.security.attack_quality(result, etc, images[:20])["recovered"], result.symmetry
    (1.0, 'grid')
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {plain_list(FAMILIES)}, got {family!r}")
    if mode not in ("bijective", "paper"):
        raise ValueError(f"mode must be 'bijective' or 'paper', got {mode!r}")
    if similarity not in SIMILARITIES:
        raise ValueError(f"similarity must be one of {plain_list(SIMILARITIES)}, got {similarity!r}")
    if radii not in ("border", "all"):
        raise ValueError(f"radii must be 'border' or 'all', got {radii!r}")
    max_vortices = as_int(max_vortices, "max_vortices")
    if max_vortices < 0:
        raise ValueError(f"max_vortices must be >= 0, got {max_vortices}")
    x = as_ciphertexts(ciphertexts, channel_axis)
    b, h, w, c = x.shape
    shape = (h, w)
    if block is not None:
        block = as_int(block, "block")
        if block < 1 or h % block or w % block:
            raise ValueError(f"block must be a tile side >= 1 that divides the {h}x{w} grid, got {block}")
    elif family in _BLOCK_FAMILIES:
        raise ValueError(f"family={family!r} needs the tile side: pass block=... (the key's block)")
    if family in ("le", "ele") and x.dtype != np.uint8:
        raise TypeError(f"ciphertexts of family={family!r} must be uint8 ({family.upper()} works on the nibbles of "
                        f"bytes), got dtype {x.dtype}")
    if family == "ele" and c != 1:
        raise ValueError(f"family='ele' attacks grey ciphertexts only (channel_axis=None, one channel); got {c} "
                         "channels (channel_axis=-1): colour ELE keys are not attacked in this version")
    needs_values = family in ("permutation", "any", "auto", "pe") or (family == "vortex"
                                                                     and similarity == "correlation")
    if needs_values and b * c < MIN_FOR_CORRELATION:
        raise ValueError(f"the {family!r} attack needs at least {MIN_FOR_CORRELATION} ciphertexts (values per "
                         f"position), got {b * c}; the vortex attack on a single image needs "
                         "similarity='difference', the block attack works on one image")
    if family == "any":
        family = "permutation"
    vortex_options = {"mode": mode, "similarity": similarity, "radii": radii, "max_vortices": max_vortices,
                      "min_improvement": min_improvement}
    # a paper-mode key copies some pixels: the copies are found once, for every attack that needs them
    copies = _copies(x, mode) if family in ("vortex", "auto") else None
    vortex_options["copies"] = copies
    with progress(None, f"ciphertext-only attack ({family})", unit="step", enabled=progress_bar) as bar:
        if family == "vortex":
            return _vortex(x, shape, bar=bar, **vortex_options)
        if family == "permutation":
            return _permutation(x, shape, bar=bar)
        if family == "block":
            return _block(x, shape, block, bar=bar)
        if family in ("le", "ele", "blockwise", "etc", "pe", "pe_each"):
            return _scheme(x, family, block, bar=bar, grey=channel_axis is None)
        tried = {f"vortex ({similarity})": _vortex(x, shape, bar=bar, **vortex_options)}
        if similarity == "correlation":
            tried["vortex (partial)"] = _vortex(x, shape, bar=bar, **{**vortex_options, "similarity": "partial"})
        if block is not None:
            tried["block"] = _block(x, shape, block, bar=bar)
        # with fewer observations than positions the covariance is singular: the partial correlations are
        # then mostly shrinkage, the pixel attack fails and its objective cannot judge the others
        enough = b * c >= h * w
        if enough and copies is not None:
            # copied positions are perfectly correlated: the pixel objective rewards putting copies side by
            # side, so it neither judges the other estimates nor gives a layout with the lost pixels' holes
            enough = False
        if enough:
            tried["permutation"] = _permutation(x, shape, bar=bar)
        cov = position_covariance(x)
        scores = {name: objective_of(cov, r.key.inverse_src, shape) for name, r in tried.items()}
        oriented = [name for name in tried if tried[name].symmetry == "none"]
        best = max(oriented, key=lambda name: scores[name])
        keep = tried[best]
        if enough:
            top = scores["permutation"]
            if scores[best] < top - _AUTO_MARGIN * abs(top):
                keep = tried["permutation"]
        return AttackResult(keep.key, keep.family, keep.objective, keep.symmetry, candidates=scores,
                            alternatives=tried)


def _copies(x, mode):
    """The representative of every position (``duplicate_groups``) where a paper-mode attack sees copied
    positions; None otherwise (a bijective mode, too few values to tell copies, or no copies)."""
    if mode != "paper" or x.shape[0] * x.shape[3] < MIN_FOR_CORRELATION:
        return None
    rep = duplicate_groups(x)
    return rep if np.any(rep != np.arange(rep.size)) else None


def _vortex(x, shape, *, mode, similarity, radii, max_vortices, min_improvement, copies, bar):
    b = x.shape[0]
    S = position_similarity(x, similarity=similarity)
    bar.update(1)
    halves = None
    if _MIN_FOR_HALVES <= b <= _MAX_FOR_HALVES:
        halves = tuple(position_similarity(x, similarity=similarity, rows=slice(i, None, 2)) for i in (0, 1))
    search = PeelSearch(radii=radii, max_vortices=max_vortices, min_improvement=min_improvement)
    cur, _ = peel(S, shape, mode, halves=halves, search=search, bar=bar)
    if copies is not None:
        # a paper-mode key copies some pixels and loses others: place each copied source once
        cur, _ = refine_with_holes(x, cur, copies, shape)
    return AttackResult(PermutationKey(shape, inverse(cur)), "vortex", neighbour_energy(S, cur, shape), "none")


def _permutation(x, shape, *, bar):
    cov = position_covariance(x)
    bar.update(1)
    cur, objective = permutation_attack(cov, shape, bar=bar)
    return AttackResult(PermutationKey(shape, inverse(cur)), "permutation", objective, "grid")


def _block(x, shape, block, *, bar):
    cur, objective = block_attack(x, block, bar=bar)
    return AttackResult(BlockKey(shape, block, np.argsort(cur).astype(np.int64)), "block", objective, "none")


def _scheme(x, family, block, *, bar, grey):
    if family == "le":
        key, energy = attack_le(x, block)
        bar.update(1)
        return AttackResult(key, "le", -energy, "none")
    if family == "ele":
        key, objective, _ = attack_ele(x, block, bar=bar)
        return AttackResult(key, "ele", objective, "none")
    if family == "blockwise":
        key, objective, ambiguous = attack_blockwise(x, block, bar=bar)
        return AttackResult(key, "blockwise", objective, "grid-negative" if ambiguous else "grid")
    if family == "etc":
        key, objective, ambiguous = attack_etc(x, block, bar=bar)
        return AttackResult(key, "etc", objective, "grid-negative" if ambiguous else "grid")
    if family == "pe":
        key, agreement = attack_pe(x)
        bar.update(1)
        return AttackResult(key, "pe", agreement, "negative")
    rec, folded = attack_pe_each(x)
    bar.update(1)
    if grey:
        rec, folded = rec[..., 0], folded[..., 0]
    fold = AttackResult(None, "fold", 0.0, "none", reconstructions=folded)
    return AttackResult(None, "pe_each", 0.0, "negative-each", alternatives={"fold": fold}, reconstructions=rec)


def _tile_scores(m, shape, block):
    """Direct and neighbour accuracy of a reconstruction whose position ``q`` shows source pixel ``m[q]``."""
    h, w = shape
    th, tw = h // block, w // block
    grid = m.reshape(h, w)
    tile_src = np.full(th * tw, -1, dtype=np.int64)
    ii, jj = np.mgrid[0:block, 0:block]
    for g in range(th * tw):
        gy, gx = divmod(g, tw)
        part = grid[gy * block:(gy + 1) * block, gx * block:(gx + 1) * block]
        y0, x0 = divmod(int(part[0, 0]), w)
        if y0 % block or x0 % block:
            continue
        if np.array_equal(part, (y0 + ii) * w + (x0 + jj)):
            tile_src[g] = (y0 // block) * tw + x0 // block
    direct = float(np.mean(tile_src == np.arange(th * tw)))
    good = total = 0
    t = tile_src.reshape(th, tw)
    for a, bb, step in ((t[:, :-1], t[:, 1:], 1), (t[:-1, :], t[1:, :], tw)):
        total += a.size
        ok = (a >= 0) & (bb == a + step)
        if step == 1:
            ok &= (a % tw) != tw - 1
        good += int(ok.sum())
    return direct, (float(good / total) if total else 1.0)


def attack_quality(estimate: Any, key: Any, images: Any, *, symmetries: bool | None = None,
                   ciphertexts: Any = None) -> dict:
    """Score an attack's estimate against the true ``key`` on plaintext ``images`` it did not see.

    Parameters
    ----------
    estimate : AttackResult or key
        From :func:`ciphertext_only_attack` (or any bijective key).
    key : key object or None
        The true key (None for a per-image result, ``family="pe_each"``).
    images : ndarray uint8
        Plain test images: ``(B, H, W)`` for grey keys, ``(B, H, W, C)`` for
        a key built for ``C > 1`` channels. For a per-image result, the
        originals of the ciphertexts the attack reconstructed.
    symmetries : bool or None
        Also try the symmetries the result's ``symmetry`` names (the grid's
        turns and mirror images, the negative image) and keep the one of best
        mean SSIM on the first 100 images (all images are then scored with
        it). None: as the result's ``symmetry`` says, False for a bare key.
    ciphertexts : ndarray, optional
        For a per-image result: the ciphertexts it reconstructed (for
        ``ssim_cipher`` and ``psnr_cipher``; NaN without them).

    Returns
    -------
    dict
        ``recovered``: share of map entries equal to the key's -- for a
        spatial key, of the source pixels the key keeps (all of them for a
        bijection; a paper-mode vortex key loses some) that the
        reconstruction shows at their own place (for keys that
        change values, of units -- elements or nibbles -- that the
        reconstruction shows from their own place, not negated; for a
        per-image result, of elements equal to the original's); ``ssim``,
        ``psnr``: mean over the images of the reconstruction against the
        original; ``ssim_cipher``, ``psnr_cipher``: the same for the
        ciphertext read as it is; ``symmetry``: the index of the grid
        symmetry scored (0: as estimated; see ``grid_symmetries``) and
        ``symmetries_tried``; ``negative``: whether the negative was scored;
        for keys that move blocks (and LE) also ``direct`` (tiles in their
        place) and ``neighbour`` (adjacent tile pairs joined correctly).

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> key = vn.PermutationKey.random((8, 8), seed=0)
    >>> images = np.random.default_rng(0).integers(0, 256, (4, 8, 8), dtype=np.uint8)
    >>> q = vn.security.attack_quality(key, key, images)
    >>> q["recovered"], q["ssim"]
    (1.0, 1.0)
    >>> etc = vn.EtCKey.random((8, 8), block=4, seed=0)
    >>> vn.security.attack_quality(etc, etc, images)["direct"]
    1.0
    """
    if isinstance(estimate, AttackResult) and estimate.reconstructions is not None:
        return _each_quality(estimate, images, ciphertexts)
    check_key_arg(key)
    est_key = estimate.key if isinstance(estimate, AttackResult) else estimate
    check_key_arg(est_key, "estimate")
    note = estimate.symmetry if isinstance(estimate, AttackResult) else "none"
    grid = note in ("grid", "grid-negative") if symmetries is None else bool(symmetries)
    negative = note in ("negative", "grid-negative") if symmetries is None else bool(symmetries)
    if tuple(est_key.shape) != tuple(key.shape):
        raise ValueError(f"the estimate's grid {est_key.shape} is not the key's {key.shape}")
    if is_spatial(key) and is_spatial(est_key):
        return _spatial_quality(est_key, key, images, grid)
    return _scheme_quality(est_key, key, images, grid, negative)


def _mean_scores(recon, plain, colour):
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    axis = -1 if colour else None
    ss = [structural_similarity(a, r, data_range=255, channel_axis=axis) for a, r in zip(plain, recon, strict=True)]
    ps = [peak_signal_noise_ratio(a, r, data_range=255) if not np.array_equal(a, r) else 100.0
          for a, r in zip(plain, recon, strict=True)]
    return float(np.mean(ss)), float(np.mean(ps))


def _spatial_quality(est_key, key, images, symmetries):
    images = np.asarray(images)
    if images.ndim != 3 or images.dtype != np.uint8 or tuple(images.shape[1:]) != tuple(key.shape):
        raise ValueError(f"images must be uint8 (B, H, W) on the key's grid {key.shape}, got "
                         f"{images.dtype} {images.shape}")
    cipher = apply_src(images, key.src, channels=False)
    flat = cipher.reshape(len(images), -1)
    cur0 = est_key.inverse_src
    maps = grid_symmetries(key.shape) if symmetries else [np.arange(key.n_pixels)]

    which = 0
    if len(maps) > 1:
        pick = slice(0, min(len(images), _SYMMETRY_IMAGES))
        ssims = [_mean_scores(flat[pick][:, cur0[t]].reshape(images[pick].shape), images[pick], False)[0]
                 for t in maps]
        which = int(np.argmax(ssims))
    cur = cur0[maps[which]]
    s, p = _mean_scores(flat[:, cur].reshape(images.shape), images, False)
    s0, p0 = _mean_scores(cipher, images, False)
    # the key's kept sources (all pixels for a bijection) shown at their own cell; lost pixels do not count
    kept = np.unique(key.src)
    out = {"recovered": float(np.mean(key.src[cur][kept] == kept)), "ssim": s, "psnr": p,
           "ssim_cipher": s0, "psnr_cipher": p0, "symmetry": which, "symmetries_tried": len(maps),
           "negative": False}
    if getattr(key, "kind", None) == "block":
        out["direct"], out["neighbour"] = _tile_scores(key.src[cur], key.shape, int(key.block))
    return out


def _scheme_images(images, key):
    """Check plain images for a key that changes values: uint8, on its grid, with its channel count."""
    images = np.asarray(images)
    c = int(getattr(key, "channels", 1))
    want = (key.shape[0], key.shape[1]) + ((c,) if c > 1 else ())
    if images.dtype != np.uint8 or images.ndim != len(want) + 1 or tuple(images.shape[1:]) != want:
        raise ValueError(f"images must be uint8 (B, {', '.join(map(str, want))}) for this {key.kind} key, got "
                         f"{images.dtype} {images.shape}")
    return images, c


def _scheme_quality(est_key, key, images, grid, negative):
    images, c = _scheme_images(images, key)
    colour = c > 1
    ch = True if colour else None
    cipher = encrypt(images, key, channels=ch)
    recon0 = decrypt(cipher, est_key, channels=ch)
    b = len(images)
    maps = grid_symmetries(key.shape) if grid else [np.arange(key.n_pixels)]
    negs = (False, True) if negative else (False,)
    flat = recon0.reshape(b, key.n_pixels, -1)

    def view(rows, t, neg):
        r = flat[rows][:, t].reshape(images[rows].shape)
        return 255 - r if neg else r

    choice = (0, False)
    if len(maps) * len(negs) > 1:
        pick = slice(0, min(b, _SYMMETRY_IMAGES))
        tried = [(_mean_scores(view(pick, maps[i], n), images[pick], colour)[0], -i, not n)
                 for i in range(len(maps)) for n in negs]
        best = max(tried)
        choice = (-best[1], not best[2])
    which, neg = choice
    s, p = _mean_scores(view(slice(None), maps[which], neg), images, colour)
    s0, p0 = _mean_scores(cipher, images, colour)
    src, flipped, per_pixel = _unit_map(est_key, key, c, maps[which], neg)
    n_units = src.shape[0]
    out = {"recovered": float(np.mean((src == np.arange(n_units)) & ~flipped)), "ssim": s, "psnr": p,
           "ssim_cipher": s0, "psnr_cipher": p0, "symmetry": which, "symmetries_tried": len(maps),
           "negative": bool(neg)}
    if hasattr(key, "block"):
        out["direct"], out["neighbour"] = _tile_scores(per_pixel, key.shape, int(key.block))
    return out


def _unit_map(est_key, key, c, t, neg):
    """What the scored reconstruction shows: per unit its source unit and negation, per pixel its source pixel
    (-1 where the pixel's units do not come unchanged from one pixel)."""
    kp = key.element_plan(c)
    ip = est_key.inverse_plan(c)
    u = 2 if kp.unit == "nibble" else 1
    kneg = np.zeros(kp.n_units, np.bool_) if kp.negate is None else kp.negate
    ineg = np.zeros(ip.n_units, np.bool_) if ip.negate is None else ip.negate
    src = kp.src[ip.src]
    flipped = ineg ^ kneg[ip.src]
    per = c * u
    order = (np.asarray(t, dtype=np.int64)[:, None] * per + np.arange(per)[None, :]).reshape(-1)
    src, flipped = src[order], flipped[order] ^ neg
    pix = src.reshape(-1, per)
    first = pix[:, 0] // per
    intact = np.all(pix == first[:, None] * per + np.arange(per)[None, :], axis=1)
    intact &= ~flipped.reshape(-1, per).any(axis=1)
    return src, flipped, np.where(intact, first, -1)


def _each_quality(estimate, images, ciphertexts):
    rec = np.asarray(estimate.reconstructions)
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.shape != rec.shape:
        raise ValueError(f"images must be the uint8 originals of the {rec.shape} reconstructions, got "
                         f"{images.dtype} {images.shape}")
    colour = images.ndim == 4
    neg = estimate.symmetry == "negative-each"
    chosen = rec.copy()
    if neg:
        for i in range(len(images)):
            if _mean_scores(255 - rec[i:i + 1], images[i:i + 1], colour)[0] > \
                    _mean_scores(rec[i:i + 1], images[i:i + 1], colour)[0]:
                chosen[i] = 255 - rec[i]
    s, p = _mean_scores(chosen, images, colour)
    s0 = p0 = float("nan")
    if ciphertexts is not None:
        s0, p0 = _mean_scores(np.asarray(ciphertexts, dtype=np.uint8), images, colour)
    return {"recovered": float(np.mean(chosen == images)), "ssim": s, "psnr": p, "ssim_cipher": s0,
            "psnr_cipher": p0, "symmetry": 0, "symmetries_tried": 1, "negative": neg}
