"""Stored rows rendered back as JSON: flat rows and envelopes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from analytics_hub.query.dialects.base import EVENT_SELECT
from analytics_hub.query.render import envelope, flat_event, jsonable, parse_json, rfc3339

EVENT_ID = "0190a1b2-0000-7000-8000-000000000001"


def stored_row(**overrides: object) -> tuple[object, ...]:
    values: dict[str, object] = dict.fromkeys(EVENT_SELECT)
    values.update(
        event_id=uuid.UUID(EVENT_ID),
        ts=datetime(2025, 1, 31, 12, 0, 0, 250000),
        claimed_ts=datetime(2025, 1, 31, 12, 0, 0, 250000),
        received_at=datetime(2025, 1, 31, 12, 0, 1),
        skew_ms=None,
        source_module="llm-observatory",
        event_type="telemetry",
        severity="info",
        environment="prod",
        asset_id="asset-01",
        schema_version="1.0.0",
        payload_type="telemetry",
        payload_subtype="llm_call",
        tags='{"team": "search"}',
        model_id="gpt-4o",
        latency_ms=812.5,
        cost_source="computed",
        cost_usd=0.00215,
        payload='{"telemetry_type": "llm_call", "model_id": "gpt-4o"}',
    )
    values.update(overrides)
    return tuple(values[c] for c in EVENT_SELECT)


def test_rfc3339_is_utc_with_z() -> None:
    assert rfc3339(datetime(2025, 1, 31, 12, 0)) == "2025-01-31T12:00:00Z"
    aware = datetime(2025, 1, 31, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    assert rfc3339(aware) == "2025-01-31T12:00:00Z"
    assert rfc3339(datetime(2025, 1, 31, 12, 0, 0, 5, tzinfo=UTC)) == "2025-01-31T12:00:00.000005Z"


def test_jsonable_values() -> None:
    assert jsonable(uuid.UUID(EVENT_ID)) == EVENT_ID
    assert jsonable(Decimal("1.5")) == 1.5
    assert jsonable(3) == 3
    assert jsonable(None) is None


def test_json_columns_parse_from_text_or_pass_through() -> None:
    assert parse_json('{"a": 1}') == {"a": 1}
    assert parse_json({"a": 1}) == {"a": 1}
    assert parse_json(None) is None
    assert parse_json("not json") == "not json"


def test_envelope_is_the_sent_shape_plus_hub() -> None:
    event = envelope(EVENT_SELECT, stored_row())
    assert event == {
        "event_id": EVENT_ID,
        "timestamp": "2025-01-31T12:00:00.250000Z",
        "source_module": "llm-observatory",
        "event_type": "telemetry",
        "severity": "info",
        "environment": "prod",
        "asset_id": "asset-01",
        "correlation_id": None,
        "parent_event_id": None,
        "trace_id": None,
        "span_id": None,
        "schema_version": "1.0.0",
        "tags": {"team": "search"},
        "payload": {
            "payload_type": "telemetry",
            "data": {"telemetry_type": "llm_call", "model_id": "gpt-4o"},
        },
        "hub": {
            "received_at": "2025-01-31T12:00:01Z",
            "skew_ms": None,
            "cost_source": "computed",
            "cost_usd": 0.00215,
        },
    }


def test_flat_event_uses_public_names() -> None:
    row = flat_event(EVENT_SELECT, stored_row())
    assert row["timestamp"] == "2025-01-31T12:00:00.250000Z"
    assert row["event_id"] == EVENT_ID
    assert row["tags"] == {"team": "search"}
    assert row["payload"]["model_id"] == "gpt-4o"
    assert "ts" not in row
    assert "claimed_ts" not in row
    assert "tenant_id" not in row
