"""Speed of the information kernels, as ratios against baselines run in this process.

    python benchmarks/bench_information.py            # full sizes (about a minute)
    python benchmarks/bench_information.py --quick    # small sizes, seconds

Measures
1. ``retention`` of 70,000 28x28 uint8 images under one gather index (default
   kernel) against a vectorised NumPy implementation of the same formula
   (loops over the ~28 neighbour offsets, vectorised over pixels and images).
2. ``SwapContext.delta`` at 128x128 against recomputing rho for the swap.
3. How the cost grows with the number of pixels N and with the radius R.
4. Custom kernels and couplings (``Kernel.from_function``, ``Coupling.from_function``)
   against the built-ins they copy: the same tables, so the ratio should be 1.
Writes a Markdown table to stdout (and to --out if given).
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from _timing import best_of

import vortexnumba as vn
from vortexnumba.framework._kernels import Geometry


def numpy_retention(images: np.ndarray, src: np.ndarray, kernel=None, h: float = 0.25,
                    ordered: bool = False) -> np.ndarray:
    """rho for a batch (B, H, W) uint8 under one gather index, vectorised with NumPy.

    The same formula as vn.retention (inner / sqrt(E(X) E(Y))), evaluated one
    neighbour offset at a time over all pixels and images at once. Like the
    fast kernels it visits each unordered pair once (the ratio is unchanged);
    ``ordered=True`` visits every ordered pair, as the formula is written.
    """
    kernel = kernel or vn.Kernel.power()
    geo = Geometry.of(kernel)
    b, hh, ww = images.shape
    x = images.reshape(b, -1).astype(np.float64) / 255.0
    y = x[:, src]
    xg = x.reshape(b, hh, ww)
    yg = y.reshape(b, hh, ww)
    si, sj = np.divmod(src.reshape(hh, ww), ww)
    e_x = np.zeros(b)
    e_y = np.zeros(b)
    inner = np.zeros(b)
    inv_h2 = 1.0 / (h * h)
    offsets = zip(geo.full_di, geo.full_dj) if ordered else zip(geo.half_di, geo.half_dj)
    for di, dj in offsets:
        f_o = geo.f_table[di + geo.reach, dj + geo.reach]
        r0, r1 = max(0, -di), hh - max(0, di)
        c0, c1 = max(0, -dj), ww - max(0, dj)
        if r0 >= r1 or c0 >= c1:
            continue
        a = (slice(None), slice(r0, r1), slice(c0, c1))
        bsl = (slice(None), slice(r0 + di, r1 + di), slice(c0 + dj, c1 + dj))
        s2x = np.exp(-((xg[a] - xg[bsl]) ** 2) * inv_h2)
        s2y = np.exp(-((yg[a] - yg[bsl]) ** 2) * inv_h2)
        e_x += f_o * f_o * s2x.sum(axis=(1, 2))
        e_y += f_o * f_o * s2y.sum(axis=(1, 2))
        ddi = si[a[1:]] - si[bsl[1:]]
        ddj = sj[a[1:]] - sj[bsl[1:]]
        f_src = np.zeros(ddi.shape)
        ok = (np.abs(ddi) <= geo.reach) & (np.abs(ddj) <= geo.reach) & ((ddi != 0) | (ddj != 0))
        f_src[ok] = geo.f_table[ddi[ok] + geo.reach, ddj[ok] + geo.reach]
        inner += f_o * (s2y * f_src).sum(axis=(1, 2))
    return inner / np.sqrt(e_x * e_y)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=None, help="also write the Markdown report here")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    n_images = 5_000 if args.quick else 70_000
    images = rng.integers(0, 256, (n_images, 28, 28), dtype=np.uint8)
    # smooth the noise a little so bonds are not all tiny (closer to real images)
    images = ((images.astype(np.uint16) + np.roll(images, 1, axis=2) + np.roll(images, 1, axis=1)) // 3).astype(
        np.uint8)
    src = rng.permutation(784)
    lines = [f"# Information kernels ({os.cpu_count()} cores, numba threads = "
             f"{__import__('numba').config.NUMBA_NUM_THREADS})", ""]

    vn.retention(images[:32], src)  # compile
    sub = images[: min(n_images, 2_000)]
    lines += [
        "## retention, 28x28 uint8, one gather index, default kernel", "",
        "Five interleaved rounds (vortexnumba on all images, each NumPy version on 2,000 images, "
        "scaled up); the median round's times and, per baseline, the median ratio and its range. "
        "NumPy (pairs once) visits each unordered pair once, as the kernels do; NumPy (ordered "
        "pairs) evaluates the formula as written, over ordered pairs.", "",
        "| gather index | vortexnumba (s) | NumPy, pairs once (s) | ratio | NumPy, ordered pairs (s) | ratio |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    maps = [("random permutation", src),
            ("default VortexKey (10 vortices, S = 0.8)", vn.VortexKey.random((28, 28), seed=0).src)]
    scale = n_images / sub.shape[0]
    for label, gather in maps:
        np.testing.assert_allclose(vn.retention(sub, gather), numpy_retention(sub, gather), rtol=1e-9)
        np.testing.assert_allclose(vn.retention(sub, gather), numpy_retention(sub, gather, ordered=True), rtol=1e-9)
        rounds = []
        for _ in range(5):  # interleaved, so that a slow spell of the machine hits every side
            t_fast = best_of(lambda gather=gather: vn.retention(images, gather), 1)
            t_half = best_of(lambda gather=gather: numpy_retention(sub, gather), 1) * scale
            t_full = best_of(lambda gather=gather: numpy_retention(sub, gather, ordered=True), 1) * scale
            rounds.append((t_fast, t_half, t_full))
        half = sorted(r[1] / r[0] for r in rounds)
        full = sorted(r[2] / r[0] for r in rounds)
        t_fast, t_half, t_full = (float(np.median([r[i] for r in rounds])) for i in range(3))
        lines.append(f"| {label} ({n_images:,} images) | {t_fast:.3f} | {t_half:.2f} | {half[2]:.1f}x "
                     f"({half[0]:.1f}-{half[-1]:.1f}) | {t_full:.2f} | {full[2]:.1f}x ({full[0]:.1f}-{full[-1]:.1f}) |")
    lines.append("")

    img = rng.integers(0, 256, (128, 128), dtype=np.uint8)
    ctx = vn.SwapContext(img)
    ctx.delta((1, 1), (2, 2))
    pairs = rng.integers(0, 128, (200, 4))
    pairs = pairs[(pairs[:, 0] != pairs[:, 2]) | (pairs[:, 1] != pairs[:, 3])]
    t_swap = best_of(lambda: [ctx.delta((a, b), (c, d)) for a, b, c, d in pairs]) / len(pairs)

    def recompute():
        s = np.arange(128 * 128)
        a, b = 5 * 128 + 7, 100 * 128 + 90
        s[[a, b]] = [b, a]
        return vn.retention(img, s)

    recompute()
    t_full = best_of(recompute)
    t_map = best_of(lambda: ctx.deltas((64, 64)))
    lines += [
        "## swap at 128x128", "",
        "| operation | time | ratio to recomputing rho |", "|---|---:|---:|",
        f"| SwapContext.delta (one swap, O(R^2)) | {t_swap * 1e6:.1f} us | {t_full / t_swap:.0f}x faster |",
        f"| retention of the swapped map (O(N R^2)) | {t_full * 1e3:.2f} ms | 1 |",
        f"| swap_deltas map, all 16,384 swaps | {t_map * 1e3:.2f} ms | "
        f"{16384 * t_full / t_map:.0f}x faster than 16,384 recomputations |", "",
    ]

    lines += ["## cost against N (one image, random permutation, R = 3)", "",
              "| side | N | retention (ms) | ns per pixel |", "|---:|---:|---:|---:|"]
    for side in ([64, 128, 256] if args.quick else [64, 128, 256, 512, 1024]):
        im = rng.integers(0, 256, (side, side), dtype=np.uint8)
        s = rng.permutation(side * side)
        vn.retention(im, s)
        t = best_of(lambda im=im, s=s: vn.retention(im, s))
        lines.append(f"| {side} | {side * side:,} | {t * 1e3:.2f} | {t / (side * side) * 1e9:.1f} |")
    lines += ["", "## cost against R (256x256, random permutation)", "",
              "| R | offsets (half) | retention (ms) | ms per offset |", "|---:|---:|---:|---:|"]
    im = rng.integers(0, 256, (256, 256), dtype=np.uint8)
    s = rng.permutation(256 * 256)
    for radius in (1, 2, 3, 5, 8):
        k = vn.Kernel.power(2, radius)
        vn.retention(im, s, k)
        t = best_of(lambda k=k: vn.retention(im, s, k))
        n_off = len(Geometry.of(k).half_di)
        lines.append(f"| {radius} | {n_off} | {t * 1e3:.2f} | {t * 1e3 / n_off:.3f} |")
    lines += custom_against_builtin(images, src, rng, quick=args.quick)
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        from vortexnumba.io._files import atomic_writer

        with atomic_writer(args.out, force=True, mode="w") as fh:
            fh.write(report)


def custom_against_builtin(images, src, rng, quick=False) -> list[str]:
    """Custom kernel + coupling against the built-ins with the same values, interleaved rounds."""
    h = 0.25
    builtin = (vn.Kernel.power(2.0, 3.0), vn.Coupling.gaussian(h))
    custom = (vn.Kernel.from_function(lambda d: d ** -2.0, 3.0),
              vn.Coupling.from_function(lambda x, y: np.exp(-((x - y) ** 2) / (2.0 * h * h))))
    img = rng.integers(0, 256, (128, 128), dtype=np.uint8)
    pairs = rng.integers(0, 128, (200, 4))
    pairs = pairs[(pairs[:, 0] != pairs[:, 2]) | (pairs[:, 1] != pairs[:, 3])]

    def swaps(kc):
        ctx = vn.SwapContext(img, *kc)
        return [ctx.delta((a, b), (c, d)) for a, b, c, d in pairs]

    ops = {
        f"retention, {images.shape[0]:,} 28x28 images": lambda kc: vn.retention(images, src, *kc),
        "SwapContext.delta, 128x128, 200 swaps": swaps,
        "swap_deltas map, 128x128": lambda kc: vn.swap_deltas(img, (64, 64), *kc),
    }
    lines = ["", "## custom kernel and coupling against the built-ins", "",
             "`Kernel.from_function(lambda d: d ** -2.0, 3)` and `Coupling.from_function` of the Gaussian "
             "(h = 0.25) against `Kernel.power(2, 3)` and `Coupling.gaussian(0.25)`: both are evaluated once "
             "into the same tables. Interleaved rounds (five; three with --quick); median times and the median "
             "ratio (range).", "",
             "| operation | built-in (ms) | custom (ms) | custom / built-in |", "|---|---:|---:|---:|"]
    for label, op in ops.items():
        np.testing.assert_allclose(op(custom), op(builtin), rtol=1e-9)  # also compiles both
        rounds = []
        for _ in range(3 if quick else 5):
            rounds.append((best_of(lambda op=op: op(builtin), 1), best_of(lambda op=op: op(custom), 1)))
        ratios = sorted(c / b for b, c in rounds)
        tb, tc = (float(np.median([r[i] for r in rounds])) for i in range(2))
        lines.append(f"| {label} | {tb * 1e3:.2f} | {tc * 1e3:.2f} | {ratios[len(ratios) // 2]:.3f} "
                     f"({ratios[0]:.2f}-{ratios[-1]:.2f}) |")
    return lines


if __name__ == "__main__":
    main()
