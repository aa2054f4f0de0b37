"""``vortexnumba info``: the report, the swap heatmap, and its refusals."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import vortexnumba as vn
from vortexnumba.cli._info import load_one_image


def reported(out: str, name: str) -> float:
    return float(re.search(rf"{name} = ([-0-9.e+]+)", out).group(1))


def test_info_reports_content_and_profile_of_digits(cli_run):
    code, out, err = cli_run(["info", "digits:5"])
    assert code == 0, err
    image, _ = load_one_image("digits:5")
    assert image.dtype == np.uint8 and image.shape == (8, 8)
    assert reported(out, r"E\(X\)") == pytest.approx(vn.information_energy(image), rel=1e-9)
    assert reported(out, r"I\(X\)") == pytest.approx(vn.information_content(image), rel=1e-9)
    prof, dist = vn.neighbour_profile(image)
    rows = re.findall(r"^\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)$", out, re.M)
    assert [float(r[0]) for r in rows] == pytest.approx(list(dist), abs=1e-4)
    assert [float(r[1]) for r in rows] == pytest.approx(list(prof.sum(axis=(0, 1))), abs=1e-5)


def test_info_kernel_options_change_the_numbers(tmp_path, cli_run):
    rng = np.random.default_rng(0)
    img = rng.random((6, 7))
    path = tmp_path / "img.npy"
    np.save(path, img)
    code, out, _ = cli_run(["info", str(path), "--kernel", "gaussian", "--tau", "0.7", "--radius", "2",
                        "--coupling", "constant"])
    assert code == 0
    expected = vn.information_content(img, vn.Kernel.gaussian(0.7, 2), vn.Coupling.constant())
    assert reported(out, r"I\(X\)") == pytest.approx(expected, rel=1e-9)


def test_info_reads_png_and_batch_npz(tmp_path, cli_run):
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (9, 10, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    code, out, _ = cli_run(["info", str(tmp_path / "rgb.png"), "--h", "0.5"])
    assert code == 0
    expected = vn.information_content(rgb, coupling=vn.Coupling.gaussian(0.5), channels=True)
    assert reported(out, r"I\(X\)") == pytest.approx(expected, rel=1e-9)
    batch = rng.integers(0, 256, (4, 8, 8), dtype=np.uint8)
    np.savez(tmp_path / "b.npz", x=batch)
    code, out, _ = cli_run(["info", str(tmp_path / "b.npz"), "--index", "2"])
    assert code == 0
    assert reported(out, r"I\(X\)") == pytest.approx(vn.information_content(batch[2]), rel=1e-9)


def test_info_swap_writes_heatmap_and_refuses_to_overwrite(tmp_path, cli_run):
    target = tmp_path / "map.png"
    code, out, err = cli_run(["info", "digits:0", "--swap", "3,4", "-o", str(target)])
    assert code == 0, err
    image, _ = load_one_image("digits:0")
    dmap = vn.swap_deltas(image, (3, 4))
    lo = float(re.search(r"Delta I from ([-0-9.e+]+)", out).group(1))
    assert lo == pytest.approx(dmap.min(), rel=1e-5)
    assert "63 of 63 swaps lose information" in out
    with Image.open(target) as im:
        assert im.format == "PNG" and im.size[0] > 200
    before = target.read_bytes()
    code, _, err = cli_run(["info", "digits:0", "--swap", "3,4", "-o", str(target)])
    assert code == 1 and "already exists" in err and "--force" in err
    assert target.read_bytes() == before
    code, _, _ = cli_run(["info", "digits:0", "--swap", "1,1", "-o", str(target), "--force"])
    assert code == 0 and target.read_bytes() != before


@pytest.mark.parametrize(
    "argv, message",
    [
        (["info", "digits:5000"], "K must lie in 0..1796"),
        (["info", "digits:x"], "digits:K with an integer K"),
        (["info", "no/such/file.npy"], "does not exist"),
        (["info", "digits:0", "--alpha", "2", "--kernel", "gaussian"], "--alpha applies to the power kernel"),
        (["info", "digits:0", "--tau", "1"], "--tau applies to the gaussian and exponential kernels"),
        (["info", "digits:0", "--coupling", "constant", "--h", "0.3"], "--h applies to the gaussian coupling"),
        (["info", "digits:0", "--radius", "0.5"], "radius must be a finite number >= 1"),
        (["info", "digits:0", "--alpha", "-1"], "alpha must be a finite number > 0"),
        (["info", "digits:0", "--swap", "9,9", "-o", "unused.png"], r"--swap = \(9, 9\) lies outside the 8x8 grid"),
        (["info", "digits:0", "--swap", "3", "-o", "unused.png"], "--swap expects I,J"),
    ],
)
def test_info_bad_arguments(argv, message, cli_run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = cli_run(argv)
    assert code == 1
    assert re.search(message, err), err
    assert "Traceback" not in err
    assert not (tmp_path / "unused.png").exists()


def test_module_entry_point_help():
    proc = subprocess.run([sys.executable, "-m", "vortexnumba", "info", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert "--swap" in proc.stdout and "IMAGE_OR_ARRAY" in proc.stdout


def test_outputs_get_ordinary_file_permissions(tmp_path, cli_run):
    import os
    import stat

    target = tmp_path / "map.png"
    assert cli_run(["info", "digits:0", "--swap", "1,1", "-o", str(target)]).code == 0
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
