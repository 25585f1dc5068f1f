"""Health, readiness, Prometheus metrics and the event JSON Schema."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from analytics_hub import __version__
from analytics_hub.api.context import services
from analytics_hub.api.deps import Caller, public_or_authenticated
from analytics_hub.api.errors import hub_error_response
from analytics_hub.errors import UnavailableError

router = APIRouter(tags=["operations"])


@router.get(
    "/healthz", summary="The process is up", dependencies=[Depends(public_or_authenticated)]
)
async def healthz() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.get(
    "/readyz",
    summary="The store is writable and queryable",
    dependencies=[Depends(public_or_authenticated)],
)
async def readyz(request: Request) -> Response:
    try:
        checks = await anyio.to_thread.run_sync(services(request).readiness)
    except UnavailableError as exc:
        return hub_error_response(exc)
    return JSONResponse({"status": "ready", "checks": checks})


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    dependencies=[Depends(public_or_authenticated)],
    response_class=Response,
)
async def metrics(request: Request) -> Response:
    return Response(
        services(request).metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
    )


@router.get("/api/v1/schema", summary="JSON Schema of the event envelope", tags=["ingest"])
async def event_schema(request: Request, _: Caller) -> dict[str, Any]:
    return services(request).event_schema


__all__ = ["router"]
