"""Dead letters: list rejected events and replay them after a fix."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from analytics_hub.api.context import services
from analytics_hub.api.deps import IngestCaller, ReadCaller

router = APIRouter(prefix="/api/v1/dead-letters", tags=["dead letters"])


class DeadLetterOut(BaseModel):
    id: str
    received_at: datetime
    index: int = Field(description="position of the event in its request")
    errors: list[dict[str, str]]
    raw: str = Field(description="the event as it was sent")
    status: str
    replayed_at: datetime | None


class DeadLetterPage(BaseModel):
    items: list[DeadLetterOut]
    next_before: str | None = Field(description="pass as `before` for the next page")


class ReplayRequest(BaseModel):
    ids: list[str] = Field(min_length=1, max_length=1000)


class ReplayResponse(BaseModel):
    replayed: list[str]
    still_failing: dict[str, list[dict[str, str]]]


@router.get("", response_model=DeadLetterPage, summary="List dead letters, newest first")
async def list_dead_letters(
    request: Request,
    caller: ReadCaller,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: str | None = None,
    status: str | None = None,
) -> DeadLetterPage:
    records = await services(request).dead_letters.list(
        caller.tenant_id, limit=limit, before=before, status=status
    )
    items = [
        DeadLetterOut(
            id=r.id,
            received_at=r.received_at,
            index=r.index,
            errors=r.errors,
            raw=r.raw,
            status=r.status,
            replayed_at=r.replayed_at,
        )
        for r in records
    ]
    return DeadLetterPage(items=items, next_before=items[-1].id if len(items) == limit else None)


@router.post("/replay", response_model=ReplayResponse, summary="Replay dead letters")
async def replay_dead_letters(
    request: Request, caller: IngestCaller, body: ReplayRequest
) -> ReplayResponse:
    outcome = await services(request).dead_letters.replay(caller.tenant_id, body.ids)
    return ReplayResponse(replayed=outcome.replayed, still_failing=outcome.still_failing)


__all__ = ["router"]
