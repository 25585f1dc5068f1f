"""Forecast requests at the edge: series shape, query-layer checks, paging, prices, threads."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any, cast

import anyio
import pytest
from pydantic import ValidationError as PydanticValidationError

from analytics_hub.analytics.forecast.costing import WhatIfCoster
from analytics_hub.analytics.forecast.metric import MetricForecaster
from analytics_hub.api.context import ApiServices
from analytics_hub.api.forecast_sources import (
    MODEL_CALLS,
    ForecastContext,
    QuerySeries,
    QueryUsage,
    price_lookup,
    with_model_calls,
)
from analytics_hub.api.metrics import HubMetrics
from analytics_hub.api.rest.forecast import metric_name, series_source
from analytics_hub.api.rest.forecast_models import ForecastIn, SeriesQuery, WhatIfIn
from analytics_hub.errors import ValidationError
from analytics_hub.pricing import PriceBook, PricingService, shipped_price_file
from analytics_hub.query import Aggregate, Filter, Query, QueryMeta, QueryResult, QueryService
from analytics_hub.store.base import EventStore, QueryRows

NOW = dt.datetime(2025, 3, 20, 10, 25, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
META = QueryMeta(source="rollup", plan=[], elapsed_ms=1.0, approximate_percentiles=False)


class NoStore:
    """A store that must not be read: the checks plan queries, they never run them."""

    dialect = "duckdb"

    def fetch(self, sql: str, params: Sequence[object]) -> QueryRows:
        raise AssertionError("a check must not read the store")


def hub() -> ApiServices:
    forecaster = MetricForecaster(clock=lambda: NOW)
    context = ForecastContext(
        forecaster=forecaster,
        coster=WhatIfCoster(forecaster),
        limiter=anyio.CapacityLimiter(1),
        page_rows=100,
    )
    query = QueryService(cast(EventStore, NoStore()), max_buckets=5000)
    return cast(ApiServices, SimpleNamespace(query=query, forecast=context))


def series(**parts: Any) -> SeriesQuery:
    body = {"group_by": [{"bucket": "1h"}], "aggregates": [{"fn": "count"}], **parts}
    return SeriesQuery.model_validate(body)


def test_a_one_series_query_becomes_a_source() -> None:
    source = series_source(hub(), "t1", series(filters=[{"field": "asset_id", "value": "a"}]))
    assert (source.bucket, source.fill) == ("1h", "zero")
    p95 = series(aggregates=[{"fn": "p95", "field": "latency_ms"}])
    assert series_source(hub(), "t1", p95).fill == "carry"


@pytest.mark.parametrize(
    ("parts", "field", "says"),
    [
        ({"aggregates": []}, "query.aggregates", "exactly one aggregate, got 0"),
        (
            {"aggregates": [{"fn": "count"}, {"fn": "sum", "field": "cost_usd"}]},
            "query.aggregates",
            "one request per metric",
        ),
        (
            {"group_by": ["model_id", {"bucket": "1h"}]},
            "query.group_by",
            "remove 'model_id' from group_by and filter on it instead",
        ),
        ({"group_by": []}, "query.group_by", 'exactly one time bucket, e.g. [{"bucket": "1h"}]'),
        (
            {"group_by": [{"bucket": "1h"}, {"bucket": "1d"}]},
            "query.group_by",
            "exactly one time bucket",
        ),
        (
            {"filters": [{"field": "colour", "value": "red"}]},
            "query",
            "unknown field 'colour'",
        ),
        (
            {"aggregates": [{"fn": "sum", "field": "model_id"}]},
            "query",
            "model_id",
        ),
    ],
)
def test_other_shapes_are_refused_naming_the_field(
    parts: dict[str, Any], field: str, says: str
) -> None:
    with pytest.raises(ValidationError) as err:
        series_source(hub(), "t1", series(**parts))
    assert err.value.status == 400
    assert err.value.message.startswith(f"{field}: ")
    assert says in err.value.message
    assert isinstance(err.value.details, list)
    assert err.value.details[0]["field"] == field


@pytest.mark.parametrize("part", ["time_range", "order_by", "limit", "cursor"])
def test_query_parts_that_make_no_sense_in_a_forecast_say_so(part: str) -> None:
    body = {"group_by": [{"bucket": "1h"}], "aggregates": [{"fn": "count"}], part: None}
    with pytest.raises(PydanticValidationError, match=f"remove '{part}'"):
        SeriesQuery.model_validate(body)


def test_request_defaults_and_limits() -> None:
    body = ForecastIn.model_validate({"query": series().model_dump(), "horizon": "48h"})
    assert (body.levels, body.model, body.history) == ([0.95], "auto", None)
    for bad in ({"levels": [1.0]}, {"levels": []}, {"levels": [0.5] * 6}, {"extra": 1}):
        with pytest.raises(PydanticValidationError):
            ForecastIn.model_validate({"query": series().model_dump(), "horizon": 4, **bad})
    what = WhatIfIn.model_validate(
        {"shifts": [{"from": {"model": "gpt-4o"}, "to": {"model": "gpt-4o-mini"}, "share": 0.5}]}
    )
    assert (what.horizon, what.bucket, what.traffic_scale) == ("30d", "1d", 1.0)
    assert what.shifts[0].from_.model == "gpt-4o"
    with pytest.raises(PydanticValidationError, match="less than or equal to 1"):
        WhatIfIn.model_validate(
            {"shifts": [{"from": {"model": "a"}, "to": {"model": "b"}, "share": 1.5}]}
        )


def test_metric_names_follow_the_query_api() -> None:
    assert metric_name(Aggregate(fn="count")) == "count"
    assert metric_name(Aggregate(fn="sum", field="cost_usd")) == "sum_cost_usd"
    assert metric_name(Aggregate(fn="p95", field="latency_ms", as_="p95")) == "p95"


class PagedQuery:
    """Answers ``run`` from queued pages and records the queries."""

    def __init__(self, *pages: tuple[list[dict[str, Any]], str | None]) -> None:
        self.pages = list(pages)
        self.runs: list[tuple[str, Query]] = []

    def run(self, tenant_id: str, query: Query) -> QueryResult:
        self.runs.append((tenant_id, query))
        rows, cursor = self.pages.pop(0)
        return QueryResult(rows=rows, next_cursor=cursor, meta=META)


def test_the_series_reads_every_page_for_the_callers_tenant() -> None:
    t0 = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    fake = PagedQuery(
        ([{"bucket": "2025-03-01T00:00:00Z", "value": 3}], "c1"),
        ([{"bucket": "2025-03-01T01:00:00Z", "value": None}], "c2"),
        ([{"bucket": "2025-03-01T02:00:00Z", "value": 2.5}], None),
    )
    source = QuerySeries(
        cast(QueryService, fake),
        "tenant-b",
        aggregate=Aggregate(fn="sum", field="cost_usd", as_="cost"),
        bucket="1h",
        filters=[Filter(field="asset_id", value="a")],
        page_rows=1,
    )
    assert source.series(t0, t0 + 3 * H) == [(t0, 3.0), (t0 + H, None), (t0 + 2 * H, 2.5)]
    assert [t for t, _ in fake.runs] == ["tenant-b"] * 3
    assert [q.cursor for _, q in fake.runs] == [None, "c1", "c2"]
    first = fake.runs[0][1]
    assert first.limit == 1
    assert first.model_dump(by_alias=True)["group_by"] == [{"bucket": "1h"}]
    assert first.aggregates[0].as_ == "value"


def test_a_total_is_the_same_aggregate_without_buckets() -> None:
    fake = PagedQuery(([{"value": 12.5}], None), ([{"value": None}], None))
    source = QuerySeries(
        cast(QueryService, fake), "t1", aggregate=Aggregate(fn="sum", field="cost_usd"), bucket="1d"
    )
    t0 = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    assert source.total(t0, t0 + H) == 12.5
    assert fake.runs[0][1].group_by == []
    assert source.total(t0, t0 + H) == 0.0


def test_usage_is_of_model_calls_by_provider_and_model() -> None:
    fake = PagedQuery(
        (
            [
                {"provider": "openai", "model_id": "gpt-4o", "bucket": "2025-03-01T00:00:00Z"}
                | {"i": 10, "o": 5, "c": 0.25},
                {"provider": None, "model_id": None, "bucket": "2025-03-01T00:00:00Z"}
                | {"i": None, "o": None, "c": None},
            ],
            None,
        )
    )
    usage = QueryUsage(cast(QueryService, fake), "t1", bucket="1d")
    t0 = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    rows = usage.usage(t0, t0 + dt.timedelta(days=1))
    assert [(r.provider, r.model, r.input_tokens, r.cost_usd) for r in rows] == [
        ("openai", "gpt-4o", 10.0, 0.25),
        ("unknown", "unknown", 0.0, 0.0),
    ]
    query = fake.runs[0][1]
    assert query.filters == [MODEL_CALLS]
    assert [g if isinstance(g, str) else g.bucket for g in query.group_by] == [
        "provider",
        "model_id",
        "1d",
    ]


def test_spend_counts_model_calls_unless_the_filters_pick_a_subtype() -> None:
    asset = Filter(field="asset_id", value="a")
    assert with_model_calls([asset]) == [asset, MODEL_CALLS]
    costs = Filter(field="payload_subtype", value="token_cost")
    assert with_model_calls([costs]) == [costs]


def test_prices_come_from_the_table_with_the_tenants_overrides() -> None:
    look = price_lookup(PricingService(PriceBook(shipped_price_file())), "t1")
    found = look("openai", "gpt-4o", dt.date(2025, 3, 1))
    assert found is not None
    assert all(p > 0 for p in found)
    assert look("vllm", "in-house-model", dt.date(2025, 3, 1)) is None


def test_the_work_runs_in_a_worker_thread_and_is_timed() -> None:
    context = hub().forecast
    metrics = HubMetrics()

    async def main() -> str:
        return await context.run(metrics, "forecast", lambda: threading.current_thread().name)

    loop_thread = threading.current_thread().name
    assert anyio.run(main) != loop_thread
    text = metrics.registry.get_sample_value("hub_query_seconds_count", {"kind": "forecast"})
    assert text == 1.0
