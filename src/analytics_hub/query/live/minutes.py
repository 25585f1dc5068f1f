"""The live metrics of one minute: the overview's figures, asked of the store.

Rather than keeping running totals in memory (which would start empty at every
subscription and restart), a minute's figures are asked of the store with two typed
queries over ``[minute, minute + 1 min)``. Those read the minute rollups, which the
writer keeps in the same transaction as the events, so the figures are exactly those
the overview's series shows for that minute (``GET /api/v1/metrics/overview?bucket=1m``):
model calls (``payload_subtype = llm_call``), their errors (``status = error``), tokens,
cost and latency percentiles (from the rollups' histograms, within 1 %).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from analytics_hub.query.model import Aggregate, Filter, Query, TimeRange
from analytics_hub.query.render import rfc3339
from analytics_hub.query.service import QueryService

MINUTE = timedelta(minutes=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_CALLS = Filter(field="payload_subtype", op="eq", value="llm_call")
_FAILED = Filter(field="status", op="eq", value="error")
_MEASURES = [
    Aggregate(fn="count", as_="requests"),
    Aggregate(fn="sum", field="input_tokens", as_="input_tokens"),
    Aggregate(fn="sum", field="output_tokens", as_="output_tokens"),
    Aggregate(fn="sum", field="cost_usd", as_="cost_usd"),
    Aggregate(fn="p50", field="latency_ms", as_="p50_latency_ms"),
    Aggregate(fn="p95", field="latency_ms", as_="p95_latency_ms"),
    Aggregate(fn="p99", field="latency_ms", as_="p99_latency_ms"),
]
_ERRORS = [Aggregate(fn="count", as_="errors")]


def minute_of(moment: datetime) -> datetime:
    """The start of the UTC minute holding ``moment`` (aware)."""
    return _EPOCH + ((moment.astimezone(UTC) - _EPOCH) // MINUTE) * MINUTE


def _number(value: object, kind: type[int] | type[float]) -> Any:
    return kind(value) if isinstance(value, int | float) else kind(0)


def _maybe(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def minute_figures(queries: QueryService, tenant_id: str, minute: datetime) -> dict[str, Any]:
    """The ``metrics`` message of ``tenant_id`` for the minute starting at ``minute``."""
    window = TimeRange(from_=minute, to=minute + MINUTE)
    calls = queries.run(tenant_id, Query(time_range=window, filters=[_CALLS], aggregates=_MEASURES))
    failed = queries.run(
        tenant_id, Query(time_range=window, filters=[_CALLS, _FAILED], aggregates=_ERRORS)
    )
    row = calls.rows[0] if calls.rows else {}
    errors = failed.rows[0]["errors"] if failed.rows else 0
    return {
        "type": "metrics",
        "minute": rfc3339(minute),
        "requests": _number(row.get("requests"), int),
        "errors": _number(errors, int),
        "input_tokens": _number(row.get("input_tokens"), int),
        "output_tokens": _number(row.get("output_tokens"), int),
        "cost_usd": _number(row.get("cost_usd"), float),
        "p50_latency_ms": _maybe(row.get("p50_latency_ms")),
        "p95_latency_ms": _maybe(row.get("p95_latency_ms")),
        "p99_latency_ms": _maybe(row.get("p99_latency_ms")),
    }


__all__ = ["MINUTE", "minute_figures", "minute_of"]
