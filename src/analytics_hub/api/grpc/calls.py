"""Method handlers that take the raw request bytes and answer failures with a status.

The handlers are registered with no request deserializer, so the servicers get the
request's bytes and parse them themselves: with grpc's own deserialization a truncated
or garbage message is answered UNKNOWN ("Unexpected <class DecodeError>"), where the hub
answers INVALID_ARGUMENT with the parser's reason. Every exception a servicer
raises is turned into its status by :func:`~analytics_hub.api.grpc.status.abort`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from google.protobuf.message import DecodeError as ProtobufDecodeError

from analytics_hub.api.grpc.status import CallContext, abort, is_abort
from analytics_hub.errors import DecodeError


def parse(message_type: Any, raw: bytes, what: str) -> Any:
    """``raw`` parsed as ``message_type``, or ``DecodeError`` (INVALID_ARGUMENT)."""
    try:
        return message_type.FromString(raw)
    except (ProtobufDecodeError, RecursionError, ValueError) as exc:
        name = message_type.DESCRIPTOR.full_name
        raise DecodeError(f"{what} is not a valid {name} protobuf message: {exc}") from None


def _serialize(message: Any) -> bytes:
    return bytes(message.SerializeToString())


def unary(
    handle: Callable[[bytes, CallContext], Awaitable[Any]],
) -> grpc.RpcMethodHandler:
    """A unary-unary handler around ``handle(raw request, context) -> response``."""

    async def call(raw: bytes, context: CallContext) -> Any:
        try:
            return await handle(raw, context)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if is_abort(exc):
                raise
            await abort(context, exc)

    return grpc.unary_unary_rpc_method_handler(call, response_serializer=_serialize)


def stream(
    handle: Callable[[AsyncIterator[bytes], CallContext], AsyncIterator[Any]],
) -> grpc.RpcMethodHandler:
    """A stream-stream handler around the async generator ``handle(requests, context)``.

    The generator raises ``StreamFailure`` to end the stream with the status of the
    error it carries, its message prefixed (to name the batch that failed).
    """

    async def call(requests: AsyncIterator[bytes], context: CallContext) -> AsyncIterator[Any]:
        try:
            async for response in handle(requests, context):
                yield response
        except asyncio.CancelledError:
            raise
        except StreamFailure as failure:
            await abort(context, failure.error, failure.prefix)
        except Exception as exc:
            if is_abort(exc):
                raise
            await abort(context, exc)

    return grpc.stream_stream_rpc_method_handler(call, response_serializer=_serialize)


class StreamFailure(Exception):
    """Ends a stream with the status of ``error``, its message after ``prefix``."""

    def __init__(self, error: BaseException, prefix: str) -> None:
        super().__init__(prefix + str(error))
        self.error = error
        self.prefix = prefix


__all__ = ["StreamFailure", "parse", "stream", "unary"]
