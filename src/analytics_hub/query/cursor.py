"""Opaque page cursors.

A cursor is URL-safe base64 of a small JSON object: the page position (an offset for
aggregate queries, the last ``(ts, event_id)`` for raw events) and a fingerprint of the
query it belongs to, so that a cursor replayed against a different query (or tenant) is
refused instead of silently paging something else. A cursor is not a secret and not a
capability: every value read from it is type-checked and only ever bound as a parameter.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from analytics_hub.errors import ValidationError

CursorKind = Literal["agg", "events"]
_VERSION = 1
_MAX_OFFSET = 10_000_000


@dataclass(frozen=True, slots=True)
class EventPosition:
    """The last event of a page: the next page starts strictly after it."""

    ts: datetime
    event_id: str


def fingerprint(tenant_id: str, shape: dict[str, Any]) -> str:
    """A short digest of what a cursor is valid for (the query minus limit and cursor)."""
    text = json.dumps([tenant_id, shape], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _encode(body: dict[str, Any]) -> str:
    raw = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str, kind: CursorKind, fp: str | None) -> dict[str, Any]:
    try:
        padded = token + "=" * (-len(token) % 4)
        body = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        raise ValidationError("invalid cursor: not a cursor of this API") from None
    if not isinstance(body, dict) or body.get("v") != _VERSION or body.get("k") != kind:
        raise ValidationError("invalid cursor: not a cursor for this kind of query")
    if fp is not None and body.get("fp") != fp:
        raise ValidationError(
            "invalid cursor: it belongs to a different query; send the same query with it"
        )
    return body


def encode_offset(fp: str, offset: int) -> str:
    """Cursor of an aggregate page that starts at row ``offset``."""
    return _encode({"v": _VERSION, "k": "agg", "fp": fp, "o": offset})


def decode_offset(token: str, fp: str) -> int:
    """The offset an aggregate cursor points at."""
    offset = _decode(token, "agg", fp).get("o")
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 < offset <= _MAX_OFFSET:
        raise ValidationError("invalid cursor: bad position")
    return offset


def encode_position(fp: str, position: EventPosition, time_range: tuple[str, str]) -> str:
    """Cursor of an event page that continues after ``position``.

    The time range travels too, so that a listing whose range defaulted to "the last
    24 hours" keeps the same range on every page instead of sliding with the clock.
    """
    return _encode(
        {
            "v": _VERSION,
            "k": "events",
            "fp": fp,
            "ts": position.ts.isoformat(),
            "id": position.event_id,
            "r": list(time_range),
        }
    )


def decode_position(token: str, fp: str | None) -> tuple[EventPosition, tuple[str, str]]:
    """The position and time range of an event cursor (``fp=None``: do not check it yet)."""
    body = _decode(token, "events", fp)
    try:
        ts = datetime.fromisoformat(body["ts"])
        event_id = str(uuid.UUID(body["id"]))
        start, end = body["r"]
        bounds = (datetime.fromisoformat(start), datetime.fromisoformat(end))
    except (KeyError, TypeError, ValueError):
        raise ValidationError("invalid cursor: bad position") from None
    # the position is naive UTC (as stored); the range is what the caller sent (aware)
    if ts.tzinfo is not None or any(b.tzinfo is None for b in bounds):
        raise ValidationError("invalid cursor: bad position")
    return EventPosition(ts, event_id), (str(start), str(end))


__all__ = [
    "CursorKind",
    "EventPosition",
    "decode_offset",
    "decode_position",
    "encode_offset",
    "encode_position",
    "fingerprint",
]
