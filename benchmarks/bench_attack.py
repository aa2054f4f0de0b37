"""What a ciphertext-only attacker recovers, and the learnability-privacy frontier, on real Fashion-MNIST.

Run:  .venv/bin/python benchmarks/bench_attack.py
          [--part counts|vortex10|time|schemes|paper|frontier|frontier-attacks|photos|all]
          [--figures docs/figures] [--json docs/results/attacks] [--quick]

``counts``   For each key family (a random permutation, block 4x4, vortex keys
             in both modes with the paper's 10 vortices at S = 0.8, and 30 and
             100 vortices), three keys each (seeds 100-102): each attack that
             applies (``permutation``: the pixel attack; ``block``: the jigsaw
             solver; ``vortex``: the vortex-aware attack; ``auto``: the best
             of them by the pixel objective) fitted on the first n TRAINING
             ciphertexts and scored on 1,000 TEST images: share of map entries
             recovered, SSIM and PSNR against the originals (the pixel attack:
             best of the grid's 8 turns and mirror images, said so), beside
             the ciphertext read as it is; block attacks also the direct and
             neighbour accuracies. Median [min, max] over keys, seconds per key
             and the process's peak memory.
``paper``    Paper-mode vortex keys (10 vortices, S = 0.8: the experiment's
             key and seeds 1 and 2), which copy some pixels and lose others:
             the vortex attack (with its refinement of duplicated positions
             and holes) and ``auto`` on 10,000 and 60,000 training
             ciphertexts, scored on 1,000 test images; ``recovered`` is the
             share of the key's kept source pixels shown at their own place.
``time``     Each attack's wall-clock and CPU seconds on all 60,000 training
             ciphertexts (one key each, kernels compiled beforehand) and the
             peak memory.
``schemes``  The field's schemes (grey, block 4): EtC, LE, block-wise without and
             with negation, PE under one key (each fitted on the first n
             training ciphertexts under one key, seed 100, and scored on 1,000
             test images: the attack's own family, ``family_for``), and
             per-image PE (``pe_each``: the sign attack and the fold baseline
             on the 1,000 test images, each under its own key). Wall and CPU
             seconds of the attack and the process's peak memory.
``vortex10`` The paper's setting (10 vortices, S = 0.8, bijective) for seeds
             0-9 from 1,000 ciphertexts: the vortex-aware attack and ``auto``.
``frontier`` For a sweep of key settings: the CNN's test-accuracy drop against
             unencrypted training (short training: 10,000 training images,
             2 epochs, 2,000 test images), the adjacent-pixel correlation, the
             attacker's SSIM (10,000 ciphertexts, ``auto``) and the
             known-plaintext pairs for 90 % of the map.
``frontier-attacks``  The attack columns of ``frontier`` only; the figure takes
             the accuracy drops from ``--accuracy`` (a JSON of a previous
             ``frontier`` run: the training does not depend on the attack).
``photos``   The cipher metrics and the attack on scikit-image's test photographs
             at 32x32 (grey) with the paper's vortex settings drawn on that grid
             (radii up to the distance to the border); the attack sees the one
             encrypted photograph only (similarity = minus the squared difference)
             and undoes at most 10 vortices (a public setting, like S).

Timings are wall-clock on a shared, loaded machine (the load average is
printed); compare ratios, not seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

import numpy as np

import vortexnumba as vn
from vortexnumba import security as sec
from vortexnumba.cipher._vortex import compose
from vortexnumba.security._permutation_attack import objective_of
from vortexnumba.security._similarity import position_covariance

COUNTS = (1000, 10000, 60000)


def med(values):
    v = np.asarray(values, dtype=float)
    return f"{np.median(v):.3f} [{v.min():.3f}, {v.max():.3f}]"


def peak_mib() -> float:
    """Peak resident memory of this process so far, MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load() -> str:
    return "load average " + " ".join(f"{v:.1f}" for v in os.getloadavg())


def count_rows(shape, n_keys, counts):
    """(family name, key maker, attack, ciphertext counts) of the counts table."""
    def v(n, mode="bijective"):
        return lambda s: vn.VortexKey.random(shape, n, 0.8, mode=mode, seed=s)

    return [
        ("permutation", lambda s: vn.PermutationKey.random(shape, seed=s), "permutation", counts),
        ("block 4x4", lambda s: vn.BlockKey.random(shape, 4 if shape[0] % 4 == 0 else 2, seed=s), "block",
         (100,) + tuple(counts)),
        ("vortex bij 10 S=0.8", v(10), "vortex", counts[:2]),
        ("vortex bij 10 S=0.8", v(10), "permutation", counts[1:2]),
        ("vortex paper 10 S=0.8", v(10, "paper"), "vortex", counts[:1]),
        ("vortex paper 10 S=0.8", v(10, "paper"), "permutation", counts[1:2]),
        ("vortex bij 30 S=0.8", v(30), "permutation", counts[1:2]),
        ("vortex bij 100 S=0.8", v(100), "permutation", counts[1:2]),
    ]


def attack(key, ciphertexts, family=None):
    """Run ``family`` (default: the one for the key's kind) on ciphertexts of ``key``."""
    own, options = sec.family_for(key)
    family = family or own
    if family == "auto":
        options = {"mode": getattr(key, "mode", "bijective"), "block": options.get("block")}
    elif family == "vortex":
        options = {"mode": getattr(key, "mode", "bijective")}
    elif family != own:
        options = {}
    return sec.ciphertext_only_attack(ciphertexts, family=family, progress_bar=False, **options)


def _summary(name, family, n, res, dt):
    keys = ("recovered", "ssim", "ssim_cipher", "psnr", "psnr_cipher", "direct", "neighbour")
    out = {"family": name, "attack": family, "n": n, "seconds_per_key": dt, "peak_mib": peak_mib(),
           "per_key": res}
    for k in keys:
        if k in res[0]:
            out[k] = float(np.median([r[k] for r in res]))
            out[k + "_range"] = [float(min(r[k] for r in res)), float(max(r[k] for r in res))]
    return out


def _print_row(row):
    extra = ""
    if "direct" in row:
        extra = f"  direct {row['direct']:.3f} neighbour {row['neighbour']:.3f}"
    res = row["per_key"]
    print(f"{row['family']:<22} {row['attack']:<11} n={row['n']:>6}  recovered {med([r['recovered'] for r in res])}  "
          f"SSIM {med([r['ssim'] for r in res])} (cipher {row['ssim_cipher']:.3f})  PSNR {row['psnr']:5.2f} dB "
          f"(cipher {row['psnr_cipher']:5.2f}){extra}  {row['seconds_per_key']:5.1f} s/key  "
          f"peak {row['peak_mib']:.0f} MiB  [{load()}]", flush=True)


def _write(path, rows):
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(rows, indent=1, default=float) + "\n")


def part_counts(train, test, counts, n_keys, figures, out=None, quick=False, rows_wanted=None):
    print("\n## ciphertext-only attacks against the number of ciphertexts (median [min, max] over keys)")
    print("attack fitted on the first n training ciphertexts, scored on", len(test), "test images;", load())
    rows = []
    for name, make, family, ns in count_rows(train.shape[1:], n_keys, counts):
        if quick and name not in ("permutation", "block 4x4", "vortex bij 10 S=0.8"):
            continue
        for n in ns:
            k = n_keys if rows_wanted is None else rows_wanted.get((name, family, n), 0)
            if k == 0:
                continue
            keys = [make(100 + s) for s in range(k)]
            res = []
            t0 = time.perf_counter()
            for key in keys:
                est = attack(key, vn.encrypt(train[:n], key), family)
                q = sec.attack_quality(est, key, test)
                q["chosen"] = est.family
                q["objective"] = est.objective
                res.append(q)
            row = _summary(name, family, n, res, (time.perf_counter() - t0) / len(keys))
            rows.append(row)
            _print_row(row)
            _write(out, rows)
    if figures:
        _figure_counts(rows, figures)
    return rows


def _figure_counts(rows, figures):
    from matplotlib.figure import Figure

    from vortexnumba.io._files import save_figure

    fig = Figure(figsize=(11, 4))
    axes = fig.subplots(1, 2)
    series = list(dict.fromkeys((r["family"], r["attack"]) for r in rows))
    for i, (name, family) in enumerate(series):
        pts = [r for r in rows if (r["family"], r["attack"]) == (name, family)]
        ns = [r["n"] for r in pts]
        for ax, metric in zip(axes, ("recovered", "ssim"), strict=True):
            mid = [r[metric] for r in pts]
            lo = [r[metric + "_range"][0] for r in pts]
            hi = [r[metric + "_range"][1] for r in pts]
            ax.plot(ns, mid, "o-", color=f"C{i}", label=f"{name}: {family}")
            ax.fill_between(ns, lo, hi, color=f"C{i}", alpha=0.15)
    axes[0].set_ylabel("map entries recovered")
    axes[1].set_ylabel("SSIM of reconstructed test images")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("ciphertexts seen by the attacker")
        ax.grid(True, which="both", alpha=0.3)
    axes[1].legend(fontsize=6)
    fig.suptitle("Ciphertext-only attacks on Fashion-MNIST (median and range over 3 keys; pixel attack: best of "
                 "8 grid symmetries)", fontsize=10)
    fig.tight_layout()
    save_figure(fig, Path(figures) / "security_ciphertext_only.png", force=True)


def part_vortex10(train, test, n, seeds, out=None, with_pixel=True):
    print(f"\n## the paper's setting (10 vortices, S = 0.8, bijective), seeds {seeds[0]}-{seeds[-1]}, "
          f"{n} ciphertexts; {load()}")
    rows = []
    for s in seeds:
        key = vn.VortexKey.random(train.shape[1:], 10, 0.8, seed=s)
        c = vn.encrypt(train[:n], key)
        t0 = time.perf_counter()
        if with_pixel:
            est = attack(key, c, "auto")
        else:
            # the vortex-aware attack alone, with both similarities; the better by the pixel objective
            x = c.reshape(c.shape + (1,))
            cov = position_covariance(x)
            alts = {f"vortex ({sim})": sec.ciphertext_only_attack(c, similarity=sim, progress_bar=False)
                    for sim in ("correlation", "partial")}
            scores = {name: objective_of(cov, r.key.inverse_src, c.shape[1:])
                      for name, r in alts.items()}
            best = max(scores, key=scores.get)
            est = sec.AttackResult(alts[best].key, "vortex", alts[best].objective, "none", scores, alts)
        dt = time.perf_counter() - t0
        row = {"seed": s, "n": n, "seconds_auto": dt, "chosen": est.family, "candidates": est.candidates,
               "auto": sec.attack_quality(est, key, test),
               **{name: sec.attack_quality(alt, key, test) for name, alt in est.alternatives.items()}}
        rows.append(row)
        print(f"seed {s}  auto -> {est.family:<11} recovered {row['auto']['recovered']:.3f} SSIM "
              f"{row['auto']['ssim']:.3f}; " + "; ".join(f"{name} {row[name]['recovered']:.3f}"
                                                     for name in est.alternatives) + f"  ({dt:5.1f} s, {load()})",
              flush=True)
        _write(out, rows)
    for name in ["auto"] + [k for k in rows[0] if k.startswith(("vortex (", "permutation"))]:
        rec = [r[name]["recovered"] for r in rows]
        print(f"{name}: recovered min {min(rec):.3f}, median {np.median(rec):.3f}; keys >= 0.90: "
              f"{sum(v >= 0.9 for v in rec)} of {len(rec)}")
    return rows


def part_time(train, out=None):
    """Each attack's wall and CPU seconds (all threads) on every training ciphertext, after a warm-up."""
    print(f"\n## time of each attack on {len(train)} ciphertexts (compiled kernels warmed up first); {load()}")
    shape = train.shape[1:]
    rows = {}
    for key, family in ((vn.PermutationKey.random(shape, seed=100), "permutation"),
                        (vn.BlockKey.random(shape, 4 if shape[0] % 4 == 0 else 2, seed=100), "block"),
                        (vn.VortexKey.random(shape, 10, 0.8, seed=100), "vortex")):
        attack(key, vn.encrypt(train[:200], key), family)
        c = vn.encrypt(train, key)
        r0, w0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        attack(key, c, family)
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        rows[family] = {"n": len(train), "wall_s": time.perf_counter() - w0,
                        "cpu_s": (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime), "peak_mib": peak_mib(),
                        "load": list(os.getloadavg())}
        print(f"{family:<12} wall {rows[family]['wall_s']:6.1f} s  CPU {rows[family]['cpu_s']:6.1f} s  "
              f"peak {rows[family]['peak_mib']:.0f} MiB  [{load()}]", flush=True)
        _write(out, rows)
    return rows


SCHEME_ROWS = (("etc", lambda shape, b, s: vn.EtCKey.random(shape, b, seed=s)),
               ("le", lambda shape, b, s: vn.LEKey.random(shape, b, seed=s)),
               ("ele", lambda shape, b, s: vn.ELEKey.random(shape, b, seed=s)),
               ("blockwise", lambda shape, b, s: vn.BlockwiseKey.random(shape, b, seed=s)),
               ("blockwise negate", lambda shape, b, s: vn.BlockwiseKey.random(shape, b, negate=True, seed=s)),
               ("pe", lambda shape, b, s: vn.PEKey.random(shape, seed=s)))


def part_schemes(train, test, counts, block, out=None, seeds=(100,)):
    """Each scheme's own ciphertext-only attack against the number of ciphertexts, one row per key (``seeds``)."""
    print(f"\n## the field's schemes (grey, block {block}): attack fitted on the first n training ciphertexts, "
          f"scored on {len(test)} test images; keys of seeds {', '.join(map(str, seeds))}; {load()}")
    shape = train.shape[1:]
    rows = []
    for name, make in SCHEME_ROWS:
        for seed in seeds:
            key = make(shape, block, seed)
            attack(key, vn.encrypt(train[:64], key))  # compile the kernels first
            for n in counts:
                c = vn.encrypt(train[:n], key)
                r0, w0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
                est = attack(key, c)
                wall = time.perf_counter() - w0
                r1 = resource.getrusage(resource.RUSAGE_SELF)
                q = sec.attack_quality(est, key, test)
                row = {"scheme": name, "seed": seed, "n": n, "wall_s": wall,
                       "cpu_s": (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime), "peak_mib": peak_mib(),
                       "symmetry": est.symmetry, **q}
                rows.append(row)
                extra = f"  direct {q['direct']:.3f} neighbour {q['neighbour']:.3f}" if "direct" in q else ""
                print(f"{name:<17} seed {seed} n={n:>6}  recovered {q['recovered']:.3f}  SSIM {q['ssim']:.3f} "
                      f"(cipher {q['ssim_cipher']:.3f})  PSNR {q['psnr']:6.2f} dB{extra}  [{est.symmetry}]  "
                      f"wall {wall:6.1f} s  CPU {row['cpu_s']:6.1f} s  peak {row['peak_mib']:.0f} MiB  [{load()}]",
                      flush=True)
                _write(out, rows)
    print("\nmedian [min, max] over the keys:")
    for name, _ in SCHEME_ROWS:
        for n in counts:
            mine = [r for r in rows if r["scheme"] == name and r["n"] == n]
            cols = ("recovered", "ssim", "direct", "neighbour")
            print(f"{name:<17} n={n:>6}  " + "  ".join(
                f"{k} {np.median([r[k] for r in mine]):.3f} [{min(r[k] for r in mine):.3f}, "
                f"{max(r[k] for r in mine):.3f}]" for k in cols if k in mine[0]))
    cipher = vn.pe_each(test, seed=100)
    w0 = time.perf_counter()
    est = sec.ciphertext_only_attack(cipher, family="pe_each", progress_bar=False)
    wall = time.perf_counter() - w0
    for label, res in (("pe_each signs", est), ("pe_each fold", est.alternatives["fold"])):
        q = sec.attack_quality(res, None, test, ciphertexts=cipher)
        rows.append({"scheme": label, "n": len(test), "wall_s": wall, "peak_mib": peak_mib(), **q})
        print(f"{label:<17} n={len(test):>6}  recovered {q['recovered']:.3f}  SSIM {q['ssim']:.3f} (cipher "
              f"{q['ssim_cipher']:.3f})  PSNR {q['psnr']:6.2f} dB  [{res.symmetry}]  wall {wall:6.1f} s", flush=True)
    _write(out, rows)
    return rows


# --------------------------------------------------------------------------- frontier

def frontier_keys(shape):
    def v(n, s, seed=1):
        return vn.VortexKey.random(shape, n, s, seed=seed)

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


def best_attack(key, ciphertexts):
    """The block attack for block keys, the pixel attack for every other fixed map (at 10,000 ciphertexts
    the strongest; ``auto`` adds the vortex attack's minutes for nothing), ``auto`` for a handful."""
    if key.kind == "block":
        return attack(key, ciphertexts)
    return attack(key, ciphertexts, "auto" if len(ciphertexts) < 1000 else "permutation")


def part_frontier(train, train_y, test, test_y, *, n_train, epochs, n_attack, figures, accuracy=None, out=None):
    """The frontier; with ``accuracy`` (label -> accuracy drop) the CNN is not trained again."""
    shape = train.shape[1:]
    tx, ty = train[:n_train], train_y[:n_train]
    if accuracy is None:
        from vortexnumba.learn import evaluate, make_model
        from vortexnumba.learn import train as fit

        model = make_model("cnn", shape + (1,), 10)

        def accuracy_of(xtr, xte):
            res = fit(model, xtr, ty, epochs=epochs, seed=0, progress=False)
            return evaluate(model, res, xte, test_y)

        base = accuracy_of(tx, test)

        def accuracy_drop(label, xtr, xte):
            return base - accuracy_of(xtr, xte)

        print(f"\n## learnability-privacy frontier (CNN: {n_train} training images, {epochs} epochs, "
              f"{len(test)} test images; attack on {n_attack} training ciphertexts)")
        print(f"baseline (no encryption): accuracy {base:.4f}")
    else:
        base = accuracy["baseline"]

        print(f"\n## learnability-privacy frontier: attack columns (attack on {n_attack} training ciphertexts); "
              f"accuracy drops read from the previous training run (baseline {base:.4f})")
    print(f"{'family':<24} {'setting':<36} {'acc drop':>8} {'corr h':>7} {'attack':>11} {'attack SSIM':>11} "
          f"{'cipher SSIM':>11} {'recovered':>9} {'KPA 90%':>7}")
    rows = []
    pool = train[:n_attack]

    def record(fam, label, drop, corr, est, q, k90, t0):
        rows.append({"family": fam, "setting": label, "accuracy_drop": drop, "corr_h": corr, "attack": est.family,
                     "ssim": q["ssim"], "ssim_cipher": q["ssim_cipher"], "recovered": q["recovered"],
                     "psnr": q["psnr"], "kpa_90": k90, "symmetry_scored": q["symmetries_tried"] > 1,
                     **({"direct": q["direct"], "neighbour": q["neighbour"]} if "direct" in q else {})})
        print(f"{fam:<24} {label:<36} {drop:8.4f} {corr:7.3f} {est.family:>11} {q['ssim']:11.3f} "
              f"{q['ssim_cipher']:11.3f} {q['recovered']:9.3f} {k90!s:>7}  ({time.perf_counter() - t0:.0f} s; "
              f"{load()})", flush=True)
        _write(out, {"baseline": base, "rows": rows})

    for (fam, label), key in frontier_keys(shape).items():
        t0 = time.perf_counter()
        drop = accuracy_drop(label, vn.encrypt(tx, key), vn.encrypt(test, key)) if accuracy is None else \
            accuracy["drops"][label]
        corr = sec.adjacent_correlation(vn.encrypt(test, key))["horizontal"]
        est = best_attack(key, vn.encrypt(pool, key))
        q = sec.attack_quality(est, key, test[:1000])
        k90, _ = sec.pairs_to_recover(pool[:2000], vn.encrypt(pool[:2000], key), target=0.9)
        record(fam, label, drop, corr, est, q, k90, t0)
    # a fresh vortex key for every batch of 32 images: the attacker holds 32 ciphertexts per key
    batch = 32
    label = f"vortex 10 S=0.8, new key every {batch} images"
    t0 = time.perf_counter()
    drop = accuracy_drop(label, _encrypt_per_batch(tx, batch, 10_000), _encrypt_per_batch(test, batch, 90_000)) \
        if accuracy is None else accuracy["drops"][label]
    key = vn.VortexKey.random(shape, 10, 0.8, seed=90_000)
    c = vn.encrypt(test[:batch], key)
    corr = sec.adjacent_correlation(_encrypt_per_batch(test, batch, 90_000))["horizontal"]
    est = best_attack(key, c)
    q = sec.attack_quality(est, key, test[:1000])
    k90, _ = sec.pairs_to_recover(test[:batch], c, target=0.9)
    record("fresh key per batch", label, drop, corr, est, q, k90, t0)
    if figures:
        figure_frontier(rows, base, f"CNN {n_train} images x {epochs} epochs", figures)
    return rows


def figure_frontier(rows, base, training, figures):
    """The frontier figure: accuracy drop against the attacker's SSIM, one labelled point per setting."""
    from matplotlib.figure import Figure

    from vortexnumba.io._files import save_figure

    fig = Figure(figsize=(8, 5.5))
    ax = fig.subplots()
    fams = list(dict.fromkeys(r["family"] for r in rows))
    markers = "osD^vP*X"
    labels = []
    for i, fam in enumerate(fams):
        pts = [r for r in rows if r["family"] == fam]
        ax.plot([p["ssim"] for p in pts], [100 * p["accuracy_drop"] for p in pts], markers[i % len(markers)],
                color=f"C{i}", label=fam)
        labels += [(100 * p["accuracy_drop"], p["ssim"], f"{fam}: {p['setting'].split(',')[0]}", f"C{i}")
                   for p in pts]
    # labels in a column left of the points, spread so that none overlaps, each joined to its point
    lo, hi = ax.get_ylim()
    gap = (hi - lo) / 28
    placed = []
    for y, x, text, colour in sorted(labels):
        ty = max(y, placed[-1] + gap) if placed else y
        placed.append(ty)
        ax.annotate(text, (x, y), xytext=(x - 0.03 * (1.0 - min(labels)[1] + 0.3), ty), fontsize=7, color=colour,
                    ha="right", va="center", arrowprops={"arrowstyle": "-", "color": colour, "lw": 0.5})
    ax.set_xlabel("ciphertext-only attacker's SSIM on test images (higher = more recovered; pixel attack: "
                  "best of 8 symmetries)")
    ax.set_ylabel("CNN accuracy drop vs. plain training (points of %)")
    ax.set_title(f"Learnability-privacy frontier on Fashion-MNIST\n({training}; baseline {100 * base:.1f} %; "
                 "the wanted corner is bottom left)", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, Path(figures) / "security_frontier.png", force=True)


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
        titles = (f"{name} ({size}x{size})", f"vortex key (SSIM {q['ssim_cipher']:.2f})",
                  f"ciphertext-only attack on this one image (SSIM {q['ssim']:.2f})")
        for ax, im, title in zip(fig.subplots(1, 3), (img, c, rec), titles, strict=True):
            ax.imshow(im, cmap="gray", vmin=0, vmax=255)
            ax.set_title(title, fontsize=9)
            ax.axis("off")
        fig.tight_layout()
        save_figure(fig, Path(figures) / "security_photo.png", force=True)


def paper_keys(shape, seeds=(0, 1, 2)):
    """The experiment's paper-setting key (seed 0) and ``VortexKey.random`` with the same setting (seeds >= 1)."""
    from vortexnumba.learn._reproduce import make_key, transform_settings

    out = []
    for s in seeds:
        if s == 0 and tuple(shape) == (28, 28):
            out.append(("experiment key", make_key("vor-paper", shape, transform_settings(shape), 0)))
        else:
            out.append((f"seed {s}", vn.VortexKey.random(shape, 10, 0.8, mode="paper", seed=s)))
    return out


def part_paper(train, test, counts, seeds=(0, 1, 2), families=("vortex", "auto"), out=None):
    """Paper-mode keys under the vortex attack and ``auto`` (see the module docstring)."""
    rows = []
    for name, key in paper_keys(test.shape[1:], seeds):
        kept = np.unique(key.src).size
        for n in counts:
            x = vn.encrypt(train[:n], key)
            for fam in families:
                t = time.perf_counter()
                est = sec.ciphertext_only_attack(x, family=fam, mode="paper", progress_bar=False)
                dt = time.perf_counter() - t
                q = sec.attack_quality(est, key, test)
                row = {"key": name, "attack": fam, "picked": est.family, "n": n, "kept": kept, "seconds": dt,
                       **{k: q[k] for k in ("recovered", "ssim", "ssim_cipher", "psnr", "psnr_cipher")}}
                rows.append(row)
                print(f"paper {name:<15} {fam:<7} n={n:>6}  kept {kept}/{key.n_pixels}  recovered "
                      f"{row['recovered']:.3f}  SSIM {row['ssim']:.3f} (cipher {row['ssim_cipher']:.3f})  PSNR "
                      f"{row['psnr']:5.2f} dB  {dt:5.1f} s  [{load()}]", flush=True)
    if out:
        _write(out, rows)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", default="all",
                    choices=("counts", "vortex10", "time", "schemes", "paper", "frontier", "frontier-attacks", "photos",
                             "all"))
    ap.add_argument("--keys", type=int, default=3, help="keys per family for the counts and schemes tables")
    ap.add_argument("--figures", default=None, help="folder for the figures (none if omitted)")
    ap.add_argument("--json", default=None, help="folder for the results as JSON (none if omitted)")
    ap.add_argument("--accuracy", default=None, help="frontier-attacks: JSON with the accuracy drops")
    ap.add_argument("--quick", action="store_true", help="a few seconds' check of every part (CI)")
    ap.add_argument("--short", action="store_true",
                    help="on a loaded machine: the counts rows the targets need (60,000 ciphertexts with one key), "
                         "vortex10 without the pixel attack, 200 test images for vortex10")
    args = ap.parse_args()
    train_x, train_y, test_x, test_y = vn.data.load("fashion-mnist")
    test = test_x[:1000]
    def out(name):
        return str(Path(args.json) / name) if args.json else None

    t0 = time.perf_counter()
    print(f"{os.cpu_count()} CPUs; {load()}")
    if args.quick:
        # the images at half size (means of 2 x 2 pixels): the same code paths in seconds
        def half(x):
            return np.round(x.reshape(len(x), 14, 2, 14, 2).mean(axis=(2, 4))).astype(np.uint8)

        train_x, test_x = half(train_x[:2000]), half(test_x[:1000])
        test = test_x[:1000]
    if args.part in ("counts", "all"):
        if args.quick:
            part_counts(train_x, test[:50], (500,), 1, None, quick=True)
        elif args.short:
            wanted = {("permutation", "permutation", 60000): 1, ("block 4x4", "block", 1000): 3,
                      ("block 4x4", "block", 60000): 1, ("vortex bij 30 S=0.8", "permutation", 10000): 1,
                      ("vortex bij 100 S=0.8", "permutation", 10000): 1}
            part_counts(train_x, test, COUNTS, args.keys, None, out=out("counts_short.json"), rows_wanted=wanted)
        else:
            part_counts(train_x, test, COUNTS, args.keys, args.figures, out=out("counts.json"))
    if args.part in ("vortex10", "all"):
        if args.quick:
            part_vortex10(train_x, test[:50], 500, [0])
        elif args.short:
            part_vortex10(train_x, test[:200], 1000, list(range(10)), out=out("vortex10_short.json"), with_pixel=False)
        else:
            part_vortex10(train_x, test, 1000, list(range(10)), out=out("vortex10.json"))
    if args.part in ("time", "all"):
        part_time(train_x[:500] if args.quick else train_x, out=None if args.quick else out("time.json"))
    if args.part in ("schemes", "all"):
        if args.quick:
            part_schemes(train_x, test[:50], (500,), 2)
        else:
            seeds = tuple(100 + k for k in range(args.keys))
            part_schemes(train_x, test, COUNTS, 4, out=out("schemes.json"), seeds=seeds)
    if args.part in ("paper", "all"):
        if args.quick:
            part_paper(train_x, test[:50], (500,), seeds=(1,), families=("vortex",))
        else:
            part_paper(train_x, test, (10000, 60000), out=out("paper.json"))
    if args.part in ("frontier", "frontier-attacks", "all") and not args.quick:
        accuracy = None
        if args.part == "frontier-attacks":
            accuracy = json.loads(Path(args.accuracy).read_text())
        part_frontier(train_x, train_y, test_x[:2000], test_y[:2000], n_train=10000, epochs=2, n_attack=10000,
                      figures=args.figures, accuracy=accuracy, out=out("frontier.json"))
    if args.part in ("photos", "all"):
        if args.quick:
            part_photos(None, size=16, names=("camera",))
        else:
            part_photos(args.figures)
    print(f"\ntotal {time.perf_counter() - t0:.0f} s; peak memory {peak_mib():.0f} MiB; {load()}")


if __name__ == "__main__":
    main()
