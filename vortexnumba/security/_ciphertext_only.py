"""The ciphertext-only attack: what the party that trains on encrypted images can recover.

:func:`ciphertext_only_attack` sees only ciphertexts made with one fixed key
and returns a key estimate; :func:`attack_quality` scores an estimate
against the true key on held-out images.
"""

from __future__ import annotations

import numpy as np

from .._progress import progress
from .._validate import as_int, plain_list
from ..cipher._gather import apply_src
from ..cipher._keys import PermutationKey
from ..cipher._vortex import inverse
from ._common import _check_key
from ._generic_attack import generic_attack, grid_symmetries
from ._peel import peel
from ._similarity import (
    MIN_FOR_CORRELATION,
    SIMILARITIES,
    as_ciphertexts,
    position_similarity,
)

FAMILIES = ("vortex", "any")
#: the vortex attack cross-validates its edits between these numbers of ciphertexts: below, halves are
#: too small; above, the similarity is estimated well enough that held-out and in-sample gains agree
_MIN_FOR_HALVES = 6
_MAX_FOR_HALVES = 2000


def ciphertext_only_attack(ciphertexts, *, family: str = "vortex", mode: str = "bijective",
                           similarity: str = "correlation", channel_axis=None, radii: str = "border",
                           max_vortices: int = 32, min_improvement: float = 2e-3,
                           progress_bar: bool | None = None) -> PermutationKey:
    """Estimate a fixed spatial key from its ciphertexts alone.

    Parameters
    ----------
    ciphertexts : ndarray
        Images encrypted with one key: ``(B, H, W)``, or ``(B, H, W, C)`` with
        ``channel_axis=-1``; uint8 or float. At most 4096 pixels per image.
    family : {"vortex", "any"}
        ``"vortex"``: the attacker knows the key is an RVT key and peels its
        vortices (:mod:`vortexnumba.security._vortex_attack`). ``"any"``: the
        key may be any fixed permutation; the grid is rebuilt from the
        position correlations (:mod:`vortexnumba.security._generic_attack`),
        up to a turn or mirror image of the grid.
    mode : {"bijective", "paper"}
        The vortex mode to model (``family="vortex"`` only).
    similarity : {"correlation", "difference"}
        How alike two positions are across the ciphertexts (see
        ``position_similarity``); ``"correlation"`` needs at least 3 values per
        position, ``"difference"`` works on a single image.
    channel_axis : None or -1
        Where the colour channels are (None: grey images).
    radii : {"border", "all"}
        Candidate radii of the vortex attack: the distance of the centre to
        the border (as ``VortexKey.random`` draws them), or every radius.
    max_vortices : int
        Most vortices the vortex attack undoes.
    min_improvement : float
        Its stopping rule (see ``peel``).
    progress_bar : bool or None
        Show a progress bar (None: only on a terminal).

    Returns
    -------
    PermutationKey
        ``vn.decrypt(ciphertexts, estimate)`` is the attacker's reconstruction.

    Raises
    ------
    ValueError
        Too few ciphertexts for the chosen similarity, an unknown family, or
        a grid larger than 4096 pixels.

    Examples
    --------
    >>> import numpy as np, vortexnumba as vn
    >>> yy, xx = np.mgrid[0:12, 0:12]
    >>> rng = np.random.default_rng(0)
    >>> phase = rng.uniform(0, 6.3, (200, 2))
    >>> images = (127 + 120 * np.sin(yy[None] / 3 + phase[:, :1, None])
    ...           * np.cos(xx[None] / 4 + phase[:, 1:, None])).astype(np.uint8)
    >>> key = vn.VortexKey((12, 12), "bijective", [vn.Vortex((6, 6), 5, 1, (-1.5,) * 6, 0.8)])
    >>> estimate = vn.security.ciphertext_only_attack(vn.encrypt(images, key), progress_bar=False)
    >>> bool(np.array_equal(estimate.src, key.src))
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
    if similarity == "correlation" and b * c < MIN_FOR_CORRELATION:
        raise ValueError(f"the attack with similarity='correlation' needs at least {MIN_FOR_CORRELATION} "
                         f"ciphertexts (values per position), got {b * c}; a single image needs "
                         "similarity='difference'")
    shape = (h, w)
    with progress(None, f"ciphertext-only attack ({family})", unit="step", enabled=progress_bar) as bar:
        S = position_similarity(x, similarity=similarity)
        bar.update(1)
        if family == "any":
            cur = generic_attack(S, shape, bar=bar)
        else:
            halves = None
            if _MIN_FOR_HALVES <= b <= _MAX_FOR_HALVES:
                halves = tuple(position_similarity(x, similarity=similarity, rows=slice(i, None, 2)) for i in (0, 1))
            cur, _ = peel(S, shape, mode, halves=halves, radii=radii, max_vortices=max_vortices,
                          min_improvement=min_improvement, bar=bar)
    return PermutationKey(shape, inverse(cur))


def attack_quality(estimate, key, images, *, symmetries: bool = False) -> dict:
    """Score an attack's estimate against the true ``key`` on plaintext ``images`` it did not see.

    Parameters
    ----------
    estimate : PermutationKey
        From :func:`ciphertext_only_attack`.
    key : key object
        The true key.
    images : ndarray (B, H, W) uint8
        Plain test images.
    symmetries : bool
        Also try the grid's turns and mirror images of the reconstruction and
        keep the best (the generic attack cannot tell them apart; a person
        looking at the eight pictures can).

    Returns
    -------
    dict
        ``recovered``: share of map entries equal to the key's; ``ssim``,
        ``psnr``: mean over the images of the reconstruction against the
        original; ``ssim_cipher``, ``psnr_cipher``: the same for the
        ciphertext read as it is.
    """
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    _check_key(key)
    images = np.asarray(images)
    if images.ndim != 3 or images.dtype != np.uint8 or tuple(images.shape[1:]) != tuple(key.shape):
        raise ValueError(f"images must be uint8 (B, H, W) on the key's grid {key.shape}, got "
                         f"{images.dtype} {images.shape}")
    cipher = apply_src(images, key.src, channels=False)
    flat = cipher.reshape(len(images), -1)
    cur0 = estimate.inverse_src
    maps = grid_symmetries(key.shape) if symmetries else [np.arange(key.n_pixels)]

    def scores(recon):
        ss = [structural_similarity(a, r, data_range=255) for a, r in zip(images, recon)]
        ps = [peak_signal_noise_ratio(a, r, data_range=255) if not np.array_equal(a, r) else 100.0
              for a, r in zip(images, recon)]
        return float(np.mean(ss)), float(np.mean(ps))

    best = None
    for t in maps:
        cur = cur0[t]
        recon = flat[:, cur].reshape(images.shape)
        s, p = scores(recon)
        if best is None or s > best[1]:
            best = (cur, s, p)
    cur, s, p = best
    s0, p0 = scores(cipher)
    return {"recovered": float(np.mean(inverse(cur) == key.src)), "ssim": s, "psnr": p,
            "ssim_cipher": s0, "psnr_cipher": p0}
