"""The checks behind ``verify_small_grids.py``: the images, the maps, one row of the table, the sweep.

The maps are enumerated by :func:`vortexnumba.testing._verify.exhaustive_cases`, the
exhaustive stage of ``vortexnumba.testing.verify``; the output lives in ``small_grids_report.py``.
"""

from __future__ import annotations

import math

import numpy as np

import vortexnumba as vn
from vortexnumba.testing import exact_loss
from vortexnumba.testing._verify import exhaustive_cases

TOLERANCE = 1e-12
RTOL = 1e-9  # the swap kernels and information_loss against each other and the exact reference
EPS = 2.0 ** -53
SEED = 20241125
# Maps per call of vn.retention: bounds the tiled image batch and the index batch.
CHUNK = 20000
RADII = [1.0, math.sqrt(2.0), 2.0, math.sqrt(5.0), 3.0]

PERMUTATION_PIXELS_FULL = 8
TRANSPOSITION_SIDE_FULL = 6
# Quick mode: permutations on grids with both sides <= 3 and at most 6 pixels
# (720 maps at most), transpositions on a spread of grids.
PERMUTATION_PIXELS_QUICK = 6
PERMUTATION_SIDE_QUICK = 3
TRANSPOSITION_GRIDS_QUICK = [(1, 2), (2, 1), (1, 3), (3, 1), (2, 2), (1, 4), (1, 5), (2, 3), (3, 3), (4, 4), (5, 6)]
# Per (row, case): swaps checked against the exact decimal reference, swaps checked through
# swap_delta (which builds a SwapContext each time) and pixels whose SwapContext.deltas map is
# checked. SwapContext.loss is checked for every swap in both modes.
EXACT_SAMPLES_FULL = 4
EXACT_SAMPLES_QUICK = 1
SWAP_DELTA_SAMPLES_FULL = 12
SWAP_DELTA_SAMPLES_QUICK = 2
MAP_PIXELS_FULL = 36
MAP_PIXELS_QUICK = 2

# Theorem 2: the transpositions that keep rho = 1 on the grids where any does.
REFLECTION_SWAPS = {
    (1, 2): [(0, 1)],
    (2, 1): [(0, 1)],
    (1, 3): [(0, 2)],
    (3, 1): [(0, 2)],
    (2, 2): [(0, 3), (1, 2)],
}


def kernels() -> list[tuple[str, vn.Kernel]]:
    """The kernel families checked, each at every radius of RADII (3 first, as in earlier tables)."""
    out = []
    for radius in [3.0, 1.0, math.sqrt(2.0), 2.0, math.sqrt(5.0)]:
        out.append((f"power(2, {radius:g})", vn.Kernel.power(2.0, radius)))
        out.append((f"gaussian(1, {radius:g})", vn.Kernel.gaussian(1.0, radius)))
        out.append((f"exponential(1, {radius:g})", vn.Kernel.exponential(1.0, radius)))
    return out


def _random_float(rng, height, width):
    return rng.random((height, width))


def _two_valued_uint8(rng, height, width):
    image = np.where(rng.random((height, width)) < 0.5, 0, 255).astype(np.uint8)
    image.flat[0], image.flat[-1] = 0, 255  # both values present
    return image


def _rgb_uint8(rng, height, width):
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


# (name, image maker, coupling): the images each row is checked on.
CASES = [
    ("random float, gaussian(0.25)", _random_float, vn.Coupling.gaussian(0.25)),
    ("two-valued uint8, gaussian(0.1)", _two_valued_uint8, vn.Coupling.gaussian(0.1)),
    ("random RGB uint8, constant", _rgb_uint8, vn.Coupling.constant()),
]


def small_loss_bound(loss):
    """Allowed |error| of a loss: relative RTOL from 1e-12 up, the stated absolute bound below."""
    loss = np.asarray(loss, dtype=np.float64)
    return np.where(loss >= 1e-12, RTOL * loss, RTOL * loss + 16.0 * EPS * np.sqrt(loss) + 16.0 * EPS * EPS)


# ----------------------------------------------------------------------------- geometry, no retention code


def squared_distances(height: int, width: int) -> np.ndarray:
    """(N, N) integer matrix of squared Euclidean distances between grid positions."""
    i, j = np.divmod(np.arange(height * width), width)
    return (i[:, None] - i[None, :]) ** 2 + (j[:, None] - j[None, :]) ** 2


def neighbour_classes(height: int, width: int, radius: float) -> np.ndarray:
    """Integer label of f(|q - r|): the squared distance within R, -1 beyond R.

    Two pairs have equal kernel values exactly when their labels agree, for
    every kernel that is positive and strictly decreasing on (0, R] and zero
    beyond R. The comparison with R^2 is exact for the integer radii used.
    """
    d2 = squared_distances(height, width)
    return np.where(d2 <= radius * radius, d2, -1)


def automorphism_mask(sigmas: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """For each row sigma (where pixel q goes), whether classes[sigma q, sigma r] == classes[q, r]."""
    out = np.empty(sigmas.shape[0], dtype=bool)
    step = max(1, 2_000_000 // classes.size)
    for lo in range(0, sigmas.shape[0], step):
        s = sigmas[lo:lo + step]
        moved = classes[s[:, :, None], s[:, None, :]]
        out[lo:lo + step] = (moved == classes[None]).all(axis=(1, 2))
    return out


def grid_symmetries(height: int, width: int) -> set[tuple[int, ...]]:
    """The symmetries of the rectangle, as tuples sigma (where pixel q goes)."""
    pos = np.arange(height * width).reshape(height, width)
    views = [pos, pos[::-1, :], pos[:, ::-1], pos[::-1, ::-1]]
    if height == width:
        views += [pos.T, pos[::-1, ::-1].T, np.rot90(pos, 1), np.rot90(pos, 3)]
    out = set()
    for view in views:
        # view.flat[p] = the pixel that lands on p, i.e. a gather index; invert it.
        src = view.ravel()
        sigma = np.empty_like(src)
        sigma[src] = np.arange(src.size)
        out.add(tuple(int(v) for v in sigma))
    return out


# ----------------------------------------------------------------------------- the maps


def all_permutations(n: int) -> np.ndarray:
    """(n!, n) array of every permutation of range(n), as sigma (the exhaustive stage's order)."""
    return np.array(exhaustive_cases("bijection", n), dtype=np.int64).reshape(-1, n)


def all_transpositions(n: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """(n(n-1)/2, n) array of every transposition, as sigma, with its pair (a, b)."""
    pairs = exhaustive_cases("swap", n)
    sigmas = np.tile(np.arange(n, dtype=np.int64), (len(pairs), 1))
    for row, (a, b) in enumerate(pairs):
        sigmas[row, a], sigmas[row, b] = b, a
    return sigmas, pairs


def exact_swap_loss(image, a: int, b: int, kernel, coupling, channels) -> tuple[np.ndarray, float]:
    """``(src, loss)``: the transposition of pixels ``a`` and ``b`` as a gather index, and its exact loss."""
    src = np.arange(image.shape[0] * image.shape[1])
    src[[a, b]] = [b, a]
    return src, float(exact_loss(image, src, kernel, coupling, channels=channels))


def _tile(image: np.ndarray, count: int) -> np.ndarray:
    image4 = image[None] if image.ndim == 3 else image[None, :, :, None]
    return np.broadcast_to(image4, (count,) + image4.shape[1:])


def retentions_and_losses(image, sigmas, kernel, coupling):
    """rho and information_loss of every map, through the package on the image tiled once per map."""
    srcs = np.argsort(sigmas, axis=1)  # gather index = inverse of "where pixel q goes"
    rho = np.empty(sigmas.shape[0])
    loss = np.empty(sigmas.shape[0])
    for lo in range(0, sigmas.shape[0], CHUNK):
        chunk = srcs[lo:lo + CHUNK]
        batch = _tile(image, chunk.shape[0])
        rho[lo:lo + CHUNK] = vn.retention(batch, chunk, kernel, coupling)
        loss[lo:lo + CHUNK] = vn.information_loss(batch, chunk, kernel, coupling)
    return rho, loss


def _unit_values(image: np.ndarray) -> np.ndarray:
    """(N, C) float values in the framework's units: uint8 as v / 255."""
    values = image.reshape(image.shape[0] * image.shape[1], -1).astype(np.float64)
    return values / 255.0 if image.dtype == np.uint8 else values


def cosines(image: np.ndarray, sigmas: np.ndarray, kernel: vn.Kernel, coupling: vn.Coupling) -> np.ndarray:
    """Independent NumPy evaluation of rho for permutations: the plain cosine of b and b^sigma.

    Shares no code with the package (kernel and coupling written out here) and
    is not clamped, so it tests the inequality rho <= 1 on its own.
    """
    height, width = image.shape[:2]
    n = height * width
    d = np.sqrt(squared_distances(height, width).astype(np.float64))
    off = ~np.eye(n, dtype=bool)
    safe = np.where(off, d, 1.0)
    if kernel.family == "power":
        f = safe ** (-kernel.param)
    elif kernel.family == "gaussian":
        f = np.exp(-safe * safe / (2.0 * kernel.param ** 2))
    else:
        f = np.exp(-safe / kernel.param)
    f = np.where(off & (d <= kernel.radius), f, 0.0)
    x = _unit_values(image)
    if coupling.family == "constant":
        s = np.ones((n, n))
    else:
        msq = ((x[:, None, :] - x[None, :, :]) ** 2).mean(axis=2)
        s = np.exp(-msq / (2.0 * coupling.h * coupling.h))
    bonds = s * f
    norm_b = np.sqrt((bonds * bonds).sum())
    out = np.empty(sigmas.shape[0])
    step = max(1, 2_000_000 // n ** 2)
    for lo in range(0, sigmas.shape[0], step):
        sg = sigmas[lo:lo + step]
        moved = s[None] * f[sg[:, :, None], sg[:, None, :]]
        out[lo:lo + step] = (moved * bonds[None]).sum(axis=(1, 2)) / (
            norm_b * np.sqrt((moved * moved).sum(axis=(1, 2))))
    return out


def _excess(got, reference):
    """max |got - reference| / allowed (<= 1 passes), and max relative error where reference >= 1e-12."""
    got = np.asarray(got, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    err = np.abs(got - reference)
    allowed = small_loss_bound(reference)
    ratio = np.where(err == 0, 0.0, err / np.where(allowed > 0, allowed, np.inf))
    big = reference >= 1e-12
    rel = float((err[big] / reference[big]).max()) if big.any() else 0.0
    return float(ratio.max()) if ratio.size else 0.0, rel


def check_swaps(image, kernel, coupling, pairs, loss, rng, n_exact, n_delta, n_maps):
    """The swap entry points against information_loss and the exact reference (a sample).

    ``SwapContext.loss`` is checked for every swap, ``swap_delta`` for
    ``n_delta`` random swaps, ``SwapContext.deltas`` for ``n_maps`` random
    pixels (every swap of each), and ``n_exact`` random swaps against the
    exact reference.

    Returns (worst allowed-ratio against information_loss, worst relative error
    against information_loss, worst allowed-ratio against the exact reference,
    worst relative error against it, swaps checked exactly, whether all swap
    losses are >= 0).
    """
    height, width = image.shape[:2]
    n = height * width
    channels = True if image.ndim == 3 else None
    ctx = vn.SwapContext(image, kernel, coupling, channels=channels)
    index = {pair: k for k, pair in enumerate(pairs)}
    by_ctx = np.array([ctx.loss(a, b) for a, b in pairs])
    checks = [(by_ctx, loss)]
    picks = rng.choice(len(pairs), size=min(n_delta, len(pairs)), replace=False)
    by_delta = np.array([-vn.swap_delta(image, *pairs[k], kernel, coupling, channels=channels) for k in picks])
    checks.append((by_delta / ctx.content, loss[picks]))
    for a in rng.choice(n, size=min(n_maps, n), replace=False):
        row = np.delete(ctx.deltas(int(a)).ravel(), a) / -ctx.content
        others = [index[(min(a, b), max(a, b))] for b in range(n) if b != a]
        checks.append((row, loss[others]))
    worst_ratio, worst_rel = 0.0, 0.0
    non_negative = True
    for got, ref in checks:
        ratio, rel = _excess(got, ref)
        worst_ratio, worst_rel = max(worst_ratio, ratio), max(worst_rel, rel)
        non_negative &= bool((got >= 0).all())
    exact_ratio, exact_rel = 0.0, 0.0
    picks = rng.choice(len(pairs), size=min(n_exact, len(pairs)), replace=False)
    for k in picks:
        a, b = pairs[k]
        _, ref = exact_swap_loss(image, a, b, kernel, coupling, channels)
        got = [by_ctx[k], -vn.swap_delta(image, a, b, kernel, coupling, channels=channels) / ctx.content, loss[k]]
        ratio, rel = _excess(got, [ref] * len(got))
        exact_ratio, exact_rel = max(exact_ratio, ratio), max(exact_rel, rel)
    return worst_ratio, worst_rel, exact_ratio, exact_rel, len(picks), non_negative


# ----------------------------------------------------------------------------- the check


def check_row(kind, height, width, kernel_name, kernel, images, quick, seed=SEED):
    """One (kind, grid, kernel) row over the given (image, coupling) cases."""
    n = height * width
    if kind == "permutations":
        sigmas, pairs = all_permutations(n), None
    else:
        sigmas, pairs = all_transpositions(n)
    auto = automorphism_mask(sigmas, neighbour_classes(height, width, kernel.radius))
    expected = REFLECTION_SWAPS.get((height, width), []) if pairs is not None else None
    row = {"kind": kind, "grid": f"{height}x{width}", "kernel": kernel_name, "checked": int(sigmas.shape[0]),
           "cases": len(images), "automorphisms": int(auto.sum()), "expected": None if pairs is None else len(expected),
           "max_rho": -math.inf, "max_cosine": -math.inf, "max_deviation": 0.0, "min_loss_off_automorphisms": math.inf,
           "swap_ratio": math.nan, "swap_rel": math.nan, "exact_ratio": math.nan, "exact_rel": math.nan,
           "exact_checked": 0}
    keep_counts, exact, extra_ok = set(), True, True
    rng = np.random.default_rng([seed, height, width, len(kernel_name)])
    for image, coupling in images:
        rho, loss = retentions_and_losses(image, sigmas, kernel, coupling)
        cos = cosines(image, sigmas, kernel, coupling)
        keeps = loss == 0.0
        keep_counts.add(int(keeps.sum()))
        exact &= bool(np.array_equal(keeps, auto)) and bool((loss[~auto] > 0).all())
        row["max_rho"] = max(row["max_rho"], float(rho.max()))
        row["max_cosine"] = max(row["max_cosine"], float(cos.max()))
        row["max_deviation"] = max(row["max_deviation"], float(np.abs(rho - cos).max()))
        if (~auto).any():
            row["min_loss_off_automorphisms"] = min(row["min_loss_off_automorphisms"], float(loss[~auto].min()))
        if pairs is None:
            symmetric = {tuple(int(v) for v in s) for s in sigmas[auto]} == grid_symmetries(height, width)
            extra_ok &= symmetric
        else:
            zero = [pairs[k] for k in np.flatnonzero(keeps)]
            extra_ok &= sorted(zero) == sorted(expected)
            result = check_swaps(image, kernel, coupling, pairs, loss, rng,
                                 *((EXACT_SAMPLES_QUICK, SWAP_DELTA_SAMPLES_QUICK, MAP_PIXELS_QUICK) if quick
                                   else (EXACT_SAMPLES_FULL, SWAP_DELTA_SAMPLES_FULL, MAP_PIXELS_FULL)))
            for key, value in zip(("swap_ratio", "swap_rel", "exact_ratio", "exact_rel"), result[:4]):
                row[key] = value if math.isnan(row[key]) else max(row[key], value)
            row["exact_checked"] += result[4]
            extra_ok &= result[5] and result[0] <= 1.0 and result[2] <= 1.0
    row["keep_rho_1"] = keep_counts.pop() if len(keep_counts) == 1 else -1
    row["exact"] = exact and row["keep_rho_1"] >= 0
    if math.isinf(row["min_loss_off_automorphisms"]):
        row["min_loss_off_automorphisms"] = math.nan
    row["passed"] = bool(row["exact"] and row["max_rho"] <= 1.0 + TOLERANCE and row["max_cosine"] <= 1.0 + TOLERANCE
                         and row["max_deviation"] <= TOLERANCE and extra_ok)
    return row


def grids(quick: bool):
    """(permutation grids, transposition grids)."""
    if quick:
        perm = [(h, w) for h in range(1, PERMUTATION_SIDE_QUICK + 1) for w in range(1, PERMUTATION_SIDE_QUICK + 1)
                if 2 <= h * w <= PERMUTATION_PIXELS_QUICK]
        return perm, list(TRANSPOSITION_GRIDS_QUICK)
    perm = [(h, w) for h in range(1, PERMUTATION_PIXELS_FULL + 1) for w in range(1, PERMUTATION_PIXELS_FULL + 1)
            if 2 <= h * w <= PERMUTATION_PIXELS_FULL]
    trans = [(h, w) for h in range(1, TRANSPOSITION_SIDE_FULL + 1) for w in range(1, TRANSPOSITION_SIDE_FULL + 1)
             if h * w >= 2]
    return perm, trans


def case_images(height: int, width: int, seed: int = SEED):
    """The (image, coupling) pairs of CASES for one grid, seeded by (seed, H, W)."""
    out = []
    for k, (_, make, coupling) in enumerate(CASES):
        rng = np.random.default_rng([seed, height, width, k])
        out.append((make(rng, height, width), coupling))
    return out


def verify(quick: bool = False, *, seed: int = SEED) -> list[dict]:
    """Run the check and return one dict per (kind, grid, kernel).

    Parameters
    ----------
    quick : bool
        The CI subset: small grids, one case per row (taking turns), fewer
        swaps through ``swap_delta``, ``deltas`` and the exact reference.
    seed : int
        Seed of the images of :data:`CASES` and of the swaps checked exactly.

    Returns
    -------
    list of dict
        Keys: kind, grid, kernel, checked (maps per case), cases,
        keep_rho_1 (maps with zero loss, the same for every case, else -1),
        automorphisms, exact, expected (Theorem 2's count for transpositions,
        None for permutations), max_rho, max_cosine, max_deviation,
        min_loss_off_automorphisms, swap_ratio / swap_rel (swap entry points
        against information_loss: worst error over the allowed one, worst
        relative error), exact_ratio / exact_rel (the same against the exact
        reference, over exact_checked sampled swaps), passed.
    """
    rows = []
    perm_grids, trans_grids = grids(quick)
    for kind, grid_list in (("permutations", perm_grids), ("transpositions", trans_grids)):
        for g, (height, width) in enumerate(grid_list):
            images = case_images(height, width, seed)
            for k, (kernel_name, kernel) in enumerate(kernels()):
                # Quick mode: one case per row, taking turns, so that every case is still covered.
                cases = [images[(g + k) % len(images)]] if quick else images
                rows.append(check_row(kind, height, width, kernel_name, kernel, cases, quick, seed))
    return rows


# ----------------------------------------------------------------------------- random adversarial sweep


def sweep(n_cases: int, seed: int = SEED) -> dict:
    """Random adversarial cases against the exact reference: the worst relative error of every entry point.

    Grids up to 6x6; two-valued, three-valued and random images, uint8 or
    float, 1 or 3 channels; power (alpha up to 30), gaussian (tau down to
    0.25) and exponential kernels at every radius of RADII; gaussian couplings
    with h down to 0.05, and the constant one. Each case checks up to three
    swaps of one pixel through ``SwapContext.loss``, ``SwapContext.deltas``,
    ``swap_delta`` and ``information_loss``.
    """
    rng = np.random.default_rng(seed)
    worst = {"rel": 0.0, "rel_case": None, "ratio": 0.0, "ratio_case": None, "swaps": 0, "values": 0,
             "negative": 0, "smallest_loss": math.inf}
    for _ in range(n_cases):
        height, width = (int(v) for v in rng.integers(1, 7, 2))
        if height * width < 2:
            width = 2
        shape = (height, width) if rng.random() < 0.5 else (height, width, 3)
        style = rng.integers(0, 3)
        if style == 0:
            image = (rng.random(shape) < 0.5).astype(np.float64)
        elif style == 1:
            image = rng.choice([0.0, 1.0, float(rng.random())], shape)
        else:
            image = rng.random(shape)
        if rng.random() < 0.5:
            image = np.round(image * 255).astype(np.uint8)
        radius = RADII[rng.integers(0, len(RADII))]
        family = ("power", "gaussian", "exponential")[rng.integers(0, 3)]
        param = float(rng.choice({"power": [0.5, 2.0, 8.0, 30.0], "gaussian": [0.25, 0.4, 1.0, 3.0],
                                  "exponential": [0.1, 0.3, 1.0, 5.0]}[family]))
        kernel = getattr(vn.Kernel, family)(param, radius)
        coupling = (vn.Coupling.constant() if rng.random() < 0.2
                    else vn.Coupling.gaussian(float(rng.choice([0.05, 0.1, 0.16, 0.25, 1.0]))))
        channels = True if image.ndim == 3 else None
        n = height * width
        ctx = vn.SwapContext(image, kernel, coupling, channels=channels)
        a = int(rng.integers(0, n))
        row = ctx.deltas(a).ravel() / -ctx.content
        for b in rng.choice(n, size=min(n, 3), replace=False):
            b = int(b)
            if b == a:
                continue
            src, ref = exact_swap_loss(image, a, b, kernel, coupling, channels)
            got = [ctx.loss(a, b), row[b], -vn.swap_delta(image, a, b, kernel, coupling, channels=channels)
                   / ctx.content, vn.information_loss(image, src, kernel, coupling, channels=channels)]
            worst["swaps"] += 1
            worst["values"] += len(got)
            worst["negative"] += sum(g < 0 for g in got)
            if ref > 0:
                worst["smallest_loss"] = min(worst["smallest_loss"], ref)
            ratio, rel = _excess(got, [ref] * len(got))
            case = dict(image=image.tolist(), kernel=kernel, coupling=coupling, a=a, b=b, exact=ref, got=got)
            if rel > worst["rel"]:
                worst["rel"], worst["rel_case"] = rel, case
            if ratio > worst["ratio"]:
                worst["ratio"], worst["ratio_case"] = ratio, case
    return worst
