"""Forecasts of stored metrics: history in, dated forecast, runway and crossing out.

:class:`MetricForecaster` is what the HTTP API (and later the alerting feature) calls. It
reads a metric through a :class:`MetricSource`, a port the caller implements over the
query layer (so this feature never imports the query feature, and the tenant is fixed by
whoever built the source), turns the rows into a gap-free series (:mod:`.history`), and
forecasts it with :func:`~.service.forecast`.

The history ends at the start of the current bucket (``as_of``): the current bucket is
still filling, and a half-counted last value would read as a drop.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from analytics_hub.analytics.forecast.base import FloatArray, ForecastFailedError
from analytics_hub.analytics.forecast.crossing import Crossing, Direction, crosses
from analytics_hub.analytics.forecast.history import (
    MAX_STEPS,
    Fill,
    RegularSeries,
    check_enough,
    describe,
    floor_time,
    history_span,
    policy,
    regularise,
)
from analytics_hub.analytics.forecast.registry import ForecasterRegistry, default_registry
from analytics_hub.analytics.forecast.runway import Runway, runway
from analytics_hub.analytics.forecast.service import Forecast, forecast
from analytics_hub.errors import ValidationError

#: ``model="auto"`` is the ensemble; should every member fail on a series, the seasonal
#: naive forecast (which cannot fail on a valid series) answers instead, and says why.
AUTO = "auto"
AUTO_MODEL = "ensemble"
FALLBACK_MODEL = "seasonal_naive"
#: A budget period may be a year long; its end at most a quarter ahead.
MAX_PERIOD = dt.timedelta(days=366)
MAX_RUNWAY_AHEAD = dt.timedelta(days=92)


class MetricSource(Protocol):
    """One tenant's metric per time bucket (the adapter over the query layer)."""

    @property
    def bucket(self) -> str:
        """The bucket size, e.g. ``1h``."""
        ...

    @property
    def fill(self) -> Fill:
        """How empty buckets are filled: ``zero`` (counts, sums) or ``carry``."""
        ...

    def series(
        self, start: dt.datetime, end: dt.datetime
    ) -> Sequence[tuple[dt.datetime, float | None]]:
        """``(bucket start, value)`` for the buckets of ``[start, end)`` that have rows."""
        ...


class SpendSource(MetricSource, Protocol):
    """A summed metric (cost) that can also be totalled over any exact range."""

    def total(self, start: dt.datetime, end: dt.datetime) -> float:
        """The metric summed over ``[start, end)``."""
        ...


@dataclass(frozen=True)
class ForecastSpec:
    """What to forecast: ``horizon`` buckets ahead, intervals at ``levels`` (the first one
    is also the back-test's), with ``model``, from ``history`` (default: the bucket's)."""

    horizon: int
    levels: tuple[float, ...] = (0.95,)
    model: str = AUTO
    history: dt.timedelta | None = None
    with_backtest: bool = True


@dataclass(frozen=True)
class MetricForecast:
    """A forecast of a stored metric and the history it came from."""

    forecast: Forecast
    history: RegularSeries
    searched_from: dt.datetime
    requested_model: str
    fallback: str | None = None  # why "auto" fell back to another model

    @property
    def as_of(self) -> dt.datetime:
        """The end of the history: the start of the first forecast bucket."""
        return self.forecast.start


@dataclass(frozen=True)
class Budget:
    """``amount`` to spend in ``[start, end)``."""

    amount: float
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class RunwayReport:
    """When a budget runs out: spend so far, the forecast spend within the period."""

    budget: Budget
    runway: Runway
    spend: Forecast  # per bucket, only the part of each bucket inside the period
    metric: MetricForecast


@dataclass(frozen=True)
class CrossingCondition:
    """The predictive condition "the metric crosses ``threshold`` within ``within``".

    It does not depend on HTTP: an alert rule holds one and evaluates it with
    :meth:`MetricForecaster.crossing`. ``within`` is rounded up to whole buckets.
    """

    threshold: float
    within: dt.timedelta
    direction: Direction = "above"
    level: float = 0.95

    def steps(self, step: dt.timedelta) -> int:
        """Buckets the window covers."""
        return max(1, math.ceil(self.within / step))

    def evaluate(self, fc: Forecast) -> Crossing:
        """The crossing of ``fc`` (which must reach as far as the window)."""
        return crosses(fc, self.threshold, within=self.steps(fc.step), direction=self.direction)


@dataclass(frozen=True)
class CrossingReport:
    """A condition's answer beside the forecast it was read from."""

    condition: CrossingCondition
    crossing: Crossing
    metric: MetricForecast


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class MetricForecaster:
    """Forecasts, runways and crossings of metrics read through a :class:`MetricSource`.

    Blocking and CPU-heavy (a forecast takes from 0.1 to a few seconds): call it from a
    worker thread. ``max_buckets`` is the query layer's bucket limit, so that the history
    window is never a query it refuses.
    """

    def __init__(
        self,
        *,
        registry: ForecasterRegistry | None = None,
        max_buckets: int = 10_000,
        clock: Callable[[], dt.datetime] = _utc_now,
    ) -> None:
        self._registry = registry or default_registry()
        self._max_buckets = max_buckets
        self._clock = clock

    def now(self) -> dt.datetime:
        """The time by this forecaster's clock (the end of every history is its bucket)."""
        return self._clock()

    def models(self) -> list[str]:
        """The names ``model`` may take: ``auto`` and every registered forecaster."""
        return [AUTO, *self._registry.names()]

    def check_model(self, model: str) -> None:
        """Raise a ``ValidationError`` naming the choices unless ``model`` can be used."""
        if model != AUTO:
            self._registry.create(model)  # explains unknown and not-installed models

    def forecast(
        self, source: MetricSource, spec: ForecastSpec, *, now: dt.datetime | None = None
    ) -> MetricForecast:
        """Forecast ``spec.horizon`` buckets after the last complete bucket before ``now``."""
        bucket = policy(source.bucket)
        self.check_model(spec.model)
        if not 1 <= spec.horizon <= MAX_STEPS:
            raise ValidationError(f"the horizon must be from 1 to {MAX_STEPS} buckets")
        as_of = floor_time(now or self._clock(), bucket.step)
        start = as_of - history_span(bucket, spec.history, max_buckets=self._max_buckets)
        rows = source.series(start, as_of)
        series = regularise(rows, start=start, end=as_of, step=bucket.step, fill=source.fill)
        series = check_enough(series, bucket, searched_from=start)
        fc, fallback = self.fit(series, spec)
        return MetricForecast(fc, series, start, spec.model, fallback)

    def fit(self, series: RegularSeries, spec: ForecastSpec) -> tuple[Forecast, str | None]:
        """Forecast a series already read; with ``auto``, also why it fell back, if it did."""
        model = AUTO_MODEL if spec.model == AUTO else spec.model

        def run(name: str) -> Forecast:
            return forecast(
                series.values,
                start=series.start,
                step=series.step,
                horizon=spec.horizon,
                model=name,
                level=spec.levels[0],
                extra_levels=spec.levels[1:],
                with_backtest=spec.with_backtest,
                registry=self._registry,
            )

        try:
            return run(model), None
        except ForecastFailedError as exc:
            if spec.model != AUTO:
                raise
            return run(FALLBACK_MODEL), exc.message

    def runway(
        self,
        source: SpendSource,
        budget: Budget,
        *,
        level: float = 0.95,
        model: str = AUTO,
        history: dt.timedelta | None = None,
    ) -> RunwayReport:
        """When ``budget`` runs out, from the spend so far and a forecast to its end.

        Spend so far counts ``[budget.start, as_of)``; the forecast covers ``as_of`` to the
        period's end, each bucket counted for the part of it inside the period.
        """
        bucket = policy(source.bucket)
        now = self._clock()
        _check_period(budget, now)
        as_of = floor_time(now, bucket.step)
        steps = math.ceil((budget.end - as_of) / bucket.step)
        if steps > MAX_STEPS:
            raise ValidationError(
                f"the period ends {steps} {bucket.name} buckets ahead, more than {MAX_STEPS};"
                " use a larger bucket",
                details=[{"field": "bucket", "message": "use a larger bucket"}],
            )
        spent = source.total(budget.start, as_of) if budget.start < as_of else 0.0
        # The same ``now`` as the spend: a bucket boundary passing in between would
        # otherwise leave a bucket out of both.
        metric = self.forecast(source, ForecastSpec(steps, (level,), model, history), now=now)
        share = _overlap(metric.forecast, max(budget.start, as_of), budget.end)
        spend = _scaled(metric.forecast, share)
        found = runway(spend, spent=max(spent, 0.0), budget=budget.amount)
        return RunwayReport(budget, replace(found, horizon_end=budget.end), spend, metric)

    def crossing(
        self,
        source: MetricSource,
        condition: CrossingCondition,
        *,
        model: str = AUTO,
        history: dt.timedelta | None = None,
    ) -> CrossingReport:
        """Whether and when the metric's forecast crosses the condition's threshold."""
        bucket = policy(source.bucket)
        steps = condition.steps(bucket.step)
        if steps > MAX_STEPS:
            raise ValidationError(
                f"the window is {steps} {bucket.name} buckets, more than {MAX_STEPS};"
                " use a larger bucket"
            )
        spec = ForecastSpec(steps, (condition.level,), model, history)
        metric = self.forecast(source, spec)
        return CrossingReport(condition, condition.evaluate(metric.forecast), metric)


def _check_period(budget: Budget, now: dt.datetime) -> None:
    if not budget.amount > 0:
        raise _invalid("budget", "the budget must be more than zero")
    if budget.start >= budget.end:
        raise _invalid("period", "the period's start must be before its end")
    if budget.end - budget.start > MAX_PERIOD:
        raise _invalid("period", f"a budget period is at most {describe(MAX_PERIOD)}")
    if budget.end <= now:
        raise _invalid(
            "period", f"the period ended at {budget.end.isoformat()}; there is nothing to forecast"
        )
    if budget.end - now > MAX_RUNWAY_AHEAD:
        raise _invalid(
            "period", f"the period must end within {describe(MAX_RUNWAY_AHEAD)} from now"
        )


def _overlap(fc: Forecast, start: dt.datetime, end: dt.datetime) -> FloatArray:
    """The share of each forecast bucket that lies inside ``[start, end)``."""
    share = np.empty(fc.horizon)
    for i in range(fc.horizon):
        lo, hi = fc.time_at(i), fc.time_at(i + 1)
        inside = min(hi, end) - max(lo, start)
        share[i] = max(inside, dt.timedelta(0)) / fc.step
    return share


def _scaled(fc: Forecast, share: FloatArray) -> Forecast:
    bands: Mapping[float, tuple[FloatArray, FloatArray]] = {
        lv: (lo * share, hi * share) for lv, (lo, hi) in fc.bands.items()
    }
    return replace(
        fc, mean=fc.mean * share, lower=fc.lower * share, upper=fc.upper * share, bands=bands
    )


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError(f"{field}: {message}", details=[{"field": field, "message": message}])


__all__ = [
    "AUTO",
    "Budget",
    "CrossingCondition",
    "CrossingReport",
    "ForecastSpec",
    "MetricForecast",
    "MetricForecaster",
    "MetricSource",
    "RunwayReport",
    "SpendSource",
]
