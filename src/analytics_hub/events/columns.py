"""The stored shape of an event: one flat row of typed columns.

Normalisation turns every accepted envelope into one row of this schema; every store
backend keeps exactly these columns (plus ``tenant_id``), and the query layer knows
them by name. The hot fields of a model call are real columns so that the common
questions never parse JSON; everything else of the payload stays in ``payload`` (JSON
text of the normalised ``data`` object).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

LogicalType = Literal["string", "uuid", "timestamp", "int64", "float64", "int16", "json"]

_ARROW: dict[LogicalType, pa.DataType] = {
    "string": pa.string(),
    "uuid": pa.string(),  # canonical lower-case text form; stores cast to their UUID type
    "timestamp": pa.timestamp("us"),  # always UTC, microseconds, stored without zone
    "int64": pa.int64(),
    "float64": pa.float64(),
    "int16": pa.int16(),
    "json": pa.string(),
}


@dataclass(frozen=True, slots=True)
class Column:
    """One stored column: its name, logical type, nullability and a one-line meaning."""

    name: str
    type: LogicalType
    nullable: bool
    doc: str

    @property
    def arrow_type(self) -> pa.DataType:
        return _ARROW[self.type]


EVENT_COLUMNS: tuple[Column, ...] = (
    Column("tenant_id", "string", False, "tenant of the credential that sent the event"),
    Column("event_id", "uuid", False, "idempotency key; a time-ordered UUIDv7 when absent"),
    Column("ts", "timestamp", False, "event time, UTC (receipt time when clamped)"),
    Column("claimed_ts", "timestamp", False, "event time as sent, UTC (the dedupe time)"),
    Column("received_at", "timestamp", False, "when the hub received the event, UTC"),
    Column("skew_ms", "float64", True, "how far in the future the event claimed to be"),
    Column("source_module", "string", False, "canonical source module name"),
    Column("event_type", "string", False, "telemetry security cost governance lifecycle ..."),
    Column("severity", "string", False, "debug info warning error critical"),
    Column("severity_level", "int16", False, "0 (debug) to 4 (critical), for ordering"),
    Column("environment", "string", False, "prod, staging, dev, ... (default prod)"),
    Column("asset_id", "string", True, "the asset the event is about"),
    Column("correlation_id", "string", True, "ties events across modules"),
    Column("parent_event_id", "uuid", True, "the event that caused this one"),
    Column("trace_id", "string", True, "OpenTelemetry trace id (hex)"),
    Column("span_id", "string", True, "OpenTelemetry span id (hex)"),
    Column("schema_version", "string", False, "envelope schema version"),
    Column("payload_type", "string", False, "telemetry security cost governance lifecycle custom"),
    Column("payload_subtype", "string", False, "the variant, e.g. llm_call, threat, token_cost"),
    Column("tags", "json", False, "JSON object of string labels"),
    Column("model_id", "string", True, "model of the call"),
    Column("provider", "string", True, "model provider"),
    Column("operation", "string", True, "chat, completion, embeddings, tool, agent, ..."),
    Column("input_tokens", "int64", True, "prompt tokens"),
    Column("output_tokens", "int64", True, "completion tokens"),
    Column("cached_input_tokens", "int64", True, "cached prompt tokens"),
    Column("reasoning_tokens", "int64", True, "reasoning tokens"),
    Column("total_tokens", "int64", True, "total tokens"),
    Column("latency_ms", "float64", True, "end-to-end latency in milliseconds"),
    Column("ttft_ms", "float64", True, "time to first token in milliseconds"),
    Column("cost_usd", "float64", True, "cost in USD"),
    Column("cost_source", "string", True, "provided, computed or unpriced"),
    Column("status", "string", True, "ok or error (model calls)"),
    Column("error_type", "string", True, "error class of a failed call"),
    Column("user_id", "string", True, "end user"),
    Column("session_id", "string", True, "conversation or session"),
    Column("request_id", "string", True, "provider or gateway request id"),
    Column("payload", "json", False, "the normalised payload data as JSON text"),
)

COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in EVENT_COLUMNS)
COLUMNS_BY_NAME: dict[str, Column] = {c.name: c for c in EVENT_COLUMNS}

EVENT_SCHEMA: pa.Schema = pa.schema(
    [pa.field(c.name, c.arrow_type, nullable=c.nullable) for c in EVENT_COLUMNS]
)

# Rollups: per time bucket and per combination of these dimensions, the measures below.
ROLLUP_DIMENSIONS: tuple[str, ...] = (
    "tenant_id",
    "source_module",
    "event_type",
    "payload_subtype",
    "asset_id",
    "model_id",
    "provider",
    "status",
)
# The tenant-wide rollups keep only the low-cardinality dimensions: a question that
# filters or groups by nothing else (a dashboard's overview, counts by status) reads far
# fewer rows there than in the full rollups, whose rows multiply by asset and model.
TENANT_ROLLUP_DIMENSIONS: tuple[str, ...] = (
    "tenant_id",
    "source_module",
    "event_type",
    "payload_subtype",
    "status",
)

ROLLUP_MEASURES: tuple[Column, ...] = (
    Column("events", "int64", False, "number of events"),
    Column("errors", "int64", False, "events with status = error"),
    Column("unpriced", "int64", False, "events with cost_source = unpriced"),
    Column("input_tokens", "int64", False, "sum of input tokens"),
    Column("output_tokens", "int64", False, "sum of output tokens"),
    Column("cost_usd", "float64", False, "sum of cost in USD"),
    Column("latency_count", "int64", False, "events that carry a latency"),
    Column("latency_sum", "float64", False, "sum of latency_ms"),
    Column("latency_min", "float64", True, "minimum latency_ms"),
    Column("latency_max", "float64", True, "maximum latency_ms"),
    Column("ttft_count", "int64", False, "events that carry a time to first token"),
    Column("ttft_sum", "float64", False, "sum of ttft_ms"),
)

SEVERITIES: tuple[str, ...] = ("debug", "info", "warning", "error", "critical")

__all__ = [
    "COLUMNS_BY_NAME",
    "COLUMN_NAMES",
    "EVENT_COLUMNS",
    "EVENT_SCHEMA",
    "ROLLUP_DIMENSIONS",
    "ROLLUP_MEASURES",
    "SEVERITIES",
    "TENANT_ROLLUP_DIMENSIONS",
    "Column",
]
