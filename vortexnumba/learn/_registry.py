"""The registry of models: one plain dict from name to constructor, and ``make_model``.

Every constructor is called as ``constructor(image_shape, n_classes, key,
**options)`` with ``image_shape`` a ``(H, W, C)`` tuple and ``key`` a JAX
PRNG key. Adding a model is adding an entry to :data:`MODELS`; the names that
the command line and :func:`vortexnumba.reproduce` accept are derived from it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import numpy as np

from .._validate import as_int
from ._checks import model_seed, positive_int
from ._layers import Classifier
from ._models import CNN, MLP, AdaptCNN, SmallResNet
from ._resnet import ResNet18
from ._vit import ViT

__all__ = ["MODELS", "MODEL_NAMES", "make_model", "n_params"]


def _vit(image_shape, n_classes, key, *, patch=None):
    return ViT.paper(image_shape, n_classes, key, patch)


def _vit_tiny(image_shape, n_classes, key, *, patch=None):
    return ViT.tiny(image_shape, n_classes, key, patch)


#: Model name -> constructor ``(image_shape, n_classes, key, **options) -> Classifier``.
MODELS: dict[str, Callable[..., Classifier]] = {
    "mlp": MLP,
    "cnn": CNN,
    "resnet": SmallResNet,
    "resnet18": ResNet18,
    "vit": _vit,
    "vit-tiny": _vit_tiny,
    "adapt-cnn": AdaptCNN,
}

#: The names :func:`make_model` accepts, in registry order.
MODEL_NAMES: tuple[str, ...] = tuple(MODELS)

#: Options that are side lengths or widths: positive ints.
_SIZE_OPTIONS = ("block", "patch", "features", "width")

# One tree structure per architecture and options: batch norm's state markers are fresh objects in
# every new model, and they are part of the structure that compiled steps are cached on. Reusing the
# first model's structure (its markers) with the new arrays lets every model of an architecture share
# one compiled training step.
_STRUCTURES: dict = {}


def _options(name: str, options: dict) -> dict:
    params = inspect.signature(MODELS[name]).parameters
    allowed = [p for p in params if p not in ("self", "image_shape", "n_classes", "key")]
    unknown = [k for k in options if k not in allowed]
    if unknown:
        raise TypeError(f"model {name!r} takes no option {', '.join(map(repr, unknown))}; "
                        f"its options: {', '.join(allowed) or 'none'}")
    out = {}
    for k, v in options.items():
        if k in _SIZE_OPTIONS and v is not None:
            v = positive_int(v, k)
        out[k] = v
    return out


def _image_shape(image_shape) -> tuple[int, int, int]:
    try:
        items = tuple(image_shape)
    except TypeError:
        raise TypeError(f"image_shape must be (H, W) or (H, W, C), got {image_shape!r}") from None
    shape = tuple(as_int(s, "image_shape") for s in items)
    if len(shape) == 2:
        shape = shape + (1,)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"image_shape must be (H, W) or (H, W, C) of positive ints, got {image_shape!r}")
    return shape


def make_model(name: str, image_shape: tuple[int, ...], n_classes: int = 10, *, seed: int = 0,
               **options: Any) -> Classifier:
    """Build a classifier with its initial parameters.

    Parameters
    ----------
    name : str
        A key of :data:`MODELS`: ``mlp`` (two hidden layers), ``cnn`` (two
        convolutions and a dense layer), ``resnet`` (a small ResNet without
        normalisation), ``resnet18`` (the CIFAR-style ResNet-18 of the paper:
        batch norm, 11.2 M parameters at 32x32x3), ``vit`` (a ViT sized after
        the paper, see :class:`vortexnumba.learn._vit.ViT`), ``vit-tiny`` (a
        72k-parameter ViT for CPU runs), ``adapt-cnn`` (Tanaka's adaptation
        network in front of the CNN, for block-wise encryption).
    image_shape : tuple of int
        ``(H, W)`` or ``(H, W, C)`` of one image.
    n_classes : int
        Number of classes (>= 2).
    seed : int
        Seeds the initial weights (``jax.random.PRNGKey(seed)``).
    **options
        Model options: ``patch`` for ``vit`` and ``vit-tiny`` (patch side;
        default the largest of 4, 2, 1 dividing both sides with 16 tokens or
        more), ``block`` (default 4) and ``features`` (default 16) for
        ``adapt-cnn``.

    Returns
    -------
    Classifier
        An ``equinox.Module``; ``model(x, state) -> (logits, state)`` on a
        float batch ``(B, H, W, C)``. Models with batch norm carry their
        initial statistics; ``eqx.nn.State(model)`` gives the state to pass.

    Examples
    --------
    >>> import equinox as eqx, jax.numpy as jnp
    >>> from vortexnumba.learn import make_model, n_params
    >>> model = make_model("cnn", (8, 8), 10, seed=0)
    >>> logits, _ = model(jnp.zeros((2, 8, 8, 1)), eqx.nn.State(model))
    >>> logits.shape
    (2, 10)
    >>> make_model("vit-tiny", (8, 8), 10, patch=4).patch
    4

    ``make_model("resnet18", (32, 32, 3), 10)`` has 11,173,962 parameters
    (``n_params``; building it takes seconds, so it is not run here).
    """
    if not isinstance(name, str) or name.lower() not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODEL_NAMES)}; got {name!r}")
    name = name.lower()
    shape = _image_shape(image_shape)
    n_classes = as_int(n_classes, "n_classes")
    if n_classes < 2:
        raise ValueError(f"n_classes must be an int >= 2, got {n_classes!r}")
    seed = model_seed(seed)
    opts = _options(name, options)
    model = MODELS[name](shape, n_classes, jax.random.PRNGKey(seed), **opts)
    leaves, treedef = jax.tree_util.tree_flatten(model)
    treedef = _STRUCTURES.setdefault((name, shape, n_classes, tuple(sorted(opts.items()))), treedef)
    return jax.tree_util.tree_unflatten(treedef, leaves)


def n_params(model: Classifier) -> int:
    """Number of trainable scalars in ``model`` (batch-norm statistics excluded).

    Examples
    --------
    >>> from vortexnumba.learn import make_model, n_params
    >>> n_params(make_model("mlp", (8, 8), 10))
    50826
    """
    model = eqx.nn.delete_init_state(model)
    return int(sum(np.size(a) for a in jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_inexact_array))))
