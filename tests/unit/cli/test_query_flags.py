"""``analytics-hub query`` flags to a query body: every form, and the malformed ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import typer

from analytics_hub.cli.query_cmd import build_query, parse_duration

NOW = datetime(2026, 3, 4, 12, 30, tzinfo=UTC)


def build(**flags: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "last": None,
        "from_": None,
        "to": None,
        "filters": [],
        "group_by": [],
        "aggs": [],
        "order_by": [],
        "limit": None,
        "now": NOW,
    }
    args.update(flags)
    return build_query(**args)


# --- parse_duration -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15m", timedelta(minutes=15)),
        ("1h", timedelta(hours=1)),
        ("24h", timedelta(hours=24)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("0m", timedelta(0)),
        ("3 h", timedelta(hours=3)),
        ("  90m ", timedelta(minutes=90)),
    ],
)
def test_parse_duration_reads_every_unit(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["", "h", "10", "10s", "1y", "1.5h", "-1h", "+1h", "1H", "1hh", "h1", "1h30m"]
)
def test_parse_duration_refuses_anything_else_naming_it(text: str) -> None:
    with pytest.raises(typer.BadParameter) as info:
        parse_duration(text)
    assert repr(text) in str(info.value)
    assert "15m, 24h, 7d or 2w" in str(info.value)


# --- the time range ------------------------------------------------------------------------


def test_without_any_flag_the_query_is_the_last_24_hours_and_nothing_else() -> None:
    assert build() == {
        "time_range": {
            "from": (NOW - timedelta(hours=24)).isoformat(),
            "to": NOW.isoformat(),
        }
    }


def test_last_sets_a_range_ending_now() -> None:
    assert build(last="1h")["time_range"] == {
        "from": "2026-03-04T11:30:00+00:00",
        "to": "2026-03-04T12:30:00+00:00",
    }
    assert build(last="2w")["time_range"]["from"] == "2026-02-18T12:30:00+00:00"


def test_from_and_to_are_passed_through_and_take_precedence_over_last() -> None:
    rng = build(last="1h", from_="2026-01-01T00:00:00Z", to="2026-01-02T00:00:00Z")
    assert rng["time_range"] == {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"}


def test_from_alone_ends_now_and_to_alone_starts_a_day_before_it() -> None:
    assert build(from_="2026-03-04T00:00:00Z")["time_range"] == {
        "from": "2026-03-04T00:00:00Z",
        "to": NOW.isoformat(),
    }
    assert build(to="2026-03-04T06:00:00Z")["time_range"] == {
        "from": "2026-03-03T06:00:00+00:00",
        "to": "2026-03-04T06:00:00Z",
    }
    assert build(to="2026-03-04T06:00:00Z", last="2h")["time_range"]["from"] == (
        "2026-03-04T04:00:00+00:00"
    )


def test_a_malformed_last_is_an_error() -> None:
    with pytest.raises(typer.BadParameter):
        build(last="yesterday")


def test_without_now_the_range_ends_at_the_current_time() -> None:
    before = datetime.now(UTC)
    rng = build_query(
        last="1h", from_=None, to=None, filters=[], group_by=[], aggs=[], order_by=[], limit=None
    )["time_range"]
    after = datetime.now(UTC)
    to = datetime.fromisoformat(rng["to"])
    assert before <= to <= after
    assert to - datetime.fromisoformat(rng["from"]) == timedelta(hours=1)


# --- filters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        ("model_id:eq:gpt-4o", {"field": "model_id", "op": "eq", "value": "gpt-4o"}),
        ("latency_ms:gt:500", {"field": "latency_ms", "op": "gt", "value": 500}),
        ("cost_usd:lte:0.25", {"field": "cost_usd", "op": "lte", "value": 0.25}),
        ("payload.blocked:eq:true", {"field": "payload.blocked", "op": "eq", "value": True}),
        ("user_id:eq:null", {"field": "user_id", "op": "eq", "value": None}),
        ('asset_id:eq:"123"', {"field": "asset_id", "op": "eq", "value": "123"}),
        ("status:eq:", {"field": "status", "op": "eq", "value": ""}),
        (
            "tags.url:starts_with:https://x.io:8080/a",
            {"field": "tags.url", "op": "starts_with", "value": "https://x.io:8080/a"},
        ),
        (
            "model_id:in:gpt-4o,claude-sonnet-4",
            {"field": "model_id", "op": "in", "value": ["gpt-4o", "claude-sonnet-4"]},
        ),
        ("input_tokens:not_in:1,2", {"field": "input_tokens", "op": "not_in", "value": [1, 2]}),
        ("model_id:in:gpt-4o", {"field": "model_id", "op": "in", "value": ["gpt-4o"]}),
    ],
)
def test_a_filter_is_field_op_value_with_json_values(flag: str, expected: dict[str, Any]) -> None:
    assert build(filters=[flag])["filters"] == [expected]


def test_filters_keep_their_order() -> None:
    body = build(filters=["asset_id:eq:a", "severity:gte:warning"])
    assert body["filters"] == [
        {"field": "asset_id", "op": "eq", "value": "a"},
        {"field": "severity", "op": "gte", "value": "warning"},
    ]


@pytest.mark.parametrize("flag", ["model_id", "model_id:eq", ":eq:x", "model_id::x", "", "::"])
def test_a_malformed_filter_is_an_error_naming_it(flag: str) -> None:
    with pytest.raises(typer.BadParameter) as info:
        build(filters=["asset_id:eq:a", flag])
    assert f"filter {flag!r}" in str(info.value)
    assert "field:op:value" in str(info.value)


# --- group by ------------------------------------------------------------------------------


def test_group_by_takes_fields_and_a_bucket_in_order() -> None:
    body = build(group_by=["bucket:1h", "model_id", "tags.team"])
    assert body["group_by"] == [{"bucket": "1h"}, "model_id", "tags.team"]


# --- aggregates ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        ("count::n", {"fn": "count", "as": "n"}),
        ("count:", {"fn": "count", "as": "count"}),
        ("count::", {"fn": "count", "as": "count"}),
        ("count:user_id:with_user", {"fn": "count", "field": "user_id", "as": "with_user"}),
        ("p95:latency_ms:p95", {"fn": "p95", "field": "latency_ms", "as": "p95"}),
        ("p95:latency_ms", {"fn": "p95", "field": "latency_ms", "as": "p95_latency_ms"}),
        ("sum:cost_usd:", {"fn": "sum", "field": "cost_usd", "as": "sum_cost_usd"}),
        (
            "count_distinct:user_id:users",
            {"fn": "count_distinct", "field": "user_id", "as": "users"},
        ),
    ],
)
def test_an_aggregate_is_fn_field_as(flag: str, expected: dict[str, Any]) -> None:
    assert build(aggs=[flag])["aggregates"] == [expected]


@pytest.mark.parametrize("flag", ["count", "", ":latency_ms:x", "::n", "p95:latency_ms:p:x"])
def test_a_malformed_aggregate_is_an_error_naming_it(flag: str) -> None:
    with pytest.raises(typer.BadParameter) as info:
        build(aggs=["count::n", flag])
    assert f"aggregate {flag!r}" in str(info.value)
    assert "fn:field[:as]" in str(info.value)


# --- order, limit and the whole body -------------------------------------------------------


def test_order_by_minus_is_descending_and_plain_is_ascending() -> None:
    assert build(order_by=["-n", "model_id"])["order_by"] == [
        {"field": "n", "direction": "desc"},
        {"field": "model_id", "direction": "asc"},
    ]


@pytest.mark.parametrize("limit", [1, 100, 0])
def test_limit_is_passed_when_given(limit: int) -> None:
    assert build(limit=limit)["limit"] == limit


def test_the_documented_example_builds_the_documented_body() -> None:
    body = build(
        last="1h",
        filters=["payload_subtype:eq:llm_call"],
        group_by=["model_id"],
        aggs=["count::n", "p95:latency_ms:p95"],
        order_by=["-n"],
        limit=10,
    )
    assert body == {
        "time_range": {"from": "2026-03-04T11:30:00+00:00", "to": "2026-03-04T12:30:00+00:00"},
        "filters": [{"field": "payload_subtype", "op": "eq", "value": "llm_call"}],
        "group_by": ["model_id"],
        "aggregates": [
            {"fn": "count", "as": "n"},
            {"fn": "p95", "field": "latency_ms", "as": "p95"},
        ],
        "order_by": [{"field": "n", "direction": "desc"}],
        "limit": 10,
    }
