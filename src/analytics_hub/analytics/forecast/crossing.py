"""Predictive alerting: does the forecast cross a threshold within a time window?

An alert rule asks "will error rate / cost / latency go above X within H?". The answer
says when the point forecast gets there, when the interval first allows it, and with what
probability it happens at some step of the window.

Probabilities come from each step's interval read as a two-piece normal distribution: the
point forecast is its median, and the spread above and below are set by the upper and lower
bounds (so a skewed interval from a log-scale model stays skewed). The chance of crossing
at *some* step is taken as the largest per-step chance, which is exact when forecast
errors move together across steps and a lower bound otherwise.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from analytics_hub.analytics.forecast.base import FloatArray
from analytics_hub.analytics.forecast.intervals import normal_quantile
from analytics_hub.analytics.forecast.service import Forecast
from analytics_hub.errors import ValidationError

Direction = Literal["above", "below"]


@dataclass(frozen=True)
class Crossing:
    """Whether and when a forecast reaches a threshold within ``within_steps`` steps.

    ``expected`` is the start of the first step whose point forecast reaches the threshold,
    ``earliest`` the first whose interval bound does; ``None`` means not in the window.
    ``probability`` is the chance of reaching it at some step of the window, and
    ``most_likely_at`` the step where that chance is highest.
    """

    threshold: float
    direction: Direction
    within_steps: int
    expected: dt.datetime | None
    earliest: dt.datetime | None
    probability: float
    most_likely_at: dt.datetime


def step_probabilities(
    mean: FloatArray, lower: FloatArray, upper: FloatArray, level: float, threshold: float
) -> FloatArray:
    """Per-step probability that the value is at or above ``threshold``.

    A zero-width side of the interval means certainty on that side.
    """
    z = normal_quantile(level)
    above_median = threshold >= mean
    spread = np.where(above_median, upper - mean, mean - lower) / z
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = (threshold - mean) / spread
    from scipy.special import ndtr  # here: scipy loads only when a crossing is asked

    prob = np.asarray(ndtr(-scaled), dtype=np.float64)  # the normal survival function
    # Degenerate spreads: the value is the point forecast itself.
    certain = np.where(mean >= threshold, 1.0, 0.0)
    return np.where(spread > 0.0, prob, certain)


def crosses(
    forecast: Forecast,
    threshold: float,
    *,
    within: dt.timedelta | int,
    direction: Direction = "above",
) -> Crossing:
    """Check whether ``forecast`` reaches ``threshold`` within ``within`` (time or steps).

    The window is capped at the forecast's horizon; it must cover at least one step.
    """
    steps = within if isinstance(within, int) else int(within / forecast.step)
    steps = min(steps, forecast.horizon)
    if steps < 1:
        raise ValidationError("the window must cover at least one forecast step")
    mean, lower, upper = forecast.mean[:steps], forecast.lower[:steps], forecast.upper[:steps]
    if direction == "above":
        prob = step_probabilities(mean, lower, upper, forecast.level, threshold)
        hit, bound_hit = mean >= threshold, upper >= threshold
    else:
        # Mirror the problem: "at or below X" is "-value at or above -X".
        prob = step_probabilities(-mean, -upper, -lower, forecast.level, -threshold)
        hit, bound_hit = mean <= threshold, lower <= threshold

    def first(mask: NDArray[np.bool_]) -> dt.datetime | None:
        idx = np.flatnonzero(mask)
        return forecast.time_at(int(idx[0])) if idx.size else None

    peak = int(np.argmax(prob))
    return Crossing(
        threshold=threshold,
        direction=direction,
        within_steps=steps,
        expected=first(hit),
        earliest=first(bound_hit),
        probability=float(prob[peak]),
        most_likely_at=forecast.time_at(peak),
    )
