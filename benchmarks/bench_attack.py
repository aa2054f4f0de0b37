"""What a ciphertext-only attacker recovers, and the learnability-privacy frontier, on real Fashion-MNIST.

Run:  .venv/bin/python benchmarks/bench_attack.py [--part counts|frontier|photos|all] [--figures docs/figures] [--quick]

``counts``   For vortex keys (both modes; the paper's 10 vortices at S = 0.8 and
             stronger ones), block 4x4 and a random permutation, several keys
             each: the attack (vortex-aware for vortex keys, generic for the
             others) is fitted on the first n TRAINING ciphertexts, n = 10 ...
             60,000, and scored on 1,000 TEST images: share of map entries
             recovered, SSIM and PSNR of the reconstruction against the
             originals, beside the ciphertext read as it is. Median [min, max]
             over keys. The generic attack's score is the best of the grid's 8
             turns and mirror images (an attacker picks the upright picture).
``frontier`` For a sweep of key settings: the CNN's test-accuracy drop against
             unencrypted training (short training: 10,000 training images,
             2 epochs, 2,000 test images), the adjacent-pixel correlation, the
             attacker's SSIM (10,000 ciphertexts) and the known-plaintext pairs
             for 90 % of the map.
``photos``   The cipher metrics and the attack on scikit-image's test photographs
             at 32x32 (grey) with the paper's vortex settings drawn on that grid
             (radii up to the distance to the border); the attack sees the one
             encrypted photograph only (similarity = minus the squared difference)
             and undoes at most 10 vortices (a public setting, like S).

Timings are wall-clock on a shared, loaded machine; compare ratios, not seconds.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import vortexnumba as vn
from vortexnumba import security as sec
from vortexnumba.cipher._vortex import compose

COUNTS = (10, 30, 100, 300, 1000, 10000, 60000)


def med(values):
    v = np.asarray(values, dtype=float)
    return f"{np.median(v):.3f} [{v.min():.3f}, {v.max():.3f}]"


def count_keys(shape, n_keys):
    fams = {
        "vortex bij 10 S=0.8": lambda s: vn.VortexKey.random(shape, 10, 0.8, seed=s),
        "vortex paper 10 S=0.8": lambda s: vn.VortexKey.random(shape, 10, 0.8, mode="paper", seed=s),
        "vortex bij 10 S=3": lambda s: vn.VortexKey.random(shape, 10, 3.0, seed=s),
        "block 4x4": lambda s: vn.BlockKey.random(shape, 4, seed=s),
        "permutation": lambda s: vn.PermutationKey.random(shape, seed=s),
    }
    return {name: [make(100 + s) for s in range(n_keys)] for name, make in fams.items()}


def attack(key, ciphertexts, **kw):
    if key.kind == "vortex":
        return sec.ciphertext_only_attack(ciphertexts, family="vortex", mode=key.mode, progress_bar=False, **kw)
    return sec.ciphertext_only_attack(ciphertexts, family="any", progress_bar=False, **kw)


def part_counts(train, test, counts, n_keys, figures, families=None):
    print("\n## ciphertext-only attack against the number of ciphertexts (median [min, max] over keys)")
    print("attack fitted on the first n training ciphertexts, scored on", len(test), "test images")
    rows = {}
    for name, keys in count_keys(train.shape[1:], n_keys).items():
        if families is not None and name not in families:
            continue
        for n in counts:
            res = []
            t0 = time.perf_counter()
            for key in keys:
                est = attack(key, vn.encrypt(train[:n], key))
                res.append(sec.attack_quality(est, key, test, symmetries=key.kind != "vortex"))
            dt = (time.perf_counter() - t0) / len(keys)
            rows[(name, n)] = res
            print(f"{name:<22} n={n:>6}  recovered {med([r['recovered'] for r in res])}  "
                  f"SSIM {med([r['ssim'] for r in res])} (cipher {np.median([r['ssim_cipher'] for r in res]):.3f})  "
                  f"PSNR {np.median([r['psnr'] for r in res]):5.2f} dB (cipher "
                  f"{np.median([r['psnr_cipher'] for r in res]):5.2f})  {dt:5.1f} s/key", flush=True)
    if figures:
        from matplotlib.figure import Figure

        from vortexnumba.io._files import save_figure

        fig = Figure(figsize=(11, 4))
        axes = fig.subplots(1, 2)
        names = list(dict.fromkeys(k[0] for k in rows))
        for i, name in enumerate(names):
            ns = [n for n in counts if (name, n) in rows]
            for ax, metric in zip(axes, ("recovered", "ssim")):
                vals = np.array([[r[metric] for r in rows[(name, n)]] for n in ns])
                ax.plot(ns, np.median(vals, axis=1), "o-", color=f"C{i}", label=name)
                ax.fill_between(ns, vals.min(axis=1), vals.max(axis=1), color=f"C{i}", alpha=0.15)
                if metric == "ssim":
                    cip = np.median([[r["ssim_cipher"] for r in rows[(name, n)]] for n in ns], axis=1)
                    ax.plot(ns, cip, ":", color=f"C{i}")
        axes[0].set_ylabel("map entries recovered")
        axes[1].set_ylabel("SSIM of reconstructed test images\n(dotted: ciphertext as it is)")
        for ax in axes:
            ax.set_xscale("log")
            ax.set_xlabel("ciphertexts seen by the attacker")
            ax.grid(True, which="both", alpha=0.3)
        axes[0].legend(fontsize=8)
        fig.suptitle("Ciphertext-only attack on Fashion-MNIST (median and range over keys; generic attack: "
                     "best of 8 grid symmetries)", fontsize=10)
        fig.tight_layout()
        save_figure(fig, Path(figures) / "security_ciphertext_only.png", force=True)
    return rows


# --------------------------------------------------------------------------- frontier

def frontier_keys(shape):
    v = lambda n, s, seed=1: vn.VortexKey.random(shape, n, s, seed=seed)
    keys = {}
    for s in (0.8, 3.0, 10.0):
        keys[("vortex S (10 vortices)", f"S={s}")] = v(10, s)
    for n in (30, 100):
        keys[("vortex count (S=0.8)", f"{n} vortices")] = v(n, 0.8)
    keys[("vortex count (S=0.8)", "10 vortices")] = keys[("vortex S (10 vortices)", "S=0.8")]
    for b in (2, 4, 7):
        keys[("block", f"{b}x{b}")] = vn.BlockKey.random(shape, b, seed=1)
    keys[("permutation", "random")] = vn.PermutationKey.random(shape, seed=1)
    for b in (2, 4):
        blk = vn.BlockKey.random(shape, b, seed=1)
        keys[("vortex + block", f"10 vortices S=0.8, then block {b}x{b}")] = vn.PermutationKey(
            shape, compose(v(10, 0.8).src, blk.src))
    return keys


def _encrypt_per_batch(x, batch, seed0):
    out = np.empty_like(x)
    for i in range(0, len(x), batch):
        out[i:i + batch] = vn.encrypt(x[i:i + batch], vn.VortexKey.random(x.shape[1:], 10, 0.8, seed=seed0 + i))
    return out


def part_frontier(train, train_y, test, test_y, *, n_train, epochs, n_attack, figures):
    from vortexnumba.learn import evaluate, make_model
    from vortexnumba.learn import train as fit

    print(f"\n## learnability-privacy frontier (CNN: {n_train} training images, {epochs} epochs, "
          f"{len(test)} test images; attack on {n_attack} training ciphertexts)")
    shape = train.shape[1:]
    tx, ty = train[:n_train], train_y[:n_train]
    model = make_model("cnn", shape + (1,), 10)

    def accuracy(xtr, xte):
        res = fit(model, xtr, ty, epochs=epochs, seed=0, progress=False)
        return evaluate(model, res, xte, test_y)

    base = accuracy(tx, test)
    print(f"baseline (no encryption): accuracy {base:.4f}")
    print(f"{'family':<24} {'setting':<36} {'acc drop':>8} {'corr h':>7} {'attack SSIM':>11} "
          f"{'cipher SSIM':>11} {'recovered':>9} {'KPA 90%':>7}")
    rows = []
    pool = train[:n_attack]
    for (fam, label), key in frontier_keys(shape).items():
        t0 = time.perf_counter()
        acc = accuracy(vn.encrypt(tx, key), vn.encrypt(test, key))
        corr = sec.adjacent_correlation(vn.encrypt(test, key))["horizontal"]
        q = sec.attack_quality(attack(key, vn.encrypt(pool, key)), key, test[:1000],
                               symmetries=key.kind != "vortex")
        k90, _ = sec.pairs_to_recover(pool[:2000], vn.encrypt(pool[:2000], key), target=0.9)
        rows.append((fam, label, base - acc, corr, q["ssim"], q["ssim_cipher"], q["recovered"], k90))
        print(f"{fam:<24} {label:<36} {base - acc:8.4f} {corr:7.3f} {q['ssim']:11.3f} {q['ssim_cipher']:11.3f} "
              f"{q['recovered']:9.3f} {k90!s:>7}  ({time.perf_counter() - t0:.0f} s)", flush=True)
    # a fresh vortex key for every batch of 32 images: the attacker holds 32 ciphertexts per key
    batch = 32
    acc = accuracy(_encrypt_per_batch(tx, batch, 10_000), _encrypt_per_batch(test, batch, 90_000))
    key = vn.VortexKey.random(shape, 10, 0.8, seed=90_000)
    c = vn.encrypt(test[:batch], key)
    corr = sec.adjacent_correlation(_encrypt_per_batch(test, batch, 90_000))["horizontal"]
    q = sec.attack_quality(attack(key, c), key, test[:1000])
    k90, _ = sec.pairs_to_recover(test[:batch], c, target=0.9)
    rows.append(("fresh key per batch", f"vortex 10 S=0.8, new key every {batch} images", base - acc, corr,
                 q["ssim"], q["ssim_cipher"], q["recovered"], k90))
    print(f"{rows[-1][0]:<24} {rows[-1][1]:<36} {base - acc:8.4f} {corr:7.3f} {q['ssim']:11.3f} "
          f"{q['ssim_cipher']:11.3f} {q['recovered']:9.3f} {k90!s:>7}")
    if figures:
        from matplotlib.figure import Figure

        from vortexnumba.io._files import save_figure

        fig = Figure(figsize=(8, 5.5))
        ax = fig.subplots()
        fams = list(dict.fromkeys(r[0] for r in rows))
        markers = "osD^vP*X"
        for i, fam in enumerate(fams):
            pts = [r for r in rows if r[0] == fam]
            ax.plot([p[4] for p in pts], [100 * p[2] for p in pts], markers[i % len(markers)] + "-",
                    color=f"C{i}", label=fam)
            for p in pts:
                ax.annotate(p[1].split(",")[0], (p[4], 100 * p[2]), fontsize=7, xytext=(3, 3),
                            textcoords="offset points", color=f"C{i}")
        ax.set_xlabel("ciphertext-only attacker's SSIM on test images (higher = more recovered)")
        ax.set_ylabel("CNN accuracy drop vs. plain training (points of %)")
        ax.set_title(f"Learnability-privacy frontier on Fashion-MNIST\n(CNN {n_train} images x {epochs} epochs; "
                     f"baseline {100 * base:.1f} %; the wanted corner is bottom left)", fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        save_figure(fig, Path(figures) / "security_frontier.png", force=True)
    return rows


# --------------------------------------------------------------------------- photographs

def part_photos(figures, size=32, names=("camera", "astronaut", "coffee", "chelsea")):
    from skimage import data as skdata
    from skimage.color import rgb2gray
    from skimage.transform import resize
    from skimage.util import img_as_float

    print(f"\n## photographs (scikit-image test images at {size}x{size}, grey; vortex key: 10 vortices, S = 0.8, "
          "radius up to the border)")
    print(f"{'image':<10} {'corr h plain':>12} {'corr h cipher':>13} {'NPCR %':>7} {'UACI %':>7} "
          f"{'attack SSIM':>11} {'cipher SSIM':>11}")
    shown = None
    for name in names:
        img = img_as_float(getattr(skdata, name)())  # [0, 1] whatever the stored dtype
        if img.ndim == 3:
            img = rgb2gray(img[..., :3])
        img = np.clip(np.round(255 * resize(img, (size, size), anti_aliasing=True)), 0, 255).astype(np.uint8)
        key = vn.VortexKey.random((size, size), 10, 0.8, seed=7)  # radii up to size / 2, as on 28x28
        c = vn.encrypt(img, key)
        cp = sec.adjacent_correlation(img)["horizontal"]
        cc = sec.adjacent_correlation(c)["horizontal"]
        npcr, uaci = sec.plaintext_sensitivity(img, key)
        # the number of vortices is a public setting, like S: the attacker undoes at most that many
        est = sec.ciphertext_only_attack(c[None], similarity="difference", max_vortices=10, progress_bar=False)
        q = sec.attack_quality(est, key, img[None])
        print(f"{name:<10} {cp:12.4f} {cc:13.4f} {npcr:7.3f} {uaci:7.3f} {q['ssim']:11.3f} {q['ssim_cipher']:11.3f}",
              flush=True)
        if shown is None:
            shown = (name, img, c, vn.decrypt(c, est), q)
    if figures and shown:
        from matplotlib.figure import Figure

        from vortexnumba.io._files import save_figure

        name, img, c, rec, q = shown
        fig = Figure(figsize=(9, 3.4))
        for ax, im, title in zip(fig.subplots(1, 3), (img, c, rec),
                                 (f"{name} ({size}x{size})", f"vortex key (SSIM {q['ssim_cipher']:.2f})",
                                  f"ciphertext-only attack on this one image (SSIM {q['ssim']:.2f})")):
            ax.imshow(im, cmap="gray", vmin=0, vmax=255)
            ax.set_title(title, fontsize=9)
            ax.axis("off")
        fig.tight_layout()
        save_figure(fig, Path(figures) / "security_photo.png", force=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", default="all", choices=("counts", "frontier", "photos", "all"))
    ap.add_argument("--keys", type=int, default=3, help="keys per family for the counts table")
    ap.add_argument("--figures", default=None, help="folder for the figures (none if omitted)")
    ap.add_argument("--quick", action="store_true", help="a few seconds' check of every part (CI)")
    args = ap.parse_args()
    train_x, train_y, test_x, test_y = vn.data.load("fashion-mnist")
    test = test_x[:1000]
    t0 = time.perf_counter()
    if args.part in ("counts", "all"):
        if args.quick:
            part_counts(train_x, test[:100], (100,), 1, None, families=("vortex bij 10 S=0.8", "permutation"))
        else:
            part_counts(train_x, test, COUNTS, args.keys, args.figures)
    if args.part in ("frontier", "all") and not args.quick:
        part_frontier(train_x, train_y, test_x[:2000], test_y[:2000], n_train=10000, epochs=2, n_attack=10000,
                      figures=args.figures)
    if args.part in ("photos", "all"):
        if args.quick:
            part_photos(None, size=16, names=("camera",))
        else:
            part_photos(args.figures)
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
