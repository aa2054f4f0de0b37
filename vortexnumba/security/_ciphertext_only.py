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
from ..cipher._gather import apply_src
from ..cipher._vortex import inverse
from ._block_attack import block_attack
from ._common import check_key_arg, grid_symmetries
from ._peel import PeelSearch, peel
from ._permutation_attack import objective_of, permutation_attack
from ._similarity import (
    MIN_FOR_CORRELATION,
    SIMILARITIES,
    as_ciphertexts,
    position_covariance,
    position_similarity,
)
from ._vortex_attack import neighbour_energy

#: the attack families; ``"any"`` is the older name of ``"permutation"``
FAMILIES = ("vortex", "permutation", "block", "auto", "any")
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
}


@dataclass(frozen=True)
class AttackResult:
    """What a ciphertext-only attack returns.

    An ``AttackResult`` also acts as its estimated key (``src``,
    ``inverse_src``, ``shape``, ``kind``, ``to_json`` are the key's), so
    ``vn.decrypt(ciphertexts, result)`` is the attacker's reconstruction.

    Attributes
    ----------
    key : key object
        The estimated key: a ``PermutationKey`` (vortex and pixel attacks) or
        a ``BlockKey`` (block attack).
    family : str
        The attack that produced it.
    objective : float
        The attack's own objective at the estimate (larger is better; the
        vortex attack's is its neighbour similarity, the pixel and block
        attacks' their placement objective). Not comparable across families.
    symmetry : str
        ``"none"`` or ``"grid"`` (see :data:`SYMMETRY_NOTES`): how the
        8-symmetry ambiguity of the grid is handled when scoring.
    candidates : dict
        For ``family="auto"``: the pixel objective of every attack tried.
    alternatives : dict
        For ``family="auto"``: every attack's own result, by the names of
        ``candidates``.
    """

    key: Any
    family: str
    objective: float
    symmetry: str = "none"
    candidates: dict = field(default_factory=dict)
    alternatives: dict = field(default_factory=dict, repr=False)

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

    A vortex key gets the vortex-aware attack, the one for few ciphertexts. A
    bijective vortex key is a fixed permutation too: from many ciphertexts
    ``family="permutation"`` recovers more, and ``family="auto"`` keeps
    whichever of the two scores higher on the attack's own objective.
    """
    kind = getattr(key, "kind", None)
    if kind == "vortex":
        return "vortex", {"mode": key.mode}
    if kind == "block":
        return "block", {"block": int(key.block)}
    return "permutation", {}


def ciphertext_only_attack(ciphertexts: Any, *, family: str = "vortex", mode: str = "bijective",
                           block: int | None = None, similarity: str = "correlation", channel_axis: int | None = None,
                           radii: str = "border", max_vortices: int = 32, min_improvement: float = 2e-3,
                           progress_bar: bool | None = None) -> AttackResult:
    """Estimate a fixed spatial key from its ciphertexts alone.

    Parameters
    ----------
    ciphertexts : ndarray
        Images encrypted with one key: ``(B, H, W)``, or ``(B, H, W, C)`` with
        ``channel_axis=-1``; uint8 or float. At most 4096 pixels per image.
    family : {"vortex", "permutation", "block", "auto", "any"}
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
        position (ciphertexts x channels) as positions. :func:`family_for` names the family for a
        key of known kind.
    mode : {"bijective", "paper"}
        The vortex mode to model (vortex attack only).
    block : int, optional
        Tile side of the block attack (required for ``family="block"``).
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
        side that does not divide the grid, or a grid larger than 4096 pixels.

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
    elif family == "block":
        raise ValueError("family='block' needs the tile side: pass block=... (BlockKey.block)")
    needs_values = family in ("permutation", "any", "auto") or (family == "vortex" and similarity == "correlation")
    if needs_values and b * c < MIN_FOR_CORRELATION:
        raise ValueError(f"the {family!r} attack needs at least {MIN_FOR_CORRELATION} ciphertexts (values per "
                         f"position), got {b * c}; the vortex attack on a single image needs "
                         "similarity='difference', the block attack works on one image")
    if family == "any":
        family = "permutation"
    vortex_options = {"mode": mode, "similarity": similarity, "radii": radii, "max_vortices": max_vortices,
                      "min_improvement": min_improvement}
    with progress(None, f"ciphertext-only attack ({family})", unit="step", enabled=progress_bar) as bar:
        if family == "vortex":
            return _vortex(x, shape, bar=bar, **vortex_options)
        if family == "permutation":
            return _permutation(x, shape, bar=bar)
        if family == "block":
            return _block(x, shape, block, bar=bar)
        tried = {f"vortex ({similarity})": _vortex(x, shape, bar=bar, **vortex_options)}
        if similarity == "correlation":
            tried["vortex (partial)"] = _vortex(x, shape, bar=bar, **{**vortex_options, "similarity": "partial"})
        if block is not None:
            tried["block"] = _block(x, shape, block, bar=bar)
        # with fewer observations than positions the covariance is singular: the partial correlations are
        # then mostly shrinkage, the pixel attack fails and its objective cannot judge the others
        enough = b * c >= h * w
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


def _vortex(x, shape, *, mode, similarity, radii, max_vortices, min_improvement, bar):
    b = x.shape[0]
    S = position_similarity(x, similarity=similarity)
    bar.update(1)
    halves = None
    if _MIN_FOR_HALVES <= b <= _MAX_FOR_HALVES:
        halves = tuple(position_similarity(x, similarity=similarity, rows=slice(i, None, 2)) for i in (0, 1))
    search = PeelSearch(radii=radii, max_vortices=max_vortices, min_improvement=min_improvement)
    cur, _ = peel(S, shape, mode, halves=halves, search=search, bar=bar)
    return AttackResult(PermutationKey(shape, inverse(cur)), "vortex", neighbour_energy(S, cur, shape), "none")


def _permutation(x, shape, *, bar):
    cov = position_covariance(x)
    bar.update(1)
    cur, objective = permutation_attack(cov, shape, bar=bar)
    return AttackResult(PermutationKey(shape, inverse(cur)), "permutation", objective, "grid")


def _block(x, shape, block, *, bar):
    cur, objective = block_attack(x, block, bar=bar)
    return AttackResult(BlockKey(shape, block, np.argsort(cur).astype(np.int64)), "block", objective, "none")


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


def attack_quality(estimate: Any, key: Any, images: Any, *, symmetries: bool | None = None) -> dict:
    """Score an attack's estimate against the true ``key`` on plaintext ``images`` it did not see.

    Parameters
    ----------
    estimate : AttackResult or key
        From :func:`ciphertext_only_attack` (or any bijective key).
    key : key object
        The true key.
    images : ndarray (B, H, W) uint8
        Plain test images.
    symmetries : bool or None
        Also try the grid's turns and mirror images of the reconstruction and
        keep the one of best mean SSIM on the first 100 images (all images
        are then scored with it). None: as the result's ``symmetry`` says
        (``"grid"``: try them), False for a bare key.

    Returns
    -------
    dict
        ``recovered``: share of map entries equal to the key's; ``ssim``,
        ``psnr``: mean over the images of the reconstruction against the
        original; ``ssim_cipher``, ``psnr_cipher``: the same for the
        ciphertext read as it is; ``symmetry``: the index of the grid
        symmetry scored (0: as estimated; see ``grid_symmetries``) and
        ``symmetries_tried``; for a block key also ``direct`` (tiles in their
        place) and ``neighbour`` (adjacent tile pairs joined correctly).

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> key = vn.PermutationKey.random((8, 8), seed=0)
    >>> images = np.random.default_rng(0).integers(0, 256, (4, 8, 8), dtype=np.uint8)
    >>> q = vn.security.attack_quality(key, key, images)
    >>> q["recovered"], q["ssim"]
    (1.0, 1.0)
    """
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    check_key_arg(key)
    est_key = estimate.key if isinstance(estimate, AttackResult) else estimate
    check_key_arg(est_key, "estimate")
    if symmetries is None:
        symmetries = isinstance(estimate, AttackResult) and estimate.symmetry == "grid"
    images = np.asarray(images)
    if images.ndim != 3 or images.dtype != np.uint8 or tuple(images.shape[1:]) != tuple(key.shape):
        raise ValueError(f"images must be uint8 (B, H, W) on the key's grid {key.shape}, got "
                         f"{images.dtype} {images.shape}")
    if tuple(est_key.shape) != tuple(key.shape):
        raise ValueError(f"the estimate's grid {est_key.shape} is not the key's {key.shape}")
    cipher = apply_src(images, key.src, channels=False)
    flat = cipher.reshape(len(images), -1)
    cur0 = est_key.inverse_src
    maps = grid_symmetries(key.shape) if symmetries else [np.arange(key.n_pixels)]

    def scores(recon, plain):
        ss = [structural_similarity(a, r, data_range=255) for a, r in zip(plain, recon, strict=True)]
        ps = [peak_signal_noise_ratio(a, r, data_range=255) if not np.array_equal(a, r) else 100.0
              for a, r in zip(plain, recon, strict=True)]
        return float(np.mean(ss)), float(np.mean(ps))

    which = 0
    if len(maps) > 1:
        pick = slice(0, min(len(images), _SYMMETRY_IMAGES))
        ssims = [scores(flat[pick][:, cur0[t]].reshape(images[pick].shape), images[pick])[0] for t in maps]
        which = int(np.argmax(ssims))
    cur = cur0[maps[which]]
    s, p = scores(flat[:, cur].reshape(images.shape), images)
    s0, p0 = scores(cipher, images)
    out = {"recovered": float(np.mean(inverse(cur) == key.src)), "ssim": s, "psnr": p,
           "ssim_cipher": s0, "psnr_cipher": p0, "symmetry": which, "symmetries_tried": len(maps)}
    if getattr(key, "kind", None) == "block":
        out["direct"], out["neighbour"] = _tile_scores(key.src[cur], key.shape, int(key.block))
    return out
