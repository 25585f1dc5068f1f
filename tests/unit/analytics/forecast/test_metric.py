"""MetricForecaster over fake sources: history windows, fallbacks, runway and crossing."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable

import numpy as np
import pytest

from analytics_hub.analytics.forecast import ForecastFailedError, default_registry
from analytics_hub.analytics.forecast.base import FloatArray, Forecaster, Prediction
from analytics_hub.analytics.forecast.history import Fill, InsufficientHistoryError
from analytics_hub.analytics.forecast.metric import (
    Budget,
    CrossingCondition,
    ForecastSpec,
    MetricForecaster,
)
from analytics_hub.errors import ValidationError

H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)
NOW = dt.datetime(2025, 3, 20, 10, 25, tzinfo=dt.UTC)
AS_OF = dt.datetime(2025, 3, 20, 10, tzinfo=dt.UTC)


class FakeSource:
    """``value(t)`` for every bucket from ``first`` on; records what was asked."""

    def __init__(
        self,
        value: Callable[[dt.datetime], float | None],
        *,
        first: dt.datetime,
        bucket: str = "1h",
        fill: Fill = "zero",
    ) -> None:
        self._value = value
        self._first = first
        self._bucket = bucket
        self._fill: Fill = fill
        self.asked: list[tuple[str, dt.datetime, dt.datetime]] = []

    @property
    def bucket(self) -> str:
        return self._bucket

    @property
    def fill(self) -> Fill:
        return self._fill

    def _step(self) -> dt.timedelta:
        return D if self._bucket == "1d" else H

    def series(
        self, start: dt.datetime, end: dt.datetime
    ) -> list[tuple[dt.datetime, float | None]]:
        self.asked.append(("series", start, end))
        t, out = max(start, self._first), []
        while t < end:
            out.append((t, self._value(t)))
            t += self._step()
        return out

    def total(self, start: dt.datetime, end: dt.datetime) -> float:
        self.asked.append(("total", start, end))
        return sum(v or 0.0 for _, v in self.series(start, end))


def forecaster(**kwargs: object) -> MetricForecaster:
    return MetricForecaster(clock=lambda: NOW, **kwargs)  # type: ignore[arg-type]


def daily_cycle(t: dt.datetime) -> float:
    return 10.0 + 8.0 * math.sin(2 * math.pi * t.hour / 24)


def test_the_history_ends_at_the_current_bucket_and_starts_at_the_first_data() -> None:
    source = FakeSource(daily_cycle, first=AS_OF - 21 * D)
    found = forecaster().forecast(source, ForecastSpec(horizon=24, levels=(0.8, 0.95)))
    # Four weeks asked for, three weeks of data found; the current hour is left out.
    assert source.asked == [("series", AS_OF - 28 * D, AS_OF)]
    assert (found.history.start, found.history.end) == (AS_OF - 21 * D, AS_OF)
    assert found.as_of == AS_OF == found.forecast.start
    assert (found.searched_from, found.requested_model) == (AS_OF - 28 * D, "auto")
    fc = found.forecast
    assert fc.model == "ensemble"
    assert fc.backtest is not None
    assert fc.backtest.level == 0.8
    expected = [daily_cycle(fc.time_at(i)) for i in range(24)]
    assert np.allclose(fc.mean, expected, atol=0.5)
    lo80, hi80 = fc.bands[0.8]
    lo95, hi95 = fc.bands[0.95]
    assert np.all(lo95 <= lo80 + 1e-9)
    assert np.all(hi80 <= hi95 + 1e-9)
    assert np.all((lo95 <= fc.mean) & (fc.mean <= hi95))


def test_an_explicit_history_and_a_daily_bucket() -> None:
    source = FakeSource(lambda t: 100.0 + t.weekday(), first=AS_OF - 400 * D, bucket="1d")
    found = forecaster().forecast(source, ForecastSpec(horizon=7, history=60 * D))
    day = dt.datetime(2025, 3, 20, tzinfo=dt.UTC)
    assert source.asked == [("series", day - 60 * D, day)]
    assert found.history.values.size == 60


def test_too_short_a_history_is_refused_before_any_fit() -> None:
    source = FakeSource(daily_cycle, first=AS_OF - 30 * H)
    with pytest.raises(InsufficientHistoryError, match="30 1h buckets"):
        forecaster().forecast(source, ForecastSpec(horizon=24))


def test_an_unknown_model_is_refused_before_reading() -> None:
    source = FakeSource(daily_cycle, first=AS_OF - 21 * D)
    with pytest.raises(ValidationError, match="unknown forecaster 'magic'; available: arima"):
        forecaster().forecast(source, ForecastSpec(horizon=24, model="magic"))
    assert source.asked == []
    assert forecaster().models()[:2] == ["auto", "arima"]


class _Broken(Forecaster):
    name = "broken"

    def _fit(self, y: FloatArray) -> None:
        raise ValueError("singular matrix")

    def _predict(self, horizon: int, level: float) -> Prediction:
        raise AssertionError("never fitted")


def test_auto_falls_back_to_the_seasonal_naive_and_says_why() -> None:
    registry = default_registry()
    registry.register("ensemble", _Broken, replace=True)
    source = FakeSource(daily_cycle, first=AS_OF - 21 * D)
    found = forecaster(registry=registry).forecast(source, ForecastSpec(horizon=24))
    assert found.forecast.model == "seasonal_naive"
    assert found.fallback is not None
    assert "singular matrix" in found.fallback
    # A model asked for by name fails as itself.
    registry.register("broken", _Broken)
    with pytest.raises(ForecastFailedError):
        forecaster(registry=registry).forecast(source, ForecastSpec(horizon=24, model="broken"))


def test_runway_of_a_constant_spend_rate_by_hand() -> None:
    source = FakeSource(lambda t: 2.0, first=AS_OF - 10 * D)
    start = AS_OF - 48 * H
    report = forecaster().runway(source, Budget(156.0, start, AS_OF + 8 * D))
    found = report.runway
    # 48 hours at 2 USD spent; 60 USD left last 30 hours at 2 USD an hour.
    assert ("total", start, AS_OF) in source.asked
    assert found.spent == pytest.approx(96.0)
    assert found.expected == AS_OF + 30 * H
    assert found.earliest == found.latest == AS_OF + 30 * H  # a constant: no uncertainty
    assert found.horizon_end == AS_OF + 8 * D
    assert found.projected_spend == pytest.approx(96.0 + 2.0 * 192)


def test_runway_counts_only_the_part_of_each_bucket_inside_the_period() -> None:
    source = FakeSource(lambda t: 4.0, first=AS_OF - 10 * D)
    # Starts in two and a half hours, ends 90 minutes into the sixth bucket.
    start, end = AS_OF + 2.5 * H, AS_OF + 5.5 * H
    report = forecaster().runway(source, Budget(100.0, start, end))
    assert not [a for a in source.asked if a[0] == "total"]  # nothing spent yet
    assert report.spend.mean.tolist() == pytest.approx([0, 0, 2, 4, 4, 2])
    assert report.runway.expected is None  # 12 USD of 100: not within the period
    assert report.runway.projected_spend == pytest.approx(12.0)


@pytest.mark.parametrize(
    ("budget", "says"),
    [
        (Budget(0.0, AS_OF - D, AS_OF + D), "budget: the budget must be more than zero"),
        (Budget(10.0, AS_OF + D, AS_OF), "period: the period's start must be before"),
        (Budget(10.0, AS_OF - 400 * D, AS_OF + D), "period: a budget period is at most"),
        (Budget(10.0, AS_OF - 30 * D, AS_OF - D), "period: the period ended"),
        (Budget(10.0, AS_OF, AS_OF + 100 * D), "period: the period must end within"),
    ],
)
def test_runway_periods_are_checked(budget: Budget, says: str) -> None:
    source = FakeSource(lambda t: 1.0, first=AS_OF - 10 * D)
    with pytest.raises(ValidationError, match=says):
        forecaster().runway(source, budget)


def test_a_long_period_needs_a_larger_bucket() -> None:
    source = FakeSource(lambda t: 1.0, first=AS_OF - 10 * D)
    with pytest.raises(ValidationError, match="use a larger bucket"):
        forecaster().runway(source, Budget(10.0, AS_OF, AS_OF + 60 * D))


def test_crossing_a_threshold_of_a_rising_metric() -> None:
    source = FakeSource(
        lambda t: 50.0 + (t - AS_OF) / H,  # one more every hour: 50 at as_of
        first=AS_OF - 14 * D,
        fill="carry",
    )
    condition = CrossingCondition(threshold=60.0, within=dt.timedelta(hours=23, minutes=30))
    assert condition.steps(H) == 24  # rounded up to whole buckets
    report = forecaster().crossing(source, condition, model="arima")
    found = report.crossing
    assert found.within_steps == 24
    assert found.expected is not None
    assert abs((found.expected - (AS_OF + 10 * H)) / H) <= 2
    assert found.probability > 0.9
    below = CrossingCondition(threshold=10.0, within=24 * H, direction="below")
    assert forecaster().crossing(source, below, model="arima").crossing.probability < 0.01
