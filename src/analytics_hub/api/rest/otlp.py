"""OTLP/HTTP: ``POST /v1/traces``, ``/v1/logs`` and ``/v1/metrics``, protobuf or JSON,
gzip or zstd.

The answer is an ``Export*ServiceResponse`` in the request's encoding, 200 even when some
items were rejected (``partial_success``), as the OTLP specification asks. Errors are
answered as OTLP exporters expect: a ``google.rpc.Status`` in the request's encoding (in
JSON it also carries the hub's error envelope under ``error``), with ``Retry-After`` on
429 and 503. Spans and log records become events; metric data points become metric
points (``analytics_hub.ingest.otlp.metric_receiver``).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import msgspec
import structlog
from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from google.rpc import status_pb2

from analytics_hub.api.context import services
from analytics_hub.api.deps import IngestCaller
from analytics_hub.api.errors import error_body
from analytics_hub.api.rest.ingest import read_limited
from analytics_hub.errors import BackpressureError, HubError, UnavailableError
from analytics_hub.ingest.body import decompress
from analytics_hub.ingest.otlp import (
    ExportOutcome,
    OtlpEncoding,
    OtlpReceiver,
    SignalName,
    export_response,
    otlp_encoding,
)

log = structlog.get_logger(__name__)

# google.rpc.Code of each HTTP status the hub answers with
_GRPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 413: 8, 415: 3, 429: 8, 503: 14}
_INTERNAL = 13


def status_message(code: int, message: str) -> bytes:
    """A protobuf ``google.rpc.Status`` with ``code`` and ``message`` (no details)."""
    encoded: bytes = status_pb2.Status(code=code, message=message).SerializeToString()
    return encoded


def otlp_error_response(exc: HubError, content_type: str | None) -> Response:
    """The OTLP answer to an expected error, in the request's encoding (JSON if unknown)."""
    headers: dict[str, str] = {}
    if isinstance(exc, BackpressureError | UnavailableError):
        headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    if exc.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    code = _GRPC_CODES.get(exc.status, _INTERNAL)
    try:
        encoding = otlp_encoding(content_type)
    except HubError:
        encoding = OtlpEncoding.JSON
    if encoding is OtlpEncoding.PROTOBUF:
        body = status_message(code, exc.message)
    else:
        status = {"code": code, "message": exc.message, "details": []}
        body = msgspec.json.encode({**status, **error_body(exc.code, exc.message, exc.details)})
    return Response(body, status_code=exc.status, media_type=encoding.media_type, headers=headers)


class OtlpRoute(APIRoute):
    """A route whose expected errors are answered the OTLP way, including those raised
    while resolving its dependencies (a missing or wrong API key)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def otlp_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except HubError as exc:
                if exc.status >= 500 and not isinstance(exc, UnavailableError):
                    log.error("internal error", error=exc.message, exc_info=exc)
                return otlp_error_response(exc, request.headers.get("content-type"))

        return otlp_handler


router = APIRouter(tags=["otlp"], route_class=OtlpRoute)


def receiver(request: Request) -> OtlpReceiver:
    """The app's OTLP receiver (built by the assembly from settings)."""
    return services(request).otlp


async def _body(request: Request) -> tuple[bytes, OtlpEncoding]:
    encoding = otlp_encoding(request.headers.get("content-type"))
    limit = services(request).max_body_bytes
    raw = await read_limited(request, limit)
    return decompress(raw, request.headers.get("content-encoding"), max_bytes=limit), encoding


def _answer(
    outcome: ExportOutcome, signal: SignalName, noun: str, encoding: OtlpEncoding
) -> Response:
    body = export_response(signal, outcome.rejected, outcome.error_message(noun), encoding)
    return Response(body, status_code=200, media_type=encoding.media_type)


def _openapi(request_message: str, response_message: str, what: str) -> dict[str, Any]:
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {
        "requestBody": {
            "required": True,
            "description": f"An OTLP `{request_message}` ({what}); gzip, deflate or zstd "
            "with `Content-Encoding`.",
            "content": {
                "application/x-protobuf": binary,
                "application/json": {"schema": {"type": "object"}},
            },
        },
        "responses": {
            "200": {
                "description": f"Stored, possibly partially: an OTLP `{response_message}`, "
                "encoded as the request was; `partial_success` counts the rejected items and "
                "says why.",
                "content": {
                    "application/x-protobuf": binary,
                    "application/json": {"schema": {"type": "object"}},
                },
            },
        },
    }


_DESCRIPTION = (
    "OTLP/HTTP, for OpenTelemetry exporters (point `OTEL_EXPORTER_OTLP_ENDPOINT` at the "
    "hub). `application/x-protobuf` or OTLP/JSON `application/json`; the answer uses the "
    "request's encoding. Authenticate with `Authorization: Bearer <key>` or `x-api-key` "
    "(role `ingest`). 413 beyond `HUB_MAX_BODY_BYTES` after decompression, 429/503 with "
    "`Retry-After` when the hub is overloaded. See docs/api/otlp.md for the mapping."
)


@router.post(
    "/v1/traces",
    summary="Ingest OTLP traces",
    description=_DESCRIPTION,
    response_class=Response,
    openapi_extra=_openapi("ExportTraceServiceRequest", "ExportTraceServiceResponse", "spans"),
)
async def export_traces(request: Request, caller: IngestCaller) -> Response:
    body, encoding = await _body(request)
    outcome = await receiver(request).export_traces(caller.tenant_id, body, encoding)
    return _answer(outcome, "traces", "spans", encoding)


@router.post(
    "/v1/logs",
    summary="Ingest OTLP logs",
    description=_DESCRIPTION,
    response_class=Response,
    openapi_extra=_openapi("ExportLogsServiceRequest", "ExportLogsServiceResponse", "log records"),
)
async def export_logs(request: Request, caller: IngestCaller) -> Response:
    body, encoding = await _body(request)
    outcome = await receiver(request).export_logs(caller.tenant_id, body, encoding)
    return _answer(outcome, "logs", "log records", encoding)


@router.post(
    "/v1/metrics",
    summary="Ingest OTLP metrics",
    description=_DESCRIPTION,
    response_class=Response,
    openapi_extra=_openapi(
        "ExportMetricsServiceRequest", "ExportMetricsServiceResponse", "metric data points"
    ),
)
async def export_metrics(request: Request, caller: IngestCaller) -> Response:
    body, encoding = await _body(request)
    outcome = await services(request).otlp_metrics.export_metrics(caller.tenant_id, body, encoding)
    return _answer(outcome, "metrics", "data points", encoding)


__all__ = ["OtlpRoute", "otlp_error_response", "receiver", "router", "status_message"]
