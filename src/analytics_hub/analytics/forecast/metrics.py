"""Forecast accuracy as the M4 competition scores it: sMAPE, MASE, OWA and MSIS.

Per series (in-sample ``x``, actuals ``y``, forecasts ``f`` over horizon ``h``, season
``m``):

- sMAPE = 100/h * sum 2|y - f| / (|y| + |f|), a percentage from 0 to 200;
- MASE = mean |y - f| / scale, where ``scale`` is the in-sample mean absolute error of the
  seasonal naive forecast, mean |x_t - x_{t-m}|;
- MSIS = mean of [(U - L) + 2/a (L - y) 1{y < L} + 2/a (y - U) 1{y > U}] / scale, the
  interval score at coverage 1 - a;
- OWA = (sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2) / 2, on averages over a set of series.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from analytics_hub.analytics.forecast.base import FloatArray


def _pair(actual: ArrayLike, forecast: ArrayLike) -> tuple[FloatArray, FloatArray]:
    y = np.asarray(actual, dtype=np.float64)
    f = np.asarray(forecast, dtype=np.float64)
    if y.shape != f.shape or y.ndim != 1 or y.size == 0:
        raise ValueError("actuals and forecasts must be non-empty 1-D arrays of one length")
    return y, f


def smape(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Symmetric mean absolute percentage error (0 to 200); 0/0 terms count as 0."""
    y, f = _pair(actual, forecast)
    denom = np.abs(y) + np.abs(f)
    terms = np.divide(2.0 * np.abs(y - f), denom, out=np.zeros_like(y), where=denom > 0)
    return float(100.0 * terms.mean())


def mape(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Mean absolute percentage error; undefined (ValueError) if an actual is zero."""
    y, f = _pair(actual, forecast)
    if np.any(y == 0.0):
        raise ValueError("MAPE is undefined when an actual value is zero")
    return float(100.0 * np.mean(np.abs((y - f) / y)))


def seasonal_naive_scale(insample: ArrayLike, season: int) -> float:
    """In-sample mean absolute error of the seasonal naive forecast (MASE's denominator).

    A history no longer than one season falls back to the naive (lag-1) error, so that a
    scale exists at all. A zero scale (a history that repeats exactly) is an error: every
    scaled measure would be infinite.
    """
    x = np.asarray(insample, dtype=np.float64)
    m = season if x.size > season else 1
    if x.size <= m:
        raise ValueError("the in-sample series needs at least two points")
    scale = float(np.mean(np.abs(x[m:] - x[:-m])))
    if scale == 0.0:
        raise ValueError("scaled errors are undefined: the in-sample naive error is zero")
    return scale


def mase(insample: ArrayLike, actual: ArrayLike, forecast: ArrayLike, season: int) -> float:
    """Mean absolute scaled error (scale: in-sample seasonal naive error)."""
    y, f = _pair(actual, forecast)
    return float(np.mean(np.abs(y - f)) / seasonal_naive_scale(insample, season))


def msis(
    insample: ArrayLike,
    actual: ArrayLike,
    lower: ArrayLike,
    upper: ArrayLike,
    season: int,
    level: float = 0.95,
) -> float:
    """Mean scaled interval score of a ``level`` interval (M4's interval measure)."""
    y, lo = _pair(actual, lower)
    _, hi = _pair(actual, upper)
    a = 1.0 - level
    score = (
        (hi - lo) + (2.0 / a) * np.clip(lo - y, 0.0, None) + (2.0 / a) * np.clip(y - hi, 0.0, None)
    )
    return float(score.mean() / seasonal_naive_scale(insample, season))


def coverage(actual: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> float:
    """Share of actuals inside their interval (bounds included)."""
    y, lo = _pair(actual, lower)
    _, hi = _pair(actual, upper)
    return float(np.mean((y >= lo) & (y <= hi)))


def owa(smape_value: float, mase_value: float, smape_naive2: float, mase_naive2: float) -> float:
    """Overall weighted average relative to Naive2 (pass set averages, not per series)."""
    return 0.5 * (smape_value / smape_naive2 + mase_value / mase_naive2)
