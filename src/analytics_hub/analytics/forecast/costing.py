"""What-if costing of a tenant's model traffic: forecast each model's tokens, price them.

A :class:`UsageSource` (the caller's adapter over the query layer) gives, per bucket and
per (provider, model), the input and output tokens of the model calls and the cost they
carry. Each of the largest models (by cost over the history) gets its own forecast of
total tokens, split into input and output by its share over the history (one forecast
per model instead of two: half the time, and the split barely moves). The tokens are
priced at today's price (the hub's table, with the tenant's overrides); a model the
table does not know is priced at the rate its events' costs show (USD per million
tokens over the history). The smaller models are forecast together as one cost series,
``other``, which scales with traffic but cannot be shifted or re-priced.

Then :func:`~.whatif.what_if` applies the scenario (traffic scaled, shares moved to other
models, prices changed) to the same forecasts, so baseline and scenario differ only by
the scenario.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

from analytics_hub.analytics.forecast.base import FloatArray, Prediction
from analytics_hub.analytics.forecast.history import (
    RegularSeries,
    check_enough,
    floor_time,
    history_span,
    policy,
    regularise,
)
from analytics_hub.analytics.forecast.metric import AUTO, ForecastSpec, MetricForecaster
from analytics_hub.analytics.forecast.service import Forecast
from analytics_hub.analytics.forecast.whatif import Scenario, Shift, WhatIf, what_if
from analytics_hub.errors import ValidationError

#: Models forecast one by one; the rest are forecast together as ``other``.
MAX_MODELS = 8
OTHER = "other"
_MILLION = 1e6


@dataclass(frozen=True, slots=True)
class UsageRow:
    """One bucket of one model's calls: tokens, and the cost the events carry (USD)."""

    time: dt.datetime
    provider: str
    model: str
    input_tokens: float
    output_tokens: float
    cost_usd: float


class UsageSource(Protocol):
    """One tenant's model-call usage per bucket and model (the adapter over queries)."""

    @property
    def bucket(self) -> str:
        """The bucket size, e.g. ``1d``."""
        ...

    def usage(self, start: dt.datetime, end: dt.datetime) -> Sequence[UsageRow]:
        """The rows of ``[start, end)`` (buckets and models without calls are absent)."""
        ...


#: ``(provider, model, day)`` -> (input, output) USD per million tokens, or None.
PriceLookup = Callable[[str, str, dt.date], tuple[float, float] | None]
PriceSource = Literal["table", "observed", "request"]


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million tokens, and where the figure came from."""

    input: float
    output: float
    source: PriceSource


@dataclass(frozen=True, slots=True)
class ModelRef:
    """A model by name; without a provider it means that model at any provider."""

    model: str
    provider: str | None = None

    def matches(self, provider: str, model: str) -> bool:
        """Whether a (provider, model) of the history is this one (case does not matter)."""
        same_model = self.model.casefold() == model.casefold()
        return same_model and (
            self.provider is None or self.provider.casefold() == provider.casefold()
        )

    def __str__(self) -> str:
        return f"{self.provider}/{self.model}" if self.provider else self.model


@dataclass(frozen=True, slots=True)
class TrafficShift:
    """Move ``share`` of ``source``'s calls to ``target`` (same tokens, target's price)."""

    source: ModelRef
    target: ModelRef
    share: float


@dataclass(frozen=True, slots=True)
class PriceChange:
    """A model's prices in the scenario, USD per million tokens."""

    ref: ModelRef
    input: float
    output: float


@dataclass(frozen=True)
class WhatIfSpec:
    """The scenario and the forecast it is costed on."""

    horizon: int
    level: float = 0.95
    model: str = AUTO
    history: dt.timedelta | None = None
    traffic_scale: float = 1.0
    shifts: tuple[TrafficShift, ...] = ()
    prices: tuple[PriceChange, ...] = ()


@dataclass(frozen=True)
class ModelCost:
    """One model's projected cost in the baseline and in the scenario (USD)."""

    provider: str
    model: str
    baseline: float
    scenario: float
    price: Price | None  # None for ``other``, whose cost is forecast directly
    scenario_price: Price | None


@dataclass(frozen=True)
class WhatIfReport:
    """The costed scenario beside the baseline, per bucket from ``start`` and per model."""

    result: WhatIf
    start: dt.datetime
    step: dt.timedelta
    history: RegularSeries  # the tenant's total tokens (what the window was cut to)
    models: list[ModelCost]
    other_models: list[tuple[str, str]]
    unpriced: list[tuple[str, str]]
    forecaster: str
    fallbacks: list[str] = field(default_factory=list)


@dataclass
class _Series:
    provider: str
    model: str
    tokens_in: FloatArray
    tokens_out: FloatArray
    cost: FloatArray


class WhatIfCoster:
    """Costs scenarios over a tenant's forecast model traffic (blocking, CPU-heavy)."""

    def __init__(self, forecaster: MetricForecaster, *, max_buckets: int = 10_000) -> None:
        self._forecaster = forecaster
        self._max_buckets = max_buckets

    def what_if(
        self, source: UsageSource, prices: PriceLookup, spec: WhatIfSpec, now: dt.datetime
    ) -> WhatIfReport:
        """The scenario's projected cost and the baseline's over ``spec.horizon`` buckets."""
        bucket = policy(source.bucket)
        self._forecaster.check_model(spec.model)
        as_of = floor_time(now, bucket.step)
        start = as_of - history_span(bucket, spec.history, max_buckets=self._max_buckets)
        rows = source.usage(start, as_of)
        totals: dict[dt.datetime, float] = {}
        for row in rows:
            totals[row.time] = totals.get(row.time, 0.0) + row.input_tokens + row.output_tokens
        history = check_enough(
            regularise(totals.items(), start=start, end=as_of, step=bucket.step, fill="zero"),
            bucket,
            searched_from=start,
        )
        series = _by_model(rows, history)
        ranked = sorted(series, key=lambda s: (-float(s.cost.sum()), -_tokens(s)))
        today = as_of.date()
        usage: dict[str, Prediction] = {}
        base_prices: dict[str, float] = {}
        keyed: dict[str, tuple[_Series, Price]] = {}
        others: list[_Series] = []
        unpriced: list[tuple[str, str]] = []
        fallbacks: list[str] = []
        fc_spec = ForecastSpec(spec.horizon, (spec.level,), spec.model, with_backtest=False)

        def predict(values: FloatArray) -> Forecast:
            run = RegularSeries(history.start, bucket.step, values, 0, "zero")
            fc, fallback = self._forecaster.fit(run, fc_spec)
            if fallback:
                fallbacks.append(fallback)
            return fc

        for s in ranked:
            price = _price(s, prices(s.provider, s.model, today))
            if len(keyed) >= MAX_MODELS or (price is None and s.cost.sum() > 0):
                others.append(s)
            elif price is None:
                unpriced.append((s.provider, s.model))
            else:
                key = f"m{len(keyed)}"
                keyed[key] = (s, price)
                fc = predict((s.tokens_in + s.tokens_out) / _MILLION)
                share_in = float(s.tokens_in.sum()) / _tokens(s)
                for part, share, rate in (
                    ("in", share_in, price.input),
                    ("out", 1 - share_in, price.output),
                ):
                    usage[f"{key}:{part}"] = Prediction(
                        fc.mean * share, fc.lower * share, fc.upper * share, fc.level
                    )
                    base_prices[f"{key}:{part}"] = rate
        if others:
            fc = predict(np.sum([s.cost for s in others], axis=0))
            usage[OTHER] = Prediction(fc.mean, fc.lower, fc.upper, fc.level)
            base_prices[OTHER] = 1.0  # forecast in USD already
        if not usage:
            raise ValidationError("no priced model calls in the history: nothing to cost")
        scenario, targets = _scenario(spec, keyed, others, base_prices, prices, today)
        result = what_if(usage, base_prices, scenario)
        return WhatIfReport(
            result=result,
            start=as_of,
            step=bucket.step,
            history=history,
            models=_model_costs(result, keyed, targets, scenario),
            other_models=[(s.provider, s.model) for s in others],
            unpriced=unpriced,
            forecaster=spec.model,
            fallbacks=fallbacks,
        )


def _tokens(s: _Series) -> float:
    return float(s.tokens_in.sum() + s.tokens_out.sum())


def _by_model(rows: Sequence[UsageRow], history: RegularSeries) -> list[_Series]:
    """Each (provider, model)'s arrays over the history's buckets (zero where absent)."""
    n = int(history.values.size)
    found: dict[tuple[str, str], _Series] = {}
    for row in rows:
        index = (row.time - history.start) // history.step
        if not 0 <= index < n:
            continue  # before the tenant's first data: only empty rows can be there
        s = found.get((row.provider, row.model))
        if s is None:
            s = _Series(row.provider, row.model, np.zeros(n), np.zeros(n), np.zeros(n))
            found[(row.provider, row.model)] = s
        s.tokens_in[index] += row.input_tokens
        s.tokens_out[index] += row.output_tokens
        s.cost[index] += row.cost_usd
    return list(found.values())


def _price(s: _Series, listed: tuple[float, float] | None) -> Price | None:
    """The table's price, else the rate the events' costs show, else None."""
    if _tokens(s) <= 0:
        return None  # nothing to price by the token: forecast its cost with ``other``
    if listed is not None:
        return Price(listed[0], listed[1], "table")
    cost = float(s.cost.sum())
    if cost <= 0:
        return None
    rate = cost / _tokens(s) * _MILLION
    return Price(rate, rate, "observed")


def _scenario(
    spec: WhatIfSpec,
    keyed: dict[str, tuple[_Series, Price]],
    others: list[_Series],
    base_prices: dict[str, float],
    prices: PriceLookup,
    today: dt.date,
) -> tuple[Scenario, dict[str, tuple[str, str, Price]]]:
    """The :class:`Scenario` over the usage keys, and the shift targets not in the history.

    Unpriced targets raise; so do references to models that are not costed on their own.
    """
    changes = {c.ref: c for c in spec.prices}
    targets: dict[str, tuple[str, str, Price]] = {}
    shifts: list[Shift] = []

    def find(ref: ModelRef, field: str) -> list[str]:
        keys = [k for k, (s, _) in keyed.items() if ref.matches(s.provider, s.model)]
        if keys:
            return keys
        if any(ref.matches(s.provider, s.model) for s in others):
            raise ValidationError(
                f"{field}: {ref} is costed with the smaller models as '{OTHER}' (only the"
                f" {MAX_MODELS} largest are costed by the token); filter the what-if to it"
            )
        seen = ", ".join(f"{s.provider}/{s.model}" for s, _ in keyed.values())
        raise ValidationError(f"{field}: no priced calls of {ref} in the history; costed: {seen}")

    def target_key(ref: ModelRef, provider: str, field: str) -> str:
        # Without a provider, the target is at the source's provider.
        located = ModelRef(ref.model, ref.provider or provider)
        for k, (s, _) in keyed.items():
            if located.matches(s.provider, s.model):
                return k
        for k, (p, m, _) in targets.items():
            if located.matches(p, m):
                return k
        prov = located.provider or provider
        change = next((c for r, c in changes.items() if r.matches(prov, ref.model)), None)
        listed = prices(prov, ref.model, today)
        if change is not None:
            price = Price(change.input, change.output, "request")
        elif listed is not None:
            price = Price(listed[0], listed[1], "table")
        else:
            raise ValidationError(
                f"{field}: no price for {prov}/{ref.model}; give it in prices or set a price"
                " override (PUT /api/v1/prices/overrides)"
            )
        key = f"t{len(targets)}"
        targets[key] = (prov, ref.model, price)
        base_prices[f"{key}:in"], base_prices[f"{key}:out"] = price.input, price.output
        return key

    for i, shift in enumerate(spec.shifts):
        for src in find(shift.source, f"shifts[{i}].from"):
            provider = keyed[src][0].provider
            dst = target_key(shift.target, provider, f"shifts[{i}].to")
            if dst != src:
                shifts.extend(Shift(f"{src}:{p}", f"{dst}:{p}", shift.share) for p in ("in", "out"))
    new_prices: dict[str, float] = {}
    for i, change in enumerate(spec.prices):
        keys = [k for k, (s, _) in keyed.items() if change.ref.matches(s.provider, s.model)]
        keys += [k for k, (p, m, _) in targets.items() if change.ref.matches(p, m)]
        if not keys:
            find(change.ref, f"prices[{i}]")  # raises the explanation
        for k in keys:
            new_prices[f"{k}:in"], new_prices[f"{k}:out"] = change.input, change.output
    return Scenario(spec.traffic_scale, tuple(shifts), new_prices), targets


def _model_costs(
    result: WhatIf,
    keyed: dict[str, tuple[_Series, Price]],
    targets: dict[str, tuple[str, str, Price]],
    scenario: Scenario,
) -> list[ModelCost]:
    def total(by_model: dict[str, float], key: str) -> float:
        return by_model.get(f"{key}:in", 0.0) + by_model.get(f"{key}:out", 0.0)

    base, new = dict(result.baseline.by_model), dict(result.scenario.by_model)

    def changed(key: str, price: Price) -> Price:
        if f"{key}:in" not in scenario.prices:
            return price
        return Price(scenario.prices[f"{key}:in"], scenario.prices[f"{key}:out"], "request")

    out = [
        ModelCost(s.provider, s.model, total(base, k), total(new, k), p, changed(k, p))
        for k, (s, p) in keyed.items()
    ]
    out += [
        ModelCost(prov, model, 0.0, total(new, k), None, changed(k, p))
        for k, (prov, model, p) in targets.items()
    ]
    if OTHER in base:
        out.append(ModelCost("", OTHER, base[OTHER], new.get(OTHER, 0.0), None, None))
    return out


__all__ = [
    "MAX_MODELS",
    "ModelCost",
    "ModelRef",
    "Price",
    "PriceChange",
    "PriceLookup",
    "TrafficShift",
    "UsageRow",
    "UsageSource",
    "WhatIfCoster",
    "WhatIfReport",
    "WhatIfSpec",
]
