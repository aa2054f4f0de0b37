"""Training networks on (encrypted) images with JAX and Equinox.

The public API::

    import vortexnumba as vn
    model = vn.learn.make_model("cnn", (28, 28), 10, seed=0)
    result = vn.learn.train(model, train_x, train_y, epochs=5)
    accuracy = vn.learn.evaluate(result, test_x, test_y)
    labels = vn.learn.predict(result, test_x)
    vn.reproduce("fashion-mnist", models="cnn", out="results")   # the paper's experiment

Modules, lowest layer first (each imports only those above it):

- ``_checks``    -- argument checks of the training code (on top of ``vortexnumba._validate``)
- ``_layers``    -- the base class, initialisers and layer calls every model uses
- ``_models``    -- MLP, CNN, small ResNet, Tanaka's adaptation network
- ``_resnet``    -- ResNet-18 with batch norm (Equinox state)
- ``_vit``       -- the vision transformers
- ``_registry``  -- the dict of model names and ``make_model``
- ``_encrypt_model`` -- a ViT transformed by a block-wise key
- ``_pipeline``  -- device placement, device-resident data, encryption on the device
- ``_xla``       -- the XLA compiler options for the CPU (why and when)
- ``_train``     -- training, evaluation, prediction
- ``_config``    -- the experiment as plain data
- ``_report``    -- the experiment's statistics, Markdown and figures
- ``_reproduce`` -- the paper's experiment
"""

from ._config import ExperimentConfig
from ._encrypt_model import encrypt_model
from ._layers import Classifier
from ._pipeline import Pipeline, encrypt_on_device, fits_on_device
from ._registry import MODEL_NAMES, MODELS, make_model, n_params
from ._reproduce import reproduce
from ._train import (
    AdamWCosine,
    CompiledStep,
    TrainResult,
    adamw_cosine,
    compiled_step,
    default_optimizer,
    evaluate,
    predict,
    train,
)

__all__ = ["MODELS", "MODEL_NAMES", "AdamWCosine", "Classifier", "CompiledStep", "ExperimentConfig", "Pipeline",
           "TrainResult", "adamw_cosine", "compiled_step", "default_optimizer", "encrypt_model", "encrypt_on_device",
           "evaluate", "fits_on_device", "make_model", "n_params", "predict", "reproduce", "train"]
