"""The native ``analytics_hub.v1.IngestService``: ``PublishBatch`` and ``StreamEvents``.

An ack is sent once its batch is durable (the ingest service waits for that), and says
what was accepted and rejected, with per-event errors indexed by position in the batch.

A stream reads ahead: up to ``window`` batches are decoded and published while the
earliest waits to be durable, so that a stream is not one fsync round trip per batch.
Acks still leave in the order the batches came. The first batch that fails (not an
``EventBatch``, backpressure, shutdown) ends the stream with its status after the acks of
the batches before it; batches read ahead of it may have been stored, which is why a
client resends every batch without an ack and gives its events an ``event_id`` (stored
events are idempotent on it).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import grpc

from analytics_hub.api.grpc.calls import StreamFailure, parse, stream, unary
from analytics_hub.api.grpc.credentials import KeyVerifier, caller
from analytics_hub.api.grpc.status import CallContext
from analytics_hub.api.grpc.v1 import ingest_pb2
from analytics_hub.auth.keys import Role
from analytics_hub.ingest.service import IngestResult

INGEST_SERVICE = str(ingest_pb2.DESCRIPTOR.services_by_name["IngestService"].full_name)
DEFAULT_WINDOW = 4


class BatchStore(Protocol):
    """Stores the events of one batch: ``FramedReceiver`` (a fake in unit tests)."""

    async def ingest(
        self, tenant_id: str, events: Sequence[bytes], *, visible: bool = False
    ) -> IngestResult: ...


def ack_of(batch_id: str, result: IngestResult) -> ingest_pb2.BatchAck:
    """The ``BatchAck`` of a stored batch."""
    return ingest_pb2.BatchAck(
        batch_id=batch_id,
        accepted=result.accepted,
        rejected=result.rejected,
        errors=[
            ingest_pb2.EventError(index=e.index, field=e.field, message=e.message)
            for e in result.errors
        ],
    )


@dataclass(slots=True)
class _Pending:
    """A batch read from the stream: its position, id and the task storing it."""

    position: int
    batch_id: str
    ack: asyncio.Future[ingest_pb2.BatchAck]

    @property
    def prefix(self) -> str:
        named = f" ({self.batch_id!r})" if self.batch_id else ""
        return f"batch #{self.position}{named} of the stream: "


def _retrieved(future: asyncio.Future[ingest_pb2.BatchAck]) -> None:
    # A batch read ahead of a failure is never awaited: mark its outcome as seen so that
    # asyncio does not log "exception was never retrieved".
    if not future.cancelled():
        future.exception()


class IngestServicer:
    """The native ingest service, storing through a ``BatchStore``."""

    def __init__(
        self, keys: KeyVerifier, batches: BatchStore, *, window: int = DEFAULT_WINDOW
    ) -> None:
        if window < 1:
            raise ValueError(f"window must be at least 1, got {window}")
        self._keys = keys
        self._batches = batches
        self._window = window

    async def publish_batch(self, raw: bytes, context: CallContext) -> ingest_pb2.BatchAck:
        """``PublishBatch``: store one batch, ack once durable."""
        tenant = caller(self._keys, context.invocation_metadata(), Role.INGEST).tenant_id
        batch = parse(ingest_pb2.EventBatch, raw, "the request")
        return await self._ack(tenant, batch)

    async def stream_events(
        self, requests: AsyncIterator[bytes], context: CallContext
    ) -> AsyncIterator[ingest_pb2.BatchAck]:
        """``StreamEvents``: one ack per batch, in order, each once its batch is durable."""
        tenant = caller(self._keys, context.invocation_metadata(), Role.INGEST).tenant_id
        window: asyncio.Queue[_Pending | None] = asyncio.Queue(self._window)
        reader = asyncio.create_task(self._read(tenant, requests, window))
        try:
            while (pending := await window.get()) is not None:
                try:
                    ack = await pending.ack
                except Exception as exc:
                    raise StreamFailure(exc, pending.prefix) from exc
                yield ack
            await reader  # surfaces an error of the reader itself (a bug)
        finally:
            reader.cancel()
            while not window.empty():
                left = window.get_nowait()
                if left is not None:
                    left.ack.cancel()

    async def _read(
        self, tenant: str, requests: AsyncIterator[bytes], window: asyncio.Queue[_Pending | None]
    ) -> None:
        """Read batches into ``window`` (blocking while it is full: flow control reaches
        the client), each already being stored; None after the last, or after the first
        that cannot be parsed."""
        position = 0
        try:
            async for raw in requests:
                batch = parse(ingest_pb2.EventBatch, raw, "the message")
                task = asyncio.ensure_future(self._ack(tenant, batch))
                task.add_done_callback(_retrieved)
                await window.put(_Pending(position, batch.batch_id, task))
                position += 1
        except Exception as exc:  # not an EventBatch, or the stream broke: fail in turn
            failed: asyncio.Future[ingest_pb2.BatchAck] = asyncio.Future()
            failed.set_exception(exc)
            failed.add_done_callback(_retrieved)
            await window.put(_Pending(position, "", failed))
        await window.put(None)

    async def _ack(self, tenant: str, batch: ingest_pb2.EventBatch) -> ingest_pb2.BatchAck:
        result = await self._batches.ingest(tenant, list(batch.events), visible=batch.wait_visible)
        return ack_of(batch.batch_id, result)

    def handler(self) -> grpc.GenericRpcHandler:
        """The generic handler of the service, for ``server.add_generic_rpc_handlers``."""
        return grpc.method_handlers_generic_handler(
            INGEST_SERVICE,
            {
                "PublishBatch": unary(self.publish_batch),
                "StreamEvents": stream(self.stream_events),
            },
        )


__all__ = ["DEFAULT_WINDOW", "INGEST_SERVICE", "BatchStore", "IngestServicer", "ack_of"]
