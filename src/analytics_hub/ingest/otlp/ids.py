"""Trace context of OTLP items: id checks and the event ids derived from them.

A span's ``event_id`` is derived from its trace and span ids, so that an exporter's
retry of a batch (OTLP exporters retry on 429/503 and on timeouts) is not counted twice,
and so that a child span's ``parent_event_id`` can name its parent's event without the
parent being in the same request. Derived ids are RFC 9562 version 8 UUIDs (the
"custom" version): 122 bits of a BLAKE2b digest of the inputs.
"""

from __future__ import annotations

import hashlib

from analytics_hub.ingest.otlp.attributes import ItemProblem

TRACE_ID_BYTES = 16
SPAN_ID_BYTES = 8


def derived_uuid(kind: bytes, *parts: bytes) -> str:
    """A version 8 UUID from a digest of ``kind`` and ``parts`` (length-prefixed)."""
    h = hashlib.blake2b(kind, digest_size=16)
    for part in parts:
        h.update(len(part).to_bytes(4, "big"))
        h.update(part)
    raw = bytearray(h.digest())
    raw[6] = (raw[6] & 0x0F) | 0x80  # version 8
    raw[8] = (raw[8] & 0x3F) | 0x80  # the RFC 9562 variant
    digits = raw.hex()  # formatted by hand: uuid.UUID costs more than the digest here
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def span_event_id(trace_id: bytes, span_id: bytes) -> str:
    """The event id of the span ``span_id`` of trace ``trace_id``."""
    return derived_uuid(b"otlp-span", trace_id, span_id)


def required_id(value: bytes, size: int, field: str) -> str:
    """``value`` as lower-case hex; an :class:`ItemProblem` unless it is a valid id."""
    if len(value) != size:
        shown = "missing" if not value else f"{len(value)} bytes long"
        raise ItemProblem(
            field, f"must be {size} bytes ({2 * size} hex digits in OTLP/JSON); it is {shown}"
        )
    if not any(value):
        raise ItemProblem(field, "is all zeros, which OpenTelemetry defines as invalid")
    return value.hex()


def optional_id(value: bytes, size: int, field: str) -> str | None:
    """Like :func:`required_id`, but an absent (empty or all-zero) id is None."""
    if not any(value):
        return None
    return required_id(value, size, field)


__all__ = [
    "SPAN_ID_BYTES",
    "TRACE_ID_BYTES",
    "derived_uuid",
    "optional_id",
    "required_id",
    "span_event_id",
]
