"""Limits and numeric ranges: each violation is a per-event error naming the field."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest

from analytics_hub.events import (
    DEFAULT_LIMITS,
    Envelope,
    Limits,
    LlmCall,
    Normalizer,
    TelemetryPayload,
)

from .builders import RECEIVED, TENANT, decode, event, only_error, only_row


def nested(depth: int) -> Any:
    """A JSON value nested ``depth`` levels (0: a scalar)."""
    value: Any = 1
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


@pytest.mark.parametrize(
    "field",
    ["input_tokens", "output_tokens", "cached_input_tokens", "latency_ms", "ttft_ms", "cost_usd"],
)
def test_negative_counts_latencies_and_costs_are_rejected(
    normalizer: Normalizer, field: str
) -> None:
    got_field, message = only_error(decode(normalizer, event(data={field: -1})))
    assert got_field == f"payload.data.{field}"
    assert ">= 0" in message


@pytest.mark.parametrize(
    ("variant", "field"),
    [
        ("token_usage", "prompt_tokens"),
        ("token_cost", "total_cost_usd"),
        ("latency", "total_latency_ms"),
        ("throughput", "concurrent_requests"),
        ("api_cost", "request_count"),
    ],
)
def test_negative_numbers_are_rejected_in_every_variant(
    normalizer: Normalizer, variant: str, field: str
) -> None:
    assert only_error(decode(normalizer, event(variant, data={field: -0.5})))[0] == (
        f"payload.data.{field}"
    )


def test_infinity_is_rejected_with_a_clear_message(normalizer: Normalizer) -> None:
    text = b'[{"timestamp":"2025-03-03T11:59:00Z","source_module":"x","event_type":"telemetry",'
    text += b'"severity":"info","payload":{"payload_type":"telemetry","data":{"telemetry_type":'
    text += b'"llm_call","model_id":"m","provider":"p","operation":"chat","input_tokens":1,'
    text += b'"output_tokens":1,"latency_ms":1e400,"status":"ok"}}}]'
    batch = normalizer.decode_json(text, tenant_id=TENANT, received_at=RECEIVED)
    field, message = only_error(batch)
    assert field == "payload.data.latency_ms"
    assert "finite" in message


def test_nan_and_infinity_from_python_envelopes_are_rejected(normalizer: Normalizer) -> None:
    def envelope(latency: float) -> Envelope:
        data = LlmCall(
            model_id="m",
            provider="p",
            operation="chat",
            input_tokens=1,
            output_tokens=1,
            latency_ms=latency,
            status="ok",
        )
        return Envelope(
            timestamp=RECEIVED,
            source_module="x",
            event_type="telemetry",
            severity="info",
            payload=TelemetryPayload(data=data),
        )

    batch = normalizer.normalize(
        [envelope(math.nan), envelope(1.0), envelope(math.inf)],
        tenant_id=TENANT,
        received_at=RECEIVED,
    )
    assert [(e.index, e.field) for e in batch.errors] == [
        (0, "payload.data.latency_ms"),
        (2, "payload.data.latency_ms"),
    ]
    assert batch.table.num_rows == 1


def test_tokens_must_be_integers(normalizer: Normalizer) -> None:
    field, message = only_error(decode(normalizer, event(data={"input_tokens": 1.5})))
    assert field == "payload.data.input_tokens"
    assert "int" in message


def test_tokens_have_an_upper_bound(normalizer: Normalizer) -> None:
    assert only_error(decode(normalizer, event(data={"output_tokens": 2**63})))[0] == (
        "payload.data.output_tokens"
    )


def test_ids_are_limited_to_256_characters(normalizer: Normalizer) -> None:
    assert only_row(decode(normalizer, event(data={"user_id": "u" * 256})))
    field, message = only_error(decode(normalizer, event(data={"user_id": "u" * 257})))
    assert field == "payload.data.user_id"
    assert "256" in message


def test_free_text_is_limited_to_8_kib(normalizer: Normalizer) -> None:
    ok = event("vulnerability", data={"description": "d" * 8192})
    assert only_row(decode(normalizer, ok))
    field, _ = only_error(
        decode(normalizer, event("vulnerability", data={"description": "d" * 8193}))
    )
    assert field == "payload.data.description"


def test_an_empty_model_id_is_rejected(normalizer: Normalizer) -> None:
    assert (
        only_error(decode(normalizer, event(data={"model_id": ""})))[0] == "payload.data.model_id"
    )


def test_envelope_strings_are_limited(normalizer: Normalizer) -> None:
    assert only_error(decode(normalizer, event(asset_id="a" * 257)))[0] == "asset_id"


def test_at_most_64_tags(normalizer: Normalizer) -> None:
    assert only_row(decode(normalizer, event(tags={f"k{i}": "v" for i in range(64)})))
    field, message = only_error(decode(normalizer, event(tags={f"k{i}": "v" for i in range(65)})))
    assert field == "tags"
    assert "64" in message


@pytest.mark.parametrize(
    ("tags", "field", "words"),
    [
        ({"team": "x" * 257}, "tags.team", "256"),
        ({"k" * 65: "x"}, "tags." + "k" * 65, "64"),
        ({"team": 7}, "tags.team", "strings"),
        ({"team": None}, "tags.team", "strings"),
        ({"has space": "x"}, "tags.has space", "letters"),
        ({"9lives": "x"}, "tags.9lives", "letters"),
        ({"": "x"}, "tags.", "non-empty"),
    ],
)
def test_tag_problems_name_the_tag(
    normalizer: Normalizer, tags: dict[str, Any], field: str, words: str
) -> None:
    got_field, message = only_error(decode(normalizer, event(tags=tags)))
    assert (got_field, words in message) == (field, True), message


def test_tags_must_be_an_object(normalizer: Normalizer) -> None:
    assert only_error(decode(normalizer, event(tags=["team"])))[0] == "tags"


def test_the_payload_is_limited_to_64_kib(normalizer: Normalizer) -> None:
    small = {"blob": "x" * 60_000}
    assert only_row(decode(normalizer, event("custom", data={"data": small})))
    field, message = only_error(
        decode(normalizer, event("custom", data={"data": {"blob": "x" * 70_000}}))
    )
    assert field == "payload"
    assert "65536" in message


def test_nesting_is_limited_to_16_levels(normalizer: Normalizer) -> None:
    # event(1) > payload(2) > data(3) > data's value: 13 more levels make 16.
    assert only_row(decode(normalizer, event("custom", data={"data": nested(13)})))
    field, message = only_error(decode(normalizer, event("custom", data={"data": nested(14)})))
    assert field == "payload.data.data"
    assert "17 levels" in message


@pytest.mark.parametrize(
    ("variant", "field"), [("audit_trail", "changes"), ("asset", "attributes")]
)
def test_every_free_form_field_is_depth_checked(
    normalizer: Normalizer, variant: str, field: str
) -> None:
    deep = {"x": nested(20)}
    assert only_error(decode(normalizer, event(variant, data={field: deep})))[0] == (
        f"payload.data.{field}"
    )


def test_nesting_beyond_what_a_parser_can_follow_is_still_per_event(
    normalizer: Normalizer,
) -> None:
    hostile = b'{"timestamp":"2025-03-03T11:59:00Z","x":' + b"[" * 5000 + b"]" * 5000 + b"}"
    good = b'{"a":1}'
    batch = normalizer.decode_ndjson(good + b"\n" + hostile, tenant_id=TENANT, received_at=RECEIVED)
    assert [e.index for e in batch.errors] == [0, 1]
    assert "deep" in batch.errors[1].message


def test_lists_are_limited(normalizer: Normalizer) -> None:
    rules = [f"r{i}" for i in range(1001)]
    field, _ = only_error(
        decode(normalizer, event("policy_violation", data={"violated_rules": rules}))
    )
    assert field == "payload.data.violated_rules"


def test_tighter_limits_are_enforced_with_the_field_path() -> None:
    strict = Normalizer(
        currency_rates={}, limits=Limits(max_id_length=12, max_tags=1, max_list_items=1)
    )

    def errors(*events: dict[str, Any]) -> list[tuple[int, str]]:
        batch = decode(strict, *events)
        return [(e.index, e.field) for e in batch.errors]

    assert errors(event(), event(data={"model_id": "a-very-long-model"})) == [
        (1, "payload.data.model_id")
    ]
    assert errors(event(tags={"a": "1", "b": "2"})) == [(0, "tags")]
    assert errors(event("threat")) == [(0, "payload.data.indicators_of_compromise")]
    findings = event("compliance_check", data={"controls_checked": ["x"]})
    assert errors(findings) == [(0, "payload.data.findings")]


def test_tighter_text_and_tag_limits() -> None:
    strict = Normalizer(
        currency_rates={},
        limits=Limits(max_text_length=5, max_tag_key_length=3, max_tag_value_length=2),
    )
    batch = decode(
        strict,
        event("vulnerability"),
        event(tags={"team": "a"}),
        event(tags={"t": "abc"}),
        event(tags={"t": "ab"}),
    )
    assert [(e.index, e.field) for e in batch.errors] == [
        (0, "payload.data.description"),
        (1, "tags.team"),
        (2, "tags.t"),
    ]


def test_limits_cannot_loosen_the_compiled_ceilings() -> None:
    with pytest.raises(ValueError, match="cannot exceed 256"):
        Normalizer(currency_rates={}, limits=Limits(max_id_length=1000))
    with pytest.raises(ValueError, match="positive"):
        Normalizer(currency_rates={}, limits=Limits(max_depth=0))


def test_payload_size_and_depth_may_be_raised() -> None:
    loose = Normalizer(currency_rates={}, limits=Limits(max_payload_bytes=200_000, max_depth=40))
    big = event("custom", data={"data": {"blob": "x" * 100_000, "deep": nested(30)}})
    assert only_row(decode(loose, big))


def test_limits_are_a_frozen_dataclass_with_defaults() -> None:
    assert Limits() == DEFAULT_LIMITS
    assert (Limits().max_payload_bytes, Limits().max_depth, Limits().max_tags) == (65536, 16, 64)
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_LIMITS.max_depth = 3  # type: ignore[misc]


@pytest.mark.parametrize("value", [-1.0, math.nan, math.inf])
def test_normalizer_time_settings_are_validated(value: float) -> None:
    with pytest.raises(ValueError, match="max_future_skew_seconds"):
        Normalizer(currency_rates={}, max_future_skew_seconds=value)
