"""Seasonality detection and classical multiplicative decomposition (as M4's Naive2 uses).

Naive2, the M4 reference that OWA is relative to, seasonally adjusts a series only when a
90% autocorrelation test at the seasonal lag says it is seasonal, and then with the
indices of a classical multiplicative decomposition. Both are defined here from their
textbook formulas so that our Naive2 reproduces the organisers' forecasts.
"""

from __future__ import annotations

import numpy as np

from analytics_hub.analytics.forecast.base import FloatArray

#: One-sided 90% normal quantile used by the M4 seasonality test.
_T_CRIT = 1.645


def autocorrelation(y: FloatArray, max_lag: int) -> FloatArray:
    """Sample autocorrelations ``r_1 .. r_max_lag`` (the usual biased estimator)."""
    x = y - y.mean()
    denom = float(np.dot(x, x))
    if denom == 0.0:
        return np.zeros(max_lag)
    return np.array([np.dot(x[k:], x[: x.size - k]) / denom for k in range(1, max_lag + 1)])


def is_seasonal(y: FloatArray, period: int) -> bool:
    """The M4 test: ``|r_m|`` exceeds 1.645 times its standard error under no seasonality.

    The standard error is Bartlett's, ``sqrt((1 + 2 * sum_{k<m} r_k^2) / n)``. Series
    shorter than three periods are never called seasonal (too little evidence).
    """
    if period < 2 or y.size < 3 * period:
        return False
    r = autocorrelation(y, period)
    limit = _T_CRIT * np.sqrt((1.0 + 2.0 * float(np.sum(r[:-1] ** 2))) / y.size)
    return bool(abs(r[-1]) > limit)


def centred_moving_average(y: FloatArray, period: int) -> FloatArray:
    """The centred moving average of one period (2 x m for even m); NaN at both ends."""
    if period % 2 == 0:
        weights = np.r_[0.5, np.ones(period - 1), 0.5] / period
    else:
        weights = np.ones(period) / period
    half = weights.size // 2
    trend = np.full(y.size, np.nan)
    trend[half : y.size - half] = np.convolve(y, weights, mode="valid")
    return trend


def multiplicative_indices(y: FloatArray, period: int) -> FloatArray:
    """Seasonal indices of a classical multiplicative decomposition, averaging to one.

    Index ``i`` applies to positions ``t`` with ``t % period == i`` (``t`` counted from the
    first value), so a forecast at position ``n + j`` uses index ``(n + j) % period``.
    """
    ratio = y / centred_moving_average(y, period)
    figure = np.array([np.nanmean(ratio[i::period]) for i in range(period)])
    return np.asarray(figure / figure.mean(), dtype=np.float64)
