"""Generated bad-input probes for every public entry point and CLI command.

Run as a script, it executes every probe in turn and writes one JSON line per
probe to stdout (``{"i", "probe", "cls", "outcome", "seconds", "calibration",
"peak", "compiled"}``), preceded by a ``start`` line; ``faulthandler`` kills
the process if one probe runs past ``--limit`` seconds (a hang guard far
beyond any probe), so the parent (``tests/test_fuzz.py``) sees which probe
hung instead of waiting for ever.

Speed is judged relative to the machine's present load, never by a clock:
``calibration`` is the time of a fixed NumPy operation measured just before
the probe, and the parent compares the probe's ``seconds`` with it.
``compiled`` counts the Numba specialisations compiled during the probe
(every probe runs once untraced first, so the traced pass runs warm code).

Outcomes: ``ok`` (accepted), ``clear`` (ValueError/TypeError with a message,
FileNotFoundError/FileExistsError for paths,
or a CLI exit status 1/2 with one ``error:`` line), ``bad`` (anything else:
another exception, a Numba or recursion error, a traceback, a changed input,
a partial output). ``peak`` is the tracemalloc peak of the probe in bytes.
"""

from __future__ import annotations

import contextlib
import faulthandler
import json
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
from conftest import run_cli  # the one in-process CLI runner of the tests (tests/conftest.py)

import vortexnumba as vn
from vortexnumba import security as sec
from vortexnumba.cipher import MAX_SIDE, MAX_VORTICES

KEY8 = vn.VortexKey.random((8, 8), seed=0)
GOOD8 = np.random.default_rng(0).integers(0, 256, (8, 8), dtype=np.uint8)

# --------------------------------------------------------------------------- input classes and their neighbours

DTYPES = ["float16", "float32", "float64", "uint8", "int8", "uint16", "int32", "int64", "bool", "complex64",
          "object", "U1", "datetime64[s]"]
SHAPES = [(), (0,), (8,), (0, 8), (8, 0), (1, 8, 8), (8, 8, 1), (8, 8, 3), (2, 8, 8, 3), (1, 1, 8, 8, 1), (7, 8),
          (9, 9), (8, 8, 8)]
NOT_ARRAYS = [None, "x.png", b"\x00", 3.5, {"a": 1}, [[1, "x"]]]
DEPTHS = [1, 2, 5, 8, 9, 50, 1000, 100_000]
COUNTS = [-1, 0, 1, 100, 1000, MAX_VORTICES + 1, 10**6, 10**9, 10**18, 1.5, True, None, "10"]
GRIDS = [(0, 8), (8, -1), (2, 2), (1024, 1024), (2049, 2048), (2048, 2049), (MAX_SIDE, 1), (MAX_SIDE + 1, 1),
         (1 << 17, 1 << 17), (100_000, 100_000), (10**30, 1), (8.0, 8), (True, 8), "8x8", None]
POSITIONS = [(0, 0), (7, 7), (-1, 0), (8, 0), (999, 0), 63, 64, -1, 10**20, (0,), (0, 0, 0), "0", None, 1.5, True]
FORGED_GRIDS = [(8, 8), (9, 8), (2048, 2048), (4096, 4096), (10**9, 10**9), (1, MAX_SIDE + 1)]
BYTE_ORDERS = [">f2", ">f4", ">f8", "<f8", ">u2", ">i4"]
NUMBERS = [10**400, -(10**400), 2**63, 10**30, float("nan"), float("inf"), -float("inf"), np.float32("nan"),
           np.int64(-1), True, 0.0, -1e308]
NUMBER_TARGETS = {
    "VortexKey.random(strength)": lambda v: vn.VortexKey.random((8, 8), strength=v, seed=0),
    "VortexKey.random(n_vortices)": lambda v: vn.VortexKey.random((8, 8), n_vortices=v, seed=0),
    "BlockKey.random(block)": lambda v: vn.BlockKey.random((8, 8), block=v, seed=0),
    "Kernel.power(alpha)": lambda v: vn.Kernel.power(alpha=v),
    "Kernel.power(radius)": lambda v: vn.Kernel.power(radius=v),
    "Kernel.gaussian(tau)": lambda v: vn.Kernel.gaussian(tau=v),
    "Coupling.gaussian(h)": lambda v: vn.Coupling.gaussian(h=v),
    "swap_deltas(a)": lambda v: vn.swap_deltas(GOOD8, v),
}
MEMBER_NAMES = ["file", "allow_pickle", "args", "kwds", "vortexnumba_keys", "x y", "dir/inner", "\u00e9t\u00e9"]


def _array(dtype, shape=(8, 8)):
    if dtype == "U1":
        return np.full(shape, "a")
    if dtype == "object":
        return np.empty(shape, dtype=object)
    a = np.random.default_rng(1).random(shape) * 0.9
    if np.dtype(dtype).kind in "iu":
        return (a * 100).astype(dtype)
    return a.astype(dtype)


def image_inputs():
    """(class, label, value) for arrays and not-arrays."""
    for dt in DTYPES:
        yield "dtype", dt, _array(dt)
    for shape in SHAPES:
        yield "shape", str(shape), np.zeros(shape, np.uint8)
    for dt in ("float16", "float32", "float64"):
        for bad in (np.nan, np.inf):
            a = _array(dt)
            a[3, 4] = bad
            yield "nonfinite", f"{dt} {bad}", a
    for v in NOT_ARRAYS:
        yield "notarray", repr(v), v
    for order in BYTE_ORDERS:  # accepted where the dtype is, with the native numbers
        yield "byte order", order, _array(np.dtype(order).newbyteorder("=")).astype(order)


INFORMATION = {
    "retention": lambda x: vn.retention(x, KEY8.src), "information_loss": lambda x: vn.information_loss(x, KEY8.src),
    "information_energy": vn.information_energy, "information_content": vn.information_content,
    "neighbour_profile": vn.neighbour_profile, "swap_delta": lambda x: vn.swap_delta(x, 0, 9),
    "swap_deltas": lambda x: vn.swap_deltas(x, 3), "SwapContext": lambda x: vn.SwapContext(x).delta(0, 9),
}
MOVERS = {
    "encrypt": lambda x: vn.encrypt(x, KEY8), "decrypt": lambda x: vn.decrypt(x, KEY8),
    "apply_src": lambda x: vn.apply_src(x, KEY8.src), "shuffle_each": lambda x: vn.shuffle_each(x, seed=0),
}
SECURITY = {
    "adjacent_correlation": sec.adjacent_correlation, "histogram": sec.histogram,
    "shannon_entropy": sec.shannon_entropy, "npcr_uaci": lambda x: sec.npcr_uaci(x, GOOD8),
    "plaintext_sensitivity": lambda x: sec.plaintext_sensitivity(x, KEY8),
    "recover_index": lambda x: sec.recover_index(x, GOOD8[None]),
}


def _deep(depth: int, kind: str) -> str:
    if kind == "list":
        return "[" * depth + "]" * depth
    return '{"a": ' * depth + "1" + "}" * depth


def _forged(grid) -> str:
    doc = json.loads(vn.VortexKey.random((9, 9), n_vortices=1, seed=1).to_json())
    doc["shape"] = list(grid)
    r = max(1, min(grid) // 2 - 1) if min(grid) >= 3 else 1
    doc["vortices"][0].update(centre=[r, r], radius=r)
    return json.dumps(doc)


def _short(v) -> str:
    text = repr(v)
    return text if len(text) < 30 else f"{text[:6]}...({len(text)} digits)"


def _key_with(fld: str, value) -> str:
    doc = json.loads(KEY8.to_json())
    v = doc["vortices"][0]
    if isinstance(v[fld], list):
        v[fld][0] = value
    else:
        v[fld] = value
    return json.dumps(doc)


def _png16(arr: np.ndarray, path: Path) -> None:
    from vortexnumba.io._png16 import write_png16

    with open(path, "wb") as fh:
        write_png16(arr, fh)


def _npz_by_hand(path: Path, members: dict) -> None:
    import zipfile

    with zipfile.ZipFile(path, "w") as zf:
        for name, arr in members.items():
            with zf.open(f"{name}.npy", "w") as fh:
                np.lib.format.write_array(fh, arr)


def api_probes():
    """(class, name, thunk, arrays to watch for mutation)."""
    for label, value_cls, value in [(lbl, c, v) for c, lbl, v in image_inputs()]:
        for _group, fns in (("information", INFORMATION), ("mover", MOVERS), ("security", SECURITY)):
            for name, fn in fns.items():
                watch = [value] if isinstance(value, np.ndarray) else []
                yield f"image {value_cls}", f"{name}({label})", (lambda f=fn, v=value: f(v)), watch
    for depth in DEPTHS:
        for kind in ("list", "object"):
            text = _deep(depth, kind)
            for name, loader in (("key_from_json", vn.key_from_json), ("VortexKey.from_json", vn.VortexKey.from_json),
                                 ("PermutationKey.from_json", vn.PermutationKey.from_json),
                                 ("BlockKey.from_json", vn.BlockKey.from_json),
                                 ("IdentityKey.from_json", vn.IdentityKey.from_json)):
                yield "deep json", f"{name}(depth {depth} {kind})", (lambda f=loader, t=text: f(t)), []
    for n in COUNTS:
        yield "vortex count", f"VortexKey.random(n_vortices={n!r})", \
            (lambda n=n: vn.VortexKey.random((8, 8), n_vortices=n, seed=0)), []
    for grid in GRIDS:
        for name, make in (("VortexKey.random", lambda g: vn.VortexKey.random(g, seed=0)),
                           ("VortexKey", lambda g: vn.VortexKey(g)),
                           ("PermutationKey.random", lambda g: vn.PermutationKey.random(g, seed=0)),
                           ("PermutationKey", lambda g: vn.PermutationKey(g, np.arange(4))),
                           ("BlockKey.random", lambda g: vn.BlockKey.random(g, block=4, seed=0)),
                           ("IdentityKey", lambda g: vn.IdentityKey(g).src)):
            yield "grid size", f"{name}({grid!r})", (lambda m=make, g=grid: m(g)), []
    for grid in FORGED_GRIDS:
        text = _forged(grid)
        yield "forged key", f"key_from_json(forged {grid}, grid=(8, 8))", \
            (lambda t=text: vn.key_from_json(t, grid=(8, 8))), []
    for pos in POSITIONS:
        yield "position", f"swap_delta(a={pos!r})", (lambda p=pos: vn.swap_delta(GOOD8, p, 5)), [GOOD8]
        yield "position", f"swap_deltas(a={pos!r})", (lambda p=pos: vn.swap_deltas(GOOD8, p)), [GOOD8]
    for perm in (np.arange(16), np.arange(16)[::-1], np.arange(16, dtype=np.int32), np.arange(15), np.zeros(16, int)):
        yield "caller array", f"PermutationKey(perm {perm.dtype} {perm[:3]}...)", \
            (lambda p=perm: vn.PermutationKey((4, 4), p)), [perm]
    import vortexnumba.dask as vnd

    with contextlib.suppress(ImportError):
        import dask.array as da

        for label, value in (("numpy array", GOOD8[None]), ("2-D dask", da.zeros((8, 8), chunks=4)),
                             ("wrong grid", da.zeros((3, 7, 8), chunks=1)),
                             ("complex", da.zeros((3, 8, 8), dtype="c8")),
                             ("nan shape", da.zeros((3, 8, 8))[da.zeros(3) > 1]), ("list", [[0]])):
            for name, fn in (("dask.encrypt", vnd.encrypt), ("dask.decrypt", vnd.decrypt),
                             ("dask.retention", lambda x, k: vnd.retention(x, k.src))):
                yield "dask input", f"{name}({label})", (lambda f=fn, v=value: f(v, KEY8)), []
        for source, target, key in (("missing.zarr", "o.zarr", KEY8), (__file__, "o.zarr", KEY8),
                                    ("missing.zarr", "o.npy", KEY8), ("missing.zarr", "o.zarr", None),
                                    ("missing.zarr", "o.zarr", "key.json")):
            yield "zarr paths", f"encrypt_zarr({source}, {target}, {type(key).__name__})", \
                (lambda s=source, t=target, k=key: vnd.encrypt_zarr(s, Path(tempfile.gettempdir()) / t, k,
                                                                    progress=False)), []
    for target, fn in NUMBER_TARGETS.items():
        for v in NUMBERS:
            yield "numbers", f"{target} = {_short(v)}", (lambda f=fn, v=v: f(v)), []
    for fld, value in (("strength", 10**400), ("weights", 10**400), ("radius", 10**30), ("centre", 10**30),
                       ("family", 2**64), ("strength", float("nan")), ("strength", float("inf"))):
        text = _key_with(fld, value)
        yield "key numbers", f"key_from_json({fld} = {_short(value)})", (lambda t=text: vn.key_from_json(t)), []
    perm = json.loads(vn.PermutationKey.random((4, 4), seed=0).to_json())
    for value in (10**30, 2**63, -(2**63) - 1, 10**400):
        perm["src"][5] = value
        text = json.dumps(perm)
        yield "key numbers", f"key_from_json(src[5] = {_short(value)})", (lambda t=text: vn.key_from_json(t)), []
    for vortices in (None, 3, "v", {"centre": [1, 1]}, [None], [[1, 2]]):
        yield "vortex list", f"VortexKey(vortices={vortices!r})", \
            (lambda v=vortices: vn.VortexKey((8, 8), "bijective", v)), []


def cli_probes(d: Path):
    """(class, name, argv, output path) on files written into ``d``."""
    from PIL import Image

    (d / "key.json").write_text(KEY8.to_json())
    for depth in DEPTHS:
        (d / f"deep{depth}.json").write_text(_deep(depth, "list"))
    for grid in FORGED_GRIDS:
        (d / f"forged{grid[0]}x{grid[1]}.json").write_text(_forged(grid))
    for dt in DTYPES:
        if dt not in ("object",):
            np.save(d / f"x_{dt}.npy", _array(dt, (3, 8, 8)))
    np.save(d / "amb.npy", np.zeros((8, 8, 8), np.uint8))
    with open(d / "huge.npy", "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "|u1", "fortran_order": False, "shape": (10**12, 8, 8)})
        f.write(bytes(64))
    (d / "mixed").mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(d / "mixed" / "a.png")
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(d / "mixed" / "b.png")
    Image.fromarray(np.zeros((9, 8), np.uint8)).save(d / "mixed" / "c.png")
    rng = np.random.default_rng(2)
    for c in (2, 3, 4):
        _png16(rng.integers(0, 65536, (8, 8, c), dtype=np.uint16), d / f"deep{c}.png")
    import tifffile

    tifffile.imwrite(d / "deep3.tif", rng.integers(0, 65536, (8, 8, 3), dtype=np.uint16))
    for i, name in enumerate(MEMBER_NAMES):
        _npz_by_hand(d / f"member{i}.npz", {name: rng.integers(0, 256, (2, 8, 8), dtype=np.uint8),
                                             "labels": np.arange(2)})
    np.save(d / "big_endian.npy", _array("float64", (3, 8, 8)).astype(">f8"))
    (d / "folder_with_notes").mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(d / "folder_with_notes" / "a.png")
    (d / "folder_with_notes" / "notes.txt").write_text("kept")
    out = d / "out"
    for c in (2, 3, 4):
        for suffix in (".png", ".tif", ".bmp"):
            yield "bit depth", f"encrypt deep{c}.png -> {suffix}", ["encrypt", d / "key.json", d / f"deep{c}.png",
                                                                     "-o", out / f"o{suffix}"]
    yield "bit depth", "encrypt deep3.tif", ["encrypt", d / "key.json", d / "deep3.tif", "-o", out / "o.tif"]
    yield "bit depth", "info deep3.png", ["info", d / "deep3.png"]
    for i, name in enumerate(MEMBER_NAMES):
        yield "member names", f"encrypt npz member {name!r}", ["encrypt", d / "key.json", d / f"member{i}.npz", "-o",
                                                               out / "o.npz"]
    yield "byte order", "encrypt big_endian.npy", ["encrypt", d / "key.json", d / "big_endian.npy", "-o", out / "o.npy"]
    yield "byte order", "info big_endian.npy", ["info", d / "big_endian.npy"]
    yield "folder", "encrypt folder_with_notes", ["encrypt", d / "key.json", d / "folder_with_notes", "-o",
                                                  out / "enc"]
    yield "folder", "encrypt swapped arguments", ["encrypt", d / "mixed", d / "key.json", "-o", out / "enc"]
    for depth in DEPTHS:
        for cmd, o in (("encrypt", "o.npy"), ("decrypt", "o.npy"), ("show", "o.png")):
            yield "deep json", f"{cmd} deep{depth}", [cmd, d / f"deep{depth}.json", d / "x_uint8.npy", "-o", out / o]
    for depth in (9, 100_000):
        yield "deep json", f"audit deep{depth}", ["audit", d / f"deep{depth}.json", "--dataset", d / "x_uint8.npy",
                                                  "--n-images", 3, "--key-space-samples", 16]
    for grid in FORGED_GRIDS:
        yield "forged key", f"encrypt forged {grid}", ["encrypt", d / f"forged{grid[0]}x{grid[1]}.json",
                                                       d / "x_uint8.npy", "-o", out / "o.npy"]
    for grid in ((2048, 2048), (4096, 4096), (10**9, 10**9)):
        yield "forged key", f"audit forged {grid}", ["audit", d / f"forged{grid[0]}x{grid[1]}.json", "--dataset",
                                                     d / "x_uint8.npy", "--n-images", 3]
    for argv in (["train", "--epochs", -1], ["train", "--models", "nonsense"], ["train", "--batch-size", 0],
                 ["train", "--train-limit", -5], ["train", "--learning-rate", "nan"], ["train", "--dataset", "x"]):
        yield "train options", " ".join(map(str, argv)), [*argv, "--out", out / "res", "--no-progress"]
    for dt in DTYPES:
        if dt != "object":
            yield "dtype", f"encrypt x_{dt}", ["encrypt", d / "key.json", d / f"x_{dt}.npy", "-o", out / "o.npy"]
            yield "dtype", f"info x_{dt}", ["info", d / f"x_{dt}.npy"]
    for n in (-1, MAX_VORTICES + 1, 10**9):
        yield "vortex count", f"keygen --vortices {n}", ["keygen", "--shape", 8, 8, "--vortices", n, "-o",
                                                         out / "k.json"]
    for grid in ((17000, 17000), (MAX_SIDE + 1, 1), (2049, 2048), (0, 8), (2, 2)):
        yield "grid size", f"keygen --shape {grid}", ["keygen", "--shape", *grid, "--kind", "permutation", "-o",
                                                      out / "k.json"]
    for extra in (["--kind", "block", "--seed", 1], ["--strength", 0], ["--vortices", 0]):
        yield "identity key", f"keygen {extra}", ["keygen", "--shape", 8, 8, *extra, "-o", out / "k.json"]
    yield "folder", "encrypt mixed", ["encrypt", d / "key.json", d / "mixed", "-o", out / "enc"]
    yield "folder", "show mixed", ["show", d / "key.json", d / "mixed", "-o", out / "s.png"]
    yield "shape", "encrypt amb", ["encrypt", d / "key.json", d / "amb.npy", "-o", out / "o.npy"]
    yield "shape", "encrypt huge header", ["encrypt", d / "key.json", d / "huge.npy", "-o", out / "o.npy"]
    yield "shape", "info huge header", ["info", d / "huge.npy"]
    for pos in ("999,0", "-1,0", "0,8", "0", "a,b", "7,7"):
        yield "position", f"info --swap {pos}", ["info", d / "x_uint8.npy", "--index", 0, "--swap", pos, "-o",
                                                 out / "s.png"]


# --------------------------------------------------------------------------- running

def _classify_api(thunk, watch):
    before = [(a.tobytes(), a.flags.writeable) for a in watch if a.dtype != object]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            thunk()
        outcome, detail = "ok", ""
    except (ValueError, TypeError, FileNotFoundError, FileExistsError) as exc:  # the last two: paths
        module = type(exc).__module__ or ""
        msg = str(exc)
        clean = msg and not module.startswith(("numba", "jax")) and "Traceback" not in msg
        outcome, detail = ("clear" if clean else "bad"), f"{type(exc).__name__}: {msg[:200]}"
    except Exception as exc:  # noqa: BLE001 - what must not escape
        outcome, detail = "bad", f"{type(exc).__name__}: {str(exc)[:200]}"
    after = [(a.tobytes(), a.flags.writeable) for a in watch if a.dtype != object]
    if before != after:
        outcome, detail = "bad", "changed the caller's array"
    return outcome, detail


def _classify_cli(argv, out: Path):
    import shutil

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    rc, _, message = run_cli(argv)
    left = sorted(p.name for p in out.iterdir())
    if "Traceback" in message:
        return "bad", message[-300:]
    if rc == 0:
        return "ok", ""
    errors = [line for line in message.splitlines() if "error:" in line]
    if rc not in (1, 2) or len(errors) != 1:
        return "bad", f"exit {rc}: {message[-300:]}"
    if left:
        return "bad", f"left {left} after failing"
    return "clear", errors[0][:200]


def _one(where, what, watch, d: Path):
    if where == "api":
        return _classify_api(what, watch)
    return _classify_cli(what, d / "out")


_CALIBRATION = np.random.default_rng(0).random(100_000)


def calibrate() -> float:
    """Seconds of a fixed NumPy operation (sorting 100,000 floats) now: the yardstick of the present load."""
    t0 = time.perf_counter()
    np.sort(_CALIBRATION)
    return time.perf_counter() - t0


def compiled_count() -> int:
    """Numba specialisations compiled so far by the package's kernels."""
    from numba.core.dispatcher import Dispatcher

    total = 0
    for mod_name, mod in list(sys.modules.items()):
        if mod_name.startswith("vortexnumba") and mod is not None:
            for obj in list(vars(mod).values()):
                if isinstance(obj, Dispatcher):
                    total += len(obj.overloads)
    return total


def run(limit: float) -> None:
    """A first, untraced pass runs every probe once, so that Numba compiles what any of them
    needs (Numba's first call, very slow under tracemalloc); a second pass runs every probe
    timed and traced on warm code. Both run under the per-probe hang guard."""
    from vortexnumba.cli import build_parser

    build_parser()  # imports every command's module once (JAX among them), outside the timings
    probes = [("api", c, n, t, w) for c, n, t, w in api_probes()]
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        probes += [("cli", c, n, a, None) for c, n, a in cli_probes(d)]
        for traced in (False, True):
            if traced:
                tracemalloc.start()
            for i, (where, cls, name, what, watch) in enumerate(probes):
                print(json.dumps({"start": i, "probe": f"{where}: {name}", "traced": traced}), flush=True)
                faulthandler.dump_traceback_later(limit, exit=True)
                if traced:
                    calibration = calibrate()
                    compiled = compiled_count()
                    tracemalloc.reset_peak()
                    base = tracemalloc.get_traced_memory()[0]
                t0 = time.perf_counter()
                outcome, detail = _one(where, what, watch, d)
                seconds = time.perf_counter() - t0
                faulthandler.cancel_dump_traceback_later()
                if not traced:
                    continue
                peak = tracemalloc.get_traced_memory()[1] - base
                compiled = compiled_count() - compiled
                calibration = max(calibration, calibrate())  # the load may have changed meanwhile
                print(json.dumps({"i": i, "where": where, "cls": cls, "probe": name, "outcome": outcome,
                                  "detail": detail, "seconds": round(seconds, 5), "peak": peak,
                                  "calibration": round(calibration, 6), "compiled": compiled}), flush=True)


if __name__ == "__main__":
    run(float(sys.argv[1]) if len(sys.argv) > 1 else 600.0)
