"""Events come back from the store in the shape they were sent (get_event round trip)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from analytics_hub.query import Query, TimeRange

if TYPE_CHECKING:
    from conftest import Loaded


def rfc(moment: datetime) -> str:
    return moment.isoformat() + "Z"


def test_get_event_round_trip(loaded: Loaded) -> None:
    for row in loaded.of("t1")[:200:17]:
        event = loaded.service.get_event("t1", str(row["event_id"]))
        assert event is not None
        assert event == {
            "event_id": str(row["event_id"]),
            "timestamp": rfc(row["ts"]),
            "source_module": row["source_module"],
            "event_type": row["event_type"],
            "severity": row["severity"],
            "environment": row["environment"],
            "asset_id": row["asset_id"],
            "correlation_id": row["correlation_id"],
            "parent_event_id": row["parent_event_id"],
            "trace_id": row["trace_id"],
            "span_id": row["span_id"],
            "schema_version": row["schema_version"],
            "tags": json.loads(row["tags"]),
            "payload": {"payload_type": row["payload_type"], "data": json.loads(row["payload"])},
            "hub": {
                "received_at": rfc(row["received_at"]),
                "skew_ms": row["skew_ms"],
                "cost_source": row["cost_source"],
                "cost_usd": pytest.approx(row["cost_usd"]) if row["cost_usd"] is not None else None,
            },
        }


def test_get_event_accepts_any_uuid_spelling_and_misses_cleanly(loaded: Loaded) -> None:
    event_id = str(loaded.of("t1")[0]["event_id"])
    assert loaded.service.get_event("t1", event_id.upper()) is not None
    assert loaded.service.get_event("t1", "00000000-0000-7000-8000-000000000000") is None
    assert loaded.service.get_event("t1", "not-a-uuid") is None


def test_listed_envelopes_equal_get_event(loaded: Loaded) -> None:
    rng = TimeRange.model_validate({"from": "2025-01-01T10:00:00Z", "to": "2025-01-01T10:05:00Z"})
    page = loaded.service.list_events("t1", time_range=rng, limit=50)
    assert page.events
    for event in page.events:
        assert loaded.service.get_event("t1", event["event_id"]) == event


def test_raw_query_rows_are_flat_with_public_names(loaded: Loaded) -> None:
    row = loaded.of("t1")[100]
    at = row["ts"].replace(tzinfo=UTC)
    query = Query.model_validate(
        {
            "time_range": {
                "from": at.isoformat(),
                "to": (at.replace(microsecond=999999)).isoformat(),
            },
            "filters": [{"field": "event_id", "op": "eq", "value": str(row["event_id"])}],
        }
    )
    result = loaded.service.run("t1", query)
    assert len(result.rows) == 1
    got = result.rows[0]
    assert got["timestamp"] == rfc(row["ts"])
    assert got["model_id"] == row["model_id"]
    assert got["latency_ms"] == row["latency_ms"]
    assert got["tags"] == json.loads(row["tags"])
    assert "tenant_id" not in got
