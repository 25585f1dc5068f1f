"""OTLP metrics export requests in, durable metric points out: decode, map, store.

Unlike spans and log records, metric points do not travel the event bus: they are not
events (no envelope, no event id, no rollups of their own), and the store keeps them in
a table of their own. The receiver writes them to the store itself, in a worker thread,
and answers once the write has committed, so an acknowledged point is durable. An
exporter's retry of the same request stores nothing new: the store skips points whose
key it has (``docs/decisions/0016-otlp-metric-points.md``).

Backpressure is a bound on the requests in progress (decoding, mapping or writing):
beyond it a request is refused at once with :class:`~analytics_hub.errors.BackpressureError`
(HTTP 429 with ``Retry-After``, gRPC RESOURCE_EXHAUSTED), before any work is spent on
it, so memory never grows with the load. A store that cannot write answers 503 /
UNAVAILABLE (its ``UnavailableError``), which exporters retry as well.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import anyio
import anyio.to_thread
import structlog

from analytics_hub.errors import BackpressureError
from analytics_hub.events import DEFAULT_LIMITS, Limits
from analytics_hub.ingest.otlp.metric_wire import decode_metrics
from analytics_hub.ingest.otlp.metrics import MappedPoints, TimeWindow, map_metrics
from analytics_hub.ingest.otlp.options import DEFAULT_OPTIONS, OtlpOptions
from analytics_hub.ingest.otlp.receiver import ExportOutcome
from analytics_hub.ingest.otlp.wire import OtlpEncoding
from analytics_hub.store.metric_points import MetricPointStore

log = structlog.get_logger(__name__)

#: requests in progress at once before more are refused (429 / RESOURCE_EXHAUSTED)
DEFAULT_MAX_PENDING = 8


def _now() -> datetime:
    return datetime.now(UTC)


class OtlpMetricsReceiver:
    """Stores the data points of OTLP metrics export requests for a tenant."""

    def __init__(
        self,
        store: MetricPointStore,
        options: OtlpOptions = DEFAULT_OPTIONS,
        *,
        limits: Limits = DEFAULT_LIMITS,
        max_pending: int = DEFAULT_MAX_PENDING,
        retry_after: float = 1.0,
        max_future_skew_seconds: float = 300.0,
        max_age_seconds: float = 90 * 86400.0,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        """``max_future_skew_seconds`` and ``max_age_seconds`` bound the point times
        accepted: no later than that past the clock, no older than retention keeps."""
        if max_pending <= 0:
            raise ValueError("max_pending must be positive")
        self._store = store
        self._options = options
        self._limits = limits
        self._max_pending = max_pending
        self._retry_after = retry_after
        self._skew_us = round(max_future_skew_seconds * 1_000_000)
        self._age_us = round(max_age_seconds * 1_000_000)
        self._clock = clock
        self._pending = 0  # changed on the event loop only
        self._limiter: anyio.CapacityLimiter | None = None  # made in the event loop

    @property
    def options(self) -> OtlpOptions:
        """The mapping options."""
        return self._options

    @property
    def pending(self) -> int:
        """Requests in progress."""
        return self._pending

    async def export_metrics(
        self, tenant_id: str, body: bytes, encoding: OtlpEncoding
    ) -> ExportOutcome:
        """Store the data points of an encoded ``ExportMetricsServiceRequest``; return
        once they are durable."""
        if self._pending >= self._max_pending:
            raise BackpressureError(
                f"{self._pending} metrics requests are being stored; retry shortly",
                retry_after=self._retry_after,
            )
        if self._limiter is None:
            # Decoding and mapping are CPU work: one thread at a time, as for spans
            # (several only fight over the GIL and starve the event loop).
            self._limiter = anyio.CapacityLimiter(1)
        self._pending += 1
        try:
            mapped = await anyio.to_thread.run_sync(
                self._prepare, tenant_id, body, encoding, limiter=self._limiter
            )
            if mapped.points:
                # Not cancellable: a client that goes away still gets its points stored
                # (its retry then finds them), never half a transaction.
                await anyio.to_thread.run_sync(self._store.write_metric_points, mapped.points)
        finally:
            self._pending -= 1
        if mapped.errors:
            log.debug(
                "OTLP metric data points rejected",
                tenant=tenant_id,
                rejected=len(mapped.errors),
                first=mapped.errors[0].message,
            )
        return ExportOutcome(
            items=mapped.items,
            accepted=len(mapped.points),
            rejected=len(mapped.errors),
            dropped=mapped.dropped,
            errors=mapped.errors,
            dead_letters=False,
        )

    def _prepare(self, tenant_id: str, body: bytes, encoding: OtlpEncoding) -> MappedPoints:
        request, rejected = decode_metrics(body, encoding, self._options)
        now_us = int(self._clock().timestamp() * 1_000_000)
        window = TimeWindow(earliest_us=now_us - self._age_us, latest_us=now_us + self._skew_us)
        return map_metrics(
            request, tenant_id, window, self._options, limits=self._limits, rejected=rejected
        )


__all__ = ["DEFAULT_MAX_PENDING", "OtlpMetricsReceiver"]
