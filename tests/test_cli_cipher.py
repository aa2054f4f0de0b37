"""The cipher's command line: keygen, encrypt/decrypt of every input kind, show, refusals."""

import numpy as np
from PIL import Image

import vortexnumba as vn
from vortexnumba.cli import main


def _keygen(tmp_path, *extra, name="key.json"):
    path = tmp_path / name
    assert main(["keygen", "--shape", "8", "6", "--seed", "3", "-o", str(path), *extra]) == 0
    return path


def test_keygen_writes_the_seeded_key(tmp_path):
    path = _keygen(tmp_path, "--vortices", "4", "--strength", "1.5", "--seed", "4")
    key = vn.key_from_json(path.read_text())
    assert key == vn.VortexKey.random((8, 6), n_vortices=4, strength=1.5, seed=4)
    paper = _keygen(tmp_path, "--mode", "paper", name="paper.json")
    assert vn.key_from_json(paper.read_text()).mode == "paper"
    perm = _keygen(tmp_path, "--kind", "permutation", name="perm.json")
    assert vn.key_from_json(perm.read_text()) == vn.PermutationKey.random((8, 6), seed=3)
    block = _keygen(tmp_path, "--kind", "block", "--block", "2", name="block.json")
    assert vn.key_from_json(block.read_text()) == vn.BlockKey.random((8, 6), block=2, seed=3)


def test_nothing_is_overwritten_without_force(tmp_path, capsys):
    path = _keygen(tmp_path)
    before = path.read_text()
    assert main(["keygen", "--shape", "8", "6", "--seed", "4", "-o", str(path)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert path.read_text() == before
    assert main(["keygen", "--shape", "8", "6", "--seed", "4", "-o", str(path), "--force"]) == 0
    assert path.read_text() != before


def test_npy_round_trip(tmp_path):
    key_path = _keygen(tmp_path)
    key = vn.key_from_json(key_path.read_text())
    x = np.random.default_rng(0).integers(0, 255, (5, 8, 6), dtype=np.uint8)
    np.save(tmp_path / "x.npy", x)
    assert main(["encrypt", str(key_path), str(tmp_path / "x.npy"), "-o", str(tmp_path / "y.npy")]) == 0
    y = np.load(tmp_path / "y.npy")
    assert np.array_equal(y, vn.encrypt(x, key))
    assert main(["decrypt", str(key_path), str(tmp_path / "y.npy"), "-o", str(tmp_path / "z.npy")]) == 0
    assert np.array_equal(np.load(tmp_path / "z.npy"), x)
    # refuses to overwrite, leaves the file as it was
    assert main(["encrypt", str(key_path), str(tmp_path / "x.npy"), "-o", str(tmp_path / "z.npy")]) == 1
    assert np.array_equal(np.load(tmp_path / "z.npy"), x)


def test_large_npy_goes_in_chunks(tmp_path, monkeypatch):
    import vortexnumba.cipher._files as files

    monkeypatch.setattr(files, "CHUNK_BYTES", 100)  # forces the chunked, progress-bar path
    key_path = _keygen(tmp_path)
    key = vn.key_from_json(key_path.read_text())
    x = np.random.default_rng(1).random((9, 8, 6, 3)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    assert main(["encrypt", str(key_path), str(tmp_path / "x.npy"), "-o", str(tmp_path / "y.npy")]) == 0
    assert np.array_equal(np.load(tmp_path / "y.npy"), vn.encrypt(x, key))


def test_npz_encrypts_image_arrays_and_copies_labels(tmp_path, capsys):
    key_path = _keygen(tmp_path)
    key = vn.key_from_json(key_path.read_text())
    rng = np.random.default_rng(2)
    x = rng.integers(0, 255, (4, 8, 6), dtype=np.uint8)
    single = rng.random((8, 6))
    labels = np.arange(4)
    np.savez_compressed(tmp_path / "d.npz", x_train=x, single=single, y_train=labels)
    assert main(["encrypt", str(key_path), str(tmp_path / "d.npz"), "-o", str(tmp_path / "e.npz")]) == 0
    assert "y_train" in capsys.readouterr().err
    with np.load(tmp_path / "e.npz") as e:
        assert np.array_equal(e["x_train"], vn.encrypt(x, key))
        assert np.array_equal(e["single"], vn.encrypt(single, key))
        assert np.array_equal(e["y_train"], labels)
    assert main(["decrypt", str(key_path), str(tmp_path / "e.npz"), "-o", str(tmp_path / "f.npz")]) == 0
    with np.load(tmp_path / "f.npz") as f:
        assert np.array_equal(f["x_train"], x) and np.array_equal(f["single"], single)


def test_png_file_and_folder_round_trip(tmp_path):
    key_path = _keygen(tmp_path)
    key = vn.key_from_json(key_path.read_text())
    rng = np.random.default_rng(3)
    (tmp_path / "in" / "sub").mkdir(parents=True)
    rgb = rng.integers(0, 255, (8, 6, 3), dtype=np.uint8)
    gray = rng.integers(0, 255, (8, 6), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "in" / "a.png")
    Image.fromarray(gray).save(tmp_path / "in" / "sub" / "b.PNG")
    assert main(["encrypt", str(key_path), str(tmp_path / "in" / "a.png"), "-o", str(tmp_path / "a_enc.png")]) == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "a_enc.png")), vn.encrypt(rgb, key))
    assert main(["encrypt", str(key_path), str(tmp_path / "in"), "-o", str(tmp_path / "enc")]) == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "enc" / "sub" / "b.PNG")), vn.encrypt(gray, key))
    assert main(["decrypt", str(key_path), str(tmp_path / "enc"), "-o", str(tmp_path / "dec")]) == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "dec" / "a.png")), rgb)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "dec" / "sub" / "b.PNG")), gray)
    # a second run into the same folder is refused as a whole
    assert main(["encrypt", str(key_path), str(tmp_path / "in"), "-o", str(tmp_path / "enc")]) == 1


def test_decrypt_with_paper_key_and_bad_files_fail_cleanly(tmp_path, capsys):
    paper = _keygen(tmp_path, "--mode", "paper")
    np.save(tmp_path / "x.npy", np.zeros((8, 6), np.uint8))
    assert main(["decrypt", str(paper), str(tmp_path / "x.npy"), "-o", str(tmp_path / "y.npy")]) == 1
    assert "paper" in capsys.readouterr().err
    assert not (tmp_path / "y.npy").exists()
    broken = tmp_path / "broken.json"
    broken.write_text(paper.read_text()[:40])
    assert main(["encrypt", str(broken), str(tmp_path / "x.npy"), "-o", str(tmp_path / "y.npy")]) == 1
    assert "not valid JSON" in capsys.readouterr().err
    np.save(tmp_path / "wrong.npy", np.zeros((7, 6), np.uint8))
    assert main(["encrypt", str(paper), str(tmp_path / "wrong.npy"), "-o", str(tmp_path / "y.npy")]) == 1
    assert "does not match" in capsys.readouterr().err
    assert main(["encrypt", str(paper), str(tmp_path / "x.npy"), "-o", str(tmp_path / "y.png")]) == 1
    assert ".npy" in capsys.readouterr().err
    assert list(tmp_path.glob(".*.tmp")) == []


def test_show_writes_originals_above_encryptions(tmp_path):
    key_path = _keygen(tmp_path)
    key = vn.key_from_json(key_path.read_text())
    x = np.random.default_rng(4).integers(0, 255, (5, 8, 6), dtype=np.uint8)
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "grid.png"
    assert main(["show", str(key_path), str(tmp_path / "x.npy"), "-o", str(out), "--count", "3",
                 "--scale", "2"]) == 0
    labelled = np.asarray(Image.open(out))
    gap = 2
    shape = (2 * 8 * 2 + 3 * gap, 3 * (6 * 2 + gap) + gap)
    # the labels take a margin on the left and the captions one on top; the tiles follow
    top, left = labelled.shape[0] - shape[0], labelled.shape[1] - shape[1]
    assert top > 0 and left > 0
    assert (labelled[top:, :left] < 128).any() and (labelled[:top, left:] < 128).any()  # text was drawn
    grid = labelled[top:, left:]
    assert grid.shape == shape
    first_orig = grid[gap:gap + 16:2, gap:gap + 12:2]
    first_enc = grid[2 * gap + 16:2 * gap + 32:2, gap:gap + 12:2]
    assert np.array_equal(first_orig, x[0])
    assert np.array_equal(first_enc, vn.encrypt(x[0], key))
    assert main(["show", str(key_path), str(tmp_path / "x.npy"), "-o", str(out)]) == 1
