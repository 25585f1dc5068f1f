"""Query routes: typed queries, raw events, one event, the overview."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from fastapi import APIRouter, Query, Request

from analytics_hub.api.context import services
from analytics_hub.api.deps import ReadCaller
from analytics_hub.errors import NotFoundError, ValidationError
from analytics_hub.query import EventPage, Filter, Overview, QueryResult, TimeRange
from analytics_hub.query import Query as TypedQuery
from analytics_hub.query.fields import resolve_field
from analytics_hub.query.model import Bucket

router = APIRouter(prefix="/api/v1", tags=["query"])
T = TypeVar("T")


async def _timed(request: Request, kind: str, fn: Callable[[], T]) -> T:
    # Queries hit the store synchronously: run them in a worker thread, timed.
    started = time.perf_counter()
    try:
        return await anyio.to_thread.run_sync(fn)
    finally:
        services(request).metrics.query_seconds.labels(kind).observe(time.perf_counter() - started)


def parse_filter(text: str) -> Filter:
    """``field:op:value`` (``in``/``not_in`` take comma-separated values)."""
    field, sep1, rest = text.partition(":")
    op, sep2, value = rest.partition(":")
    if not (sep1 and sep2 and field and op):
        raise ValidationError(
            f"filter {text!r} must look like field:op:value, e.g. model_id:eq:gpt-4o"
        )
    parts = value.split(",") if op in ("in", "not_in") else [value]
    numeric = field_kind(field) in ("int", "float", "json")
    converted = [_number(v) if numeric else v for v in parts]
    parsed: Any = converted if op in ("in", "not_in") else converted[0]
    try:
        return Filter.model_validate({"field": field, "op": op, "value": parsed})
    except Exception as exc:
        raise ValidationError(f"filter {text!r}: {exc}") from None


def field_kind(name: str) -> str | None:
    """The kind of a field (None when unknown: the planner then says why)."""
    try:
        return resolve_field(name).kind
    except ValidationError:
        return None


def _number(text: str) -> Any:
    # Query strings carry text; numeric fields compare as numbers ("json" payload paths too).
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


@router.post("/query", response_model=QueryResult, summary="Run a typed query")
async def run_query(request: Request, caller: ReadCaller, body: TypedQuery) -> QueryResult:
    return await _timed(
        request, "query", lambda: services(request).query.run(caller.tenant_id, body)
    )


@router.get("/events", response_model=EventPage, summary="Raw events, newest first")
async def list_events(
    request: Request,
    caller: ReadCaller,
    from_: Annotated[datetime | None, Query(alias="from", description="RFC 3339")] = None,
    to: Annotated[datetime | None, Query(description="RFC 3339")] = None,
    filter: Annotated[
        list[str] | None, Query(description="field:op:value, repeatable (e.g. model_id:eq:gpt-4o)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: str | None = None,
) -> EventPage:
    if (from_ is None) != (to is None):
        raise ValidationError("give both 'from' and 'to', or neither (the last 24 hours)")
    time_range = TimeRange(from_=from_, to=to) if from_ and to else None
    filters = [parse_filter(f) for f in filter or []]
    return await _timed(
        request,
        "events",
        lambda: services(request).query.list_events(
            caller.tenant_id, time_range=time_range, filters=filters, limit=limit, cursor=cursor
        ),
    )


@router.get("/events/{event_id}", summary="One event")
async def get_event(request: Request, caller: ReadCaller, event_id: str) -> dict[str, Any]:
    found = await _timed(
        request, "event", lambda: services(request).query.get_event(caller.tenant_id, event_id)
    )
    if found is None:
        raise NotFoundError(f"no event {event_id!r}")
    return found


@router.get("/metrics/overview", response_model=Overview, summary="Dashboard overview")
async def overview(
    request: Request,
    caller: ReadCaller,
    from_: Annotated[datetime, Query(alias="from", description="RFC 3339")],
    to: Annotated[datetime, Query(description="RFC 3339")],
    bucket: Bucket = "1h",
) -> Overview:
    if from_.tzinfo is None or to.tzinfo is None:
        raise ValidationError("'from' and 'to' need a time zone, e.g. 2026-01-01T00:00:00Z")
    return await _timed(
        request,
        "overview",
        lambda: services(request).query.overview(
            caller.tenant_id, from_=from_, to=to, bucket=bucket
        ),
    )


__all__ = ["parse_filter", "router"]
