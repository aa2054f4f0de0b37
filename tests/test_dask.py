"""Dask arrays and Zarr stores: results equal the in-memory engine bit for bit.

The cluster tests run a real dask.distributed LocalCluster with two worker
processes on 127.0.0.1, so every block crosses a process boundary.
"""

from pathlib import Path

import numpy as np
import pytest
from conftest import examples  # Hypothesis budgets scale with the profile (tests/conftest.py)
from hypothesis import given, settings
from hypothesis import strategies as st

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
zarr = pytest.importorskip("zarr")

import vortexnumba as vn  # noqa: E402
import vortexnumba.dask as vnd  # noqa: E402
from vortexnumba.cli import main  # noqa: E402


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, host="127.0.0.1")
    cl = distributed.Client(cluster, set_as_default=False)
    yield cl
    cl.close()
    cluster.close()


def _on_cluster(client, lazy):
    return client.compute(lazy).result()


def _same_bits(a, b):
    assert a.shape == b.shape and a.dtype == b.dtype
    return a.tobytes() == b.tobytes()


RNG = np.random.default_rng(20241125)
KEY = vn.VortexKey.random((12, 10), n_vortices=4, strength=0.8, seed=5)
PAPER_KEY = vn.VortexKey.random((12, 10), n_vortices=4, strength=0.8, mode="paper", seed=5)
RGB = RNG.integers(0, 256, (23, 12, 10, 3), dtype=np.uint8)


# ----------------------------------------------------------------------------- Dask arrays on the cluster

@pytest.mark.parametrize("chunks", [(5, 12, 10, 3), (4, 6, 10, 3), (23, 12, 5, 1), (1, 7, 3, 2)])
def test_encrypt_decrypt_on_the_cluster_match_numpy(client, chunks):
    x = da.from_array(RGB, chunks=chunks)
    enc = vnd.encrypt(x, KEY)
    assert enc.chunks[1:] == ((12,), (10,), (3,))  # whole images in every block
    got = _on_cluster(client, enc)
    want = vn.encrypt(RGB, KEY)
    assert _same_bits(got, want)
    assert not np.array_equal(got, RGB)
    assert _same_bits(_on_cluster(client, vnd.decrypt(enc, KEY)), RGB)


def test_odd_dtypes_move_bit_for_bit_on_the_cluster(client):
    floats = RNG.standard_normal((9, 12, 10)).astype(np.float64)
    floats[0, 0, 0] = -0.0
    ints = RNG.integers(-30000, 30000, (9, 12, 10), dtype=np.int16)
    for arr in (floats, ints, floats.astype(np.float16), ints > 0):
        got = _on_cluster(client, vnd.encrypt(da.from_array(arr, chunks=(2, 5, 10)), KEY))
        assert _same_bits(got, vn.encrypt(arr, KEY, channels=False))


def test_retention_and_loss_on_the_cluster_match_numpy(client):
    x = da.from_array(RGB, chunks=(4, 6, 10, 3))
    for key in (KEY, PAPER_KEY):
        rho = _on_cluster(client, vnd.retention(x, key.src))
        assert _same_bits(rho, vn.retention(RGB, key.src))
        loss = _on_cluster(client, vnd.information_loss(x, key.src))
        assert _same_bits(loss, vn.information_loss(RGB, key.src))
    assert (rho < 1).all() and (rho > 0).all()  # a paper-mode vortex loses information


def test_per_image_maps_on_the_cluster_match_numpy(client):
    gray = RGB[..., 0].astype(np.float32) / 255
    _, src = vn.shuffle_each(gray, seed=3, return_src=True)
    kernel, coupling = vn.Kernel.gaussian(1.5, 2.0), vn.Coupling.constant()
    want = vn.retention(gray, src, kernel, coupling)
    x = da.from_array(gray, chunks=(6, 12, 5))
    for src_arg in (src, da.from_array(src, chunks=(10, 60))):
        got = _on_cluster(client, vnd.retention(x, src_arg, kernel, coupling))
        assert _same_bits(got, want)


def test_single_image_blocks_of_large_images_match_the_whole_batch(client):
    # Above 8192 pixels the in-memory code tiles each image; blocks of one
    # image must still give the bits of the whole-batch call.
    big = RNG.integers(0, 256, (3, 100, 100), dtype=np.uint8)
    key = vn.PermutationKey.random((100, 100), seed=1)
    got = _on_cluster(client, vnd.retention(da.from_array(big, chunks=(1, 50, 100)), key.src))
    assert _same_bits(got, vn.retention(big, key.src))


# ----------------------------------------------------------------------------- properties (threaded scheduler)

@settings(max_examples=examples(15))
@given(
    batch=st.integers(1, 9),
    cb=st.integers(1, 9), ch=st.integers(1, 12), cw=st.integers(1, 10), cc=st.integers(1, 3),
    colour=st.booleans(),
    dtype=st.sampled_from(["uint8", "float32", "int64"]),
)
def test_any_chunking_gives_the_in_memory_bits(batch, cb, ch, cw, cc, colour, dtype):
    data = RGB[:batch] if colour else RGB[:batch, ..., 0]
    data = data.astype(dtype)
    chunks = (cb, ch, cw, cc)[: data.ndim]
    x = da.from_array(data, chunks=chunks)
    channels = None if colour else False
    enc = vnd.encrypt(x, KEY).compute(scheduler="threads")
    assert _same_bits(enc, vn.encrypt(data, KEY, channels=channels))
    assert _same_bits(vnd.decrypt(da.from_array(enc, chunks=chunks), KEY).compute(scheduler="threads"), data)
    if dtype != "int64":
        rho = vnd.retention(x, PAPER_KEY.src).compute(scheduler="threads")
        want = vn.retention(data, PAPER_KEY.src, channels=channels)
        assert _same_bits(rho, np.atleast_1d(want))


# ----------------------------------------------------------------------------- rechunking and bad input

def test_rechunk_batch_only_touches_split_images():
    whole = da.from_array(RGB, chunks=(5, 12, 10, 3))
    assert vnd.rechunk_batch(whole) is whole
    split = da.from_array(RGB, chunks=(5, 6, 10, 3))
    fixed = vnd.rechunk_batch(split)
    assert fixed.chunks[1:] == ((12,), (10,), (3,))
    assert _same_bits(fixed.compute(scheduler="sync"), RGB)


def test_bad_input_is_refused_with_clear_errors():
    x = da.from_array(RGB, chunks=(5, 12, 10, 3))
    with pytest.raises(TypeError, match="must be a Dask array.*numpy.ndarray"):
        vnd.encrypt(RGB, KEY)
    with pytest.raises(ValueError, match=r"\(B, H, W\).*got shape \(12, 10\)"):
        vnd.encrypt(x[0, ..., 0], KEY)
    with pytest.raises(ValueError, match="key's grid 10x12"):
        vnd.encrypt(x, vn.PermutationKey.random((10, 12), seed=0))
    with pytest.raises(ValueError, match="cannot decrypt"):
        vnd.decrypt(x, PAPER_KEY)
    with pytest.raises(TypeError, match="key must be"):
        vnd.encrypt(x, KEY.src)
    with pytest.raises(TypeError, match="real numeric"):
        vnd.encrypt(x.astype(np.complex64), KEY)
    with pytest.raises(TypeError, match="uint8.*float.*got dtype uint16"):
        vnd.retention(x.astype(np.uint16), KEY.src)
    with pytest.raises(ValueError, match="expected N = 120"):
        vnd.retention(x, np.arange(119))
    with pytest.raises(ValueError, match=r"src as a Dask array must have shape \(B, N\) = \(23, 120\)"):
        vnd.retention(x, da.zeros((22, 120), dtype=int))
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        vnd.encrypt(x[x[:, 0, 0, 0] > 100], KEY)
    with pytest.raises(ValueError, match="must not be empty"):
        vnd.encrypt(x[:0], KEY)


def test_non_finite_floats_fail_when_computed():
    bad = RGB[:4, ..., 0].astype(np.float64)
    bad[2, 3, 3] = np.nan
    lazy = vnd.encrypt(da.from_array(bad, chunks=(2, 12, 10)), KEY)
    with pytest.raises(ValueError, match="finite"):
        lazy.compute(scheduler="sync")


# ----------------------------------------------------------------------------- Zarr stores from the command line

@pytest.fixture()
def store(tmp_path):
    zarr.create_array(str(tmp_path / "data.zarr"), data=RGB, chunks=(4, 6, 10, 3), attributes={"source": "test"})
    key_path = tmp_path / "key.json"
    key_path.write_text(KEY.to_json())
    return tmp_path


def _leftovers(folder: Path):
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


def test_zarr_round_trip_from_the_command_line(store, capsys):
    enc, dec = store / "enc.zarr", store / "dec.zarr"
    assert main(["encrypt", str(store / "key.json"), str(store / "data.zarr"), "-o", str(enc)]) == 0
    out = zarr.open_array(str(enc), mode="r")
    assert out.chunks == (4, 6, 10, 3)
    assert out.attrs.asdict() == {"source": "test", "vortexnumba_keys": [KEY.fingerprint]}
    assert out.compressors == zarr.open_array(str(store / "data.zarr"), mode="r").compressors
    assert _same_bits(out[:], vn.encrypt(RGB, KEY))
    assert main(["decrypt", str(store / "key.json"), str(enc), "-o", str(dec)]) == 0
    assert _same_bits(zarr.open_array(str(dec), mode="r")[:], RGB)
    assert "encrypted" in capsys.readouterr().err
    assert _leftovers(store) == []


def test_zarr_on_the_cluster_from_the_command_line(store, client):
    address = client.scheduler.address
    enc = store / "enc.zarr"
    argv = ["encrypt", str(store / "key.json"), str(store / "data.zarr"), "-o", str(enc), "--scheduler", address]
    assert main(argv) == 0
    assert _same_bits(zarr.open_array(str(enc), mode="r")[:], vn.encrypt(RGB, KEY))
    assert main(["decrypt", str(store / "key.json"), str(enc), "-o", str(store / "dec.zarr"),
                 "--scheduler", address]) == 0
    assert _same_bits(zarr.open_array(str(store / "dec.zarr"), mode="r")[:], RGB)


def test_zarr_groups_transform_images_and_copy_labels(tmp_path):
    group = zarr.create_group(str(tmp_path / "set.zarr"), attributes={"name": "set"})
    group.create_array("train", data=RGB[..., 1], chunks=(5, 12, 10))
    nested = group.create_group("meta", attributes={"kind": "labels"})
    nested.create_array("labels", data=np.arange(23, dtype=np.int16), chunks=(8,))
    (tmp_path / "key.json").write_text(KEY.to_json())
    assert main(["encrypt", str(tmp_path / "key.json"), str(tmp_path / "set.zarr"), "-o",
                 str(tmp_path / "enc.zarr")]) == 0
    out = zarr.open_group(str(tmp_path / "enc.zarr"), mode="r")
    assert out.attrs.asdict() == {"name": "set", "vortexnumba_keys": [KEY.fingerprint]}
    assert out["meta"].attrs.asdict() == {"kind": "labels"}
    assert _same_bits(out["train"][:], vn.encrypt(RGB[..., 1], KEY, channels=False))
    assert _same_bits(out["meta/labels"][:], np.arange(23, dtype=np.int16))


def test_zarr_output_is_never_overwritten_without_force(store, capsys):
    key, data, enc = str(store / "key.json"), str(store / "data.zarr"), store / "enc.zarr"
    zarr.create_array(str(enc), data=np.zeros((2, 12, 10), dtype=np.uint8))
    before = sorted(p.relative_to(enc) for p in enc.rglob("*"))
    assert main(["encrypt", key, data, "-o", str(enc)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert sorted(p.relative_to(enc) for p in enc.rglob("*")) == before
    assert zarr.open_array(str(enc), mode="r").shape == (2, 12, 10)
    assert main(["encrypt", key, data, "-o", str(enc), "--force"]) == 0
    assert _same_bits(zarr.open_array(str(enc), mode="r")[:], vn.encrypt(RGB, KEY))
    # --force never deletes a folder that is not a Zarr store, nor the input itself
    plain = store / "notes.zarr"
    plain.mkdir()
    (plain / "keep.txt").write_text("mine")
    assert main(["encrypt", key, data, "-o", str(plain), "--force"]) == 1
    assert "not a Zarr store" in capsys.readouterr().err
    assert (plain / "keep.txt").read_text() == "mine"
    assert main(["encrypt", key, data, "-o", data, "--force"]) == 1
    assert "is the input" in capsys.readouterr().err
    assert main(["encrypt", key, data, "-o", str(store / "enc.npy")]) == 1
    assert "must end in '.zarr'" in capsys.readouterr().err
    assert _leftovers(store) == []


def test_scheduler_is_refused_for_other_inputs(tmp_path, capsys):
    np.save(tmp_path / "x.npy", RGB)
    (tmp_path / "key.json").write_text(KEY.to_json())
    assert main(["encrypt", str(tmp_path / "key.json"), str(tmp_path / "x.npy"), "-o", str(tmp_path / "y.npy"),
                 "--scheduler", "tcp://127.0.0.1:1"]) == 1
    assert "--scheduler applies to Zarr stores only" in capsys.readouterr().err
    assert not (tmp_path / "y.npy").exists()


def test_a_failing_slab_leaves_no_output(tmp_path, capsys):
    floats = RGB[..., 0].astype(np.float32)
    floats[17, 2, 2] = np.inf
    zarr.create_array(str(tmp_path / "f.zarr"), data=floats, chunks=(4, 12, 10))
    (tmp_path / "key.json").write_text(KEY.to_json())
    assert main(["encrypt", str(tmp_path / "key.json"), str(tmp_path / "f.zarr"), "-o",
                 str(tmp_path / "g.zarr")]) == 1
    err = capsys.readouterr().err
    assert "f.zarr[0:23]" in err and "finite" in err  # names the slab that failed
    assert not (tmp_path / "g.zarr").exists()
    assert _leftovers(tmp_path) == []


def test_encrypt_zarr_writes_in_slabs_and_reports_progress(store, capsys):
    n = vnd.encrypt_zarr(store / "data.zarr", store / "enc.zarr", KEY, progress=True)
    assert n == 23
    err = capsys.readouterr().err
    assert "encrypt data.zarr" in err and "23/23" in err
    assert _same_bits(zarr.open_array(str(store / "enc.zarr"), mode="r")[:], vn.encrypt(RGB, KEY))
    # the smallest slabs (one row of chunks) give the same bytes
    from vortexnumba.dask import _zarr as _dask_zarr

    arr = zarr.open_array(str(store / "data.zarr"), mode="r")
    assert _dask_zarr.row_slabs(arr, 1) == [(s, min(s + 4, 23)) for s in range(0, 23, 4)]
    assert _dask_zarr.row_slabs(arr, 2 * 4 * 360) == [(0, 8), (8, 16), (16, 23)]
    _dask_zarr.transform_zarr(store / "data.zarr", store / "enc2.zarr", KEY, progress=False, slab_bytes=1)
    assert _same_bits(zarr.open_array(str(store / "enc2.zarr"), mode="r")[:], vn.encrypt(RGB, KEY))
    assert _leftovers(store) == []


def test_zarr_records_the_key_and_refuses_another(store, capsys):
    enc = store / "enc.zarr"
    vnd.encrypt_zarr(store / "data.zarr", enc, KEY, progress=False)
    out = zarr.open_array(str(enc), mode="r")
    assert out.attrs["vortexnumba_keys"] == [KEY.fingerprint]
    other = vn.VortexKey.random((12, 10), n_vortices=4, seed=6)
    with pytest.raises(ValueError, match="fingerprint"):
        vnd.decrypt_zarr(enc, store / "dec.zarr", other, progress=False)
    assert not (store / "dec.zarr").exists()
    vnd.decrypt_zarr(enc, store / "dec.zarr", KEY, progress=False)
    back = zarr.open_array(str(store / "dec.zarr"), mode="r")
    assert "vortexnumba_keys" not in back.attrs and back.attrs.asdict() == {"source": "test"}
    assert _same_bits(back[:], RGB)


def test_replacing_a_store_never_leaves_the_target_missing(store, monkeypatch):
    """With force the new store is swapped in whole: an observer never finds the target absent."""
    from vortexnumba.io import _files

    enc = store / "enc.zarr"
    vnd.encrypt_zarr(store / "data.zarr", enc, KEY, progress=False)
    seen = []
    real = _files.replace_folder

    def spy(new, target):
        seen.append(Path(target).exists())
        real(new, target)
        seen.append(Path(target).exists())

    monkeypatch.setattr(_files, "replace_folder", spy)
    vnd.encrypt_zarr(store / "data.zarr", enc, PAPER_KEY, force=True, progress=False)
    assert seen == [True, True]
    assert _same_bits(zarr.open_array(str(enc), mode="r")[:], vn.encrypt(RGB, PAPER_KEY))
    assert _leftovers(store) == []


def test_library_speaks_python_and_never_prints(store, capsys):
    zarr.create_array(str(store / "other.zarr"), data=np.zeros((2, 12, 10), np.uint8))
    with pytest.raises(FileExistsError, match="force=True"):
        vnd.encrypt_zarr(store / "data.zarr", store / "other.zarr", KEY, progress=False)
    notes = []
    group = zarr.create_group(str(store / "g.zarr"))
    group.create_array("labels", data=np.arange(5))
    group.create_array("x", data=RGB[:5], chunks=(2, 12, 10, 3))
    vnd.encrypt_zarr(store / "g.zarr", store / "h.zarr", KEY, progress=False, notes=notes)
    assert len(notes) == 1 and "labels" in notes[0]
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_missing_optional_packages_give_an_install_hint(monkeypatch, store, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "dask.array", None)  # makes "import dask.array" fail
    monkeypatch.setitem(sys.modules, "zarr", None)
    with pytest.raises(ImportError, match=r"vortexnumba\[dask\]"):
        vnd.encrypt(RGB, KEY)
    assert main(["encrypt", str(store / "key.json"), str(store / "data.zarr"), "-o", str(store / "e.zarr")]) == 1
    assert "pip install 'vortexnumba[dask]'" in capsys.readouterr().err
    assert not (store / "e.zarr").exists()
