"""What-if costing: scale traffic, move traffic between models, change prices.

Inputs are per-model usage forecasts (in the unit the price is quoted in, e.g. thousands
of tokens per step) and per-model prices (plain numbers; the price table lives elsewhere).
A scenario scales all traffic, moves shares of one model's traffic to another (the same
requests, so the same usage units at the target's price), and overrides prices.

Cost is a non-negative combination of the usage forecasts, so its interval is the same
combination of their bounds: exact when the models' forecast errors move together (traffic
is usually driven by one demand) and conservative otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from analytics_hub.analytics.forecast.base import Bands, FloatArray
from analytics_hub.errors import ValidationError


@dataclass(frozen=True)
class Shift:
    """Move ``share`` (0 to 1) of ``source``'s traffic to ``target``."""

    source: str
    target: str
    share: float


@dataclass(frozen=True)
class Scenario:
    """A change to price: traffic scaled by ``traffic_scale``, shifts, price overrides."""

    traffic_scale: float = 1.0
    shifts: tuple[Shift, ...] = ()
    prices: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class CostProjection:
    """Projected cost per step and in total, with the interval at ``level``."""

    mean: FloatArray
    lower: FloatArray
    upper: FloatArray
    level: float
    total: float
    total_lower: float
    total_upper: float
    by_model: Mapping[str, float]


@dataclass(frozen=True)
class WhatIf:
    """A scenario's projected cost beside the unchanged baseline's."""

    baseline: CostProjection
    scenario: CostProjection

    @property
    def change(self) -> float:
        """Expected total cost of the scenario minus the baseline's."""
        return self.scenario.total - self.baseline.total


def project_cost(
    usage: Mapping[str, Bands], prices: Mapping[str, float], scenario: Scenario | None = None
) -> CostProjection:
    """Cost of forecast ``usage`` at ``prices`` under ``scenario`` (the baseline if none)."""
    scenario = scenario or Scenario()
    level, horizon = _check_usage(usage)
    if scenario.traffic_scale < 0.0:
        raise ValidationError("the traffic scale must not be negative")
    price = {**prices, **scenario.prices}
    # mix[target][source]: the share of source's traffic that the target serves.
    mix: dict[str, dict[str, float]] = {name: {name: 1.0} for name in usage}
    for shift in scenario.shifts:
        if shift.source not in usage:
            raise ValidationError(f"no usage forecast for model {shift.source!r} to shift from")
        if not 0.0 <= shift.share <= 1.0:
            raise ValidationError(f"a shift's share must be between 0 and 1, got {shift.share}")
        mix[shift.source][shift.source] -= shift.share
        served = mix.setdefault(shift.target, {})
        served[shift.source] = served.get(shift.source, 0.0) + shift.share
    for name in usage:
        if mix[name][name] < -1e-12:
            raise ValidationError(f"more than all of {name!r}'s traffic is shifted away")
    bands = {"mean": np.zeros(horizon), "lower": np.zeros(horizon), "upper": np.zeros(horizon)}
    by_model: dict[str, float] = {}
    for target, sources in mix.items():
        weight = {src: max(share, 0.0) * scenario.traffic_scale for src, share in sources.items()}
        if not any(weight.values()):
            continue
        if target not in price:
            raise ValidationError(f"no price for model {target!r}")
        if price[target] < 0.0:
            raise ValidationError(f"the price of {target!r} must not be negative")
        for attr, acc in bands.items():
            served = sum(
                w * np.clip(getattr(usage[src], attr), 0.0, None) for src, w in weight.items()
            )
            acc += price[target] * served
        by_model[target] = float(
            price[target]
            * sum(w * np.clip(usage[s].mean, 0.0, None).sum() for s, w in weight.items())
        )
    return CostProjection(
        mean=bands["mean"],
        lower=bands["lower"],
        upper=bands["upper"],
        level=level,
        total=float(bands["mean"].sum()),
        total_lower=float(bands["lower"].sum()),
        total_upper=float(bands["upper"].sum()),
        by_model=by_model,
    )


def what_if(usage: Mapping[str, Bands], prices: Mapping[str, float], scenario: Scenario) -> WhatIf:
    """The scenario's projected cost and the baseline's, from the same forecasts."""
    return WhatIf(project_cost(usage, prices), project_cost(usage, prices, scenario))


def _check_usage(usage: Mapping[str, Bands]) -> tuple[float, int]:
    if not usage:
        raise ValidationError("at least one model's usage forecast is needed")
    levels = {float(b.level) for b in usage.values()}
    horizons = {int(b.mean.shape[0]) for b in usage.values()}
    if len(levels) != 1 or len(horizons) != 1:
        raise ValidationError("usage forecasts must share one horizon and one interval level")
    return levels.pop(), horizons.pop()
