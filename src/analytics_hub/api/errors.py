"""The one error envelope: ``{"error": {"code", "message", "details"}}``.

Expected errors (``HubError``) carry their own status and code. Request-shape errors found
by FastAPI become ``invalid_request`` with the offending locations. Anything else is a bug:
logged with its traceback, answered as a masked 500.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from analytics_hub.errors import BackpressureError, HubError, UnavailableError

log = structlog.get_logger(__name__)

_HTTP_CODES = {
    400: "invalid_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The JSON body of every error response."""
    return {"error": {"code": code, "message": message, "details": details}}


def hub_error_response(exc: HubError) -> JSONResponse:
    """Map a ``HubError`` to its response (with ``Retry-After`` when it has one)."""
    headers: dict[str, str] = {}
    if isinstance(exc, BackpressureError | UnavailableError):
        headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    if exc.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(
        error_body(exc.code, exc.message, exc.details), status_code=exc.status, headers=headers
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that make every error use the envelope."""

    async def on_hub_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HubError)
        if exc.status >= 500 and not isinstance(exc, UnavailableError):
            log.error("internal error", error=exc.message, exc_info=exc)
        return hub_error_response(exc)

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        details = [
            {
                "field": ".".join(str(p) for p in err.get("loc", ()) if p != "body"),
                "message": str(err.get("msg", "")),
            }
            for err in exc.errors()
        ]
        first = details[0] if details else {"field": "", "message": "invalid request"}
        message = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
        return JSONResponse(error_body("invalid_request", message, details), status_code=400)

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, "error")
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    async def on_bug(_: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", error=repr(exc), exc_info=exc)
        return JSONResponse(
            error_body("internal_error", "internal error; the hub logged the details"),
            status_code=500,
        )

    app.add_exception_handler(HubError, on_hub_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_bug)


__all__ = ["error_body", "hub_error_response", "install_error_handlers"]
