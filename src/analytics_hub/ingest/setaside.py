"""A bus message the store refuses for good becomes dead letters instead of blocking the writer.

The store refuses a batch with ``ValueError`` when the data itself is at fault (a value
its schema cannot hold); retrying cannot help, and every later message would wait behind
it. Its events go to the dead-letter store, each with the store's reason and the event as
it was normalised, where they can be listed, fixed and replayed like any rejected event.
Ids are derived from the tenant and event id, so a redelivered message sets nothing
aside twice.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import msgspec

from analytics_hub.ingest.batchcodec import decode_batch
from analytics_hub.store.base import DeadLetter

_NAMESPACE = uuid.UUID("6f1c0d3e-9a1b-4e5f-8c2d-3b4a5f6e7d80")
_ENCODER = msgspec.json.Encoder()


def set_aside_letters(payload: bytes, reason: str) -> list[DeadLetter]:
    """Dead letters for every event of a bus message, plus those it already carried."""
    table, letters = decode_batch(payload)
    message = f"the event store refused this event's batch: {reason}"
    for index, row in enumerate(table.to_pylist()):
        tenant, event_id = str(row["tenant_id"]), str(row["event_id"])
        received = row.get("received_at")
        if not isinstance(received, datetime):
            received = datetime.now(UTC)
        elif received.tzinfo is None:  # stored naive, in UTC
            received = received.replace(tzinfo=UTC)
        letters.append(
            DeadLetter(
                tenant_id=tenant,
                id=str(uuid.uuid5(_NAMESPACE, f"{tenant}/{event_id}")),
                received_at=received,
                index=index,
                errors=[{"field": "", "message": message}],
                raw=_ENCODER.encode(row).decode(),
            )
        )
    return letters


__all__ = ["set_aside_letters"]
