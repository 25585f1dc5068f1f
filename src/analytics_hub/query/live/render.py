"""Match one commit's new rows against the subscriptions and render the messages.

This runs in a worker thread (never on the event loop, never on the writer thread) and
is pure: it reads the table and immutable snapshots of the subscriptions (:class:`Job`)
and returns encoded messages. Each row is rendered at most once per commit, however
many subscribers it goes to, and only up to the room each subscriber's queue has: the
work done for a client that does not read is bounded by its queue, not by the traffic.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from analytics_hub.query.live.matcher import LiveFilter, Rows
from analytics_hub.query.render import envelope

#: most events in one ``events`` message (a large commit is sent as several)
MAX_EVENTS_PER_MESSAGE = 500
#: most bytes of one ``events`` message, so that clients with a message size limit (the
#: Python ``websockets`` client's default is 1 MiB) can read every message; one event
#: alone may exceed it only if it is that large itself, which event limits prevent
MAX_MESSAGE_BYTES = 512 * 1024

_encoder = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class Job:
    """A subscription as it was when the commit was taken up: ``key`` identifies it to the
    caller, ``room`` is how many events its queue takes."""

    key: int
    tenant_id: str
    filter: LiveFilter
    room: int


@dataclass(frozen=True, slots=True)
class Matched:
    """What one subscription gets from one commit: encoded ``events`` messages (text and
    event count) and how many matching events did not fit in its queue."""

    key: int
    chunks: list[tuple[str, int]]
    dropped: int


def tenants_of(table: pa.Table) -> set[str]:
    """The tenants that have rows in ``table``."""
    return {str(t) for t in pc.unique(table.column("tenant_id")).to_pylist()}


def match_and_render(
    table: pa.Table, jobs: Sequence[Job], *, per_message: int = MAX_EVENTS_PER_MESSAGE
) -> list[Matched]:
    """Events messages for each job whose tenant and filters some rows of ``table`` match,
    in commit order, as envelopes in the shape ``GET /api/v1/events`` returns."""
    by_tenant: dict[str, list[Job]] = defaultdict(list)
    for job in jobs:
        by_tenant[job.tenant_id].append(job)
    present = tenants_of(table)
    out: list[Matched] = []
    for tenant, tenant_jobs in by_tenant.items():
        if tenant not in present:
            continue
        rows = table if len(present) == 1 else table.filter(pc.equal(table["tenant_id"], tenant))
        out.extend(_render_tenant(Rows(rows.combine_chunks()), tenant_jobs, per_message))
    return out


def _render_tenant(rows: Rows, jobs: list[Job], per_message: int) -> list[Matched]:
    picks: list[tuple[Job, list[int], int]] = []
    for job in jobs:
        matching: list[int] = pc.indices_nonzero(job.filter.mask(rows)).to_pylist()
        taken = matching[: job.room]
        if matching:
            picks.append((job, taken, len(matching) - len(taken)))
    wanted = sorted({i for _, taken, _ in picks for i in taken})
    # Each envelope is encoded once and shared by every subscriber it goes to.
    taken_rows = rows.table.take(pa.array(wanted, pa.int64()))
    encoded = [_encoder.encode(e) for e in _envelopes(taken_rows)]
    rendered = dict(zip(wanted, encoded, strict=True))
    return [
        Matched(job.key, _messages([rendered[i] for i in taken], per_message), dropped)
        for job, taken, dropped in picks
    ]


def _messages(events: list[bytes], per_message: int) -> list[tuple[str, int]]:
    """Encoded events joined into ``events`` messages of bounded count and size."""
    out: list[tuple[str, int]] = []
    batch: list[bytes] = []
    size = 0
    for event in events:
        if batch and (len(batch) >= per_message or size + len(event) > MAX_MESSAGE_BYTES):
            out.append(_message(batch))
            batch, size = [], 0
        batch.append(event)
        size += len(event) + 1
    if batch:
        out.append(_message(batch))
    return out


def _message(events: list[bytes]) -> tuple[str, int]:
    return (b'{"type":"events","events":[' + b",".join(events) + b"]}").decode(), len(events)


def _envelopes(table: pa.Table) -> list[dict[str, Any]]:
    """Committed rows as envelopes, by the same code that renders stored rows."""
    names = table.column_names
    columns = [table.column(name).to_pylist() for name in names]
    return [envelope(names, values) for values in zip(*columns, strict=True)]


__all__ = [
    "MAX_EVENTS_PER_MESSAGE",
    "MAX_MESSAGE_BYTES",
    "Job",
    "Matched",
    "match_and_render",
    "tenants_of",
]
