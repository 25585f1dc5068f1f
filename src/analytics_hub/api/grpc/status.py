"""Errors as gRPC statuses: the one place where a ``HubError`` becomes a status code.

An expected error (``HubError``) keeps its message. Anything else is a bug: it is logged
with its traceback and answered INTERNAL with a masked message, as the HTTP API does.

Retry advice goes where clients look for it. RESOURCE_EXHAUSTED (backpressure) and
UNAVAILABLE carry, in the trailing metadata, a ``google.rpc.RetryInfo`` under
``google.rpc.retryinfo-bin`` (which the OpenTelemetry Python exporter reads) and a
``google.rpc.Status`` with the same RetryInfo under ``grpc-status-details-bin`` (gRPC's
rich error model, read by the OpenTelemetry Collector and Go exporters). Both are
encoded with the google.rpc messages of googleapis-common-protos.

A request larger than the hub accepts is INVALID_ARGUMENT, not RESOURCE_EXHAUSTED:
exporters retry RESOURCE_EXHAUSTED, and the same request would only fail again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn, Protocol

import grpc
import grpc.aio
import structlog
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2

from analytics_hub.errors import BackpressureError, HubError, UnavailableError

log = structlog.get_logger(__name__)

Metadata = Sequence[tuple[str, str | bytes]]

_CODES: dict[int, grpc.StatusCode] = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    409: grpc.StatusCode.ALREADY_EXISTS,
    413: grpc.StatusCode.INVALID_ARGUMENT,
    415: grpc.StatusCode.INVALID_ARGUMENT,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
    503: grpc.StatusCode.UNAVAILABLE,
}
_MASKED = "internal error; the hub logged the details"
RETRY_INFO_KEY = "google.rpc.retryinfo-bin"
STATUS_DETAILS_KEY = "grpc-status-details-bin"
_RETRY_INFO_TYPE = "type.googleapis.com/google.rpc.RetryInfo"


class CallContext(Protocol):
    """What the servicers use of ``grpc.aio.ServicerContext`` (a fake in unit tests)."""

    def invocation_metadata(self) -> Metadata | None: ...

    async def abort(
        self, code: grpc.StatusCode, details: str = "", trailing_metadata: Metadata = ()
    ) -> NoReturn: ...


@dataclass(frozen=True, slots=True)
class Failure:
    """How a call ends: status code, message and trailing metadata."""

    code: grpc.StatusCode
    message: str
    trailing_metadata: tuple[tuple[str, bytes], ...] = ()


def failure_of(exc: BaseException, prefix: str = "") -> Failure:
    """The status that answers ``exc``; ``prefix`` goes before the message (which batch)."""
    if not isinstance(exc, HubError):
        log.error("unhandled error in a gRPC call", error=repr(exc), exc_info=exc)
        return Failure(grpc.StatusCode.INTERNAL, _MASKED)
    code = _CODES.get(exc.status, grpc.StatusCode.INTERNAL)
    if code is grpc.StatusCode.INTERNAL:
        log.error("internal error in a gRPC call", error=exc.message, exc_info=exc)
        return Failure(code, _MASKED)
    message = prefix + exc.message
    if isinstance(exc, BackpressureError | UnavailableError):
        info = retry_info(exc.retry_after)
        details = status_details(code.value[0], message, info)
        return Failure(code, message, ((RETRY_INFO_KEY, info), (STATUS_DETAILS_KEY, details)))
    return Failure(code, message)


async def abort(context: CallContext, exc: BaseException, prefix: str = "") -> NoReturn:
    """End the call with the status of ``exc`` (raises, as ``context.abort`` does)."""
    failure = failure_of(exc, prefix)
    await context.abort(failure.code, failure.message, failure.trailing_metadata)


def is_abort(exc: BaseException) -> bool:
    """Whether ``exc`` is gRPC's own signal that the call was already aborted."""
    return isinstance(exc, grpc.aio.AbortError)


def retry_info(seconds: float) -> bytes:
    """A ``google.rpc.RetryInfo`` whose ``retry_delay`` is ``seconds`` (at least 0)."""
    delay = duration_pb2.Duration()
    delay.FromNanoseconds(max(0, round(seconds * 1_000_000_000)))
    encoded: bytes = error_details_pb2.RetryInfo(retry_delay=delay).SerializeToString()
    return encoded


def status_details(code: int, message: str, retry: bytes) -> bytes:
    """A ``google.rpc.Status`` with ``code``, ``message`` and one RetryInfo detail."""
    detail = any_pb2.Any(type_url=_RETRY_INFO_TYPE, value=retry)
    status = status_pb2.Status(code=code, message=message, details=[detail])
    encoded: bytes = status.SerializeToString()
    return encoded


__all__ = [
    "RETRY_INFO_KEY",
    "STATUS_DETAILS_KEY",
    "CallContext",
    "Failure",
    "Metadata",
    "abort",
    "failure_of",
    "is_abort",
    "retry_info",
    "status_details",
]
