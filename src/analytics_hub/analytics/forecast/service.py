"""One call from a time series to a dated forecast: values, start time and step in.

This is what the HTTP API and the alerting hooks call. It picks the seasonal periods from
the step when none are given, fits the named model (the ensemble by default), back-tests
it on the end of the history, and dates every forecast step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from numpy.typing import ArrayLike
from threadpoolctl import threadpool_limits

from analytics_hub.analytics.forecast.backtest import BacktestResult, backtest
from analytics_hub.analytics.forecast.base import FloatArray, check_level, check_values
from analytics_hub.analytics.forecast.ensemble import WeightedEnsemble
from analytics_hub.analytics.forecast.registry import ForecasterRegistry, default_registry
from analytics_hub.errors import ValidationError

#: A forecast longer than this many steps is a request mistake, not a plan.
MAX_HORIZON = 5000

#: Seasonal periods assumed for common steps: a daily and a weekly cycle for hourly
#: data, a weekly one for daily data. Other steps are non-seasonal unless told.
_DEFAULT_SEASONS: dict[dt.timedelta, tuple[int, ...]] = {
    dt.timedelta(hours=1): (24, 168),
    dt.timedelta(days=1): (7,),
}


@dataclass(frozen=True)
class Forecast:
    """A dated forecast: ``mean[i]`` is the value expected for the step starting at ``times[i]``.

    ``weights`` holds the ensemble's member weights (a single model has weight one), and
    ``backtest`` the model's error on the end of the history, when it was computed.
    ``bands`` maps every interval level asked for (``level`` included) to its lower and
    upper bounds, all from the same fit.
    """

    start: dt.datetime
    step: dt.timedelta
    mean: FloatArray
    lower: FloatArray
    upper: FloatArray
    level: float
    model: str
    weights: Mapping[str, float] = field(default_factory=dict)
    backtest: BacktestResult | None = None
    bands: Mapping[float, tuple[FloatArray, FloatArray]] = field(default_factory=dict)

    @property
    def horizon(self) -> int:
        """Number of forecast steps."""
        return int(self.mean.shape[0])

    def time_at(self, index: float) -> dt.datetime:
        """The time ``index`` steps after the forecast's start (fractions allowed)."""
        return self.start + self.step * index

    @property
    def times(self) -> list[dt.datetime]:
        """The start time of every forecast step."""
        return [self.time_at(i) for i in range(self.horizon)]


def default_seasons(step: dt.timedelta) -> tuple[int, ...]:
    """The seasonal periods assumed for a step when the caller gives none."""
    return _DEFAULT_SEASONS.get(step, (1,))


def forecast(
    values: ArrayLike,
    *,
    start: dt.datetime,
    step: dt.timedelta,
    horizon: int,
    model: str = "ensemble",
    season_length: int | Sequence[int] | None = None,
    level: float = 0.95,
    with_backtest: bool = True,
    registry: ForecasterRegistry | None = None,
    extra_levels: Sequence[float] = (),
) -> Forecast:
    """Forecast ``horizon`` steps after ``values``, whose first value is at ``start``.

    ``values`` must be regularly spaced ``step`` apart with no gaps (fill them first).
    The back-test uses the same model on the last ``horizon`` points of the history (or
    fewer, keeping at least half the history for fitting), at ``level``. Intervals at
    ``extra_levels`` come from the same fit (``Forecast.bands``), which costs little.
    """
    y = check_values(values)
    level = check_level(level)
    levels = (level, *(check_level(lv) for lv in extra_levels))
    if step <= dt.timedelta(0):
        raise ValidationError("the step between values must be positive")
    if not 1 <= horizon <= MAX_HORIZON:
        raise ValidationError(f"the horizon must be between 1 and {MAX_HORIZON} steps")
    registry = registry or default_registry()
    seasons = default_seasons(step) if season_length is None else season_length
    # One BLAS thread: the fits are many small matrix problems, and on a busy 2-core
    # machine multi-threaded BLAS made them 3-4 times slower (measured).
    with threadpool_limits(limits=1, user_api="blas"):
        return _forecast(y, start, step, horizon, model, seasons, levels, with_backtest, registry)


def _forecast(
    y: FloatArray,
    start: dt.datetime,
    step: dt.timedelta,
    horizon: int,
    model: str,
    seasons: int | Sequence[int],
    levels: tuple[float, ...],
    with_backtest: bool,
    registry: ForecasterRegistry,
) -> Forecast:
    level = levels[0]
    fitted = registry.create(model).fit(y, seasons)
    pred = fitted.predict(horizon, level)
    bands = {level: (pred.lower, pred.upper)}
    for extra in levels[1:]:
        if extra not in bands:
            other = fitted.predict(horizon, extra)
            bands[extra] = (other.lower, other.upper)
    weights = fitted.weights if isinstance(fitted, WeightedEnsemble) else {model: 1.0}
    result = (
        backtest(lambda: registry.create(model), y, seasons, horizon, level=level)
        if with_backtest
        else None
    )
    return Forecast(
        start=start + step * y.size,
        step=step,
        mean=pred.mean,
        lower=pred.lower,
        upper=pred.upper,
        level=level,
        model=model,
        weights=weights,
        backtest=result,
        bands=bands,
    )
