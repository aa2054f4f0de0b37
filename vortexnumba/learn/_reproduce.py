"""The paper's experiment as one function: train on original and encrypted images.

For each transform of the images (``origin``, the bijective vortex ``vor``,
the paper-mode vortex ``vor-paper``, one fixed permutation ``perm``, block
scrambling ``block`` and the per-image random permutation ``random``) and each
model, train on the transformed training set, test on the test set
transformed by the same key, and record the accuracy, its drop from
``origin`` and the mean information loss rate of the transform on the test
images. Across all runs, correlate information loss with accuracy drop.

Everything derives from one seed: the keys, the per-image permutations,
the parameters and the batch order.
"""

from __future__ import annotations

import json
import platform
import time
import zlib
from pathlib import Path

import numpy as np

from .. import data as _data
from ..cipher._baselines import shuffle_each
from ..cipher._gather import encrypt
from ..cipher._keys import BlockKey, IdentityKey, PermutationKey, VortexKey
from ..framework._information import information_loss
from ..io._files import atomic_writer, check_output_path
from ._models import MODELS, make_model
from ._pipeline import encrypt_on_device
from ._report import PAPER_RESULTS, correlation, markdown, write_figures
from ._train import evaluate, train

__all__ = ["PAPER_RESULTS", "TRANSFORMS", "correlation", "reproduce", "transform_settings"]

TRANSFORMS = ("origin", "vor", "random", "perm", "block", "vor-paper")

TRANSFORM_DESCRIPTIONS = {
    "origin": "the images as they are",
    "vor": "Random Vortex Transformation, bijective mode (one key for all images)",
    "random": "a fresh random permutation for every image (the paper's 'random')",
    "perm": "one fixed random permutation of the pixels for all images",
    "block": "one fixed random shuffle of square tiles for all images",
    "vor-paper": "Random Vortex Transformation, the paper's lossy arithmetic (one key)",
}

#: Epochs when none are given: enough for a useful result on a CPU.
DEFAULT_EPOCHS = {"digits": 20, "fashion-mnist": 5, "mnist": 5, "cifar10": 10}
DEFAULT_MODELS = ("cnn", "mlp")

_OUTPUT_FILES = ("results.json", "results.md", "transforms.png", "info_loss_vs_drop.png")


def transform_settings(image_shape) -> dict:
    """Vortex count, strength and tile side used for images of a given size.

    28x28 and 32x32 follow the paper (10 vortices at S = 0.8; 5 at S = 0.1).
    On the 8x8 digits a disc has radius at most 3 and more than half of the
    random centres allow only radius 1, where a vortex moves nothing (its
    angle vanishes at the rim); 5 vortices at S = 0.8 make a key that leaves
    the image unchanged unlikely while still moving well under half the pixels. Other
    sizes keep the paper's density of about one vortex per 78 pixels.

    Parameters
    ----------
    image_shape : tuple
        ``(H, W)`` or ``(H, W, C)``.

    Returns
    -------
    dict
        ``n_vortices``, ``strength``, ``block``.
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


def _make_transform(name, shape, settings, seed, on_device=False):
    """Return (apply(images, part) -> (images, src)) for transform ``name``.

    With ``on_device`` a keyed transform gathers on the accelerator
    (:func:`encrypt_on_device`) and returns a JAX array; ``random`` draws its
    per-image permutations on the host either way.
    """
    grid = shape[:2]
    if name == "random":

        def apply(images, part):
            # Only the test images' permutations are needed (for the information loss).
            if part == "test":
                return shuffle_each(images, seed=_seed_for(seed, f"random-{part}"), return_src=True)
            return shuffle_each(images, seed=_seed_for(seed, f"random-{part}")), None

        return apply, None
    if name == "origin":
        key = IdentityKey(grid)
    elif name == "vor":
        key = VortexKey.random(grid, settings["n_vortices"], settings["strength"], mode="bijective",
                               seed=_seed_for(seed, "vor"))
    elif name == "vor-paper":
        # The same vortices as "vor": the two differ only in the arithmetic that moves the pixels.
        key = VortexKey.random(grid, settings["n_vortices"], settings["strength"], mode="paper",
                               seed=_seed_for(seed, "vor"))
    elif name == "perm":
        key = PermutationKey.random(grid, seed=_seed_for(seed, "perm"))
    elif name == "block":
        key = BlockKey.random(grid, block=settings["block"], seed=_seed_for(seed, "block"))
    else:  # pragma: no cover - names are checked earlier
        raise ValueError(name)

    def apply(images, part):
        if on_device:
            return encrypt_on_device(images, key.src), key.src
        return encrypt(images, key), key.src

    return apply, key


def _parse_list(value, allowed, name):
    if isinstance(value, str):
        items = [v.strip().lower() for v in value.split(",") if v.strip()]
    else:
        try:
            items = [str(v).strip().lower() for v in value]
        except TypeError:
            raise TypeError(f"{name} must be a comma-separated string or a list, got {value!r}") from None
    if not items:
        raise ValueError(f"{name} must name at least one of {', '.join(allowed)}")
    bad = [v for v in items if v not in allowed]
    if bad:
        raise ValueError(f"{name}: unknown {', '.join(map(repr, bad))}; expected some of {', '.join(allowed)}")
    return list(dict.fromkeys(items))  # keep order, drop repeats


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


# --------------------------------------------------------------------------- main


def reproduce(
    dataset: str = "digits",
    *,
    models=DEFAULT_MODELS,
    transforms=TRANSFORMS,
    epochs: int | None = None,
    seed: int = 0,
    out="vortexnumba-results",
    data_dir=None,
    force: bool = False,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    train_limit: int | None = None,
    test_limit: int | None = None,
    info_loss_limit: int | None = None,
    encrypt_on: str | None = None,
    loop: str = "step",
    progress: bool | None = None,
    log=None,
) -> dict:
    """Train every model on every transform of a data set and compare.

    Parameters
    ----------
    dataset : {"digits", "fashion-mnist", "mnist", "cifar10"}
        Which data (see :func:`vortexnumba.data.load`).
    models : str or list of str
        Subset of :data:`vortexnumba.learn.MODELS`; a comma-separated string works.
    transforms : str or list of str
        Subset of ``TRANSFORMS``; ``origin`` is always run (the drops are measured from it).
    epochs : int, optional
        Training epochs; default per data set (``DEFAULT_EPOCHS``).
    seed : int
        Seeds the keys, the per-image permutations, the initial weights and the batch order.
    out : str or path-like
        Results go to ``out/<dataset>/``: ``results.json``, ``results.md``,
        ``transforms.png``, ``info_loss_vs_drop.png``.
    data_dir : str or path-like, optional
        Where to look for the data first.
    force : bool
        Replace existing result files (otherwise they are refused before any training).
    batch_size, learning_rate : optional
        Training settings (AdamW, cosine decay).
    train_limit, test_limit : int, optional
        Use only the first this many training / test images (quick trials).
    info_loss_limit : int, optional
        Average the information loss over only the first this many test images.
    encrypt_on : {"host", "device"}, optional
        Where the keyed transforms run: ``"host"`` (Numba, :func:`vortexnumba.encrypt`)
        or ``"device"`` (:func:`encrypt_on_device`, the images never leave the
        accelerator); default ``"device"`` when JAX has an accelerator, else ``"host"``.
        The encrypted images are the same.
    loop : {"step", "scan"}
        Training loop (see :func:`vortexnumba.learn.train`).
    progress : bool, optional
        Progress bars per epoch; default only when stderr is a terminal.
    log : callable, optional
        Called with one line of text per finished run (default: nothing).

    Returns
    -------
    dict
        The content of ``results.json``.

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
    import jax

    t_all = time.perf_counter()
    if log is None:
        def log(msg):
            return None
    name = _data._check_name(dataset)
    model_names = _parse_list(models, MODELS, "models")
    transform_names = _parse_list(transforms, TRANSFORMS, "transforms")
    if "origin" in transform_names:
        transform_names.remove("origin")
    transform_names.insert(0, "origin")
    if epochs is None:
        epochs = DEFAULT_EPOCHS[name]
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    for value, label in ((train_limit, "train_limit"), (test_limit, "test_limit"), (info_loss_limit, "info_loss_limit")):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1):
            raise ValueError(f"{label} must be a positive int or None, got {value!r}")
    if encrypt_on is None:
        encrypt_on = "host" if jax.default_backend() == "cpu" else "device"
    if encrypt_on not in ("host", "device"):
        raise ValueError(f"encrypt_on must be 'host', 'device' or None, got {encrypt_on!r}")

    # Refuse existing results before spending any time on training.
    out_dir = Path(out).expanduser() / name
    for fname in _OUTPUT_FILES:
        if (out_dir / fname).exists() and not force:
            raise FileExistsError(f"{out_dir / fname} already exists (overwrite it with force=True)")
    out_dir.mkdir(parents=True, exist_ok=True)
    for fname in _OUTPUT_FILES:
        check_output_path(out_dir / fname, force=force, name="result file")

    train_x, train_y, test_x, test_y = _data.load(name, data_dir)
    if train_limit:
        train_x, train_y = train_x[:train_limit], train_y[:train_limit]
    if test_limit:
        test_x, test_y = test_x[:test_limit], test_y[:test_limit]
    n_classes = int(max(train_y.max(), test_y.max())) + 1
    n_classes = max(n_classes, 10)
    settings = transform_settings(train_x.shape[1:])
    n_info = len(test_x) if info_loss_limit is None else min(info_loss_limit, len(test_x))
    n_show = min(4, len(test_x))
    if encrypt_on == "device":  # the plain images go to the accelerator once
        train_src, test_src_images = jax.device_put(train_x), jax.device_put(test_x)
    else:
        train_src, test_src_images = train_x, test_x

    runs = []
    samples = {}
    origin_accuracy = {}
    for tname in transform_names:
        apply, _key = _make_transform(tname, train_x.shape[1:], settings, seed, on_device=encrypt_on == "device")
        t0 = time.perf_counter()
        if tname == "random":
            enc_train, _ = apply(train_x, "train")
            enc_test, test_src = apply(test_x, "test")
        else:
            enc_train, _ = apply(train_src, "train")
            enc_test, test_src = apply(test_src_images, "test")
        info_src = test_src if np.ndim(test_src) == 1 else test_src[:n_info]
        loss = float(np.mean(information_loss(test_x[:n_info], info_src)))
        loss = min(max(loss, 0.0), 1.0)  # rounding can put the identity a hair below 0
        t_info = time.perf_counter() - t0
        samples[tname] = np.asarray(enc_test[:n_show])
        for mname in model_names:
            model = make_model(mname, train_x.shape[1:], n_classes, seed=int(seed))
            t1 = time.perf_counter()
            res = train(model, enc_train, train_y, epochs=int(epochs), batch_size=batch_size,
                        learning_rate=learning_rate, seed=int(seed), loop=loop, progress=progress,
                        desc=f"{mname}/{tname}")
            acc = evaluate(res, enc_test, test_y)
            seconds = time.perf_counter() - t1
            if tname == "origin":
                origin_accuracy[mname] = acc
            run = {
                "model": mname,
                "transform": tname,
                "accuracy": acc,
                "accuracy_drop": origin_accuracy[mname] - acc,
                "info_loss": loss,
                "epochs": int(epochs),
                "seconds": seconds,
                "final_train_loss": res.history[-1]["loss"],
                "train_accuracy": res.history[-1]["train_accuracy"],
            }
            runs.append(run)
            log(f"{name} {mname:8s} {tname:9s} accuracy {100 * acc:6.2f}%  drop {100 * run['accuracy_drop']:+6.2f}  "
                f"info loss {loss:.4f}  ({seconds:.1f} s train, {t_info:.1f} s transform + information)")
        del enc_train, enc_test

    corr = correlation([r["info_loss"] for r in runs], [r["accuracy_drop"] for r in runs])
    result = {
        "dataset": name,
        "runs": runs,
        "correlation": corr,
        "models": model_names,
        "transforms": transform_names,
        "transform_descriptions": {t: TRANSFORM_DESCRIPTIONS[t] for t in transform_names},
        "epochs": int(epochs),
        "seed": int(seed),
        "image_shape": list(train_x.shape[1:]),
        "n_train": len(train_x),
        "n_test": len(test_x),
        "n_info_loss_images": int(n_info),
        "settings": settings,
        "training": {"optimizer": "adamw", "learning_rate": learning_rate, "schedule": "cosine decay to 0",
                     "weight_decay": 1e-4, "batch_size": batch_size, "loop": loop, "encrypt_on": encrypt_on},
        "units": {"accuracy": "fraction of test images in [0, 1]", "accuracy_drop": "origin accuracy minus this "
                  "run's, same model, as a fraction", "info_loss": "1 - retention, mean over test images"},
        "paper": {m: dict(zip(("origin", "vor", "random"), v)) for m, v in PAPER_RESULTS.get(name, {}).items()} or None,
        "environment": _environment(),
        "total_seconds": None,
    }
    result["total_seconds"] = time.perf_counter() - t_all
    with atomic_writer(out_dir / "results.json", force=force, mode="w", name="result file") as fh:
        json.dump(result, fh, indent=2, allow_nan=False)
        fh.write("\n")
    with atomic_writer(out_dir / "results.md", force=force, mode="w", name="result file") as fh:
        fh.write(markdown(result))
    write_figures(result, samples, out_dir, force=force)
    return result
