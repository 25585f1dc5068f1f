"""Small neural networks for the optional ``deep`` extra (PyTorch), shared by the
anomaly detectors and the forecaster that use them.

Nothing here imports torch at import time: :func:`torch_available` only looks for the
package, and :mod:`.training` (the one module that imports torch) is imported by the
models when they first fit. The core package therefore works, and type-checks, without
torch installed.

Training happens in torch; scoring and forecasting run the trained weights in numpy
(:mod:`.inference`), row by row in the same order whatever the batch size. That keeps
a detector's promise that a batch scores exactly what the same rows one by one would
(BLAS kernels, torch's included, may sum in another order for another batch size), and
keeps a detector's state free of torch objects, so it pickles like the others.
"""

from __future__ import annotations

import importlib.util

from analytics_hub.analytics.neural.inference import (
    DenseWeights,
    LstmWeights,
    dense_forward,
    lstm_forward,
)


def torch_available() -> bool:
    """Whether PyTorch is installed (looked up, not imported: importing it takes seconds)."""
    return importlib.util.find_spec("torch") is not None


__all__ = ["DenseWeights", "LstmWeights", "dense_forward", "lstm_forward", "torch_available"]
