"""Administrative actions of one tenant's admin or the operator: retention now."""

from __future__ import annotations

import anyio.to_thread
from fastapi import APIRouter, Request
from pydantic import BaseModel

from analytics_hub.api.context import services
from analytics_hub.api.deps import AdminCaller

router = APIRouter(prefix="/api/v1/admin", tags=["administration"])


class RetentionOut(BaseModel):
    deleted: dict[str, int]


@router.post("/retention", response_model=RetentionOut, summary="Apply retention now")
async def apply_retention(request: Request, _: AdminCaller) -> RetentionOut:
    report = await anyio.to_thread.run_sync(services(request).apply_retention)
    return RetentionOut(deleted=report.deleted)


__all__ = ["router"]
