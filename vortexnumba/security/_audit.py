"""One audit of a key on a set of images: every cipher metric of this package, as data and as a figure.

:func:`audit` serves both ``vortexnumba audit`` and ``benchmarks/bench_security.py``;
:func:`audit_figure` builds a :class:`matplotlib.figure.Figure` without touching
pyplot's global state or the backend, so it is safe in a notebook.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._progress import progress as _progress_bar
from ..cipher._gather import encrypt
from ..cipher._protocol import is_spatial
from ._ciphertext_only import SCHEME_FAMILIES, attack_quality, ciphertext_only_attack, family_for, unattacked_reason
from ._common import DIRECTIONS, check_key_arg
from ._keyspace import key_space
from ._known_plaintext import (
    chosen_plaintext,
    chosen_plaintext_plan,
    pairs_to_recover,
    plan_pairs_to_recover,
    recover_index,
    recover_plan,
)
from ._metrics import adjacent_correlation, adjacent_pairs, histogram, shannon_entropy
from ._sensitivity import key_sensitivity, plaintext_sensitivity

#: the key changes that :func:`audit` tries, by key kind, with a readable label
KEY_CHANGES = {
    "vortex": {"weight": "weight + 1e-6", "weight-ulp": "weight + 1 ulp", "strength": "strength + 1e-6",
               "centre": "centre moved 1 px"},
    "permutation": {"swap": "two entries swapped"},
    "block": {"swap": "two entries swapped"},
    "identity": {},
    "le": {"swap": "two entries of perm swapped"},
    "ele": {"swap": "two entries of one block's perm swapped"},
    "etc": {"swap": "two blocks of block_perm swapped", "negate": "one block's negation flipped"},
    "pe": {"swap": "one pixel's channel order changed", "negate": "one negation bit flipped"},
    "blockwise": {"swap": "two entries of pixel_perm swapped"},
}


def _as_batch(images) -> tuple[np.ndarray, bool | None]:
    """The images as a batch and the ``channels`` reading of the data-set functions."""
    images = np.asarray(images)
    if images.ndim not in (3, 4):
        raise ValueError(f"images must be a batch (B, H, W) or (B, H, W, C), got shape {images.shape}")
    return images, (False if images.ndim == 3 else None)


def audit(images: Any, key: Any, *, key_space_samples: int = 2048, sensitivity_images: int = 100,
          attack: bool = False, progress: bool | None = False) -> dict:
    """Measure what ``key`` hides on ``images``: the standard image-cipher metrics in one call.

    Parameters
    ----------
    images : ndarray
        A batch ``(B, H, W)`` or ``(B, H, W, C)`` on the key's grid, uint8 or
        float in [0, 1].
    key : any key of vortexnumba (spatial or value-changing)
    key_space_samples : int
        Weight draws per radius for the vortex key-space estimate.
    sensitivity_images : int
        How many of the images the one-pixel plaintext change is measured on.
    attack : bool
        Also run the ciphertext-only attack on the encrypted images (the
        attack ``family_for(key)`` names: vortex-aware for a vortex key, the
        jigsaw solver for a block key, the scheme's own attack for LE,
        block-wise, EtC and PE keys, the pixel attack otherwise) and
        score its reconstruction of those same images (see
        ``ciphertext_only_attack`` and ``attack_quality``).
    progress : bool or None
        A progress bar on stderr over the measurements (``None``: only on a terminal).

    Returns
    -------
    dict
        ``correlation`` ({"plain": {direction: r}, "cipher": {...}}),
        ``entropy`` ({"plain": bits, "cipher": bits}), ``histogram_unchanged``
        (bool), ``plaintext_npcr``/``plaintext_uaci`` (mean %, one-pixel
        change), ``key_changes`` ({label: {"npcr", "uaci", "map_changed"} or
        {"error": reason}}), ``key_space`` (:class:`KeySpace`),
        ``known_plaintext`` ({"pairs_for_all": int or None, "curve": share of
        positions recovered after k pairs, "unit": "pixel" for spatial keys,
        "element" or "nibble" for the keys that change values, whose plan --
        gather and negation -- is recovered}), ``chosen_plaintext``
        ({"images": n, "ambiguous": positions (or units) left ambiguous,
        "units": how many there are}); with
        ``attack=True`` also ``ciphertext_only`` ({"family", "recovered",
        "ssim", "psnr", "ssim_cipher", "psnr_cipher"}; SSIM and PSNR on the
        grey level of colour images, the pixel attack's at its best grid
        symmetry; block keys also ``direct`` and ``neighbour``).

    Examples
    --------
    >>> import vortexnumba as vn
    >>> images = vn.data.load("digits")[2][:50]
    >>> key = vn.VortexKey.random((8, 8), n_vortices=3, seed=1)
    >>> report = vn.security.audit(images, key, key_space_samples=64)
    >>> report["histogram_unchanged"], report["chosen_plaintext"]["ambiguous"]
    (True, 0)
    """
    check_key_arg(key)
    images, ch = _as_batch(images)
    if tuple(images.shape[1:3]) != tuple(key.shape):
        raise ValueError(f"images of shape {images.shape} do not fit the key's {key.shape[0]}x{key.shape[1]} grid")
    cipher = encrypt(images, key, channels=ch)
    channels = images.ndim == 4
    sample = images[:sensitivity_images]
    key_changes = KEY_CHANGES.get(key.kind, {})
    bar = _progress_bar(len(sample) + len(key_changes) + 2 + bool(attack), "audit", unit="step", enabled=progress)

    def step(stage, value):
        bar.set_postfix_str(stage, refresh=False)
        bar.update(1)
        return value

    npcr, uaci = zip(*(step("plaintext sensitivity", plaintext_sensitivity(img, key, channels=channels))
                       for img in sample), strict=True)
    changes = {}
    for parameter, label in key_changes.items():
        try:
            changes[label] = step("key sensitivity", key_sensitivity(images, key, parameter))
        except ValueError as exc:  # e.g. a vortex whose centre cannot move on a tiny grid
            changes[label] = step("key sensitivity", {"error": str(exc)})
    if is_spatial(key):
        pairs_for_all, curve = step("known plaintext", pairs_to_recover(images, cipher))
        probe = chosen_plaintext(key.shape)
        _, n_ambiguous = recover_index(probe, encrypt(probe, key, channels=False))
        unit = "pixel"
    else:
        # value-changing keys: recover the element (or nibble) plan, negation included
        unit = key.element_plan(key.channels).unit
        pairs_for_all, curve = step("known plaintext",
                                    plan_pairs_to_recover(images, cipher, unit=unit, channels=ch))
        probe = chosen_plaintext_plan(key.shape, key.channels, unit=unit)
        probe_in = probe[..., 0] if images.ndim == 3 else probe
        _, _, n_ambiguous = recover_plan(probe_in, encrypt(probe_in, key, channels=ch), unit=unit, channels=ch)
    report = {
        "n_images": int(images.shape[0]),
        "correlation": {"plain": adjacent_correlation(images, channels=ch),
                        "cipher": adjacent_correlation(cipher, channels=ch)},
        "entropy": {"plain": shannon_entropy(images, channels=ch), "cipher": shannon_entropy(cipher, channels=ch)},
        "histogram_unchanged": bool(np.array_equal(histogram(images, channels=ch), histogram(cipher, channels=ch))),
        "plaintext_npcr": float(np.mean(npcr)),
        "plaintext_uaci": float(np.mean(uaci)),
        "key_changes": changes,
        "key_space": step("key space", key_space(key, n_samples=key_space_samples)),
        "known_plaintext": {"pairs_for_all": pairs_for_all, "curve": curve, "unit": unit},
        "chosen_plaintext": {"images": int(len(probe)), "ambiguous": int(n_ambiguous),
                             "units": int(key.n_pixels if unit == "pixel" else key.element_plan(key.channels).n_units)},
    }
    if attack:
        if is_spatial(key):
            report["ciphertext_only"] = step("ciphertext-only attack", _attack_report(images, cipher, key))
        elif (why := unattacked_reason(key)) is not None:
            report["ciphertext_only"] = step("ciphertext-only attack", {
                "error": f"no ciphertext-only attack here undoes this key: {why}"})
        elif family_for(key)[0] in SCHEME_FAMILIES:
            report["ciphertext_only"] = step("ciphertext-only attack", _scheme_attack_report(images, key))
        else:
            report["ciphertext_only"] = step("ciphertext-only attack", {
                "error": f"no ciphertext-only attack here undoes {key.kind} keys (the field's schemes with one: "
                         f"{', '.join(SCHEME_FAMILIES)})"})
    bar.close()
    return report


def _attack_report(images, cipher, key) -> dict:
    """The ciphertext-only attack on ``cipher`` and its score against ``images`` (grey, uint8)."""
    family, options = family_for(key)
    estimate = ciphertext_only_attack(cipher, family=family, progress_bar=False,
                                      channel_axis=-1 if images.ndim == 4 else None, **options)
    grey = images.astype(np.float64)
    if images.dtype != np.uint8:
        grey = grey * 255.0
    if grey.ndim == 4:
        grey = grey.mean(axis=-1)
    grey = np.clip(np.round(grey), 0, 255).astype(np.uint8)
    return {"family": family, **attack_quality(estimate, key, grey)}


def _scheme_attack_report(images, key) -> dict:
    """The family's attack on the uint8 images encrypted with a key that changes values, and its score."""
    family, options = family_for(key)
    plain = images
    if plain.dtype != np.uint8:
        plain = np.clip(np.round(plain.astype(np.float64) * 255.0), 0, 255).astype(np.uint8)
    colour = plain.ndim == 4
    cipher = encrypt(plain, key, channels=True if colour else None)
    estimate = ciphertext_only_attack(cipher, family=family, progress_bar=False, channel_axis=-1 if colour else None,
                                      **options)
    return {"family": family, "symmetry": estimate.symmetry, **attack_quality(estimate, key, plain)}


def audit_figure(images: Any, key: Any, *, cipher: Any = None, seed: int = 0) -> Any:
    """Histograms and adjacent-pixel scatter plots of plain (top) and encrypted (bottom) images.

    Parameters
    ----------
    images : ndarray
        A batch ``(B, H, W)`` or ``(B, H, W, C)`` on the key's grid.
    key : key object
    cipher : ndarray, optional
        ``encrypt(images, key)`` if already computed.
    seed : int
        Seed of the subsample drawn for the scatter plots.

    Returns
    -------
    matplotlib.figure.Figure
        Built without pyplot; save it with ``fig.savefig(path)``.
    """
    from matplotlib.figure import Figure

    check_key_arg(key)
    images, ch = _as_batch(images)
    if cipher is None:
        cipher = encrypt(images, key, channels=ch)
    fig = Figure(figsize=(14, 6.5))
    axes = fig.subplots(2, 4)
    rng = np.random.default_rng(seed)
    for row, (label, x) in enumerate((("plain", images), ("encrypted", cipher))):
        hist = histogram(x, channels=ch)
        axes[row, 0].bar(np.arange(256), hist, width=1.0, color="0.3")
        axes[row, 0].set_yscale("log")
        axes[row, 0].set_title(f"{label}: histogram (entropy {shannon_entropy(x, channels=ch):.3f} bits)",
                               fontsize=9)
        corr = adjacent_correlation(x, channels=ch)
        for col, direction in enumerate(DIRECTIONS, start=1):
            a, b = adjacent_pairs(x, direction, channels=ch)
            pick = rng.choice(a.size, size=min(a.size, 5000), replace=False)
            ax = axes[row, col]
            ax.scatter(a[pick], b[pick], s=2, alpha=0.3, color="C0" if row == 0 else "C3")
            ax.set_xlim(-0.02, 1.02)
            ax.set_ylim(-0.02, 1.02)
            ax.set_aspect("equal")
            ax.set_title(f"{label}: {direction} neighbours, r = {corr[direction]:+.3f}", fontsize=9)
    kind = key.kind + (f" ({key.mode})" if key.kind == "vortex" else "")
    what = ("a pixel permutation keeps the histogram and lowers the neighbour correlation" if is_spatial(key)
            else "a key that negates or splits values changes the histogram too")
    fig.suptitle(f"{kind} key on {key.shape[0]}x{key.shape[1]} images: {what}")
    fig.tight_layout()
    return fig
