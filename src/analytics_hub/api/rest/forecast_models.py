"""Request and response models of the forecast routes (the OpenAPI schema), and the
functions that fill the responses from the forecast feature's results."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from analytics_hub.analytics.forecast import BacktestResult, Forecast
from analytics_hub.analytics.forecast.costing import Price
from analytics_hub.analytics.forecast.metric import MetricForecast
from analytics_hub.query import Aggregate, BucketKey, Filter
from analytics_hub.query.model import MAX_FILTERS

_USD_M = "USD per million tokens"
Level = Annotated[float, Field(gt=0, lt=1)]
HORIZON = (
    'how far ahead: a duration ("90m", "48h", "30d", "2w") or a number of buckets;'
    " a whole number of buckets, from 1 hour (or one bucket) to 30 days, at most 1000 buckets"
)
HISTORY = (
    'history to fit on, a duration ("56d"); default: 4 weeks for 1h buckets, a year for 1d'
    " (docs/api/forecast.md)"
)
MODEL = '"auto" (the ensemble) or a forecaster by name (arima, ets, theta, seasonal_naive, ...)'
_NOT_IN_A_SERIES = {
    "time_range": "the forecast reads its own history window; set `history` to change it",
    "order_by": "a series is read in time order",
    "limit": "every bucket of the history is read",
    "cursor": "every bucket of the history is read",
}


class _In(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class SeriesQuery(_In):
    """A typed query that makes one series: one aggregate, grouped by one time bucket."""

    filters: list[Filter] = Field(default_factory=list, max_length=MAX_FILTERS)
    group_by: list[str | BucketKey] = Field(
        description='exactly one time bucket, e.g. [{"bucket": "1h"}]'
    )
    aggregates: list[Aggregate] = Field(description="exactly one aggregate")

    @model_validator(mode="before")
    @classmethod
    def _explain_other_parts(cls, data: Any) -> Any:
        # Say what to change instead of pydantic's bare "extra inputs are not permitted".
        if isinstance(data, dict):
            for key, why in _NOT_IN_A_SERIES.items():
                if key in data:
                    # A custom error: its message reaches the client without a prefix.
                    raise PydanticCustomError(
                        "not_a_series_part", "remove '{key}': {why}", {"key": key, "why": why}
                    )
        return data


class ForecastIn(_In):
    query: SeriesQuery
    horizon: str | int = Field(description=HORIZON, examples=["48h", "30d", 14])
    levels: list[Level] = Field(
        default=[0.95],
        min_length=1,
        max_length=5,
        description="prediction interval levels; the first is also the back-test's",
    )
    model: str = Field(default="auto", max_length=64, description=MODEL)
    history: str | None = Field(default=None, max_length=16, description=HISTORY)


class IntervalOut(BaseModel):
    level: float
    lower: float
    upper: float


class PointOut(BaseModel):
    time: dt.datetime = Field(description="start of the bucket")
    value: float = Field(description="point forecast (the median for log-scale models)")
    intervals: list[IntervalOut] = Field(description="one per level, in the order asked")


class BacktestOut(BaseModel):
    horizon: int = Field(description="buckets forecast in the back-test (at most half the history)")
    level: float
    mae: float = Field(description="mean absolute error, in the metric's unit")
    smape: float = Field(description="symmetric MAPE, percent (0 to 200)")
    mase: float | None = Field(description="MAE over the seasonal naive's in-sample MAE")
    msis: float | None = Field(description="mean scaled interval score")
    coverage: float = Field(description="share of the held-out buckets inside the interval")


class HistoryOut(BaseModel):
    from_: dt.datetime = Field(alias="from", description="first bucket with data")
    to: dt.datetime = Field(description="end of the history: the start of the current bucket")
    buckets: int
    filled: int = Field(description="empty buckets that were filled")
    fill: Literal["zero", "carry"] = Field(
        description="zero: counts and sums; carry: the previous value (averages, percentiles)"
    )


class ModelOut(BaseModel):
    model: str = Field(description="the forecaster used")
    requested: str = Field(description="the model asked for")
    weights: dict[str, float] = Field(description="ensemble member weights")
    fallback: str | None = Field(
        description="why `auto` fell back to the seasonal naive forecast; null: it did not"
    )


class ForecastOut(BaseModel):
    metric: str = Field(description="the aggregate's name (`as`, or <fn>_<field>)")
    bucket: str
    as_of: dt.datetime = Field(description="the first forecast bucket starts here")
    levels: list[float]
    model: ModelOut
    history: HistoryOut
    points: list[PointOut]
    backtest: BacktestOut | None


class PeriodIn(_In):
    from_: AwareDatetime = Field(alias="from", description="start of the budget period")
    to: AwareDatetime = Field(description="end of the budget period (exclusive)")


class RunwayIn(_In):
    filters: list[Filter] = Field(
        default_factory=list,
        max_length=MAX_FILTERS,
        description="e.g. one asset; model calls only unless a payload_subtype filter is given",
    )
    budget: float = Field(gt=0, description="USD")
    period: PeriodIn
    bucket: Literal["1h", "1d"] | None = Field(
        default=None, description="default: 1h when the period ends within 7 days, else 1d"
    )
    level: Level = 0.95
    model: str = Field(default="auto", max_length=64, description=MODEL)
    history: str | None = Field(default=None, max_length=16, description=HISTORY)


class WhenOut(BaseModel):
    expected: dt.datetime | None = Field(description="null: not within the period")
    earliest: dt.datetime | None = Field(description="from the interval's upper bound")
    latest: dt.datetime | None = Field(description="from the lower bound; null: not within")


class AmountOut(BaseModel):
    expected: float
    lower: float
    upper: float


class SpendPointOut(BaseModel):
    time: dt.datetime
    spend: float = Field(description="forecast spend of the bucket's part inside the period")
    lower: float
    upper: float
    cumulative: float = Field(description="spent so far plus the forecast up to this bucket's end")


class RunwayOut(BaseModel):
    status: Literal["exhausted", "runs_out", "not_within_period"]
    budget: float
    spent: float = Field(description="USD spent from the period's start to `as_of`")
    remaining: float
    as_of: dt.datetime = Field(
        description="start of the current bucket: spend before it is counted"
    )
    period: PeriodIn
    exhausted_at: WhenOut
    projected_spend: AmountOut = Field(description="at the period's end")
    level: float
    bucket: str
    model: ModelOut
    backtest: BacktestOut | None
    points: list[SpendPointOut]


class ModelRefIn(_In):
    model: str = Field(min_length=1, max_length=200, description="model_id as in the events")
    provider: str | None = Field(default=None, max_length=200, description="default: any")


class ShiftIn(_In):
    from_: ModelRefIn = Field(alias="from")
    to: ModelRefIn = Field(description="its provider defaults to the source's")
    share: float = Field(ge=0, le=1, description="share of the source's calls moved")


class PriceIn(_In):
    model: str = Field(min_length=1, max_length=200)
    provider: str | None = Field(default=None, max_length=200)
    input: float = Field(ge=0, description=_USD_M)
    output: float = Field(ge=0, description=_USD_M)


class WhatIfIn(_In):
    filters: list[Filter] = Field(
        default_factory=list, max_length=MAX_FILTERS, description="e.g. one asset"
    )
    horizon: str | int = Field(default="30d", description=HORIZON)
    bucket: Literal["1h", "1d"] = "1d"
    level: Level = 0.95
    model: str = Field(default="auto", max_length=64, description=MODEL)
    history: str | None = Field(default=None, max_length=16, description=HISTORY)
    traffic_scale: float = Field(default=1.0, ge=0, le=1000, description="2: twice the calls")
    shifts: list[ShiftIn] = Field(default_factory=list, max_length=20)
    prices: list[PriceIn] = Field(default_factory=list, max_length=50)


class PriceOut(BaseModel):
    input: float = Field(description=_USD_M)
    output: float = Field(description=_USD_M)
    source: Literal["table", "observed", "request"] = Field(
        description="table: the price table with overrides; observed: the events' own costs;"
        " request: this what-if"
    )


class ModelCostOut(BaseModel):
    provider: str
    model: str = Field(description="`other`: the smaller models, forecast together by cost")
    baseline: float = Field(description="USD over the horizon")
    scenario: float
    price: PriceOut | None
    scenario_price: PriceOut | None


class ModelNameOut(BaseModel):
    provider: str
    model: str


class CostPointOut(BaseModel):
    time: dt.datetime
    baseline: AmountOut
    scenario: AmountOut


class WhatIfOut(BaseModel):
    as_of: dt.datetime
    bucket: str
    level: float
    baseline: AmountOut = Field(description="USD over the horizon, unchanged traffic and prices")
    scenario: AmountOut
    change: float = Field(description="scenario minus baseline, USD")
    models: list[ModelCostOut]
    other_models: list[ModelNameOut] = Field(description="costed together as `other`")
    unpriced: list[ModelNameOut] = Field(description="no price and no cost: left out")
    forecaster: str
    fallbacks: list[str]
    points: list[CostPointOut]


class CrossingIn(_In):
    query: SeriesQuery
    threshold: float
    within: str | int = Field(description=f"the window; {HORIZON}", examples=["48h", "7d"])
    direction: Literal["above", "below"] = "above"
    level: Level = Field(default=0.95, description="the interval the probability is read from")
    model: str = Field(default="auto", max_length=64, description=MODEL)
    history: str | None = Field(default=None, max_length=16, description=HISTORY)


class CrossingOut(BaseModel):
    metric: str
    bucket: str
    as_of: dt.datetime
    threshold: float
    direction: Literal["above", "below"]
    window_end: dt.datetime
    probability: float = Field(description="chance of reaching the threshold in the window")
    expected: dt.datetime | None = Field(description="first bucket whose forecast reaches it")
    earliest: dt.datetime | None = Field(description="first bucket whose interval reaches it")
    most_likely_at: dt.datetime = Field(description="bucket with the highest chance")
    level: float
    model: ModelOut
    backtest: BacktestOut | None
    points: list[PointOut]


# -- from the forecast feature's results --------------------------------------------


def points_out(fc: Forecast, levels: Sequence[float]) -> list[PointOut]:
    return [
        PointOut(
            time=fc.time_at(i),
            value=float(fc.mean[i]),
            intervals=[
                IntervalOut(
                    level=lv, lower=float(fc.bands[lv][0][i]), upper=float(fc.bands[lv][1][i])
                )
                for lv in levels
            ],
        )
        for i in range(fc.horizon)
    ]


def model_out(found: MetricForecast) -> ModelOut:
    fc = found.forecast
    return ModelOut(
        model=fc.model,
        requested=found.requested_model,
        weights=dict(fc.weights),
        fallback=found.fallback,
    )


def history_out(found: MetricForecast) -> HistoryOut:
    h = found.history
    return HistoryOut.model_validate(
        {
            "from": h.start,
            "to": h.end,
            "buckets": int(h.values.size),
            "filled": h.filled,
            "fill": h.fill,
        }
    )


def backtest_out(result: BacktestResult | None) -> BacktestOut | None:
    if result is None:
        return None
    return BacktestOut(
        horizon=result.horizon,
        level=result.level,
        mae=result.mae,
        smape=result.smape,
        mase=result.mase,
        msis=result.msis,
        coverage=result.coverage,
    )


def price_out(price: Price | None) -> PriceOut | None:
    if price is None:
        return None
    return PriceOut(input=price.input, output=price.output, source=price.source)
