"""``NatsBus``: the distributed hub's bus, a NATS JetStream stream and a durable consumer.

One stream holds every event subject, ``<prefix>.<module>.<partition>`` (the ``Router``
given by the assembly cuts each published message into such pieces), so that a stream
sequence orders everything the bus carries, as the port promises; why one stream and not
one per module is written down in ``docs/decisions/0012-nats-subjects.md``. Pieces are
compressed with zstd and sent with a ``Nats-Msg-Id``, so a retried publish is stored once.
A ``publish`` resolves once JetStream acknowledged every piece.

Writers of one group share one durable pull consumer; a message is acknowledged after
the store committed it. While a live process holds a message, it tells JetStream it is
still working on it, so a slow store does not cost a delivery attempt; a process that
dies stops doing so and its messages are delivered again after the ack wait. A message
delivered more than ``max_deliveries`` times, or rejected on its last attempt, goes to
``deadletter.<subject>`` (a stream of its own) with the error in a header.
``settle``, a barrier any process can wait at, polls the group's ack floor.

nats-py is asyncio-only and the port is synchronous, called from request threads and the
writer thread: the client runs on a private event loop in a background thread
(:class:`LoopThread`). CPU work (routing, compression) stays in the calling threads, so
that the loop only moves bytes.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Sequence
from concurrent.futures import Future
from time import monotonic
from typing import Any, TypeVar

import nats
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from analytics_hub.bus import jetstream as jsx
from analytics_hub.bus.base import Delivery, Part, Router
from analytics_hub.bus.jetstream import NatsTuning
from analytics_hub.bus.lagbook import LagBook
from analytics_hub.bus.loopthread import LoopThread, spawn
from analytics_hub.bus.pull import Puller
from analytics_hub.errors import BackpressureError, UnavailableError

log = structlog.get_logger(__name__)

T = TypeVar("T")


class NatsBus:
    """A JetStream-backed bus; see the module docstring and ``docs/operations/distributed.md``."""

    def __init__(
        self,
        servers: str | Sequence[str],
        *,
        capacity: int,
        stream: str = "HUB_EVENTS",
        subject_prefix: str = "events",
        group: str = "writers",
        replicas: int = 1,
        retention_days: float = 7.0,
        router: Router | None = None,
        retry_after: float = 1.0,
        tuning: NatsTuning | None = None,
    ) -> None:
        self._servers = [servers] if isinstance(servers, str) else list(servers)
        self._capacity = capacity
        self.stream = stream
        self.subject_prefix = subject_prefix
        self.dead_letter_stream = f"{stream}_DEAD"
        self.group = group
        self.replicas = replicas
        self._max_age = retention_days * 86400.0
        self._router = router
        self._retry_after = retry_after
        self._t = tuning or NatsTuning()
        self._book: LagBook[Msg] = LagBook(self._t.typical_weight)
        self._loop: LoopThread | None = None
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._puller: Puller | None = None
        self._tasks: set[asyncio.Task[Any]] = set()  # background work on the loop
        self._publishing: set[asyncio.Task[Any]] = set()  # publishes in flight
        # Futures not yet answered, with (weight, pieces): close fails those the loop
        # could not finish, so that no caller waits forever.
        self._unanswered: dict[Future[int], tuple[int, int]] = {}
        self._lock = threading.Lock()
        self._open = False
        self._closing = False
        self._max_payload = 0

    # -- the port -----------------------------------------------------------------------

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def shared(self) -> bool:
        return True  # a stream and consumer group shared by every hub process

    @property
    def lag(self) -> int:
        """Events published to the stream and not yet acknowledged by the consumer group."""
        return self._book.lag

    def open(self) -> None:
        """Connect, create or update the streams and the consumer, start the loop."""
        if self._open:
            return
        self._loop = LoopThread("hub-nats")
        try:
            self._call(self._aopen(), self._t.setup_timeout + 10)
        except Exception as exc:
            self._stop_loop()
            raise UnavailableError(
                f"cannot open the NATS bus at {','.join(self._servers)}: {str(exc) or repr(exc)}",
                retry_after=self._retry_after,
            ) from exc
        self._closing = False
        self._open = True

    def publish(self, payload: bytes, weight: int) -> Future[int]:
        """Route, compress and send a message; the future gives its highest stream seq."""
        future: Future[int] = Future()
        future.set_running_or_notify_cancel()  # a caller's cancel must not race our result
        if not self._open or self._closing:
            raise UnavailableError("the hub is shutting down", retry_after=self._retry_after)
        refused_at = self._book.reserve(weight, self._capacity)
        if refused_at is not None:
            raise BackpressureError(
                f"event bus is full ({refused_at} events waiting to be stored); "
                f"retry after {self._retry_after:g} s",
                retry_after=self._retry_after,
            )
        try:
            wires = [
                jsx.encode_part(part, self.subject_prefix, self._max_payload)
                for part in self._route(payload, weight)
            ]
        except Exception:
            self._book.published(weight, 0, [])
            raise
        self._book.sending(len(wires))
        with self._lock:
            self._unanswered[future] = (weight, len(wires))
        assert self._loop is not None
        self._loop.call_soon(self._publish_all(wires, weight, future), self._publishing)
        return future

    def fetch(
        self, *, max_weight: int, min_weight: int = 1, linger: float = 0.0, timeout: float
    ) -> list[Delivery]:
        """The next messages of the consumer group (see the port)."""
        if not self._open or self._closing:
            # Nothing comes any more; the pause keeps a caller's loop from spinning.
            threading.Event().wait(min(timeout, 0.5))
            return []
        try:
            taken = self._call(
                self._afetch(max_weight, min_weight, linger, timeout), timeout + linger + 10
            )
        except Exception as exc:
            # The writer thread must survive a lost connection: it just fetches again.
            log.warning("fetching from JetStream failed", error=repr(exc))
            threading.Event().wait(min(timeout, 1.0))
            return []
        out: list[Delivery] = []
        for msg, weight in taken:
            attempts = msg.metadata.num_delivered
            try:
                payload = jsx.decode_payload(msg)
            except Exception as exc:
                self._book.release([msg.metadata.sequence.stream])
                self._call_soon(self._dead_letter(msg, f"undecodable message: {exc!r}", attempts))
                continue
            seq = msg.metadata.sequence.stream
            out.append(Delivery(seq=seq, payload=payload, weight=weight, redelivered=attempts > 1))
        return out

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        """Acknowledge (after the store commit); a lost ack only means a redelivery."""
        seqs = [d.seq for d in deliveries]
        msgs = self._book.messages(seqs)
        if msgs:
            self._settle(self._aack(msgs), "acknowledging")
        self._book.release(seqs)

    def reject(self, deliveries: Sequence[Delivery], error: str) -> None:
        """Deliver again after ``retry_delay``; on the last attempt, dead-letter instead."""
        seqs = [d.seq for d in deliveries]
        msgs = self._book.messages(seqs)
        if msgs:
            self._settle(self._areject(msgs, error), "rejecting")
        self._book.release(seqs)

    def settle(self, timeout: float) -> bool:
        """Wait until the group's ack floor reaches the stream's last seq at the call."""
        if not self._open or self._closing or self._js is None:
            return False
        waiting = jsx.wait_acked(
            self._js, stream=self.stream, durable=self.group, deadline=monotonic() + timeout,
            attempt_timeout=self._t.attempt_timeout,
        )  # fmt: skip
        try:
            return self._call(waiting, timeout + self._t.attempt_timeout + 1)
        except jsx.RETRYABLE as exc:  # no answer by the timeout
            log.debug("JetStream did not tell whether the writers caught up", error=repr(exc))
        except Exception as exc:
            log.warning("cannot ask JetStream whether the writers caught up", error=repr(exc))
        return False

    def close(self) -> None:
        """Wait for publishes in flight, hand held messages back, drain the connection."""
        if not self._open:
            return
        self._closing = True
        try:
            self._call(self._aclose(), self._t.publish_timeout + 15)
        except Exception as exc:
            log.warning("closing the NATS bus did not finish cleanly", error=repr(exc))
        self._stop_loop()
        with self._lock:
            abandoned, self._unanswered = self._unanswered, {}
        for future, (weight, pieces) in abandoned.items():
            self._book.published(weight, pieces, [])
            future.set_exception(
                UnavailableError(
                    "the hub shut down before JetStream answered", retry_after=self._retry_after
                )
            )
        self._book.forget_others()
        self._open = False

    # -- routing and encoding (caller threads) ------------------------------------------

    def _route(self, payload: bytes, weight: int) -> Sequence[Part]:
        if self._router is None:
            return [Part("unrouted", 0, payload, weight)]
        return self._router(payload, weight, self._max_payload - jsx.HEADER_ROOM)

    def _batch_for(self, weight: int) -> int:
        """Messages to ask for to get about ``weight`` events.

        Generous (the average weight can be stale, and what is fetched beyond
        ``max_weight`` waits in the buffer for the next fetch), but bounded, so that one
        writer does not hoard what the others of its group could take.
        """
        wanted = int(1.5 * weight / max(self._book.average_weight, 1.0)) + 1
        return max(64, min(1024, wanted))

    # -- the loop -----------------------------------------------------------------------

    def _stop_loop(self) -> None:
        if self._loop is not None:
            self._loop.stop()
        self._loop = None

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        if self._loop is None:
            coro.close()
            raise UnavailableError("the NATS bus is not open", retry_after=self._retry_after)
        return self._loop.call(coro, timeout)

    def _call_soon(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run ``coro`` on the loop in the background (dead-lettering, for instance)."""
        if self._loop is None:
            coro.close()
            return
        self._loop.call_soon(coro, self._tasks)

    def _settle(self, coro: Coroutine[Any, Any, None], what: str) -> None:
        try:
            self._call(coro, 10)
        except Exception as exc:
            # Not acknowledged means delivered again later: the store's writes are idempotent.
            log.warning(f"{what} JetStream messages failed", error=repr(exc))

    async def _aopen(self) -> None:
        # Reconnects never give up (a node restarting is routine); so would the first
        # connect, hence the deadline.
        connecting = nats.connect(
            servers=self._servers,
            name="analytics-hub",
            connect_timeout=2,
            reconnect_time_wait=0.5,
            max_reconnect_attempts=-1,
            error_cb=self._on_error,
            disconnected_cb=self._on_disconnected,
            reconnected_cb=self._on_reconnected,
        )
        nc = await asyncio.wait_for(connecting, self._t.setup_timeout)
        self._nc = nc
        self._js = nc.jetstream(timeout=self._t.attempt_timeout)
        try:
            await jsx.setup(
                self._js, stream=self.stream, dead_stream=self.dead_letter_stream,
                prefix=self.subject_prefix, group=self.group, replicas=self.replicas,
                max_age=self._max_age, ack_wait=self._t.ack_wait,
                max_ack_pending=self._t.max_ack_pending,
                deadline=monotonic() + self._t.setup_timeout,
            )  # fmt: skip
        except BaseException:
            await _quietly(nc.close())
            raise
        self._max_payload = int(nc.max_payload)
        self._puller = Puller(nc, stream=self.stream, durable=self.group, weight_of=jsx.weight_of)
        await self._puller.start()
        await self._refresh_lag()
        spawn(self._every(self._t.ack_wait / 3, self._keep_alive), self._tasks)
        spawn(self._every(self._t.lag_interval, self._refresh_lag), self._tasks)

    async def _aclose(self) -> None:
        if self._publishing:
            await asyncio.wait(list(self._publishing), timeout=self._t.publish_timeout)
        for task in list(self._tasks):
            task.cancel()
        # Hand back what this process holds, so that another writer takes it now rather
        # than after the ack wait (it costs each message one delivery attempt).
        held = self._book.release_all()
        if self._puller is not None:
            await self._puller.stop()
            held += self._puller.clear()
        for msg in held:
            await _quietly(msg.nak())
        if self._nc is not None:
            try:
                await asyncio.wait_for(self._nc.drain(), 5)
            except Exception:
                await _quietly(self._nc.close())

    async def _every(self, seconds: float, job: Any) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await job()
            except Exception as exc:
                log.debug("NATS bus background job failed", job=job.__name__, error=repr(exc))

    async def _keep_alive(self) -> None:
        """Tell JetStream this live process still works on what it holds (no redelivery)."""
        msgs = self._book.held()
        if self._puller is not None:
            msgs += list(self._puller.buffer)
        for msg in msgs:
            await _quietly(msg.in_progress())

    async def _refresh_lag(self) -> None:
        assert self._js is not None
        info = await self._js.consumer_info(self.stream, self.group, timeout=2)
        delivered = info.delivered.stream_seq if info.delivered else 0
        buffered = [m.metadata.sequence.stream for m in self._puller.buffer] if self._puller else []
        pending = (info.num_pending or 0) + (info.num_ack_pending or 0)
        self._book.snapshot(delivered, pending, buffered)

    async def _publish_all(self, wires: list[jsx.Wire], weight: int, future: Future[int]) -> None:
        deadline = monotonic() + self._t.publish_timeout
        results = await asyncio.gather(
            *(self._send(w, deadline) for w in wires), return_exceptions=True
        )
        with self._lock:
            if self._unanswered.pop(future, None) is None:
                return  # close gave up on it already
        stored = [(r, w.weight) for w, r in zip(wires, results, strict=True) if isinstance(r, int)]
        self._book.published(weight, len(wires), stored)
        failure = next((r for r in results if isinstance(r, BaseException)), None)
        if failure is None:
            future.set_result(max(seq for seq, _ in stored))
            return
        # Pieces already stored stay; a client's retry stores them again, and the store's
        # writes are idempotent on event_id.
        future.set_exception(
            UnavailableError(
                f"JetStream did not acknowledge the batch: {failure!r}",
                retry_after=self._retry_after,
            )
        )

    async def _send(self, wire: jsx.Wire, deadline: float) -> int:
        """All attempts at one piece (a seam the tests use to lose an acknowledgement)."""
        assert self._js is not None
        return await jsx.publish(
            self._js, wire.subject, wire.data, wire.headers, stream=self.stream,
            attempt_timeout=self._t.attempt_timeout, deadline=deadline,
        )  # fmt: skip

    async def _afetch(
        self, max_weight: int, min_weight: int, linger: float, timeout: float
    ) -> list[tuple[Msg, int]]:
        puller = self._puller
        assert puller is not None
        await puller.fill(
            batch=self._batch_for, max_weight=max_weight, min_weight=min_weight,
            linger=linger, timeout=timeout,
        )  # fmt: skip
        out: list[tuple[Msg, int]] = []
        for msg in puller.take(max_weight):
            attempts = msg.metadata.num_delivered
            if attempts > self._t.max_deliveries:
                error = f"delivered {attempts - 1} times without being acknowledged"
                spawn(self._dead_letter(msg, error, attempts), self._tasks)
                continue
            weight = jsx.weight_of(msg)
            self._book.hold(msg.metadata.sequence.stream, weight, msg)
            out.append((msg, weight))
        return out

    async def _aack(self, msgs: list[Msg]) -> None:
        for msg in msgs:
            await _quietly(msg.ack())  # one lost ack: that message comes again, no more
        assert self._nc is not None
        await self._nc.flush(timeout=5)

    async def _areject(self, msgs: list[Msg], error: str) -> None:
        for msg in msgs:
            attempts = msg.metadata.num_delivered
            if attempts >= self._t.max_deliveries:
                spawn(self._dead_letter(msg, error, attempts), self._tasks)
            else:
                await msg.nak(delay=self._t.retry_delay)
        assert self._nc is not None
        await self._nc.flush(timeout=5)

    async def _dead_letter(self, msg: Msg, error: str, attempts: int) -> None:
        assert self._js is not None
        await jsx.dead_letter(
            self._js, msg, error, attempts=attempts, dead_stream=self.dead_letter_stream,
            attempt_timeout=self._t.attempt_timeout,
            deadline=monotonic() + self._t.publish_timeout,
        )  # fmt: skip

    # -- connection events (logged, except those our own close causes) ------------------

    async def _on_error(self, exc: Exception) -> None:
        if not self._closing:
            log.warning("NATS connection error", error=repr(exc))

    async def _on_disconnected(self) -> None:
        if not self._closing:
            log.warning("NATS connection lost; reconnecting")

    async def _on_reconnected(self) -> None:
        log.info("NATS connection re-established")


async def _quietly(awaitable: Any) -> None:
    """Await a best-effort call: its failure only means a later redelivery."""
    try:
        await awaitable
    except Exception as exc:
        log.debug("best-effort NATS call failed", error=repr(exc))


__all__ = ["NatsBus", "NatsTuning"]
