"""Predictive alert condition: "forecast crosses X within H"."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from analytics_hub.analytics.forecast.crossing import crosses, step_probabilities
from analytics_hub.errors import ValidationError

HOUR = dt.timedelta(hours=1)


def test_step_probabilities_read_the_interval_as_quantiles() -> None:
    mean, lower, upper = np.array([10.0] * 3), np.array([6.0] * 3), np.array([20.0] * 3)
    prob = step_probabilities(mean, lower, upper, 0.95, 10.0)
    assert prob == pytest.approx([0.5] * 3)  # the point forecast is the median
    assert step_probabilities(mean, lower, upper, 0.95, 20.0) == pytest.approx([0.025] * 3)
    # Below the median the lower side's spread applies: P(V >= 6) = 0.975.
    assert step_probabilities(mean, lower, upper, 0.95, 6.0) == pytest.approx([0.975] * 3)


def test_zero_width_intervals_are_certain() -> None:
    flat = np.array([5.0, 5.0])
    assert step_probabilities(flat, flat, flat, 0.9, 5.0).tolist() == [1.0, 1.0]
    assert step_probabilities(flat, flat, flat, 0.9, 5.1).tolist() == [0.0, 0.0]


def test_crossing_above_reports_when_and_how_likely(make_forecast) -> None:
    fc = make_forecast([1, 2, 3, 4, 5], [0, 1, 2, 3, 4], [3, 4, 5, 6, 7])
    out = crosses(fc, 4.0, within=dt.timedelta(hours=5))
    assert out.expected == fc.start + 3 * HOUR  # mean 4 at step 4
    assert out.earliest == fc.start + 1 * HOUR  # upper bound 4 at step 2
    assert out.probability == pytest.approx(1 - 0.025)  # step 5: threshold at its lower bound
    assert out.most_likely_at == fc.start + 4 * HOUR
    assert out.within_steps == 5


def test_the_window_limits_the_answer(make_forecast) -> None:
    fc = make_forecast([1, 2, 3, 4, 5], [0, 1, 2, 3, 4], [3, 4, 5, 6, 7])
    out = crosses(fc, 4.0, within=2)
    assert out.expected is None
    assert out.earliest == fc.start + 1 * HOUR
    assert out.probability == pytest.approx(0.025)  # step 2: threshold at its upper bound
    # A window longer than the forecast is capped at its horizon.
    assert crosses(fc, 4.0, within=dt.timedelta(days=3)).within_steps == 5


def test_crossing_below(make_forecast) -> None:
    fc = make_forecast([10, 8, 6], [8, 6, 4], [12, 10, 8])
    out = crosses(fc, 6.0, within=3, direction="below")
    assert out.expected == fc.start + 2 * HOUR
    assert out.earliest == fc.start + 1 * HOUR
    assert out.probability == pytest.approx(0.5)


def test_a_window_shorter_than_a_step_is_an_error(make_forecast) -> None:
    with pytest.raises(ValidationError, match="at least one"):
        crosses(make_forecast([1.0], [1.0], [1.0]), 2.0, within=dt.timedelta(minutes=30))
