"""The live feed's filters: the query API's checks, evaluated on committed Arrow rows.

Semantics are those of ``docs/api/query.md``; ``tests/integration/query/test_live_filters.py``
checks them against the stores' SQL on the same rows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest

from analytics_hub.errors import ValidationError
from analytics_hub.query import Filter
from analytics_hub.query.live.matcher import LiveFilter, Rows
from analytics_hub.testing.rows import make_event_rows

START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def table(**columns: list[Any]) -> pa.Table:
    """Five model-call rows, with ``columns`` replacing generated values."""
    base = make_event_rows(5, start=START, call_share=1.0, error_rate=0.0, unpriced_rate=0.0)
    for name, values in columns.items():
        index = base.schema.get_field_index(name)
        base = base.set_column(index, base.schema.field(index), pa.array(values, base[name].type))
    return base


def matches(rows: pa.Table, *filters: dict[str, Any]) -> list[int]:
    live = LiveFilter([Filter.model_validate(f) for f in filters])
    mask = live.mask(Rows(rows)).to_pylist()
    return [i for i, hit in enumerate(mask) if hit]


def test_no_filter_matches_every_row() -> None:
    assert matches(table()) == [0, 1, 2, 3, 4]


def test_string_equality_and_membership_treat_a_missing_value_as_a_value_of_its_own() -> None:
    rows = table(model_id=["a", "b", None, "a", "c"])
    assert matches(rows, {"field": "model_id", "op": "eq", "value": "a"}) == [0, 3]
    assert matches(rows, {"field": "model_id", "op": "ne", "value": "a"}) == [1, 2, 4]
    assert matches(rows, {"field": "model_id", "op": "in", "value": ["a", "c"]}) == [0, 3, 4]
    assert matches(rows, {"field": "model_id", "op": "not_in", "value": ["a", "c"]}) == [1, 2]
    assert matches(rows, {"field": "model_id", "op": "eq", "value": None}) == [2]
    assert matches(rows, {"field": "model_id", "op": "ne", "value": None}) == [0, 1, 3, 4]


def test_text_operators_are_literal_and_case_sensitive() -> None:
    rows = table(asset_id=["app-1", "APP-2", "my-app%", "x", None])
    assert matches(rows, {"field": "asset_id", "op": "contains", "value": "app"}) == [0, 2]
    assert matches(rows, {"field": "asset_id", "op": "starts_with", "value": "APP"}) == [1]
    assert matches(rows, {"field": "asset_id", "op": "contains", "value": "%"}) == [2]


def test_numbers_compare_as_numbers_across_integer_and_float() -> None:
    rows = table(input_tokens=[10, 20, None, 30, 25], latency_ms=[1.5, 100.0, 250.0, None, 99.9])
    assert matches(rows, {"field": "input_tokens", "op": "gt", "value": 19.5}) == [1, 3, 4]
    assert matches(rows, {"field": "input_tokens", "op": "eq", "value": 20}) == [1]
    assert matches(rows, {"field": "input_tokens", "op": "in", "value": [10, 25.0, 7.5]}) == [0, 4]
    assert matches(rows, {"field": "latency_ms", "op": "lte", "value": 100}) == [0, 1, 4]
    assert matches(rows, {"field": "latency_ms", "op": "ne", "value": 100}) == [0, 2, 3, 4]


def test_severity_orders_by_level() -> None:
    levels = ["debug", "info", "warning", "error", "critical"]
    rows = table(severity=levels, severity_level=[0, 1, 2, 3, 4])
    assert matches(rows, {"field": "severity", "op": "gte", "value": "warning"}) == [2, 3, 4]
    assert matches(rows, {"field": "severity", "op": "lt", "value": "info"}) == [0]
    assert matches(rows, {"field": "severity", "op": "in", "value": ["info", "error"]}) == [1, 3]


def test_timestamps_and_ids_are_normalised_like_a_query() -> None:
    rows = table()
    second = rows["ts"][1].as_py()
    assert matches(
        rows, {"field": "timestamp", "op": "gte", "value": f"{second.isoformat()}Z"}
    ) == [
        1,
        2,
        3,
        4,
    ]
    same_instant = second.replace(tzinfo=UTC).astimezone().isoformat()  # another offset
    assert matches(rows, {"field": "timestamp", "op": "eq", "value": same_instant}) == [1]
    event_id = rows["event_id"][3].as_py()
    assert matches(rows, {"field": "event_id", "op": "eq", "value": event_id.upper()}) == [3]


def test_tags_compare_the_tag_text_and_keys_may_hold_dots() -> None:
    rows = table(
        tags=[
            '{"team": "search", "k8s.io/app": "web"}',
            '{"team": "support"}',
            "{}",
            '{"team": "search-2"}',
            "not json",
        ]
    )
    assert matches(rows, {"field": "tags.team", "op": "eq", "value": "search"}) == [0]
    assert matches(rows, {"field": "tags.team", "op": "starts_with", "value": "search"}) == [0, 3]
    assert matches(rows, {"field": "tags.team", "op": "ne", "value": "search"}) == [1, 2, 3, 4]
    assert matches(rows, {"field": "tags.k8s.io/app", "op": "eq", "value": "web"}) == [0]
    assert matches(rows, {"field": "tags.team", "op": "eq", "value": None}) == [2, 4]


def test_payload_paths_compare_text_numbers_and_booleans() -> None:
    rows = table(
        payload=[
            '{"score": 0.91, "blocked": true, "findings": [{"status": "open"}]}',
            '{"score": 0.5, "blocked": false, "findings": []}',
            '{"score": "0.95", "kind": "x"}',
            '{"score": null}',
            '{"nested": {"a": 1}}',
        ]
    )
    assert matches(rows, {"field": "payload.score", "op": "gt", "value": 0.8}) == [0, 2]
    assert matches(rows, {"field": "payload.score", "op": "eq", "value": 0.5}) == [1]
    assert matches(rows, {"field": "payload.score", "op": "eq", "value": None}) == [3, 4]
    assert matches(rows, {"field": "payload.blocked", "op": "eq", "value": True}) == [0]
    assert matches(rows, {"field": "payload.blocked", "op": "ne", "value": True}) == [1, 2, 3, 4]
    f = {"field": "payload.findings.0.status", "op": "eq", "value": "open"}
    assert matches(rows, f) == [0]
    assert matches(rows, {"field": "payload.nested.a", "op": "in", "value": [1, 2]}) == [4]
    assert matches(rows, {"field": "payload.kind", "op": "contains", "value": "x"}) == [2]


def test_all_filters_must_hold() -> None:
    rows = table(model_id=["a", "a", "b", "a", None], input_tokens=[1, 50, 50, 50, 50])
    assert matches(
        rows,
        {"field": "model_id", "op": "eq", "value": "a"},
        {"field": "input_tokens", "op": "gte", "value": 50},
    ) == [1, 3]


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ({"field": "tenant_id", "op": "eq", "value": "other"}, "tenant comes from the credential"),
        ({"field": "model", "op": "eq", "value": "x"}, "unknown field 'model'"),
        ({"field": "latency_ms", "op": "contains", "value": "1"}, "does not apply"),
        ({"field": "latency_ms", "op": "gt", "value": "fast"}, "expects a number"),
        ({"field": "timestamp", "op": "gt", "value": "2025-01-01T00:00:00"}, "RFC 3339"),
        ({"field": "model_id", "op": "in", "value": []}, "non-empty list"),
    ],
)
def test_invalid_filters_are_refused_with_the_query_api_s_message(
    spec: dict[str, Any], says: str
) -> None:
    with pytest.raises(ValidationError, match=says):
        LiveFilter([Filter.model_validate(spec)])


def test_at_most_fifty_filters() -> None:
    many = [Filter(field="model_id", op="eq", value=str(i)) for i in range(51)]
    with pytest.raises(ValidationError, match="at most 50 filters"):
        LiveFilter(many)


def test_filters_are_described_as_given() -> None:
    live = LiveFilter([Filter(field="model_id", op="in", value=["a", "b"])])
    assert live.describe() == [{"field": "model_id", "op": "in", "value": ["a", "b"]}]
