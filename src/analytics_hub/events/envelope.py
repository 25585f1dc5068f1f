"""The event envelope: the typed form of one event on the wire.

The tenant is deliberately absent: it comes from the credential. Unknown top-level
fields are ignored so that newer emitters keep working with an older hub (forward
compatibility); a top-level ``tenant_id`` or ``tenant`` is rejected by the decoder.
Unknown fields inside ``payload.data`` are ignored too and not stored.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Literal, get_args

from msgspec import Meta

from analytics_hub.events.base import WireStruct
from analytics_hub.events.cost import CostPayload
from analytics_hub.events.custom import CustomPayload
from analytics_hub.events.fields import (
    Id,
    SemVer,
    Slug,
    SpanId,
    Tags,
    TraceId,
    UuidText,
)
from analytics_hub.events.governance import GovernancePayload
from analytics_hub.events.lifecycle import LifecyclePayload
from analytics_hub.events.security import SecurityPayload
from analytics_hub.events.telemetry import TelemetryPayload

EventType = Literal[
    "telemetry", "security", "cost", "governance", "lifecycle", "audit", "alert", "custom"
]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)

SeverityName = Literal["debug", "info", "warning", "error", "critical", "low", "medium", "high"]


class Severity(enum.IntEnum):
    """Ordered severities; the value is the stored ``severity_level``."""

    DEBUG = 0
    INFO = 1
    WARNING = 2
    ERROR = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, name: str) -> Severity:
        """The severity named ``name`` or one of its aliases (low, medium, high)."""
        try:
            return cls[SEVERITY_ALIASES.get(name, name).upper()]
        except KeyError:
            raise ValueError(f"unknown severity {name!r}") from None


SEVERITY_ALIASES: dict[str, str] = {"low": "info", "medium": "warning", "high": "error"}
# Wire name (canonical or alias) -> (canonical name, level), for the batch path.
SEVERITY_OF: dict[str, tuple[str, int]] = {
    name: (
        SEVERITY_ALIASES.get(name, name),
        int(Severity[SEVERITY_ALIASES.get(name, name).upper()]),
    )
    for name in get_args(SeverityName)
}

Payload = (
    TelemetryPayload
    | SecurityPayload
    | CostPayload
    | GovernancePayload
    | LifecyclePayload
    | CustomPayload
)
PAYLOAD_TYPES: tuple[str, ...] = (
    "telemetry",
    "security",
    "cost",
    "governance",
    "lifecycle",
    "custom",
)

_EPOCH = "epoch seconds, ms, µs or ns, the unit inferred from the magnitude"
Timestamp = (
    Annotated[dt.datetime, Meta(tz=True, description="RFC 3339 with a UTC offset")]
    | Annotated[int, Meta(description=_EPOCH)]
    | Annotated[float, Meta(description=_EPOCH)]
)


class Envelope(WireStruct, kw_only=True):
    """One event: common fields plus a ``payload`` tagged by ``payload_type``."""

    event_id: UuidText | None = None
    timestamp: Timestamp
    source_module: Slug
    event_type: EventType
    severity: SeverityName
    environment: Id = "prod"
    asset_id: Id | None = None
    correlation_id: Id | None = None
    parent_event_id: UuidText | None = None
    trace_id: TraceId | None = None
    span_id: SpanId | None = None
    schema_version: SemVer = "1.0.0"
    tags: Tags = {}
    payload: Payload


__all__ = [
    "EVENT_TYPES",
    "PAYLOAD_TYPES",
    "SEVERITY_ALIASES",
    "SEVERITY_OF",
    "Envelope",
    "EventType",
    "Payload",
    "Severity",
    "SeverityName",
    "Timestamp",
]
