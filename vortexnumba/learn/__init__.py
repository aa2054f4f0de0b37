"""Training networks on (encrypted) images with JAX and Equinox.

The public API::

    import vortexnumba as vn
    model = vn.learn.make_model("cnn", (28, 28), 10, seed=0)
    result = vn.learn.train(model, train_x, train_y, epochs=5)
    accuracy = vn.learn.evaluate(result, test_x, test_y)
    labels = vn.learn.predict(result, test_x)
    vn.reproduce("fashion-mnist", models="cnn", out="results")   # the paper's experiment

Modules:

- ``_models``    -- the registry and the small models (MLP, CNN, ResNet)
- ``_resnet``    -- ResNet-18 with batch norm (Equinox state)
- ``_vit``       -- the vision transformers
- ``_pipeline``  -- device placement, device-resident data, encryption on the device
- ``_train``     -- training, evaluation, prediction
- ``_xla``       -- the XLA compiler options for the CPU (why and when)
- ``_reproduce`` -- the paper's experiment
- ``_report``    -- its statistics, Markdown and figures
"""

from ._models import MODELS, Classifier, make_model, n_params
from ._pipeline import encrypt_on_device, fits_on_device
from ._reproduce import reproduce
from ._train import TrainResult, evaluate, predict, train

__all__ = ["MODELS", "Classifier", "TrainResult", "encrypt_on_device", "evaluate", "fits_on_device", "make_model",
           "n_params", "predict", "reproduce", "train"]
