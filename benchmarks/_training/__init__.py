"""The pieces of ``bench_training.py``: PyTorch twins of the models, the timed harness, the report.

- ``torch_models`` -- ``make_model("cnn")`` and ``make_model("resnet18")`` written in PyTorch
- ``harness``      -- one framework's training and evaluation, one step alone, the compiler-option A/B
- ``report``       -- the Markdown table of the measurements

JAX must be configured (``XLA_FLAGS``) before these are imported: ``bench_training.py`` does that first.
"""
