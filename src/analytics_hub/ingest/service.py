"""Ingestion as a feature: decode, validate and normalise a body, then store it durably.

The API layer hands over raw bytes and the caller's tenant; this module never sees HTTP.
An optional pricer enriches each decoded batch (cost of model calls that carry tokens
but no cost) before it is published, whatever protocol brought it.
Rejected events travel in the same bus message as the accepted ones and reach the
dead-letter store in the same commit, so a 202 means both are durable.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import anyio
import anyio.to_thread
import pyarrow as pa

from analytics_hub.errors import PayloadTooLargeError
from analytics_hub.events import DecodedBatch, EventError, Normalizer
from analytics_hub.ingest.body import BodyFormat
from analytics_hub.ingest.pipeline import Pipeline
from analytics_hub.store.base import DeadLetter


class IngestObserver(Protocol):
    """Receives what was accepted and rejected (the metrics implement this)."""

    def accepted(self, tenant_id: str, table: pa.Table) -> None: ...

    def rejected(self, tenant_id: str, errors: Sequence[EventError]) -> None: ...


class BatchPricer(Protocol):
    """Prices the model calls of a decoded batch (the pricing feature implements it)."""

    def price(self, tenant_id: str, table: pa.Table) -> pa.Table:
        """``table`` (``EVENT_SCHEMA``) with ``cost_usd`` and ``cost_source`` filled in."""
        ...


@dataclass(frozen=True, slots=True)
class IngestResult:
    """The answer to one ingest request."""

    accepted: int
    rejected: int
    errors: list[EventError] = field(default_factory=list)


def dead_letters_of(batch: DecodedBatch, tenant_id: str, received_at: datetime) -> list[DeadLetter]:
    """One dead letter per rejected event of ``batch``, carrying all of its errors."""
    by_index: dict[int, list[dict[str, str]]] = {}
    for err in batch.errors:
        by_index.setdefault(err.index, []).append({"field": err.field, "message": err.message})
    return [
        DeadLetter(
            tenant_id=tenant_id,
            id=str(uuid.uuid4()),
            received_at=received_at,
            index=index,
            errors=by_index.get(index, []),
            raw=raw,
        )
        for index, raw in sorted(batch.rejected_raw.items())
    ]


@dataclasses.dataclass(frozen=True, slots=True)
class Published:
    """A batch handed to the bus: the priced batch and the future of its durability."""

    batch: DecodedBatch
    durable: Future[int] | None
    visible: bool = False


class IngestService:
    """Turns request bodies into durable events."""

    def __init__(
        self,
        normalizer: Normalizer,
        pipeline: Pipeline,
        *,
        max_batch_events: int,
        observer: IngestObserver | None = None,
        pricer: BatchPricer | None = None,
    ) -> None:
        self._normalizer = normalizer
        self._pipeline = pipeline
        self._max_batch = max_batch_events
        self._observer = observer
        self._pricer = pricer
        self._decode_limiter: anyio.CapacityLimiter | None = None  # made in the event loop

    def decode(self, tenant_id: str, body: bytes, fmt: BodyFormat) -> DecodedBatch:
        """Decode and normalise a body (CPU only; no I/O)."""
        received_at = datetime.now(UTC)
        if fmt is BodyFormat.NDJSON:
            batch = self._normalizer.decode_ndjson(
                body, tenant_id=tenant_id, received_at=received_at
            )
        else:
            batch = self._normalizer.decode_json(body, tenant_id=tenant_id, received_at=received_at)
        if batch.total > self._max_batch:
            raise PayloadTooLargeError(
                f"{batch.total} events in one request; at most {self._max_batch} are allowed"
            )
        return batch

    async def ingest(
        self, tenant_id: str, body: bytes, fmt: BodyFormat, *, visible: bool = False
    ) -> IngestResult:
        """Decode, validate, normalise and durably store one request's events.

        With ``visible`` the answer also waits until the events are visible to queries.
        """
        # Decoding is CPU work of a few milliseconds per thousand events: keep it off the
        # event loop so that health checks and queries stay responsive under load, and in
        # one thread at a time: several decoding threads only fight over the GIL and
        # starve the event loop (measured: about half the throughput with seven).
        if visible:
            self._pipeline.check_can_wait_visible()
        self.admit()
        if self._decode_limiter is None:
            self._decode_limiter = anyio.CapacityLimiter(1)
        batch, durable = await anyio.to_thread.run_sync(
            self._decode_and_publish, tenant_id, body, fmt, limiter=self._decode_limiter
        )
        return await self._finish(tenant_id, batch, durable, visible)

    def admit(self) -> None:
        """Refuse a new request now (``BackpressureError``, ``UnavailableError``) if its
        batch would be refused once decoded: call before decoding."""
        self._pipeline.check_admission()

    async def store(
        self, tenant_id: str, batch: DecodedBatch, *, visible: bool = False
    ) -> IngestResult:
        """Store an already decoded batch (pricing and encoding on the event loop: for
        small batches; protocols with a decoding thread use ``publish`` there)."""
        return await self.finish(tenant_id, self.publish(tenant_id, batch, visible=visible))

    def publish(self, tenant_id: str, batch: DecodedBatch, *, visible: bool = False) -> Published:
        """Price and publish an already decoded batch. CPU work: call it from the
        protocol's decoding thread, then await ``finish`` on the event loop."""
        if visible:
            self._pipeline.check_can_wait_visible()
        batch = self._priced(tenant_id, batch)
        return Published(batch, self._publish(tenant_id, batch), visible)

    async def finish(self, tenant_id: str, published: Published) -> IngestResult:
        """Wait until a published batch is durable (and visible, if it asked)."""
        return await self._finish(tenant_id, published.batch, published.durable, published.visible)

    def _decode_and_publish(
        self, tenant_id: str, body: bytes, fmt: BodyFormat
    ) -> tuple[DecodedBatch, Future[int] | None]:
        # Encoding the bus message is CPU work too: done here, in the decoding thread.
        batch = self._priced(tenant_id, self.decode(tenant_id, body, fmt))
        return batch, self._publish(tenant_id, batch)

    def _priced(self, tenant_id: str, batch: DecodedBatch) -> DecodedBatch:
        if self._pricer is None or not batch.table.num_rows:
            return batch
        table = self._pricer.price(tenant_id, batch.table)
        return batch if table is batch.table else dataclasses.replace(batch, table=table)

    def _publish(self, tenant_id: str, batch: DecodedBatch) -> Future[int] | None:
        letters = dead_letters_of(batch, tenant_id, datetime.now(UTC))
        if not batch.table.num_rows and not letters:
            return None
        return self._pipeline.submit(batch.table, letters)

    async def _finish(
        self, tenant_id: str, batch: DecodedBatch, durable: Future[int] | None, visible: bool
    ) -> IngestResult:
        if durable is not None:
            seq = await asyncio.wrap_future(durable)
            if visible:
                await asyncio.wrap_future(self._pipeline.wait_visible(seq))
        if self._observer is not None:
            self._observer.accepted(tenant_id, batch.table)
            if batch.errors:
                self._observer.rejected(tenant_id, batch.errors)
        return IngestResult(
            accepted=int(batch.table.num_rows),
            rejected=batch.total - int(batch.table.num_rows),
            errors=batch.errors,
        )


__all__ = [
    "BatchPricer",
    "IngestObserver",
    "IngestResult",
    "IngestService",
    "Published",
    "dead_letters_of",
]
