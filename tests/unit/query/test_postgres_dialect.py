"""The PostgreSQL dialect: pure compilation, checked without a database.

The same central property as the DuckDB dialect's: the SQL text depends only on the
query's *shape*; values, JSON paths, time bounds and cursor positions are parameters.
Results are checked against a real PostgreSQL in tests/integration/query.
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
from analytics_hub.query.dialects.postgres import (
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
    "$$; DROP TABLE events; $$",
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
    def parts(vs: list[str]) -> dict[str, Any]:
        return {
            "filters": [
                {"field": "model_id", "op": "in", "value": vs},
                {"field": "tags.team", "op": "not_in", "value": vs},
                {"field": "payload.kind", "op": "eq", "value": vs[0]},
            ]
        }

    shaped = compile_query(parts(values))
    assert shaped.sql == compile_query(parts(["v"] * len(values))).sql
    for v in values:
        assert v in shaped.params


def test_json_paths_are_strict_sql_json_paths_bound_as_parameters() -> None:
    compiled = compile_query(
        {
            "filters": [
                {"field": "tags.team", "value": "search"},
                {"field": "payload.details.0.score", "op": "gt", "value": 0.5},
            ],
            "group_by": ["tags.team"],
            "aggregates": [{"fn": "avg", "field": "payload.details.0.score"}],
        }
    )
    assert "team" not in compiled.sql
    assert "score" not in compiled.sql
    assert 'strict $."team"' in compiled.params
    assert "strict $.details[0].score" in compiled.params
    number = (
        "hub_try_float8((jsonb_path_query_first(CAST(payload AS jsonb), CAST(? AS jsonpath),"
        " '{}', true) #>> '{}')) > ?"
    )
    assert number in compiled.sql


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


@pytest.mark.parametrize(
    ("field", "op", "value", "fragment"),
    [
        ("model_id", "eq", "a", "model_id = ?"),
        ("model_id", "eq", None, "model_id IS NULL"),
        ("model_id", "ne", "a", "model_id IS DISTINCT FROM ?"),
        ("model_id", "ne", None, "model_id IS NOT NULL"),
        ("model_id", "in", ["a", "b", "c"], "model_id IN (?, ?, ?)"),
        ("model_id", "not_in", ["a", "b"], "(model_id IS NULL OR model_id NOT IN (?, ?))"),
        ("model_id", "contains", "gpt", "strpos(model_id, ?) > 0"),
        ("model_id", "starts_with", "gpt", "starts_with(model_id, ?)"),
        ("latency_ms", "gt", 1, "latency_ms > ?"),
        ("latency_ms", "lte", 1, "latency_ms <= ?"),
        ("severity", "gte", "error", "severity_level >= ?"),
        ("timestamp", "lt", "2025-01-01T10:00:00Z", "ts < ?"),
        ("tags.team", "eq", "x", "#>> '{}') COLLATE \"C\") = ?"),
        ("payload.n", "in", [1, 2], "#>> '{}')) IN (?, ?)"),
    ],
)
def test_each_operator_compiles_to_its_predicate(
    field: str, op: str, value: Any, fragment: str
) -> None:
    compiled = compile_query({"filters": [{"field": field, "op": op, "value": value}]})
    assert fragment in compiled.sql
    assert compiled.sql.count("?") == len(compiled.params)


def test_raw_reads_bound_the_partition_key_from_below() -> None:
    query = Query.model_validate({"time_range": RANGE, "limit": 50})
    plan = plan_query("t1", query, LIMITS)
    assert isinstance(plan, EventsPlan)
    compiled = compile_events(plan)
    assert "ts >= ? AND ts < ? AND claimed_ts >= ?" in compiled.sql
    assert compiled.params[1] == compiled.params[3] == plan.start


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
    assert "tenant_id" not in compiled.sql.split(" FROM ")[0]


def test_raw_aggregates_are_exact_and_typed_like_duckdb() -> None:
    compiled = compile_query(
        {
            "group_by": [{"bucket": "15m"}, "tags.team"],
            "aggregates": [
                {"fn": "p95", "field": "ttft_ms"},
                {"fn": "sum", "field": "input_tokens"},
                {"fn": "avg", "field": "output_tokens"},
            ],
        },
    )
    assert (
        "date_bin(INTERVAL '15 minutes', ts, TIMESTAMP '1970-01-01 00:00:00') AS g0" in compiled.sql
    )
    assert "percentile_cont(0.95) WITHIN GROUP (ORDER BY ttft_ms) AS a0" in compiled.sql
    assert "CAST(coalesce(sum(input_tokens), 0) AS bigint) AS a1" in compiled.sql
    assert "CAST(avg(output_tokens) AS double precision) AS a2" in compiled.sql
    assert "GROUP BY 1, 2" in compiled.sql
    assert compiled.sql.endswith("LIMIT ? OFFSET ?")
    assert compiled.params[-2:] == [101, 0]


def test_rollup_histograms_merge_in_the_same_grouping_as_the_measures() -> None:
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
    tables = re.findall(r"FROM (events|rollup_1m|rollup_1h) WHERE", sql)
    assert tables == ["events", "rollup_1m", "rollup_1h", "rollup_1m", "events"]
    for segment in plan.segments:
        assert segment.start in compiled.params
        assert segment.end in compiled.params
    assert "CAST(coalesce(sum(events), 0) AS bigint) AS a0" in sql
    # unnested in the select list (a ProjectSet), not per row in FROM
    assert "unnest(lat_bins) AS bigint) AS b, unnest(lat_counts) AS c FROM seg" in sql
    # bins and counts as two arrays of one grouping (the same row order), not pairs
    assert "array_agg(b) FILTER (WHERE b IS NOT NULL) AS h" in sql
    assert "array_agg(c) FILTER (WHERE b IS NOT NULL) AS hc" in sql
    assert "ARRAY[b, c]" not in sql
    assert "JOIN" not in sql  # no join back on IS NOT DISTINCT FROM
    assert sql.count("GROUP BY g0") == 1 + sql.count("GROUP BY g0, b")
    assert "AS h" in sql
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
    assert "ORDER BY" not in compiled.sql.replace("ORDER BY b)", "")
    assert "OFFSET" not in compiled.sql


def test_indicator_counts_drop_empty_groups() -> None:
    parts: dict[str, Any] = {
        "filters": [{"field": "cost_source", "value": "unpriced"}],
        "aggregates": [{"fn": "count"}],
    }
    grouped = compile_query({**parts, "group_by": ["asset_id"]})
    assert "HAVING coalesce(sum(unpriced), 0) > 0" in grouped.sql
    assert "cost_source = ?" not in grouped.sql
    assert "HAVING" not in compile_query(parts).sql


def test_dialect_registry() -> None:
    assert "postgres" in DIALECTS
    dialect = get_dialect("postgres")
    assert dialect.name == "postgres"
    assert dialect.compile_aggregate is compile_aggregate
