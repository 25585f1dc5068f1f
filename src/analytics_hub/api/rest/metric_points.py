"""Metric points (OTLP metrics): figures per time bucket, and the metrics a tenant has.

Both need the read role and see the caller's tenant only. The store is read in a
worker thread, timed like the other queries.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, TypeVar

import anyio.to_thread
from fastapi import APIRouter, Query, Request

from analytics_hub.api.context import services
from analytics_hub.api.deps import ReadCaller
from analytics_hub.errors import ValidationError
from analytics_hub.query.metric_query import MetricNames, MetricQuery, MetricQueryResult

router = APIRouter(prefix="/api/v1/metrics", tags=["metrics"])
T = TypeVar("T")


async def _timed(request: Request, kind: str, fn: Callable[[], T]) -> T:
    started = time.perf_counter()
    try:
        return await anyio.to_thread.run_sync(fn)
    finally:
        services(request).metrics.query_seconds.labels(kind).observe(time.perf_counter() - started)


@router.post(
    "/query",
    response_model=MetricQueryResult,
    summary="Figures of one OTLP metric per time bucket",
    description="Count, sum, avg, min, max (and p50/p95/p99 for histograms) of one metric's "
    "data points per time bucket, optionally grouped by GenAI dimensions and filtered on "
    "them. Cumulative series count their increases. See docs/api/metrics.md.",
)
async def query_metric_points(
    request: Request, caller: ReadCaller, body: MetricQuery
) -> MetricQueryResult:
    service = services(request).metric_points
    return await _timed(request, "metric_points", lambda: service.run(caller.tenant_id, body))


@router.get(
    "/names",
    response_model=MetricNames,
    summary="The OTLP metrics the tenant has points of",
)
async def metric_names(
    request: Request,
    caller: ReadCaller,
    from_: Annotated[datetime | None, Query(alias="from", description="RFC 3339")] = None,
    to: Annotated[datetime | None, Query(description="RFC 3339")] = None,
) -> MetricNames:
    for moment in (from_, to):
        if moment is not None and moment.tzinfo is None:
            raise ValidationError("'from' and 'to' need a time zone, e.g. 2026-01-01T00:00:00Z")
    service = services(request).metric_points
    return await _timed(request, "metric_names", lambda: service.names(caller.tenant_id, from_, to))


__all__ = ["router"]
