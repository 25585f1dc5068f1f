"""Synthetic series with known structure for the forecasting tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pytest

from analytics_hub.analytics.forecast.service import Forecast

SeriesMaker = Callable[..., np.ndarray]
ForecastMaker = Callable[..., Forecast]

START = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


def _seasonal(
    n: int,
    *,
    period: int = 24,
    level: float = 100.0,
    amplitude: float = 30.0,
    noise: float = 3.0,
    trend: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """Level + slope + a smooth daily-like cycle + Gaussian noise (all positive)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    cycle = amplitude * np.sin(2 * np.pi * t / period) + 0.5 * amplitude * np.cos(
        4 * np.pi * t / period
    )
    return level + trend * t + cycle + rng.normal(0.0, noise, n)


@pytest.fixture
def seasonal_series() -> SeriesMaker:
    """A factory of seasonal test series (see ``_seasonal`` for the parameters)."""
    return _seasonal


@pytest.fixture
def make_forecast() -> ForecastMaker:
    """Build a ``Forecast`` from plain lists, hourly steps from 2025-03-01 00:00 UTC."""

    def build(
        mean: list[float],
        lower: list[float],
        upper: list[float],
        *,
        level: float = 0.95,
        step: dt.timedelta = dt.timedelta(hours=1),
    ) -> Forecast:
        return Forecast(
            start=START,
            step=step,
            mean=np.array(mean, dtype=float),
            lower=np.array(lower, dtype=float),
            upper=np.array(upper, dtype=float),
            level=level,
            model="test",
        )

    return build
