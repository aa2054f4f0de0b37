"""Issue 10, item by item: each test failed before its fix.

The numbered comments follow the issue. Timings are generous bounds on
refusals that used to hang or allocate gigabytes, not performance claims.
"""

import contextlib
import io
import json
import os
import stat
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import vortexnumba as vn
from vortexnumba.cipher import MAX_PIXELS, MAX_SIDE, MAX_VORTICES, IdentityKeyWarning, check_key, is_key
from vortexnumba.cli import main

KEY8 = vn.VortexKey.random((8, 8), seed=0)


def cli(argv):
    """Run main(argv); returns (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main([str(a) for a in argv])
        except SystemExit as exc:
            rc = exc.code
    return rc, out.getvalue(), err.getvalue()


def refused_fast(fn, *args, seconds=2.0, exc=(ValueError, TypeError), match=None, **kwargs):
    t0 = time.perf_counter()
    with pytest.raises(exc, match=match):
        fn(*args, **kwargs)
    assert time.perf_counter() - t0 < seconds, f"{fn} took {time.perf_counter() - t0:.1f} s to refuse"


def leftovers(folder: Path):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# --------------------------------------------------------------------------- 1. float16

def test_1_float16_goes_through_the_framework(tmp_path):
    x = np.random.default_rng(0).random((8, 8)).astype(np.float16)
    x32 = x.astype(np.float32)  # exact widening: the float16 results must equal these
    assert vn.information_content(x) == vn.information_content(x32)
    assert vn.retention(x, KEY8.src) == vn.retention(x32, KEY8.src)
    assert vn.swap_delta(x, 0, 9) == vn.swap_delta(x32, 0, 9)
    assert np.array_equal(vn.swap_deltas(x, 3), vn.swap_deltas(x32, 3))
    assert np.array_equal(vn.neighbour_profile(x)[0], vn.neighbour_profile(x32)[0])
    np.save(tmp_path / "f16.npy", x)
    rc, out, err = cli(["info", tmp_path / "f16.npy"])
    assert rc == 0 and "information content" in out and "Traceback" not in err


# --------------------------------------------------------------------------- 2. deep JSON

@pytest.mark.parametrize("depth", [9, 1000, 100_000])
def test_2_deeply_nested_key_json_is_refused(tmp_path, depth):
    deep = "[" * depth + "]" * depth
    refused_fast(vn.key_from_json, deep, exc=ValueError, match="nested")
    refused_fast(vn.VortexKey.from_json, '{"a": ' + deep + "}", exc=ValueError, match="nested")
    (tmp_path / "deep.json").write_text(deep)
    np.save(tmp_path / "a.npy", np.zeros((8, 8), np.uint8))
    for argv in (["encrypt", tmp_path / "deep.json", tmp_path / "a.npy", "-o", tmp_path / "o.npy"],
                 ["show", tmp_path / "deep.json", tmp_path / "a.npy", "-o", tmp_path / "o.png"]):
        rc, _, err = cli(argv)
        assert rc == 1 and "nested" in err and err.count("\n") == 1, err
    assert not (tmp_path / "o.npy").exists()


# --------------------------------------------------------------------------- 3, 6, 7. size limits

def test_3_the_number_of_vortices_is_bounded(tmp_path):
    refused_fast(vn.VortexKey.random, (8, 8), n_vortices=10**9, exc=ValueError, match=str(MAX_VORTICES))
    rc, _, err = cli(["keygen", "--shape", 8, 8, "--vortices", 10**9, "-o", tmp_path / "k.json"])
    assert rc == 1 and "n_vortices" in err and not (tmp_path / "k.json").exists()
    doc = json.loads(KEY8.to_json())
    doc["vortices"] = doc["vortices"] * (MAX_VORTICES // len(doc["vortices"]) + 1)
    text = json.dumps(doc)  # ~2.5 MB: refused after parsing, before any vortex is built
    refused_fast(vn.key_from_json, text, seconds=5.0, exc=ValueError, match="vortices")


@pytest.mark.parametrize("make", [
    lambda s: vn.VortexKey.random(s), lambda s: vn.VortexKey(s), lambda s: vn.PermutationKey.random(s),
    lambda s: vn.PermutationKey(s, [0]), lambda s: vn.BlockKey.random(s, block=4), lambda s: vn.BlockKey(s, 4, [0]),
    lambda s: vn.IdentityKey(s),
], ids=["vortex.random", "vortex", "perm.random", "perm", "block.random", "block", "identity"])
@pytest.mark.parametrize("shape", [(100_000, 100_000), (MAX_SIDE + 4, 4), (2050, 2050)])
def test_7_python_constructors_refuse_oversized_grids_fast(make, shape):
    refused_fast(make, shape, seconds=1.0, exc=ValueError, match="too large|at most")


def test_6_one_set_of_limits_for_keygen_and_loading(tmp_path):
    rc, _, err = cli(["keygen", "--shape", 17000, 17000, "--vortices", 1, "-o", tmp_path / "k.json"])
    assert rc == 1 and "too large" in err
    # the largest grids keygen accepts load again, and one beyond is refused by both sides
    for shape in [(1, MAX_SIDE), (MAX_SIDE, 2)]:
        key = vn.PermutationKey.random(shape, seed=0)
        assert vn.key_from_json(key.to_json()) == key
    for kind, text in [("identity", vn.IdentityKey((1, MAX_SIDE)).to_json())]:
        doc = json.loads(text)
        doc["shape"] = [1, MAX_SIDE + 1]
        refused_fast(vn.key_from_json, json.dumps(doc), exc=ValueError, match="too large")
    doc = json.loads(vn.IdentityKey((2, 2)).to_json())
    doc["shape"] = [2049, 2048]  # within the side limit, above the pixel limit
    assert 2049 * 2048 > MAX_PIXELS
    refused_fast(vn.key_from_json, json.dumps(doc), exc=ValueError, match="pixels")
    refused_fast(vn.IdentityKey, (2049, 2048), exc=ValueError, match="pixels")


# --------------------------------------------------------------------------- 5. cheap checks first

@pytest.mark.filterwarnings("ignore::vortexnumba.cipher.IdentityKeyWarning")
def test_5_a_forged_key_for_a_huge_grid_is_refused_before_it_is_built(tmp_path):
    doc = json.loads(vn.VortexKey.random((9, 9), n_vortices=1, seed=0).to_json())
    doc["shape"] = [2048, 2048]  # the largest grid allowed, one vortex filling it
    doc["vortices"][0].update(centre=[1024, 1024], radius=1023)
    text = json.dumps(doc)
    assert len(text) < 1000
    refused_fast(vn.key_from_json, text, grid=(8, 8), seconds=0.5, exc=ValueError, match="does not match")
    (tmp_path / "forged.json").write_text(text)
    np.save(tmp_path / "x.npy", np.zeros((3, 8, 8), np.uint8))
    t0 = time.perf_counter()
    rc, _, err = cli(["encrypt", tmp_path / "forged.json", tmp_path / "x.npy", "-o", tmp_path / "y.npy"])
    assert rc == 1 and "does not match" in err and time.perf_counter() - t0 < 2.0


# --------------------------------------------------------------------------- 4. folders all or nothing

@pytest.fixture()
def folder(tmp_path):
    rng = np.random.default_rng(1)
    d = tmp_path / "imgs"
    (d / "sub").mkdir(parents=True)
    for i, name in enumerate(["a.png", "b.png", "sub/c.png", "d.png"]):
        Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)).save(d / name)
    (tmp_path / "key.json").write_text(KEY8.to_json())
    return tmp_path


def _tree(d: Path):
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_4_a_bad_file_in_a_folder_means_no_output_at_all(folder):
    Image.fromarray(np.zeros((9, 8), np.uint8)).save(folder / "imgs" / "z_wrong_size.png")
    rc, _, err = cli(["encrypt", folder / "key.json", folder / "imgs", "-o", folder / "enc"])
    assert rc == 1 and "z_wrong_size.png" in err
    assert not (folder / "enc").exists() and leftovers(folder) == []


def test_4_in_place_with_force_is_whole_and_reversible(folder):
    before = _tree(folder / "imgs")
    rc, _, err = cli(["encrypt", folder / "key.json", folder / "imgs", "-o", folder / "imgs"])
    assert rc == 1 and "--force" in err and _tree(folder / "imgs") == before
    assert cli(["encrypt", folder / "key.json", folder / "imgs", "-o", folder / "imgs", "--force"])[0] == 0
    enc = _tree(folder / "imgs")
    assert enc.keys() == before.keys() and all(enc[k] != before[k] for k in enc)
    assert cli(["decrypt", folder / "key.json", folder / "imgs", "-o", folder / "imgs", "--force"])[0] == 0
    back = {k: np.asarray(Image.open(folder / "imgs" / k)) for k in before}
    assert all(np.array_equal(back[k], np.asarray(Image.open(io.BytesIO(before[k])))) for k in before)
    assert leftovers(folder) == []


def test_4_force_never_replaces_a_folder_holding_other_files(folder):
    (folder / "mine").mkdir()
    (folder / "mine" / "notes.txt").write_text("keep")
    rc, _, err = cli(["encrypt", folder / "key.json", folder / "imgs", "-o", folder / "mine", "--force"])
    assert rc == 1 and "not images" in err and (folder / "mine" / "notes.txt").read_text() == "keep"
    rc, _, err = cli(["encrypt", folder / "key.json", folder / "imgs", "-o", folder / "imgs" / "sub" / "o"])
    assert rc == 1 and "inside the input" in err


def test_4_an_interrupted_run_leaves_nothing_under_the_target_name(folder, monkeypatch):
    import vortexnumba.cipher._files as files

    calls = []
    real = files.write_image

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(files, "write_image", interrupted)
    rc, _, _ = cli(["encrypt", folder / "key.json", folder / "imgs", "-o", folder / "enc"])
    assert rc == 130 and not (folder / "enc").exists() and leftovers(folder) == []


def test_4_a_killed_run_leaves_at_most_a_temporary_beside_the_target(folder):
    """SIGKILL-like: the process dies (os._exit) after writing two files."""
    code = (
        "import os, sys, vortexnumba.cipher._files as f\n"
        "real = f.write_image; n = [0]\n"
        "def w(*a, **k):\n"
        "    n[0] += 1\n"
        "    if n[0] == 3: os._exit(9)\n"
        "    return real(*a, **k)\n"
        "f.write_image = w\n"
        "from vortexnumba.cli import main\n"
        "main(sys.argv[1:])\n"
    )
    env = dict(os.environ, PYTHONPATH=str(Path(vn.__file__).parents[1]))
    proc = subprocess.run([sys.executable, "-c", code, "encrypt", str(folder / "key.json"), str(folder / "imgs"),
                           "-o", str(folder / "enc")], env=env, capture_output=True, timeout=120)
    assert proc.returncode == 9
    assert not (folder / "enc").exists()
    left = leftovers(folder)
    assert len(left) == 1 and left[0].startswith(".enc.") and left[0].endswith(".tmp")
    # the rerun needs no --force and succeeds
    assert cli(["encrypt", folder / "key.json", folder / "imgs", "-o", folder / "enc"])[0] == 0


# --------------------------------------------------------------------------- 8. no mutation

def test_8_key_constructors_copy_the_callers_arrays():
    p = np.arange(16)
    key = vn.PermutationKey((4, 4), p)
    assert p.flags.writeable
    p[:] = p[::-1].copy()
    assert key.src.tolist() == list(range(16))
    order = np.array([1, 0, 3, 2])
    block = vn.BlockKey((8, 8), 4, order)
    assert order.flags.writeable
    order[:] = 0
    assert block.order.tolist() == [1, 0, 3, 2]


# --------------------------------------------------------------------------- 9. keys that move nothing

def test_9_keys_that_move_nothing_warn_and_keygen_refuses_them(tmp_path):
    with pytest.warns(IdentityKeyWarning):
        key = vn.VortexKey.random((8, 8), strength=0.0, seed=0)
    assert key.moved_fraction == 0.0
    with pytest.warns(IdentityKeyWarning):
        vn.BlockKey.random((8, 8), block=4, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert vn.VortexKey.random((8, 8), seed=0).moved_fraction > 0  # no warning for a real key
    for extra in (["--kind", "block", "--seed", 1], ["--strength", 0]):
        rc, _, err = cli(["keygen", "--shape", 8, 8, *extra, "-o", tmp_path / "k.json"])
        assert rc == 1 and "--allow-identity" in err and not (tmp_path / "k.json").exists()
    rc, _, err = cli(["keygen", "--shape", 8, 8, "--strength", 0, "--allow-identity", "-o", tmp_path / "k.json"])
    assert rc == 0 and "moves 0.0% of the pixels" in err
    rc, _, err = cli(["keygen", "--shape", 8, 8, "--seed", 0, "-o", tmp_path / "k2.json"])
    share = vn.VortexKey.random((8, 8), seed=0).moved_fraction
    assert rc == 0 and f"moves {share:.1%} of the pixels" in err


# --------------------------------------------------------------------------- 10. fingerprints

def test_10_the_wrong_key_is_refused_where_the_format_records_the_key(tmp_path):
    other = vn.VortexKey.random((8, 8), seed=1)
    (tmp_path / "k.json").write_text(KEY8.to_json())
    (tmp_path / "other.json").write_text(other.to_json())
    x = np.random.default_rng(0).integers(0, 256, (3, 8, 8), dtype=np.uint8)
    np.savez(tmp_path / "x.npz", images=x, labels=np.arange(3))
    Image.fromarray(x[0]).save(tmp_path / "x.png")
    for suffix in (".npz", ".png"):
        enc, dec = tmp_path / f"enc{suffix}", tmp_path / f"dec{suffix}"
        assert cli(["encrypt", tmp_path / "k.json", tmp_path / f"x{suffix}", "-o", enc])[0] == 0
        rc, _, err = cli(["decrypt", tmp_path / "other.json", enc, "-o", dec])
        assert rc == 1 and f"fingerprint {KEY8.fingerprint}" in err and not dec.exists()
        assert cli(["decrypt", tmp_path / "k.json", enc, "-o", dec])[0] == 0
    with np.load(tmp_path / "dec.npz") as z:
        assert sorted(z.files) == ["images", "labels"] and np.array_equal(z["images"], x)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "dec.png")), x[0])
    # two layers: outermost key first on the way back
    assert cli(["encrypt", tmp_path / "other.json", tmp_path / "enc.npz", "-o", tmp_path / "enc2.npz"])[0] == 0
    assert cli(["decrypt", tmp_path / "k.json", tmp_path / "enc2.npz", "-o", tmp_path / "d1.npz"])[0] == 1
    assert cli(["decrypt", tmp_path / "other.json", tmp_path / "enc2.npz", "-o", tmp_path / "d1.npz"])[0] == 0
    assert cli(["decrypt", tmp_path / "k.json", tmp_path / "d1.npz", "-o", tmp_path / "d2.npz"])[0] == 0
    with np.load(tmp_path / "d2.npz") as z:
        assert np.array_equal(z["images"], x)


# --------------------------------------------------------------------------- 11. the smaller items

def test_11_show_on_mixed_modes_names_the_file(tmp_path):
    d = tmp_path / "mixed"
    d.mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(d / "a.png")
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(d / "b.png")
    (tmp_path / "k.json").write_text(KEY8.to_json())
    rc, _, err = cli(["show", tmp_path / "k.json", d, "-o", tmp_path / "s.png"])
    assert rc == 1 and "b.png" in err and "colour mode" in err


def test_11_vortices_none_is_a_clear_type_error():
    with pytest.raises(TypeError, match="vortices must be a sequence.*NoneType"):
        vn.VortexKey((8, 8), "bijective", None)


def test_11_the_cli_names_its_flags_not_python_arguments(tmp_path):
    (tmp_path / "k.json").write_text(KEY8.to_json())
    np.save(tmp_path / "amb.npy", np.zeros((8, 8, 8), np.uint8))  # one 8x8x8 image or 8 images of 8x8
    rc, _, err = cli(["encrypt", tmp_path / "k.json", tmp_path / "amb.npy", "-o", tmp_path / "o.npy"])
    assert rc == 1 and "--channels" in err and "--no-channels" in err and "channels=" not in err


def test_11_info_checks_the_swap_pixel_before_printing(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((8, 8), np.uint8))
    rc, out, err = cli(["info", tmp_path / "x.npy", "--swap", "999,0"])
    assert rc == 1 and out == "" and "--swap" in err


def test_11_key_files_are_private(tmp_path):
    assert cli(["keygen", "--shape", 8, 8, "--seed", 0, "-o", tmp_path / "k.json"])[0] == 0
    assert stat.S_IMODE((tmp_path / "k.json").stat().st_mode) == 0o600
    vn.cipher.save_key(KEY8, tmp_path / "k2.json")
    assert stat.S_IMODE((tmp_path / "k2.json").stat().st_mode) == 0o600


# --------------------------------------------------------------------------- issue 11: one key check, one suffix list

def test_one_key_protocol_for_every_module():
    class Mine:  # a user's own key: any object with the protocol's attributes
        shape = (2, 2)
        kind = "mine"
        n_pixels = 4
        src = np.array([3, 2, 1, 0])
        inverse_src = np.array([3, 2, 1, 0])
        is_bijective = True

        def to_json(self):
            return "{}"

    assert is_key(Mine()) and isinstance(Mine(), vn.cipher.Key)
    x = np.arange(4, dtype=np.uint8).reshape(2, 2)
    assert vn.encrypt(x, Mine()).ravel().tolist() == [3, 2, 1, 0]
    for bad in (None, "key.json", KEY8.src, {"shape": (8, 8)}):
        assert not is_key(bad)
        with pytest.raises(TypeError, match="key must be a key"):
            check_key(bad)
        with pytest.raises(TypeError, match="key must be a key"):
            vn.encrypt(np.zeros((8, 8)), bad)


@pytest.mark.parametrize("suffix", sorted(vn.io._images.IMAGE_SUFFIXES) if hasattr(vn, "io") else [])
def test_every_image_suffix_round_trips_or_is_refused(tmp_path, suffix):
    from vortexnumba.io._images import IMAGE_SUFFIXES, LOSSY_SUFFIXES, read_image, write_image

    assert suffix in IMAGE_SUFFIXES
    rng = np.random.default_rng(0)
    samples = {"L": rng.integers(0, 256, (8, 8), dtype=np.uint8),
               "LA": rng.integers(0, 256, (8, 8, 2), dtype=np.uint8),
               "RGB": rng.integers(0, 256, (8, 8, 3), dtype=np.uint8),
               "RGBA": rng.integers(0, 256, (8, 8, 4), dtype=np.uint8),
               "I;16": rng.integers(0, 65536, (8, 8), dtype=np.uint16),
               "int16": rng.integers(0, 99, (8, 8), dtype=np.int16)}
    for mode, arr in samples.items():
        path = tmp_path / f"{mode.replace(';', '')}{suffix}"
        try:
            write_image(arr, path)
        except ValueError as exc:
            assert str(path) in str(exc) and not path.exists()
            continue
        back = read_image(path)
        assert back.shape == arr.shape and back.dtype == arr.dtype, (suffix, mode)
        if suffix not in LOSSY_SUFFIXES:
            assert np.array_equal(back, arr), (suffix, mode)


def test_4_a_file_written_onto_itself_is_whole(tmp_path):
    x = np.random.default_rng(3).integers(0, 256, (5, 8, 8), dtype=np.uint8)
    np.save(tmp_path / "x.npy", x)
    (tmp_path / "k.json").write_text(KEY8.to_json())
    assert cli(["encrypt", tmp_path / "k.json", tmp_path / "x.npy", "-o", tmp_path / "x.npy"])[0] == 1
    assert np.array_equal(np.load(tmp_path / "x.npy"), x)
    assert cli(["encrypt", tmp_path / "k.json", tmp_path / "x.npy", "-o", tmp_path / "x.npy", "--force"])[0] == 0
    assert np.array_equal(np.load(tmp_path / "x.npy"), vn.encrypt(x, KEY8))
    assert cli(["decrypt", tmp_path / "k.json", tmp_path / "x.npy", "-o", tmp_path / "x.npy", "--force"])[0] == 0
    assert np.array_equal(np.load(tmp_path / "x.npy"), x) and leftovers(tmp_path) == []
