"""Filters, group keys, aggregates and sort keys are checked against the catalogue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from analytics_hub.errors import ValidationError
from analytics_hub.query.model import Aggregate, BucketKey, Filter, OrderBy
from analytics_hub.query.validation import (
    check_aggregate,
    check_aggregates,
    check_filter,
    check_group_by,
    check_order,
    check_raw_order,
)


def f(field: str, op: str, value: Any) -> Filter:
    return Filter.model_validate({"field": field, "op": op, "value": value})


# -- every operator on a field kind that accepts it ------------------------------------


@pytest.mark.parametrize(
    ("field", "op", "value"),
    [
        ("model_id", "eq", "gpt-4o"),
        ("model_id", "ne", "gpt-4o"),
        ("model_id", "in", ["a", "b"]),
        ("model_id", "not_in", ["a"]),
        ("model_id", "contains", "gpt"),
        ("model_id", "starts_with", "gpt"),
        ("latency_ms", "gt", 10),
        ("latency_ms", "gte", 10.5),
        ("latency_ms", "lt", 0),
        ("input_tokens", "lte", 100),
        ("input_tokens", "in", [1, 2, 3]),
        ("timestamp", "gte", "2025-01-01T00:00:00Z"),
        ("received_at", "lt", "2025-01-01T01:00:00+01:00"),
        ("event_id", "eq", "0190A1B2-0000-7000-8000-000000000001"),
        ("severity", "gte", "warning"),
        ("severity", "in", ["error", "critical"]),
        ("tags.team", "eq", "search"),
        ("payload.threat_type", "starts_with", "prompt"),
        ("payload.score", "gt", 0.5),
        ("payload.auto_remediated", "eq", True),
    ],
)
def test_every_operator_is_accepted_where_it_applies(field: str, op: str, value: Any) -> None:
    pred = check_filter(f(field, op, value))
    assert pred.op == op


@pytest.mark.parametrize(
    ("field", "op"),
    [
        ("model_id", "gt"),
        ("latency_ms", "contains"),
        ("event_id", "starts_with"),
        ("timestamp", "contains"),
        ("tags.team", "gt"),
        ("severity", "contains"),
    ],
)
def test_an_operator_that_does_not_apply_names_field_and_allowed_ops(field: str, op: str) -> None:
    with pytest.raises(
        ValidationError, match=rf"operator '{op}' does not apply to field '{field}'"
    ):
        check_filter(f(field, op, "x"))


@pytest.mark.parametrize(
    ("field", "op", "value", "expected"),
    [
        ("latency_ms", "gt", "10", "a number"),
        ("latency_ms", "gt", True, "a number"),
        ("latency_ms", "eq", float("inf"), "a finite number"),
        ("model_id", "eq", 5, "a string"),
        ("event_id", "eq", "not-a-uuid", "a UUID"),
        ("timestamp", "gt", "2025-01-01T00:00:00", "RFC 3339 timestamp with an offset"),
        ("timestamp", "gt", "yesterday", "RFC 3339"),
        ("severity", "eq", "loud", "one of debug, info, warning, error, critical"),
        ("payload.score", "gt", "high", "a number"),
        ("payload.name", "contains", 3, "a string"),
    ],
)
def test_values_are_type_checked(field: str, op: str, value: Any, expected: str) -> None:
    with pytest.raises(ValidationError) as err:
        check_filter(f(field, op, value))
    assert expected in err.value.message
    assert field in err.value.message


def test_values_are_normalised() -> None:
    assert check_filter(f("event_id", "eq", "0190A1B2-0000-7000-8000-000000000001")).value == (
        "0190a1b2-0000-7000-8000-000000000001"
    )
    moment = check_filter(f("timestamp", "gte", "2025-01-01T01:30:00+01:00")).value
    assert moment == datetime(2025, 1, 1, 0, 30)  # naive UTC, as stored


def test_severity_order_compares_levels() -> None:
    pred = check_filter(f("severity", "gte", "warning"))
    assert (pred.field.column, pred.value) == ("severity_level", 2)
    pred = check_filter(f("severity", "eq", "warning"))
    assert (pred.field.column, pred.value) == ("severity", "warning")


def test_json_values_pick_text_or_number_comparison() -> None:
    assert check_filter(f("payload.score", "gt", 1)).numeric
    assert check_filter(f("payload.score", "eq", 1.5)).numeric
    assert not check_filter(f("payload.kind", "eq", "x")).numeric
    boolean = check_filter(f("payload.ok", "eq", False))
    assert (boolean.value, boolean.numeric) == ("false", False)
    assert check_filter(f("payload.n", "in", [1, 2])).numeric


def test_in_lists_are_bounded_and_homogeneous() -> None:
    assert len(check_filter(f("model_id", "in", ["m"] * 1000)).values) == 1000
    with pytest.raises(ValidationError, match="at most 1000 values, got 1001"):
        check_filter(f("model_id", "in", ["m"] * 1001))
    with pytest.raises(ValidationError, match="non-empty list"):
        check_filter(f("model_id", "in", []))
    with pytest.raises(ValidationError, match="non-empty list"):
        check_filter(f("model_id", "not_in", "a"))
    with pytest.raises(ValidationError, match="mix numbers and strings"):
        check_filter(f("payload.x", "in", [1, "a"]))
    with pytest.raises(ValidationError, match="single value"):
        check_filter(f("model_id", "eq", ["a"]))


def test_null_is_a_value_only_for_eq_and_ne() -> None:
    assert check_filter(f("model_id", "eq", None)).value is None
    assert check_filter(f("model_id", "ne", None)).value is None
    with pytest.raises(ValidationError, match="needs a value"):
        check_filter(f("latency_ms", "gt", None))


def test_a_very_long_string_value_is_rejected() -> None:
    with pytest.raises(ValidationError, match="longer than 4096"):
        check_filter(f("model_id", "eq", "x" * 5000))


def test_tenant_filter_is_rejected() -> None:
    with pytest.raises(ValidationError, match="tenant comes from the credential"):
        check_filter(f("tenant_id", "eq", "other-tenant"))


# -- group by ----------------------------------------------------------------------------


def test_group_by_fields_and_one_bucket() -> None:
    keys = check_group_by(["model_id", BucketKey(bucket="1h"), "tags.team"])
    assert [k.name for k in keys] == ["model_id", "bucket", "tags.team"]
    assert keys[1].bucket == "1h"
    with pytest.raises(ValidationError, match="one time bucket at most"):
        check_group_by([BucketKey(bucket="1h"), BucketKey(bucket="1d")])
    with pytest.raises(ValidationError, match="appears twice"):
        check_group_by(["model_id", "model_id"])
    with pytest.raises(ValidationError, match="group by a time bucket instead"):
        check_group_by(["timestamp"])
    with pytest.raises(ValidationError, match="it is a measurement"):
        check_group_by(["latency_ms"])


# -- aggregates --------------------------------------------------------------------------


def agg(fn: str, field: str | None = None, alias: str | None = None) -> Aggregate:
    return Aggregate.model_validate({"fn": fn, "field": field, "as": alias})


def test_aggregate_aliases_default_and_are_checked() -> None:
    assert check_aggregate(agg("count")).alias == "count"
    assert check_aggregate(agg("p95", "latency_ms")).alias == "p95_latency_ms"
    assert check_aggregate(agg("sum", "payload.usage.total")).alias == "sum_payload_usage_total"
    assert check_aggregate(agg("p99", "latency_ms")).quantile == 0.99
    for bad in ("1x", "a b", "a;drop", "ä"):
        with pytest.raises(ValidationError, match="invalid alias"):
            check_aggregate(agg("count", alias=bad))


@pytest.mark.parametrize(
    ("fn", "field", "message"),
    [
        ("sum", None, "needs a numeric field"),
        ("avg", "model_id", "'model_id' is string"),
        ("p95", "timestamp", "'timestamp' is timestamp"),
        ("count_distinct", None, "needs a field"),
        ("sum", "nope", "unknown field 'nope'"),
    ],
)
def test_aggregates_need_suitable_fields(fn: str, field: str | None, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        check_aggregate(agg(fn, field))


def test_output_names_are_unique() -> None:
    keys = check_group_by(["model_id"])
    with pytest.raises(ValidationError, match="'model_id' is used twice"):
        check_aggregates([agg("count", alias="model_id")], keys)
    with pytest.raises(ValidationError, match="'n' is used twice"):
        check_aggregates([agg("count", alias="n"), agg("sum", "cost_usd", "n")], ())


# -- order -------------------------------------------------------------------------------


def test_order_is_completed_with_group_keys_as_tie_breakers() -> None:
    keys = check_group_by(["model_id", BucketKey(bucket="1h")])
    aggs = check_aggregates([agg("count", alias="n")], keys)
    sort = check_order([OrderBy(field="n", direction="desc")], keys, aggs)
    assert [(s.name, s.descending) for s in sort] == [
        ("n", True),
        ("model_id", False),
        ("bucket", False),
    ]
    default = check_order([], keys, aggs)
    assert [s.name for s in default] == ["bucket", "model_id"]


def test_order_by_must_name_an_output() -> None:
    keys = check_group_by(["model_id"])
    with pytest.raises(ValidationError, match="cannot order by 'latency_ms'"):
        check_order([OrderBy(field="latency_ms")], keys, ())


def test_raw_events_are_ordered_by_timestamp_only() -> None:
    assert check_raw_order([]) is True
    assert check_raw_order([OrderBy(field="timestamp", direction="asc")]) is False
    with pytest.raises(ValidationError, match="ordered by 'timestamp' only"):
        check_raw_order([OrderBy(field="model_id")])
