"""One live connection: what it asked for, and its bounded queue of messages to send.

A subscription lives on the event loop (every method is called there, never from the
writer thread). Its queue holds at most ``capacity`` events: when a commit brings more
matching events than there is room for, the rest are dropped and counted, and a
``dropped`` notice takes their place in the queue, so that the client learns where the
gap is, in order, as soon as it has read what came before. A client that stops reading
therefore costs a bounded amount of memory, however fast events arrive.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from typing import Literal

import msgspec

from analytics_hub.query.live.matcher import LiveFilter

Kind = Literal["events", "metrics", "anomalies", "dropped", "notice"]

#: control messages (ready, subscribed, pong) one connection may have waiting; a client
#: that sends pings without reading the answers gets no more pongs
MAX_NOTICES = 16
#: minutes of metrics waiting at once (a newer figure of a minute replaces the older)
MAX_METRICS = 4
#: ``anomalies`` messages waiting at once; past it the oldest goes (the anomalies stay
#: listable with GET /api/v1/anomalies)
MAX_ANOMALIES = 16

_encoder = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class LiveSpec:
    """What a connection subscribes to: events matching ``filter``, the metrics of the
    current minute, and anomalies as they are detected (filters apply to events only)."""

    filter: LiveFilter
    events: bool = True
    metrics: bool = False
    anomalies: bool = False

    def describe(self) -> dict[str, object]:
        """The subscription as the protocol echoes it."""
        return {
            "filters": self.filter.describe(),
            "events": self.events,
            "metrics": self.metrics,
            "anomalies": self.anomalies,
        }


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to send: its JSON text, its kind and how many events it carries (for
    ``events``) or reports lost (for ``dropped``)."""

    text: str
    kind: Kind
    events: int = 0
    minute: str | None = None  # the minute of a ``metrics`` message


class _Dropped:
    """A gap in the queue: ``count`` events were dropped here."""

    __slots__ = ("count",)

    def __init__(self, count: int) -> None:
        self.count = count


class Subscription:
    """A tenant's live subscription and its outgoing queue (event-loop only)."""

    def __init__(self, tenant_id: str, spec: LiveSpec, *, capacity: int) -> None:
        self.tenant_id = tenant_id
        self.spec = spec
        self.capacity = capacity
        #: bumped by every change of ``spec``: results computed for an older spec are
        #: discarded, so that after ``subscribed`` every event matches the new filters
        self.generation = 0
        #: whether this connection has had the current minute's metrics since it asked
        self.metrics_primed = False
        self.closed = False
        #: matching events this connection did not get because its queue was full
        self.dropped = 0
        self._items: deque[Outgoing | _Dropped] = deque()
        self._queued_events = 0
        self._notices = 0
        self._wakeup = asyncio.Event()

    @property
    def room(self) -> int:
        """How many more events the queue takes before it drops."""
        return max(self.capacity - self._queued_events, 0)

    @property
    def queued_events(self) -> int:
        """Events waiting to be sent."""
        return self._queued_events

    @property
    def queued_messages(self) -> int:
        """Messages waiting to be sent (events, gaps, metrics, notices)."""
        return len(self._items)

    def change(self, spec: LiveSpec, notice: str) -> None:
        """Replace the subscription; events and metrics queued for the old one are
        discarded, control messages (``ready`` among them) are kept."""
        self.spec = spec
        self.generation += 1
        self.metrics_primed = False
        # A client that subscribes at once must still get ``ready`` first.
        kept = [i for i in self._items if isinstance(i, Outgoing) and i.kind == "notice"]
        self._items = deque(kept)
        self._queued_events = 0
        self._notices = len(kept)
        self.put_notice(notice)

    def put_notice(self, text: str) -> bool:
        """Queue a control message; False when too many are waiting already."""
        if self._notices >= MAX_NOTICES:
            return False
        self._notices += 1
        self._push(Outgoing(text, "notice"))
        return True

    def put_events(self, chunks: list[tuple[str, int]], dropped: int) -> None:
        """Queue encoded ``events`` messages (text, number of events), then the count of
        matching events that did not fit. Chunks that no longer fit are dropped too."""
        for text, count in chunks:
            if count > self.room:
                dropped += count
                continue
            self._queued_events += count
            self._push(Outgoing(text, "events", count))
        if dropped:
            self.drop(dropped)

    def drop(self, count: int) -> None:
        """Record ``count`` matching events that will not be sent."""
        self.dropped += count
        last = self._items[-1] if self._items else None
        if isinstance(last, _Dropped):
            last.count += count  # consecutive gaps are one gap
        else:
            self._push(_Dropped(count))

    def put_metrics(self, minute: str, figures: dict[str, object]) -> None:
        """Queue a minute's metrics, replacing a not yet sent figure of the same minute."""
        out = Outgoing(_encoder.encode(figures).decode(), "metrics", minute=minute)
        metrics: list[int] = []
        for i, item in enumerate(self._items):
            if isinstance(item, Outgoing) and item.kind == "metrics":
                if item.minute == minute:
                    self._items[i] = out
                    return
                metrics.append(i)
        if len(metrics) >= MAX_METRICS:
            del self._items[metrics[0]]
        self._push(out)

    def put_anomalies(self, text: str, count: int) -> None:
        """Queue an encoded ``anomalies`` message of ``count`` anomalies; past
        :data:`MAX_ANOMALIES` waiting, the oldest is dropped."""
        waiting = [
            i
            for i, item in enumerate(self._items)
            if isinstance(item, Outgoing) and item.kind == "anomalies"
        ]
        if len(waiting) >= MAX_ANOMALIES:
            del self._items[waiting[0]]
        self._push(Outgoing(text, "anomalies", count))

    async def get(self) -> Outgoing:
        """The next message to send, waiting until there is one."""
        while not self._items:
            self._wakeup.clear()
            await self._wakeup.wait()
        item = self._items.popleft()
        if isinstance(item, _Dropped):
            text = _encoder.encode({"type": "dropped", "count": item.count}).decode()
            return Outgoing(text, "dropped", item.count)
        if item.kind == "events":
            self._queued_events -= item.events
        elif item.kind == "notice":
            self._notices -= 1
        return item

    def _push(self, item: Outgoing | _Dropped) -> None:
        self._items.append(item)
        self._wakeup.set()


__all__ = ["MAX_ANOMALIES", "MAX_METRICS", "MAX_NOTICES", "LiveSpec", "Outgoing", "Subscription"]
