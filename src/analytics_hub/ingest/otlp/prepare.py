"""One OTLP request from its bytes to a normalised batch: decode, map, normalise.

:func:`prepare` runs in the receiver's decoding thread or in a preparing process
(:mod:`.processes`, which sends the result back); either way the receiver gets a
:class:`Prepared`, so the rest of the path does not know where the work ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from analytics_hub.events import EVENT_SCHEMA, DecodedBatch, EventError, Normalizer
from analytics_hub.ingest.otlp.logs import map_logs
from analytics_hub.ingest.otlp.mapped import Mapped
from analytics_hub.ingest.otlp.options import OtlpOptions
from analytics_hub.ingest.otlp.spans import map_traces
from analytics_hub.ingest.otlp.wire import OtlpEncoding, decode_logs, decode_traces

Signal = Literal["traces", "logs"]


@dataclass(frozen=True, slots=True)
class Prepared:
    """A request's items (spans or log records), those dropped on purpose (trace-context
    spans, when the options drop them), and the normalised batch: accepted rows, and
    every error indexed by the item of the request."""

    items: int
    dropped: int
    batch: DecodedBatch


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


def prepare(
    signal: Signal,
    normalizer: Normalizer,
    options: OtlpOptions,
    tenant_id: str,
    body: bytes,
    encoding: OtlpEncoding,
) -> Prepared:
    """The spans (``traces``) or log records (``logs``) of an encoded export request,
    normalised for ``tenant_id``."""
    if signal == "traces":
        request, rejected = decode_traces(body, encoding, options)
        # A protobuf body is what the request was parsed from: the mapping's fast path
        # parses it again (a JSON body's request is serialised for that).
        wire = body if encoding is OtlpEncoding.PROTOBUF else None
        mapped = map_traces(
            request, options, limits=normalizer.limits, rejected=rejected, wire=wire
        )
    else:
        logs, rejected = decode_logs(body, encoding, options)
        mapped = map_logs(logs, options, limits=normalizer.limits, rejected=rejected)
    return _normalized(normalizer, tenant_id, mapped)


def _normalized(normalizer: Normalizer, tenant_id: str, mapped: Mapped) -> Prepared:
    if mapped.envelopes:
        normalized = normalizer.normalize(
            mapped.envelopes, tenant_id=tenant_id, received_at=datetime.now(UTC)
        )
    else:
        normalized = DecodedBatch(EVENT_SCHEMA.empty_table(), [], {}, 0)
    return Prepared(mapped.items, mapped.dropped, merge(mapped, normalized))


__all__ = ["Prepared", "Signal", "merge", "prepare"]
