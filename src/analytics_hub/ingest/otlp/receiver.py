"""OTLP export requests in, durable events out: decode, map, normalise, store.

The HTTP adapter and the OTLP/gRPC servicers hand over the raw request bytes and their
encoding (gRPC's are protobuf), so both meet the same limits and errors. Decoding and
mapping are CPU work and run in a worker thread, one request at a time (see
``IngestService.ingest`` for why one). Every span or log record that cannot be mapped
or fails validation is a per-item error and a dead letter; the others are stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import anyio
import anyio.to_thread

from analytics_hub.events import EVENT_SCHEMA, DecodedBatch, EventError, Normalizer
from analytics_hub.ingest.otlp.logs import map_logs
from analytics_hub.ingest.otlp.mapped import Mapped
from analytics_hub.ingest.otlp.options import DEFAULT_OPTIONS, OtlpOptions
from analytics_hub.ingest.otlp.spans import map_traces
from analytics_hub.ingest.otlp.wire import OtlpEncoding, decode_logs, decode_traces
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


def merge(mapped: Mapped, normalized: DecodedBatch) -> DecodedBatch:
    """One batch of the mapping's rejections and the normaliser's outcome, every error
    and dead letter indexed by the item (span or log record) of the request."""
    at = mapped.positions
    errors = mapped.errors + [
        EventError(at[e.index], e.field, e.message) for e in normalized.errors
    ]
    errors.sort(key=lambda e: e.index)
    raw = dict(mapped.rejected_raw)
    raw.update((at[i], text) for i, text in normalized.rejected_raw.items())
    return DecodedBatch(
        table=normalized.table,
        errors=errors,
        rejected_raw=raw,
        total=normalized.total + len(mapped.errors),
    )


class OtlpReceiver:
    """Stores OTLP traces and logs for a tenant through the ingest service."""

    def __init__(
        self,
        ingest: IngestService,
        normalizer: Normalizer,
        options: OtlpOptions = DEFAULT_OPTIONS,
    ) -> None:
        self._ingest = ingest
        self._normalizer = normalizer
        self._options = options
        self._limiter: anyio.CapacityLimiter | None = None  # made in the event loop

    @property
    def options(self) -> OtlpOptions:
        """The mapping options."""
        return self._options

    async def export_traces(
        self, tenant_id: str, body: bytes, encoding: OtlpEncoding
    ) -> ExportOutcome:
        """Store the spans of an encoded ``ExportTraceServiceRequest``."""

        def prepare() -> tuple[Mapped, DecodedBatch]:
            request, rejected = decode_traces(body, encoding, self._options)
            # A protobuf body is what the request was parsed from: the mapping's fast
            # path parses it again (a JSON body's request is serialised for that).
            wire = body if encoding is OtlpEncoding.PROTOBUF else None
            mapped = map_traces(
                request,
                self._options,
                limits=self._normalizer.limits,
                rejected=rejected,
                wire=wire,
            )
            return self._normalize(tenant_id, mapped)

        return await self._store(tenant_id, prepare)

    async def export_logs(
        self, tenant_id: str, body: bytes, encoding: OtlpEncoding
    ) -> ExportOutcome:
        """Store the log records of an encoded ``ExportLogsServiceRequest``."""

        def prepare() -> tuple[Mapped, DecodedBatch]:
            request, rejected = decode_logs(body, encoding, self._options)
            limits = self._normalizer.limits
            return self._normalize(
                tenant_id, map_logs(request, self._options, limits=limits, rejected=rejected)
            )

        return await self._store(tenant_id, prepare)

    def _normalize(self, tenant_id: str, mapped: Mapped) -> tuple[Mapped, DecodedBatch]:
        if mapped.envelopes:
            normalized = self._normalizer.normalize(
                mapped.envelopes, tenant_id=tenant_id, received_at=datetime.now(UTC)
            )
        else:
            normalized = DecodedBatch(EVENT_SCHEMA.empty_table(), [], {}, 0)
        return mapped, merge(mapped, normalized)

    async def _store(
        self, tenant_id: str, prepare: Callable[[], tuple[Mapped, DecodedBatch]]
    ) -> ExportOutcome:
        self._ingest.admit()  # a request that would be refused is not decoded
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(1)

        def prepare_and_publish() -> tuple[Mapped, Published]:
            # Pricing and encoding the bus message are CPU work too: in this thread.
            mapped, batch = prepare()
            return mapped, self._ingest.publish(tenant_id, batch)

        mapped, published = await anyio.to_thread.run_sync(
            prepare_and_publish, limiter=self._limiter
        )
        result = await self._ingest.finish(tenant_id, published)
        return ExportOutcome(
            items=mapped.items,
            accepted=result.accepted,
            rejected=result.rejected,
            dropped=mapped.dropped,
            errors=result.errors,
        )


__all__ = ["ExportOutcome", "OtlpReceiver", "merge"]
