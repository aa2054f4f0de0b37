"""The field's benchmark: a complete, consistent, all-or-nothing folder for every scheme (tiny digits runs)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

pytest.importorskip("jax")
pytest.importorskip("matplotlib")

from matplotlib.text import Text

from vortexnumba import study
from vortexnumba.study import _field

TINY = {"epochs": 1, "train_limit": 300, "test_limit": 80, "info_loss_limit": 6, "attack_sizes": (100, 200),
        "attack_test": 40, "known_plaintext_limit": 80, "vit": "vit-tiny", "progress": False}
ATTACKED = ("vor", "vor-paper", "perm", "block", "le", "ele", "etc", "pe", "blockwise", "pe-each")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("field") / "bench"
    doc = study.benchmark("digits", out=out, command="vortexnumba benchmark --dataset digits", **TINY)
    return doc, out


def test_folder_is_complete_and_matches_the_returned_results(run):
    doc, out = run
    assert sorted(os.listdir(out)) == ["frontier.png", "results.json", "results.md"]
    assert json.loads((out / "results.json").read_text()) == json.loads(json.dumps(doc))
    md = (out / "results.md").read_text()
    assert "A reduced run" in md and "vortexnumba benchmark --dataset digits" in md
    for name in study.SCHEMES:
        assert f"| {name} |" in md
    assert (out / "frontier.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]


def test_every_scheme_has_its_models_and_fields(run):
    doc, _ = run
    assert list(doc["schemes"]) == list(study.SCHEMES)
    for name, s in doc["schemes"].items():
        want = {"cnn", *(("vit-tiny" if m == "vit" else m) for m in study.SCHEME_MODELS.get(name, ()))}
        if name == "blockwise":
            want.add("vit-tiny+model-encryption")
        assert set(s["models"]) == want, name
        for field in ("info_loss", "attack", "known_plaintext_pairs", "chosen_plaintexts", "frontier", "per_key"):
            assert field in s, (name, field)
        rec = s["per_key"][0]
        assert rec["info_loss_method"] in ("pixel map", "tracking map", "key (encrypted values)")
        assert set(rec["attack"]) >= {"family", "status", "by_size"}


def test_numbers_are_in_range_and_consistent(run):
    doc, _ = run
    n_test = doc["n_test"]
    origin = {}
    for s in doc["schemes"].values():
        for m, v in s["models"].items():
            assert 0.0 <= v["accuracy"] <= 1.0 and 0.0 <= v["origin_accuracy"] <= 1.0
            assert math.isclose(v["accuracy_drop"], v["origin_accuracy"] - v["accuracy"], abs_tol=1e-12)
            # accuracies are counts of test images
            assert abs(v["accuracy"] * n_test - round(v["accuracy"] * n_test)) < 1e-6
            # every scheme is measured against the same plain-image run of each model
            assert origin.setdefault(m.split("+")[0], v["origin_accuracy"]) == v["origin_accuracy"]
        assert 0.0 <= s["info_loss"] <= 1.0
        best = min(s["models"].values(), key=lambda v: v["accuracy_drop"])
        assert s["frontier"]["drop"] == best["accuracy_drop"]
    # PE moves no pixel but changes values: read through the encrypted values, its bonds change
    assert doc["schemes"]["pe"]["info_loss"] > 0.01
    assert doc["schemes"]["perm"]["info_loss"] > doc["schemes"]["vor"]["info_loss"]


def test_model_encrypted_vit_matches_the_plain_vit(run):
    doc, _ = run
    enc = doc["schemes"]["blockwise"]["models"]["vit-tiny+model-encryption"]
    # the encrypted model on encrypted images gives the plain model's logits (to float rounding), so the same
    # labels up to a tie that rounding could flip: at most one test image apart
    assert abs(enc["accuracy"] - enc["origin_accuracy"]) <= 1.0 / doc["n_test"] + 1e-12


def test_attacks_where_the_toolkit_has_them_and_none_elsewhere(run):
    doc, _ = run
    for name, s in doc["schemes"].items():
        att = s["per_key"][0]["attack"]
        if name in ATTACKED:
            families = ("auto", "permutation", "block", "le", "ele", "etc", "pe", "blockwise", "pe_each")
            assert att["status"] == "done" and att["family"] in families
            assert list(att["by_size"]) == ["100", "200"]
            for v in att["by_size"].values():
                assert -1.0 <= v["ssim"] <= 1.0 and 0.0 <= v["recovered"] <= 1.0
                # a per-image attack reads one ciphertext per reconstruction
                sizes = (1,) if name == "pe-each" else (100, 200)
                assert -1.0 <= v["ssim_cipher"] <= 1.0 and v["n_ciphertexts"] in sizes
            assert s["frontier"]["ssim"] == s["attack"]["200"]["ssim"]
        else:
            # not measured is not zero: no score at all, and the frontier leaves it off the SSIM axis
            assert att["status"] == _field.NO_ATTACK and att["family"] is None and att["by_size"] == {}
            assert s["frontier"]["ssim"] is None and s["attack"] == {}
    # the vortex attack undoes the bijective key's vortices exactly on these images
    assert doc["schemes"]["vor"]["attack"]["200"]["recovered"] > 0.9
    vor = doc["schemes"]["vor"]["per_key"][0]["attack"]
    assert vor["family"] == "auto" and vor["by_size"]["200"]["family_used"] in ("vortex", "permutation")
    # undoing the signs beats reading the ciphertext of per-image PE
    pe_each = doc["schemes"]["pe-each"]["attack"]["200"]
    assert pe_each["ssim"] > pe_each["ssim_cipher"]
    block = doc["schemes"]["block"]["per_key"][0]["attack"]["by_size"]["200"]
    assert 0.0 <= block["direct"] <= 1.0 and 0.0 <= block["neighbour"] <= 1.0


def test_known_and_chosen_plaintexts(run):
    doc, _ = run
    for name, s in doc["schemes"].items():
        kp = s["per_key"][0]["known_plaintext"]
        cp = s["per_key"][0]["chosen_plaintext"]
        if name in _field.PER_IMAGE:
            assert kp["status"] == cp["status"] == "not applicable"
            assert s["known_plaintext_pairs"] is None and s["chosen_plaintexts"] is None
            continue
        assert cp["recovered"] == 1.0  # the probes recover the whole key, checked
        spatial = s["per_key"][0]["spatial"]
        # 64 pixels: one base-256 digit; plans: a zero image for the negation plus the digits of the units
        units = {"pixel": 64, "element": 64, "nibble": 128}[cp["unit"]]
        base = 256 if cp["unit"] != "nibble" else 16
        want = 1 if spatial else 1 + math.ceil(math.log(units, base))
        assert cp["images"] == want, name
        if kp["pairs"] is not None:
            assert 1 <= kp["pairs"] <= kp["pairs_tried"] and kp["recovered_at_end"] >= 0.9
        else:
            assert kp["recovered_at_end"] < 0.9 and kp["pairs_tried"] == 80


def test_frontier_labels_do_not_overlap(run):
    doc, _ = run
    fig = study.figure_frontier(doc)
    fig.canvas.draw()  # annotations find their places when drawn
    renderer = fig.canvas.get_renderer()
    # the labels' text boxes (an annotation's own extent also spans its leader line)
    boxes = [Text.get_window_extent(t, renderer) for ax in fig.axes for t in ax.texts]
    assert len(boxes) == len(doc["schemes"])
    for i in range(len(boxes)):
        for j in range(i):
            assert not boxes[i].overlaps(boxes[j])


def test_place_labels_keeps_crowded_labels_apart_deterministically():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    def boxes():
        fig = Figure(figsize=(4, 3))
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        xs = [0.5, 0.5, 0.51, 0.49, 0.5, 0.2]
        ys = [0.5, 0.5, 0.5, 0.51, 0.49, 0.8]
        ax.scatter(xs, ys)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        anns = study.place_labels(ax, xs, ys, [f"scheme {i}" for i in range(6)])
        fig.canvas.draw()
        r = fig.canvas.get_renderer()
        return [Text.get_window_extent(a, r) for a in anns]

    first = boxes()
    for i in range(len(first)):
        for j in range(i):
            assert not first[i].overlaps(first[j])
    assert [b.bounds for b in boxes()] == [b.bounds for b in first]


def test_refuses_to_overwrite_before_any_work(run, monkeypatch):
    _doc, out = run
    before = (out / "results.json").read_bytes()

    def no_work(*a, **k):
        raise AssertionError("the benchmark ran before the output folder was checked")

    monkeypatch.setattr(_field, "run_benchmark", no_work)
    with pytest.raises(FileExistsError, match="force=True"):
        study.benchmark("digits", out=out)
    assert (out / "results.json").read_bytes() == before
    from vortexnumba.cli import main

    assert main(["benchmark", "--dataset", "digits", "--out", str(out)]) == 1


def test_force_replaces_and_a_failure_leaves_nothing_or_the_old_folder(run, tmp_path, monkeypatch):
    doc, _ = run
    out = tmp_path / "bench"
    _field.write_folder(doc, out)
    changed = dict(doc, seed=12345)
    _field.write_folder(changed, out, force=True)
    assert json.loads((out / "results.json").read_text())["seed"] == 12345

    def broken(result):
        raise RuntimeError("figure failed")

    monkeypatch.setattr(_field, "figure_frontier", broken)
    with pytest.raises(RuntimeError):
        _field.write_folder(doc, out, force=True)
    assert json.loads((out / "results.json").read_text())["seed"] == 12345  # the old folder, whole
    fresh = tmp_path / "fresh"
    with pytest.raises(RuntimeError):
        _field.write_folder(doc, fresh)
    assert not fresh.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench"]  # no temporary folder left behind


def test_force_never_replaces_a_folder_with_other_files(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="notes.txt"):
        study.benchmark("digits", out=out, force=True)
    assert (out / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize("settings, match", [
    ({"schemes": "vor,nope"}, "schemes"),
    ({"attack_sizes": ()}, "attack_sizes"),
    ({"attack_sizes": (0,)}, "attack_sizes"),
    ({"keys": 0}, "keys"),
    ({"vit": "resnet"}, "vit"),
])
def test_bad_settings_are_named(settings, match):
    with pytest.raises((ValueError, TypeError), match=match):
        study.run_benchmark("digits", **settings)


def test_registering_the_command_loads_no_study_stack():
    code = ("import sys, argparse; from vortexnumba.cli import _benchmark; p = argparse.ArgumentParser(); "
            "_benchmark.register(p.add_subparsers()); print('vortexnumba.study' in sys.modules, 'jax' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}).stdout.split()
    assert out == ["False", "False"]


def test_attack_plan_refuses_the_pixel_attack_for_value_changing_keys():
    import vortexnumba as vn

    fam, _, note = _field.attack_plan(vn.ELEKey.random((8, 8), block=2, channels=3, seed=0))
    assert fam is None and note.startswith(_field.NO_ATTACK)
    assert _field.attack_plan(vn.ELEKey.random((8, 8), block=2, channels=1, seed=0))[:2] == ("ele", {"block": 2})
    assert _field.attack_plan(vn.LEKey.random((8, 8), block=2, channels=1, seed=0))[:2] == ("le", {"block": 2})
    assert _field.attack_plan(vn.PermutationKey.random((8, 8), seed=0))[0] == "permutation"
    assert _field.attack_plan(None)[0] is None
    assert _field.attack_plan(None, "pe-each")[0] == "pe_each"
    assert _field.attack_plan(vn.VortexKey.random((8, 8), n_vortices=2, seed=0))[:2] == ("auto", {"mode": "bijective"})
