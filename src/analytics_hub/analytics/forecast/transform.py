"""Variance-stabilising transform applied before a model fits and undone after it predicts.

Usage and cost series are positive and their daily swing grows with their level, so models
fit on the logarithm: a multiplicative pattern becomes additive, and intervals come back
asymmetric and never below zero. A series with zeros or negatives is modelled as it is.
Quantiles survive a monotone transform, so interval bounds map back exactly; the point
forecast maps back to the median, which is what sMAPE/MAE-optimal forecasts estimate anyway.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from analytics_hub.analytics.forecast.base import FloatArray
from analytics_hub.errors import ValidationError

TransformMode = Literal["auto", "log", "none"]


class Transform:
    """A monotone transform with its inverse; the identity unless ``log`` is set."""

    def __init__(self, *, log: bool) -> None:
        self.log = log

    def forward(self, y: FloatArray) -> FloatArray:
        """Map values to the modelling scale."""
        return np.log(y) if self.log else y

    def inverse(self, z: FloatArray) -> FloatArray:
        """Map model-scale values (point forecasts or interval bounds) back."""
        if not self.log:
            return z
        # Clip before exp: a runaway model-scale bound would overflow to inf, and a bound
        # of e^700 is as useless as inf without the floating-point error.
        return np.exp(np.clip(z, -700.0, 700.0))


def choose_transform(y: FloatArray, mode: TransformMode = "auto") -> Transform:
    """The log transform when ``mode`` allows it and every value is positive."""
    if mode == "none":
        return Transform(log=False)
    positive = bool(np.all(y > 0.0))
    if mode == "log" and not positive:
        raise ValidationError("the log transform needs a strictly positive series")
    return Transform(log=positive)
