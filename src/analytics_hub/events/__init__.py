"""Events: the wire envelope, its validation and normalisation into stored rows.

Pure: no I/O. The entry point is :class:`Normalizer`, which turns a request body into a
:class:`DecodedBatch` (an Arrow table in :data:`EVENT_SCHEMA` plus per-event errors).
"""

from typing import Any

from analytics_hub.events.columns import EVENT_COLUMNS, EVENT_SCHEMA
from analytics_hub.events.cost import (
    ApiCost,
    BudgetAlert,
    CostPayload,
    ResourceConsumption,
    TokenCost,
)
from analytics_hub.events.currency import RateTable
from analytics_hub.events.custom import CustomData, CustomPayload
from analytics_hub.events.decode import DecodedBatch, EventError, Normalizer
from analytics_hub.events.envelope import (
    EVENT_TYPES,
    PAYLOAD_TYPES,
    Envelope,
    EventType,
    Payload,
    Severity,
)
from analytics_hub.events.governance import (
    AuditTrail,
    ComplianceCheck,
    DataLineage,
    Finding,
    GovernancePayload,
    PolicyViolation,
)
from analytics_hub.events.ids import uuid7
from analytics_hub.events.lifecycle import Asset, LifecyclePayload
from analytics_hub.events.limits import DEFAULT_LIMITS, Limits
from analytics_hub.events.modules import CANONICAL_MODULES, MODULE_ALIASES, canonical_module
from analytics_hub.events.security import (
    Auth,
    ComplianceViolation,
    OtherKind,
    Privacy,
    SecurityPayload,
    Threat,
    Vulnerability,
)
from analytics_hub.events.telemetry import (
    ErrorRate,
    Latency,
    LatencyBreakdown,
    LlmCall,
    ModelPerformance,
    TelemetryPayload,
    Throughput,
    TokenUsage,
)


def envelope_json_schema() -> dict[str, Any]:
    """The JSON Schema of the envelope (see :mod:`analytics_hub.events.jsonschema`)."""
    # Imported on use so that ``python -m analytics_hub.events.jsonschema`` runs cleanly.
    from analytics_hub.events.jsonschema import envelope_json_schema as build

    return build()


def openapi_components() -> dict[str, Any]:
    """The envelope's schemas as OpenAPI components (``#/components/schemas/...``)."""
    from analytics_hub.events.jsonschema import openapi_components as build

    return build()


__all__ = [
    "CANONICAL_MODULES",
    "DEFAULT_LIMITS",
    "EVENT_COLUMNS",
    "EVENT_SCHEMA",
    "EVENT_TYPES",
    "MODULE_ALIASES",
    "PAYLOAD_TYPES",
    "ApiCost",
    "Asset",
    "AuditTrail",
    "Auth",
    "BudgetAlert",
    "ComplianceCheck",
    "ComplianceViolation",
    "CostPayload",
    "CustomData",
    "CustomPayload",
    "DataLineage",
    "DecodedBatch",
    "Envelope",
    "ErrorRate",
    "EventError",
    "EventType",
    "Finding",
    "GovernancePayload",
    "Latency",
    "LatencyBreakdown",
    "LifecyclePayload",
    "Limits",
    "LlmCall",
    "ModelPerformance",
    "Normalizer",
    "OtherKind",
    "Payload",
    "PolicyViolation",
    "Privacy",
    "RateTable",
    "ResourceConsumption",
    "SecurityPayload",
    "Severity",
    "TelemetryPayload",
    "Threat",
    "Throughput",
    "TokenCost",
    "TokenUsage",
    "Vulnerability",
    "canonical_module",
    "envelope_json_schema",
    "openapi_components",
    "uuid7",
]
