"""The PyTorch transforms' speed, as ratios in one run (``bench_cipher.py --torch``).

1. ``vt.Encrypt(key)`` on a ``(256, 3, 32, 32)`` uint8 batch against a bare
   ``torch.index_select`` of the same flattened tensor with the key's index (the
   floor: what any gather costs), best of ``repeats`` interleaved calls, for every key kind. A
   nibble key (LE, ELE) needs two such gathers and shifts, a negating one an XOR.
2. A ``DataLoader`` over a FashionMNIST-like data set (uint8 images scaled to
   float per sample, as ``v2.ToDtype(torch.float32, scale=True)`` does): plain,
   with ``transform=vt.Encrypt(key)`` (per sample) and with
   ``collate_fn=vt.Collate(vt.Encrypt(key))`` (per batch): images per second of a
   full pass, ``num_workers=0`` and 2, the best of ``repeats`` passes each, interleaved.
   Beside it, torchvision's own pattern (``datasets.FashionMNIST`` keeps uint8
   arrays and makes a PIL image per sample, which the transform receives and a
   ``ToTensor``-like step turns into floats): plain, with ``vt.Encrypt(key)``
   on the PIL image, and with ``vt.Collate`` on the float batches. Its images
   per second are what a real pipeline's loader adds the transform's cost to;
   the first loader does almost nothing per image.

PyTorch runs on one thread unless ``--torch-threads`` says otherwise.
"""

from __future__ import annotations

import time

import numpy as np


def _best(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _keys(shape, channels):
    import vortexnumba as vn

    keys = {
        "vortex": vn.VortexKey.random(shape, seed=0),
        "permutation": vn.PermutationKey.random(shape, seed=0),
        "block": vn.BlockKey.random(shape, block=4, seed=0),
    }
    for kind, cls in (("le", "LEKey"), ("ele", "ELEKey"), ("etc", "EtCKey"), ("blockwise", "BlockwiseKey")):
        if hasattr(vn, cls):
            keys[kind] = getattr(vn, cls).random(shape, block=4, channels=channels, seed=0)
    if hasattr(vn, "PEKey"):
        keys["pe"] = vn.PEKey.random(shape, channels=channels, seed=0)
    return keys


def bench_transform(batch: int = 256, repeats: int = 200) -> dict:
    """Part 1: Encrypt against a bare index gather, per key kind."""
    import torch

    import vortexnumba.torch as vt

    torch.manual_seed(0)
    x = torch.randint(0, 256, (batch, 3, 32, 32), dtype=torch.uint8)
    out = {}
    for kind, key in _keys((32, 32), 3).items():
        enc = vt.Encrypt(key)
        enc(x)  # builds the index once, outside the timing
        g = enc._gather(3)
        # the floor: one index_select of the flat batch with an index of one entry per value
        # (for a nibble key, the sources of the low halves: a nibble key needs two such gathers)
        idx = torch.from_numpy(np.ascontiguousarray(g.arrays["lo" if g.unit == "nibble" else "index"]))
        flat = x.reshape(batch, -1)
        bare = lambda flat=flat, idx=idx: flat.index_select(-1, idx).view(x.shape)
        t_bare = t_enc = float("inf")
        for _ in range(repeats):  # interleaved, so a busy moment of the machine hits both alike
            t_bare = min(t_bare, _best(bare, 1))
            t_enc = min(t_enc, _best(lambda enc=enc: enc(x), 1))
        out[kind] = {"unit": g.unit, "bare_s": t_bare, "encrypt_s": t_enc, "ratio": t_enc / t_bare}
    return out


class _FashionMNISTLike:
    """(image, label) pairs from uint8 tensors, scaled to float per sample, with an optional transform."""

    def __init__(self, images, labels, transform=None):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        x = self.images[i].float() / 255
        return (self.transform(x) if self.transform is not None else x), self.labels[i]


class _PILDataset(_FashionMNISTLike):
    """torchvision's pattern: a PIL image per sample from uint8 arrays, the transform, then floats."""

    def __getitem__(self, i):
        import torch
        from PIL import Image

        img = Image.fromarray(self.images[i])
        if self.transform is not None:
            img = self.transform(img)
        x = torch.from_numpy(np.array(img)).permute(2, 0, 1).float().div_(255)
        return x, self.labels[i]


def bench_loader(n_images: int = 10_000, repeats: int = 5, workers=(0, 2)) -> dict:
    """Part 2: a DataLoader's images per second with and without the transform."""
    import torch

    import vortexnumba as vn
    import vortexnumba.torch as vt

    torch.manual_seed(0)
    images = torch.randint(0, 256, (n_images, 3, 32, 32), dtype=torch.uint8)
    labels = torch.randint(0, 10, (n_images,))
    key = vn.VortexKey.random((32, 32), seed=0)
    plain = _FashionMNISTLike(images, labels)
    pixels = images.permute(0, 2, 3, 1).numpy().copy()  # (N, H, W, C) uint8, as torchvision keeps them
    cases = {  # name: (data set, collate_fn)
        "plain": (plain, None),
        "per sample": (_FashionMNISTLike(images, labels, transform=vt.Encrypt(key)), None),
        "per batch": (plain, vt.Collate(vt.Encrypt(key))),
        "PIL plain": (_PILDataset(pixels, labels), None),
        "PIL per sample": (_PILDataset(pixels, labels, transform=vt.Encrypt(key)), None),
        "PIL per batch": (_PILDataset(pixels, labels), vt.Collate(vt.Encrypt(key))),
    }
    out = {}
    for n_workers in workers:
        def one_pass(ds, collate, n_workers=n_workers):
            loader = torch.utils.data.DataLoader(ds, batch_size=256, shuffle=True, num_workers=n_workers,
                                                 collate_fn=collate)
            for _ in loader:
                pass

        best = dict.fromkeys(cases, float("inf"))
        for _ in range(repeats):  # interleaved, so load on the machine hits every case alike
            for name, (ds, collate) in cases.items():
                best[name] = min(best[name], _best(lambda ds=ds, c=collate: one_pass(ds, c), 1))
        # each pipeline against its own plain loader
        out[f"workers={n_workers}"] = {
            name: {"images_per_s": n_images / t,
                   "added_time": t / best["PIL plain" if name.startswith("PIL") else "plain"] - 1}
            for name, t in best.items()
        }
    return out


def run(quick: bool = False, threads: int = 1) -> dict:
    """Both parts; ``quick`` for CI (small sizes, seconds).

    PyTorch runs on ``threads`` threads (1 by default, as in a DataLoader worker:
    on a busy machine its thread pool makes small operations' times erratic).
    """
    import torch

    torch.set_num_threads(threads)
    if quick:
        return {"transform": bench_transform(batch=32, repeats=3),
                "loader": bench_loader(n_images=512, repeats=1, workers=(0,))}
    return {"transform": bench_transform(), "loader": bench_loader()}


def print_results(res: dict) -> None:
    print("vortexnumba.torch.Encrypt against a bare torch.index_select of the same uint8 batch")
    print(f"{'key':12s} {'unit':8s} {'bare ms':>9s} {'Encrypt ms':>11s} {'ratio':>6s}")
    for kind, r in res["transform"].items():
        print(f"{kind:12s} {r['unit']:8s} {r['bare_s'] * 1e3:9.3f} {r['encrypt_s'] * 1e3:11.3f} {r['ratio']:6.2f}")
    print("DataLoader (batch 256): images per second, time added to the same pipeline's plain loader; "
          "'PIL': torchvision's pattern")
    for workers, cases in res["loader"].items():
        print("  " + workers + ": " + ";  ".join(f"{name} {r['images_per_s']:.0f}/s ({r['added_time']:+.1%})"
                                               for name, r in cases.items()))
