"""Throughput and memory of the Dask and Zarr paths, against the in-memory engine in the same run.

    .venv/bin/python benchmarks/bench_dask.py                       # defaults below
    .venv/bin/python benchmarks/bench_dask.py --quick               # small sizes, well under 30 s
    .venv/bin/python benchmarks/bench_dask.py --images 20000 --store-gb 0.5 --worker-memory 400MB

Measures
--------
1. Throughput on ``--images`` CIFAR-sized images (32x32x3 uint8, a 5-vortex key):
   ``vn.encrypt`` in memory (the baseline), ``vortexnumba.dask.encrypt`` on
   the threaded scheduler with blocks of whole images and with blocks that
   split images (so the rechunk is included), and Zarr store to Zarr store:
   in memory (read all, encrypt, write all), ``vortexnumba.dask.encrypt_zarr``
   in this process, and ``encrypt_zarr`` on a two-process LocalCluster. Every rate is MB of images per
   second, reported with its ratio to the in-memory engine.
2. Peak memory: a store of ``--store-gb`` GB is encrypted on a LocalCluster of
   two single-thread workers, each limited to ``--worker-memory``, once by
   ``vortexnumba.dask.encrypt_zarr`` (what ``encrypt --scheduler`` runs: slabs
   of chunk rows written into a store beside the target) and once by the bare
   ``da.from_zarr -> vortexnumba.dask.encrypt -> da.to_zarr``. The resident
   memory (RSS) of every worker process is sampled every 20 ms; the report
   gives each worker's RSS before the job (interpreter, Numba, Zarr and Dask
   loaded) and its peak, and whether any worker was restarted by the nanny.

The results are checked: the streamed stores are compared with ``vn.encrypt``
chunk row by chunk row.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from _timing import best_of

import vortexnumba as vn
import vortexnumba.dask as vnd


def rss_of(pid):
    """Resident set size of a process in bytes (psutil if present, else /proc)."""
    try:
        import psutil

        return psutil.Process(pid).memory_info().rss
    except ImportError:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    return 0


class PeakSampler:
    """Samples the RSS of some processes in a background thread; keeps the maximum of each."""

    def __init__(self, pids, every=0.02):
        self.pids = list(pids)
        self.peak = {pid: 0 for pid in self.pids}
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for pid in self.pids:
                try:
                    self.peak[pid] = max(self.peak[pid], rss_of(pid))
                except (OSError, ProcessLookupError):
                    pass
                except Exception:  # noqa: BLE001 - psutil.NoSuchProcess: the worker was restarted
                    pass
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def warm_worker(key_json, shape):
    """Load what any job needs first (Numba kernels, Zarr); returns the process's RSS."""
    import zarr  # noqa: F401

    vn.encrypt(np.zeros((2, *shape), np.uint8), vn.key_from_json(key_json))
    return rss_of(os.getpid())


def write_store(path, n_images, shape, chunk_rows, seed):
    """A store of random uint8 images, written chunk row by chunk row (never all in memory)."""
    import zarr

    arr = zarr.create_array(str(path), shape=(n_images, *shape), chunks=(chunk_rows, *shape), dtype="uint8")
    rng = np.random.default_rng(seed)
    for start in range(0, n_images, chunk_rows):
        stop = min(n_images, start + chunk_rows)
        arr[start:stop] = rng.integers(0, 256, (stop - start, *shape), dtype=np.uint8)
    return arr


def check_store(source, target, key, chunk_rows, rows_to_check=None):
    import zarr

    src = zarr.open_array(str(source), mode="r")
    dst = zarr.open_array(str(target), mode="r")
    starts = range(0, src.shape[0], chunk_rows)
    if rows_to_check is not None:
        starts = [s for i, s in enumerate(starts) if i < rows_to_check or i == len(starts) - 1]
    for start in starts:
        stop = min(src.shape[0], start + chunk_rows)
        if not np.array_equal(dst[start:stop], vn.encrypt(src[start:stop], key)):
            raise AssertionError(f"{target}[{start}:{stop}] differs from vn.encrypt")


def throughput(args, key, work, client):
    import dask.array as da
    import zarr

    shape = (32, 32, 3)
    x = np.random.default_rng(1).integers(0, 256, (args.images, *shape), dtype=np.uint8)
    mb = x.nbytes / 1e6
    out = np.empty_like(x)
    vn.encrypt(x[:10], key)  # compile
    rows = {}
    t_mem = best_of(lambda: vn.encrypt(x, key, out=out), args.repeats)
    rows["in-memory vn.encrypt (baseline)"] = t_mem
    whole = da.from_array(x, chunks=(args.chunk_rows, *shape))
    split = da.from_array(x, chunks=(args.chunk_rows, 16, 16, 3))
    rows["dask threads, whole-image blocks"] = best_of(
        lambda: vnd.encrypt(whole, key).compute(scheduler="threads"), args.repeats)
    rows["dask threads, split blocks (rechunk)"] = best_of(
        lambda: vnd.encrypt(split, key).compute(scheduler="threads"), args.repeats)
    assert np.array_equal(vnd.encrypt(split, key).compute(scheduler="threads"), vn.encrypt(x, key))

    source = work / "tp.zarr"
    zarr.create_array(str(source), data=x, chunks=(args.chunk_rows, *shape))
    client.run(warm_worker, key.to_json(), shape)  # workers import and load the kernels before timing

    def zarr_in_memory():
        target = work / "tp-mem.zarr"
        shutil.rmtree(target, ignore_errors=True)
        src = zarr.open_array(str(source), mode="r")
        zarr.from_array(str(target), data=vn.encrypt(src[:], key), chunks=src.chunks)

    def zarr_stream(scheduler):
        def run():
            vnd.encrypt_zarr(source, work / "tp-enc.zarr", key, force=True, progress=False,
                             scheduler=scheduler)
        return run

    rows["zarr -> zarr, in memory (read all, encrypt, write)"] = best_of(zarr_in_memory, args.repeats)
    rows["zarr -> zarr, encrypt_zarr in this process"] = best_of(zarr_stream(None), args.repeats)
    rows["zarr -> zarr, encrypt_zarr on the cluster (--scheduler)"] = best_of(zarr_stream(client), args.repeats)
    check_store(source, work / "tp-enc.zarr", key, args.chunk_rows)
    result = {name: {"seconds": t, "MB_per_s": mb / t, "vs_in_memory": t_mem / t} for name, t in rows.items()}
    return mb, result


def peak_memory(args, key, work, cluster_kwargs):
    import dask.array as da
    from distributed import Client, LocalCluster

    shape = (32, 32, 3)
    per_image = int(np.prod(shape))
    n_images = int(args.store_gb * 1e9) // per_image
    source = work / "big.zarr"
    t0 = time.perf_counter()
    write_store(source, n_images, shape, args.chunk_rows, seed=2)
    t_write = time.perf_counter() - t0
    store_bytes = n_images * per_image
    report = {"store_GB": store_bytes / 1e9, "images": n_images, "chunk_rows": args.chunk_rows,
              "worker_memory_limit": args.worker_memory, "write_store_s": t_write}
    with LocalCluster(memory_limit=args.worker_memory, **cluster_kwargs) as cluster, \
            Client(cluster, set_as_default=False) as client:
        pids = client.run(os.getpid)

        base = client.run(warm_worker, key.to_json(), shape)
        report["worker_rss_before_MB"] = {a: v / 1e6 for a, v in base.items()}
        from vortexnumba.dask._zarr import SLAB_BYTES

        report["slab_MB_on_cluster"] = SLAB_BYTES / 1e6

        jobs = {
            "encrypt_zarr (--scheduler)": lambda: vnd.encrypt_zarr(
                source, work / "big-enc.zarr", key, force=True, progress=False, scheduler=client),
            "dask.array: from_zarr -> encrypt -> to_zarr": lambda: client.compute(
                vnd.encrypt(da.from_zarr(str(source)), key).to_zarr(str(work / "big-enc-dask.zarr"),
                                                                    overwrite=True, compute=False)).result(),
        }
        for name, job in jobs.items():
            with PeakSampler(pids.values()) as sampler:
                t0 = time.perf_counter()
                job()
                elapsed = time.perf_counter() - t0
            after = client.run(os.getpid)
            report[name] = {
                "seconds": elapsed,
                "MB_per_s": store_bytes / 1e6 / elapsed,
                "worker_peak_rss_MB": {a: sampler.peak[p] / 1e6 for a, p in pids.items()},
                "workers_restarted": sorted(set(pids.values()) - set(after.values())) != [],
            }
            pids = after
        check_store(source, work / "big-enc.zarr", key, args.chunk_rows, rows_to_check=3)
        check_store(source, work / "big-enc-dask.zarr", key, args.chunk_rows, rows_to_check=3)
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=60000, help="images for the throughput part")
    parser.add_argument("--chunk-rows", type=int, default=2000, help="images per Zarr/Dask chunk")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--store-gb", type=float, default=2.0, help="size of the peak-memory store")
    parser.add_argument("--worker-memory", default="400MB", help="memory_limit of each worker")
    parser.add_argument("--workdir", default=None, help="folder for the stores (default: a temporary one)")
    parser.add_argument("--json", default=None, help="also write the results here")
    parser.add_argument("--quick", action="store_true", help="small sizes for CI (under ~30 s)")
    args = parser.parse_args()
    if args.quick:
        args.images, args.chunk_rows, args.repeats, args.store_gb = 1000, 250, 1, 0.0  # no peak-memory part

    from distributed import Client, LocalCluster

    key = vn.VortexKey.random((32, 32), n_vortices=5, strength=0.1, seed=0)
    cluster_kwargs = dict(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                          host="127.0.0.1")
    work = Path(tempfile.mkdtemp(prefix="bench_dask.", dir=args.workdir))
    try:
        with LocalCluster(**cluster_kwargs) as cluster, Client(cluster, set_as_default=False) as client:
            mb, rates = throughput(args, key, work, client)
        print(f"throughput, {args.images} images of 32x32x3 uint8 ({mb:.0f} MB), chunks of {args.chunk_rows} "
              f"images, best of {args.repeats}")
        for name, r in rates.items():
            print(f"  {name:55s} {r['MB_per_s']:8.0f} MB/s   x{r['vs_in_memory']:.2f} of in-memory")
        if args.store_gb <= 0:
            return
        memory = peak_memory(args, key, work, cluster_kwargs)
        print(f"peak memory: {memory['store_GB']:.2f} GB store, 2 workers x 1 thread, memory_limit "
              f"{args.worker_memory} each, slab {memory['slab_MB_on_cluster']:.1f} MB")
        print("  worker RSS before the job (MB):",
              ", ".join(f"{v:.0f}" for v in memory["worker_rss_before_MB"].values()))
        for name in ("encrypt_zarr (--scheduler)", "dask.array: from_zarr -> encrypt -> to_zarr"):
            r = memory[name]
            peaks = ", ".join(f"{v:.0f}" for v in r["worker_peak_rss_MB"].values())
            print(f"  {name:45s} {r['MB_per_s']:6.0f} MB/s  peak worker RSS {peaks} MB"
                  f"{'  (a worker was restarted!)' if r['workers_restarted'] else ''}")
        if args.json:
            Path(args.json).write_text(json.dumps({"throughput": rates, "memory": memory}, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
