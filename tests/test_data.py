"""Data loaders and the verified downloader, on small files written here."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import io
import os
import pickle
import struct
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest

from vortexnumba import data
from vortexnumba.cli import main as cli_main

IDX_NAMES = {
    "train_x": "train-images-idx3-ubyte",
    "train_y": "train-labels-idx1-ubyte",
    "test_x": "t10k-images-idx3-ubyte",
    "test_y": "t10k-labels-idx1-ubyte",
}


def idx_bytes(arr: np.ndarray) -> bytes:
    arr = np.asarray(arr, dtype=np.uint8)
    return struct.pack(">HBB", 0, 8, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


def small_idx_set(rng, n_train=7, n_test=3, h=5, w=4):
    return (
        rng.integers(0, 256, (n_train, h, w), dtype=np.uint8),
        rng.integers(0, 10, n_train, dtype=np.uint8),
        rng.integers(0, 256, (n_test, h, w), dtype=np.uint8),
        rng.integers(0, 10, n_test, dtype=np.uint8),
    )


def write_idx_set(directory: Path, arrays, *, compress=False, dotted=False):
    directory.mkdir(parents=True, exist_ok=True)
    for key, arr in zip(("train_x", "train_y", "test_x", "test_y"), arrays):
        name = IDX_NAMES[key].replace("-idx", ".idx") if dotted else IDX_NAMES[key]
        payload = idx_bytes(arr)
        if compress:
            (directory / (name + ".gz")).write_bytes(gzip.compress(payload))
        else:
            (directory / name).write_bytes(payload)


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No system data, an empty home cache and no environment variable."""
    monkeypatch.setattr(data._loaders, "SYSTEM_DATA_ROOT", tmp_path / "system")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    return tmp_path


# --------------------------------------------------------------------------- digits


def test_digits_rescaling_and_split():
    from sklearn.datasets import load_digits

    tx, ty, vx, vy = data.load("digits")
    assert tx.dtype == vx.dtype == ty.dtype == np.uint8
    assert tx.shape == (1438, 8, 8) and vx.shape == (359, 8, 8)
    raw = load_digits()
    # Every image is one of sklearn's, rescaled by (255 v + 8) // 16; together they are all of them once.
    expected = ((255 * raw.images.astype(np.int64) + 8) // 16).astype(np.uint8)
    ours = np.concatenate([tx, vx]).reshape(len(expected), -1)
    order = np.lexsort(ours.T[::-1])
    ref_order = np.lexsort(expected.reshape(len(expected), -1).T[::-1])
    np.testing.assert_array_equal(ours[order], expected.reshape(len(expected), -1)[ref_order])
    np.testing.assert_array_equal(np.bincount(np.concatenate([ty, vy]), minlength=10),
                                  np.bincount(raw.target, minlength=10))
    assert {0, 128, 255} <= set(np.unique(ours).tolist()) <= set(((255 * np.arange(17) + 8) // 16).tolist())
    # The split is fixed: same arrays on a second call.
    again = data.load("digits")
    for a, b in zip((tx, ty, vx, vy), again):
        np.testing.assert_array_equal(a, b)


def test_bad_name():
    with pytest.raises(ValueError, match="name must be one of"):
        data.load("imagenet")
    with pytest.raises(TypeError, match="name must be a str"):
        data.load(3)


# --------------------------------------------------------------------------- IDX


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("dotted", [False, True])
def test_idx_roundtrip(isolated, compress, dotted):
    arrays = small_idx_set(np.random.default_rng(1))
    write_idx_set(isolated / "d", arrays, compress=compress, dotted=dotted)
    got = data.load("mnist", data_dir=isolated / "d")
    for a, b in zip(arrays, got):
        assert b.dtype == np.uint8
        np.testing.assert_array_equal(a, b)


def test_search_order(isolated, monkeypatch):
    rng = np.random.default_rng(2)
    sets = {where: small_idx_set(rng) for where in ("arg", "env", "system", "cache")}
    write_idx_set(isolated / "arg" / "fashion-mnist", sets["arg"])  # a <name> sub-folder also works
    write_idx_set(isolated / "env", sets["env"], compress=True)
    write_idx_set(isolated / "system" / "fashion-mnist", sets["system"])
    write_idx_set(isolated / "home" / ".cache" / "vortexnumba" / "fashion-mnist", sets["cache"])
    monkeypatch.setenv(data.DATA_ENV, str(isolated / "env"))

    def first_train(**kw):
        return data.load("fashion-mnist", **kw)[0]

    np.testing.assert_array_equal(first_train(data_dir=isolated / "arg"), sets["arg"][0])
    np.testing.assert_array_equal(first_train(), sets["env"][0])
    monkeypatch.delenv(data.DATA_ENV)
    np.testing.assert_array_equal(first_train(), sets["system"][0])
    for f in (isolated / "system" / "fashion-mnist").iterdir():
        f.unlink()
    np.testing.assert_array_equal(first_train(), sets["cache"][0])


def test_missing_data_message(isolated):
    with pytest.raises(FileNotFoundError) as info:
        data.load("fashion-mnist", data_dir=isolated / "nowhere")
    msg = str(info.value)
    for place in (isolated / "nowhere", isolated / "system" / "fashion-mnist",
                  isolated / "home" / ".cache" / "vortexnumba" / "fashion-mnist"):
        assert str(place) in msg
    assert "apt-get install dataset-fashion-mnist" in msg
    assert "vortexnumba download fashion-mnist" in msg

    partial = isolated / "partial"
    write_idx_set(partial, small_idx_set(np.random.default_rng(3)))
    (partial / IDX_NAMES["test_y"]).unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte") as info:
        data.load("mnist", data_dir=partial)
    assert "apt-get" not in str(info.value)  # only Fashion-MNIST has a Debian package


def _broken_set(tmp, mutate):
    d = tmp / "broken"
    write_idx_set(d, small_idx_set(np.random.default_rng(4)))
    mutate(d)
    return d


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: (d / IDX_NAMES["train_x"]).write_bytes((d / IDX_NAMES["train_x"]).read_bytes()[:-5]), "truncated"),
        (lambda d: (d / IDX_NAMES["train_x"]).write_bytes((d / IDX_NAMES["train_x"]).read_bytes() + b"x"), "trailing"),
        (lambda d: (d / IDX_NAMES["train_y"]).write_bytes(b"\x00\x00\x08"), "only 3 bytes"),
        (lambda d: (d / IDX_NAMES["train_y"]).write_bytes(b"\x00\x00\x08\x01\x00"), "truncated IDX header"),
        (lambda d: (d / IDX_NAMES["test_x"]).write_bytes(b"PK\x03\x04" + bytes(40)), "not an unsigned-byte IDX"),
        (lambda d: (d / IDX_NAMES["test_y"]).write_bytes(idx_bytes(np.zeros((3, 2), np.uint8))), "2 dimension"),
        (lambda d: (d / IDX_NAMES["test_y"]).write_bytes(idx_bytes(np.zeros(4, np.uint8))), "holds 3 images but"),
    ],
)
def test_malformed_idx(isolated, mutate, message):
    d = _broken_set(isolated, mutate)
    with pytest.raises(ValueError, match=message):
        data.load("mnist", data_dir=d)


def test_truncated_gzip(isolated):
    d = isolated / "gz"
    write_idx_set(d, small_idx_set(np.random.default_rng(5)), compress=True)
    p = d / (IDX_NAMES["train_x"] + ".gz")
    p.write_bytes(p.read_bytes()[:-12])
    with pytest.raises(ValueError, match="damaged or truncated gzip"):
        data.load("mnist", data_dir=d)


@pytest.mark.skipif(not Path("/usr/share/datasets/fashion-mnist").is_dir(),
                    reason="Debian's dataset-fashion-mnist not installed")
def test_debian_fashion_mnist():
    tx, ty, vx, vy = data.load("fashion-mnist")
    assert tx.shape == (60000, 28, 28) and vx.shape == (10000, 28, 28)
    np.testing.assert_array_equal(np.bincount(ty), np.full(10, 6000))
    np.testing.assert_array_equal(np.bincount(vy), np.full(10, 1000))


# --------------------------------------------------------------------------- CIFAR-10


def cifar_batch(rng, n):
    x = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    y = rng.integers(0, 10, n).tolist()
    return {b"batch_label": b"x", b"labels": y, b"data": x, b"filenames": [b"f"] * n}, x, np.array(y)


def write_cifar(directory: Path, rng, *, archive=False):
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    blobs, xs, ys = {}, [], []
    for i, name in enumerate(names):
        batch, x, y = cifar_batch(rng, 2 + i % 2)
        blobs[name] = pickle.dumps(batch, protocol=2)
        xs.append(x)
        ys.append(y)
    directory.mkdir(parents=True, exist_ok=True)
    if archive:
        with tarfile.open(directory / "cifar-10-python.tar.gz", "w:gz") as tar:
            for name, blob in blobs.items():
                info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
                info.size = len(blob)
                tar.addfile(info, io.BytesIO(blob))
    else:
        sub = directory / "cifar-10-batches-py"
        sub.mkdir()
        for name, blob in blobs.items():
            (sub / name).write_bytes(blob)
    return xs, ys


@pytest.mark.parametrize("archive", [False, True])
def test_cifar10(isolated, archive):
    xs, ys = write_cifar(isolated / "c", np.random.default_rng(6), archive=archive)
    tx, ty, vx, vy = data.load("cifar10", data_dir=isolated / "c")
    assert tx.shape == (sum(len(x) for x in xs[:5]), 32, 32, 3) and vx.shape == (len(xs[5]), 32, 32, 3)
    assert tx.dtype == np.uint8 and ty.dtype == np.uint8
    raw = np.concatenate(xs[:5])
    # Row layout: 1024 red values, then green, then blue, each plane row-major.
    np.testing.assert_array_equal(tx[:, 0, 0, 0], raw[:, 0])
    np.testing.assert_array_equal(tx[:, 0, 1, 1], raw[:, 1024 + 1])
    np.testing.assert_array_equal(tx[:, 1, 0, 2], raw[:, 2048 + 32])
    np.testing.assert_array_equal(ty, np.concatenate(ys[:5]))
    np.testing.assert_array_equal(vy, ys[5])


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo owned",))


def test_cifar10_refuses_code_and_bad_batches(isolated):
    d = isolated / "c"
    write_cifar(d, np.random.default_rng(7))
    target = d / "cifar-10-batches-py" / "data_batch_3"
    target.write_bytes(pickle.dumps({b"data": _Evil(), b"labels": [1]}))
    with pytest.raises(ValueError, match="refusing to load"):
        data.load("cifar10", data_dir=d)
    target.write_bytes(pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [1, 2]}))
    with pytest.raises(ValueError, match=r"shape \(n, 3072\)"):
        data.load("cifar10", data_dir=d)
    target.write_bytes(pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [1, 12]}))
    with pytest.raises(ValueError, match="0..9"):
        data.load("cifar10", data_dir=d)
    target.write_bytes(b"\x80\x02}q\x00(X")  # cut-off pickle
    with pytest.raises(ValueError, match="not a readable CIFAR-10"):
        data.load("cifar10", data_dir=d)


def test_cifar10_truncated_archive(isolated):
    d = isolated / "c"
    write_cifar(d, np.random.default_rng(8), archive=True)
    p = d / "cifar-10-python.tar.gz"
    p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2])
    with pytest.raises(ValueError, match="damaged or truncated archive"):
        data.load("cifar10", data_dir=d)


def test_cifar10_missing(isolated):
    with pytest.raises(FileNotFoundError, match="cifar-10-python.tar.gz") as info:
        data.load("cifar10")
    assert "vortexnumba download cifar10" in str(info.value)


# --------------------------------------------------------------------------- download


@pytest.fixture
def server(tmp_path):
    """A local HTTP server on 127.0.0.1 serving tmp_path/www."""
    root = tmp_path / "www"
    root.mkdir()
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def _serve_mnist(root: Path):
    arrays = small_idx_set(np.random.default_rng(9))
    write_idx_set(root, arrays, compress=True)
    digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in root.iterdir()}
    return arrays, digests


def test_download_verifies_and_loads(server, isolated):
    root, url = server
    arrays, digests = _serve_mnist(root)
    cache = isolated / "home" / ".cache" / "vortexnumba" / "mnist"
    paths = data.download("mnist", url_base=url, digests=digests)
    assert sorted(p.name for p in paths) == sorted(digests)
    for p in paths:
        assert p.parent == cache and p.read_bytes() == (root / p.name).read_bytes()
    for a, b in zip(arrays, data.load("mnist")):  # found in the cache
        np.testing.assert_array_equal(a, b)
    # Present with the right digest: kept, nothing fetched (the server may be gone).
    assert data.download("mnist", url_base="http://127.0.0.1:9/", digests=digests) == paths


def test_download_cache_honours_xdg_cache_home(server, isolated, monkeypatch):
    root, url = server
    arrays, digests = _serve_mnist(root)
    monkeypatch.setenv("XDG_CACHE_HOME", str(isolated / "xdg"))
    paths = data.download("mnist", url_base=url, digests=digests)
    assert {p.parent for p in paths} == {isolated / "xdg" / "vortexnumba" / "mnist"}
    assert data.search_dirs("mnist")[-1] == isolated / "xdg" / "vortexnumba" / "mnist"
    for a, b in zip(arrays, data.load("mnist")):  # found in that cache
        np.testing.assert_array_equal(a, b)


def test_download_refuses_wrong_digest(server, isolated):
    root, url = server
    _, digests = _serve_mnist(root)
    bad = dict(digests)
    name = "train-images-idx3-ubyte.gz"
    bad[name] = "0" * 64
    cache = isolated / "dl"
    with pytest.raises(ValueError, match=f"refusing {url}{name}: its SHA-256 is {digests[name]}"):
        data.download("mnist", cache_dir=cache, url_base=url, digests=bad)
    assert not (cache / name).exists()
    assert not any(p.name.endswith(".tmp") for p in cache.iterdir())  # no partial files left behind

    # An existing file with the wrong digest is kept unless force.
    (cache / name).write_bytes(b"not the file")
    with pytest.raises(ValueError, match="exists but its SHA-256"):
        data.download("mnist", cache_dir=cache, url_base=url, digests=digests)
    assert (cache / name).read_bytes() == b"not the file"
    data.download("mnist", cache_dir=cache, url_base=url, digests=digests, force=True)
    assert (cache / name).read_bytes() == (root / name).read_bytes()


def test_download_errors(server, isolated):
    root, url = server
    with pytest.raises(OSError, match="could not fetch"):
        data.download("mnist", cache_dir=isolated / "dl", url_base=url, digests={"absent.gz": "0" * 64})
    with pytest.raises(ValueError, match="nothing to download"):
        data.download("digits")


def test_cli_download_checks_official_digests(server, isolated, capsys):
    root, url = server
    _serve_mnist(root)  # our small files: their digests are not the official ones
    code = cli_main(["download", "mnist", "--url-base", url, "--cache-dir", str(isolated / "dl")])
    assert code == 1
    err = capsys.readouterr().err
    assert "vortexnumba download: error: refusing" in err
    assert f"expected {data.OFFICIAL_SHA256['mnist']['train-images-idx3-ubyte.gz']}" in err
    assert list((isolated / "dl").iterdir()) == []


def test_official_digest_table_is_well_formed():
    assert set(data.OFFICIAL_SHA256) == {"fashion-mnist", "mnist", "cifar10"}
    for name in ("fashion-mnist", "mnist"):
        assert set(data.OFFICIAL_SHA256[name]) == {stem + ".gz" for stem in IDX_NAMES.values()}
    for table in data.OFFICIAL_SHA256.values():
        for digest in table.values():
            assert len(digest) == 64 and int(digest, 16) >= 0
    # The four Fashion-MNIST digests are distinct from each other and from MNIST's.
    all_digests = [d for t in data.OFFICIAL_SHA256.values() for d in t.values()]
    assert len(set(all_digests)) == len(all_digests)
