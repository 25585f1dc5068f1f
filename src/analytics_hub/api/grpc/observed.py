"""Counting finished gRPC calls by method and status code (the hub's ``/metrics``).

A server interceptor wraps the hub's two kinds of handler (unary and bidirectional
streaming) and tells an observer how each call ended: ``OK``, the code a servicer
aborted with (``RESOURCE_EXHAUSTED`` under backpressure, ``UNAUTHENTICATED``, ...), or
``CANCELLED`` when the client went away. A method the hub does not serve is counted as
``unknown``, never under the name the client sent, so that clients cannot grow the
metric's label set.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import grpc
import grpc.aio

UNKNOWN_METHOD = "unknown"


class CallObserver(Protocol):
    """Told how each gRPC call ended."""

    def grpc_call(self, method: str, code: str) -> None:
        """One call of ``method`` (``/package.Service/Method``) ended with ``code``."""


def _code(context: grpc.aio.ServicerContext, error: BaseException | None) -> str:
    # A client that went away: the call is cancelled, a stream's generator closed.
    if isinstance(error, asyncio.CancelledError | GeneratorExit) or context.cancelled():
        return str(grpc.StatusCode.CANCELLED.name)
    code = context.code()  # what a servicer aborted with (or set), as a grpc.StatusCode
    if code is not None:
        return str(getattr(code, "name", code))
    # No code set: a normal end is OK; an exception grpc turns into UNKNOWN.
    return str((grpc.StatusCode.OK if error is None else grpc.StatusCode.UNKNOWN).name)


class ObservedCalls(grpc.aio.ServerInterceptor):  # type: ignore[misc]  # grpc is untyped
    """Reports every finished call to ``observer`` (see the module)."""

    def __init__(self, observer: CallObserver) -> None:
        self._observer = observer

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:  # grpc answers UNIMPLEMENTED itself
            self._observer.grpc_call(UNKNOWN_METHOD, grpc.StatusCode.UNIMPLEMENTED.name)
            return handler
        method = str(handler_call_details.method)
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(method, handler.unary_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.stream_stream is not None:
            return grpc.stream_stream_rpc_method_handler(
                self._stream(method, handler.stream_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler  # no other kind is served; passed through uncounted

    def _unary(
        self, method: str, behaviour: Callable[[Any, Any], Awaitable[Any]]
    ) -> Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]:
        async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
            try:
                response = await behaviour(request, context)
            except BaseException as exc:
                self._observer.grpc_call(method, _code(context, exc))
                raise
            self._observer.grpc_call(method, _code(context, None))
            return response

        return call

    def _stream(
        self, method: str, behaviour: Callable[[Any, Any], AsyncIterator[Any]]
    ) -> Callable[[Any, grpc.aio.ServicerContext], AsyncIterator[Any]]:
        async def call(requests: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            try:
                async for response in behaviour(requests, context):
                    yield response
            except BaseException as exc:
                self._observer.grpc_call(method, _code(context, exc))
                raise
            self._observer.grpc_call(method, _code(context, None))

        return call


__all__ = ["UNKNOWN_METHOD", "CallObserver", "ObservedCalls"]
