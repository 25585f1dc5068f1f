"""The DuckDB dialect: pure compilation, checked without a database.

The central property: the SQL text depends only on the query's *shape*. Values, JSON
paths, time bounds and cursor positions all travel as parameters, so no user input can
become SQL.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics_hub.query.cursor import EventPosition
from analytics_hub.query.dialects import DIALECTS, get_dialect
from analytics_hub.query.dialects.base import Compiled
from analytics_hub.query.dialects.duckdb import (
    compile_aggregate,
    compile_events,
    compile_get_event,
)
from analytics_hub.query.model import Query
from analytics_hub.query.planner import AggregatePlan, EventsPlan, Limits, plan_query

LIMITS = Limits()
RANGE = {"from": "2025-01-01T09:17:31.5Z", "to": "2025-01-01T13:41:12Z"}
HOSTILE = [
    "'; DROP TABLE events; --",
    "x' OR '1'='1",
    "\"; SELECT * FROM events WHERE tenant_id = 't2",
    "\\'; --",
    "a ? b",
    "$1",
    "тест\u0000\u202e",
]


def compile_query(parts: dict[str, Any], *, tenant: str = "t1", rollups: bool = True) -> Compiled:
    query = Query.model_validate({"time_range": RANGE, **parts})
    plan = plan_query(tenant, query, LIMITS, allow_rollups=rollups)
    if isinstance(plan, EventsPlan):
        return compile_events(plan)
    return compile_aggregate(plan)


def assert_tenant_bound_everywhere(compiled: Compiled, tenant: str) -> None:
    """Every table read is followed by ``WHERE tenant_id = ?`` bound to ``tenant``."""
    sql = compiled.sql
    assert sql.count("?") == len(compiled.params)
    reads = re.findall(r"FROM (events|rollup_1m|rollup_1h)\b( WHERE tenant_id = \?)?", sql)
    assert reads, sql
    assert all(where for _, where in reads), sql
    for match in re.finditer(r"WHERE tenant_id = \?", sql):
        index = sql[: match.end()].count("?") - 1
        assert compiled.params[index] == tenant


# -- values never become SQL ---------------------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("op", ["eq", "ne", "contains", "starts_with"])
def test_hostile_values_only_ever_appear_in_params(value: str, op: str) -> None:
    for field in ("model_id", "user_id", "tags.team", "payload.threat_type"):
        for rollups in (True, False):
            parts = {
                "filters": [{"field": field, "op": op, "value": value}],
                "group_by": ["model_id"],
                "aggregates": [{"fn": "count"}],
            }
            compiled = compile_query(parts, rollups=rollups)
            benign = compile_query(
                {**parts, "filters": [{"field": field, "op": op, "value": "benign"}]},
                rollups=rollups,
            )
            assert compiled.sql == benign.sql
            assert value not in compiled.sql
            assert value in compiled.params


@settings(deadline=None, max_examples=60, database=None)
@given(values=st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=5))
def test_sql_text_depends_only_on_the_query_shape(values: list[str]) -> None:
    parts = {
        "filters": [
            {"field": "model_id", "op": "in", "value": values},
            {"field": "tags.team", "op": "not_in", "value": values},
            {"field": "payload.kind", "op": "eq", "value": values[0]},
        ],
    }
    shaped = compile_query(parts)
    benign = compile_query(
        {
            "filters": [
                {"field": "model_id", "op": "in", "value": ["v"] * len(values)},
                {"field": "tags.team", "op": "not_in", "value": ["v"] * len(values)},
                {"field": "payload.kind", "op": "eq", "value": "v"},
            ]
        }
    )
    assert shaped.sql == benign.sql
    for v in values:
        assert v in shaped.params


def test_json_paths_are_parameters() -> None:
    compiled = compile_query(
        {
            "filters": [
                {"field": "tags.team", "value": "search"},
                {"field": "payload.details.score", "op": "gt", "value": 0.5},
            ],
            "group_by": ["tags.team"],
            "aggregates": [{"fn": "avg", "field": "payload.details.score"}],
        }
    )
    assert "team" not in compiled.sql
    assert "score" not in compiled.sql
    assert '$."team"' in compiled.params
    assert "$.details.score" in compiled.params
    assert "TRY_CAST(json_extract_string(payload, ?) AS DOUBLE) > ?" in compiled.sql


def test_aliases_never_reach_sql() -> None:
    compiled = compile_query(
        {
            "group_by": ["model_id"],
            "aggregates": [{"fn": "count", "as": "my_count"}],
            "order_by": [{"field": "my_count", "direction": "desc"}],
        }
    )
    assert "my_count" not in compiled.sql
    assert "ORDER BY a0 DESC NULLS LAST, g0 ASC NULLS LAST" in compiled.sql


# -- the tenant ----------------------------------------------------------------------------


@pytest.mark.parametrize("rollups", [True, False])
@pytest.mark.parametrize(
    "parts",
    [
        {},
        {"aggregates": [{"fn": "count"}]},
        {
            "group_by": ["model_id", {"bucket": "1h"}],
            "aggregates": [{"fn": "p95", "field": "latency_ms"}],
        },
        {
            "filters": [{"field": "model_id", "value": "a"}],
            "aggregates": [{"fn": "count_distinct", "field": "asset_id"}],
        },
        {
            "filters": [{"field": "cost_source", "value": "unpriced"}],
            "aggregates": [{"fn": "count"}],
        },
    ],
)
def test_every_table_read_is_bound_to_the_tenant(parts: dict[str, Any], rollups: bool) -> None:
    assert_tenant_bound_everywhere(
        compile_query(parts, tenant="tenant-a", rollups=rollups), "tenant-a"
    )


def test_get_event_is_bound_to_the_tenant() -> None:
    compiled = compile_get_event("tenant-a", "0190a1b2-0000-7000-8000-000000000001")
    assert_tenant_bound_everywhere(compiled, "tenant-a")
    assert compiled.params == ["tenant-a", "0190a1b2-0000-7000-8000-000000000001"]


# -- operators -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "op", "value", "fragment"),
    [
        ("model_id", "eq", "a", "model_id = ?"),
        ("model_id", "eq", None, "model_id IS NULL"),
        ("model_id", "ne", "a", "model_id IS DISTINCT FROM ?"),
        ("model_id", "ne", None, "model_id IS NOT NULL"),
        ("model_id", "in", ["a", "b", "c"], "model_id IN (?, ?, ?)"),
        ("model_id", "not_in", ["a", "b"], "(model_id IS NULL OR model_id NOT IN (?, ?))"),
        ("model_id", "contains", "gpt", "contains(model_id, ?)"),
        ("model_id", "starts_with", "gpt", "starts_with(model_id, ?)"),
        ("latency_ms", "gt", 1, "latency_ms > ?"),
        ("latency_ms", "gte", 1, "latency_ms >= ?"),
        ("latency_ms", "lt", 1, "latency_ms < ?"),
        ("latency_ms", "lte", 1, "latency_ms <= ?"),
        ("severity", "gte", "error", "severity_level >= ?"),
        ("timestamp", "lt", "2025-01-01T10:00:00Z", "ts < ?"),
        ("tags.team", "eq", "x", "json_extract_string(tags, ?) = ?"),
        (
            "payload.n",
            "in",
            [1, 2],
            "TRY_CAST(json_extract_string(payload, ?) AS DOUBLE) IN (?, ?)",
        ),
    ],
)
def test_each_operator_compiles_to_its_predicate(
    field: str, op: str, value: Any, fragment: str
) -> None:
    compiled = compile_query({"filters": [{"field": field, "op": op, "value": value}]})
    assert fragment in compiled.sql
    assert compiled.sql.count("?") == len(compiled.params)


def test_severity_order_binds_the_level() -> None:
    compiled = compile_query({"filters": [{"field": "severity", "op": "gt", "value": "warning"}]})
    assert 2 in compiled.params
    assert "warning" not in compiled.params


# -- shapes --------------------------------------------------------------------------------


def test_raw_events_page_by_keyset_newest_first() -> None:
    query = Query.model_validate({"time_range": RANGE, "limit": 50})
    plan = plan_query("t1", query, LIMITS)
    assert isinstance(plan, EventsPlan)
    at = datetime(2025, 1, 1, 12, 0)
    after = EventPosition(at, "0190a1b2-0000-7000-8000-000000000001")
    compiled = compile_events(
        EventsPlan(plan.tenant_id, plan.start, plan.end, (), True, after, 51, 50, "fp")
    )
    assert "(ts < ? OR (ts = ? AND event_id < ?))" in compiled.sql
    assert compiled.sql.endswith("ORDER BY ts DESC, event_id DESC LIMIT ?")
    assert compiled.params[-4:] == [at, at, after.event_id, 51]
    assert "tenant_id" not in compiled.sql.split(" FROM ")[0]  # the tenant is not returned


def test_raw_aggregate_groups_by_position_and_pages_by_offset() -> None:
    compiled = compile_query(
        {
            "group_by": [{"bucket": "15m"}, "tags.team"],
            "aggregates": [{"fn": "p95", "field": "ttft_ms"}],
        },
    )
    assert (
        "time_bucket(INTERVAL '15 minutes', ts, TIMESTAMP '1970-01-01 00:00:00') AS g0"
        in compiled.sql
    )
    assert "quantile_cont(ttft_ms, 0.95) AS a0" in compiled.sql
    assert "GROUP BY 1, 2" in compiled.sql
    assert compiled.sql.endswith("LIMIT ? OFFSET ?")
    assert compiled.params[-2:] == [101, 0]


def test_rollup_aggregate_unions_segments_with_their_bounds() -> None:
    query = Query.model_validate(
        {
            "time_range": RANGE,
            "group_by": ["model_id"],
            "aggregates": [{"fn": "count"}, {"fn": "p99", "field": "latency_ms"}],
        }
    )
    plan = plan_query("t1", query, LIMITS)
    assert isinstance(plan, AggregatePlan)
    compiled = compile_aggregate(plan)
    sql = compiled.sql
    assert sql.count(" UNION ALL ") == len(plan.segments) - 1
    tables = re.findall(r"FROM (events|rollup_1m|rollup_1h) WHERE", sql)
    assert tables == ["events", "rollup_1m", "rollup_1h", "rollup_1m", "events"]
    for segment in plan.segments:
        assert segment.start in compiled.params
        assert segment.end in compiled.params
    assert "coalesce(sum(events), 0) AS a0" in sql
    assert "unnest(lat_bins)" in sql
    assert "hist.h" in sql
    assert "a1" not in sql  # the percentile is merged from h in Python
    assert "ceil(ln(greatest(latency_ms" in sql  # raw edges binned like the rollups


def test_rollup_without_percentiles_has_no_histogram() -> None:
    compiled = compile_query(
        {"group_by": ["status"], "aggregates": [{"fn": "sum", "field": "cost_usd"}]}
    )
    assert "lat_bins" not in compiled.sql
    assert "coalesce(sum(cost_usd), 0) AS a0" in compiled.sql


def test_python_sorted_pages_are_fetched_whole() -> None:
    compiled = compile_query(
        {
            "group_by": ["model_id"],
            "aggregates": [{"fn": "p95", "field": "latency_ms", "as": "p"}],
            "order_by": [{"field": "p"}],
        }
    )
    assert "ORDER BY" not in compiled.sql
    assert "OFFSET" not in compiled.sql


# -- registry ------------------------------------------------------------------------------


def test_dialect_registry() -> None:
    assert "duckdb" in DIALECTS
    dialect = get_dialect("duckdb")
    assert dialect.name == "duckdb"
    assert dialect.compile_events is compile_events
    with pytest.raises(LookupError, match="unknown SQL dialect 'oracle'; known: duckdb"):
        get_dialect("oracle")


def test_indicator_counts_drop_empty_groups() -> None:
    parts: dict[str, Any] = {
        "filters": [{"field": "cost_source", "value": "unpriced"}],
        "aggregates": [{"fn": "count"}],
    }
    grouped = compile_query({**parts, "group_by": ["asset_id"]})
    assert "coalesce(sum(unpriced), 0) AS a0" in grouped.sql
    assert "HAVING coalesce(sum(unpriced), 0) > 0" in grouped.sql
    assert "cost_source = ?" not in grouped.sql  # a measure, not a filter
    assert "unpriced" not in grouped.params
    # without groups the single row stays, with a count of 0 when nothing matched
    assert "HAVING" not in compile_query(parts).sql
