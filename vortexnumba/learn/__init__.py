"""Training networks on (encrypted) images with JAX.

- ``_models``    -- the networks
- ``_train``     -- training and evaluation loops
- ``_reproduce`` -- the paper's experiment and its report
"""

from ._models import MODELS, make_model
from ._train import TrainResult, evaluate, predict, train
from ._reproduce import reproduce

__all__ = ["MODELS", "TrainResult", "evaluate", "make_model", "predict", "reproduce", "train"]
