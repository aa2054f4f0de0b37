"""Start-up time of the command line, as ratios against Python's own start in the same run.

    .venv/bin/python benchmarks/bench_startup.py            # median of 5 starts per command
    .venv/bin/python benchmarks/bench_startup.py --quick    # one start each, for CI

Every command runs in a fresh interpreter (``python -m vortexnumba ...``) on a small
array in a temporary folder. The floors are ``python -c pass`` (Python's start) and
``python -c "import numba"`` (the compiler every command needs); ``reproduce --help``
shows what the training stack (JAX, Equinox) costs, which no other command pays.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _wall(argv, cwd) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5, help="starts per command (median; default 5)")
    ap.add_argument("--quick", action="store_true", help="one start per command")
    args = ap.parse_args(argv)
    repeats = 1 if args.quick else args.repeats
    py = sys.executable
    cli = [py, "-m", "vortexnumba"]
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "x.npy", np.arange(4 * 28 * 28, dtype=np.uint8).reshape(4, 28, 28))
        subprocess.run(cli + ["keygen", "--shape", "28", "28", "--seed", "0", "-o", "key.json"], cwd=tmp,
                       check=True, stderr=subprocess.DEVNULL)
        subprocess.run(cli + ["encrypt", "key.json", "x.npy", "-o", "y.npy"], cwd=tmp, check=True,
                       stderr=subprocess.DEVNULL)  # fills Numba's cache, as any second run finds it
        cases = [
            ("python -c pass", [py, "-c", "pass"]),
            ('python -c "import numba"', [py, "-c", "import numba"]),
            ("vortexnumba --help", cli + ["--help"]),
            ("keygen", cli + ["keygen", "--shape", "28", "28", "-o", "k.json", "--force"]),
            ("encrypt", cli + ["encrypt", "key.json", "x.npy", "-o", "e.npy", "--force"]),
            ("decrypt", cli + ["decrypt", "key.json", "y.npy", "-o", "d.npy", "--force"]),
            ("show", cli + ["show", "key.json", "x.npy", "-o", "g.png", "--force"]),
            ("reproduce --help", cli + ["reproduce", "--help"]),
        ]
        times = {name: [] for name, _ in cases}
        for _ in range(repeats):  # interleaved, so a busy moment hits every command alike
            for name, cmd in cases:
                times[name].append(_wall(cmd, tmp))
    base = statistics.median(times["python -c pass"])
    print(f"{'command':28s} {'median s':>9s} {'x python':>9s} {'- python s':>11s}")
    for name, _ in cases:
        t = statistics.median(times[name])
        print(f"{name:28s} {t:9.3f} {t / base:9.1f} {t - base:11.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
