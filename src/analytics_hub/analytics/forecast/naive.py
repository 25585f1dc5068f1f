"""The baselines: seasonal naive, and Naive2 (the M4 reference that OWA is measured against).

Neither has a likelihood, so both take their intervals from back-test quantiles of the
history (:mod:`analytics_hub.analytics.forecast.intervals`), on the log scale when the
series is positive so that the bands scale with the level.
"""

from __future__ import annotations

import numpy as np

from analytics_hub.analytics.forecast.base import FloatArray, Forecaster, Prediction
from analytics_hub.analytics.forecast.intervals import lagged_error_bands
from analytics_hub.analytics.forecast.seasonality import is_seasonal, multiplicative_indices
from analytics_hub.analytics.forecast.transform import Transform, choose_transform


class SeasonalNaive(Forecaster):
    """Repeat the last full season: step ``j`` equals the value one season before it.

    With no usable season it is the naive forecast (repeat the last value).
    """

    name = "seasonal_naive"

    def __init__(self) -> None:
        super().__init__()
        self._z: FloatArray = np.empty(0)
        self._transform = Transform(log=False)

    def _fit(self, y: FloatArray) -> None:
        self._transform = choose_transform(y)
        self._z = self._transform.forward(y)

    def _predict(self, horizon: int, level: float) -> Prediction:
        m, n = self.season, self._z.size
        steps = np.arange(horizon)
        point = self._z[n - m + steps % m]
        # Step j (0-based) looks back ceil((j + 1) / m) whole seasons.
        lags = [m * (int(j) // m + 1) for j in steps]
        lower, upper = lagged_error_bands(self._z, point, lags, level)
        inv = self._transform.inverse
        return Prediction(inv(point), inv(lower), inv(upper), level)


class Naive2(Forecaster):
    """Naive forecast of the seasonally adjusted series, re-seasonalised (M4's Naive2).

    The series is adjusted only if it passes the M4 seasonality test at the primary
    period, with classical multiplicative indices; otherwise this is the plain naive
    forecast. Multiplicative indices need positive values, so a series with zeros or
    negatives is never adjusted.
    """

    name = "naive2"

    def __init__(self) -> None:
        super().__init__()
        self._adjusted: FloatArray = np.empty(0)
        self._indices: FloatArray = np.ones(1)
        self._transform = Transform(log=False)

    def _fit(self, y: FloatArray) -> None:
        m = self.season
        if m > 1 and bool(np.all(y > 0.0)) and is_seasonal(y, m):
            self._indices = multiplicative_indices(y, m)
        else:
            self._indices = np.ones(1)
        positions = np.arange(y.size) % self._indices.size
        self._adjusted = y / self._indices[positions]
        self._transform = choose_transform(self._adjusted)

    def _predict(self, horizon: int, level: float) -> Prediction:
        n = self._adjusted.size
        z = self._transform.forward(self._adjusted)
        point = np.full(horizon, z[-1])
        lower, upper = lagged_error_bands(z, point, [j + 1 for j in range(horizon)], level)
        index = self._indices[np.arange(n, n + horizon) % self._indices.size]
        inv = self._transform.inverse
        return Prediction(inv(point) * index, inv(lower) * index, inv(upper) * index, level)
