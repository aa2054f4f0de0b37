"""The generated bad-input fuzz: every input class against every entry point.

Two halves:

- ``test_every_bad_input_gets_a_clear_answer_early`` runs the probes of
  ``tests/fuzz_probes.py`` in a child process (a hang guard ends the child,
  naming the probe). Every refusal must be clean, allocate little, compile no
  kernel and take at most ``REFUSAL_FACTOR`` times a calibration operation
  timed beside it in the same process -- a ratio, so load cannot fail it.
  Counts per class are printed (``pytest -s``).
- Hypothesis tests over the input classes themselves -- byte order, bit depth,
  npz member names, huge and non-finite numbers -- with the values chosen by
  Hypothesis: each either gives the same answer as its plain twin or is
  refused with a ``ValueError``/``TypeError`` naming the argument.
"""

import collections
import json
import math
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import examples, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vortexnumba as vn

#: a hang, not a slow probe: speed is judged by REFUSAL_FACTOR; this only ends a child that never answers
PER_PROBE_HANG_S = 900
#: a refusal may take this many times the calibration operation (sorting 100,000 floats, ~5 ms idle)
REFUSAL_FACTOR = 400
REFUSAL_PEAK_BYTES = 16 << 20  # every input here is tiny; a refusal may not allocate more than this
KEY8 = vn.VortexKey.random((8, 8), seed=0)


def test_every_bad_input_gets_a_clear_answer_early():
    env = dict(os.environ, PYTHONPATH=str(Path(vn.__file__).parents[1]), MPLBACKEND="Agg")
    script = Path(__file__).with_name("fuzz_probes.py")
    proc = subprocess.run([sys.executable, str(script), str(PER_PROBE_HANG_S)], capture_output=True, text=True,
                          env=env)
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    starts = [r for r in lines if "start" in r]
    results = [r for r in lines if "outcome" in r]
    if proc.returncode != 0:
        hung = starts[-1]["probe"] if starts else "(before the first probe)"
        raise AssertionError(f"the probe run ended with status {proc.returncode} during {hung!r}:\n"
                             f"{proc.stderr[-3000:]}")
    assert len(results) >= 1000, f"only {len(results)} probes ran"
    bad = [f"{r['probe']}: {r['detail']}" for r in results if r["outcome"] == "bad"]
    assert not bad, "\n".join(bad)
    clear = [r for r in results if r["outcome"] == "clear"]
    slow = [f"{r['probe']}: {r['seconds']} s = {r['seconds'] / r['calibration']:.0f} x calibration" for r in clear
            if r["seconds"] > REFUSAL_FACTOR * r["calibration"]]
    assert not slow, slow
    heavy = [f"{r['probe']}: {r['peak']} B" for r in clear if r["peak"] > REFUSAL_PEAK_BYTES]
    assert not heavy, heavy
    compiling = [r["probe"] for r in results if r["compiled"]]  # every probe ran once before, untraced
    assert not compiling, compiling
    by = {(r["where"], r["probe"]): r for r in results}
    # float16 and every byte order of an accepted dtype are accepted; the rest of these classes refused
    for name in ("information_content", "retention", "swap_delta", "swap_deltas", "encrypt", "neighbour_profile"):
        assert by[("api", f"{name}(float16)")]["outcome"] == "ok", name
        for order in (">f2", ">f4", ">f8", "<f8"):
            assert by[("api", f"{name}({order})")]["outcome"] == "ok", (name, order)
    assert by[("cli", "info x_float16")]["outcome"] == "ok"
    for probe in ("encrypt big_endian.npy", "info big_endian.npy", "encrypt folder_with_notes",
                  *(f"encrypt deep{c}.png -> .png" for c in (2, 3, 4))):
        assert by[("cli", probe)]["outcome"] == "ok", by[("cli", probe)]
    for r in results:
        if r["cls"] in ("deep json", "forged key", "identity key", "vortex list", "dask input", "zarr paths",
                        "train options", "key numbers"):
            assert r["outcome"] == "clear", r
        if r["cls"] == "numbers" and r["outcome"] != "ok":
            assert "OverflowError" not in r["detail"] and r["outcome"] == "clear", r
    # a 16-bit image is encrypted, not measured (the information functions read uint8 and floats)
    for name in ("encrypt deep3.tif", "encrypt swapped arguments", "encrypt mixed", "info deep3.png"):
        assert by[("cli", name)]["outcome"] == "clear", by[("cli", name)]
    counts = collections.Counter((r["cls"], r["outcome"]) for r in results)
    print(f"\n{len(results)} probes:", json.dumps({f"{c} {o}": n for (c, o), n in sorted(counts.items())}, indent=1))


# =========================================================================== the classes, drawn by Hypothesis

CLASSES = settings(max_examples=examples(15), suppress_health_check=[HealthCheck.function_scoped_fixture])


def cli(argv):
    result = run_cli(argv)
    return result.code, result.err


@st.composite
def any_byte_order(draw):
    """A small image batch of an accepted dtype in a drawn byte order and memory layout, and its native twin."""
    kind = draw(st.sampled_from(["f2", "f4", "f8", "u1"]))
    order = draw(st.sampled_from("<>=|"))
    shape = draw(st.sampled_from([(6, 7), (2, 6, 7), (6, 7, 3), (2, 6, 7, 3)]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "u1":
        native = rng.integers(0, draw(st.sampled_from([2, 256])), shape).astype(np.uint8)  # two-valued too
    else:
        native = rng.random(shape).astype(kind)
    arr = native.astype(np.dtype(kind).newbyteorder(order))
    layout = draw(st.sampled_from(["c", "fortran", "reversed"]))
    if layout == "fortran":
        arr, native = np.asfortranarray(arr), np.asfortranarray(native)
    elif layout == "reversed":
        arr, native = arr[::-1], native[::-1]
    return arr, native


MEASURES = {
    "information_content": lambda a: vn.information_content(a, channels=a.ndim == 3 and a.shape[-1] == 3),
    "information_energy": lambda a: vn.information_energy(a, channels=a.ndim == 3 and a.shape[-1] == 3),
    "encrypt": lambda a: vn.encrypt(a, vn.PermutationKey.random((6, 7), seed=1),
                                    channels=a.ndim == 3 and a.shape[-1] == 3),
    "retention": lambda a: vn.retention(a, vn.PermutationKey.random((6, 7), seed=1).src,
                                        channels=a.ndim == 3 and a.shape[-1] == 3),
}


@CLASSES
@given(pair=any_byte_order(), measure=st.sampled_from(sorted(MEASURES)))
def test_any_byte_order_gives_the_native_answer(pair, measure):
    arr, native = pair
    before = arr.tobytes()
    got, want = MEASURES[measure](arr), MEASURES[measure](native)
    assert np.asarray(got).dtype.isnative and np.array_equal(got, want), measure
    assert arr.tobytes() == before  # the caller's array is never changed


@st.composite
def deep_images(draw):
    """An image of 8 or 16 bits per sample with 1 to 4 samples per pixel, and the file it is saved to."""
    depth = draw(st.sampled_from([8, 16]))
    channels = draw(st.sampled_from([1, 2, 3, 4] if depth == 8 else [1, 2, 3, 4]))
    dtype = np.uint8 if depth == 8 else np.uint16
    shape = (8, 8) if channels == 1 else (8, 8, channels)
    top = draw(st.sampled_from([1, 2, int(np.iinfo(dtype).max)]))  # extremes: 0/1 images, full range
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.integers(0, top + 1, shape).astype(dtype)


@CLASSES
@given(image=deep_images())
def test_every_bit_depth_survives_encryption_or_is_refused_naming_it(tmp_path_factory, image):
    from vortexnumba.io._images import read_image, write_image

    d = tmp_path_factory.mktemp("depth")
    (d / "k.json").write_text(KEY8.to_json())
    write_image(image, d / "x.png")
    assert np.array_equal(read_image(d / "x.png"), image) and read_image(d / "x.png").dtype == image.dtype
    rc, err = cli(["encrypt", d / "k.json", d / "x.png", "-o", d / "e.png"])
    assert rc == 0, err
    enc = read_image(d / "e.png")
    assert enc.dtype == image.dtype and np.array_equal(enc, vn.encrypt(image, KEY8, channels=image.ndim == 3))
    assert cli(["decrypt", d / "k.json", d / "e.png", "-o", d / "d.png"])[0] == 0
    assert np.array_equal(read_image(d / "d.png"), image)
    for suffix in (".bmp", ".webp", ".tif"):  # formats that may not hold this depth: exact, or refused up front
        rc, err = cli(["encrypt", d / "k.json", d / "x.png", "-o", d / f"e{suffix}"])
        if rc == 0:
            assert np.array_equal(read_image(d / f"e{suffix}"), enc), suffix
        else:
            assert "cannot store" in err and not (d / f"e{suffix}").exists(), err


MEMBER_NAME = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\\"), min_size=1,
                      max_size=12).filter(lambda n: not n.startswith("/") and "//" not in n and not n.endswith("/"))


@CLASSES
@given(names=st.lists(st.one_of(MEMBER_NAME, st.sampled_from(["file", "allow_pickle", "args", "kwds"])),
                      min_size=1, max_size=4, unique=True), compressed=st.booleans())
def test_npz_members_survive_whatever_their_names(tmp_path_factory, names, compressed):
    d = tmp_path_factory.mktemp("npz")
    (d / "k.json").write_text(KEY8.to_json())
    rng = np.random.default_rng(len(names))
    members = {n: rng.integers(0, 256, (2, 8, 8), dtype=np.uint8) if i % 2 == 0 else np.arange(3)
               for i, n in enumerate(names)}
    with zipfile.ZipFile(d / "x.npz", "w", compression=zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED) \
            as zf:
        for n, a in members.items():
            with zf.open(f"{n}.npy", "w") as fh:
                np.lib.format.write_array(fh, a)
    rc, err = cli(["encrypt", d / "k.json", d / "x.npz", "-o", d / "e.npz"])
    if rc != 0:  # refused: up front, naming the member, nothing written
        assert rc == 1 and any(repr(n) in err or n in err for n in names) and not (d / "e.npz").exists(), err
        return
    assert cli(["decrypt", d / "k.json", d / "e.npz", "-o", d / "d.npz"])[0] == 0
    with np.load(d / "d.npz") as z:
        assert sorted(z.files) == sorted(members)
        assert all(np.array_equal(z[n], a) for n, a in members.items())


NOT_FINITE = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf]),
    st.sampled_from([np.float16, np.float32, np.float64]).flatmap(
        lambda t: st.sampled_from([t(math.nan), t(math.inf), t(-math.inf)])),
)
#: too large for a float64 (the reals' class) ...
BEYOND_FLOAT = st.one_of(st.integers(min_value=2**1024), st.integers(max_value=-(2**1024)))
#: ... and for an int64 (the integers' class)
BEYOND_INT64 = st.one_of(st.integers(min_value=2**63), st.integers(max_value=-(2**63) - 1))
HUGE_OR_NOT_FINITE = st.one_of(BEYOND_INT64, BEYOND_FLOAT, NOT_FINITE)
REAL_PARAMETERS = {  # name -> (call, the values that must be refused)
    "strength": (lambda v: vn.VortexKey.random((8, 8), strength=v, seed=0), st.one_of(BEYOND_FLOAT, NOT_FINITE)),
    "alpha": (lambda v: vn.Kernel.power(alpha=v), st.one_of(BEYOND_FLOAT, NOT_FINITE)),
    "radius": (lambda v: vn.Kernel.gaussian(radius=v), HUGE_OR_NOT_FINITE),  # bounded: the tables
    "tau": (lambda v: vn.Kernel.exponential(tau=v), st.one_of(BEYOND_FLOAT, NOT_FINITE)),
    "h": (lambda v: vn.Coupling.gaussian(h=v), st.one_of(BEYOND_FLOAT, NOT_FINITE)),
    "n_vortices": (lambda v: vn.VortexKey.random((8, 8), n_vortices=v, seed=0), HUGE_OR_NOT_FINITE),
    "block": (lambda v: vn.BlockKey.random((8, 8), block=v, seed=0), HUGE_OR_NOT_FINITE),
    "seed": (lambda v: vn.PermutationKey.random((4, 4), seed=v),
             st.one_of(st.integers(max_value=-1), NOT_FINITE)),  # any size of non-negative int is a seed
}


@CLASSES
@given(data=st.data(), name=st.sampled_from(sorted(REAL_PARAMETERS)))
def test_huge_and_non_finite_numbers_are_refused_naming_the_argument(data, name):
    call, values = REAL_PARAMETERS[name]
    value = data.draw(values, label="value")
    with pytest.raises((ValueError, TypeError)) as info:
        call(value)
    assert name in str(info.value) and type(info.value) in (ValueError, TypeError), info.value


KEY_FIELDS = {  # key-file field -> the numbers it must refuse (reals: beyond float64; ints: out of range)
    "strength": st.one_of(BEYOND_FLOAT, NOT_FINITE), "weights": st.one_of(BEYOND_FLOAT, NOT_FINITE),
    **{f: st.one_of(st.integers(min_value=2**62), st.integers(max_value=-1), HUGE_OR_NOT_FINITE)
       for f in ("src", "radius", "centre", "family", "order", "block")},
}


@CLASSES
@given(data=st.data(), field=st.sampled_from(sorted(KEY_FIELDS)))
def test_huge_numbers_in_key_files_name_the_field(data, field):
    value = data.draw(KEY_FIELDS[field], label="value")
    if isinstance(value, np.floating):
        value = float(value)  # a file holds JSON numbers (NaN and Infinity included), not NumPy scalars
    if field in ("src",):
        doc = json.loads(vn.PermutationKey.random((4, 4), seed=0).to_json())
        doc["src"][1] = value
    elif field in ("order", "block"):
        doc = json.loads(vn.BlockKey.random((8, 8), block=4, seed=0).to_json())
        if field == "order":
            doc["order"][1] = value
        else:
            doc["block"] = value
    else:
        doc = json.loads(KEY8.to_json())
        v = doc["vortices"][0]
        if isinstance(v[field], list):
            v[field][0] = value
        else:
            v[field] = value
    text = json.dumps(doc)
    with pytest.raises(ValueError) as info:
        vn.key_from_json(text)
    assert {"weights": "weight"}.get(field, field) in str(info.value), info.value
