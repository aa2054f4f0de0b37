"""Bad input everywhere: every public function and CLI command must fail cleanly, and round trips never lose a byte.

Clean failure means: the API raises ValueError or TypeError (never an exception
from inside Numba or JAX, never a MemoryError from a declared size); the command
line exits non-zero with one ``vortexnumba CMD: error:`` line and no traceback,
leaves no partial output behind and changes no input file.

``BAD_INPUTS`` counts the bad inputs tried here (for a debugger; no test depends on
the order tests run in). The generated fuzz over every input class, with a
per-probe time limit and its counts, is ``tests/test_fuzz.py``.
"""

import collections
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from conftest import examples, run_cli  # Hypothesis budgets scale with the profile (tests/conftest.py)
from hypothesis import given, settings
from hypothesis import strategies as st

import vortexnumba as vn
from vortexnumba import security as sec

BAD_INPUTS = collections.Counter()
FUZZ = settings(max_examples=examples(20))
KEY8 = vn.VortexKey.random((8, 8), seed=0)
SRC8 = KEY8.src
#: ends a child process that never answers; a hang guard far beyond any run, not a speed requirement
HANG_S = 1800


def expect_clean_error(fn, *args, what="api", **kwargs):
    """Call ``fn``; it must raise ValueError/TypeError with a plain, informative message."""
    BAD_INPUTS[what] += 1
    try:
        fn(*args, **kwargs)
    except (ValueError, TypeError) as exc:
        module = type(exc).__module__ or ""
        assert not module.startswith(("numba", "jax", "jaxlib")), f"{type(exc)} leaked from {module}"
        message = str(exc)
        assert message and "Traceback" not in message
        assert "numba" not in message.lower() or "vortexnumba" in message.lower(), message
        return exc
    except Exception as exc:
        raise AssertionError(f"{getattr(fn, '__name__', fn)} raised {type(exc).__name__}: {exc}") from exc
    raise AssertionError(f"{getattr(fn, '__name__', fn)} accepted a bad input")


# --------------------------------------------------------------------------- bad arrays


def _with_nonfinite(draw):
    shape = draw(st.sampled_from([(8, 8), (3, 8, 8), (8, 8, 3)]))
    x = np.random.default_rng(draw(st.integers(0, 99))).random(shape)
    x.flat[draw(st.integers(0, x.size - 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    return x.astype(draw(st.sampled_from([np.float64, np.float32, np.float16])))


@st.composite
def bad_images(draw, any_numeric=False):
    """Arrays (or things) no image function may accept."""
    kind = draw(st.sampled_from(["dtype", "ndim", "empty", "nonfinite", "notarray", "grid"]
                                + ([] if any_numeric else ["intdtype"])))
    if kind == "dtype":
        return draw(st.sampled_from([
            np.full((8, 8), "a"), np.empty((8, 8), dtype=object), np.zeros((8, 8), np.complex128),
            np.zeros((8, 8), "datetime64[s]"), np.zeros((8, 8), "timedelta64[s]"), np.zeros((8, 8), "V4"),
        ]))
    if kind == "intdtype":  # the information functions read uint8 and floats only
        return np.zeros((8, 8), draw(st.sampled_from([np.int8, np.int16, np.int64, np.uint16, bool])))
    if kind == "ndim":
        return np.zeros(draw(st.sampled_from([(), (64,), (1, 1, 8, 8, 1), (2, 2, 2, 2, 2, 2)])), np.uint8)
    if kind == "empty":
        return np.zeros(draw(st.sampled_from([(0,), (0, 8), (8, 0), (0, 8, 8), (2, 0, 8), (0, 8, 8, 3)])), np.float64)
    if kind == "nonfinite":
        return _with_nonfinite(draw)
    if kind == "grid":  # right kind of array, wrong grid for an 8x8 key or index
        return np.zeros(draw(st.sampled_from([(7, 8), (8, 9), (2, 9, 8), (8, 7, 3), (1, 64)])), np.uint8)
    return draw(st.sampled_from([None, "image.png", b"\x00", 3.5, {"a": 1}, [[1, "x"]]]))


@st.composite
def bad_src(draw):
    kind = draw(st.sampled_from(["range", "dtype", "shape", "length", "notarray"]))
    if kind == "range":
        s = np.arange(64)
        s[draw(st.integers(0, 63))] = draw(st.sampled_from([-1, 64, 2**40, -(2**62)]))
        return s
    if kind == "dtype":
        return draw(st.sampled_from([np.arange(64.0), np.arange(64) + 0.5, np.full(64, np.nan), np.zeros(64, bool),
                                     np.arange(64).astype(object), np.arange(64).astype(str),
                                     np.arange(64).astype(np.complex64)]))
    if kind == "shape":
        return draw(st.sampled_from([np.arange(64).reshape(8, 8)[None], np.int64(3), np.zeros((0,), np.int64),
                                     np.zeros((3, 64), np.int64)]))
    if kind == "length":
        return np.arange(draw(st.sampled_from([1, 63, 65, 128])))
    return draw(st.sampled_from([None, "0,1,2", 1.5]))


GOOD8 = np.random.default_rng(0).integers(0, 256, (8, 8), dtype=np.uint8)

IMAGE_FUNCTIONS = [
    ("retention", lambda x: vn.retention(x, SRC8)),
    ("information_loss", lambda x: vn.information_loss(x, SRC8)),
    ("information_energy", lambda x: vn.information_energy(x)),
    ("information_content", lambda x: vn.information_content(x)),
    ("neighbour_profile", lambda x: vn.neighbour_profile(x)),
    ("swap_delta", lambda x: vn.swap_delta(x, 0, 9)),
    ("swap_deltas", lambda x: vn.swap_deltas(x, 3)),
    ("SwapContext", lambda x: vn.SwapContext(x).delta(0, 9)),
    ("adjacent_correlation", sec.adjacent_correlation),
    ("adjacent_pairs", sec.adjacent_pairs),
    ("histogram", sec.histogram),
    ("shannon_entropy", sec.shannon_entropy),
    ("npcr_uaci", lambda x: sec.npcr_uaci(x, GOOD8)),
    ("plaintext_sensitivity", lambda x: sec.plaintext_sensitivity(x, KEY8)),
    ("key_sensitivity", lambda x: sec.key_sensitivity(x, KEY8, "centre")),
]
ANY_NUMERIC_FUNCTIONS = [
    ("encrypt", lambda x: vn.encrypt(x, KEY8)),
    ("decrypt", lambda x: vn.decrypt(x, KEY8)),
    ("apply_src", lambda x: vn.apply_src(x, SRC8)),
    ("recover_index", lambda x: sec.recover_index(x, GOOD8[None])),
    ("recover_index(cipher)", lambda x: sec.recover_index(GOOD8[None], x)),
    ("pairs_to_recover", lambda x: sec.pairs_to_recover(x, GOOD8[None])),
]


def _grid_ok_without_key(name, x):
    """Functions with no key or index accept any grid, so a wrong-grid array is a fine input for them."""
    return isinstance(x, np.ndarray) and x.dtype == np.uint8 and x.ndim in (2, 3, 4) and x.size > 0


@pytest.mark.parametrize("name,fn", IMAGE_FUNCTIONS, ids=[n for n, _ in IMAGE_FUNCTIONS])
@FUZZ
@given(x=bad_images())
def test_image_functions_refuse_bad_images(name, fn, x):
    if _grid_ok_without_key(name, x):
        # a well-formed uint8 array on another grid is bad only where a key, index or partner fixes the grid
        if name not in ("retention", "information_loss", "plaintext_sensitivity", "key_sensitivity", "npcr_uaci"):
            return
        if name in ("retention", "information_loss") and x.shape == (1, 64):
            return  # a 1x64 image and a 64-entry index fit each other
    expect_clean_error(fn, x)


@pytest.mark.parametrize("name,fn", ANY_NUMERIC_FUNCTIONS, ids=[n for n, _ in ANY_NUMERIC_FUNCTIONS])
@FUZZ
@given(x=bad_images(any_numeric=True))
def test_pixel_movers_refuse_bad_images(name, fn, x):
    if name == "apply_src" and isinstance(x, np.ndarray) and x.shape == (1, 64):
        return  # a 1x64 image and a 64-entry index fit each other
    expect_clean_error(fn, x)


@FUZZ
@given(src=bad_src())
def test_index_functions_refuse_bad_src(src):
    for fn in (lambda: vn.apply_src(GOOD8, src), lambda: vn.retention(GOOD8, src),
               lambda: vn.information_loss(GOOD8, src)):
        expect_clean_error(fn)


@FUZZ
@given(a=st.one_of(st.integers(-100, -1), st.integers(64, 10**6), st.tuples(st.integers(-3, 12), st.integers(8, 12)),
                   st.sampled_from([None, 1.5, "0", (1,), (1, 2, 3), True, (1.0, 2.0)])))
def test_positions_are_checked(a):
    expect_clean_error(vn.swap_delta, GOOD8, a, 5)
    expect_clean_error(vn.swap_deltas, GOOD8, a)
    if a is not None:  # None means the default position there
        expect_clean_error(sec.plaintext_sensitivity, GOOD8, KEY8, a)


def test_bad_options_of_the_other_functions():
    x = GOOD8
    cases = [
        (vn.retention, (x, SRC8), {"kernel": "power"}), (vn.retention, (x, SRC8), {"coupling": 0.25}),
        (vn.encrypt, (x, "key.json"), {}), (vn.decrypt, (x, None), {}),
        (vn.decrypt, (x, vn.VortexKey.random((8, 8), seed=0, mode="paper")), {}),
        (vn.encrypt, (x, KEY8), {"out": np.empty((8, 8), np.int16)}),
        (vn.encrypt, (x, KEY8), {"out": x}), (vn.encrypt, (x, KEY8), {"out": [0] * 64}),
        (vn.shuffle_each, (x,), {"seed": -1}), (vn.shuffle_each, (x,), {"seed": 1.5}),
        (vn.shuffle_each, (np.zeros((3, 3, 3)),), {}),
        (vn.Kernel.power, (np.nan,), {}), (vn.Kernel.power, (2.0, 0.5), {}), (vn.Kernel.gaussian, (-1.0,), {}),
        (vn.Coupling.gaussian, (0.0,), {}), (vn.Coupling.gaussian, (np.inf,), {}),
        (sec.histogram, (x,), {"bins": 0}), (sec.histogram, (x,), {"bins": 2.5}),
        (sec.adjacent_pairs, (x, "up"), {}), (sec.perturb_key, (KEY8, "colour"), {}),
        (sec.perturb_key, (KEY8, "weight"), {"vortex": 99}), (sec.perturb_key, (KEY8, "weight"), {"delta": np.nan}),
        (sec.perturb_key, (vn.IdentityKey((3, 3)), "swap"), {}), (sec.key_space, ("vortex",), {}),
        (sec.key_space, (KEY8,), {"n_samples": 1}), (sec.chosen_plaintext, ((0, 5),), {}),
        (sec.chosen_plaintext, ((4, 4),), {"layout": "rows"}), (sec.chosen_plaintext, ("8x8",), {}),
        (sec.pairs_to_recover, (x[None], x[None]), {"target": 0.0}),
        (sec.npcr_uaci, (x, x[:4]), {}), (sec.recover_index, (x[None], x[None].astype(float)), {}),
    ]
    for fn, args, kwargs in cases:
        expect_clean_error(fn, *args, **kwargs)


# --------------------------------------------------------------------------- keys

BAD_SHAPES = st.sampled_from([(0, 5), (5, -1), (5,), (5, 5, 5), "5x5", None, (5.0, 5), (True, 5), (np.int64(3), False)])


@FUZZ
@given(shape=BAD_SHAPES, n=st.sampled_from([-1, 1.5, None]), strength=st.sampled_from([np.nan, np.inf, "0.8", None]),
       mode=st.sampled_from(["Paper", "", None, 1]), seed=st.sampled_from([-1, 1.5, "0", [1]]))
def test_key_constructors_refuse_bad_parameters(shape, n, strength, mode, seed):
    expect_clean_error(vn.VortexKey.random, shape)
    expect_clean_error(vn.VortexKey.random, (8, 8), n_vortices=n)
    expect_clean_error(vn.VortexKey.random, (8, 8), strength=strength)
    expect_clean_error(vn.VortexKey.random, (8, 8), mode=mode)
    expect_clean_error(vn.VortexKey.random, (8, 8), seed=seed)
    expect_clean_error(vn.VortexKey.random, (2, 8))  # no room for a vortex
    expect_clean_error(vn.VortexKey, shape)
    expect_clean_error(vn.IdentityKey, shape)
    expect_clean_error(vn.PermutationKey.random, shape)
    expect_clean_error(vn.PermutationKey, (2, 2), [0, 1, 1, 3])
    expect_clean_error(vn.PermutationKey, (2, 2), [0.0, 1.0, 2.0, 3.0])
    expect_clean_error(vn.BlockKey.random, (8, 8), block=3)
    expect_clean_error(vn.BlockKey.random, (8, 8), block=0)
    expect_clean_error(vn.BlockKey, (8, 8), 4, [0, 1, 2])
    expect_clean_error(vn.Vortex, (1, 1), 0, 1, (0,) * 6, 0.8)
    expect_clean_error(vn.Vortex, (1, 1), 1, 6, (0,) * 6, 0.8)
    expect_clean_error(vn.Vortex, (1, 1), 1, 1, (0,) * 5, 0.8)
    expect_clean_error(vn.Vortex, (1, 1), 1, 1, (np.nan,) + (0,) * 5, 0.8)
    expect_clean_error(vn.Vortex, (1,), 1, 1, (0,) * 6, strength)
    expect_clean_error(vn.VortexKey, (8, 8), "bijective", [vn.Vortex((1, 1), 3, 1, (0,) * 6, 0.8)])


def _key_texts():
    return [k.to_json() for k in (KEY8, vn.VortexKey.random((8, 8), seed=1, mode="paper"),
                                  vn.PermutationKey.random((4, 4), seed=0), vn.BlockKey.random((8, 8), block=2, seed=0),
                                  vn.IdentityKey((3, 3)))]


@st.composite
def corrupted_key(draw):
    text = draw(st.sampled_from(_key_texts()))
    how = draw(st.sampled_from(["truncate", "flip", "field", "huge", "garbage"]))
    if how == "truncate":
        return text[: draw(st.integers(0, len(text.rstrip()) - 1))]
    if how == "flip":
        data = bytearray(text.encode())
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, len(data) - 1))
            data[i] ^= 1 << draw(st.integers(0, 7))
        return bytes(data)
    doc = json.loads(text)
    if how == "huge":
        doc["shape"] = draw(st.sampled_from([[10**9, 10**9], [2**40, 1], [10**30, 10**30], [0, 5], [-3, 3]]))
        return json.dumps(doc)
    if how == "field":
        name = draw(st.sampled_from(sorted(doc)))
        value = draw(st.sampled_from([None, True, -1, 1.5, "x", [], {}, [1, 2], 10**20, float("nan")]))
        if draw(st.booleans()):
            del doc[name]
        else:
            doc[name] = value
        return json.dumps(doc)
    return draw(st.sampled_from(["", "null", "[]", "{}", "\xff", '{"format": "vortexnumba-key"}', "1e999"]))


@FUZZ
@given(text=corrupted_key())
def test_damaged_key_files_never_load_as_another_map(text):
    BAD_INPUTS["key json"] += 1
    for loader in (vn.key_from_json, vn.VortexKey.from_json, vn.PermutationKey.from_json, vn.BlockKey.from_json,
                   vn.IdentityKey.from_json):
        try:
            key = loader(text)
        except (ValueError, TypeError) as exc:
            assert "Traceback" not in str(exc)
            continue
        # a change the digest cannot see (whitespace, a weight digit that moves no pixel) may load,
        # but then the map is exactly the one the file recorded
        recorded = json.loads(text)["src_sha256"]
        assert hashlib.sha256(np.asarray(key.src, "<i8").tobytes()).hexdigest() == recorded.lower()


# --------------------------------------------------------------------------- command line


def _digest_tree(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def refused_by_cli(argv, folder: Path):
    """Run the CLI with ``argv`` in-process; the command must fail cleanly and leave ``folder`` as it was."""
    BAD_INPUTS["cli"] += 1
    before = _digest_tree(folder)
    rc, _, message = run_cli(argv)
    assert rc not in (0, None), f"{argv} succeeded on a bad input"
    assert "Traceback" not in message, message
    errors = [line for line in message.splitlines() if "error:" in line]
    assert len(errors) == 1, message
    assert _digest_tree(folder) == before, f"{argv} changed or left files: {message}"
    return message


@pytest.fixture(scope="module")
def cli_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli_inputs")
    from PIL import Image

    rng = np.random.default_rng(0)
    (d / "key.json").write_text(KEY8.to_json())
    (d / "paper.json").write_text(vn.VortexKey.random((8, 8), seed=0, mode="paper").to_json())
    x = rng.integers(0, 256, (4, 8, 8), dtype=np.uint8)
    np.save(d / "x.npy", x)
    np.savez(d / "x.npz", images=x, labels=np.arange(4))
    np.savez_compressed(d / "xc.npz", images=x)
    Image.fromarray(x[0]).save(d / "x.png")
    (d / "sub").mkdir()
    Image.fromarray(x[1]).save(d / "sub" / "y.png")
    (d / "exists.npy").write_bytes(b"precious")
    (d / "plain.txt").write_text("not a folder")
    return d


def _corrupt(data: bytes, draw) -> bytes:
    how = draw(st.sampled_from(["truncate", "flip", "zero-tail"]))
    if how == "truncate":
        return data[: draw(st.integers(0, len(data) - 1))]
    data = bytearray(data)
    if how == "flip":
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, min(len(data), 200) - 1))] ^= 0xFF  # headers and zip/PNG structure
        return bytes(data)
    cut = draw(st.integers(0, len(data) - 1))
    return bytes(data[:cut]) + bytes(len(data) - cut)


@FUZZ
@given(data=st.data(), which=st.sampled_from(["x.npy", "x.npz", "xc.npz", "x.png", "key.json"]),
       command=st.sampled_from(["encrypt", "decrypt", "show", "info", "audit"]))
def test_cli_refuses_corrupted_files(cli_files, data, which, command):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        original = (cli_files / which).read_bytes()
        bad = tmp / which
        bad.write_bytes(_corrupt(original, data.draw))
        if which == "key.json":
            key, target, suffix = bad, cli_files / "x.npy", ".npy"
        else:
            key, target, suffix = cli_files / "key.json", bad, Path(which).suffix
        out = tmp / ("out" + (".png" if command == "show" else suffix))
        argv = {"encrypt": ["encrypt", key, target, "-o", out], "decrypt": ["decrypt", key, target, "-o", out],
                "show": ["show", key, target, "-o", out], "info": ["info", target],
                "audit": ["audit", key, "--dataset", target, "--n-images", 3, "--key-space-samples", 16]}[command]
        if command == "info" and which == "key.json":
            argv = ["info", bad]
        if command == "audit" and (which != "key.json" and which != "x.npy"):
            argv = ["audit", key, "--dataset", tmp / "x.npz"]  # only .npy data sets: refused by name
        BAD_INPUTS["cli corrupted file"] += 1
        before = _digest_tree(cli_files)
        rc, _, message = run_cli(argv)
        assert "Traceback" not in message, message
        assert _digest_tree(cli_files) == before
        if rc == 0:
            # the damage fell where it changes values only (pixel bytes): a valid file, a valid result
            assert not list(tmp.glob(".*.tmp"))
            return
        assert len([line for line in message.splitlines() if "error:" in line]) == 1, message
        assert not out.exists() and not list(tmp.glob(".*.tmp")), "partial output left behind"


def test_cli_bad_arguments_and_outputs(cli_files, tmp_path):
    d = cli_files
    huge = d / "huge.npy"
    if not huge.exists():
        with open(huge, "wb") as f:
            np.lib.format.write_array_header_1_0(f, {"descr": "|u1", "fortran_order": False, "shape": (10**12, 8, 8)})
            f.write(bytes(64))
        np.save(d / "nan.npy", np.full((2, 8, 8), np.nan))
        np.save(d / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
        np.save(d / "wrong_grid.npy", np.zeros((2, 7, 8), np.uint8))
        np.save(d / "complex.npy", np.zeros((2, 8, 8), np.complex64))
        np.save(d / "empty.npy", np.zeros((0, 8, 8), np.uint8))
        doc = json.loads(KEY8.to_json())
        doc["shape"] = [10**9, 10**9]
        (d / "huge_key.json").write_text(json.dumps(doc))
        (d / "x.txt").write_text("x")
    k, x = d / "key.json", d / "x.npy"
    cases = [
        ["encrypt", k, huge, "-o", tmp_path / "o.npy"], ["decrypt", k, huge, "-o", tmp_path / "o.npy"],
        ["show", k, huge, "-o", tmp_path / "o.png"], ["info", huge], ["audit", k, "--dataset", huge],
        ["encrypt", d / "huge_key.json", x, "-o", tmp_path / "o.npy"], ["audit", d / "huge_key.json"],
        ["encrypt", k, d / "nan.npy", "-o", tmp_path / "o.npy"], ["info", d / "nan.npy"],
        ["encrypt", k, d / "obj.npy", "-o", tmp_path / "o.npy"], ["info", d / "obj.npy"],
        ["encrypt", k, d / "wrong_grid.npy", "-o", tmp_path / "o.npy"],
        ["encrypt", k, d / "complex.npy", "-o", tmp_path / "o.npy"],
        ["encrypt", k, d / "empty.npy", "-o", tmp_path / "o.npy"],
        ["audit", k, "--dataset", d / "wrong_grid.npy"], ["audit", k, "--dataset", d / "empty.npy"],
        ["audit", k, "--dataset", d / "nan.npy"], ["audit", k, "--dataset", "imagenet"],
        ["audit", k, "--n-images", 0], ["audit", d / "missing.json"], ["audit", k, "--key-space-samples", 1],
        ["decrypt", d / "paper.json", x, "-o", tmp_path / "o.npy"],
        ["encrypt", k, x, "-o", d / "exists.npy"], ["encrypt", k, x, "-o", tmp_path / "o.npz"],
        ["encrypt", k, x, "-o", d / "plain.txt" / "o.npy"], ["encrypt", k, x, "-o", tmp_path / "no" / "o.npy"],
        ["encrypt", k, x, "-o", d / "sub"], ["encrypt", k, d / "x.txt", "-o", tmp_path / "o.txt"],
        ["encrypt", k, d / "missing.npy", "-o", tmp_path / "o.npy"],
        ["encrypt", d / "x.npy", x, "-o", tmp_path / "o.npy"],
        ["encrypt", k, d / "sub", "-o", d / "plain.txt"], ["show", k, x, "-o", tmp_path / "o.png", "--count", 0],
        ["show", k, x, "-o", tmp_path / "o.jpg"], ["info", "digits:99999"], ["info", x, "--index", 9],
        ["info", x, "--swap", "1;2"], ["info", x, "--radius", "nan"],
        ["info", x, "--swap", "0,0", "-o", d / "exists.npy"],
        ["keygen", "--shape", 0, 8, "-o", tmp_path / "k.json"], ["keygen", "--shape", 2, 2, "-o", tmp_path / "k.json"],
        ["keygen", "--shape", 8, 8, "--strength", "inf", "-o", tmp_path / "k.json"],
        ["keygen", "--shape", 8, 8, "--seed", -1, "-o", tmp_path / "k.json"],
        ["keygen", "--shape", 8, 8, "--kind", "block", "--block", 3, "-o", tmp_path / "k.json"],
        ["keygen", "--shape", 8, 8, "-o", d / "key.json"], ["keygen", "--shape", 10**6, 10**6, "--kind", "permutation",
                                                           "-o", tmp_path / "k.json"],
        ["keygen", "--shape", "a", 8, "-o", tmp_path / "k.json"], ["encrypt", k], ["audit"], ["nonsense"],
    ]
    for argv in cases:
        refused_by_cli(argv, d)
        assert not list(tmp_path.iterdir()), f"{argv} left {list(tmp_path.iterdir())}"


def test_cli_subprocess_exit_codes(cli_files, tmp_path):
    """The real entry point: exit status 1 (or 2 for usage) and a one-line message, no traceback."""
    d = cli_files
    (tmp_path / "bad.npz").write_bytes((d / "x.npz").read_bytes()[:100])
    env = dict(os.environ, PYTHONPATH=str(Path(vn.__file__).parents[1]))
    for argv, code in [
        (["encrypt", d / "key.json", tmp_path / "bad.npz", "-o", tmp_path / "o.npz"], 1),
        (["audit", d / "key.json", "--dataset", tmp_path / "bad.npz"], 1),
        (["decrypt", "--bogus"], 2),
    ]:
        BAD_INPUTS["cli subprocess"] += 1
        proc = subprocess.run([sys.executable, "-m", "vortexnumba", *map(str, argv)], capture_output=True, text=True,
                              env=env, timeout=HANG_S)
        assert proc.returncode == code, proc.stderr
        assert "Traceback" not in proc.stderr and proc.stderr.strip(), proc.stderr
        assert not (tmp_path / "o.npz").exists()


# --------------------------------------------------------------------------- round-trip soak

SOAK_DTYPES = [np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.uint64, np.int64,
               np.float16, np.float32, np.float64, np.bool_]


def _random_images(rng, dtype, shape):
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype.kind == "f":
        x = (rng.standard_normal(shape) * 10.0 ** rng.integers(-5, 5)).astype(dtype)
        x.flat[:: 7] = -0.0  # signed zeros must survive too
        return x
    bits = rng.integers(0, 256, shape + (dtype.itemsize,), dtype=np.uint8)
    return bits.view(dtype).reshape(shape)


def _soak_plan(seed=2024, total=10_000):
    """(key, [image arrays]) groups: random grids, kinds, channels and dtypes, 10,000 images in all."""
    rng = np.random.default_rng(seed)
    groups = []
    made = 0
    while made < total:
        h, w = (int(v) for v in rng.integers(3, 17, 2))
        kind = rng.integers(0, 4)
        if kind == 0:
            key = vn.VortexKey.random((h, w), n_vortices=int(rng.integers(1, 12)), strength=float(rng.uniform(0.1, 3)),
                                      seed=int(rng.integers(2**31)))
        elif kind == 1:
            key = vn.PermutationKey.random((h, w), seed=int(rng.integers(2**31)))
        elif kind == 2:
            b = int(rng.choice([d for d in range(1, min(h, w) + 1) if h % d == 0 and w % d == 0]))
            key = vn.BlockKey.random((h, w), block=b, seed=int(rng.integers(2**31)))
        else:
            key = vn.IdentityKey((h, w))
        arrays = []
        for _ in range(int(rng.integers(1, 5))):
            n = int(min(total - made, rng.integers(1, 200)))
            if n <= 0:
                break
            channels = [(), (1,), (3,), (4,)][int(rng.integers(0, 4))]
            if channels == () and n == h:
                channels = (1,)  # (h, h, w) would read as one image as well as a batch
            arrays.append(_random_images(rng, SOAK_DTYPES[int(rng.integers(len(SOAK_DTYPES)))], (n, h, w) + channels))
            made += n
        groups.append((key, arrays))
    return groups


@pytest.fixture(scope="module")
def soak_plan():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vn.cipher.IdentityKeyWarning)  # keys that move nothing belong in the soak
        plan = _soak_plan()
    assert sum(len(a) for _, arrays in plan for a in arrays) == 10_000
    return plan


def test_soak_round_trip_through_the_api(soak_plan):
    checked = 0
    for key, arrays in soak_plan:
        for batch in arrays:
            # every image on its own (single-image path) and the whole batch at once
            for img in batch:
                y = vn.encrypt(img, key, channels=img.ndim == 3)
                assert vn.decrypt(y, key, channels=img.ndim == 3).tobytes() == img.tobytes()
                checked += 1
            y = vn.encrypt(batch, key, channels=False if batch.ndim == 3 else None)
            assert y.tobytes() == vn.apply_src(batch, key.src, channels=False if batch.ndim == 3 else None).tobytes()
            assert vn.decrypt(y, key, channels=False if batch.ndim == 3 else None).tobytes() == batch.tobytes()
    assert checked == 10_000


def test_soak_round_trip_through_the_cli(soak_plan, tmp_path):
    """One .npz per key (arrays of several dtypes and channel counts), encrypted and decrypted by the CLI."""
    checked = 0
    for g, (key, arrays) in enumerate(soak_plan):
        kp, xp, yp, zp = (tmp_path / f"{g}.{s}" for s in ("json", "x.npz", "y.npz", "z.npz"))
        kp.write_text(key.to_json())
        np.savez(xp, **{f"a{i}": a for i, a in enumerate(arrays)})
        flag = ["--no-channels"] if all(a.ndim == 3 for a in arrays) else []
        for argv in (["encrypt", kp, xp, "-o", yp, *flag], ["decrypt", kp, yp, "-o", zp, *flag]):
            code, _, err = run_cli(argv)
            assert code == 0, err[-500:]
        with np.load(yp) as y, np.load(zp) as z:
            for i, a in enumerate(arrays):
                enc = y[f"a{i}"]
                assert enc.dtype == a.dtype and enc.tobytes() == vn.encrypt(a, key, channels=False if a.ndim == 3
                                                                             else None).tobytes()
                back = z[f"a{i}"]
                assert back.dtype == a.dtype and back.shape == a.shape and back.tobytes() == a.tobytes()
                checked += len(a)
        for p in (xp, yp, zp):
            p.unlink()
    assert checked == 10_000
    assert len(soak_plan) < 60  # a modest number of CLI calls
