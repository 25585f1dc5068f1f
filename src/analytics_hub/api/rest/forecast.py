"""Forecast routes: a metric's forecast, spend runway, what-if costing, threshold crossing.

Thin adapters: requests are shaped into the forecast feature's specs and sources
(:mod:`analytics_hub.api.forecast_sources`), the work runs in a worker thread under the
forecast limiter, and results become the response models. See docs/api/forecast.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
from fastapi import APIRouter, Request

from analytics_hub.analytics.forecast.costing import (
    ModelRef,
    PriceChange,
    TrafficShift,
    WhatIfSpec,
)
from analytics_hub.analytics.forecast.history import BucketPolicy, parse_duration, parse_horizon
from analytics_hub.analytics.forecast.history import policy as bucket_policy
from analytics_hub.analytics.forecast.metric import (
    Budget,
    CrossingCondition,
    ForecastSpec,
)
from analytics_hub.api.context import ApiServices, services
from analytics_hub.api.deps import ReadCaller
from analytics_hub.api.forecast_sources import (
    QuerySeries,
    QueryUsage,
    price_lookup,
    with_model_calls,
)
from analytics_hub.api.rest.forecast_models import (
    AmountOut,
    CostPointOut,
    CrossingIn,
    CrossingOut,
    ForecastIn,
    ForecastOut,
    ModelCostOut,
    ModelNameOut,
    RunwayIn,
    RunwayOut,
    SeriesQuery,
    SpendPointOut,
    WhatIfIn,
    WhatIfOut,
    WhenOut,
    backtest_out,
    history_out,
    model_out,
    points_out,
    price_out,
)
from analytics_hub.errors import ValidationError
from analytics_hub.query import Aggregate, Filter

router = APIRouter(prefix="/api/v1/forecast", tags=["forecast"])

#: Runway periods ending within this use hourly buckets by default, later ones daily.
HOURLY_RUNWAY = dt.timedelta(days=7)


def series_source(hub: ApiServices, tenant_id: str, query: SeriesQuery) -> QuerySeries:
    """The series a forecast query describes, checked by the query layer.

    Refuses shapes that are not one series, saying what to change.
    """
    if len(query.aggregates) != 1:
        raise _invalid(
            "query.aggregates",
            f"a forecast needs exactly one aggregate, got {len(query.aggregates)}; send one"
            " request per metric",
        )
    buckets = [g.bucket for g in query.group_by if not isinstance(g, str)]
    keys = [g for g in query.group_by if isinstance(g, str)]
    if keys:
        raise _invalid(
            "query.group_by",
            f"a forecast is of one series: remove {', '.join(map(repr, keys))} from group_by"
            " and filter on it instead (one request per value)",
        )
    if len(buckets) != 1:
        raise _invalid(
            "query.group_by", 'group by exactly one time bucket, e.g. [{"bucket": "1h"}]'
        )
    bucket_policy(buckets[0])
    source = QuerySeries(
        hub.query,
        tenant_id,
        aggregate=query.aggregates[0],
        bucket=buckets[0],
        filters=query.filters,
        page_rows=hub.forecast.page_rows,
    )
    source.check(hub.forecast.forecaster.now())
    return source


def metric_name(aggregate: Aggregate) -> str:
    """The column name the query API would give the aggregate."""
    if aggregate.as_:
        return aggregate.as_
    return f"{aggregate.fn}_{aggregate.field}" if aggregate.field else aggregate.fn


@router.post("", response_model=ForecastOut, summary="Forecast a metric")
async def forecast_metric(request: Request, caller: ReadCaller, body: ForecastIn) -> ForecastOut:
    hub = services(request)
    source = series_source(hub, caller.tenant_id, body.query)
    bucket = bucket_policy(source.bucket)
    levels = tuple(dict.fromkeys(body.levels))  # duplicates removed, order kept
    spec = ForecastSpec(
        horizon=parse_horizon(body.horizon, bucket),
        levels=levels,
        model=body.model,
        history=_history(body.history),
    )
    hub.forecast.forecaster.check_model(body.model)
    found = await hub.forecast.run(
        hub.metrics, "forecast", lambda: hub.forecast.forecaster.forecast(source, spec)
    )
    fc = found.forecast
    return ForecastOut(
        metric=metric_name(body.query.aggregates[0]),
        bucket=bucket.name,
        as_of=found.as_of,
        levels=list(levels),
        model=model_out(found),
        history=history_out(found),
        points=points_out(fc, levels),
        backtest=backtest_out(fc.backtest),
    )


@router.post("/runway", response_model=RunwayOut, summary="When a budget runs out")
async def budget_runway(request: Request, caller: ReadCaller, body: RunwayIn) -> RunwayOut:
    hub = services(request)
    now = hub.forecast.forecaster.now()
    name = body.bucket or ("1h" if body.period.to - now <= HOURLY_RUNWAY else "1d")
    cost = Aggregate(fn="sum", field="cost_usd", as_="cost")
    source = QuerySeries(
        hub.query,
        caller.tenant_id,
        aggregate=cost,
        bucket=name,
        filters=with_model_calls(body.filters),
        page_rows=hub.forecast.page_rows,
    )
    source.check(now)
    budget = Budget(body.budget, body.period.from_, body.period.to)
    history = _history(body.history)
    hub.forecast.forecaster.check_model(body.model)
    report = await hub.forecast.run(
        hub.metrics,
        "forecast_runway",
        lambda: hub.forecast.forecaster.runway(
            source, budget, level=body.level, model=body.model, history=history
        ),
    )
    found, spend = report.runway, report.spend
    status = (
        "exhausted"
        if found.exhausted
        else "runs_out"
        if found.expected is not None
        else "not_within_period"
    )
    totals = found.spent + np.cumsum(np.clip(spend.mean, 0.0, None))
    inside = [i for i in range(spend.horizon) if spend.time_at(i) < budget.end]
    return RunwayOut(
        status=status,
        budget=budget.amount,
        spent=found.spent,
        remaining=max(budget.amount - found.spent, 0.0),
        as_of=report.metric.as_of,
        period=body.period,
        exhausted_at=WhenOut(expected=found.expected, earliest=found.earliest, latest=found.latest),
        projected_spend=AmountOut(
            expected=found.projected_spend,
            lower=found.projected_spend_lower,
            upper=found.projected_spend_upper,
        ),
        level=found.level,
        bucket=name,
        model=model_out(report.metric),
        backtest=backtest_out(report.metric.forecast.backtest),
        points=[
            SpendPointOut(
                time=spend.time_at(i),
                spend=float(spend.mean[i]),
                lower=float(spend.lower[i]),
                upper=float(spend.upper[i]),
                cumulative=float(totals[i]),
            )
            for i in inside
        ],
    )


@router.post("/what-if", response_model=WhatIfOut, summary="Cost a what-if scenario")
async def what_if_cost(request: Request, caller: ReadCaller, body: WhatIfIn) -> WhatIfOut:
    hub = services(request)
    bucket = bucket_policy(body.bucket)
    spec = WhatIfSpec(
        horizon=parse_horizon(body.horizon, bucket),
        level=body.level,
        model=body.model,
        history=_history(body.history),
        traffic_scale=body.traffic_scale,
        shifts=tuple(
            TrafficShift(
                ModelRef(s.from_.model, s.from_.provider),
                ModelRef(s.to.model, s.to.provider),
                s.share,
            )
            for s in body.shifts
        ),
        prices=tuple(
            PriceChange(ModelRef(p.model, p.provider), p.input, p.output) for p in body.prices
        ),
    )
    source = QueryUsage(
        hub.query,
        caller.tenant_id,
        bucket=body.bucket,
        filters=body.filters,
        page_rows=hub.forecast.page_rows,
    )
    _check_filters(hub, caller.tenant_id, body.filters, bucket)
    prices = price_lookup(hub.pricing, caller.tenant_id)
    now = hub.forecast.forecaster.now()
    report = await hub.forecast.run(
        hub.metrics,
        "forecast_what_if",
        lambda: hub.forecast.coster.what_if(source, prices, spec, now),
    )
    base, new = report.result.baseline, report.result.scenario
    return WhatIfOut(
        as_of=report.start,
        bucket=bucket.name,
        level=base.level,
        baseline=AmountOut(expected=base.total, lower=base.total_lower, upper=base.total_upper),
        scenario=AmountOut(expected=new.total, lower=new.total_lower, upper=new.total_upper),
        change=report.result.change,
        models=[
            ModelCostOut(
                provider=m.provider,
                model=m.model,
                baseline=m.baseline,
                scenario=m.scenario,
                price=price_out(m.price),
                scenario_price=price_out(m.scenario_price),
            )
            for m in report.models
        ],
        other_models=[ModelNameOut(provider=p, model=m) for p, m in report.other_models],
        unpriced=[ModelNameOut(provider=p, model=m) for p, m in report.unpriced],
        forecaster=report.forecaster,
        fallbacks=report.fallbacks,
        points=[
            CostPointOut(
                time=report.start + report.step * i,
                baseline=AmountOut(
                    expected=float(base.mean[i]),
                    lower=float(base.lower[i]),
                    upper=float(base.upper[i]),
                ),
                scenario=AmountOut(
                    expected=float(new.mean[i]),
                    lower=float(new.lower[i]),
                    upper=float(new.upper[i]),
                ),
            )
            for i in range(int(base.mean.size))
        ],
    )


@router.post("/crossing", response_model=CrossingOut, summary="Will a metric cross a threshold")
async def crossing(request: Request, caller: ReadCaller, body: CrossingIn) -> CrossingOut:
    hub = services(request)
    source = series_source(hub, caller.tenant_id, body.query)
    bucket = bucket_policy(source.bucket)
    steps = parse_horizon(body.within, bucket, field="within")
    condition = CrossingCondition(
        threshold=body.threshold,
        within=bucket.step * steps,
        direction=body.direction,
        level=body.level,
    )
    history = _history(body.history)
    hub.forecast.forecaster.check_model(body.model)
    report = await hub.forecast.run(
        hub.metrics,
        "forecast_crossing",
        lambda: hub.forecast.forecaster.crossing(
            source, condition, model=body.model, history=history
        ),
    )
    found, fc = report.crossing, report.metric.forecast
    return CrossingOut(
        metric=metric_name(body.query.aggregates[0]),
        bucket=bucket.name,
        as_of=report.metric.as_of,
        threshold=found.threshold,
        direction=found.direction,
        window_end=fc.time_at(found.within_steps),
        probability=found.probability,
        expected=found.expected,
        earliest=found.earliest,
        most_likely_at=found.most_likely_at,
        level=fc.level,
        model=model_out(report.metric),
        backtest=backtest_out(fc.backtest),
        points=points_out(fc, (fc.level,)),
    )


def _check_filters(
    hub: ApiServices, tenant_id: str, filters: Sequence[Filter], bucket: BucketPolicy
) -> None:
    """Let the query layer check the filters before any work is queued."""
    probe = QuerySeries(
        hub.query,
        tenant_id,
        aggregate=Aggregate(fn="count"),
        bucket=bucket.name,
        filters=filters,
        page_rows=hub.forecast.page_rows,
    )
    probe.check(hub.forecast.forecaster.now())


def _history(text: str | None) -> dt.timedelta | None:
    return parse_duration(text, field="history") if text is not None else None


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError(f"{field}: {message}", details=[{"field": field, "message": message}])


__all__ = ["router", "series_source"]
