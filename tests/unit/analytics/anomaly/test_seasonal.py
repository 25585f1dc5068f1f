"""The seasonal baseline flags spikes and shifts in seasonal data, and not its noise."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from numpy.typing import NDArray

from analytics_hub.analytics.anomaly import AlarmGate, SeasonalDetector
from analytics_hub.analytics.anomaly.seasonal import RollingMedian, signed_sqrt

Series = tuple[NDArray[np.float64], NDArray[np.float64]]
DAY_ROWS = 288
AT = 5 * DAY_ROWS + 100  # an afternoon on the sixth day
QUIET = 1 - 1e-5  # a strict level: one row in 100,000 by chance


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_plain_seasonal_noise_stays_below_a_strict_level(
    seed: int, seasonal_data: Callable[..., Series]
) -> None:
    t, v = seasonal_data(seed=seed)
    scores = SeasonalDetector().score_many(t, v)
    assert scores.max() < QUIET


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_an_injected_spike_is_flagged_at_once(
    seed: int, seasonal_data: Callable[..., Series]
) -> None:
    t, v = seasonal_data(seed=seed)
    v[AT] += 40  # about 13 noise sigmas, but inside the day's range (70..130)
    scores = SeasonalDetector().score_many(t, v)
    assert scores[AT] > 1 - 1e-6
    assert int(np.argmax(scores)) == AT


def test_a_level_shift_alarms_at_its_start_and_then_settles(
    seasonal_data: Callable[..., Series],
) -> None:
    t, v = seasonal_data()
    v[AT:] += 25
    gated = AlarmGate(200).update_many(SeasonalDetector().score_many(t, v))
    alarms = np.flatnonzero(gated > QUIET)
    assert alarms.tolist() == [AT]


def test_a_recurring_daily_peak_is_not_an_anomaly(seasonal_data: Callable[..., Series]) -> None:
    t, v = seasonal_data()
    peak = (np.arange(t.size) % DAY_ROWS) == 200
    v[peak] += 60  # every day at the same time
    scores = SeasonalDetector().score_many(t, v)
    later_peaks = np.flatnonzero(peak)[3:]  # once a few days have shown it
    assert scores[later_peaks].max() < QUIET


def test_cold_start_waits_for_about_one_day_of_history(
    seasonal_data: Callable[..., Series],
) -> None:
    t, v = seasonal_data(days=3)
    scores = SeasonalDetector().score_many(t, v)
    first = int(np.argmax(scores > 0))
    assert DAY_ROWS < first < 2 * DAY_ROWS


def test_hourly_data_learns_its_step_and_repeated_timestamps_are_accepted() -> None:
    rng = np.random.default_rng(3)
    t = 1_699_920_000.0 + 3600.0 * np.arange(24 * 20)
    t[5] = t[4]  # a repeated reading
    v = 50 + 10 * np.sin(2 * np.pi * (t % 86_400) / 86_400) + rng.normal(0, 1, t.size)
    v[24 * 18] += 15
    scores = SeasonalDetector().score_many(t, v)
    assert int(np.argmax(scores)) == 24 * 18


def test_rolling_median_and_signed_sqrt() -> None:
    rm = RollingMedian(3)
    assert rm.median() == 0.0
    for x in (5.0, 1.0, 3.0, 100.0):
        rm.push(x)
    assert len(rm) == 3
    assert rm.median() == 3.0  # of 1, 3, 100
    assert signed_sqrt(-9.0) == -3.0
    assert signed_sqrt(16.0) == 4.0


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="period_s"):
        SeasonalDetector(period_s=0)


@pytest.mark.parametrize("size", [1, 2, 5, 64])
def test_the_rolling_median_is_the_upper_median_of_the_last_numbers(size: int) -> None:
    values = np.random.default_rng(size).integers(0, 7, 300).astype(float)  # many ties
    rolling = RollingMedian(size)
    for k, v in enumerate(values, start=1):
        rolling.push(float(v))
        window = sorted(values[max(0, k - size) : k])
        assert len(rolling) == len(window)
        assert rolling.median() == window[len(window) // 2]
    with pytest.raises(ValueError, match="at least 1"):
        RollingMedian(0)
