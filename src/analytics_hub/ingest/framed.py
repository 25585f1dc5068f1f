"""Batches of separately framed JSON envelopes, as the native gRPC service receives them.

Each event of an ``EventBatch`` is its own bytes, so an error's index is the event's
position in the batch. The events are joined into one JSON array and decoded by the code
that decodes a REST body (``IngestService.decode``): on the fast path that is one msgspec
call for the whole batch. Joining is only sound when every element is exactly one JSON
value: an element ``"a`` followed by ``b", "c"`` would parse as an array of the right
length with every index shifted. So the array is first split back into raw values (a scan
that builds no objects) and compared with the elements; when they differ, each element is
checked alone, and one that is not a single JSON value is replaced by a placeholder and
reported at its own index, its original text kept for the dead-letter store.
"""

from __future__ import annotations

from collections.abc import Sequence

import anyio
import anyio.to_thread
import msgspec

from analytics_hub.events import DecodedBatch, EventError
from analytics_hub.ingest.body import BodyFormat
from analytics_hub.ingest.service import IngestResult, IngestService, Published

_JSON_WHITESPACE = b" \t\r\n"
_PLACEHOLDER = b"null"  # valid JSON, never a valid envelope: rejected at its index
_raw_values = msgspec.json.Decoder(list[msgspec.Raw])


def _aligned(events: Sequence[bytes], body: bytes) -> bool:
    """Whether ``body`` (the events joined as an array) holds exactly the events."""
    try:
        values = _raw_values.decode(body)
    except (msgspec.DecodeError, RecursionError):
        return False
    return len(values) == len(events) and all(
        bytes(value) == event.strip(_JSON_WHITESPACE)
        for value, event in zip(values, events, strict=True)
    )


def _problem(event: bytes) -> str | None:
    """Why ``event`` is not one JSON value, or None when it is."""
    if not event.strip(_JSON_WHITESPACE):
        return "empty: an event is one JSON object (an envelope)"
    try:
        msgspec.json.decode(event)
    except msgspec.DecodeError as exc:
        return f"not valid JSON: {exc}"
    except RecursionError:
        return "nested too deeply to decode"
    return None


def _join(events: Sequence[bytes]) -> bytes:
    return b"[" + b",".join(events) + b"]"


class FramedReceiver:
    """Stores batches of JSON envelopes that arrive one per element through the ingest
    service (validation, normalisation, durability: all as for a REST body)."""

    def __init__(self, ingest: IngestService) -> None:
        self._ingest = ingest
        self._limiter: anyio.CapacityLimiter | None = None  # made in the event loop

    def decode(self, tenant_id: str, events: Sequence[bytes]) -> DecodedBatch:
        """Decode and normalise ``events`` (CPU only); errors are indexed by element.

        Raises ``PayloadTooLargeError`` for more events than one request may carry.
        """
        body = _join(events)
        if _aligned(events, body):
            return self._ingest.decode(tenant_id, body, BodyFormat.JSON)
        problems = {i: p for i, event in enumerate(events) if (p := _problem(event)) is not None}
        parts = [_PLACEHOLDER if i in problems else event for i, event in enumerate(events)]
        batch = self._ingest.decode(tenant_id, _join(parts), BodyFormat.JSON)
        errors = [
            EventError(e.index, "", problems[e.index]) if e.index in problems else e
            for e in batch.errors
        ]
        raw = {
            i: events[i].decode("utf-8", "replace") if i in problems else text
            for i, text in batch.rejected_raw.items()
        }
        return DecodedBatch(batch.table, errors, raw, batch.total)

    async def ingest(
        self, tenant_id: str, events: Sequence[bytes], *, visible: bool = False
    ) -> IngestResult:
        """Decode ``events`` in a worker thread, then store them durably (and, with
        ``visible``, until queries see them)."""
        # One decoding thread at a time, as IngestService.ingest does: more only fight
        # over the GIL and starve the event loop.
        self._ingest.admit()  # a batch that would be refused is not decoded
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(1)

        def decode_and_publish() -> Published:
            # Pricing and encoding the bus message are CPU work too: in this thread.
            batch = self.decode(tenant_id, events)
            return self._ingest.publish(tenant_id, batch, visible=visible)

        published = await anyio.to_thread.run_sync(decode_and_publish, limiter=self._limiter)
        return await self._ingest.finish(tenant_id, published)


__all__ = ["FramedReceiver"]
