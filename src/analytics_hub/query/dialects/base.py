"""What a SQL dialect provides: pure functions from a plan to SQL text and parameters.

A dialect never sees user text as SQL: field names arrive resolved to catalogue columns
(our constants) and every value, JSON path and cursor position is a bound parameter.

Column labels of an aggregate statement are fixed so that the service can map them back
without parsing SQL: ``g0, g1, ...`` are the group keys in order, ``a0, a1, ...`` the
aggregates in order (a percentile answered from rollups has no ``a`` column: it is
computed from ``h``), and ``h`` is the merged latency histogram of the row, a list of
``{b: bin, c: count}``, present only when the plan merges histograms.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from analytics_hub.query.planner import AggregatePlan, EventsPlan

#: stored columns an event listing selects, in order (everything but the tenant)
EVENT_SELECT: tuple[str, ...] = (
    "event_id",
    "ts",
    "claimed_ts",
    "received_at",
    "skew_ms",
    "source_module",
    "event_type",
    "severity",
    "environment",
    "asset_id",
    "correlation_id",
    "parent_event_id",
    "trace_id",
    "span_id",
    "schema_version",
    "payload_type",
    "payload_subtype",
    "tags",
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
    "payload",
)


@dataclass(frozen=True, slots=True)
class Compiled:
    """One statement: SQL text with ``?`` placeholders and its parameters, in order."""

    sql: str
    params: list[object]


@dataclass(frozen=True, slots=True)
class Dialect:
    """The compile functions of one SQL engine."""

    name: str
    compile_events: Callable[[EventsPlan], Compiled]
    compile_aggregate: Callable[[AggregatePlan], Compiled]
    compile_get_event: Callable[[str, str], Compiled]


__all__ = ["EVENT_SELECT", "Compiled", "Dialect"]
