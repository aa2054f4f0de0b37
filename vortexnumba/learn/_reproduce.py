"""The paper's experiment as one function: train on original and encrypted images.

For each transform of the images (``origin``; the bijective vortex ``vor``
and the paper-mode vortex ``vor-paper``; one fixed permutation ``perm``,
block scrambling ``block`` and the per-image random permutation ``random``;
the field's learnable encryptions ``le``, ``ele``, ``etc``, ``pe``,
``pe-each`` and ``blockwise``) and each model, train on the transformed
training set, test on the test set transformed by the same key, and record
the accuracy, its drop from ``origin`` and the mean information loss rate of
the transform on the test images. With ``blockwise`` and a ViT among the
models, one more run evaluates the ViT trained on the plain images after
model encryption (:func:`vortexnumba.learn.encrypt_model`) on the encrypted
test images. Across all runs, correlate information loss with accuracy drop.

Everything derives from one seed: the keys, the per-image maps, the
parameters and the batch order. The settings are one
:class:`~vortexnumba.learn.ExperimentConfig`; ``results.json`` records it.
"""

from __future__ import annotations

import dataclasses
import json
import platform
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .. import cipher as _cipher
from .. import data as _data
from ..cipher._baselines import shuffle_each
from ..cipher._gather import encrypt
from ..cipher._keys import BlockKey, IdentityKey, PermutationKey, VortexKey
from ..framework._information import information_loss
from ..io._files import atomic_writer, check_output_path
from ._config import DEFAULT_EPOCHS, DEFAULT_MODELS, DEFAULT_TRANSFORMS, TRANSFORMS, ExperimentConfig
from ._encrypt_model import encrypt_model
from ._pipeline import Pipeline, encrypt_on_device
from ._registry import make_model
from ._report import PAPER_RESULTS, correlation, markdown, write_figures
from ._train import adamw_cosine, evaluate, train
from ._vit import ViT

__all__ = ["DEFAULT_EPOCHS", "DEFAULT_MODELS", "DEFAULT_TRANSFORMS", "PAPER_RESULTS", "TRANSFORMS", "correlation",
           "make_key", "reproduce", "transform_settings"]

TRANSFORM_DESCRIPTIONS = {
    "origin": "the images as they are",
    "vor": "Random Vortex Transformation, bijective mode (one key for all images)",
    "random": "a fresh random permutation for every image (the paper's 'random')",
    "perm": "one fixed random permutation of the pixels for all images",
    "block": "one fixed random shuffle of square tiles for all images",
    "vor-paper": "Random Vortex Transformation, the paper's lossy arithmetic (one key)",
    "le": "Tanaka's learnable encryption: nibbles shuffled and negated inside every block (one key)",
    "ele": "extended learnable encryption: an LE key per block position, then the blocks shuffled (one key)",
    "etc": "encryption-then-compression: blocks rotated, flipped, negated, colour-shuffled and moved (one key)",
    "pe": "pixel-based encryption: per-pixel negation and colour shuffle (one key)",
    "pe-each": "pixel-based encryption with a fresh key for every image",
    "blockwise": "block-wise encryption: one element shuffle in every block, then the blocks moved (one key)",
}

#: The key class of each keyed transform of the field's schemes (in ``vortexnumba.cipher``).
SCHEME_KEYS = {"le": "LEKey", "ele": "ELEKey", "etc": "EtCKey", "pe": "PEKey", "blockwise": "BlockwiseKey"}
#: Models that read block-wise encrypted images with the key's block as a model option.
BLOCK_MODELS = ("adapt-cnn",)

_OUTPUT_FILES = ("results.json", "results.md", "transforms.png", "info_loss_vs_drop.png")


def transform_settings(image_shape: tuple[int, ...]) -> dict:
    """Vortex count, strength and tile side used for images of a given size.

    28x28 and 32x32 follow the paper (10 vortices at S = 0.8; 5 at S = 0.1).
    On the 8x8 digits a disc has radius at most 3 and more than half of the
    random centres allow only radius 1, where a vortex moves nothing (its
    angle vanishes at the rim); 5 vortices at S = 0.8 make a key that leaves
    the image unchanged unlikely while still moving well under half the pixels. Other
    sizes keep the paper's density of about one vortex per 78 pixels. The
    tile side is also the block of the block-wise schemes.

    Parameters
    ----------
    image_shape : tuple
        ``(H, W)`` or ``(H, W, C)``.

    Returns
    -------
    dict
        ``n_vortices``, ``strength``, ``block``.

    Examples
    --------
    >>> transform_settings((28, 28))
    {'n_vortices': 10, 'strength': 0.8, 'block': 4}
    """
    h, w = int(image_shape[0]), int(image_shape[1])
    if (h, w) == (28, 28):
        n, s = 10, 0.8
    elif (h, w) == (32, 32):
        n, s = 5, 0.1
    elif (h, w) == (8, 8):
        n, s = 5, 0.8
    else:
        n, s = max(1, round(10 * h * w / 784)), 0.8
    block = 4 if (h % 4 == 0 and w % 4 == 0 and min(h, w) >= 16) else 2 if (h % 2 == 0 and w % 2 == 0) else 1
    return {"n_vortices": n, "strength": s, "block": block}


def _seed_for(seed: int, label: str) -> int:
    """A seed for one purpose, derived from the run's seed and a label."""
    return int(np.random.SeedSequence([int(seed), zlib.crc32(label.encode())]).generate_state(1)[0])


def _scheme_class(name):
    cls = getattr(_cipher, SCHEME_KEYS[name], None)
    if cls is None:  # pragma: no cover - a cipher package without the field's schemes
        raise ValueError(f"transform {name!r} needs vortexnumba.cipher.{SCHEME_KEYS[name]}, which this "
                         "installation lacks")
    return cls


def make_key(name: str, shape: tuple[int, int], settings: dict, seed: int) -> Any:
    """The key that the experiment uses for transform ``name`` (None for the per-image ``random`` and ``pe-each``).

    Parameters
    ----------
    name : str
        One of ``TRANSFORMS``.
    shape : tuple
        ``(H, W)`` or ``(H, W, C)`` of one image.
    settings : dict
        From :func:`transform_settings`.
    seed : int
        The experiment's seed; each transform derives its own from it.

    Returns
    -------
    key object or None

    Examples
    --------
    >>> key = make_key("perm", (8, 8), transform_settings((8, 8)), 0)
    >>> key.kind, make_key("perm", (8, 8), transform_settings((8, 8)), 0) == key
    ('permutation', True)
    >>> make_key("random", (8, 8), transform_settings((8, 8)), 0) is None
    True
    """
    grid = tuple(shape[:2])
    channels = int(shape[2]) if len(shape) > 2 else 1
    if name in ("random", "pe-each"):
        return None
    if name == "origin":
        return IdentityKey(grid)
    if name in ("vor", "vor-paper"):
        # The same vortices for both: the two differ only in the arithmetic that moves the pixels.
        mode = "bijective" if name == "vor" else "paper"
        return VortexKey.random(grid, settings["n_vortices"], settings["strength"], mode=mode,
                                seed=_seed_for(seed, "vor"))
    if name == "perm":
        return PermutationKey.random(grid, seed=_seed_for(seed, "perm"))
    if name == "block":
        return BlockKey.random(grid, block=settings["block"], seed=_seed_for(seed, "block"))
    cls = _scheme_class(name)
    if name == "pe":
        return cls.random(grid, channels=channels, seed=_seed_for(seed, name))
    return cls.random(grid, block=settings["block"], channels=channels, seed=_seed_for(seed, name))


def _pe_each(images, seed, return_keys=False):
    fn = getattr(_cipher, "pe_each", None)
    if fn is None:  # pragma: no cover - a cipher package without the field's schemes
        raise ValueError("transform 'pe-each' needs vortexnumba.cipher.pe_each, which this installation lacks")
    if return_keys:
        return fn(images, seed=seed, return_keys=True)
    out = fn(images, seed=seed)
    return out[0] if isinstance(out, tuple) else out


def _apply(name, key, images, part, seed, on_device):
    """``images`` under transform ``name``: a NumPy array, or a JAX array when ``on_device``.

    For ``pe-each`` on the test part, ``(encrypted, keys)``: the information
    loss reads each image's own key.
    """
    if name == "random":
        # Only the test images' permutations are needed (for the information loss).
        return shuffle_each(images, seed=_seed_for(seed, f"random-{part}"))
    if name == "pe-each":
        return _pe_each(np.asarray(images), _seed_for(seed, f"pe-each-{part}"), return_keys=part == "test")
    if on_device:
        return encrypt_on_device(images, key.src if getattr(key, "is_spatial", True) else key)
    return encrypt(images, key)


def _information(name, key, test_x, n_info, seed, pe_test=None):
    """Mean information loss of the transform on the first ``n_info`` test images, and how it was measured.

    ``pe_test``: for ``pe-each``, the test images' ``(encrypted, keys)``.
    """
    x = test_x[:n_info]
    if name == "random":
        _, src = shuffle_each(test_x, seed=_seed_for(seed, "random-test"), return_src=True)
        return float(np.mean(information_loss(x, src[:n_info]))), "pixel map"
    if name == "pe-each":
        # Every image has its own key; PE changes values only, so each image's loss is read from its own
        # encrypted values.
        y, keys = pe_test
        losses = [information_loss(x[i], keys[i], encrypted=y[i]) for i in range(len(x))]
        return float(np.mean(losses)), "key (encrypted values)"
    if getattr(key, "is_spatial", True):
        return float(np.mean(information_loss(x, key.src))), "pixel map"
    try:
        return float(np.mean(information_loss(x, key))), "key (encrypted values)"
    except (TypeError, ValueError):  # a framework that reads only index maps: the key's tracking map
        return float(np.mean(information_loss(x, np.asarray(key.src)))), "tracking map"


def _model_options(mname, settings):
    return {"block": settings["block"]} if mname in BLOCK_MODELS else {}


# --------------------------------------------------------------------------- the experiment's steps


def _check_output(out, dataset, force):
    """The output folder, after refusing existing results (nothing is created here)."""
    out_dir = Path(out).expanduser() / dataset
    for fname in _OUTPUT_FILES:
        if (out_dir / fname).exists() and not force:
            raise FileExistsError(f"{out_dir / fname} already exists (overwrite it with force=True)")
        if (out_dir / fname).is_dir():
            raise IsADirectoryError(f"result file {str(out_dir / fname)!r} is a directory, expected a file path")
    parent = next((p for p in (out_dir, *out_dir.parents) if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise NotADirectoryError(f"out: {str(parent)!r} is not a folder")
    return out_dir


def _load(config, data_dir):
    train_x, train_y, test_x, test_y = _data.load(config.dataset, data_dir)
    if config.train_limit:
        train_x, train_y = train_x[: config.train_limit], train_y[: config.train_limit]
    if config.test_limit:
        test_x, test_y = test_x[: config.test_limit], test_y[: config.test_limit]
    n_classes = max(int(max(train_y.max(), test_y.max())) + 1, 10)
    return train_x, train_y, test_x, test_y, n_classes


def _run_transform(config, tname, data, settings, origin_accuracy, progress, log):
    """Every model on one transform: (runs, test samples, trained results by model, the key's parts).

    ``origin_accuracy`` (model -> accuracy) is filled on ``origin`` and read for the drops.
    """
    train_x, train_y, test_x, test_y, n_classes = data[:5]
    seed, on_device = config.seed, config.encrypt_on == "device"
    key = make_key(tname, train_x.shape[1:], settings, seed)
    t0 = time.perf_counter()
    src_train, src_test = (train_x, test_x) if not on_device or tname in ("random", "pe-each") else data[5:7]
    enc_train = _apply(tname, key, src_train, "train", seed, on_device)
    enc_test = _apply(tname, key, src_test, "test", seed, on_device)
    pe_test = None
    if tname == "pe-each":
        pe_test = enc_test
        enc_test = enc_test[0]
    n_info = len(test_x) if config.info_loss_limit is None else min(config.info_loss_limit, len(test_x))
    loss, method = _information(tname, key, test_x, n_info, seed, pe_test)
    loss = min(max(loss, 0.0), 1.0)  # rounding can put the identity a hair below 0
    t_info = time.perf_counter() - t0
    runs, trained = [], {}
    for mname in config.models:
        model = make_model(mname, train_x.shape[1:], n_classes, seed=config.seed, **_model_options(mname, settings))
        t1 = time.perf_counter()
        res = train(model, enc_train, train_y, epochs=config.epochs, batch_size=config.batch_size,
                    optimizer=adamw_cosine(config.learning_rate, config.weight_decay), seed=config.seed,
                    progress=f"{mname}/{tname}" if progress is None else progress,
                    pipeline=Pipeline(loop=config.loop))
        acc = evaluate(res, enc_test, test_y)
        if tname == "origin":
            origin_accuracy[mname] = acc
        runs.append(_run_record(mname, tname, acc, origin_accuracy[mname] - acc, loss, method, config.epochs,
                                time.perf_counter() - t1, res))
        trained[mname] = res
        log(_run_line(config.dataset, runs[-1], t_info))
    return runs, np.asarray(enc_test[: min(4, len(test_x))]), trained, (key, enc_test, loss, method)


def _run_record(mname, tname, acc, drop, loss, method, epochs, seconds, res):
    return {"model": mname, "transform": tname, "accuracy": acc, "accuracy_drop": drop, "info_loss": loss,
            "info_loss_method": method, "epochs": int(epochs), "seconds": seconds,
            "final_train_loss": res.history[-1]["loss"] if res is not None else None,
            "train_accuracy": res.history[-1]["train_accuracy"] if res is not None else None}


def _run_line(dataset, run, t_info):
    return (f"{dataset} {run['model']:8s} {run['transform']:9s} accuracy {100 * run['accuracy']:6.2f}%  "
            f"drop {100 * run['accuracy_drop']:+6.2f}  "
            f"info loss {run['info_loss']:.4f}  ({run['seconds']:.1f} s train, {t_info:.1f} s transform + "
            "information)")


def _model_encrypted_runs(config, origin_results, origin_accuracy, blockwise, test_y, log):
    """The ViTs trained on plain images, encrypted by the block-wise key, on the encrypted test images."""
    key, enc_test, loss, method = blockwise
    runs = []
    for mname, res in origin_results.items():
        if not isinstance(res.model, ViT) or res.model.patch != getattr(key, "block", None):
            continue
        t1 = time.perf_counter()
        acc = evaluate(encrypt_model(res, key), enc_test, test_y)
        run = _run_record(f"{mname}+model-encryption", "blockwise", acc, origin_accuracy[mname] - acc, loss, method,
                          config.epochs, time.perf_counter() - t1, res)
        runs.append(run)
        log(_run_line(config.dataset, run, 0.0))
    return runs


def _version(module):
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module)
    except PackageNotFoundError:  # pragma: no cover
        return None


def _environment() -> dict:
    import jax

    dev = jax.devices()[0]
    return {
        "python": platform.python_version(),
        "jax": jax.__version__,
        "equinox": _version("equinox"),
        "optax": _version("optax"),
        "backend": jax.default_backend(),
        "device": getattr(dev, "device_kind", str(dev)),
        "device_count": jax.device_count(),
        "machine": platform.machine(),
        "system": platform.system(),
    }


def _document(config, runs, data, settings, optimizer, seconds):
    train_x, _, test_x, _, _ = data[:5]
    n_info = len(test_x) if config.info_loss_limit is None else min(config.info_loss_limit, len(test_x))
    models = list(dict.fromkeys(r["model"] for r in runs))
    optimizer = {k: v for k, v in optimizer.items() if k != "decay_steps"}  # one per run: steps differ by model
    return {
        "dataset": config.dataset,
        "runs": runs,
        "correlation": correlation([r["info_loss"] for r in runs], [r["accuracy_drop"] for r in runs]),
        "models": models,
        "transforms": list(config.transforms),
        "transform_descriptions": {t: TRANSFORM_DESCRIPTIONS[t] for t in config.transforms},
        "epochs": config.epochs,
        "seed": config.seed,
        "image_shape": list(train_x.shape[1:]),
        "n_train": len(train_x),
        "n_test": len(test_x),
        "n_info_loss_images": int(n_info),
        "settings": settings,
        "training": {"optimizer": optimizer.pop("name"), **optimizer, "batch_size": config.batch_size,
                     "loop": config.loop, "encrypt_on": config.encrypt_on},
        "config": config.to_dict(),
        "units": {"accuracy": "fraction of test images in [0, 1]", "accuracy_drop": "origin accuracy minus this "
                  "run's, same model, as a fraction", "info_loss": "1 - retention, mean over test images"},
        "paper": {m: dict(zip(("origin", "vor", "random"), v, strict=False))
                  for m, v in PAPER_RESULTS.get(config.dataset, {}).items()} or None,
        "environment": _environment(),
        "total_seconds": seconds,
    }


def _write(result, samples, out_dir, force):
    out_dir.mkdir(parents=True, exist_ok=True)
    for fname in _OUTPUT_FILES:
        check_output_path(out_dir / fname, force=force, name="result file")
    with atomic_writer(out_dir / "results.json", force=force, mode="w", name="result file") as fh:
        json.dump(result, fh, indent=2, allow_nan=False)
        fh.write("\n")
    with atomic_writer(out_dir / "results.md", force=force, mode="w", name="result file") as fh:
        fh.write(markdown(result))
    write_figures(result, samples, out_dir, force=force)


def run_experiment(config: ExperimentConfig, *, data_dir: str | Path | None = None, progress: bool | None = None,
                   log: Callable[[str], object] | None = None) -> dict:
    """Run the experiment of ``config`` and return the ``results.json`` structure (nothing is written).

    Parameters
    ----------
    config : ExperimentConfig
        The settings.
    data_dir : str or path-like, optional
        Where to look for the data first.
    progress : bool, optional
        Progress bars per epoch; default only when stderr is a terminal.
    log : callable, optional
        Called with one line of text per finished run.

    Returns
    -------
    dict
        ``results.json``'s content, and the test samples under ``"_samples"``
        (transform -> first four encrypted test images), which are not written.

    Examples
    --------
    >>> from vortexnumba.learn import ExperimentConfig
    >>> from vortexnumba.learn._reproduce import run_experiment
    >>> cfg = ExperimentConfig("digits", models="mlp", transforms="perm", epochs=1, train_limit=200,
    ...                        info_loss_limit=10)
    >>> [r["transform"] for r in run_experiment(cfg)["runs"]]
    ['origin', 'perm']
    """
    import jax

    if not isinstance(config, ExperimentConfig):
        raise TypeError(f"config must be an ExperimentConfig, got {type(config).__name__}")
    log = log if log is not None else (lambda line: None)
    t_all = time.perf_counter()
    if config.encrypt_on is None:
        config = dataclasses.replace(config, encrypt_on="host" if jax.default_backend() == "cpu" else "device")
    data = _load(config, data_dir)
    if config.encrypt_on == "device":  # the plain images go to the accelerator once
        data = (*data, jax.device_put(data[0]), jax.device_put(data[2]))
    settings = transform_settings(data[0].shape[1:])
    runs: list = []
    samples: dict = {}
    origin_results: dict = {}
    origin_accuracy: dict = {}
    optimizer: dict = {}
    for tname in config.transforms:
        t_runs, samples[tname], trained, parts = _run_transform(config, tname, data, settings, origin_accuracy,
                                                                progress, log)
        runs += t_runs
        optimizer = optimizer or trained[config.models[0]].optimizer
        if tname == "origin":
            origin_results = trained
        if tname == "blockwise":
            runs += _model_encrypted_runs(config, origin_results, origin_accuracy, parts, data[3], log)
        del trained, parts
    result = _document(config, runs, data, settings, optimizer, None)
    result["total_seconds"] = time.perf_counter() - t_all
    result["_samples"] = samples
    return result


def reproduce(config: ExperimentConfig | str | None = None, *, out: str | Path = "vortexnumba-results",
              data_dir: str | Path | None = None, force: bool = False, progress: bool | None = None,
              log: Callable[[str], object] | None = None, **settings: Any) -> dict:
    """Train every model on every transform of a data set and compare.

    Parameters
    ----------
    config : ExperimentConfig or str, optional
        The experiment, or the name of its data set (``"digits"``,
        ``"fashion-mnist"``, ``"mnist"``, ``"cifar10"``); default digits.
    out : str or path-like
        Results go to ``out/<dataset>/``: ``results.json``, ``results.md``,
        ``transforms.png``, ``info_loss_vs_drop.png``.
    data_dir : str or path-like, optional
        Where to look for the data first.
    force : bool
        Replace existing result files (otherwise they are refused before any training).
    progress : bool, optional
        Progress bars per epoch; default only when stderr is a terminal.
    log : callable, optional
        Called with one line of text per finished run (default: nothing).
    **settings
        Fields of :class:`~vortexnumba.learn.ExperimentConfig` (``dataset``,
        ``models``, ``transforms``, ``epochs``, ``seed``, ``batch_size``,
        ``learning_rate``, ``weight_decay``, ``train_limit``, ``test_limit``,
        ``info_loss_limit``, ``encrypt_on``, ``loop``): build the
        experiment from keywords, or replace those fields of ``config``.

    Every setting and the output folder are checked before anything is
    read, trained or written; the folder is created only when the results
    are written.

    Returns
    -------
    dict
        The content of ``results.json``; its ``"config"`` is the experiment
        as run (``ExperimentConfig.from_dict`` rebuilds it).

    Examples
    --------
    >>> import tempfile, vortexnumba as vn
    >>> res = vn.reproduce("digits", models="mlp", transforms="vor,random", epochs=2,
    ...                    out=tempfile.mkdtemp(), train_limit=300, info_loss_limit=50, progress=False)
    >>> [r["transform"] for r in res["runs"]]
    ['origin', 'vor', 'random']
    >>> res["runs"][0]["accuracy"] > res["runs"][2]["accuracy"]
    True
    """
    if isinstance(config, ExperimentConfig):
        config = dataclasses.replace(config, **settings) if settings else config
    elif config is None or isinstance(config, str):
        config = ExperimentConfig.from_keywords(config, **settings)
    else:
        raise TypeError(f"config must be an ExperimentConfig, a data set name or None, got {type(config).__name__}")
    out_dir = _check_output(out, config.dataset, force)
    result = run_experiment(config, data_dir=data_dir, progress=progress, log=log)
    samples = result.pop("_samples")
    _write(result, samples, out_dir, force)
    return result
