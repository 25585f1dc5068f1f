"""The planner: range checks, limits, segment splitting, and raw-or-rollup choices."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

import pytest

from analytics_hub.errors import ValidationError
from analytics_hub.query.model import Query
from analytics_hub.query.planner import (
    AggregatePlan,
    EventsPlan,
    Limits,
    bucket_count,
    plan_query,
    split_segments,
)

LIMITS = Limits(max_rows=1000, max_buckets=500, max_unbucketed_range_days=31)
RANGE = {"from": "2025-01-01T09:17:31.5Z", "to": "2025-01-01T13:41:12Z"}


def query(**parts: Any) -> Query:
    return Query.model_validate({"time_range": RANGE, **parts})


def agg_plan(**parts: Any) -> AggregatePlan:
    plan = plan_query("t1", query(**parts), LIMITS)
    assert isinstance(plan, AggregatePlan)
    return plan


def at(text: str) -> datetime:
    return datetime.fromisoformat(f"2025-01-01T{text}")


# -- segments ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "hours", "expected"),
    [
        # ragged both ends, several whole hours
        (
            "09:17:31.500",
            "13:41:12",
            True,
            [
                ("raw", "09:17:31.5", "09:18"),
                ("rollup_1m", "09:18", "10:00"),
                ("rollup_1h", "10:00", "13:00"),
                ("rollup_1m", "13:00", "13:41"),
                ("raw", "13:41", "13:41:12"),
            ],
        ),
        # aligned on hours: hourly rollups only
        ("10:00", "13:00", True, [("rollup_1h", "10:00", "13:00")]),
        # aligned on minutes inside one hour: minute rollups only
        ("10:05", "10:50", True, [("rollup_1m", "10:05", "10:50")]),
        # no whole hour inside: minutes and raw edges
        (
            "10:05:30",
            "11:04:10",
            True,
            [
                ("raw", "10:05:30", "10:06"),
                ("rollup_1m", "10:06", "11:04"),
                ("raw", "11:04", "11:04:10"),
            ],
        ),
        # hourly rollups not allowed (a 5m bucket): minutes across the hours
        (
            "09:17:31.500",
            "13:41:12",
            False,
            [
                ("raw", "09:17:31.5", "09:18"),
                ("rollup_1m", "09:18", "13:41"),
                ("raw", "13:41", "13:41:12"),
            ],
        ),
        # inside one minute: raw only
        ("10:05:10", "10:05:50", True, [("raw", "10:05:10", "10:05:50")]),
        # across one minute boundary without a whole minute: raw only
        ("10:05:10", "10:06:50", True, [("raw", "10:05:10", "10:06:50")]),
        # starts on the hour, ends ragged
        (
            "10:00",
            "12:00:01",
            True,
            [
                ("rollup_1h", "10:00", "12:00"),
                ("raw", "12:00", "12:00:01"),
            ],
        ),
    ],
)
def test_segments_split_at_minute_and_hour_edges(
    start: str, end: str, hours: bool, expected: list[tuple[str, str, str]]
) -> None:
    segments = split_segments(at(start), at(end), hours=hours)
    got = [(s.source, s.start, s.end) for s in segments]
    assert got == [(src, at(a), at(b)) for src, a, b in expected]
    # segments tile the range: contiguous, no gap, no overlap
    assert segments[0].start == at(start)
    assert segments[-1].end == at(end)
    assert all(x.end == y.start for x, y in itertools.pairwise(segments))


def test_bucket_count_counts_aligned_buckets_touched() -> None:
    assert bucket_count(at("10:00"), at("11:00"), 3600) == 1
    assert bucket_count(at("10:30"), at("11:30"), 3600) == 2
    assert bucket_count(at("10:00"), at("10:00:01"), 60) == 1
    assert bucket_count(at("10:00"), at("12:00"), 300) == 24


# -- range and limits ----------------------------------------------------------------------


def test_from_must_precede_to() -> None:
    q = Query.model_validate(
        {"time_range": {"from": "2025-01-02T00:00:00Z", "to": "2025-01-01T00:00:00Z"}}
    )
    with pytest.raises(ValidationError, match="from must be earlier than"):
        plan_query("t1", q, LIMITS)


def test_range_has_a_maximum() -> None:
    q = Query.model_validate(
        {"time_range": {"from": "2000-01-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"}}
    )
    with pytest.raises(ValidationError, match="spans more than 3660 days"):
        plan_query("t1", q, LIMITS)


def test_limit_above_max_rows_is_rejected() -> None:
    with pytest.raises(ValidationError, match="above the maximum of 1000 rows"):
        plan_query("t1", query(limit=1001), LIMITS)


def test_too_many_buckets_is_rejected_saying_so() -> None:
    q = Query.model_validate(
        {
            "time_range": {"from": "2025-01-01T00:00:00Z", "to": "2025-01-02T00:00:00Z"},
            "group_by": [{"bucket": "1m"}],
            "aggregates": [{"fn": "count"}],
        }
    )
    with pytest.raises(ValidationError) as err:
        plan_query("t1", q, LIMITS)
    assert "1440 buckets of 1m" in err.value.message
    assert "limit of 500 (query_max_buckets)" in err.value.message


def test_long_unbucketed_aggregate_is_rejected_with_a_suggestion() -> None:
    q = Query.model_validate(
        {
            "time_range": {"from": "2025-01-01T00:00:00Z", "to": "2025-03-01T00:00:00Z"},
            "aggregates": [{"fn": "count"}],
        }
    )
    with pytest.raises(ValidationError) as err:
        plan_query("t1", q, LIMITS)
    assert "at most 31 days (query_max_unbucketed_range_days)" in err.value.message
    assert '{"bucket": "1d"}' in err.value.message
    bucketed = q.model_copy(update={"group_by": query(group_by=[{"bucket": "1d"}]).group_by})
    assert isinstance(plan_query("t1", bucketed, LIMITS), AggregatePlan)


def test_raw_listing_of_a_long_range_needs_no_bucket() -> None:
    q = Query.model_validate(
        {"time_range": {"from": "2024-01-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"}}
    )
    assert isinstance(plan_query("t1", q, LIMITS), EventsPlan)


def test_tenant_is_required() -> None:
    with pytest.raises(ValidationError, match="needs a tenant"):
        plan_query("", query(), LIMITS)


# -- raw or rollup -------------------------------------------------------------------------


def test_no_aggregates_and_no_group_by_lists_raw_events() -> None:
    plan = plan_query("t1", query(limit=10), LIMITS)
    assert isinstance(plan, EventsPlan)
    assert (plan.descending, plan.fetch, plan.page, plan.after) == (True, 11, 10, None)


def test_rollup_plan_when_everything_is_answerable() -> None:
    plan = agg_plan(
        filters=[
            {"field": "model_id", "op": "in", "value": ["a", "b"]},
            {"field": "status", "value": "error"},
            {"field": "payload_subtype", "value": "llm_call"},
        ],
        group_by=["provider", "asset_id", {"bucket": "1h"}],
        aggregates=[
            {"fn": "count"},
            {"fn": "sum", "field": "input_tokens"},
            {"fn": "sum", "field": "output_tokens"},
            {"fn": "sum", "field": "cost_usd"},
            {"fn": "avg", "field": "latency_ms"},
            {"fn": "min", "field": "latency_ms"},
            {"fn": "max", "field": "latency_ms"},
            {"fn": "p50", "field": "latency_ms"},
            {"fn": "p99", "field": "latency_ms"},
            {"fn": "avg", "field": "ttft_ms"},
            {"fn": "count", "field": "latency_ms", "as": "timed"},
            {"fn": "count_distinct", "field": "model_id"},
        ],
    )
    assert plan.source == "rollup"
    assert plan.raw_reason is None
    assert plan.rollup_percentiles
    assert [s.source for s in plan.segments] == [
        "raw",
        "rollup_1m",
        "rollup_1h",
        "rollup_1m",
        "raw",
    ]
    assert plan.measures[0] == ("events",)
    assert plan.measures[4] == ("latency_sum", "latency_count")
    assert plan.measures[-1] == ()


@pytest.mark.parametrize(
    ("parts", "reason"),
    [
        ({"filters": [{"field": "user_id", "value": "u"}]}, "filter on 'user_id'"),
        (
            {
                "filters": [
                    {"field": "cost_source", "value": "unpriced"},
                    {"field": "user_id", "value": "u"},
                ]
            },
            "filter on 'user_id'",
        ),
        ({"filters": [{"field": "tags.team", "value": "x"}]}, "filter on 'tags.team'"),
        (
            {"filters": [{"field": "severity", "op": "gte", "value": "error"}]},
            "filter on 'severity'",
        ),
        ({"group_by": ["environment"]}, "group by 'environment'"),
        ({"group_by": ["payload.threat_type"]}, "group by 'payload.threat_type'"),
        ({"aggregates": [{"fn": "sum", "field": "total_tokens"}]}, "sum(total_tokens)"),
        ({"aggregates": [{"fn": "p95", "field": "ttft_ms"}]}, "p95(ttft_ms)"),
        ({"aggregates": [{"fn": "count_distinct", "field": "user_id"}]}, "count_distinct(user_id)"),
        ({"aggregates": [{"fn": "count", "field": "model_id"}]}, "count(model_id)"),
    ],
)
def test_raw_plan_for_each_reason(parts: dict[str, Any], reason: str) -> None:
    parts.setdefault("aggregates", [{"fn": "count"}])
    plan = agg_plan(**parts)
    assert plan.source == "raw"
    assert plan.raw_reason is not None
    assert reason in plan.raw_reason
    assert [s.source for s in plan.segments] == ["raw"]
    assert not plan.rollup_percentiles


def test_a_short_range_without_a_whole_minute_stays_raw() -> None:
    q = Query.model_validate(
        {
            "time_range": {"from": "2025-01-01T10:00:10Z", "to": "2025-01-01T10:00:50Z"},
            "aggregates": [{"fn": "p95", "field": "latency_ms"}],
        }
    )
    plan = plan_query("t1", q, LIMITS)
    assert isinstance(plan, AggregatePlan)
    assert plan.source == "raw"
    assert plan.raw_reason == "range holds no whole minute"


def test_allow_rollups_false_forces_raw() -> None:
    q = query(aggregates=[{"fn": "count"}])
    plan = plan_query("t1", q, LIMITS, allow_rollups=False)
    assert isinstance(plan, AggregatePlan)
    assert (plan.source, plan.raw_reason) == ("raw", "raw plan requested")


def test_sub_hour_bucket_uses_minute_rollups_only() -> None:
    by_model = [{"bucket": "5m"}, "model_id"]
    plan = agg_plan(group_by=by_model, aggregates=[{"fn": "count"}])
    assert [s.source for s in plan.segments] == ["raw", "rollup_1m", "raw"]
    plan = agg_plan(group_by=[{"bucket": "1d"}, "model_id"], aggregates=[{"fn": "count"}])
    assert "rollup_1h" in [s.source for s in plan.segments]


@pytest.mark.parametrize(
    "parts",
    [
        {"group_by": [{"bucket": "5m"}]},
        {"group_by": ["status", "payload_subtype"]},
        {"filters": [{"field": "source_module", "value": "llm-telemetry"}]},
        {
            "filters": [
                {"field": "payload_subtype", "value": "llm_call"},
                {"field": "cost_source", "value": "unpriced"},
            ],
            "aggregates": [{"fn": "count"}],  # the indicator counts, nothing else
        },
        {"aggregates": [{"fn": "count_distinct", "field": "event_type"}]},
    ],
)
def test_tenant_wide_questions_read_the_tenant_rollups(parts: dict[str, Any]) -> None:
    parts.setdefault("aggregates", [{"fn": "count"}, {"fn": "p95", "field": "latency_ms"}])
    plan = agg_plan(**parts)
    sources = [s.source for s in plan.segments]
    assert plan.source == "rollup"
    assert "tenant_rollup_1m" in sources
    assert not {"rollup_1m", "rollup_1h"} & set(sources)


@pytest.mark.parametrize(
    "parts",
    [
        {"group_by": ["asset_id"]},
        {"group_by": [{"bucket": "1h"}, "provider"]},
        {"filters": [{"field": "model_id", "value": "gpt-4o"}]},
        {"aggregates": [{"fn": "count_distinct", "field": "asset_id"}]},
    ],
)
def test_asset_model_or_provider_questions_read_the_full_rollups(parts: dict[str, Any]) -> None:
    parts.setdefault("aggregates", [{"fn": "count"}])
    plan = agg_plan(**parts)
    sources = {s.source for s in plan.segments}
    assert plan.source == "rollup"
    assert sources & {"rollup_1m", "rollup_1h"}
    assert not sources & {"tenant_rollup_1m", "tenant_rollup_1h"}


def test_unpriced_count_uses_the_indicator_measure() -> None:
    plan = agg_plan(
        filters=[
            {"field": "payload_subtype", "value": "llm_call"},
            {"field": "cost_source", "value": "unpriced"},
        ],
        aggregates=[{"fn": "count", "as": "n"}],
    )
    assert (plan.source, plan.indicator, plan.measures) == ("rollup", "unpriced", (("unpriced",),))
    assert [p.field.name for p in plan.predicates] == ["payload_subtype"]


def test_indicator_filter_with_other_aggregates_is_raw() -> None:
    plan = agg_plan(
        filters=[{"field": "cost_source", "value": "unpriced"}],
        aggregates=[{"fn": "sum", "field": "input_tokens"}],
    )
    assert plan.source == "raw"
    assert plan.predicates[0].field.name == "cost_source"
    plan = agg_plan(
        filters=[{"field": "cost_source", "value": "computed"}], aggregates=[{"fn": "count"}]
    )
    assert plan.source == "raw"


def test_ordering_by_a_rollup_percentile_sorts_in_python() -> None:
    parts: dict[str, Any] = {
        "group_by": ["model_id"],
        "aggregates": [{"fn": "p95", "field": "latency_ms", "as": "p95"}, {"fn": "count"}],
    }
    assert agg_plan(**parts, order_by=[{"field": "p95", "direction": "desc"}]).python_sort
    assert not agg_plan(**parts, order_by=[{"field": "count", "direction": "desc"}]).python_sort
    raw = plan_query("t1", query(**parts, order_by=[{"field": "p95"}]), LIMITS, allow_rollups=False)
    assert isinstance(raw, AggregatePlan)
    assert not raw.python_sort  # exact percentiles are sorted by the database
