"""Prediction intervals for models without a likelihood: back-test quantiles of the history.

A naive-type forecast of step ``j`` repeats the value ``lag(j)`` steps back (``j`` for the
naive method, a whole number of seasons for the seasonal naive). Its error distribution is
therefore observable in the history itself: the differences ``z[t] - z[t - lag]``. The
interval is the point forecast plus the empirical quantiles of those differences, which
needs no normality assumption and widens with the horizon exactly as the data do.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

from analytics_hub.analytics.forecast.base import FloatArray

#: Fewer historical differences than this give too noisy a quantile; longer lags borrow
#: the spread of the longest well-observed lag instead (scaled like a random walk).
MIN_ERRORS = 20


def normal_quantile(level: float) -> float:
    """The two-sided standard normal quantile for a central interval at ``level``."""
    # The standard library's inverse CDF: scipy.stats would cost half a second at startup.
    return NormalDist().inv_cdf(0.5 + level / 2.0)


def lagged_error_bands(
    z: FloatArray, point: FloatArray, lags: list[int], level: float
) -> tuple[FloatArray, FloatArray]:
    """Lower and upper bounds around ``point`` from the history's ``lag``-step differences.

    ``lags[j]`` is how far back step ``j`` of the forecast reaches (every lag must be
    shorter than the history). A lag too long to leave :data:`MIN_ERRORS` differences
    borrows the quantiles of the longest well-observed lag in ``lags`` (so a seasonal lag
    borrows a seasonal one, never a lag out of phase), scaled by ``sqrt(lag / borrowed)``,
    the random-walk growth of the spread.
    """
    n = z.size
    distinct = sorted(set(lags))
    observed = [lag for lag in distinct if n - lag >= MIN_ERRORS] or distinct[:1]
    if observed[0] >= n:
        raise ValueError(f"a lag of {observed[0]} needs a history longer than {n} points")
    alpha = 1.0 - level
    quantiles: dict[int, tuple[float, float]] = {}
    for lag in observed:
        diffs = z[lag:] - z[:-lag]
        lo, hi = np.quantile(diffs, [alpha / 2.0, 1.0 - alpha / 2.0])
        quantiles[lag] = (float(lo), float(hi))
    lower = np.empty_like(point)
    upper = np.empty_like(point)
    for j, lag in enumerate(lags):
        used = lag if lag in quantiles else max(q for q in observed if q <= lag)
        lo, hi = quantiles[used]
        scale = float(np.sqrt(lag / used))
        lower[j] = point[j] + lo * scale
        upper[j] = point[j] + hi * scale
    return lower, upper
