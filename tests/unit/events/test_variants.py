"""Every payload variant decodes, and its hot fields land in the right columns."""

from __future__ import annotations

import json
from typing import Any

import pytest

from analytics_hub.events import EVENT_SCHEMA, Normalizer

from .builders import VARIANTS, decode, event, only_error, only_row

HOT = (
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
)

LIFTED: dict[str, dict[str, Any]] = {
    "llm_call": {
        "model_id": "gpt-4o-mini",
        "provider": "openai",
        "operation": "chat",
        "input_tokens": 100,
        "output_tokens": 20,
        "cached_input_tokens": 10,
        "reasoning_tokens": 5,
        "total_tokens": 120,
        "latency_ms": 812.5,
        "ttft_ms": 120.0,
        "cost_usd": 0.002,
        "cost_source": "provided",
        "status": "error",
        "error_type": "rate_limit",
        "user_id": "u-1",
        "session_id": "s-1",
        "request_id": "req-1",
    },
    "latency": {
        "model_id": "gpt-4",
        "latency_ms": 1523.45,
        "ttft_ms": 234.12,
        "request_id": "req-2",
    },
    "throughput": {"model_id": "claude-3"},
    "error_rate": {"model_id": "gpt-4"},
    "token_usage": {
        "model_id": "gpt-4",
        "request_id": "req-3",
        "input_tokens": 100,
        "output_tokens": 200,
        "total_tokens": 300,
    },
    "model_performance": {"model_id": "gpt-4"},
    "threat": {},
    "vulnerability": {},
    "compliance_violation": {},
    "auth": {"user_id": "user-123"},
    "privacy": {},
    "token_cost": {
        "model_id": "gpt-4",
        "request_id": "req-4",
        "input_tokens": 100,
        "output_tokens": 200,
        "total_tokens": 300,
        "cost_usd": 0.015,
        "cost_source": "provided",
    },
    "api_cost": {"provider": "openai", "cost_usd": 10.0, "cost_source": "provided"},
    "resource_consumption": {"cost_usd": 24.0, "cost_source": "provided"},
    "budget_alert": {},
    "policy_violation": {"user_id": "user-789"},
    "audit_trail": {},
    "compliance_check": {},
    "data_lineage": {},
    "asset": {},
    "custom": {},
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_variant_decodes_into_its_payload_type_and_subtype(
    normalizer: Normalizer, variant: str
) -> None:
    row = only_row(decode(normalizer, event(variant)))
    payload_type, data = VARIANTS[variant]
    assert row["payload_type"] == payload_type
    expected_subtype = data["custom_type"] if variant == "custom" else variant
    assert row["payload_subtype"] == expected_subtype
    assert json.loads(row["payload"]) == data  # nothing lost, nothing added


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_hot_fields_are_lifted_from_each_variant(normalizer: Normalizer, variant: str) -> None:
    row = only_row(decode(normalizer, event(variant)))
    lifted = {c: row[c] for c in HOT if row[c] is not None}
    assert lifted == LIFTED[variant]


def test_a_table_always_has_the_stored_schema(normalizer: Normalizer) -> None:
    batch = decode(normalizer, *(event(v) for v in VARIANTS))
    assert batch.table.schema.equals(EVENT_SCHEMA)
    assert batch.table.num_rows == len(VARIANTS)


def test_a_mixed_batch_keeps_the_input_order(normalizer: Normalizer) -> None:
    variants = ["llm_call", "threat", "llm_call", "custom", "token_cost", "llm_call", "asset"]
    events = [event(v, asset_id=f"a{i}") for i, v in enumerate(variants)]
    table = decode(normalizer, *events).table
    assert table.column("asset_id").to_pylist() == [f"a{i}" for i in range(len(variants))]
    assert table.column("model_id").to_pylist() == [
        "gpt-4o-mini",
        None,
        "gpt-4o-mini",
        None,
        "gpt-4",
        "gpt-4o-mini",
        None,
    ]


def test_llm_call_total_adds_reasoning_only_when_it_is_counted_apart(
    normalizer: Normalizer,
) -> None:
    included = only_row(decode(normalizer, event(data={"reasoning_tokens": 7})))
    apart = only_row(
        decode(normalizer, event(data={"reasoning_tokens": 7, "reasoning_included": False}))
    )
    assert included["total_tokens"] == 120
    assert apart["total_tokens"] == 127
    assert apart["output_tokens"] == 20  # stored as sent


def test_llm_call_without_cost_leaves_cost_source_to_pricing(normalizer: Normalizer) -> None:
    row = only_row(decode(normalizer, event(data={"cost_usd": ...})))
    assert row["cost_usd"] is None
    assert row["cost_source"] is None


def test_a_batch_mixing_priced_and_unpriced_calls(normalizer: Normalizer) -> None:
    batch = decode(normalizer, event(), event(data={"cost_usd": ...}), event())
    assert batch.table.column("cost_source").to_pylist() == ["provided", None, "provided"]


def test_unlisted_kinds_use_the_ecosystems_other_form(normalizer: Normalizer) -> None:
    row = only_row(
        decode(normalizer, event("threat", data={"threat_type": {"other": "jailbreak"}}))
    )
    assert json.loads(row["payload"])["threat_type"] == {"other": "jailbreak"}
    row = only_row(
        decode(normalizer, event("resource_consumption", data={"resource_type": "other"}))
    )
    assert json.loads(row["payload"])["resource_type"] == "other"


def test_an_unknown_subtype_names_the_valid_ones(normalizer: Normalizer) -> None:
    field, message = only_error(decode(normalizer, event(data={"telemetry_type": "span"})))
    assert field == "payload.data.telemetry_type"
    assert "'llm_call'" in message
    assert "'model_performance'" in message


def test_an_unknown_payload_type_names_the_valid_ones(normalizer: Normalizer) -> None:
    evt = event()
    evt["payload"]["payload_type"] = "metrics"
    field, message = only_error(decode(normalizer, evt))
    assert field == "payload.payload_type"
    assert "'lifecycle'" in message


def test_a_missing_subtype_tag_is_a_missing_field(normalizer: Normalizer) -> None:
    field, message = only_error(decode(normalizer, event(data={"telemetry_type": ...})))
    assert (field, message) == ("payload.data.telemetry_type", "required field is missing")


@pytest.mark.parametrize(
    ("variant", "field", "value"),
    [
        ("llm_call", "status", "failed"),
        ("threat", "threat_level", "severe"),
        ("threat", "mitigation_status", "ignored"),
        ("auth", "action", "sudo"),
        ("privacy", "operation", "data_sale"),
        ("resource_consumption", "resource_type", "quantum"),
        ("budget_alert", "alert_type", "panic"),
        ("policy_violation", "severity", "info"),
        ("data_lineage", "operation", "copy"),
        ("asset", "action", "asset_registered"),
        ("asset", "asset_kind", "robot"),
        ("vulnerability", "remediation_status", "ignored"),
    ],
)
def test_enum_fields_reject_other_values(
    normalizer: Normalizer, variant: str, field: str, value: str
) -> None:
    got_field, message = only_error(decode(normalizer, event(variant, data={field: value})))
    assert got_field == f"payload.data.{field}"
    assert repr(value) in message


def test_a_finding_with_a_bad_status_names_its_position(normalizer: Normalizer) -> None:
    findings = [
        *VARIANTS["compliance_check"][1]["findings"],
        {"control_id": "x", "status": "?", "description": ""},
    ]
    field, _ = only_error(
        decode(normalizer, event("compliance_check", data={"findings": findings}))
    )
    assert field == "payload.data.findings[2].status"


@pytest.mark.parametrize(
    ("variant", "field"),
    [
        ("vulnerability", "severity_score"),
        ("compliance_check", "score"),
        ("error_rate", "error_rate_percent"),
    ],
)
def test_bounded_scores_are_checked(normalizer: Normalizer, variant: str, field: str) -> None:
    got_field, message = only_error(decode(normalizer, event(variant, data={field: 101})))
    assert got_field == f"payload.data.{field}"
    assert "<=" in message


def test_unknown_fields_are_ignored_and_not_stored(normalizer: Normalizer) -> None:
    row = only_row(decode(normalizer, event(data={"future_field": 1}, emitted_by="v9")))
    assert "future_field" not in json.loads(row["payload"])


def test_custom_data_may_be_any_json(normalizer: Normalizer) -> None:
    for value in (None, 1, "x", [1, [2]], {"a": {"b": True}}):
        row = only_row(decode(normalizer, event("custom", data={"data": value})))
        assert json.loads(row["payload"])["data"] == value


def test_custom_data_is_required(normalizer: Normalizer) -> None:
    field, message = only_error(decode(normalizer, event("custom", data={"data": ...})))
    assert (field, message) == ("payload.data.data", "required field is missing")
