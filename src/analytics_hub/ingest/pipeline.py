"""The write pipeline: requests publish to the bus, one writer thread commits to the store.

A request's batch is acknowledged once the bus made it durable (the embedded journal's
group fsync, or JetStream's ack). The writer thread fetches many messages at a time and
writes them to the store in one transaction, then acknowledges them on the bus. Large
commits are what make the store fast, and they no longer depend on how many requests
happen to be waiting, because requests do not wait for the store.

An acknowledged batch becomes visible to queries when the writer commits it, normally
within tens of milliseconds and within a second under full load. Callers that need to
read their own writes at once (tests, a dead-letter replay) wait for visibility with
``write(..., visible=True)``.

When the store fails, nothing acknowledged is lost: the messages stay on the bus and the
writer retries with backoff. The bus is bounded, so a store that stays down turns into
429 answers, never into unbounded memory.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass

import pyarrow as pa
import structlog

from analytics_hub.bus.base import Delivery, EventBus
from analytics_hub.errors import BackpressureError, UnavailableError, ValidationError
from analytics_hub.ingest.batchcodec import decode_batch, encode_batch
from analytics_hub.ingest.setaside import set_aside_letters
from analytics_hub.store.base import DeadLetter, EventStore, WriteResult

log = structlog.get_logger(__name__)

_FETCH_TIMEOUT = 0.5
_RETRY_MAX = 5.0
_REJECT_PAUSE = 0.5  # after handing an undecodable message back
_SHARED_DRAIN_S = 5.0  # longest drain at stop on a bus other processes feed
_HOUSEKEEPING_DRAIN_S = 2.0  # longest commit of the backlog before store housekeeping
_HOUSEKEEPING_RETRY_S = 5.0  # after housekeeping that left it due (a busy DuckDB)


@dataclass(frozen=True, slots=True)
class CommitStats:
    """One group commit, as reported to the metrics observer."""

    events: int
    requests: int
    seconds: float
    inserted: int
    duplicates: int
    table: pa.Table | None = None  # what was committed (None when only dead letters)
    # The rows of ``table`` newly stored, without the duplicates of a replayed batch (None
    # when only dead letters, or when the store did not say and some were duplicates).
    new_rows: pa.Table | None = None


@dataclass(frozen=True, slots=True)
class CommitPolicy:
    """How the writer groups bus messages into store commits, and how far it may fall behind.

    ``max_lag_seconds`` bounds staleness: when the events acknowledged but not yet stored
    would take the store longer than that to commit (at its measured speed), new batches
    get 429. Under overload the hub thus answers "retry later" instead of letting queries
    fall further and further behind what was acknowledged.
    """

    max_events: int = 100_000
    min_events: int = 20_000  # below this, wait up to ``linger`` for more
    linger: float = 0.05
    max_lag_seconds: float = 0.5
    lag_floor_events: int = 10_000  # always let this much wait, however slow the store


class _Undecodable(Exception):
    """Bus messages whose payload is not a batch a hub wrote."""

    def __init__(self, deliveries: list[Delivery], reason: str) -> None:
        super().__init__(reason)
        self.deliveries = deliveries
        self.reason = reason


class Pipeline:
    """Publishes accepted batches to an ``EventBus`` and commits them to an ``EventStore``."""

    def __init__(
        self,
        store: EventStore,
        bus: EventBus,
        *,
        policy: CommitPolicy | None = None,
        retry_after: float = 1.0,
        on_commit: Callable[[CommitStats], None] | None = None,
        on_housekeeping: Callable[[float], None] | None = None,
        writer: bool = True,
    ) -> None:
        self._store = store
        # False in a process without the writer role: it publishes, other processes commit.
        self._writer = writer
        self._open = False
        self._bus = bus
        self._policy = policy or CommitPolicy()
        self._retry_after = retry_after
        self._on_commit = on_commit
        self._on_housekeeping = on_housekeeping  # told the seconds ingest was held back
        # Set while the writer holds ingest back for the store's housekeeping.
        self._holding = threading.Event()
        self._housekeep_after = 0.0  # monotonic time before which it is not tried again
        self._quiet_asked = threading.Event()  # a quiet moment was announced (quiet_moment)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._abort = threading.Event()  # stop's deadline passed: leave the rest on the bus
        self._thread: threading.Thread | None = None
        self._committed_seq = 0
        self._acked_seq = 0  # the highest bus position acknowledged as durable
        self._waiters: list[tuple[int, int, Future[None]]] = []  # heap of (seq, n, future)
        self._tiebreak = itertools.count()
        self._last_error: str | None = None
        self._store_rate: float | None = None  # events/s of recent commits (EWMA)

    @property
    def depth(self) -> int:
        """Events acknowledged but not yet committed to the store."""
        return self._bus.lag

    @property
    def capacity(self) -> int:
        return self._bus.capacity

    @property
    def last_error(self) -> str | None:
        """Why the last store commit failed, while the writer is retrying it."""
        return self._last_error

    @property
    def writes(self) -> bool:
        """Whether this pipeline commits to the store (the writer role) or only publishes."""
        return self._writer

    def start(self) -> None:
        """Open the bus, store what a previous run left behind, then start the writer."""
        if self._open:
            return
        self._stopping.clear()
        self._abort.clear()
        self._bus.open()
        self._open = True
        if not self._writer:
            return
        # Only this process's own journal is stored before serving; on a shared bus the
        # backlog is the group's, live traffic keeps adding to it, and the writer thread
        # takes it on like any other.
        recovered = 0 if self._bus.shared else self._bus.lag
        while recovered and self._bus.lag:
            deliveries = self._bus.fetch(max_weight=self._policy.max_events, timeout=0)
            if not deliveries:
                break
            self._commit_until_done(deliveries)
        if recovered:
            log.info("stored events the bus kept from before this start", events=recovered)
        self._thread = threading.Thread(target=self._run, name="hub-writer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Refuse new batches, commit what is acknowledged, then close the bus."""
        self._stopping.set()
        if not self._open:
            return
        self._open = False
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("writer did not drain before shutdown; the journal keeps the rest")
                self._abort.set()
                self._thread.join(timeout)
            self._thread = None
        self._bus.close()

    def submit(self, table: pa.Table, letters: Sequence[DeadLetter] = ()) -> Future[int]:
        """Publish a batch; the future gives its bus position once it is durable.

        Raises ``BackpressureError`` at once when the bus is full, and
        ``UnavailableError`` when the pipeline is stopping.
        """
        self.check_admission()
        weight = int(table.num_rows) + len(letters)
        future = self._bus.publish(encode_batch(table, list(letters)), max(weight, 1))
        future.add_done_callback(self._note_acked)
        return future

    def check_admission(self) -> None:
        """Raise what :meth:`submit` would raise for a batch now: ``BackpressureError``
        while the store is behind or folding its log, ``UnavailableError`` while the
        pipeline stops.

        Protocols call it before decoding a request, so that a request refused with 429
        costs no decoding: under sustained load about as many JSON requests were refused
        as accepted, each after a full decode. ``submit`` asks again (the store may have
        fallen behind meanwhile).
        """
        if self._stopping.is_set() or not self._open:
            raise UnavailableError("the hub is shutting down", retry_after=self._retry_after)
        self._check_lag()

    def _note_acked(self, future: Future[int]) -> None:
        if not future.cancelled() and future.exception() is None:
            seq = future.result()
            with self._lock:
                self._acked_seq = max(self._acked_seq, seq)

    @property
    def can_settle(self) -> bool:
        """Whether :meth:`settle` can wait here: on a shared bus (NATS), whatever this
        process's roles, since the bus tells when its writer group acknowledged what it
        held; on this process's own bus (the journal), where it commits it itself."""
        return self._bus.shared or self._writer

    def settle(self, timeout: float) -> bool:
        """Wait until every batch acknowledged so far is committed to the store.

        A barrier for readers that must see all that was acknowledged before a moment
        (the anomaly stream closing a minute). On a shared bus, the bus's own barrier:
        every message durable on it at the call (whichever process published it) is
        acknowledged by the writers, who acknowledge after committing. On the journal,
        the pipeline's committed position reaching the last acknowledged one (journal
        positions are in commit order). True once settled; False at the timeout, or at
        once where the pipeline cannot tell (:attr:`can_settle`).
        """
        if self._bus.shared:
            return self._bus.settle(timeout)
        if not self.can_settle:
            return False
        with self._lock:
            target = self._acked_seq
        try:
            self.wait_visible(target).result(timeout)
        except TimeoutError:
            return False
        return True

    @property
    def store_rate(self) -> float | None:
        """Events per second the store has been committing lately (None before a commit)."""
        return self._store_rate

    def _check_lag(self) -> None:
        if self._holding.is_set():
            raise BackpressureError(
                "the store is folding its write-ahead log into the database; retry after "
                f"{self._retry_after:g} s",
                retry_after=self._retry_after,
            )
        lag, rate, policy = self._bus.lag, self._store_rate, self._policy
        if rate is None or lag <= policy.lag_floor_events:
            return
        if lag > rate * policy.max_lag_seconds:
            raise BackpressureError(
                f"the store is {lag / rate:.1f} s behind ({lag} events acknowledged, not yet "
                f"stored); retry after {self._retry_after:g} s",
                retry_after=self._retry_after,
            )

    def quiet_moment(self) -> None:
        """Announce a moment when a pause costs least (the anomaly stream just stored a
        minute's anomalies): the store may do its deferred housekeeping now.

        Where this process commits, the writer thread does it as it does when
        housekeeping falls due, holding ingest back meanwhile, and only when the store
        has housekeeping to do (else a quiet moment would refuse batches for nothing).
        Folding the log straight from the caller's thread made every event acknowledged
        just before wait for the fold (0.5-1 s under load) before it became visible.
        Returns at once; without a writer here, the store is told directly.
        """
        if not self._writer or not self._open:
            self._store.quiet_moment()
            return
        self._quiet_asked.set()

    def check_can_wait_visible(self) -> None:
        """Refuse ``wait=visible`` in a process whose pipeline does not commit.

        Called before publishing, so that a client does not retry what was stored.
        """
        if not self._writer:
            raise ValidationError(
                "wait=visible needs a process with the writer role; this one only ingests:"
                " query until the events appear instead"
            )

    def wait_visible(self, seq: int) -> Future[None]:
        """A future that completes once the message at ``seq`` is committed to the store."""
        future: Future[None] = Future()
        future.set_running_or_notify_cancel()  # a waiter's cancel must not reach the writer
        with self._lock:
            if seq <= self._committed_seq:
                future.set_result(None)
            else:
                heapq.heappush(self._waiters, (seq, next(self._tiebreak), future))
        return future

    async def write(
        self, table: pa.Table, letters: Sequence[DeadLetter] = (), *, visible: bool = False
    ) -> int:
        """Publish a batch and wait until it is durable (and, if asked, visible)."""
        if visible:
            self.check_can_wait_visible()
        seq = await asyncio.wrap_future(self.submit(table, letters))
        if visible:
            await asyncio.wrap_future(self.wait_visible(seq))
        return int(table.num_rows)

    # -- the writer thread --------------------------------------------------------------

    def _run(self) -> None:
        policy = self._policy
        drain_until: float | None = None
        while True:
            if self._stopping.is_set() and self._bus.shared:
                # Other processes may keep the group's backlog growing: drain for a while,
                # then leave the rest to the group (close hands back what was fetched).
                now = time.monotonic()
                drain_until = drain_until or now + _SHARED_DRAIN_S
                if now > drain_until:
                    return
            deliveries = self._bus.fetch(
                max_weight=policy.max_events,
                min_weight=policy.min_events,
                linger=policy.linger,
                timeout=_FETCH_TIMEOUT,
            )
            if deliveries:
                if not self._commit_until_done(deliveries):
                    return
            elif self._stopping.is_set() and (self._bus.shared or not self._bus.lag):
                return  # a shared bus: nothing fetchable now; others hold the rest
            # after an empty fetch too: a quiet moment may have been announced
            if self._housekeeping_due() and not self._housekeep():
                return

    def _commit_until_done(self, deliveries: list[Delivery]) -> bool:
        """Commit, retrying with backoff while the store fails; the bus keeps the data.

        False when shutdown gave up waiting for the store (the bus redelivers later).
        """
        delay = 0.1
        while True:
            try:
                self._commit(deliveries)
            except _Undecodable as bad:
                # Not the store's fault and never decodable: the bus delivers them again a
                # few times, then moves them to its dead-letter subject (NATS).
                log.error(
                    "bus messages cannot be decoded; handed back to the bus",
                    error=bad.reason,
                    messages=len(bad.deliveries),
                )
                self._bus.reject(bad.deliveries, f"undecodable message: {bad.reason}")
                rest = [d for d in deliveries if all(d is not b for b in bad.deliveries)]
                if self._abort.wait(_REJECT_PAUSE):  # a bus that redelivers at once: no spin
                    return False
                return not rest or self._commit_until_done(rest)
            except ValueError as exc:  # the store refuses the data itself: retrying can't help
                if len(deliveries) > 1:  # find the culprit: one message at a time
                    return all(self._commit_until_done([d]) for d in deliveries)
                return self._set_aside(deliveries[0], str(exc))
            except Exception as exc:
                self._last_error = str(exc)
                log.error(
                    "store write failed; retrying",
                    error=str(exc),
                    retry_in_s=delay,
                    messages=len(deliveries),
                    exc_info=not isinstance(exc, UnavailableError),
                )
                if self._abort.wait(delay):
                    return False
                delay = min(delay * 2, _RETRY_MAX)
                continue
            self._last_error = None
            self._bus.ack(deliveries)
            self._mark_committed(deliveries[-1].seq)
            return True

    def _set_aside(self, delivery: Delivery, reason: str) -> bool:
        """Store a refused message's events as dead letters, so the writer moves on."""
        log.error("the store refused a batch; its events go to the dead letters", error=reason)
        letters = set_aside_letters(delivery.payload, reason)
        delay = 0.1
        while True:
            try:
                self._store.write_dead_letters(letters)
            except Exception as exc:
                log.error("dead letters could not be written; retrying", error=str(exc))
                if self._abort.wait(delay):
                    return False
                delay = min(delay * 2, _RETRY_MAX)
                continue
            self._bus.ack([delivery])
            self._mark_committed(delivery.seq)
            return True

    def _housekeeping_due(self) -> bool:
        # not at stop (the store folds its log when it closes), nor again at once after
        # housekeeping that could not be done (DuckDB refuses a checkpoint at times)
        quiet = self._quiet_asked.is_set()
        self._quiet_asked.clear()
        if self._stopping.is_set() or time.monotonic() < self._housekeep_after:
            return False
        return self._store.housekeeping_due() or (
            quiet and self._store.housekeeping_due(at_quiet_moment=True)
        )

    def _housekeep(self) -> bool:
        """Hold ingest back, commit what was acknowledged, let the store do its
        housekeeping, then resume. False when the pipeline must stop.

        DuckDB folds its write-ahead log into the file inside some commit otherwise, and
        that commit takes 0.5 to 2 s longer: every event acknowledged before it would
        become visible that much later. Refusing new batches (429, retry after
        ``retry_after``) while the backlog is committed and the log folded keeps what was
        acknowledged visible within the lag bound; the fold costs the same either way.
        """
        began = time.perf_counter()
        self._holding.set()
        try:
            policy = self._policy
            deadline = time.monotonic() + _HOUSEKEEPING_DRAIN_S
            while self._bus.lag and time.monotonic() < deadline and not self._abort.is_set():
                deliveries = self._bus.fetch(
                    max_weight=policy.max_events, min_weight=0, linger=0.0, timeout=0.05
                )
                if not deliveries:
                    break  # a shared bus may hold what this writer cannot fetch now
                if not self._commit_until_done(deliveries):
                    return False
            self._store.quiet_moment()
        finally:
            self._holding.clear()
        if self._store.housekeeping_due():  # not done: try again later, not every commit
            self._housekeep_after = time.monotonic() + _HOUSEKEEPING_RETRY_S
        held = time.perf_counter() - began
        log.info("ingest held back for the store's housekeeping", ms=round(held * 1000))
        if self._on_housekeeping is not None:
            self._on_housekeeping(held)
        return True

    def _commit(self, deliveries: list[Delivery]) -> None:
        started = time.perf_counter()
        tables: list[pa.Table] = []
        letters: list[DeadLetter] = []
        undecodable: list[Delivery] = []
        reason = ""
        for delivery in deliveries:
            try:
                table, batch_letters = decode_batch(delivery.payload)
            except Exception as exc:
                undecodable.append(delivery)
                reason = f"{type(exc).__name__}: {exc}"
                continue
            if table.num_rows:
                tables.append(table)
            letters.extend(batch_letters)
        if undecodable:  # before writing anything: the others are committed without them
            raise _Undecodable(undecodable, reason)
        result = WriteResult(0, 0)
        combined: pa.Table | None = None
        if tables:
            # One chunk: a commit from the partitioned bus gathers a few hundred small
            # messages, and every step after (dedupe, rollups, rendering, metrics) pays
            # per chunk; one copy here costs less than that (decision 0027).
            combined = tables[0] if len(tables) == 1 else pa.concat_tables(tables).combine_chunks()
            result = self._store.write_events(combined)
        if letters:
            self._store.write_dead_letters(letters)
        events = int(combined.num_rows) if combined is not None else 0
        self._observe_rate(events, time.perf_counter() - started)
        if self._on_commit is not None:
            self._on_commit(
                CommitStats(
                    events=int(combined.num_rows) if combined is not None else 0,
                    requests=len(deliveries),
                    seconds=time.perf_counter() - started,
                    inserted=result.inserted,
                    duplicates=result.duplicates,
                    table=combined,
                    new_rows=_new_rows(combined, result),
                )
            )

    def _observe_rate(self, events: int, seconds: float) -> None:
        # Only commits large enough to say something about throughput count; the fixed
        # cost of a tiny commit would make an idle store look slow.
        if events < 1000 or seconds <= 0:
            return
        rate = events / seconds
        previous = self._store_rate
        self._store_rate = rate if previous is None else 0.7 * previous + 0.3 * rate

    def _mark_committed(self, seq: int) -> None:
        done: list[Future[None]] = []
        with self._lock:
            self._committed_seq = max(self._committed_seq, seq)
            while self._waiters and self._waiters[0][0] <= self._committed_seq:
                done.append(heapq.heappop(self._waiters)[2])
        for future in done:
            future.set_result(None)


def _new_rows(table: pa.Table | None, result: WriteResult) -> pa.Table | None:
    """The rows a commit newly stored: as the store reports them, or the whole table when
    the store does not say but found no duplicate."""
    if result.new_rows is not None or table is None:
        return result.new_rows
    return table if result.duplicates == 0 else None


__all__ = ["CommitPolicy", "CommitStats", "Pipeline"]
