"""The field catalogue and name resolution: the only door from user text to columns."""

from __future__ import annotations

import pytest

from analytics_hub.errors import ValidationError
from analytics_hub.events.columns import COLUMNS_BY_NAME, ROLLUP_DIMENSIONS
from analytics_hub.query.fields import CATALOGUE, OPS_BY_KIND, resolve_field

PUBLIC_NAMES = [
    "timestamp",
    "received_at",
    "event_id",
    "source_module",
    "event_type",
    "severity",
    "environment",
    "asset_id",
    "correlation_id",
    "parent_event_id",
    "trace_id",
    "span_id",
    "schema_version",
    "payload_type",
    "payload_subtype",
    "model_id",
    "provider",
    "operation",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "reasoning_tokens",
    "total_tokens",
    "latency_ms",
    "ttft_ms",
    "cost_usd",
    "cost_source",
    "status",
    "error_type",
    "user_id",
    "session_id",
    "request_id",
]


def test_catalogue_holds_every_public_field_and_each_maps_to_a_stored_column() -> None:
    assert sorted(CATALOGUE) == sorted(PUBLIC_NAMES)
    for spec in CATALOGUE.values():
        assert spec.column in COLUMNS_BY_NAME


def test_timestamp_is_the_ts_column() -> None:
    assert resolve_field("timestamp").column == "ts"
    assert resolve_field("timestamp").kind == "timestamp"


def test_rollup_dimensions_are_flagged_except_the_tenant() -> None:
    flagged = {name for name, spec in CATALOGUE.items() if spec.rollup_dimension}
    assert flagged == set(ROLLUP_DIMENSIONS) - {"tenant_id"}


def test_severity_is_ordered_and_strings_are_not() -> None:
    assert "gt" in resolve_field("severity").ops
    assert "gt" not in resolve_field("model_id").ops
    assert "contains" in resolve_field("model_id").ops
    assert OPS_BY_KIND["uuid"] == {"eq", "ne", "in", "not_in"}


def test_tag_key_becomes_a_quoted_json_path() -> None:
    spec = resolve_field("tags.team")
    assert (spec.column, spec.json_path, spec.kind) == ("tags", '$."team"', "string")
    assert resolve_field("tags.k8s.io/app").json_path == '$."k8s.io/app"'


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("payload.threat_type", "$.threat_type"),
        ("payload.details.metric", "$.details.metric"),
        ("payload.findings.0.status", "$.findings[0].status"),
    ],
)
def test_payload_path_becomes_a_json_path(name: str, path: str) -> None:
    spec = resolve_field(name)
    assert (spec.column, spec.json_path, spec.kind) == ("payload", path, "json")
    assert not spec.rollup_dimension


@pytest.mark.parametrize(
    "name",
    [
        "model_id; DROP TABLE events",
        "model_id--",
        "model_id'",
        'model_id"',
        "Model_ID",
        "model_id ",
        "model_id\n",
        "model_іd",  # Cyrillic і
        "ｍodel_id",  # full-width m
        "model_id\u200b",  # zero-width space
        "tags.te'am",
        'tags.te"am',
        "tags.team\\",
        "tags.",
        "tags.a b",
        "payload.",
        "payload.a..b",
        "payload.a'b",
        "payload.a[0]",
        "payload.$.x",
        "1model",
        "",
        "x" * 400,
    ],
)
def test_hostile_names_are_rejected_naming_the_field(name: str) -> None:
    with pytest.raises(ValidationError) as err:
        resolve_field(name)
    shown = repr(name if len(name) <= 80 else name[:77] + "...")
    assert f"field name {shown}" in err.value.message


def test_unknown_field_lists_the_known_ones() -> None:
    with pytest.raises(ValidationError, match=r"unknown field 'nope'; known fields: timestamp, "):
        resolve_field("nope")
    with pytest.raises(ValidationError) as err:
        resolve_field("modelid")
    assert "tags.<key>" in err.value.message
    assert "payload.<path>" in err.value.message


def test_tenant_cannot_be_named() -> None:
    with pytest.raises(ValidationError, match="tenant comes from the credential"):
        resolve_field("tenant_id")


@pytest.mark.parametrize("name", ["claimed_ts", "severity_level", "skew_ms", "tags", "payload"])
def test_internal_columns_are_not_reachable(name: str) -> None:
    with pytest.raises(ValidationError, match="unknown field"):
        resolve_field(name)
