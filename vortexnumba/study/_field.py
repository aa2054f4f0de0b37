"""The field's benchmark: every encryption scheme trained, attacked and measured on the same data.

For each scheme at its default setting (RVT in both modes, the baselines,
and the field's learnable encryptions), :func:`benchmark`

- trains the CNN and the scheme's own model (Tanaka's adaptation network
  ``adapt-cnn`` for the block schemes; a ViT with patch = block for
  block-wise encryption, also evaluated after model encryption) through
  :func:`vortexnumba.learn._reproduce.run_experiment`, the same code as
  :func:`vortexnumba.reproduce`, and records the accuracy drop from the
  same model on plain images and the framework's information loss;
- runs the ciphertext-only attack for the key's kind
  (:func:`vortexnumba.security.family_for`) on the first 1,000 and 10,000
  training ciphertexts and scores it on held-out test images
  (:func:`vortexnumba.security.attack_quality`); a kind for which the
  toolkit has no attack is reported as such, never as a score of zero;
- counts the known-plaintext pairs (test images, in order) that recover
  90 % of the key, and the chosen plaintexts that recover all of it
  (checked by recovering the key from them);

and writes ``results.json``, ``results.md`` and ``frontier.png`` to one
folder, all or nothing.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import data as _data
from .. import security as _security
from .._progress import progress as _progress
from ..cipher._baselines import pe_each as _pe_each
from ..cipher._gather import encrypt
from ..io._files import atomic_folder, atomic_writer
from ..learn._checks import model_seed, optional_positive_int, positive_int
from ..learn._config import DEFAULT_EPOCHS, ExperimentConfig, config_from_keywords, parse_names
from ..learn._reproduce import (
    TRANSFORM_DESCRIPTIONS,
    make_key,
    run_experiment,
    transform_settings,
)
from ._frontier import figure_frontier

__all__ = ["ATTACK_SIZES", "SCHEMES", "SCHEME_MODELS", "BenchmarkConfig", "benchmark", "field_markdown",
           "run_benchmark"]

#: Every scheme of the benchmark, in the order of its tables.
SCHEMES = ("vor", "vor-paper", "perm", "block", "random", "le", "ele", "etc", "pe", "pe-each", "blockwise")
#: Each scheme's own models, besides the CNN that every scheme is trained with.
SCHEME_MODELS = {"le": ("adapt-cnn",), "ele": ("adapt-cnn",), "etc": ("adapt-cnn",),
                 "blockwise": ("adapt-cnn", "vit")}
#: Ciphertexts the attacker fits on, by default.
ATTACK_SIZES = (1000, 10000)
#: Held-out test images an attack is scored on, by default.
ATTACK_TEST = 1000
#: Share of the key the known-plaintext count is for.
KNOWN_PLAINTEXT_TARGET = 0.9
#: Most known-plaintext pairs tried, by default.
KNOWN_PLAINTEXT_LIMIT = 1000
#: The schemes that draw a fresh key for every image: a key learnt from some images says nothing of the others.
PER_IMAGE = ("random", "pe-each")
#: The file names of the output folder.
OUTPUT_FILES = ("results.json", "results.md", "frontier.png")

NO_ATTACK = "no attack yet"
PER_IMAGE_NOTE = "a fresh key for every image: pairs or probes reveal only the keys of their own images"


def _families() -> tuple:
    from ..security._ciphertext_only import FAMILIES

    return tuple(FAMILIES)


def _unattacked_reason(key) -> str | None:
    from ..security._ciphertext_only import unattacked_reason

    return unattacked_reason(key)


def attack_plan(key: Any, scheme: str | None = None) -> tuple[str | None, dict, str]:
    """The attack family for ``key`` in this toolkit, its options, and why when there is none.

    A family that handles any fixed pixel map (``"permutation"``) applies
    only to keys that move whole pixels; keys that change values need an
    attack made for their kind. A vortex key is a fixed pixel map too, so it
    gets ``"auto"``: the vortex-aware attack and the pixel attack, keeping
    whichever fits the ciphertexts better. Per-image PE (``scheme="pe-each"``)
    has no key to estimate; its attack reconstructs each image from its own
    ciphertext (``"pe_each"``).
    """
    if key is None:
        if scheme == "pe-each":
            return "pe_each", {}, ""
        return None, {}, f"{NO_ATTACK} (per-image keys)"
    family, options = _security.family_for(key)
    spatial = bool(getattr(key, "is_spatial", True))
    if family == "vortex":
        family = "auto"
    generic = family in ("permutation", "any", "auto")
    if family not in _families() or (generic and not spatial):
        return None, {}, f"{NO_ATTACK} (no ciphertext-only attack for {key.kind!r} keys in this version)"
    why = _unattacked_reason(key)
    if why is not None:
        return None, {}, f"{NO_ATTACK} ({why})"
    return family, options, ""


def _attack(scheme, key, key_seed, train_x, test_x, sizes, n_test, bar) -> dict:
    family, options, note = attack_plan(key, scheme)
    out: dict[str, Any] = {"family": family, "options": options, "status": "done" if family else NO_ATTACK,
                           "note": note or None, "n_test": int(min(n_test, len(test_x))), "by_size": {}}
    if family is None:
        bar.update(len(sizes))
        return out
    held_out = test_x[: out["n_test"]]
    if family == "pe_each":
        # each image has its own key: the attack reads one ciphertext per reconstruction, so the number of
        # training ciphertexts does not enter and one result stands for every size
        t0 = time.perf_counter()
        cipher = _pe_each(held_out, seed=key_seed)
        result = _security.ciphertext_only_attack(cipher, family=family, progress_bar=False)
        q = _security.attack_quality(result, None, held_out, ciphertexts=cipher)
        row = {"n_ciphertexts": 1, **_attack_row(result, q), "seconds": time.perf_counter() - t0}
        for n in sizes:
            out["by_size"][str(n)] = row
        out["note"] = "a fresh key per image: each reconstruction reads only its own ciphertext"
        bar.update(len(sizes))
        return out
    for n in sizes:
        n_used = int(min(n, len(train_x)))
        t0 = time.perf_counter()
        try:
            result = _security.ciphertext_only_attack(encrypt(train_x[:n_used], key), family=family,
                                                      progress_bar=False, **options)
            q = _security.attack_quality(result, key, held_out)
            if family == "auto":
                result, q = _best_candidate(result, q, key, held_out)
        except ValueError as exc:  # e.g. an attack that needs more ciphertexts than there are
            out["by_size"][str(n)] = {"n_ciphertexts": n_used, "error": str(exc)}
            bar.update(1)
            continue
        out["by_size"][str(n)] = {"n_ciphertexts": n_used, **_attack_row(result, q),
                                  "seconds": time.perf_counter() - t0}
        bar.update(1)
    return out


def _best_candidate(result, q, key, held_out):
    """Of ``"auto"``'s candidates, the one that recovers the held-out images best, beside ``"auto"``'s own pick.

    ``"auto"`` picks by the attack's objective on the ciphertexts, which on
    few ciphertexts per position can prefer an overfitted pixel map to an
    exact vortex estimate. The benchmark measures what the party that trains
    can reach with the toolkit's attacks, so it scores every candidate and
    reports the best, naming it; the objective's pick is kept beside it.
    """
    picked = {"family": result.family, "ssim": q["ssim"], "recovered": q["recovered"]}
    best, best_q = result, q
    for candidate in result.alternatives.values():
        if candidate.key is result.key:  # the pick itself, scored already
            continue
        cq = _security.attack_quality(candidate, key, held_out)
        if cq["ssim"] > best_q["ssim"]:
            best, best_q = candidate, cq
    return best, {**best_q, "objective_pick": picked}


def _attack_row(result, q) -> dict:
    return {"ssim": q["ssim"], "psnr": q["psnr"], "ssim_cipher": q["ssim_cipher"], "psnr_cipher": q["psnr_cipher"],
            "recovered": q["recovered"], "family_used": result.family, "symmetry": result.symmetry,
            "symmetries_tried": q["symmetries_tried"],
            **{k: q[k] for k in ("direct", "neighbour", "objective_pick") if k in q},
            "objective": float(result.objective)}


def _channels(images) -> int:
    return int(images.shape[3]) if images.ndim == 4 else 1


def _known_plaintext(key, test_x, limit) -> dict:
    if key is None:
        return {"status": "not applicable", "note": PER_IMAGE_NOTE, "pairs": None, "unit": None}
    plain = test_x[:limit]
    cipher = encrypt(plain, key)
    if getattr(key, "is_spatial", True):
        k, curve = _security.pairs_to_recover(plain, cipher, target=KNOWN_PLAINTEXT_TARGET)
        unit = "pixel"
    else:
        unit = key.element_plan(_channels(plain)).unit
        k, curve = _security.plan_pairs_to_recover(plain, cipher, unit=unit, target=KNOWN_PLAINTEXT_TARGET)
    reached = curve[~np.isnan(curve)]
    return {"status": "done" if k is not None else "not reached", "pairs": k, "unit": unit,
            "target": KNOWN_PLAINTEXT_TARGET, "pairs_tried": len(plain),
            "recovered_at_end": float(reached[-1]) if reached.size else 0.0,
            "note": None if k is not None else f"{len(plain)} pairs recover {float(reached[-1]):.3f} of the key"}


def _chosen_plaintext(key, shape, channels) -> dict:
    if key is None:
        return {"status": "not applicable", "note": PER_IMAGE_NOTE, "images": None, "unit": None}
    if getattr(key, "is_spatial", True):
        probe = _security.chosen_plaintext(shape)
        index, _ = _security.recover_index(probe, encrypt(probe, key))
        recovered = float(np.mean(index == key.src))
        unit = "pixel"
    else:
        plan = key.element_plan(channels)
        unit = plan.unit
        probe = _security.chosen_plaintext_plan(shape, channels, unit=unit)
        src, negate, _ = _security.recover_plan(probe, encrypt(probe, key), unit=unit)
        want_negate = plan.negate if plan.negate is not None else np.zeros(len(plan.src), bool)
        recovered = float(np.mean((src == plan.src) & (negate == want_negate)))
    return {"status": "done", "images": len(probe), "unit": unit, "recovered": recovered, "note": None}


def _configs(base: ExperimentConfig, schemes, vit: str):
    """One experiment per model, each on the schemes that model is trained on (the CNN: all of them)."""
    groups = {"cnn": list(schemes)}
    for s in schemes:
        for m in SCHEME_MODELS.get(s, ()):
            groups.setdefault(vit if m == "vit" else m, []).append(s)
    return [dataclasses.replace(base, models=(m,), transforms=("origin", *ts)) for m, ts in groups.items()]


def _median(values):
    v = [x for x in values if x is not None]
    return float(np.median(v)) if v else None


def _summary(records: list) -> dict:
    """The scheme's numbers, median over keys where several keys were run."""
    first = records[0]
    models = {}
    for m in first["models"]:
        models[m] = {k: _median([r["models"][m][k] for r in records]) for k in
                     ("accuracy", "origin_accuracy", "accuracy_drop")}
    attack = {}
    for size in first["attack"]["by_size"]:
        vals = [r["attack"]["by_size"].get(size, {}) for r in records]
        attack[size] = {k: _median([v.get(k) for v in vals]) for k in
                        ("ssim", "psnr", "ssim_cipher", "recovered", "direct", "neighbour")
                        if any(k in v for v in vals)}
    best = min(models, key=lambda m: models[m]["accuracy_drop"])
    sizes = [s for s in attack if attack[s].get("ssim") is not None]
    top = max(sizes, key=int) if sizes else None
    return {"models": models, "info_loss": _median([r["info_loss"] for r in records]),
            "attack": attack,
            "known_plaintext_pairs": _median([r["known_plaintext"]["pairs"] for r in records]),
            "chosen_plaintexts": _median([r["chosen_plaintext"]["images"] for r in records]),
            "frontier": {"drop": models[best]["accuracy_drop"], "model": best,
                         "ssim": attack[top]["ssim"] if top else None, "attack_size": top}}


def _check_sizes(values, name):
    try:
        items = tuple(values)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of positive ints, got {values!r}") from None
    if not items:
        raise ValueError(f"{name} must name at least one size")
    return tuple(sorted(dict.fromkeys(positive_int(v, name) for v in items)))


@dataclass(frozen=True)
class BenchmarkConfig:
    """Every setting that changes the numbers of :func:`benchmark`, checked when it is made.

    Where the data are read from, the progress bars and the log are not part
    of it (they are arguments of :func:`run_benchmark` and :func:`benchmark`).

    Parameters
    ----------
    dataset : {"digits", "fashion-mnist", "mnist", "cifar10"}
        The data (:func:`vortexnumba.data.load`).
    schemes : str or sequence of str
        A subset of :data:`SCHEMES` (a comma-separated string works); default all.
    keys : int
        Keys per scheme, seeds ``seed, seed + 1, ...``; tables show medians.
    epochs : int, optional
        Training epochs; default per data set, filled in here.
    seed : int
        Seed of the first key and of the training.
    train_limit, test_limit, info_loss_limit : int, optional
        As in :class:`vortexnumba.learn.ExperimentConfig`.
    attack_sizes : sequence of int
        Ciphertexts the attacker fits on (default 1,000 and 10,000); sorted, repeats dropped.
    attack_test : int
        Held-out test images an attack is scored on (default 1,000).
    known_plaintext_limit : int
        Most known-plaintext pairs tried (default 1,000).
    batch_size : int
        Images per training step.
    vit : {"vit", "vit-tiny"}
        The ViT trained on block-wise encryption.

    Examples
    --------
    >>> from vortexnumba.study import BenchmarkConfig
    >>> cfg = BenchmarkConfig("digits", schemes="vor,block", attack_sizes=(200, 100, 200))
    >>> cfg.schemes, cfg.attack_sizes, cfg.epochs
    (('vor', 'block'), (100, 200), 20)
    >>> BenchmarkConfig("digits", schemes="vor,rot13")
    Traceback (most recent call last):
    ...
    ValueError: schemes: unknown 'rot13'; expected some of vor, vor-paper, perm, block, random, le, ele, ...
    """

    dataset: str = "fashion-mnist"
    schemes: str | Sequence[str] = SCHEMES
    keys: int = 1
    epochs: int | None = None
    seed: int = 0
    train_limit: int | None = None
    test_limit: int | None = None
    info_loss_limit: int | None = None
    attack_sizes: Sequence[int] = ATTACK_SIZES
    attack_test: int = ATTACK_TEST
    known_plaintext_limit: int = KNOWN_PLAINTEXT_LIMIT
    batch_size: int = 128
    vit: str = "vit"

    def __post_init__(self) -> None:
        put = object.__setattr__
        put(self, "schemes", parse_names(self.schemes, SCHEMES, "schemes"))
        put(self, "keys", positive_int(self.keys, "keys"))
        put(self, "seed", model_seed(self.seed))
        put(self, "attack_sizes", _check_sizes(self.attack_sizes, "attack_sizes"))
        put(self, "attack_test", positive_int(self.attack_test, "attack_test"))
        put(self, "known_plaintext_limit", positive_int(self.known_plaintext_limit, "known_plaintext_limit"))
        if self.vit not in ("vit", "vit-tiny"):
            raise ValueError(f"vit must be 'vit' or 'vit-tiny', got {self.vit!r}")
        put(self, "epochs", optional_positive_int(self.epochs, "epochs"))
        base = self.experiment()  # checks the data set, the limits and the batch size, fills in the epochs
        for name in ("dataset", "epochs", "batch_size", "train_limit", "test_limit", "info_loss_limit"):
            put(self, name, getattr(base, name))

    def experiment(self) -> ExperimentConfig:
        """The training settings of the benchmark: the CNN on plain images (each run replaces models and transforms).

        Examples
        --------
        >>> BenchmarkConfig("digits", epochs=2).experiment().epochs
        2
        """
        return ExperimentConfig(self.dataset, models=("cnn",), transforms=("origin",), epochs=self.epochs,
                                seed=self.seed, batch_size=self.batch_size, train_limit=self.train_limit,
                                test_limit=self.test_limit, info_loss_limit=self.info_loss_limit)

    @classmethod
    def from_keywords(cls, name: str | None = None, /, **settings: Any) -> BenchmarkConfig:
        """Build from keywords (``name``: the data set), with a ``TypeError`` naming any keyword that is not a setting.

        Examples
        --------
        >>> BenchmarkConfig.from_keywords("digits", keys=3).keys
        3
        """
        return config_from_keywords(cls, name, settings, "benchmark")


def _as_config(config, settings) -> BenchmarkConfig:
    if isinstance(config, BenchmarkConfig):
        return dataclasses.replace(config, **settings) if settings else config
    if config is None or isinstance(config, str):
        return BenchmarkConfig.from_keywords(config, **settings)
    raise TypeError(f"config must be a BenchmarkConfig, a data set name or None, got {type(config).__name__}")


def run_benchmark(config: BenchmarkConfig | str | None = None, *, data_dir: str | Path | None = None,
                  progress: bool | None = None, log: Callable[[str], None] | None = None,
                  **settings: Any) -> dict:
    """Run the benchmark and return its ``results.json`` structure (nothing is written).

    Parameters
    ----------
    config : BenchmarkConfig or str, optional
        The benchmark's settings, or the name of its data set; default
        ``BenchmarkConfig()`` (Fashion-MNIST).
    data_dir : str or path-like, optional
        Where to look for the data first.
    progress : bool, optional
        Progress bars; default only when stderr is a terminal.
    log : callable, optional
        Called with one line per finished run (default: nothing).
    **settings
        Fields of :class:`BenchmarkConfig`: build the settings from
        keywords, or replace those fields of ``config``.

    Every setting is checked before any data is read.

    Returns
    -------
    dict
        The content of ``results.json``.

    Examples
    --------
    >>> from vortexnumba.study import run_benchmark
    >>> run_benchmark("digits", schemes="vor,rot13")
    Traceback (most recent call last):
    ...
    ValueError: schemes: unknown 'rot13'; expected some of vor, vor-paper, perm, block, random, le, ele, ...
    """
    cfg = _as_config(config, settings)
    dataset, schemes, keys, seed, vit = cfg.dataset, cfg.schemes, cfg.keys, cfg.seed, cfg.vit
    attack_sizes, attack_test, known_plaintext_limit = cfg.attack_sizes, cfg.attack_test, cfg.known_plaintext_limit
    base = cfg.experiment()
    log = log if log is not None else (lambda line: None)
    t_all = time.perf_counter()
    train_x, _, test_x, _ = _data.load(base.dataset, data_dir)
    if base.train_limit:
        train_x = train_x[: base.train_limit]
    if base.test_limit:
        test_x = test_x[: base.test_limit]
    shape = tuple(train_x.shape[1:])
    channels = _channels(train_x)
    settings = transform_settings(shape)
    configs = _configs(base, schemes, vit)
    n_steps = keys * (len(configs) + len(schemes) * (len(attack_sizes) + 1))
    records: dict[str, list] = {s: [] for s in schemes}
    experiments = []
    with _progress(n_steps, "field benchmark", unit="step", enabled=progress) as bar:
        for k in range(keys):
            key_seed = seed + k
            runs = []
            for cfg in configs:
                cfg = dataclasses.replace(cfg, seed=key_seed)
                bar.set_postfix_str(f"key {k + 1}/{keys}: training {cfg.models[0]}")
                doc = run_experiment(cfg, data_dir=data_dir, progress=False if progress is False else None, log=log)
                doc.pop("_samples", None)
                runs += doc["runs"]
                experiments.append({"key_seed": key_seed, "config": doc["config"], "training": doc["training"],
                                    "total_seconds": doc["total_seconds"], "environment": doc["environment"]})
                bar.update(1)
            origin = {r["model"]: r["accuracy"] for r in runs if r["transform"] == "origin"}
            for s in schemes:
                bar.set_postfix_str(f"key {k + 1}/{keys}: attacks on {s}")
                key = make_key(s, shape, settings, key_seed)
                mine = [r for r in runs if r["transform"] == s]
                models = {r["model"]: {"accuracy": r["accuracy"], "origin_accuracy": origin[r["model"].split("+")[0]],
                                       "accuracy_drop": r["accuracy_drop"]} for r in mine}
                t0 = time.perf_counter()
                record = {"key_seed": key_seed, "key_kind": getattr(key, "kind", None),
                          "spatial": bool(getattr(key, "is_spatial", True)) if key is not None else None,
                          "models": models, "info_loss": mine[0]["info_loss"],
                          "info_loss_method": mine[0]["info_loss_method"],
                          "attack": _attack(s, key, key_seed, train_x, test_x, attack_sizes, attack_test, bar),
                          "known_plaintext": _known_plaintext(key, test_x, known_plaintext_limit),
                          "chosen_plaintext": _chosen_plaintext(key, shape[:2], channels)}
                record["seconds"] = time.perf_counter() - t0
                records[s].append(record)
                bar.update(1)
                log(_scheme_line(s, record))
    doc = {"dataset": base.dataset, "image_shape": list(shape), "n_train": len(train_x),
           "n_test": len(test_x), "epochs": base.epochs, "seed": seed, "keys": keys,
           "key_seeds": [seed + k for k in range(keys)], "settings": settings, "vit": vit,
           "attack_sizes": list(attack_sizes), "attack_test": attack_test,
           "known_plaintext_limit": known_plaintext_limit, "known_plaintext_target": KNOWN_PLAINTEXT_TARGET,
           "frontier_attack": f"{max(attack_sizes):,} ciphertexts",
           "reduced_note": (f"{base.epochs} epoch{'s' if base.epochs > 1 else ''}, {len(train_x):,} training "
                            f"images, {keys} key{'s' if keys > 1 else ''}, ViT model {vit!r}"),
           "full_scale": _is_full(base, dataset, keys, attack_sizes),
           "schemes": {s: {"description": TRANSFORM_DESCRIPTIONS[s], **_summary(records[s]), "per_key": records[s]}
                       for s in schemes},
           "experiments": experiments,
           "units": {"accuracy": "fraction of test images in [0, 1]",
                     "accuracy_drop": "the same model's accuracy on plain images minus this one, as a fraction",
                     "info_loss": "1 - retention, mean over test images",
                     "ssim": "mean SSIM of the attacker's reconstruction against the held-out originals",
                     "known_plaintext_pairs": f"pairs (test images in order) recovering "
                                              f"{KNOWN_PLAINTEXT_TARGET:.0%} of the key's units",
                     "chosen_plaintexts": "probe images recovering the whole key (checked)"},
           "total_seconds": time.perf_counter() - t_all}
    return doc


def _is_full(base, dataset, keys, attack_sizes) -> bool:
    return (base.train_limit is None and base.test_limit is None and base.epochs >= DEFAULT_EPOCHS[base.dataset]
            and keys >= 3 and max(attack_sizes) >= 10000)


def _scheme_line(name, r) -> str:
    cells = []
    for m, v in r["models"].items():
        cells.append(f"{m} {100 * v['accuracy']:.2f}% (drop {100 * v['accuracy_drop']:+.2f})")
    att = r["attack"]
    if att["status"] != "done":
        cells.append(att["status"])
    else:
        cells += [f"SSIM@{n} {v['ssim']:.3f}" for n, v in att["by_size"].items() if "ssim" in v]
    return f"{name:9s} " + ", ".join(cells) + f"; info loss {r['info_loss']:.4f}"


# --------------------------------------------------------------------------- report


def _pct(v) -> str:
    return "–" if v is None else f"{100 * v:.2f}"


def _num(v, fmt=".3f") -> str:
    return "–" if v is None else format(v, fmt)


def field_markdown(doc: dict, *, command: str | None = None) -> str:
    """The ``results.md`` text of a benchmark ``results.json`` structure.

    Examples
    --------
    >>> doc = {"dataset": "digits", "schemes": {}, "attack_sizes": [100], "epochs": 1, "n_train": 10,
    ...        "keys": 1, "full_scale": False, "settings": {"n_vortices": 5, "strength": 0.8, "block": 2},
    ...        "attack_test": 5, "known_plaintext_target": 0.9, "known_plaintext_limit": 10, "vit": "vit",
    ...        "reduced_note": "1 epochs"}
    >>> field_markdown(doc).startswith("# The field's benchmark on digits")
    True
    """
    sizes = [str(s) for s in doc["attack_sizes"]]
    lines = [f"# The field's benchmark on {doc['dataset']}", ""]
    if not doc["full_scale"]:
        lines += [(f"**A reduced run** ({doc['reduced_note']}): the numbers show the method, not the final "
                  "figures; the full run is `vortexnumba benchmark --dataset fashion-mnist --keys 3` "
                  "(every training image, the default epochs, three keys, medians over keys)."), ""]
    if command:
        lines += ["Made with:", "", "```", command, "```", ""]
    lines += ["## Accuracy kept and images recovered", "",
              "| scheme | CNN acc. (%) | CNN drop | own model | own acc. (%) | own drop | info loss | attack | "
              + " | ".join(f"SSIM @ {int(s):,}" for s in sizes) + " | cipher SSIM | known pairs for 90 % | "
              "chosen plaintexts |",
              "|---" * (11 + len(sizes)) + "|"]
    for name, s in doc["schemes"].items():
        pk = s["per_key"][0]
        cnn = s["models"].get("cnn", {})
        own = [m for m in s["models"] if m != "cnn"] or ["–"]
        att = pk["attack"]
        fam = att["family"] or att["status"]
        ssims = []
        for size in sizes:
            v = s["attack"].get(size, {})
            err = att["by_size"].get(size, {}).get("error")
            ssims.append(_num(v.get("ssim")) if v.get("ssim") is not None else ("error" if err else "–"))
        cipher = next((v.get("ssim_cipher") for v in s["attack"].values() if v.get("ssim_cipher") is not None), None)
        kp = pk["known_plaintext"]
        pairs = (f"{s['known_plaintext_pairs']:g}" if s["known_plaintext_pairs"] is not None else
                 ("n/a" if kp["status"] == "not applicable" else f"> {kp['pairs_tried']}"))
        chosen = f"{s['chosen_plaintexts']:g}" if s["chosen_plaintexts"] is not None else "n/a"
        for i, m in enumerate(own):
            v = s["models"].get(m, {})
            first = i == 0
            lines.append("| " + " | ".join([
                name if first else "", _pct(cnn.get("accuracy")) if first else "",
                f"{100 * cnn['accuracy_drop']:+.2f}" if first and cnn else "", m, _pct(v.get("accuracy")),
                f"{100 * v['accuracy_drop']:+.2f}" if v else "–", _num(s["info_loss"], ".4f") if first else "",
                fam if first else "", *(ssims if first else [""] * len(sizes)), _num(cipher) if first else "",
                pairs if first else "", chosen if first else ""]) + " |")
    lines += ["", ("Accuracies are on the test images (drops in points, from the same model on plain images). "
              f"The attack is fitted on the first N training ciphertexts and scored on {doc['attack_test']:,} test "
              "images it did not see (mean SSIM of the reconstruction against the originals; for the pixel "
              "attack, which cannot tell the grid's turns and mirror images apart, the best of them; for vortex keys, "
              "'auto' runs the vortex-aware and the pixel attack and the table gives the candidate that recovers "
              "the test images best, with the one the attack's own objective picks in results.json); "
              "per-image PE is attacked image by image, on the test images' own ciphertexts; "
              "'cipher SSIM' is the ciphertext's own. 'no attack yet' means this version has no "
              "ciphertext-only attack for that kind of key: its privacy is not measured, which is not a "
              "score of zero. Known pairs: test images, in order, until "
              f"{doc['known_plaintext_target']:.0%} of the key's units (pixels, elements or nibbles) are "
              f"determined, at most {doc['known_plaintext_limit']:,}. Chosen plaintexts: probe images that "
              "recover the whole key, checked by recovering it. n/a: the scheme draws a fresh key per image."),
              ""]
    if doc["schemes"]:
        lines += ["## How each number was measured", "",
                  ("| scheme | key kind | information loss from | attack family | attack seconds | "
                  "recovered share of the map |"), "|---|---|---|---|---|---|"]
        for name, s in doc["schemes"].items():
            pk = s["per_key"][0]
            att = pk["attack"]
            secs = ", ".join(f"{v['seconds']:.0f}" for v in att["by_size"].values() if "seconds" in v) or "–"
            rec = ", ".join(_num(v.get("recovered")) for v in s["attack"].values()) or "–"
            fam = att["family"] or att["note"]
            used = [v["family_used"] for v in att["by_size"].values() if "family_used" in v]
            if att["family"] == "auto" and used:
                fam = f"auto (kept: {', '.join(used)})"
            lines.append(f"| {name} | {pk['key_kind'] or 'per image'} | {pk['info_loss_method']} | "
                         f"{fam} | {secs} | {rec} |")
        lines.append("")
    st = doc["settings"]
    lines += [(f"Settings: {doc['reduced_note']}; vortex keys {st['n_vortices']} vortices at strength "
              f"{st['strength']}; block side {st['block']} for every block scheme (the ViT's patch, "
              f"model `{doc['vit']}`). The information loss uses the framework's default kernel and coupling; "
              "'pixel map' means the key's gather index, 'tracking map' the pixel tracking map of a key that "
              "changes values (the source pixel of each output pixel's most significant bits), 'key' the "
              "framework's form that reads the encrypted values."), "",
              "![accuracy drop against attacker SSIM](frontier.png)"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- the folder


def _replaceable(path) -> str | None:
    """Refuse to replace a folder that holds anything but the benchmark's own files."""
    extra = sorted(p.name for p in Path(path).iterdir() if p.name not in OUTPUT_FILES)
    return f"holds files the benchmark did not write ({', '.join(extra[:3])})" if extra else None


def check_output(out: str | Path, force: bool) -> Path:
    """The output folder, after refusing an existing one unless ``force`` (nothing is created)."""
    p = Path(out).expanduser()
    if (p.exists() or p.is_symlink()) and not force:
        raise FileExistsError(f"output folder {str(p)!r} already exists (overwrite it with force=True)")
    if p.exists() and not p.is_dir():
        raise NotADirectoryError(f"out: {str(p)!r} is not a folder")
    if p.is_dir():
        reason = _replaceable(p)
        if reason:
            raise ValueError(f"output folder {str(p)!r} {reason}; refusing to replace it even with force=True")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise FileNotFoundError(f"output folder {str(p)!r}: the folder {str(parent)!r} does not exist")
    return p


def _json_ready(obj):
    """``obj`` with every non-finite float as None (JSON has no NaN), NumPy scalars as Python numbers."""
    if isinstance(obj, dict):
        return {k: _json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_ready(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def write_folder(doc: dict, out: str | Path, *, force: bool = False, command: str | None = None) -> Path:
    """Write ``results.json``, ``results.md`` and ``frontier.png`` to ``out``, all or nothing."""
    p = Path(out).expanduser()
    doc = _json_ready(doc)
    with atomic_folder(p, force=force, name="output folder", replaceable=_replaceable) as tmp:
        with atomic_writer(tmp / "results.json", mode="w", name="result file") as fh:
            json.dump(doc, fh, indent=2, allow_nan=False)
            fh.write("\n")
        with atomic_writer(tmp / "results.md", mode="w", name="result file") as fh:
            fh.write(field_markdown(doc, command=command))
        fig = figure_frontier(doc)
        with atomic_writer(tmp / "frontier.png", name="figure") as fh:
            fig.savefig(fh, format="png", dpi=fig.dpi, metadata={"Software": None})
    return p


def benchmark(config: BenchmarkConfig | str | None = None, *, out: str | Path = "vortexnumba-benchmark",
              force: bool = False, command: str | None = None, data_dir: str | Path | None = None,
              progress: bool | None = None, log: Callable[[str], None] | None = None, **settings: Any) -> dict:
    """Train, attack and measure every encryption scheme on one data set; write the folder ``out``.

    Parameters
    ----------
    config : BenchmarkConfig or str, optional
        The settings (:class:`BenchmarkConfig`), or the name of the data set
        (``"digits"``, ``"fashion-mnist"``, ``"mnist"``, ``"cifar10"``);
        default ``BenchmarkConfig()`` (Fashion-MNIST).
    out : str or path-like
        The output folder: ``results.json``, ``results.md``, ``frontier.png``.
        It appears complete or not at all (built beside it, then moved in).
    force : bool
        Replace an existing output folder (only one that holds nothing but
        these three files).
    command : str, optional
        The command line that made the run, quoted in ``results.md``.
    data_dir, progress, log
        As in :func:`run_benchmark`.
    **settings
        Fields of :class:`BenchmarkConfig` (``schemes``, ``keys``,
        ``epochs``, ``seed``, ``train_limit``, ``test_limit``,
        ``info_loss_limit``, ``attack_sizes``, ``attack_test``,
        ``known_plaintext_limit``, ``batch_size``, ``vit``): build the
        settings from keywords, or replace those fields of ``config``.

    The settings and the output folder are checked before any work.

    Returns
    -------
    dict
        The content of ``results.json``.

    Examples
    --------
    >>> import tempfile, os, vortexnumba as vn
    >>> out = os.path.join(tempfile.mkdtemp(), "field")
    >>> doc = vn.study.benchmark("digits", out=out, schemes="block", epochs=1, train_limit=300,
    ...                          test_limit=100, attack_sizes=(100,), attack_test=50, progress=False)
    >>> sorted(os.listdir(out))
    ['frontier.png', 'results.json', 'results.md']
    """
    cfg = _as_config(config, settings)
    check_output(out, force)
    doc = run_benchmark(cfg, data_dir=data_dir, progress=progress, log=log)
    write_folder(doc, out, force=force, command=command)
    return doc
