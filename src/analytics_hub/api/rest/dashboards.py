"""Saved dashboards of the caller's tenant; a dashboard's JSON is also its export format.

Reading needs a read key; creating, replacing and deleting need an admin key, like the
tenant's other configuration (price overrides).
"""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Path, Request, Response

from analytics_hub.api.context import services
from analytics_hub.api.deps import AdminCaller, ReadCaller
from analytics_hub.query.dashboard_model import (
    Dashboard,
    DashboardCreate,
    DashboardList,
    DashboardReplace,
)

router = APIRouter(prefix="/api/v1/dashboards", tags=["dashboards"])

DashboardId = Annotated[str, Path(max_length=128, description="the id the hub made")]


@router.get("", response_model=DashboardList, summary="The tenant's dashboards")
async def list_dashboards(request: Request, caller: ReadCaller) -> DashboardList:
    dashboards = services(request).dashboards
    items = await anyio.to_thread.run_sync(dashboards.list, caller.tenant_id)
    return DashboardList(items=items)


@router.post(
    "",
    response_model=Dashboard,
    status_code=201,
    summary="Create (or import) a dashboard",
)
async def create_dashboard(
    request: Request, response: Response, caller: AdminCaller, body: DashboardCreate
) -> Dashboard:
    dashboards = services(request).dashboards
    created = await anyio.to_thread.run_sync(dashboards.create, caller.tenant_id, body)
    response.headers["Location"] = f"{router.prefix}/{created.id}"
    return created


@router.get("/{dashboard_id}", response_model=Dashboard, summary="One dashboard (its export)")
async def get_dashboard(
    request: Request, caller: ReadCaller, dashboard_id: DashboardId
) -> Dashboard:
    dashboards = services(request).dashboards
    return await anyio.to_thread.run_sync(dashboards.get, caller.tenant_id, dashboard_id)


@router.put(
    "/{dashboard_id}",
    response_model=Dashboard,
    summary="Replace a dashboard",
    responses={409: {"description": "`version` is not the current one: saved by someone else"}},
)
async def replace_dashboard(
    request: Request, caller: AdminCaller, dashboard_id: DashboardId, body: DashboardReplace
) -> Dashboard:
    dashboards = services(request).dashboards
    return await anyio.to_thread.run_sync(
        dashboards.replace, caller.tenant_id, dashboard_id, body, body.version
    )


@router.delete(
    "/{dashboard_id}", status_code=204, response_class=Response, summary="Delete a dashboard"
)
async def delete_dashboard(
    request: Request, caller: AdminCaller, dashboard_id: DashboardId
) -> Response:
    dashboards = services(request).dashboards
    await anyio.to_thread.run_sync(dashboards.delete, caller.tenant_id, dashboard_id)
    return Response(status_code=204)


__all__ = ["router"]
