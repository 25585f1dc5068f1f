"""Spend runway: when a budget runs out, given spend so far and a cost forecast.

The forecast's step ``i`` is the spend during ``[times[i], times[i] + step)``, accrued
evenly within the step, so the exhaustion time is interpolated inside the step where the
running total reaches the budget.

The interval comes from the running totals of the forecast's lower and upper bounds: the
earliest date from the upper bound, the latest from the lower. Summing per-step bounds is
exact when forecast errors move together (one level error carried through the horizon,
the usual case for cost) and conservative (too wide) otherwise; a budget alarm should err
that way. Negative lower bounds (possible from additive models) count as zero spend.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from analytics_hub.analytics.forecast.base import FloatArray
from analytics_hub.analytics.forecast.service import Forecast
from analytics_hub.errors import ValidationError


@dataclass(frozen=True)
class Runway:
    """When the budget is expected to run out, with an interval.

    A date of ``None`` means "not within the forecast horizon" (later than
    ``horizon_end``). ``exhausted`` means the budget is already spent.
    """

    spent: float
    budget: float
    level: float
    exhausted: bool
    expected: dt.datetime | None
    earliest: dt.datetime | None
    latest: dt.datetime | None
    horizon_end: dt.datetime
    projected_spend: float
    projected_spend_lower: float
    projected_spend_upper: float


def runway(forecast: Forecast, *, spent: float, budget: float) -> Runway:
    """The budget exhaustion date (expected, earliest, latest) from a cost ``forecast``."""
    if budget <= 0.0 or spent < 0.0:
        raise ValidationError("the budget must be positive and the spend so far non-negative")
    remaining = budget - spent
    mean, lower, upper = (
        np.clip(a, 0.0, None) for a in (forecast.mean, forecast.lower, forecast.upper)
    )

    def reached(per_step: FloatArray) -> dt.datetime | None:
        at = first_reach(per_step, remaining)
        return None if at is None else forecast.time_at(at)

    exhausted = remaining <= 0.0
    return Runway(
        spent=spent,
        budget=budget,
        level=forecast.level,
        exhausted=exhausted,
        expected=None if exhausted else reached(mean),
        earliest=None if exhausted else reached(upper),
        latest=None if exhausted else reached(lower),
        horizon_end=forecast.time_at(forecast.horizon),
        projected_spend=spent + float(mean.sum()),
        projected_spend_lower=spent + float(lower.sum()),
        projected_spend_upper=spent + float(upper.sum()),
    )


def first_reach(per_step: FloatArray, amount: float) -> float | None:
    """Fractional step index at which the running total of ``per_step`` reaches ``amount``.

    Spend accrues evenly within a step; ``None`` if the total never reaches ``amount``.
    """
    if amount <= 0.0:
        return 0.0
    totals = np.cumsum(per_step)
    i = int(np.searchsorted(totals, amount, side="left"))
    if i >= totals.size:
        return None
    before = float(totals[i - 1]) if i > 0 else 0.0
    return i + (amount - before) / float(per_step[i])
