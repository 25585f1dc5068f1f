"""The overview is assembled from typed queries; checked with a fake runner."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from analytics_hub.errors import ValidationError
from analytics_hub.query.model import PlanSegment, Query, QueryMeta, QueryResult
from analytics_hub.query.overview import build_overview

START = datetime(2025, 1, 1, 9, 30, tzinfo=UTC)
END = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


class FakeRunner:
    """Answers each overview query by its shape and records it."""

    def __init__(self) -> None:
        self.queries: list[Query] = []

    def __call__(self, query: Query) -> QueryResult:
        self.queries.append(query)
        aliases = [a.as_ for a in query.aggregates]
        filters = {(f.field, f.value) for f in query.filters}
        rows: list[dict[str, Any]]
        if query.group_by and query.group_by[0] in ("model_id", "asset_id"):
            key = query.group_by[0]
            rows = [{key: "m1", "value": 3.5}, {key: None, "value": None}]
        elif query.group_by:
            if aliases == ["errors"]:
                rows = [{"bucket": "2025-01-01T10:00:00Z", "errors": 2}]
            else:
                rows = [{"bucket": "2025-01-01T09:00:00Z", **dict.fromkeys(aliases, 1)}]
        elif ("status", "error") in filters:
            rows = [{"errors": 4}]
        elif ("cost_source", "unpriced") in filters:
            rows = [{"unpriced": 3}]
        else:
            rows = [
                {
                    "requests": 40,
                    "input_tokens": 10,
                    "output_tokens": 20,
                    "cost_usd": 1.5,
                    "p50_latency_ms": 100.0,
                    "p95_latency_ms": 200.0,
                    "p99_latency_ms": None,
                }
            ]
        meta = QueryMeta(
            source="rollup",
            plan=[PlanSegment(source="rollup_1h", from_="a", to="b")],
            elapsed_ms=1.0,
            approximate_percentiles=True,
        )
        return QueryResult(rows=rows, next_cursor=None, meta=meta)


def test_overview_assembles_totals_series_and_tops() -> None:
    runner = FakeRunner()
    overview = build_overview(runner, START, END, "1h")
    totals = overview.totals
    assert (totals.requests, totals.errors, totals.error_rate) == (40, 4, 0.1)
    assert (totals.unpriced_events, totals.cost_usd, totals.p99_latency_ms) == (3, 1.5, None)
    assert [p.bucket for p in overview.series] == [
        "2025-01-01T09:00:00Z",
        "2025-01-01T10:00:00Z",
        "2025-01-01T11:00:00Z",
    ]
    assert [p.requests for p in overview.series] == [1, 0, 0]  # empty buckets are zeros
    assert [p.errors for p in overview.series] == [0, 2, 0]
    assert overview.top_models_by_cost[0].model_dump() == {"key": "m1", "value": 3.5}
    assert overview.top_assets_by_errors[1].model_dump() == {"key": None, "value": 0.0}
    assert overview.approximate_percentiles
    assert overview.model_dump(by_alias=True)["from"] == "2025-01-01T09:30:00Z"


def test_every_overview_query_is_about_model_calls() -> None:
    runner = FakeRunner()
    build_overview(runner, START, END, "1h")
    assert len(runner.queries) == 9
    for q in runner.queries:
        assert ("payload_subtype", "llm_call") in {(f.field, f.value) for f in q.filters}
    tops = [q for q in runner.queries if q.order_by]
    assert all(q.limit == 10 and q.order_by[0].direction == "desc" for q in tops)


def test_overview_checks_its_range() -> None:
    with pytest.raises(ValidationError, match="earlier than"):
        build_overview(FakeRunner(), END, START, "1h")
    with pytest.raises(ValidationError, match="time zone"):
        build_overview(FakeRunner(), datetime(2025, 1, 1), datetime(2025, 1, 2), "1h")
