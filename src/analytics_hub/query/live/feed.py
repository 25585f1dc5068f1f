"""The live feed: new events and per-minute metrics pushed to subscribers as they commit.

Three places do the work, so that none of them waits for another:

- the writer thread calls :meth:`LiveFeed.publish` after each store commit with the rows
  newly stored (a replayed batch's duplicates are not among them, so no event is shown
  twice). It only checks that some tenant is subscribed and hands the table to the
  event loop (``call_soon_threadsafe``): it never blocks and never raises;
- a pump task on the event loop takes the commits in order, lets a worker thread match
  them against every subscription and render the messages (:mod:`.render`), and puts
  them in each subscription's bounded queue;
- a ticker task asks the store for the current minute's figures of each tenant that
  wants metrics (:mod:`.minutes`), at most once per ``metrics_interval`` and only when
  a commit touched the tenant (or the minute changed, or someone new asked);
- anomaly detection calls :meth:`LiveFeed.publish_anomalies` from its worker thread with
  the anomalies it just stored; they go, one message per tenant, to the subscriptions
  that asked for ``anomalies``.

The tasks exist only while there is work: with no subscriber the feed costs one
attribute read per commit. Commits that arrive faster than the pump takes them wait up
to ``MAX_PENDING_ROWS`` rows; beyond that a commit is skipped and its subscribers are
told how many events they may have missed (``dropped``).
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

import msgspec
import pyarrow as pa
import structlog

from analytics_hub.errors import BackpressureError
from analytics_hub.query.live.minutes import MINUTE, minute_figures, minute_of
from analytics_hub.query.live.render import Job, Matched, match_and_render, tenants_of
from analytics_hub.query.live.subscription import LiveSpec, Subscription
from analytics_hub.query.render import rfc3339
from analytics_hub.query.service import QueryService
from analytics_hub.store.anomalies import AnomalyRecord, anomaly_document

log = structlog.get_logger(__name__)

#: committed rows that may wait for the pump before commits are skipped
MAX_PENDING_ROWS = 250_000
_encoder = msgspec.json.Encoder()


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _Minutes:
    """What one tenant's subscribers were last sent: the minute and its figures."""

    __slots__ = ("last", "minute")

    def __init__(self) -> None:
        self.minute: datetime | None = None
        self.last: dict[datetime, dict[str, Any]] = {}


class LiveFeed:
    """Fans newly stored events and minute metrics out to live subscriptions."""

    def __init__(
        self,
        queries: QueryService,
        *,
        queue_events: int = 1000,
        max_connections: int = 500,
        metrics_interval: float = 1.0,
        clock: Callable[[], datetime] = _utc_now,
        on_open: Callable[[], None] | None = None,
    ) -> None:
        """``on_open`` is called (on the event loop; it must not block) whenever a
        subscription opens: a process fed by other processes' writers tells them then
        that it wants their rows."""
        self.queue_events = queue_events
        self.max_connections = max_connections
        self._queries = queries
        self._interval = metrics_interval
        self._clock = clock
        self._on_open = on_open
        self._connections = 0
        self._keys = itertools.count()
        self._subs: dict[str, dict[int, Subscription]] = {}  # tenant -> key -> subscription
        self._key_of: dict[int, int] = {}  # id(subscription) -> key
        # Read by the writer thread: replaced (never mutated) on the loop.
        self._tenants: frozenset[str] = frozenset()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: deque[pa.Table] = deque()
        self._pending_rows = 0
        self._pump: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._wake_ticker = asyncio.Event()
        self._dirty: set[str] = set()  # tenants with commits since their last metrics
        self._minutes: dict[str, _Minutes] = {}

    # -- connections (event loop) -------------------------------------------------------

    @property
    def connections(self) -> int:
        """Live connections open now (authenticated or not yet)."""
        return self._connections

    def admit(self) -> None:
        """Take a connection slot (give it back with :meth:`release`);
        ``BackpressureError`` when all are taken."""
        if self._connections >= self.max_connections:
            raise BackpressureError(
                f"this hub serves at most {self.max_connections} live connections; retry later"
            )
        self._connections += 1

    def release(self) -> None:
        """Give back a slot taken by :meth:`admit`."""
        self._connections = max(self._connections - 1, 0)

    @property
    def subscribed(self) -> bool:
        """Whether any subscription is open (read from any thread)."""
        return bool(self._tenants)

    def subscriptions(self, tenant_id: str) -> list[Subscription]:
        """The open subscriptions of ``tenant_id`` (to look at their queues)."""
        return list(self._subs.get(tenant_id, {}).values())

    def open(self, tenant_id: str, spec: LiveSpec) -> Subscription:
        """Register a subscription of ``tenant_id``; call :meth:`close` when it ends."""
        self._bind_loop()
        sub = Subscription(tenant_id, spec, capacity=self.queue_events)
        key = next(self._keys)
        self._key_of[id(sub)] = key
        self._subs.setdefault(tenant_id, {})[key] = sub
        self._changed(sub)
        if self._on_open is not None:
            try:
                self._on_open()
            except Exception:  # a notice that could not be sent must not refuse the client
                log.warning("live feed: the open hook failed", exc_info=True)
        return sub

    def change(self, sub: Subscription, spec: LiveSpec, notice: str) -> None:
        """Replace what ``sub`` subscribes to; ``notice`` is queued before any new event."""
        sub.change(spec, notice)
        self._changed(sub)

    def close(self, sub: Subscription) -> None:
        """Forget a subscription (idempotent)."""
        sub.closed = True
        key = self._key_of.pop(id(sub), None)
        tenant = self._subs.get(sub.tenant_id, {})
        if key is not None:
            tenant.pop(key, None)
        if not tenant:
            self._subs.pop(sub.tenant_id, None)
            self._minutes.pop(sub.tenant_id, None)
        self._tenants = frozenset(self._subs)

    def _changed(self, sub: Subscription) -> None:
        self._tenants = frozenset(self._subs)
        if sub.spec.metrics:
            self._wake_ticker.set()
            if self._ticker is None or self._ticker.done():
                self._ticker = asyncio.get_running_loop().create_task(self._tick_loop())

    def _bind_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # A new loop (tests build several apps' loops): what waited on the old is gone.
            self._loop = loop
            self._pending.clear()
            self._pending_rows = 0
            self._pump = self._ticker = None
            self._wake_ticker = asyncio.Event()

    # -- commits ------------------------------------------------------------------------

    def publish(self, rows: pa.Table | None) -> None:
        """Hand a commit's newly stored rows to the feed. Called on the writer thread:
        cheap, never blocks, never raises (a live client must not fail a commit)."""
        try:
            if rows is None or rows.num_rows == 0 or not self._tenants:
                return
            loop = self._loop
            if loop is None or loop.is_closed():
                return
            loop.call_soon_threadsafe(self._arrived, rows)
        except Exception:  # e.g. the loop closed meanwhile: nobody is listening then
            log.debug("live feed: commit not handed over", exc_info=True)

    def _arrived(self, rows: pa.Table) -> None:
        if self._pending_rows + rows.num_rows > MAX_PENDING_ROWS:
            self._skip(rows)
            return
        self._pending.append(rows)
        self._pending_rows += rows.num_rows
        if self._pump is None or self._pump.done():
            self._pump = asyncio.get_running_loop().create_task(self._pump_loop())

    def _skip(self, rows: pa.Table) -> None:
        """The pump is far behind: tell each event subscriber of the commit's tenants how
        many events it may have missed (an upper bound: filters are not evaluated)."""
        counts = rows.group_by("tenant_id").aggregate([("tenant_id", "count")]).to_pylist()
        for row in counts:
            tenant = row["tenant_id"]
            if tenant not in self._subs:
                continue
            self._dirty.add(tenant)
            for sub in self._subs[tenant].values():
                if sub.spec.events:
                    sub.drop(int(row["tenant_id_count"]))
        log.warning("live feed behind: a commit was skipped", events=rows.num_rows)

    async def _pump_loop(self) -> None:
        while self._pending:
            rows = self._pending.popleft()
            self._pending_rows -= rows.num_rows
            try:
                await self._deliver(rows)
            except Exception:  # a bug here must not stop the feed for everyone
                log.exception("live feed: a commit could not be delivered")

    async def _deliver(self, rows: pa.Table) -> None:
        snapshot: dict[int, tuple[Subscription, int]] = {}
        jobs: list[Job] = []
        for tenant, subs in self._subs.items():
            for key, sub in subs.items():
                if sub.spec.events:
                    snapshot[key] = (sub, sub.generation)
                    jobs.append(Job(key, tenant, sub.spec.filter, sub.room))
        present, matched = await asyncio.to_thread(_match, rows, jobs)
        self._dirty.update(present & self._subs.keys())  # their metrics may have changed
        for result in matched:
            sub, generation = snapshot[result.key]
            if sub.closed or sub.generation != generation:
                continue  # the subscription changed meanwhile: these are for the old one
            sub.put_events(result.chunks, result.dropped)

    # -- anomalies ----------------------------------------------------------------------

    def publish_anomalies(self, records: list[AnomalyRecord]) -> None:
        """Hand stored anomalies to the feed. Called from a worker thread: cheap, never
        blocks, never raises."""
        try:
            if not records or not self._tenants:
                return
            loop = self._loop
            if loop is None or loop.is_closed():
                return
            loop.call_soon_threadsafe(self._anomalies_arrived, records)
        except Exception:  # e.g. the loop closed meanwhile: nobody is listening then
            log.debug("live feed: anomalies not handed over", exc_info=True)

    def _anomalies_arrived(self, records: list[AnomalyRecord]) -> None:
        by_tenant: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            if record.tenant_id in self._subs:
                by_tenant.setdefault(record.tenant_id, []).append(anomaly_document(record))
        for tenant, documents in by_tenant.items():
            text = _encoder.encode({"type": "anomalies", "anomalies": documents}).decode()
            for sub in self._subs.get(tenant, {}).values():
                if sub.spec.anomalies:
                    sub.put_anomalies(text, len(documents))

    # -- metrics ------------------------------------------------------------------------

    def _metrics_subscribers(self, tenant: str) -> list[Subscription]:
        return [s for s in self._subs.get(tenant, {}).values() if s.spec.metrics]

    async def _tick_loop(self) -> None:
        wake = self._wake_ticker
        while any(self._metrics_subscribers(t) for t in list(self._subs)):
            wake.clear()
            try:
                await self._tick()
            except Exception:
                log.exception("live feed: metrics tick failed")
            with suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), self._interval)

    async def _tick(self) -> None:
        minute = minute_of(self._clock())
        for tenant in list(self._subs):
            if not self._metrics_subscribers(tenant):
                continue
            state = self._minutes.setdefault(tenant, _Minutes())
            fresh = any(not s.metrics_primed for s in self._metrics_subscribers(tenant))
            due: list[datetime] = []
            if state.minute is not None and state.minute != minute:
                due.append(state.minute)  # the minute that ended: its last figures
            if state.minute != minute or tenant in self._dirty or fresh:
                due.append(minute)
            self._dirty.discard(tenant)
            for moment in due:
                await self._send_minute(tenant, state, moment, current=moment == minute)
            state.minute = minute
            state.last = {m: f for m, f in state.last.items() if m >= minute - MINUTE}

    async def _send_minute(
        self, tenant: str, state: _Minutes, minute: datetime, *, current: bool
    ) -> None:
        try:
            figures = await asyncio.to_thread(minute_figures, self._queries, tenant, minute)
        except Exception as exc:  # the store is down: try again at the next tick
            log.warning("live feed: minute figures unavailable", tenant=tenant, error=str(exc))
            self._dirty.add(tenant)
            return
        changed = state.last.get(minute) != figures
        state.last[minute] = figures
        for sub in self._metrics_subscribers(tenant):
            if changed or (current and not sub.metrics_primed):
                sub.put_metrics(rfc3339(minute), figures)
            if current:
                sub.metrics_primed = True


def _match(rows: pa.Table, jobs: list[Job]) -> tuple[set[str], list[Matched]]:
    """The tenants of a commit and what each job gets of it (in a worker thread)."""
    return tenants_of(rows), match_and_render(rows, jobs) if jobs else []


__all__ = ["MAX_PENDING_ROWS", "LiveFeed"]
