"""Turn stored rows back into JSON-ready values: flat query rows and event envelopes.

Stores hand back engine types (naive UTC datetimes, UUID objects, Decimals, JSON as text
or as already-parsed objects); the API wants plain JSON. Timestamps are rendered as
RFC 3339 in UTC with a ``Z``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from analytics_hub.query.fields import CATALOGUE


def rfc3339(moment: datetime) -> str:
    """Naive UTC (as stored) or aware -> ``2025-01-31T12:00:00.123456Z``."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat() + "Z"


def jsonable(value: object) -> object:
    """One stored value as JSON: timestamps as RFC 3339, UUIDs as text, decimals as floats."""
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    return value


def parse_json(value: object) -> Any:
    """A JSON column: text from DuckDB, an object from drivers that parse JSON themselves."""
    if value is None:
        return None
    if isinstance(value, str | bytes):
        try:
            return json.loads(value)
        except ValueError:
            return value  # not JSON after all: show it as stored rather than fail the page
    return value


_PUBLIC_OF_COLUMN: dict[str, str] = {spec.column: name for name, spec in CATALOGUE.items()}


def flat_event(columns: Sequence[str], row: Sequence[object]) -> dict[str, Any]:
    """A stored event as a flat row under public field names (raw query results)."""
    stored = dict(zip(columns, row, strict=True))
    out: dict[str, Any] = {}
    for column, value in stored.items():
        if column in ("tags", "payload"):
            out[column] = parse_json(value)
        elif column in _PUBLIC_OF_COLUMN:
            out[_PUBLIC_OF_COLUMN[column]] = jsonable(value)
    return out


def envelope(columns: Sequence[str], row: Sequence[object]) -> dict[str, Any]:
    """A stored event in the shape it was sent: the envelope plus a ``hub`` object.

    ``payload.data`` is the normalised data (units converted, hot fields included);
    ``hub`` holds what the hub added on receipt, including the cost in USD it stored
    (computed from the price table when the event carried tokens but no cost).
    """
    s = dict(zip(columns, row, strict=True))

    def text(name: str) -> Any:
        return jsonable(s.get(name))

    return {
        "event_id": text("event_id"),
        "timestamp": text("ts"),
        "source_module": s.get("source_module"),
        "event_type": s.get("event_type"),
        "severity": s.get("severity"),
        "environment": s.get("environment"),
        "asset_id": s.get("asset_id"),
        "correlation_id": s.get("correlation_id"),
        "parent_event_id": text("parent_event_id"),
        "trace_id": s.get("trace_id"),
        "span_id": s.get("span_id"),
        "schema_version": s.get("schema_version"),
        "tags": parse_json(s.get("tags")) or {},
        "payload": {"payload_type": s.get("payload_type"), "data": parse_json(s.get("payload"))},
        "hub": {
            "received_at": text("received_at"),
            "skew_ms": s.get("skew_ms"),
            "cost_source": s.get("cost_source"),
            "cost_usd": s.get("cost_usd"),
        },
    }


__all__ = ["envelope", "flat_event", "jsonable", "parse_json", "rfc3339"]
