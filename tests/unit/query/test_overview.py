"""The overview is assembled from typed queries; checked with a fake runner."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from analytics_hub.errors import ValidationError
from analytics_hub.events import histogram
from analytics_hub.query.model import PlanSegment, Query, QueryMeta, QueryResult
from analytics_hub.query.overview import Answer, build_overview

START = datetime(2025, 1, 1, 9, 30, tzinfo=UTC)
END = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


SERIES = [
    {"bucket": "2025-01-01T09:00:00Z", "requests": 30, "input_tokens": 6, "output_tokens": 12,
     "cost_usd": 1.0, "p50_latency_ms": 1.0, "p95_latency_ms": 1.0, "p99_latency_ms": None},
    {"bucket": "2025-01-01T11:00:00Z", "requests": 10, "input_tokens": 4, "output_tokens": 8,
     "cost_usd": 0.5, "p50_latency_ms": 1.0, "p95_latency_ms": 1.0, "p99_latency_ms": None},
]  # fmt: skip
# 30 calls in bin 100 and 10 in bin 300: p50 is bin 100's value, p95 bin 300's.
SERIES_BINS = [[(100, 30)], [(300, 10)]]


class FakeRunner:
    """Answers each overview query by its shape and records it."""

    def __init__(self, *, histograms: bool = True) -> None:
        self.queries: list[Query] = []
        self.histograms = histograms

    def __call__(self, query: Query) -> Answer:
        self.queries.append(query)
        aliases = [a.as_ for a in query.aggregates]
        filters = {(f.field, f.value) for f in query.filters}
        keys = [k for k in query.group_by if isinstance(k, str)]
        rows: list[dict[str, Any]]
        bins = None
        if keys:
            key = keys[0]
            rows = [
                {key: "m1", "status": "ok", "cost": 3.0, "n": 5},
                {key: "m2", "status": "ok", "cost": 4.0, "n": 1},
                {key: "m1", "status": "error", "cost": 1.5, "n": 2},
                {key: None, "status": "error", "cost": None, "n": 3},
            ]
        elif query.group_by:
            if aliases == ["errors"]:
                rows = [{"bucket": "2025-01-01T10:00:00Z", "errors": 4}]
            else:
                rows = SERIES
                bins = SERIES_BINS if self.histograms else None
        elif ("cost_source", "unpriced") in filters:
            rows = [{"unpriced": 3}]
        else:
            rows = [{**SERIES[0], "requests": 40, "p50_latency_ms": 7.0, "p95_latency_ms": 9.0}]
        meta = QueryMeta(
            source="rollup" if self.histograms else "raw",
            plan=[PlanSegment(source="rollup_1h", from_="a", to="b")],
            elapsed_ms=1.0,
            approximate_percentiles=self.histograms,
        )
        return Answer(QueryResult(rows=rows, next_cursor=None, meta=meta), bins)


def test_overview_assembles_totals_series_and_tops() -> None:
    runner = FakeRunner()
    overview = build_overview(runner, START, END, "1h")
    totals = overview.totals
    assert (totals.requests, totals.errors, totals.error_rate) == (40, 4, 0.1)
    assert (totals.input_tokens, totals.output_tokens, totals.cost_usd) == (10, 20, 1.5)
    assert totals.unpriced_events == 3
    # Whole-range percentiles merged from the series' histograms, not averaged.
    assert totals.p50_latency_ms == pytest.approx(histogram.value_of(100))
    assert totals.p95_latency_ms == pytest.approx(histogram.value_of(300))
    assert [p.bucket for p in overview.series] == [
        "2025-01-01T09:00:00Z",
        "2025-01-01T10:00:00Z",
        "2025-01-01T11:00:00Z",
    ]
    assert [p.requests for p in overview.series] == [30, 0, 10]  # empty buckets are zeros
    assert [p.errors for p in overview.series] == [0, 4, 0]
    # Cost over every status, largest first; errors from the error rows only.
    assert [i.model_dump() for i in overview.top_models_by_cost] == [
        {"key": "m1", "value": 4.5},
        {"key": "m2", "value": 4.0},
        {"key": None, "value": 0.0},
    ]
    assert [i.model_dump() for i in overview.top_assets_by_errors] == [
        {"key": None, "value": 3.0},
        {"key": "m1", "value": 2.0},
    ]
    assert overview.approximate_percentiles
    assert overview.model_dump(by_alias=True)["from"] == "2025-01-01T09:30:00Z"
    assert len(runner.queries) == 5  # totals come from the series: no query of their own


def test_without_histograms_the_totals_are_asked_for_exactly() -> None:
    runner = FakeRunner(histograms=False)
    overview = build_overview(runner, START, END, "1h")
    assert len(runner.queries) == 6
    assert (overview.totals.p50_latency_ms, overview.totals.p95_latency_ms) == (7.0, 9.0)
    assert overview.totals.requests == 40
    assert not overview.approximate_percentiles


def test_every_overview_query_is_about_model_calls() -> None:
    runner = FakeRunner()
    build_overview(runner, START, END, "1h")
    for q in runner.queries:
        assert ("payload_subtype", "llm_call") in {(f.field, f.value) for f in q.filters}


def test_overview_checks_its_range() -> None:
    with pytest.raises(ValidationError, match="earlier than"):
        build_overview(FakeRunner(), END, START, "1h")
    with pytest.raises(ValidationError, match="time zone"):
        build_overview(FakeRunner(), datetime(2025, 1, 1), datetime(2025, 1, 2), "1h")
