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
import math
import platform
import sys
import time
import zlib
from pathlib import Path

import numpy as np

from .. import data as _data
from ..cipher._baselines import shuffle_each
from ..cipher._gather import encrypt
from ..framework._information import information_loss
from ..io._files import atomic_writer, check_output_path
from ..cipher._keys import BlockKey, IdentityKey, PermutationKey, VortexKey
from ._models import MODELS, make_model
from ._train import evaluate, train

__all__ = ["PAPER_RESULTS", "TRANSFORMS", "reproduce", "transform_settings"]

TRANSFORMS = ("origin", "vor", "random", "perm", "block", "vor-paper")

TRANSFORM_DESCRIPTIONS = {
    "origin": "the images as they are",
    "vor": "Random Vortex Transformation, bijective mode (one key for all images)",
    "random": "a fresh random permutation for every image (the paper's 'random')",
    "perm": "one fixed random permutation of the pixels for all images",
    "block": "one fixed random shuffle of square tiles for all images",
    "vor-paper": "Random Vortex Transformation, the paper's lossy arithmetic (one key)",
}

#: Test accuracy (%) reported by the paper for origin / vor / random.
PAPER_RESULTS = {
    "mnist": {"ResNet-18": (99.20, 98.89, 28.99), "ViT": (99.47, 99.15, 31.84)},
    "fashion-mnist": {"ResNet-18": (94.12, 92.85, 40.10), "ViT": (94.95, 92.61, 56.19)},
    "cifar10": {"ResNet-18": (92.80, 87.56, 42.80), "ViT": (98.50, 92.04, 50.03)},
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


def _make_transform(name, shape, settings, seed):
    """Return (apply(images, part) -> (images, src)) for transform ``name``."""
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


def _finite_or_none(v):
    return None if v is None or not math.isfinite(v) else float(v)


EXACT_SPEARMAN_MAX_RUNS = 8


def _exact_spearman_p(x, y, r_observed) -> float:
    """Two-sided permutation p-value of Spearman's rho over every ordering of ``y``."""
    import itertools

    from scipy import stats

    rx = stats.rankdata(x)
    ry = stats.rankdata(y)
    rx = (rx - rx.mean()) / np.sqrt(((rx - rx.mean()) ** 2).sum())
    ry = ry - ry.mean()
    ry = ry / np.sqrt((ry**2).sum())
    perms = np.array(list(itertools.permutations(range(len(ry)))))
    r_all = ry[perms] @ rx
    return float(np.mean(np.abs(r_all) >= abs(r_observed) - 1e-12))


def correlation(info_loss, accuracy_drop) -> dict:
    """Pearson and Spearman correlation of information loss with accuracy drop.

    Parameters
    ----------
    info_loss, accuracy_drop : sequence of float
        One value per run.

    Returns
    -------
    dict
        ``pearson_r``, ``pearson_p``, ``spearman_r``, ``spearman_p`` (None when
        undefined), ``n_runs``, ``spearman_p_method`` and ``note`` (why a value
        is None, else None). Pearson's p-value is SciPy's (it assumes normal
        data); Spearman's is exact (every ordering of the runs counted) for up
        to ``EXACT_SPEARMAN_MAX_RUNS`` runs and SciPy's t approximation above.

    References
    ----------
    .. [1] scipy.stats.pearsonr and scipy.stats.spearmanr.
    """
    from scipy import stats

    x = np.asarray(info_loss, dtype=np.float64)
    y = np.asarray(accuracy_drop, dtype=np.float64)
    out = {"pearson_r": None, "pearson_p": None, "spearman_r": None, "spearman_p": None, "n_runs": int(x.size),
           "spearman_p_method": None, "note": None}
    if x.size < 3:
        out["note"] = f"needs at least 3 runs, got {x.size}"
        return out
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        out["note"] = "a value is not finite"
        return out
    for arr, label in ((x, "information loss"), (y, "accuracy drop")):
        if np.ptp(arr) == 0:
            out["note"] = f"{label} is the same in every run, so no correlation is defined"
            return out
    pr = stats.pearsonr(x, y)
    sr = stats.spearmanr(x, y)
    spearman_p = sr[1]
    if x.size <= EXACT_SPEARMAN_MAX_RUNS and math.isfinite(sr[0]):
        # SciPy's p-value for Spearman uses a t approximation that is far off
        # for a handful of points (it reports p ~ 1e-24 for 5 points in perfect
        # order, where the exact two-sided value is 2/120); count instead.
        spearman_p = _exact_spearman_p(x, y, sr[0])
        out["spearman_p_method"] = "exact: all orderings of the runs"
    else:
        out["spearman_p_method"] = "t approximation (scipy.stats.spearmanr)"
    out.update(pearson_r=_finite_or_none(pr[0]), pearson_p=_finite_or_none(pr[1]),
               spearman_r=_finite_or_none(sr[0]), spearman_p=_finite_or_none(spearman_p))
    if None in (out["spearman_r"], out["pearson_r"]):
        out["note"] = "a correlation is undefined for these values (e.g. constant ranks)"
    return out


# --------------------------------------------------------------------------- outputs


def _markdown(result) -> str:
    ds = result["dataset"]
    transforms = result["transforms"]
    runs = result["runs"]
    acc = {(r["model"], r["transform"]): r["accuracy"] for r in runs}
    lines = [f"# Test accuracy on {ds} (%), this run beside the paper", ""]
    lines.append("| model | " + " | ".join(transforms) + " |")
    lines.append("|---" * (len(transforms) + 1) + "|")
    for m in result["models"]:
        cells = [f"{100 * acc[(m, t)]:.2f}" for t in transforms]
        lines.append(f"| {m} (this run, {result['epochs']} epochs) | " + " | ".join(cells) + " |")
    paper = PAPER_RESULTS.get(ds)
    if paper:
        for model, (o, v, r) in paper.items():
            cells = [{"origin": f"{o:.2f}", "vor": f"{v:.2f}", "random": f"{r:.2f}"}.get(t, "–") for t in transforms]
            lines.append(f"| {model} (paper) | " + " | ".join(cells) + " |")
        lines += ["", "The paper reports only origin, vor and random (–: not reported)."]
    else:
        lines += ["", f"The paper has no results on {ds}; its table (MNIST, Fashion-MNIST, CIFAR-10) is in "
                  "the documentation for comparison."]
    lines += ["", "## Every run", "",
              "| model | transform | accuracy (%) | drop (points) | information loss | seconds |",
              "|---|---|---|---|---|---|"]
    for r in runs:
        lines.append(f"| {r['model']} | {r['transform']} | {100 * r['accuracy']:.2f} | "
                     f"{100 * r['accuracy_drop']:+.2f} | {r['info_loss']:.4f} | {r['seconds']:.1f} |")
    c = result["correlation"]
    lines += ["", "## Information loss against accuracy drop", ""]
    if c["pearson_r"] is None:
        lines.append(f"Correlation not defined: {c['note']}.")
    else:
        lines.append(f"Over {c['n_runs']} runs: Pearson r = {c['pearson_r']:.3f} (p = {c['pearson_p']:.2g}), "
                     f"Spearman rho = {c['spearman_r']:.3f} (p = {c['spearman_p']:.2g}).")
    s = result["settings"]
    lines += ["", f"Vortex keys: {s['n_vortices']} vortices, strength {s['strength']}; block tiles "
              f"{s['block']}x{s['block']}; seed {result['seed']}; information loss with the default "
              "kernel (power, alpha 2, radius 3) and coupling (gaussian, h 0.25), averaged over "
              f"{result['n_info_loss_images']} test images.", "",
              "![originals and transforms](transforms.png) ![information loss against accuracy drop]"
              "(info_loss_vs_drop.png)", ""]
    return "\n".join(lines)


def _figure_transforms(samples: dict, path, force):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = list(samples)
    n_rows = len(next(iter(samples.values())))
    fig = Figure(figsize=(1.4 * len(names), 1.4 * n_rows + 0.4))
    FigureCanvasAgg(fig)
    axes = fig.subplots(n_rows, len(names), squeeze=False)
    for j, name in enumerate(names):
        for i in range(n_rows):
            img = samples[name][i]
            ax = axes[i][j]
            ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=255, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(name, fontsize=9)
    fig.tight_layout()
    with atomic_writer(path, force=force, name="figure") as fh:
        fig.savefig(fh, format="png", dpi=110, metadata={"Software": None})


def _figure_correlation(result, path, force):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    runs = result["runs"]
    x = np.array([r["info_loss"] for r in runs])
    y = np.array([100 * r["accuracy_drop"] for r in runs])
    fig = Figure(figsize=(6, 4.2))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    markers = dict(zip(result["models"], "osD^v<>"))
    for r, xi, yi in zip(runs, x, y):
        ax.scatter([xi], [yi], marker=markers.get(r["model"], "o"), color="C%d" % result["transforms"].index(r["transform"]))
        ax.annotate(f"{r['model']}/{r['transform']}", (xi, yi), fontsize=7, xytext=(3, 3), textcoords="offset points")
    if len(runs) >= 2 and np.ptp(x) > 0:
        slope, intercept = np.polyfit(x, y, 1)
        xs = np.linspace(x.min(), x.max(), 50)
        c = result["correlation"]
        label = f"fit: drop = {slope:.1f} L {intercept:+.1f}"
        if c["pearson_r"] is not None:
            label += f" (Pearson r = {c['pearson_r']:.2f}, Spearman = {c['spearman_r']:.2f})"
        ax.plot(xs, slope * xs + intercept, "k--", lw=1, label=label)
        ax.legend(fontsize=7, loc="upper left")
    ax.set_xlabel("information loss rate L on test images")
    ax.set_ylabel("accuracy drop from origin (points)")
    ax.set_title(f"{result['dataset']}: information loss vs accuracy drop", fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_writer(path, force=force, name="figure") as fh:
        fig.savefig(fh, format="png", dpi=110, metadata={"Software": None})


def _environment() -> dict:
    import jax

    dev = jax.devices()[0]
    return {
        "python": platform.python_version(),
        "jax": jax.__version__,
        "backend": jax.default_backend(),
        "device": getattr(dev, "device_kind", str(dev)),
        "machine": platform.machine(),
        "system": platform.system(),
    }


# --------------------------------------------------------------------------- main


def reproduce(
    dataset: str = "digits",
    models=DEFAULT_MODELS,
    epochs: int | None = None,
    transforms=TRANSFORMS,
    seed: int = 0,
    out="vortexnumba-results",
    data_dir=None,
    force: bool = False,
    *,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    train_limit: int | None = None,
    test_limit: int | None = None,
    info_loss_limit: int | None = None,
    progress: bool = True,
    log=None,
) -> dict:
    """Train every model on every transform of a data set and compare.

    Parameters
    ----------
    dataset : {"digits", "fashion-mnist", "mnist", "cifar10"}
        Which data (see :func:`vortexnumba.data.load`).
    models : str or list of str
        Subset of ``("mlp", "cnn", "resnet", "vit")``; a comma-separated string works.
    epochs : int, optional
        Training epochs; default per data set (``DEFAULT_EPOCHS``).
    transforms : str or list of str
        Subset of ``TRANSFORMS``; ``origin`` is always run (the drops are measured from it).
    seed : int
        Seeds the keys, the per-image permutations, the parameters and the batch order.
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
    progress : bool
        Progress bars per epoch.
    log : callable, optional
        Called with one line of text per finished run (default: print to stderr).

    Returns
    -------
    dict
        The content of ``results.json``.

    Examples
    --------
    >>> res = reproduce(out="/tmp/vn-results", force=True)  # doctest: +SKIP
    >>> res["correlation"]["spearman_r"] > 0  # doctest: +SKIP
    True
    """
    t_all = time.perf_counter()
    if log is None:
        def log(msg):
            print(msg, file=sys.stderr, flush=True)
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

    runs = []
    samples = {}
    origin_accuracy = {}
    for tname in transform_names:
        apply, _key = _make_transform(tname, train_x.shape[1:], settings, seed)
        t0 = time.perf_counter()
        enc_train, _ = apply(train_x, "train")
        enc_test, test_src = apply(test_x, "test")
        info_src = test_src if np.ndim(test_src) == 1 else test_src[:n_info]
        loss = float(np.mean(information_loss(test_x[:n_info], info_src)))
        loss = min(max(loss, 0.0), 1.0)  # rounding can put the identity a hair below 0
        t_info = time.perf_counter() - t0
        samples[tname] = enc_test[:n_show]
        for mname in model_names:
            model = make_model(mname, train_x.shape[1:], n_classes)
            t1 = time.perf_counter()
            res = train(model, enc_train, train_y, epochs=int(epochs), batch_size=batch_size,
                        learning_rate=learning_rate, seed=int(seed), progress=progress, desc=f"{mname}/{tname}")
            acc = evaluate(model, res, enc_test, test_y)
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
            log(f"{name} {mname:6s} {tname:9s} accuracy {100 * acc:6.2f}%  drop {100 * run['accuracy_drop']:+6.2f}  "
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
        "n_train": int(len(train_x)),
        "n_test": int(len(test_x)),
        "n_info_loss_images": int(n_info),
        "settings": settings,
        "training": {"optimizer": "adamw", "learning_rate": learning_rate, "schedule": "cosine decay to 0",
                     "weight_decay": 1e-4, "batch_size": batch_size},
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
        fh.write(_markdown(result))
    _figure_transforms(samples, out_dir / "transforms.png", force)
    _figure_correlation(result, out_dir / "info_loss_vs_drop.png", force)
    return result
