"""The command line with the value-changing keys: keygen --scheme, encrypt/decrypt, show, audit, Dask."""

import numpy as np
import pytest
from PIL import Image

import vortexnumba as vn
from vortexnumba.cli import main

SCHEMES = ("le", "ele", "etc", "pe", "blockwise")


def _keygen(tmp_path, scheme, *extra, shape=("8", "8"), name=None):
    path = tmp_path / (name or f"{scheme}.json")
    assert main(["keygen", "--scheme", scheme, "--shape", *shape, "--seed", "3", "-o", str(path), *extra]) == 0
    return path


@pytest.mark.parametrize("scheme", SCHEMES)
def test_keygen_writes_the_seeded_key(tmp_path, scheme):
    path = _keygen(tmp_path, scheme, "--channels", "3", "--block", "2")
    key = vn.load_key(path)
    kw = {} if scheme == "pe" else {"block": 2}
    expected = {"le": vn.LEKey, "ele": vn.ELEKey, "etc": vn.EtCKey, "pe": vn.PEKey,
                "blockwise": vn.BlockwiseKey}[scheme].random((8, 8), channels=3, seed=3, **kw)
    assert key == expected


def test_keygen_blockwise_options_and_old_kind_flag(tmp_path):
    key = vn.load_key(_keygen(tmp_path, "blockwise", "--negate", "--keep-blocks"))
    assert key == vn.BlockwiseKey.random((8, 8), block=4, channels=1, negate=True, shuffle_blocks=False, seed=3)
    path = tmp_path / "old.json"
    assert main(["keygen", "--kind", "le", "--shape", "8", "8", "--seed", "3", "-o", str(path)]) == 0
    assert vn.load_key(path) == vn.LEKey.random((8, 8), seed=3)


def test_keygen_refuses_options_that_do_not_apply(tmp_path, capsys):
    for args in (["--scheme", "vortex", "--channels", "3"], ["--scheme", "le", "--negate"],
                 ["--scheme", "pe", "--mode", "paper"]):
        assert main(["keygen", "--shape", "8", "8", "-o", str(tmp_path / "k.json"), *args]) == 1
        assert "appl" in capsys.readouterr().err
    assert main(["keygen", "--scheme", "le", "--shape", "6", "8", "-o", str(tmp_path / "k.json")]) == 1
    assert "block = 4" in capsys.readouterr().err and not (tmp_path / "k.json").exists()


@pytest.mark.parametrize("scheme", SCHEMES)
def test_npy_and_png_round_trip(tmp_path, scheme):
    key_path = _keygen(tmp_path, scheme, "--channels", "3")
    key = vn.load_key(key_path)
    x = np.random.default_rng(0).integers(0, 256, (4, 8, 8, 3), dtype=np.uint8)
    np.save(tmp_path / "x.npy", x)
    assert main(["encrypt", str(key_path), str(tmp_path / "x.npy"), "-o", str(tmp_path / "y.npy")]) == 0
    assert np.array_equal(np.load(tmp_path / "y.npy"), vn.encrypt(x, key))
    assert main(["decrypt", str(key_path), str(tmp_path / "y.npy"), "-o", str(tmp_path / "z.npy")]) == 0
    assert np.array_equal(np.load(tmp_path / "z.npy"), x)
    Image.fromarray(x[0]).save(tmp_path / "x.png")
    assert main(["encrypt", str(key_path), str(tmp_path / "x.png"), "-o", str(tmp_path / "y.png")]) == 0
    assert main(["decrypt", str(key_path), str(tmp_path / "y.png"), "-o", str(tmp_path / "z.png")]) == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "z.png")), x[0])
    assert main(["show", str(key_path), str(tmp_path / "x.npy"), "-o", str(tmp_path / "show.png")]) == 0
    assert Image.open(tmp_path / "show.png").size[0] > 8


def test_npz_with_fingerprint_refuses_another_key(tmp_path, capsys):
    a = _keygen(tmp_path, "pe", "--channels", "3", name="a.json")
    path_b = tmp_path / "b.json"
    assert main(["keygen", "--scheme", "pe", "--channels", "3", "--shape", "8", "8", "--seed", "4",
                 "-o", str(path_b)]) == 0
    x = np.random.default_rng(0).integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)
    np.savez(tmp_path / "x.npz", images=x, labels=np.arange(2))
    assert main(["encrypt", str(a), str(tmp_path / "x.npz"), "-o", str(tmp_path / "y.npz")]) == 0
    assert main(["decrypt", str(path_b), str(tmp_path / "y.npz"), "-o", str(tmp_path / "z.npz")]) == 1
    assert "fingerprint" in capsys.readouterr().err
    assert main(["decrypt", str(a), str(tmp_path / "y.npz"), "-o", str(tmp_path / "z.npz")]) == 0
    assert np.array_equal(np.load(tmp_path / "z.npz")["images"], x)


def test_wrong_channels_and_float_le_are_refused_by_the_cli(tmp_path, capsys):
    key_path = _keygen(tmp_path, "le", "--channels", "3")
    np.save(tmp_path / "grey.npy", np.zeros((2, 8, 8), np.uint8))
    assert main(["encrypt", str(key_path), str(tmp_path / "grey.npy"), "-o", str(tmp_path / "y.npy")]) == 1
    assert "3-channel" in capsys.readouterr().err
    np.save(tmp_path / "f.npy", np.zeros((2, 8, 8, 3)))
    assert main(["encrypt", str(key_path), str(tmp_path / "f.npy"), "-o", str(tmp_path / "y.npy")]) == 1
    assert "float64" in capsys.readouterr().err


@pytest.mark.parametrize("scheme", ["le", "pe"])
def test_audit_command(tmp_path, capsys, scheme):
    key_path = _keygen(tmp_path, scheme)
    x = np.random.default_rng(0).integers(0, 256, (30, 8, 8), dtype=np.uint8)
    np.save(tmp_path / "d.npy", x)
    assert main(["audit", str(key_path), "--dataset", str(tmp_path / "d.npy"), "--n-images", "30"]) == 0
    out = capsys.readouterr().out
    assert "histogram unchanged" in out and "no" in out
    assert ("nibbles" if scheme == "le" else "elements") in out
    assert "exact" in out


def test_dask_and_transform_file_follow_the_engine(tmp_path):
    da = pytest.importorskip("dask.array")
    import vortexnumba.dask as vnd

    key = vn.EtCKey.random((8, 8), block=2, channels=3, seed=0)
    x = np.random.default_rng(0).integers(0, 256, (6, 8, 8, 3), dtype=np.uint8)
    y = vnd.encrypt(da.from_array(x, chunks=(2, 4, 8, 3)), key).compute()
    assert np.array_equal(y, vn.encrypt(x, key))
    assert np.array_equal(vnd.decrypt(da.from_array(y, chunks=(3, 8, 8, 3)), key).compute(), x)
    np.save(tmp_path / "x.npy", x)
    vn.transform_file(tmp_path / "x.npy", tmp_path / "y.npy", key)
    assert np.array_equal(np.load(tmp_path / "y.npy"), y)
    paper = vn.VortexKey.random((8, 8), mode="paper", seed=0)
    for call in (lambda: vn.decrypt(x, paper), lambda: vnd.decrypt(da.from_array(x), paper),
                 lambda: vn.transform_file(tmp_path / "x.npy", tmp_path / "z.npy", paper, inverse=True)):
        with pytest.raises(ValueError, match="cannot decrypt: its map is not a permutation"):
            call()
