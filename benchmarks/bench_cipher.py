"""Speed and memory of the cipher, as ratios measured in one run.

    .venv/bin/python benchmarks/bench_cipher.py            # full size: 70,000 images of 28x28
    .venv/bin/python benchmarks/bench_cipher.py --images 7000 --repeats 5
    .venv/bin/python benchmarks/bench_cipher.py --quick    # small sizes for CI, seconds

Measures
--------
1. ``vn.encrypt`` of a (70000, 28, 28) uint8 array with a built key against
   ``numpy.copy`` of the same array (best of ``--repeats``; both allocate
   their output).
2. scikit-image's ``transform.swirl`` applied image by image (10 swirls per
   image, as a key has 10 vortices) and a direct Python transcription of the
   paper's per-pixel loop, each timed on a subset and scaled to the full set.
3. Building a 10-vortex key for 32x32 (draw + gather index), after compilation.
4. Peak resident memory of encrypting the array, measured in a fresh
   subprocess from its own high-water mark (``VmHWM`` in /proc/self/status;
   Linux only), against input + output.
5. Key loading's cheap checks: the nesting-depth scan against the whole load
   of a 512x512 permutation key, and refusing a forged key that claims a
   4096x4096 grid (given the input's 8x8 grid) against building a real
   2048x2048 key (the largest allowed).
6. The value-changing keys (LE, ELE, EtC, PE, block-wise with and without
   negation) and a vortex key on ``--scheme-images`` (10,000) 32x32x3 uint8
   images: encrypt and decrypt (both allocating) against ``numpy.copy`` of
   the same bytes; ``pe_each`` (a fresh key per image) beside them. Run this
   part alone with ``--schemes-only``; ``--quick`` keeps its full size (the
   copies are a few milliseconds).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys

import numpy as np

import vortexnumba as vn
from _timing import best_of, timings


def paper_loop_encrypt(image, key):
    """The reference arithmetic as a plain per-pixel loop, recomputed for every image."""
    out = image.copy()
    for v in key.vortices:
        cy, cx = v.centre
        r = v.radius
        w = 2 * r + 1
        m = w / 2
        src = out.copy()
        for x in range(1, w + 1):
            for y in range(1, w + 1):
                xo, yo = x - m, y - m
                rho = math.hypot(xo, yo)
                if rho > r:
                    continue
                k = int(math.floor(rho + 0.5))
                t = (k - 1) / r
                a = v.weights
                swirl = v.strength * (a[0] * math.sin(a[1] * t + a[2]) + a[3] * math.cos(a[4] * t + a[5])
                                      if v.family == 1 else _family_other(v.family, a, t))
                ang = math.atan2(yo, xo) + (r - k) * swirl
                xs = int(math.floor(rho * math.cos(ang) + m + 0.5))
                ys = int(math.floor(rho * math.sin(ang) + m + 0.5))
                out[cy - r + x - 1, cx - r + y - 1] = src[cy - r + xs - 1, cx - r + ys - 1]
    return out


def _family_other(f, a, t):
    if f == 2:
        return a[0] * t + a[1] * t ** 3 + a[2] * math.exp(2 * t) + a[3] * math.cos(a[4] * t + a[5])
    if f == 3:
        return a[0] * math.sqrt(t) + a[1] * t ** 2 + a[2] * math.exp(t) + a[3] * math.sin(a[4] * t + a[5])
    if f == 4:
        return a[0] * t ** 5 + a[1] * math.log(t + 1) + a[2] * math.exp(t) + a[3] * math.cos(a[4] * t + a[5])
    return a[0] * 2 ** t + a[1] * 2 * t + a[2] * math.log10(t + 1) + a[3] * math.sin(a[4] * t + a[5])


MEMORY_CHILD = r"""
import sys, numpy as np, vortexnumba as vn

def peak_rss():
    # VmHWM belongs to this process image; getrusage's ru_maxrss would also
    # carry the parent's peak over fork + exec
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")

n = int(sys.argv[1])
key = vn.VortexKey.random((28, 28), seed=0)
vn.encrypt(np.zeros((4, 28, 28), np.uint8), key)          # compile / load cache first
x = np.empty((n, 28, 28), np.uint8)
rng = np.random.default_rng(0)
for s in range(0, n, 1000):  # in chunks: no large temporary may raise the peak before we start
    x[s:s + 1000] = rng.integers(0, 256, x[s:s + 1000].shape, dtype=np.uint8)
before = peak_rss()
y = vn.encrypt(x, key)
after = peak_rss()
print(before, after, x.nbytes, y.nbytes)
"""


SCHEME_KEYS = {
    "vortex": lambda: vn.VortexKey.random((32, 32), strength=0.1, seed=0),
    "le": lambda: vn.LEKey.random((32, 32), block=4, channels=3, seed=0),
    "ele": lambda: vn.ELEKey.random((32, 32), block=4, channels=3, seed=0),
    "etc": lambda: vn.EtCKey.random((32, 32), block=4, channels=3, seed=0),
    "pe": lambda: vn.PEKey.random((32, 32), channels=3, seed=0),
    "blockwise": lambda: vn.BlockwiseKey.random((32, 32), block=4, channels=3, seed=0),
    "blockwise-negate": lambda: vn.BlockwiseKey.random((32, 32), block=4, channels=3, negate=True, seed=0),
}


def bench_schemes(n_images: int, repeats: int) -> dict:
    """Encrypt/decrypt time of every scheme over numpy.copy of the same (n, 32, 32, 3) uint8 bytes."""
    x = np.random.default_rng(0).integers(0, 256, (n_images, 32, 32, 3), dtype=np.uint8)
    res = {"scheme_images": n_images}
    for name, make in SCHEME_KEYS.items():
        key = make()
        y = vn.encrypt(x, key)  # compile (or load the cache) outside the timings
        assert np.array_equal(vn.decrypt(y, key), x)
        # copy, encrypt, decrypt interleaved, best of each: the ratio is what a run on a busy machine keeps
        t_copy = t_enc = t_dec = float("inf")
        for _ in range(repeats):
            t_copy = min(t_copy, best_of(lambda: np.copy(x), 1))
            t_enc = min(t_enc, best_of(lambda: vn.encrypt(x, key), 1))
            t_dec = min(t_dec, best_of(lambda: vn.decrypt(y, key), 1))
        res[name] = {"copy_ms": t_copy * 1e3, "encrypt_over_copy": t_enc / t_copy,
                     "decrypt_over_copy": t_dec / t_copy}
    vn.pe_each(x[:4], seed=0)
    t_copy = best_of(lambda: np.copy(x), repeats)
    t_each = best_of(lambda: vn.pe_each(x, seed=0), max(1, repeats // 3))
    res["pe_each"] = {"encrypt_over_copy": t_each / t_copy}
    return res


def print_schemes(res: dict) -> None:
    print(f"{res['scheme_images']} images of 32x32x3 uint8: time over numpy.copy of the same bytes")
    for name in SCHEME_KEYS:
        r = res[name]
        print(f"  {name:17s} encrypt {r['encrypt_over_copy']:5.2f}x   decrypt {r['decrypt_over_copy']:5.2f}x")
    print(f"  {'pe_each':17s} encrypt {res['pe_each']['encrypt_over_copy']:5.2f}x (draws a key per image)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=70_000)
    ap.add_argument("--repeats", type=int, default=11)
    ap.add_argument("--swirl-subset", type=int, default=100)
    ap.add_argument("--loop-subset", type=int, default=20)
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--quick", action="store_true", help="small sizes for CI (seconds)")
    ap.add_argument("--scheme-images", type=int, default=10_000, help="32x32x3 images for part 6")
    ap.add_argument("--schemes-only", action="store_true", help="measure part 6 only")
    args = ap.parse_args(argv)
    if args.quick:
        args.images, args.repeats, args.swirl_subset, args.loop_subset = 2000, 3, 5, 2
    if args.schemes_only:
        res = bench_schemes(args.scheme_images, max(args.repeats, 5))
        print(json.dumps(res, indent=2)) if args.json else print_schemes(res)
        return

    res = {"images": args.images}
    key = vn.VortexKey.random((28, 28), seed=0)
    x = np.random.default_rng(0).integers(0, 256, (args.images, 28, 28), dtype=np.uint8)
    out = np.empty_like(x)
    vn.encrypt(x[:8], key)  # compile (or load the cache) outside the timings

    t_copy = best_of(lambda: np.copy(x), args.repeats)
    t_enc = best_of(lambda: vn.encrypt(x, key), args.repeats)
    t_enc_out = best_of(lambda: vn.encrypt(x, key, out=out), args.repeats)
    t_dec = best_of(lambda: vn.decrypt(x, key, out=out), args.repeats)
    res.update(copy_ms=t_copy * 1e3, encrypt_ms=t_enc * 1e3, encrypt_out_ms=t_enc_out * 1e3,
               decrypt_out_ms=t_dec * 1e3, encrypt_over_copy=t_enc / t_copy,
               encrypt_out_over_copy=t_enc_out / t_copy)

    from skimage.transform import swirl

    sub = x[: args.swirl_subset]

    def run_swirl():
        for img in sub:
            y = img
            for v in key.vortices:
                y = swirl(y, center=(v.centre[1], v.centre[0]), strength=v.strength, radius=v.radius,
                          order=0, preserve_range=True)
    t_swirl = best_of(run_swirl, 1)
    t_swirl_full = t_swirl / len(sub) * args.images
    paper_key = vn.VortexKey.random((28, 28), mode="paper", seed=0)
    loop_sub = x[: args.loop_subset]
    # the loop transcription must agree with the engine, or the timing compares different work
    assert np.array_equal(paper_loop_encrypt(loop_sub[0], paper_key), vn.encrypt(loop_sub[0], paper_key))
    t_loop = best_of(lambda: [paper_loop_encrypt(img, paper_key) for img in loop_sub], 1)
    t_loop_full = t_loop / len(loop_sub) * args.images
    t_enc_paper = best_of(lambda: vn.encrypt(x, paper_key, out=out), args.repeats)
    res.update(swirl_full_s=t_swirl_full, swirl_over_encrypt=t_swirl_full / t_enc,
               loop_full_s=t_loop_full, loop_over_encrypt=t_loop_full / t_enc_paper)

    vn.VortexKey.random((32, 32), seed=0).src
    seeds = iter(range(1, 10_000))
    key_times = timings(lambda: vn.VortexKey.random((32, 32), n_vortices=10, seed=next(seeds)).src, 200)
    t_key, t_key_med = min(key_times), float(np.median(key_times))
    res.update(key_build_ms_best=t_key * 1e3, key_build_ms_median=t_key_med * 1e3)

    from vortexnumba.cipher._keybase import _json_depth  # noqa: PLC2701 - the scan alone is what is timed

    perm_text = vn.PermutationKey.random((512, 512), seed=0).to_json()
    t_depth = best_of(lambda: _json_depth(perm_text), args.repeats)
    t_load = best_of(lambda: vn.key_from_json(perm_text), args.repeats)
    forged = json.loads(vn.IdentityKey((8, 8)).to_json())
    forged["shape"] = [4096, 4096]
    forged_text = json.dumps(forged)

    def refuse():
        try:
            vn.key_from_json(forged_text, grid=(8, 8))
        except ValueError:
            return
        raise AssertionError("the forged key was accepted")

    t_refuse = best_of(refuse, args.repeats)
    t_big = best_of(lambda: vn.PermutationKey.random((2048, 2048), seed=0).src, 1)
    res.update(depth_scan_over_load=t_depth / t_load, forged_refusal_ms=t_refuse * 1e3,
               big_key_build_over_refusal=t_big / t_refuse)

    proc = subprocess.run([sys.executable, "-c", MEMORY_CHILD, str(args.images)], capture_output=True,
                          text=True, check=True)
    before, after, in_bytes, out_bytes = map(int, proc.stdout.split())
    res.update(child_rss_before_mb=before / 2**20, child_rss_peak_mb=after / 2**20)
    # ru_maxrss is the process peak; the input already counted in 'before'
    extra = max(0, after - before)
    res.update(peak_extra_mb=extra / 2**20, output_mb=out_bytes / 2**20, input_mb=in_bytes / 2**20,
               peak_extra_over_output=extra / out_bytes)
    res["schemes"] = bench_schemes(args.scheme_images, max(args.repeats, 5))

    if args.json:
        print(json.dumps(res, indent=2))
        return
    print(f"images: {args.images} x 28x28 uint8 ({x.nbytes / 2**20:.1f} MiB)")
    print(f"numpy.copy               {res['copy_ms']:8.2f} ms")
    print(f"encrypt (allocates)      {res['encrypt_ms']:8.2f} ms   ratio to copy {res['encrypt_over_copy']:.2f}")
    print(f"encrypt(out=)            {res['encrypt_out_ms']:8.2f} ms   ratio to copy {res['encrypt_out_over_copy']:.2f}")
    print(f"decrypt(out=)            {res['decrypt_out_ms']:8.2f} ms")
    print(f"skimage swirl x10/img    {t_swirl_full:8.1f} s (scaled from {len(sub)})   "
          f"encrypt is {res['swirl_over_encrypt']:.0f}x faster")
    print(f"paper per-pixel loop     {t_loop_full:8.1f} s (scaled from {len(loop_sub)})   "
          f"encrypt (paper key) is {res['loop_over_encrypt']:.0f}x faster")
    print(f"key build 10 vortices 32x32: best {res['key_build_ms_best']:.3f} ms, "
          f"median {res['key_build_ms_median']:.3f} ms")
    print(f"depth check of a 512x512 permutation key: {res['depth_scan_over_load']:.3f} of its whole load; "
          f"refusing a forged 4096x4096 key: {res['forged_refusal_ms']:.3f} ms "
          f"({res['big_key_build_over_refusal']:.0f}x faster than building a real 2048x2048 key)")
    print(f"peak memory of encrypt beyond the input: {res['peak_extra_mb']:.1f} MiB for a "
          f"{res['output_mb']:.1f} MiB output (ratio {res['peak_extra_over_output']:.3f}; "
          f"limit: input+output+10% means ratio <= {1 + 0.1 * (in_bytes + out_bytes) / out_bytes:.2f})")
    print_schemes(res["schemes"])


if __name__ == "__main__":
    main()
