"""The experiment end to end on a tiny budget, and its statistics."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from vortexnumba.cli import main as cli_main
from vortexnumba.learn._reproduce import (
    DEFAULT_TRANSFORMS,
    correlation,
    reproduce,
    transform_settings,
)

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    result = reproduce(dataset="digits", models="mlp,cnn", epochs=3, transforms="vor,random,perm,block,vor-paper",
                       seed=1, out=out, train_limit=500, info_loss_limit=200, progress=False, log=lambda m: None)
    return out / "digits", result


def test_json_fields_and_ranges(tiny_run):
    folder, result = tiny_run
    doc = json.loads((folder / "results.json").read_text())
    assert doc == json.loads(json.dumps(result))
    assert doc["dataset"] == "digits"
    assert doc["transforms"] == list(DEFAULT_TRANSFORMS)  # origin first
    assert len(doc["runs"]) == 2 * len(DEFAULT_TRANSFORMS)
    for run in doc["runs"]:
        assert set(run) >= {"model", "transform", "accuracy", "accuracy_drop", "info_loss", "epochs", "seconds"}
        for key in ("accuracy", "accuracy_drop", "info_loss", "seconds"):
            assert isinstance(run[key], float) and math.isfinite(run[key]), (key, run)
        assert 0.0 <= run["accuracy"] <= 1.0
        assert -1.0 <= run["accuracy_drop"] <= 1.0
        assert 0.0 <= run["info_loss"] <= 1.0
        assert run["seconds"] > 0 and run["epochs"] == 3
    runs = {(r["model"], r["transform"]): r for r in doc["runs"]}
    for model in ("mlp", "cnn"):
        origin = runs[(model, "origin")]
        assert origin["accuracy_drop"] == 0.0 and origin["info_loss"] < 1e-9
        assert origin["accuracy"] > 0.5  # learns far above chance (0.1) even in 3 epochs
        for t in DEFAULT_TRANSFORMS:
            assert runs[(model, t)]["accuracy_drop"] == pytest.approx(origin["accuracy"] - runs[(model, t)]["accuracy"])
    # The transforms' information loss does not depend on the model, and order as expected.
    assert runs[("mlp", "vor")]["info_loss"] == runs[("cnn", "vor")]["info_loss"]
    assert 0 < runs[("mlp", "vor")]["info_loss"] < runs[("mlp", "perm")]["info_loss"]
    assert runs[("mlp", "random")]["info_loss"] > 0.5
    c = doc["correlation"]
    assert c["n_runs"] == 12
    for k in ("pearson_r", "spearman_r"):
        assert -1.0 <= c[k] <= 1.0
    for k in ("pearson_p", "spearman_p"):
        assert 0.0 <= c[k] <= 1.0
    assert doc["settings"] == transform_settings((8, 8))


def test_markdown_and_figures(tiny_run):
    folder, result = tiny_run
    md = (folder / "results.md").read_text()
    assert "| model | origin | vor | random | perm | block | vor-paper |" in md
    cnn_origin = next(r for r in result["runs"] if r["model"] == "cnn" and r["transform"] == "origin")
    assert f"{100 * cnn_origin['accuracy']:.2f}" in md
    assert "Pearson r =" in md
    for name in ("transforms.png", "info_loss_vs_drop.png"):
        blob = (folder / name).read_bytes()
        assert blob.startswith(PNG) and len(blob) > 2000


def test_refuses_to_overwrite_before_training(tiny_run):
    folder, _ = tiny_run
    before = (folder / "results.json").read_bytes()
    with pytest.raises(FileExistsError, match="force=True"):
        reproduce(dataset="digits", models="mlp", epochs=1, out=folder.parent, progress=False)
    assert (folder / "results.json").read_bytes() == before


def test_paper_table_for_fashion_layout():
    from vortexnumba.learn._report import markdown as _markdown

    result = {
        "dataset": "fashion-mnist", "transforms": ["origin", "vor", "random"], "models": ["cnn"], "epochs": 2,
        "seed": 0, "n_info_loss_images": 10, "settings": {"n_vortices": 10, "strength": 0.8, "block": 4},
        "runs": [{"model": "cnn", "transform": t, "accuracy": a, "accuracy_drop": 0.9 - a, "info_loss": il,
                  "seconds": 1.0} for t, a, il in (("origin", 0.9, 0.0), ("vor", 0.88, 0.2), ("random", 0.5, 0.8))],
        "correlation": correlation([0.0, 0.2, 0.8], [0.0, 0.02, 0.4]),
    }
    md = _markdown(result)
    assert "| ResNet-18 (paper) | 94.12 | 92.85 | 40.10 |" in md
    assert "| ViT (paper) | 94.95 | 92.61 | 56.19 |" in md
    assert "| cnn (this run, 2 epochs) | 90.00 | 88.00 | 50.00 |" in md


def test_correlation_guards():
    c = correlation([0.1, 0.2], [0.0, 0.1])
    assert c["pearson_r"] is None and c["spearman_p"] is None and "at least 3" in c["note"]
    c = correlation([0.3, 0.3, 0.3], [0.0, 0.1, 0.2])
    assert c["pearson_r"] is None and "information loss is the same" in c["note"]
    c = correlation([0.0, 0.1, 0.5], [0.0, 0.0, 0.0])
    assert c["spearman_r"] is None and "accuracy drop is the same" in c["note"]
    c = correlation([0.0, 0.1, 0.5, 0.7], [0.0, 0.02, 0.1, 0.14])
    assert c["pearson_r"] == pytest.approx(1.0) and c["spearman_r"] == pytest.approx(1.0)
    assert c["note"] is None and 0 <= c["pearson_p"] < 0.01
    c = correlation([0.0, 0.1, 0.5, 0.7], [0.3, 0.2, 0.1, 0.0])
    assert c["spearman_r"] == pytest.approx(-1.0)


def test_spearman_p_is_exact_for_few_runs():
    # Five runs in perfect order: 2 of the 120 orderings are as extreme (two-sided).
    c = correlation([0.0, 0.1, 0.2, 0.3, 0.4], [0.0, 0.01, 0.05, 0.2, 0.5])
    assert c["spearman_r"] == pytest.approx(1.0)
    assert c["spearman_p"] == pytest.approx(2 / 120)
    assert c["spearman_p_method"].startswith("exact permutation test")
    # rho = 0.9 for n = 5: 10 of 120 orderings reach |rho| >= 0.9 (the textbook 0.0833).
    c = correlation([0, 1, 2, 3, 4], [0, 1, 2, 4, 3])
    assert c["spearman_r"] == pytest.approx(0.9) and c["spearman_p"] == pytest.approx(10 / 120)
    # Beyond 8 runs the orderings are sampled (seeded: the same p every time).
    rng = np.random.default_rng(0)
    x = rng.random(12)
    y = x + 0.3 * rng.random(12)
    c = correlation(x, y)
    assert c["spearman_p_method"].startswith("permutation test: 100,000") and 0 < c["spearman_p"] < 0.01
    assert correlation(x, y)["spearman_p"] == c["spearman_p"]
    # 12 runs in perfect order: no sampled ordering of 12! does better, so p is the smallest possible.
    c = correlation(np.arange(12), np.arange(12) ** 2)
    assert c["spearman_p"] < 1e-4


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="transforms: unknown 'swirl'"):
        reproduce(transforms="vor,swirl", out=tmp_path, progress=False)
    with pytest.raises(ValueError, match="models: unknown"):
        reproduce(models="resnet50", out=tmp_path, progress=False)
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        reproduce(epochs=0, out=tmp_path, progress=False)
    with pytest.raises(ValueError, match="name must be one of"):
        reproduce(dataset="svhn", out=tmp_path, progress=False)


def test_figure_has_legends_and_no_fit_line(tiny_run):
    from vortexnumba.learn._report import figure_correlation

    _, result = tiny_run
    fig = figure_correlation(result)
    fixed, per_image = fig.axes
    assert not fixed.texts and not per_image.texts  # no labels on the points
    assert sorted(leg.get_title().get_text() for leg in fig.legends) == ["model", "transform"]
    assert "mlp, cnn" in fig._suptitle.get_text()
    # the per-image runs are in their own panel, and no line reaches them
    assert per_image.get_title() == "per-image map (random)"
    assert len(per_image.collections) == 2 and not per_image.get_lines()
    random_x = {r["info_loss"] for r in result["runs"] if r["transform"] == "random"}
    for line in fixed.get_lines():
        assert not random_x & set(map(float, line.get_xdata()))


def test_write_report_rerenders(tiny_run, tmp_path):
    from vortexnumba.learn._report import write_report

    _, result = tiny_run
    write_report(result, tmp_path)
    assert (tmp_path / "info_loss_vs_drop.png").read_bytes().startswith(PNG)
    assert "Spearman rho" in (tmp_path / "results.md").read_text()
    with pytest.raises(FileExistsError):
        write_report(result, tmp_path)


def test_transform_settings_follow_the_paper():
    assert transform_settings((28, 28)) == {"n_vortices": 10, "strength": 0.8, "block": 4}
    assert transform_settings((32, 32, 3)) == {"n_vortices": 5, "strength": 0.1, "block": 4}
    assert transform_settings((8, 8))["block"] == 2


def test_cli_reproduce(tmp_path, capsys):
    args = ["reproduce", "--models", "mlp", "--epochs", "1", "--transforms", "random", "--out", str(tmp_path),
            "--train-limit", "300", "--info-loss-limit", "50", "--no-progress"]
    assert cli_main(args) == 0
    out = capsys.readouterr().out
    assert "correlation: not defined (needs at least 3 runs, got 2)" in out
    doc = json.loads((tmp_path / "digits" / "results.json").read_text())
    assert [r["transform"] for r in doc["runs"]] == ["origin", "random"]
    assert doc["correlation"]["pearson_r"] is None
    assert cli_main(args) == 1
    assert "already exists" in capsys.readouterr().err
    assert cli_main(args + ["--force"]) == 0
    assert cli_main(["reproduce", "--epochs", "0", "--out", str(tmp_path)]) == 1
    assert "--epochs must be a positive int" in capsys.readouterr().err


def test_encrypt_on_device_gives_the_same_run(tmp_path):
    kw = dict(dataset="digits", models="mlp", epochs=1, transforms="vor,block", seed=2, train_limit=300,
              info_loss_limit=30, progress=False)
    host = reproduce(out=tmp_path / "host", encrypt_on="host", **kw)
    device = reproduce(out=tmp_path / "device", encrypt_on="device", **kw)
    assert device["training"]["encrypt_on"] == "device"
    for a, b in zip(host["runs"], device["runs"], strict=False):
        assert (a["transform"], a["accuracy"], a["info_loss"], a["final_train_loss"]) == \
               (b["transform"], b["accuracy"], b["info_loss"], b["final_train_loss"])
    with pytest.raises(ValueError, match="encrypt_on"):
        reproduce(out=tmp_path / "x", encrypt_on="gpu", **kw)


def test_experiment_config_round_trip_and_checks():
    from vortexnumba.learn import ExperimentConfig

    cfg = ExperimentConfig("fashion", models="cnn,adapt-cnn", transforms=["le", "origin", "le"], seed=3)
    assert cfg.dataset == "fashion-mnist" and cfg.models == ("cnn", "adapt-cnn")
    assert cfg.transforms == ("origin", "le") and cfg.epochs == 5
    assert ExperimentConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(TypeError, match="unknown experiment setting.*'epoch'"):
        ExperimentConfig.from_keywords("digits", epoch=3)
    with pytest.raises(ValueError, match="learning_rate must be a finite number"):
        ExperimentConfig(learning_rate=float("nan"))
    with pytest.raises(ValueError, match="weight_decay must be a finite number >= 0"):
        ExperimentConfig(weight_decay=-1.0)
    with pytest.raises(TypeError, match="seed must be"):
        ExperimentConfig(seed=1.5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.seed = 4


@pytest.mark.parametrize("kw", [{"batch_size": 0}, {"learning_rate": float("nan")}, {"weight_decay": float("inf")},
                                {"epochs": -1}, {"train_limit": 0}, {"models": "resnet50"}, {"seed": -1},
                                {"encrypt_on": "gpu"}, {"loop": "while"}])
def test_every_check_happens_before_the_disk_is_touched(tmp_path, kw):
    out = tmp_path / "new"
    with pytest.raises(ValueError):
        reproduce(dataset="digits", out=out, progress=False, **kw)
    assert not out.exists()  # no empty output folder left behind
    with pytest.raises(TypeError, match="unknown experiment setting"):
        reproduce(dataset="digits", out=out, progress=False, batchsize=3)
    assert not out.exists()


def test_results_record_what_was_used(tiny_run):
    from vortexnumba.learn import ExperimentConfig

    _, result = tiny_run
    cfg = ExperimentConfig.from_dict(result["config"])
    assert cfg.epochs == 3 and cfg.seed == 1 and cfg.train_limit == 500 and cfg.encrypt_on in ("host", "device")
    assert result["training"]["weight_decay"] == cfg.weight_decay == 1e-4
    assert result["training"]["optimizer"] == "adamw" and result["training"]["learning_rate"] == cfg.learning_rate
    # a config object runs the same experiment as its keywords
    assert [r["transform"] for r in result["runs"][::2]] == list(cfg.transforms)


def test_field_schemes_and_model_encryption(tmp_path):
    res = reproduce(dataset="digits", models="mlp,vit-tiny", transforms="le,pe-each,blockwise", epochs=2, seed=0,
                    out=tmp_path, train_limit=300, test_limit=120, info_loss_limit=10, progress=False)
    runs = {(r["model"], r["transform"]): r for r in res["runs"]}
    assert set(runs) == {(m, t) for m in ("mlp", "vit-tiny") for t in ("origin", "le", "pe-each", "blockwise")} | {
        ("vit-tiny+model-encryption", "blockwise")}
    assert res["models"] == ["mlp", "vit-tiny", "vit-tiny+model-encryption"]
    # The ViT trained on plain images, encrypted with the key, classifies the encrypted test images as the
    # plain ViT classifies the plain ones (its logits agree to float rounding).
    enc = runs[("vit-tiny+model-encryption", "blockwise")]
    assert abs(enc["accuracy"] - runs[("vit-tiny", "origin")]["accuracy"]) <= 1 / 120
    assert 0.0 < runs[("mlp", "le")]["info_loss"] <= 1.0
    # every image has its own PE key; the loss is read from each image's own encrypted values, so it is
    # far from the 0 that the identity tracking map alone would give
    pe = runs[("mlp", "pe-each")]
    assert pe["info_loss_method"] == "key (encrypted values)" and 0.05 < pe["info_loss"] < 1.0
    md = (tmp_path / "digits" / "results.md").read_text()
    assert "| vit-tiny+model-encryption (this run, 2 epochs) | – | – | – |" in md
