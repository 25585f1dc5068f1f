"""OTLP export requests in, durable events out: decode, map, normalise, store.

The HTTP adapter and the OTLP/gRPC servicers hand over the raw request bytes and their
encoding (gRPC's are protobuf), so both meet the same limits and errors. Decoding and
mapping are CPU work and run in a worker thread, one request at a time (see
``IngestService.ingest`` for why one). Every span or log record that cannot be mapped
or fails validation is a per-item error and a dead letter; the others are stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import anyio
import anyio.to_thread

from analytics_hub.events import EventError, Normalizer
from analytics_hub.ingest.otlp.options import DEFAULT_OPTIONS, OtlpOptions
from analytics_hub.ingest.otlp.prepare import Prepared, Signal, merge, prepare
from analytics_hub.ingest.otlp.processes import PreparingProcesses
from analytics_hub.ingest.otlp.wire import OtlpEncoding
from analytics_hub.ingest.service import IngestService, Published

_SHOWN_ERRORS = 5
_MAX_MESSAGE = 2000


@dataclass(frozen=True, slots=True)
class ExportOutcome:
    """The answer to one export request: items stored, rejected (with their errors) and
    dropped on purpose (trace-context spans, when the options drop them).
    ``dead_letters`` says whether the rejected items were kept as dead letters (metric
    data points are not: they are not events, and cannot be replayed as events)."""

    items: int
    accepted: int
    rejected: int
    dropped: int
    errors: list[EventError] = field(default_factory=list)
    dead_letters: bool = True

    def error_message(self, noun: str) -> str:
        """The OTLP ``partial_success.error_message``: empty when nothing was rejected."""
        if not self.rejected:
            return ""
        shown = [
            f"#{e.index} {e.field}: {e.message}" if e.field else f"#{e.index}: {e.message}"
            for e in self.errors[:_SHOWN_ERRORS]
        ]
        more = len(self.errors) - len(shown)
        where = " (listed under /api/v1/dead-letters)" if self.dead_letters else ""
        text = (
            f"{self.rejected} of {self.items} {noun} rejected{where}: "
            + "; ".join(shown)
            + (f"; and {more} more" if more else "")
        )
        return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


class OtlpReceiver:
    """Stores OTLP traces and logs for a tenant through the ingest service."""

    def __init__(
        self,
        ingest: IngestService,
        normalizer: Normalizer,
        options: OtlpOptions = DEFAULT_OPTIONS,
        processes: PreparingProcesses | None = None,
    ) -> None:
        self._ingest = ingest
        self._normalizer = normalizer
        self._options = options
        self._processes = processes
        self._limiter: anyio.CapacityLimiter | None = None  # made in the event loop

    @property
    def options(self) -> OtlpOptions:
        """The mapping options."""
        return self._options

    async def export_traces(
        self, tenant_id: str, body: bytes, encoding: OtlpEncoding
    ) -> ExportOutcome:
        """Store the spans of an encoded ``ExportTraceServiceRequest``."""
        return await self._store("traces", tenant_id, body, encoding)

    async def export_logs(
        self, tenant_id: str, body: bytes, encoding: OtlpEncoding
    ) -> ExportOutcome:
        """Store the log records of an encoded ``ExportLogsServiceRequest``."""
        return await self._store("logs", tenant_id, body, encoding)

    async def _store(
        self, signal: Signal, tenant_id: str, body: bytes, encoding: OtlpEncoding
    ) -> ExportOutcome:
        self._ingest.admit()  # a request that would be refused is not decoded
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(1)
        if self._processes is not None:
            prepared = await self._processes.prepare(signal, tenant_id, body, encoding)
            publish = partial(self._ingest.publish, tenant_id, prepared.batch)
            # Pricing and encoding the bus message: in the decoding thread.
            published = await anyio.to_thread.run_sync(publish, limiter=self._limiter)
        else:

            def prepare_and_publish() -> tuple[Prepared, Published]:
                done = prepare(signal, self._normalizer, self._options, tenant_id, body, encoding)
                return done, self._ingest.publish(tenant_id, done.batch)

            prepared, published = await anyio.to_thread.run_sync(
                prepare_and_publish, limiter=self._limiter
            )
        result = await self._ingest.finish(tenant_id, published)
        return ExportOutcome(
            items=prepared.items,
            accepted=result.accepted,
            rejected=result.rejected,
            dropped=prepared.dropped,
            errors=result.errors,
        )


__all__ = ["ExportOutcome", "OtlpReceiver", "merge"]
