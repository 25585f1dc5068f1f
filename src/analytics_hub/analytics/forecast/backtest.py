"""Back-testing: how wrong a model would have been had it been run earlier on this series.

The last ``origins`` windows of ``horizon`` points are cut off one at a time; the model is
fit on everything before each window, forecasts it, and is scored against what actually
happened. The API reports this beside a forecast so a user can judge how far to trust it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from analytics_hub.analytics.forecast import metrics
from analytics_hub.analytics.forecast.base import Forecaster, check_values, usable_seasons
from analytics_hub.errors import ValidationError


@dataclass(frozen=True)
class BacktestResult:
    """Errors of out-of-sample forecasts, averaged over the back-test windows.

    ``mase`` and ``msis`` are ``None`` when the scale is undefined (a history that
    repeats exactly).
    """

    horizon: int
    origins: int
    level: float
    mae: float
    smape: float
    mase: float | None
    msis: float | None
    coverage: float


def backtest(
    make: Callable[[], Forecaster],
    values: ArrayLike,
    season_length: int | Sequence[int],
    horizon: int,
    *,
    origins: int = 1,
    level: float = 0.95,
) -> BacktestResult:
    """Back-test the model ``make()`` builds over the last ``origins`` windows.

    The window shrinks when the history is short, so that every fit keeps at least half
    of the history; the result's ``horizon`` says what was used.
    """
    y = check_values(values)
    if origins < 1 or horizon < 1:
        raise ValidationError("a back-test needs at least one origin and a horizon of one")
    window = min(horizon, (y.size // 2) // origins)
    if window < 1:
        raise ValidationError(f"{y.size} points are too few to back-test {origins} windows")
    seasons = usable_seasons(season_length, y.size)
    season = seasons[0] if seasons else 1
    rows: list[tuple[float, float, float | None, float | None, float]] = []
    for k in range(origins, 0, -1):
        cut = y.size - k * window
        train, test = y[:cut], y[cut : cut + window]
        pred = make().fit(train, season_length).predict(window, level)
        try:
            scaled_mase: float | None = metrics.mase(train, test, pred.mean, season)
            scaled_msis: float | None = metrics.msis(
                train, test, pred.lower, pred.upper, season, level
            )
        except ValueError:
            scaled_mase = scaled_msis = None
        rows.append(
            (
                float(np.mean(np.abs(test - pred.mean))),
                metrics.smape(test, pred.mean),
                scaled_mase,
                scaled_msis,
                metrics.coverage(test, pred.lower, pred.upper),
            )
        )

    def average(i: int) -> float | None:
        picked = [r[i] for r in rows]
        if any(v is None for v in picked):
            return None
        return float(np.mean([v for v in picked if v is not None]))

    return BacktestResult(
        horizon=window,
        origins=origins,
        level=level,
        mae=float(np.mean([r[0] for r in rows])),
        smape=float(np.mean([r[1] for r in rows])),
        mase=average(2),
        msis=average(3),
        coverage=float(np.mean([r[4] for r in rows])),
    )
