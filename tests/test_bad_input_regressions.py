"""Bad input, by input class: each test pins down one behaviour at the edge of what is accepted.

Classes: numbers (counts, sizes, huge and non-finite values), dtypes and byte
order, bit depth of image files, key files, files and folders, the caller's
data, and the command line's wording.

"Refused early" is asserted without a clock: the refusal must come before
the expensive work (the function that would do it is never called, and the
traced memory peak stays far below what that work allocates), so a busy
machine cannot make these tests fail.
"""

import contextlib
import io
import json
import os
import stat
import subprocess
import sys
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import vortexnumba as vn
from vortexnumba.cipher import MAX_PIXELS, MAX_SIDE, MAX_VORTICES, IdentityKeyWarning, check_key, is_key
from vortexnumba.cli import main

KEY8 = vn.VortexKey.random((8, 8), seed=0)
#: a refusal may trace at most this much memory; the work it prevents allocates far more
EARLY_PEAK_BYTES = 8 << 20


def cli(argv):
    """Run main(argv); returns (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main([str(a) for a in argv])
        except SystemExit as exc:
            rc = exc.code
    return rc, out.getvalue(), err.getvalue()


class Spy:
    """Wrap ``owner.attr`` so calls are counted while still doing their work."""

    def __init__(self, monkeypatch, owner, attr):
        self.calls = 0
        real = getattr(owner, attr)

        def spy(*args, **kwargs):
            self.calls += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(owner, attr, spy)


def refused_early(fn, *args, exc=(ValueError, TypeError), match=None, spies=(), peak=EARLY_PEAK_BYTES, **kwargs):
    """``fn(*args, **kwargs)`` raises ``exc`` before the expensive work: no spy called, a small memory peak."""
    tracemalloc.start()
    try:
        with pytest.raises(exc, match=match):
            fn(*args, **kwargs)
        used = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert used < peak, f"{fn} traced {used} bytes before refusing (bound {peak})"
    for s in spies:
        assert s.calls == 0, f"{fn} did the expensive work ({s.calls} call(s)) before refusing"


def leftovers(folder: Path):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _tree(d: Path):
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


# =========================================================================== numbers: counts, sizes, huge, non-finite

KEY_CLASSES = (vn.VortexKey, vn.PermutationKey, vn.BlockKey, vn.IdentityKey)


def src_spies(monkeypatch):
    """One spy per key class on the method that builds its gather index (the expensive part)."""
    return [Spy(monkeypatch, cls, "_build_src") for cls in KEY_CLASSES]


def test_the_number_of_vortices_is_bounded(tmp_path, monkeypatch):
    refused_early(vn.VortexKey.random, (8, 8), n_vortices=10**9, exc=ValueError, match=str(MAX_VORTICES),
                  spies=src_spies(monkeypatch))
    rc, _, err = cli(["keygen", "--shape", 8, 8, "--vortices", 10**9, "-o", tmp_path / "k.json"])
    assert rc == 1 and "n_vortices" in err and not (tmp_path / "k.json").exists()
    doc = json.loads(KEY8.to_json())
    doc["vortices"] = doc["vortices"] * (MAX_VORTICES // len(doc["vortices"]) + 1)
    text = json.dumps(doc)  # ~2.5 MB: refused after parsing, before any vortex is built
    vortex = Spy(monkeypatch, vn.cipher._keys.Vortex, "from_dict")
    refused_early(vn.key_from_json, text, exc=ValueError, match="vortices", spies=[vortex, *src_spies(monkeypatch)],
                  peak=64 << 20)


@pytest.mark.parametrize("make", [
    lambda s: vn.VortexKey.random(s), lambda s: vn.VortexKey(s), lambda s: vn.PermutationKey.random(s),
    lambda s: vn.PermutationKey(s, [0]), lambda s: vn.BlockKey.random(s, block=4), lambda s: vn.BlockKey(s, 4, [0]),
    lambda s: vn.IdentityKey(s),
], ids=["vortex.random", "vortex", "perm.random", "perm", "block.random", "block", "identity"])
@pytest.mark.parametrize("shape", [(100_000, 100_000), (MAX_SIDE + 4, 4), (2050, 2050)])
def test_python_constructors_refuse_oversized_grids_before_building(make, shape, monkeypatch):
    refused_early(make, shape, exc=ValueError, match="too large|at most", spies=src_spies(monkeypatch))


def test_one_set_of_limits_for_keygen_and_loading(tmp_path, monkeypatch):
    rc, _, err = cli(["keygen", "--shape", 17000, 17000, "--vortices", 1, "-o", tmp_path / "k.json"])
    assert rc == 1 and "too large" in err
    # the largest grids keygen accepts load again, and one beyond is refused by both sides
    for shape in [(1, MAX_SIDE), (MAX_SIDE, 2)]:
        key = vn.PermutationKey.random(shape, seed=0)
        assert vn.key_from_json(key.to_json()) == key
    texts = [("identity", vn.IdentityKey((1, MAX_SIDE)).to_json())]
    small = vn.IdentityKey((2, 2)).to_json()
    spies = src_spies(monkeypatch)  # from here on no key may be built
    for _kind, text in texts:
        doc = json.loads(text)
        doc["shape"] = [1, MAX_SIDE + 1]
        refused_early(vn.key_from_json, json.dumps(doc), exc=ValueError, match="too large", spies=spies)
    doc = json.loads(small)
    doc["shape"] = [2049, 2048]  # within the side limit, above the pixel limit
    assert 2049 * 2048 > MAX_PIXELS
    refused_early(vn.key_from_json, json.dumps(doc), exc=ValueError, match="pixels", spies=spies)
    refused_early(vn.IdentityKey, (2049, 2048), exc=ValueError, match="pixels", spies=spies)


HUGE = 10**400  # more than a float64 holds


@pytest.mark.parametrize("call, name", [
    (lambda v: vn.VortexKey.random((8, 8), strength=v, seed=0), "strength"),
    (lambda v: vn.VortexKey.random((8, 8), n_vortices=v, seed=0), "n_vortices"),
    (lambda v: vn.BlockKey.random((8, 8), block=v, seed=0), "block"),
    (lambda v: vn.Kernel.power(alpha=v), "alpha"),
    (lambda v: vn.Kernel.power(radius=v), "radius"),
    (lambda v: vn.Kernel.gaussian(tau=v), "tau"),
    (lambda v: vn.Kernel.exponential(radius=v), "radius"),
    (lambda v: vn.Coupling.gaussian(h=v), "h"),
], ids=["strength", "n_vortices", "block", "alpha", "radius", "tau", "exp-radius", "h"])
@pytest.mark.parametrize("value", [HUGE, -HUGE, float("nan"), float("inf"), np.float32("nan")],
                         ids=["huge", "-huge", "nan", "inf", "f32-nan"])
def test_huge_and_non_finite_numbers_name_the_argument(call, name, value):
    if name in ("n_vortices", "block") and not isinstance(value, int):
        with pytest.raises(TypeError, match=name):  # a float count is the wrong type, whatever its value
            call(value)
        return
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        call(value)


def test_a_kernel_radius_beyond_any_image_is_refused_before_its_tables(monkeypatch):
    import vortexnumba.framework._kernels as kernels

    tables = Spy(monkeypatch, kernels, "grid_distances")
    for make in (vn.Kernel.power, vn.Kernel.gaussian, vn.Kernel.exponential):
        refused_early(make, radius=20_000, exc=ValueError, match=r"radius must be < 2048.*20000", spies=[tables])
        refused_early(make, radius=kernels.MAX_RADIUS, exc=ValueError, match="radius", spies=[tables])
    refused_early(vn.Kernel.from_function, lambda d: 1 / d, 10**6, exc=ValueError, match="radius", spies=[tables])
    assert vn.Kernel.power(radius=5.0).radius == 5.0 and tables.calls == 1  # a usable radius is built


def test_channels_must_be_a_bool_or_none():
    image = np.zeros((8, 8, 3))
    for bad in ("yes", 1, 0.0, [True]):
        with pytest.raises(TypeError, match="channels must be None, True or False"):
            vn.information_content(image, channels=bad)
        with pytest.raises(TypeError, match="channels must be None, True or False"):
            vn.encrypt(image, KEY8, channels=bad)
    assert vn.information_content(image, channels=np.bool_(True)) == vn.information_content(image, channels=True)


@pytest.mark.parametrize("field, value", [("src", 10**30), ("src", 2**63), ("src", -(10**30))])
def test_a_huge_permutation_entry_in_a_key_file_names_the_field(tmp_path, field, value):
    doc = json.loads(vn.PermutationKey.random((4, 4), seed=0).to_json())
    doc[field][3] = value
    with pytest.raises(ValueError, match=rf"'{field}'\[3\]"):
        vn.key_from_json(json.dumps(doc))
    (tmp_path / "k.json").write_text(json.dumps(doc))
    np.save(tmp_path / "x.npy", np.zeros((4, 4), np.uint8))
    rc, _, err = cli(["encrypt", tmp_path / "k.json", tmp_path / "x.npy", "-o", tmp_path / "y.npy"])
    assert rc == 1 and field in err and "Traceback" not in err and err.count("\n") == 1, err


@pytest.mark.parametrize("where, value", [
    ("strength", HUGE), ("strength", -HUGE), ("weights", HUGE), ("radius", HUGE), ("centre", HUGE),
    ("family", HUGE), ("order", 10**30),
])
def test_huge_numbers_in_key_files_name_the_field(tmp_path, where, value):
    if where == "order":
        doc = json.loads(vn.BlockKey.random((8, 8), block=4, seed=0).to_json())
        doc["order"][0] = value
    else:
        doc = json.loads(KEY8.to_json())
        v = doc["vortices"][0]
        if isinstance(v[where], list):
            v[where][0] = value
        else:
            v[where] = value
    text = json.dumps(doc)
    name = {"centre": "centre", "weights": "weight"}.get(where, where)
    with pytest.raises(ValueError, match=name):
        vn.key_from_json(text)
    (tmp_path / "k.json").write_text(text)
    np.save(tmp_path / "x.npy", np.zeros((8, 8), np.uint8))
    rc, _, err = cli(["encrypt", tmp_path / "k.json", tmp_path / "x.npy", "-o", tmp_path / "y.npy"])
    assert rc == 1 and name in err and "Traceback" not in err and err.count("\n") == 1, err


# =========================================================================== dtypes and byte order

def test_float16_goes_through_the_framework(tmp_path):
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


#: every measure and mover, as plain numbers, for comparing a big-endian input with its native twin
BYTE_ORDER_SCRIPT = r"""
import json, sys
import numpy as np
import vortexnumba as vn
key = vn.VortexKey.random((8, 8), seed=0)
x = np.random.default_rng(0).random((3, 8, 8))
def measures(a):
    return {
        "information_content": vn.information_content(a).tolist(),
        "information_energy": vn.information_energy(a).tolist(),
        "retention": vn.retention(a, key.src).tolist(),
        "information_loss": vn.information_loss(a, key.src).tolist(),
        "swap_delta": float(vn.swap_delta(a[0], 0, 9)),
        "swap_deltas": vn.swap_deltas(a[0], 3).tolist(),
        "neighbour_profile": vn.neighbour_profile(a[0])[0].tolist(),
        "encrypt": vn.encrypt(a, key).tolist(),
        "decrypt": vn.decrypt(a, key).tolist(),
        "shuffle_each": vn.shuffle_each(a, seed=1).tolist(),
        "encrypt_u16": vn.encrypt((a * 999).astype(">u2"), key).tolist(),
    }
first = sys.argv[1]
big = x.astype(">f8")
out = {}
for order in ([big, x] if first == "big" else [x, big]):
    out["big" if order is big else "native"] = measures(order)
print(json.dumps(out))
"""


@pytest.mark.parametrize("first", ["big", "native"])
def test_big_endian_images_give_the_native_numbers(first):
    """In a fresh process (big-endian first: nothing compiled yet) and after a native call."""
    env = dict(os.environ, PYTHONPATH=str(Path(vn.__file__).parents[1]))
    proc = subprocess.run([sys.executable, "-c", BYTE_ORDER_SCRIPT, first], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.splitlines()[-1])
    for name in out["native"]:
        assert out["big"][name] == out["native"][name], name


def test_big_endian_results_are_native_and_the_input_is_untouched():
    x = np.random.default_rng(1).random((2, 8, 8)).astype(">f4")
    before = x.tobytes()
    y = vn.encrypt(x, KEY8)
    assert y.dtype == np.float32 and y.dtype.isnative and np.array_equal(y, vn.encrypt(x.astype("<f4"), KEY8))
    assert x.tobytes() == before and x.dtype == np.dtype(">f4")
    with pytest.raises(TypeError, match="native"):  # an `out` must hold what the kernels write
        vn.encrypt(x, KEY8, out=np.empty_like(x))
    native = np.zeros((8, 8))
    from vortexnumba._validate import as_native, as_pixel_array

    assert as_pixel_array(native) is native and as_native(native) is native  # no copy when already native


def test_big_endian_files_through_the_command_line(tmp_path):
    x = np.random.default_rng(2).random((3, 8, 8))
    np.save(tmp_path / "native.npy", x)
    np.save(tmp_path / "big.npy", x.astype(">f8"))
    infos = [cli(["info", tmp_path / f"{n}.npy"]) for n in ("big", "native", "big")]
    assert [rc for rc, _, _ in infos] == [0, 0, 0], infos
    numbers = [out.split("\n", 1)[1] for _, out, _ in infos]  # the first line names the file and its dtype
    assert numbers[0] == numbers[1] == numbers[2] and "information content" in numbers[0], infos
    (tmp_path / "k.json").write_text(KEY8.to_json())
    for n in ("big", "native"):
        assert cli(["encrypt", tmp_path / "k.json", tmp_path / f"{n}.npy", "-o", tmp_path / f"{n}-enc.npy"])[0] == 0
    assert np.array_equal(np.load(tmp_path / "big-enc.npy"), np.load(tmp_path / "native-enc.npy"))


def test_big_endian_dask_arrays_give_the_native_numbers():
    da = pytest.importorskip("dask.array")
    import vortexnumba.dask as vnd

    x = np.random.default_rng(3).random((5, 8, 8))
    big = da.from_array(x.astype(">f8"), chunks=2)
    assert np.array_equal(vnd.retention(big, KEY8.src).compute(), vn.retention(x, KEY8.src))
    enc = vnd.encrypt(big, KEY8)
    assert enc.dtype.isnative and np.array_equal(enc.compute(), vn.encrypt(x, KEY8))


# =========================================================================== bit depth of image files

def _filtered_png16(arr: np.ndarray, filters) -> bytes:
    """A 16-bit colour PNG of ``arr`` with the given filter type per row, written from the PNG definition."""
    import struct
    import zlib

    h, w, c = arr.shape
    bpp = 2 * c
    rows = [bytes(arr[y].astype(">u2").tobytes()) for y in range(h)]
    out = bytearray()
    for y, row in enumerate(rows):
        prior = rows[y - 1] if y else bytes(len(row))
        kind = filters[y % len(filters)]
        line = bytearray()
        for i, x in enumerate(row):
            a = row[i - bpp] if i >= bpp else 0
            b = prior[i]
            cc = prior[i - bpp] if i >= bpp else 0
            if kind == 0:
                pred = 0
            elif kind == 1:
                pred = a
            elif kind == 2:
                pred = b
            elif kind == 3:
                pred = (a + b) // 2
            else:
                p = a + b - cc
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - cc)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else cc)
            line.append((x - pred) % 256)
        out += bytes([kind]) + line

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    colour = {2: 4, 3: 2, 4: 6}[c]
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, colour, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(out))) + chunk(b"IEND", b""))


@pytest.mark.parametrize("channels", [2, 3, 4])
def test_16_bit_colour_pngs_read_bit_for_bit_whatever_the_row_filters(tmp_path, channels):
    from vortexnumba.io._images import image_header, read_image

    rng = np.random.default_rng(channels)
    arr = rng.integers(0, 65536, (7, 5, channels), dtype=np.uint16)
    arr[2] = arr[1]  # runs and repeats, where the filters' predictions matter
    for filters in ([0], [1], [2], [3], [4], [0, 1, 2, 3, 4]):
        path = tmp_path / f"f{''.join(map(str, filters))}.png"
        path.write_bytes(_filtered_png16(arr, filters))
        assert image_header(path) == ((7, 5, channels), np.dtype(np.uint16))
        back = read_image(path)
        assert back.dtype == np.uint16 and np.array_equal(back, arr), filters
        if channels > 2:  # Pillow reads the high bytes of the same file: they must agree
            assert np.array_equal(np.asarray(Image.open(path)), (arr >> 8).astype(np.uint8))


@pytest.mark.parametrize("channels", [2, 3, 4])
def test_16_bit_colour_pngs_keep_every_bit_through_encryption(tmp_path, channels):
    rng = np.random.default_rng(10 + channels)
    arr = rng.integers(0, 65536, (8, 8, channels), dtype=np.uint16)
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "a.png").write_bytes(_filtered_png16(arr, [0, 1, 2, 3, 4]))
    (tmp_path / "k.json").write_text(KEY8.to_json())
    from vortexnumba.io._images import read_image

    for src, enc, dec in ((tmp_path / "imgs" / "a.png", tmp_path / "enc.png", tmp_path / "dec.png"),
                          (tmp_path / "imgs", tmp_path / "enc", tmp_path / "dec")):
        assert cli(["encrypt", tmp_path / "k.json", src, "-o", enc])[0] == 0
        enc_file = enc if enc.suffix else enc / "a.png"
        encrypted = read_image(enc_file)
        assert encrypted.dtype == np.uint16 and np.array_equal(encrypted, vn.encrypt(arr, KEY8, channels=True))
        assert cli(["decrypt", tmp_path / "k.json", enc, "-o", dec])[0] == 0
        assert np.array_equal(read_image(dec if dec.suffix else dec / "a.png"), arr)
    other = vn.VortexKey.random((8, 8), seed=5)  # the fingerprint is recorded in 16-bit PNGs too
    (tmp_path / "other.json").write_text(other.to_json())
    rc, _, err = cli(["decrypt", tmp_path / "other.json", tmp_path / "enc.png", "-o", tmp_path / "wrong.png"])
    assert rc == 1 and KEY8.fingerprint in err


def test_a_file_whose_samples_pillow_would_narrow_is_refused_naming_depth_and_file(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    tifffile.imwrite(tmp_path / "deep.tif", np.random.default_rng(0).integers(0, 65536, (8, 8, 3), dtype=np.uint16))
    (tmp_path / "k.json").write_text(KEY8.to_json())
    from vortexnumba.io._images import read_image

    with pytest.raises(ValueError, match=r"deep\.tif.*16 bits per sample"):
        read_image(tmp_path / "deep.tif")
    rc, _, err = cli(["encrypt", tmp_path / "k.json", tmp_path / "deep.tif", "-o", tmp_path / "o.tif"])
    assert rc == 1 and "16 bits" in err and "deep.tif" in err and not (tmp_path / "o.tif").exists()
    (tmp_path / "imgs").mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "imgs" / "a.png")
    (tmp_path / "imgs" / "b.tif").write_bytes((tmp_path / "deep.tif").read_bytes())
    rc, _, err = cli(["encrypt", tmp_path / "k.json", tmp_path / "imgs", "-o", tmp_path / "enc"])
    assert rc == 1 and "b.tif" in err and "16 bits" in err and not (tmp_path / "enc").exists()
    # a 16-bit colour image cannot go to a format that would narrow it: refused before writing
    (tmp_path / "rgb16.png").write_bytes(_filtered_png16(np.zeros((8, 8, 3), np.uint16), [0]))
    rc, _, err = cli(["encrypt", tmp_path / "k.json", tmp_path / "rgb16.png", "-o", tmp_path / "o.bmp"])
    assert rc == 1 and "RGB;16" in err and not (tmp_path / "o.bmp").exists()


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
               "LA;16": rng.integers(0, 65536, (8, 8, 2), dtype=np.uint16),
               "RGB;16": rng.integers(0, 65536, (8, 8, 3), dtype=np.uint16),
               "RGBA;16": rng.integers(0, 65536, (8, 8, 4), dtype=np.uint16),
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
        if mode in ("LA;16", "RGB;16", "RGBA;16"):
            assert suffix == ".png"  # the one format that keeps 16-bit colour


# =========================================================================== key files and key objects

@pytest.mark.parametrize("depth", [9, 1000, 100_000])
def test_deeply_nested_key_json_is_refused_before_decoding(tmp_path, depth, monkeypatch):
    import vortexnumba.cipher._keybase as keybase

    decode = Spy(monkeypatch, keybase.json, "loads")
    deep = "[" * depth + "]" * depth
    refused_early(vn.key_from_json, deep, exc=ValueError, match="nested", spies=[decode])
    refused_early(vn.VortexKey.from_json, '{"a": ' + deep + "}", exc=ValueError, match="nested", spies=[decode])
    (tmp_path / "deep.json").write_text(deep)
    np.save(tmp_path / "a.npy", np.zeros((8, 8), np.uint8))
    for argv in (["encrypt", tmp_path / "deep.json", tmp_path / "a.npy", "-o", tmp_path / "o.npy"],
                 ["show", tmp_path / "deep.json", tmp_path / "a.npy", "-o", tmp_path / "o.png"]):
        rc, _, err = cli(argv)
        assert rc == 1 and "nested" in err and err.count("\n") == 1, err
    assert not (tmp_path / "o.npy").exists()


@pytest.mark.filterwarnings("ignore::vortexnumba.cipher.IdentityKeyWarning")
def test_a_forged_key_for_a_huge_grid_is_refused_before_it_is_built(tmp_path, monkeypatch):
    doc = json.loads(vn.VortexKey.random((9, 9), n_vortices=1, seed=0).to_json())
    doc["shape"] = [2048, 2048]  # the largest grid allowed, one vortex filling it
    doc["vortices"][0].update(centre=[1024, 1024], radius=1023)
    text = json.dumps(doc)
    assert len(text) < 1000
    build = src_spies(monkeypatch)
    refused_early(vn.key_from_json, text, grid=(8, 8), exc=ValueError, match="does not match", spies=build)
    (tmp_path / "forged.json").write_text(text)
    np.save(tmp_path / "x.npy", np.zeros((3, 8, 8), np.uint8))
    tracemalloc.start()
    try:
        rc, _, err = cli(["encrypt", tmp_path / "forged.json", tmp_path / "x.npy", "-o", tmp_path / "y.npy"])
        used = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert rc == 1 and "does not match" in err
    assert all(s.calls == 0 for s in build) and used < EARLY_PEAK_BYTES, used  # a 2048x2048 map is 32 MB


def test_keys_that_move_nothing_warn_and_keygen_refuses_them(tmp_path):
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


def test_the_wrong_key_is_refused_where_the_format_records_the_key(tmp_path):
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


def test_vortices_none_is_a_clear_type_error():
    with pytest.raises(TypeError, match="vortices must be a sequence.*NoneType"):
        vn.VortexKey((8, 8), "bijective", None)


def test_key_files_are_private(tmp_path):
    assert cli(["keygen", "--shape", 8, 8, "--seed", 0, "-o", tmp_path / "k.json"])[0] == 0
    assert stat.S_IMODE((tmp_path / "k.json").stat().st_mode) == 0o600
    vn.cipher.save_key(KEY8, tmp_path / "k2.json")
    assert stat.S_IMODE((tmp_path / "k2.json").stat().st_mode) == 0o600


def test_swapped_key_and_input_say_what_the_key_path_is(tmp_path):
    (tmp_path / "k.json").write_text(KEY8.to_json())
    (tmp_path / "imgs").mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "imgs" / "a.png")
    np.save(tmp_path / "x.npy", np.zeros((8, 8), np.uint8))
    for cmd in ("encrypt", "decrypt", "show"):
        for given, what in ((tmp_path / "imgs", "is a folder"), (tmp_path / "imgs" / "a.png", "is an image file"),
                            (tmp_path / "x.npy", "is a .npy array file")):
            out = tmp_path / ("o.png" if cmd == "show" or given.suffix == ".png" else "o")
            rc, _, err = cli([cmd, given, tmp_path / "k.json", "-o", out])
            assert rc == 1 and str(given) in err and what in err and "not a key file" in err, err
            assert "does not exist" not in err and "KEY INPUT" in err and not out.exists()


# =========================================================================== files and folders

@pytest.fixture()
def folder(tmp_path):
    rng = np.random.default_rng(1)
    d = tmp_path / "imgs"
    (d / "sub").mkdir(parents=True)
    for name in ["a.png", "b.png", "sub/c.png", "d.png"]:
        Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)).save(d / name)
    (tmp_path / "key.json").write_text(KEY8.to_json())
    return tmp_path


def test_a_bad_file_in_a_folder_means_no_output_at_all(folder):
    Image.fromarray(np.zeros((9, 8), np.uint8)).save(folder / "imgs" / "z_wrong_size.png")
    rc, _, err = cli(["encrypt", folder / "key.json", folder / "imgs", "-o", folder / "enc"])
    assert rc == 1 and "z_wrong_size.png" in err
    assert not (folder / "enc").exists() and leftovers(folder) == []


def test_a_mixed_size_folder_names_the_odd_file_and_both_sizes(folder):
    Image.fromarray(np.zeros((9, 8), np.uint8)).save(folder / "imgs" / "0_first_and_odd.png")
    for cmd in ("encrypt", "decrypt"):
        rc, _, err = cli([cmd, folder / "key.json", folder / "imgs", "-o", folder / "out"])
        assert rc == 1 and "0_first_and_odd.png" in err and "9x8" in err and "other 4 image(s) are 8x8" in err, err
        assert not (folder / "out").exists()
    from vortexnumba.cipher._files import transform_file

    with pytest.raises(ValueError, match=r"0_first_and_odd\.png' is 9x8.*8x8"):
        transform_file(folder / "imgs", folder / "out", KEY8)


def test_files_that_are_not_images_are_copied_unchanged(folder):
    (folder / "imgs" / "notes.txt").write_text("keep me")
    (folder / "imgs" / "sub" / "labels.csv").write_bytes(b"\x00\x01label")
    rc, _, err = cli(["encrypt", folder / "key.json", folder / "imgs", "-o", folder / "enc"])
    assert rc == 0 and "copied 2 file(s)" in err and "notes.txt" in err
    before, enc = _tree(folder / "imgs"), _tree(folder / "enc")
    assert enc.keys() == before.keys()
    assert enc["notes.txt"] == b"keep me" and enc["sub/labels.csv"] == b"\x00\x01label"
    assert all(enc[k] != before[k] for k in enc if k.endswith(".png"))
    assert cli(["decrypt", folder / "key.json", folder / "enc", "-o", folder / "dec"])[0] == 0
    dec = _tree(folder / "dec")
    assert dec.keys() == before.keys() and dec["notes.txt"] == b"keep me"
    assert all(np.array_equal(np.asarray(Image.open(folder / "dec" / k)), np.asarray(Image.open(folder / "imgs" / k)))
               for k in before if k.endswith(".png"))
    # in place: the folder's own other files are carried over, not a reason to refuse
    assert cli(["encrypt", folder / "key.json", folder / "imgs", "-o", folder / "imgs", "--force"])[0] == 0
    assert (folder / "imgs" / "notes.txt").read_text() == "keep me" and leftovers(folder) == []
    from vortexnumba.cipher._files import transform_file

    report = transform_file(folder / "enc", folder / "dec2", KEY8, inverse=True)
    assert report.images == 4 and report.files == 6 and any("notes.txt" in n for n in report.notes)


def test_in_place_with_force_is_whole_and_reversible(folder):
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


def test_force_never_replaces_a_folder_holding_other_files(folder):
    (folder / "mine").mkdir()
    (folder / "mine" / "notes.txt").write_text("keep")
    rc, _, err = cli(["encrypt", folder / "key.json", folder / "imgs", "-o", folder / "mine", "--force"])
    assert rc == 1 and "not images" in err and (folder / "mine" / "notes.txt").read_text() == "keep"
    rc, _, err = cli(["encrypt", folder / "key.json", folder / "imgs", "-o", folder / "imgs" / "sub" / "o"])
    assert rc == 1 and "inside the input" in err


def test_an_interrupted_run_leaves_nothing_under_the_target_name(folder, monkeypatch):
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


def test_a_killed_run_leaves_at_most_a_temporary_beside_the_target(folder):
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
                           "-o", str(folder / "enc")], env=env, capture_output=True)
    assert proc.returncode == 9
    assert not (folder / "enc").exists()
    left = leftovers(folder)
    assert len(left) == 1 and left[0].startswith(".enc.") and left[0].endswith(".tmp")
    # the rerun needs no --force and succeeds
    assert cli(["encrypt", folder / "key.json", folder / "imgs", "-o", folder / "enc"])[0] == 0


def test_a_file_written_onto_itself_is_whole(tmp_path):
    x = np.random.default_rng(3).integers(0, 256, (5, 8, 8), dtype=np.uint8)
    np.save(tmp_path / "x.npy", x)
    (tmp_path / "k.json").write_text(KEY8.to_json())
    assert cli(["encrypt", tmp_path / "k.json", tmp_path / "x.npy", "-o", tmp_path / "x.npy"])[0] == 1
    assert np.array_equal(np.load(tmp_path / "x.npy"), x)
    assert cli(["encrypt", tmp_path / "k.json", tmp_path / "x.npy", "-o", tmp_path / "x.npy", "--force"])[0] == 0
    assert np.array_equal(np.load(tmp_path / "x.npy"), vn.encrypt(x, KEY8))
    assert cli(["decrypt", tmp_path / "k.json", tmp_path / "x.npy", "-o", tmp_path / "x.npy", "--force"])[0] == 0
    assert np.array_equal(np.load(tmp_path / "x.npy"), x) and leftovers(tmp_path) == []


def _npz_by_hand(path: Path, members: dict, compressed: bool = False) -> None:
    """An .npz whose member names savez itself could not take as keywords."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED) as zf:
        for name, arr in members.items():
            with zf.open(f"{name}.npy", "w") as fh:
                np.lib.format.write_array(fh, arr)


@pytest.mark.parametrize("compressed", [False, True])
def test_npz_members_survive_whatever_their_names(tmp_path, compressed):
    rng = np.random.default_rng(4)
    members = {name: rng.integers(0, 256, (2, 8, 8), dtype=np.uint8)
               for name in ("file", "allow_pickle", "args", "kwds", "self", "x y", "dir/inner")}
    members["labels"] = np.arange(2)
    _npz_by_hand(tmp_path / "x.npz", members, compressed)
    (tmp_path / "k.json").write_text(KEY8.to_json())
    assert cli(["encrypt", tmp_path / "k.json", tmp_path / "x.npz", "-o", tmp_path / "enc.npz"])[0] == 0
    with np.load(tmp_path / "enc.npz") as z:
        assert set(z.files) == set(members) | {"vortexnumba_keys"}
        for name, arr in members.items():
            expected = arr if arr.ndim < 2 else vn.encrypt(arr, KEY8, channels=False)
            assert np.array_equal(z[name], expected), name
    with zipfile.ZipFile(tmp_path / "enc.npz") as zf:
        stored = {i.compress_type for i in zf.infolist()}
    assert stored == ({zipfile.ZIP_DEFLATED} if compressed else {zipfile.ZIP_STORED})
    assert cli(["decrypt", tmp_path / "k.json", tmp_path / "enc.npz", "-o", tmp_path / "dec.npz"])[0] == 0
    with np.load(tmp_path / "dec.npz") as z:
        assert set(z.files) == set(members)
        assert all(np.array_equal(z[n], a) for n, a in members.items())


def test_show_on_mixed_modes_names_the_file(tmp_path):
    d = tmp_path / "mixed"
    d.mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(d / "a.png")
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(d / "b.png")
    (tmp_path / "k.json").write_text(KEY8.to_json())
    rc, _, err = cli(["show", tmp_path / "k.json", d, "-o", tmp_path / "s.png"])
    assert rc == 1 and "b.png" in err and "colour mode" in err


# =========================================================================== the caller's data

def test_key_constructors_copy_the_callers_arrays():
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


# =========================================================================== the command line's wording

def test_the_cli_names_its_flags_not_python_arguments(tmp_path):
    (tmp_path / "k.json").write_text(KEY8.to_json())
    np.save(tmp_path / "amb.npy", np.zeros((8, 8, 8), np.uint8))  # one 8x8x8 image or 8 images of 8x8
    rc, _, err = cli(["encrypt", tmp_path / "k.json", tmp_path / "amb.npy", "-o", tmp_path / "o.npy"])
    assert rc == 1 and "--channels" in err and "--no-channels" in err and "channels=" not in err


def test_info_checks_the_swap_pixel_before_printing(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((8, 8), np.uint8))
    rc, out, err = cli(["info", tmp_path / "x.npy", "--swap", "999,0"])
    assert rc == 1 and out == "" and "--swap" in err


# =========================================================================== the contract's own examples

def test_the_input_contract_examples_run(tmp_path, monkeypatch):
    import re

    text = (Path(__file__).resolve().parents[1] / "docs" / "input.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 4
    monkeypatch.chdir(tmp_path)  # the examples write files
    for block in blocks:
        exec(compile(block, "docs/input.md", "exec"), {})
