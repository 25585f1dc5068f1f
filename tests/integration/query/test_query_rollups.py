"""Rollup plans give the same answers as raw plans, on a real store of each backend.

Every query runs twice, through the rollups and forced through raw events, over ranges
whose edges fall inside minutes and hours. Both are checked against a plain-Python
reference: counts exact, sums and averages to float rounding, minima and maxima exact,
raw percentiles exact (interpolated), rollup percentiles within 1 % of the exact
nearest-rank value.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from analytics_hub.query import Query, QueryService
from analytics_hub.store.base import EventStore
from analytics_hub.testing.rows import make_event_rows

if TYPE_CHECKING:
    from conftest import Loaded, Reference

RANGES = {
    "ragged": {"from": "2025-01-01T09:17:31.5Z", "to": "2025-01-01T13:41:12.25Z"},
    "whole hours": {"from": "2025-01-01T10:00:00Z", "to": "2025-01-01T13:00:00Z"},
    "inside an hour": {"from": "2025-01-01T10:05:30Z", "to": "2025-01-01T10:50:10Z"},
    "past the data": {"from": "2025-01-01T08:00:00.001Z", "to": "2025-01-01T15:10:00Z"},
    "one minute edge": {"from": "2025-01-01T11:59:58Z", "to": "2025-01-01T12:01:02Z"},
}

ALL_MEASURES: list[dict[str, Any]] = [
    {"fn": "count", "as": "n"},
    {"fn": "count", "field": "latency_ms", "as": "timed"},
    {"fn": "sum", "field": "input_tokens", "as": "in_tok"},
    {"fn": "sum", "field": "output_tokens", "as": "out_tok"},
    {"fn": "sum", "field": "cost_usd", "as": "cost"},
    {"fn": "avg", "field": "latency_ms", "as": "avg_lat"},
    {"fn": "min", "field": "latency_ms", "as": "min_lat"},
    {"fn": "max", "field": "latency_ms", "as": "max_lat"},
    {"fn": "avg", "field": "ttft_ms", "as": "avg_ttft"},
    {"fn": "p50", "field": "latency_ms", "as": "p50"},
    {"fn": "p95", "field": "latency_ms", "as": "p95"},
    {"fn": "p99", "field": "latency_ms", "as": "p99"},
    {"fn": "count_distinct", "field": "asset_id", "as": "assets"},
]

# The questions that filter and group only on the tenant-wide rollups' dimensions.
TENANT_WIDE = {"hourly per status", "daily per source"}

QUERIES: dict[str, dict[str, Any]] = {
    "per model, everything": {"group_by": ["model_id"], "aggregates": ALL_MEASURES},
    "hourly per status": {
        "group_by": [{"bucket": "1h"}, "status"],
        "aggregates": [
            {"fn": "count", "as": "n"},
            {"fn": "sum", "field": "cost_usd", "as": "cost"},
            {"fn": "p95", "field": "latency_ms", "as": "p95"},
        ],
    },
    "5m buckets, filtered": {
        "filters": [
            {"field": "payload_subtype", "op": "eq", "value": "llm_call"},
            {"field": "model_id", "op": "in", "value": ["gpt-4o", "claude-sonnet-4", "command-r"]},
        ],
        "group_by": [{"bucket": "5m"}],
        "aggregates": [
            {"fn": "count", "as": "n"},
            {"fn": "p99", "field": "latency_ms", "as": "p99"},
            {"fn": "sum", "field": "output_tokens", "as": "out_tok"},
        ],
    },
    "totals, negative filters": {
        "filters": [
            {"field": "provider", "op": "ne", "value": "openai"},
            {"field": "asset_id", "op": "not_in", "value": ["asset-01", "asset-02"]},
        ],
        "aggregates": [
            *ALL_MEASURES,
            {"fn": "count_distinct", "field": "model_id", "as": "models"},
        ],
    },
    "daily per source": {
        "group_by": [{"bucket": "1d"}, "source_module", "event_type"],
        "aggregates": [
            {"fn": "count", "as": "n"},
            {"fn": "sum", "field": "input_tokens", "as": "in_tok"},
        ],
    },
    "unpriced calls per asset": {
        "filters": [
            {"field": "payload_subtype", "op": "eq", "value": "llm_call"},
            {"field": "cost_source", "op": "eq", "value": "unpriced"},
        ],
        "group_by": ["asset_id"],
        "aggregates": [{"fn": "count", "as": "n"}],
    },
}


def _check_value(
    ref: Reference, name: str, fn: str, got: Any, expected: Any, *, rollup: bool
) -> None:
    q = ref.quantile(fn)
    if q is not None:
        if expected is None:
            assert got is None, name
        elif rollup:
            truth = ref.nearest_rank(expected, q)
            assert abs(got - truth) <= 0.01 * truth * (1 + 1e-9), (name, got, truth)
        else:
            assert got == pytest.approx(ref.interpolated(expected, q), rel=1e-9), name
    elif fn in ("count", "count_distinct") or fn in ("min", "max"):
        assert got == expected, name
    elif expected is None:
        assert got is None, name
    else:
        assert got == pytest.approx(expected, rel=1e-9), name


def _run_all(loaded: Loaded, query: Query, *, rollups: bool) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while True:
        result = loaded.service.run("t1", query, allow_rollups=rollups)
        rows.extend(result.rows)
        if result.next_cursor is None:
            return rows
        query = query.model_copy(update={"cursor": result.next_cursor})


@pytest.mark.parametrize("range_name", list(RANGES))
@pytest.mark.parametrize("query_name", list(QUERIES))
def test_rollup_plan_equals_raw_plan_and_reference(
    loaded: Loaded, ref: Reference, query_name: str, range_name: str
) -> None:
    body = {"time_range": RANGES[range_name], **QUERIES[query_name], "limit": 500}
    query = Query.model_validate(body)
    rollup_first = loaded.service.run("t1", query)
    raw_first = loaded.service.run("t1", query, allow_rollups=False)
    assert raw_first.meta.source == "raw"
    assert not raw_first.meta.approximate_percentiles
    assert rollup_first.meta.source == "rollup"
    sources = [s.source for s in rollup_first.meta.plan]
    if range_name == "ragged":
        assert sources[0] == "raw"
        assert sources[-1] == "raw"
    if range_name == "whole hours" and not any(
        isinstance(g, dict) and g["bucket"] == "5m" for g in body.get("group_by", [])
    ):
        # Questions on tenant-wide dimensions only read the tenant-wide rollups.
        assert sources == ["tenant_rollup_1h" if query_name in TENANT_WIDE else "rollup_1h"]

    expected = ref.expected(loaded.rows, "t1", body)
    aggregates = {a.get("as"): a["fn"] for a in body["aggregates"]}
    for rollup, rows in (
        (True, _run_all(loaded, query, rollups=True)),
        (False, _run_all(loaded, query, rollups=False)),
    ):
        got = {ref.result_key(row, body): row for row in rows}
        assert set(got) == set(expected), (rollup, set(got) ^ set(expected))
        for key, want in expected.items():
            for alias, fn in aggregates.items():
                _check_value(ref, f"{key} {alias}", fn, got[key][alias], want[alias], rollup=rollup)


def test_counts_and_sums_are_identical_between_plans(loaded: Loaded) -> None:
    """The same query through both plans, compared directly (not via the reference)."""
    body = {"time_range": RANGES["ragged"], **QUERIES["per model, everything"]}
    query = Query.model_validate(body)
    rollup = {r["model_id"]: r for r in loaded.service.run("t1", query).rows}
    raw = {r["model_id"]: r for r in loaded.service.run("t1", query, allow_rollups=False).rows}
    assert rollup.keys() == raw.keys()
    for model, r in rollup.items():
        w = raw[model]
        assert (r["n"], r["timed"], r["in_tok"], r["out_tok"], r["assets"]) == (
            w["n"],
            w["timed"],
            w["in_tok"],
            w["out_tok"],
            w["assets"],
        )
        assert (r["min_lat"], r["max_lat"]) == (w["min_lat"], w["max_lat"])
        assert r["cost"] == pytest.approx(w["cost"], rel=1e-9)
        if w["avg_lat"] is None:  # the group of events without a model has no latency
            assert r["avg_lat"] is None
        else:
            assert r["avg_lat"] == pytest.approx(w["avg_lat"], rel=1e-9)
        # Percentiles are not compared here: quantile_cont interpolates between values,
        # the histogram approximates the nearest-rank value. Both are checked against the
        # exact values in test_rollup_plan_equals_raw_plan_and_reference.


def test_ordering_by_a_rollup_percentile_matches_the_raw_order(loaded: Loaded) -> None:
    body = {
        "time_range": RANGES["ragged"],
        "filters": [{"field": "payload_subtype", "op": "eq", "value": "llm_call"}],
        "group_by": ["model_id"],
        "aggregates": [{"fn": "p50", "field": "latency_ms", "as": "p50"}],
        "order_by": [{"field": "p50", "direction": "desc"}],
        "limit": 3,
    }
    query = Query.model_validate(body)
    rollup = _run_all(loaded, query, rollups=True)
    raw = _run_all(loaded, query, rollups=False)
    assert [r["model_id"] for r in rollup] == [r["model_id"] for r in raw]
    assert [r["p50"] for r in rollup] == sorted((r["p50"] for r in rollup), reverse=True)


def test_queries_that_rollups_cannot_answer_read_raw_events(loaded: Loaded, ref: Reference) -> None:
    body = {
        "time_range": RANGES["ragged"],
        "filters": [{"field": "tags.team", "op": "eq", "value": "search"}],
        "group_by": ["environment"],
        "aggregates": [{"fn": "p95", "field": "ttft_ms", "as": "p95"}, {"fn": "count", "as": "n"}],
    }
    result = loaded.service.run("t1", Query.model_validate(body))
    assert result.meta.source == "raw"
    assert not result.meta.approximate_percentiles
    start, end = ref.naive(RANGES["ragged"]["from"]), ref.naive(RANGES["ragged"]["to"])
    team = [r for r in loaded.of("t1") if '"search"' in r["tags"] and start <= r["ts"] < end]
    assert sum(r["n"] for r in result.rows) == len(team)


def test_answers_do_not_change_when_rollups_are_compacted(empty_store: EventStore) -> None:
    store = empty_store
    start = datetime(2025, 1, 1, 9, 58, 7, tzinfo=UTC)
    table = make_event_rows(6000, start=start, step=timedelta(seconds=1), seed=3)
    for offset in range(0, table.num_rows, 500):  # many delta rows per bucket
        store.write_events(table.slice(offset, 500))
    service = QueryService(store)
    query = Query.model_validate(
        {
            "time_range": {"from": "2025-01-01T09:58:30Z", "to": "2025-01-01T11:38:00.5Z"},
            "group_by": ["model_id", {"bucket": "1h"}],
            "aggregates": ALL_MEASURES,
            "limit": 1000,
        }
    )
    before = service.run("t1", query)
    assert before.meta.source == "rollup"
    assert store.compact_rollups(datetime(2025, 1, 2, tzinfo=UTC)) > 0
    after = service.run("t1", query)
    assert len(after.rows) == len(before.rows)
    for a, b in zip(after.rows, before.rows, strict=True):
        assert a.keys() == b.keys()
        for name in a:
            if isinstance(a[name], float):
                assert a[name] == pytest.approx(b[name], rel=1e-9), name
            else:
                assert a[name] == b[name], name
