"""Opaque cursors: round trips, and refusal of tampered or foreign cursors."""

from __future__ import annotations

import base64
import json
from datetime import datetime

import pytest

from analytics_hub.errors import ValidationError
from analytics_hub.query import cursor as cursors

RANGE = ("2025-01-01T00:00:00+00:00", "2025-01-02T00:00:00+00:00")
EVENT_ID = "0190a1b2-0000-7000-8000-000000000001"


def forge(body: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")


def test_offset_round_trip() -> None:
    token = cursors.encode_offset("fp", 200)
    assert cursors.decode_offset(token, "fp") == 200


def test_position_round_trip_carries_the_range() -> None:
    at = datetime(2025, 1, 1, 12, 0, 0, 123456)
    token = cursors.encode_position("fp", cursors.EventPosition(at, EVENT_ID), RANGE)
    position, rng = cursors.decode_position(token, "fp")
    assert position == cursors.EventPosition(at, EVENT_ID)
    assert rng == RANGE
    assert cursors.decode_position(token, None)[1] == RANGE  # peek without the query


def test_a_cursor_of_another_query_is_refused() -> None:
    token = cursors.encode_offset("fp-a", 100)
    with pytest.raises(ValidationError, match="belongs to a different query"):
        cursors.decode_offset(token, "fp-b")


def test_a_cursor_of_another_kind_is_refused() -> None:
    token = cursors.encode_offset("fp", 100)
    with pytest.raises(ValidationError, match="not a cursor for this kind"):
        cursors.decode_position(token, "fp")


def test_fingerprint_depends_on_tenant_and_shape() -> None:
    shape = {"filters": [], "group_by": ["model_id"]}
    assert cursors.fingerprint("t1", shape) == cursors.fingerprint("t1", dict(shape))
    assert cursors.fingerprint("t1", shape) != cursors.fingerprint("t2", shape)
    assert cursors.fingerprint("t1", shape) != cursors.fingerprint("t1", {"group_by": []})


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not base64 !!",
        "bm90IGpzb24",  # "not json"
        forge({"v": 1, "k": "agg", "fp": "fp", "o": -5}),
        forge({"v": 1, "k": "agg", "fp": "fp", "o": "10; DROP TABLE"}),
        forge({"v": 1, "k": "agg", "fp": "fp", "o": True}),
        forge({"v": 1, "k": "agg", "fp": "fp", "o": 10**12}),
        forge({"v": 2, "k": "agg", "fp": "fp", "o": 5}),
        forge([1, 2, 3]),  # type: ignore[arg-type]
    ],
)
def test_tampered_offset_cursors_are_refused(token: str) -> None:
    with pytest.raises(ValidationError, match="invalid cursor"):
        cursors.decode_offset(token, "fp")


@pytest.mark.parametrize(
    "body",
    [
        {"ts": "2025-01-01T00:00:00", "id": "'; DROP TABLE events; --", "r": list(RANGE)},
        {"ts": "yesterday", "id": EVENT_ID, "r": list(RANGE)},
        {"ts": "2025-01-01T00:00:00+00:00", "id": EVENT_ID, "r": list(RANGE)},
        {"ts": "2025-01-01T00:00:00", "id": EVENT_ID, "r": ["x", "y"]},
        {"ts": "2025-01-01T00:00:00", "id": EVENT_ID, "r": ["2025-01-01T00:00:00", RANGE[1]]},
        {"ts": "2025-01-01T00:00:00", "id": EVENT_ID, "r": [RANGE[0]]},
        {"ts": "2025-01-01T00:00:00", "id": EVENT_ID},
    ],
)
def test_tampered_event_cursors_are_refused(body: dict[str, object]) -> None:
    token = forge({"v": 1, "k": "events", "fp": "fp", **body})
    with pytest.raises(ValidationError, match="invalid cursor"):
        cursors.decode_position(token, "fp")
