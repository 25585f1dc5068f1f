"""Budget runway against hand-computed cases."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from analytics_hub.analytics.forecast.runway import first_reach, runway
from analytics_hub.errors import ValidationError

HOUR = dt.timedelta(hours=1)


def test_runway_dates_from_the_running_totals(make_forecast) -> None:
    fc = make_forecast([10, 10, 10, 10], [5, 5, 5, 5], [20, 20, 20, 20])
    out = runway(fc, spent=70.0, budget=100.0)
    # 30 left: the mean reaches it at the end of step 3; the upper bound (20/h) halfway
    # through step 2; the lower bound (5/h) only reaches 20 within the horizon.
    assert not out.exhausted
    assert out.expected == fc.start + 3 * HOUR
    assert out.earliest == fc.start + 1.5 * HOUR
    assert out.latest is None
    assert out.horizon_end == fc.start + 4 * HOUR
    assert out.projected_spend == pytest.approx(110.0)
    assert (out.projected_spend_lower, out.projected_spend_upper) == pytest.approx((90.0, 150.0))


def test_negative_lower_bounds_count_as_no_spend(make_forecast) -> None:
    fc = make_forecast([4, 4, 4], [-2, 1, 1], [6, 6, 6])
    out = runway(fc, spent=0.0, budget=1.5)
    # Lower bounds 0, 1, 1: running totals 0, 1, 2 reach 1.5 halfway through the third step.
    assert out.latest == fc.start + 2.5 * HOUR
    assert out.projected_spend_lower == pytest.approx(2.0)


def test_an_already_spent_budget_is_reported_as_exhausted(make_forecast) -> None:
    out = runway(make_forecast([1.0], [1.0], [1.0]), spent=120.0, budget=100.0)
    assert out.exhausted
    assert out.expected is None
    assert out.earliest is None
    assert out.latest is None


def test_first_reach_interpolates_within_a_step() -> None:
    assert first_reach(np.array([2.0, 4.0, 4.0]), 4.0) == pytest.approx(1.5)
    assert first_reach(np.array([2.0, 4.0]), 100.0) is None
    assert first_reach(np.array([2.0]), 0.0) == 0.0


def test_runway_rejects_nonsense_budgets(make_forecast) -> None:
    with pytest.raises(ValidationError, match="budget"):
        runway(make_forecast([1.0], [1.0], [1.0]), spent=0.0, budget=0.0)
