"""``POST /api/v1/events``: one event, a JSON array, or NDJSON; gzip or zstd."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from fastapi import APIRouter, Query, Request, Response

from analytics_hub.api.context import services
from analytics_hub.api.deps import IngestCaller
from analytics_hub.errors import PayloadTooLargeError
from analytics_hub.ingest.body import body_format, decompress

router = APIRouter(prefix="/api/v1", tags=["ingest"])

_encoder = msgspec.json.Encoder()

INGEST_RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["accepted", "rejected", "errors"],
    "properties": {
        "accepted": {"type": "integer", "description": "events accepted (durable)"},
        "rejected": {"type": "integer", "description": "events refused"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["index", "field", "message"],
                "properties": {
                    "index": {"type": "integer"},
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}


async def read_limited(request: Request, limit: int) -> bytes:
    """The raw (still compressed) body, refusing more than ``limit`` bytes early."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"body of {declared} bytes is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/events",
    status_code=202,
    summary="Ingest events",
    description=(
        "Send one event, a JSON array of events, or NDJSON (`application/x-ndjson`). "
        "The body may be gzip or zstd compressed (`Content-Encoding`). Valid events of a "
        "mixed batch are stored; each rejected event is reported with its index, field and "
        "reason and kept in the dead-letter store. The 202 is sent only once the accepted "
        "events are durable; they are visible to queries within a second (normally tens "
        "of milliseconds), or before the answer with `?wait=visible`. 429/503 with "
        "`Retry-After` when the hub is overloaded."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            {"$ref": "#/components/schemas/Envelope"},
                            {"type": "array", "items": {"$ref": "#/components/schemas/Envelope"}},
                        ]
                    }
                },
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        },
        "responses": {
            "202": {
                "description": "Stored (possibly partially)",
                "content": {"application/json": {"schema": INGEST_RESPONSE_SCHEMA}},
            }
        },
    },
)
async def ingest_events(
    request: Request,
    caller: IngestCaller,
    wait: Annotated[
        Literal["durable", "visible"],
        Query(
            description=(
                "`durable` (default): answer once the events cannot be lost. `visible`: "
                "answer once queries see them (read-your-writes; slower under load)."
            )
        ),
    ] = "durable",
) -> Response:
    svc = services(request)
    fmt = body_format(request.headers.get("content-type"))
    raw = await read_limited(request, svc.max_body_bytes)
    body = decompress(raw, request.headers.get("content-encoding"), max_bytes=svc.max_body_bytes)
    result = await svc.ingest.ingest(caller.tenant_id, body, fmt, visible=wait == "visible")
    payload = {
        "accepted": result.accepted,
        "rejected": result.rejected,
        "errors": [
            {"index": e.index, "field": e.field, "message": e.message} for e in result.errors
        ],
    }
    return Response(_encoder.encode(payload), status_code=202, media_type="application/json")


__all__ = ["read_limited", "router"]
