"""The experiment as plain data: what :func:`vortexnumba.reproduce` runs and ``results.json`` records.

One frozen dataclass holds every setting that changes the numbers of the
experiment (data, models, transforms, training). ``vn.reproduce`` takes it
(or builds it from keywords), the command line builds it from its flags, and
``results.json`` stores it under ``"config"`` exactly as it was used, so that
``ExperimentConfig.from_dict(doc["config"])`` runs the same experiment again.
Where a run writes its files and how it reports progress are not part of it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .. import data as _data
from .._validate import as_positive_float, as_seed
from ._checks import optional_positive_int, positive_int
from ._pipeline import LOOPS
from ._registry import MODELS

__all__ = ["DEFAULT_EPOCHS", "DEFAULT_MODELS", "DEFAULT_TRANSFORMS", "TRANSFORMS", "ExperimentConfig",
           "config_from_keywords", "parse_names"]

#: Every transform :func:`vortexnumba.reproduce` knows, ``origin`` first.
TRANSFORMS = ("origin", "vor", "random", "perm", "block", "vor-paper", "le", "ele", "etc", "pe", "pe-each",
              "blockwise")
#: The transforms run when none are named: the paper's and the pixel-moving baselines.
DEFAULT_TRANSFORMS = ("origin", "vor", "random", "perm", "block", "vor-paper")
#: Epochs when none are given: enough for a useful result on a CPU.
DEFAULT_EPOCHS = {"digits": 20, "fashion-mnist": 5, "mnist": 5, "cifar10": 10}
DEFAULT_MODELS = ("cnn", "mlp")
ENCRYPT_ON = ("host", "device")


def parse_names(value: str | Sequence[str], allowed: Sequence[str], name: str) -> tuple[str, ...]:
    """A comma-separated string or a sequence of names, checked against ``allowed``; order kept, repeats dropped.

    Examples
    --------
    >>> parse_names("cnn, mlp,cnn", ("cnn", "mlp"), "models")
    ('cnn', 'mlp')
    """
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
    return tuple(dict.fromkeys(items))


def config_from_keywords(cls: type, name: str | None, settings: dict, what: str) -> Any:
    """``cls(**settings)`` with ``name`` as its ``dataset``, and a ``TypeError`` naming any keyword that is no field.

    Shared by the frozen configurations of the experiment and of the field's
    benchmark; ``what`` names the kind of setting in the message.

    Examples
    --------
    >>> config_from_keywords(ExperimentConfig, "digits", {"epochs": 2}, "experiment").epochs
    2
    >>> config_from_keywords(ExperimentConfig, None, {"epoch": 2}, "experiment")
    Traceback (most recent call last):
    ...
    TypeError: unknown experiment setting(s) 'epoch'; the settings are ...
    """
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(settings) - names)
    if unknown:
        raise TypeError(f"unknown {what} setting(s) {', '.join(map(repr, unknown))}; "
                        f"the settings are {', '.join(sorted(names))}")
    settings = dict(settings)
    if name is not None:
        if "dataset" in settings:
            raise TypeError(f"dataset given twice: {name!r} and {settings['dataset']!r}")
        settings["dataset"] = name
    return cls(**settings)


@dataclass(frozen=True)
class ExperimentConfig:
    """Every setting of one :func:`vortexnumba.reproduce` experiment, checked when it is made.

    Parameters
    ----------
    dataset : {"digits", "fashion-mnist", "mnist", "cifar10"}
        Which data (see :func:`vortexnumba.data.load`).
    models : str or sequence of str
        Names of :data:`vortexnumba.learn.MODELS` (a comma-separated string works).
    transforms : str or sequence of str
        Names of ``TRANSFORMS``; ``origin`` is always run, first (the drops are measured from it).
    epochs : int, optional
        Training epochs; default per data set (``DEFAULT_EPOCHS``), filled in here.
    seed : int
        Seeds the keys, the per-image maps, the initial weights and the batch order.
    batch_size : int
        Images per training step.
    learning_rate, weight_decay : float
        AdamW's peak rate (cosine decay to 0) and decoupled weight decay.
    train_limit, test_limit : int, optional
        Use only the first this many training / test images.
    info_loss_limit : int, optional
        Average the information loss over only the first this many test images.
    encrypt_on : {"host", "device"}, optional
        Where keyed transforms run; None: decided when the run starts (device
        when JAX has an accelerator), and recorded as decided.
    loop : {"step", "scan"}
        The training loop (:class:`vortexnumba.learn.Pipeline`).

    Examples
    --------
    >>> from vortexnumba.learn import ExperimentConfig
    >>> cfg = ExperimentConfig("digits", models="mlp", transforms="vor")
    >>> cfg.models, cfg.transforms, cfg.epochs
    (('mlp',), ('origin', 'vor'), 20)
    >>> ExperimentConfig.from_dict(cfg.to_dict()) == cfg
    True
    """

    dataset: str = "digits"
    models: tuple = DEFAULT_MODELS
    transforms: tuple = DEFAULT_TRANSFORMS
    epochs: int | None = None
    seed: int = 0
    batch_size: int = 128
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    train_limit: int | None = None
    test_limit: int | None = None
    info_loss_limit: int | None = None
    encrypt_on: str | None = None
    loop: str = "step"

    def __post_init__(self):
        put = object.__setattr__
        dataset = _data.check_name(self.dataset)
        put(self, "dataset", dataset)
        put(self, "models", parse_names(self.models, tuple(MODELS), "models"))
        transforms = [t for t in parse_names(self.transforms, TRANSFORMS, "transforms") if t != "origin"]
        put(self, "transforms", ("origin", *transforms))
        epochs = DEFAULT_EPOCHS[dataset] if self.epochs is None else self.epochs
        put(self, "epochs", positive_int(epochs, "epochs"))
        if self.seed is None:
            raise TypeError("seed must be a non-negative int, got None")
        put(self, "seed", as_seed(self.seed))
        put(self, "batch_size", positive_int(self.batch_size, "batch_size"))
        put(self, "learning_rate", as_positive_float(self.learning_rate, "learning_rate"))
        put(self, "weight_decay", as_positive_float(self.weight_decay, "weight_decay", inclusive=True))
        for name in ("train_limit", "test_limit", "info_loss_limit"):
            put(self, name, optional_positive_int(getattr(self, name), name))
        if self.encrypt_on not in (None, *ENCRYPT_ON):
            raise ValueError(f"encrypt_on must be 'host', 'device' or None, got {self.encrypt_on!r}")
        if self.loop not in LOOPS:
            raise ValueError(f"loop must be one of {', '.join(LOOPS)}, got {self.loop!r}")

    @classmethod
    def from_keywords(cls, name: str | None = None, /, **settings: Any) -> ExperimentConfig:
        """Build from keywords (``name``: the data set), with a ``TypeError`` naming any keyword that is not a setting.

        Examples
        --------
        >>> ExperimentConfig.from_keywords("digits", epochs=2).epochs
        2
        """
        return config_from_keywords(cls, name, settings, "experiment")

    def to_dict(self) -> dict:
        """The settings as JSON-ready plain data (tuples as lists).

        Examples
        --------
        >>> ExperimentConfig("digits", models="mlp").to_dict()["models"]
        ['mlp']
        """
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, doc: dict) -> ExperimentConfig:
        """The inverse of :meth:`to_dict` (e.g. ``results.json``'s ``"config"``).

        Examples
        --------
        >>> ExperimentConfig.from_dict({"dataset": "digits", "epochs": 3}).epochs
        3
        """
        if not isinstance(doc, dict):
            raise TypeError(f"doc must be a dict, got {type(doc).__name__}")
        return cls.from_keywords(**doc)
