"""The bounded write pipeline: queue, one writer thread, group commit.

Requests put decoded batches on a queue bounded in events and wait for their commit. One
writer thread takes everything that is waiting (up to ``commit_max_events``), writes it in
one store transaction and answers every waiting request at once. Many small requests thus
share one commit, which is what makes "acknowledged means durable" fast. A full queue is
refused at once (``BackpressureError``): memory stays bounded and nothing acknowledged is
ever dropped.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass

import pyarrow as pa
import structlog

from analytics_hub.errors import BackpressureError, HubError, UnavailableError
from analytics_hub.store.base import DeadLetter, EventStore, WriteResult

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class _Job:
    table: pa.Table
    letters: Sequence[DeadLetter]
    future: Future[int]

    @property
    def size(self) -> int:
        return int(self.table.num_rows) + len(self.letters)


@dataclass(frozen=True, slots=True)
class CommitStats:
    """One group commit, as reported to the metrics observer."""

    events: int
    requests: int
    seconds: float
    inserted: int
    duplicates: int
    table: pa.Table | None = None  # what was committed (None when only dead letters)


class Pipeline:
    """Bounded queue in front of an ``EventStore`` with a single group-committing writer."""

    def __init__(
        self,
        store: EventStore,
        *,
        capacity_events: int,
        commit_max_events: int,
        retry_after: float = 1.0,
        on_commit: Callable[[CommitStats], None] | None = None,
    ) -> None:
        self._store = store
        self._capacity = capacity_events
        self._commit_max = commit_max_events
        self._retry_after = retry_after
        self._on_commit = on_commit
        self._queue: deque[_Job] = deque()
        self._depth = 0  # events queued or being written
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    @property
    def depth(self) -> int:
        """Events accepted but not yet committed."""
        return self._depth

    @property
    def capacity(self) -> int:
        return self._capacity

    def start(self) -> None:
        """Start the writer thread."""
        if self._thread is None:
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="hub-writer", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Commit what is queued, then stop the writer."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def submit(self, table: pa.Table, letters: Sequence[DeadLetter] = ()) -> Future[int]:
        """Queue a batch; the future gives its event count once it is durable.

        Raises ``BackpressureError`` at once when the queue cannot take the batch, and
        ``UnavailableError`` when the pipeline is stopping.
        """
        job = _Job(table=table, letters=letters, future=Future())
        with self._cond:
            if self._stopping or self._thread is None:
                raise UnavailableError("the hub is shutting down", retry_after=self._retry_after)
            if self._depth and self._depth + job.size > self._capacity:
                raise BackpressureError(
                    f"ingest pipeline is full ({self._depth} events waiting to be stored); "
                    f"retry after {self._retry_after:g} s",
                    retry_after=self._retry_after,
                )
            self._queue.append(job)
            self._depth += job.size
            self._cond.notify()
        return job.future

    async def write(self, table: pa.Table, letters: Sequence[DeadLetter] = ()) -> int:
        """Queue a batch and wait, without blocking the event loop, until it is durable."""
        return await asyncio.wrap_future(self.submit(table, letters))

    def _take(self) -> list[_Job]:
        with self._cond:
            while not self._queue and not self._stopping:
                self._cond.wait()
            jobs: list[_Job] = []
            events = 0
            while self._queue and (not jobs or events + self._queue[0].size <= self._commit_max):
                job = self._queue.popleft()
                jobs.append(job)
                events += job.size
            return jobs

    def _run(self) -> None:
        while True:
            jobs = self._take()
            if not jobs:
                return  # stopping and drained
            self._commit(jobs)

    def _commit(self, jobs: list[_Job]) -> None:
        started = time.perf_counter()
        tables = [j.table for j in jobs if j.table.num_rows]
        letters = [letter for j in jobs for letter in j.letters]
        size = sum(j.size for j in jobs)
        combined: pa.Table | None = None
        try:
            result = WriteResult(0, 0)
            if tables:
                combined = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
                result = self._store.write_events(combined)
            if letters:
                self._store.write_dead_letters(letters)
        except Exception as exc:  # the store failed: nobody in this group is acknowledged
            log.error("store write failed", error=str(exc), events=size, exc_info=True)
            err: HubError = (
                exc
                if isinstance(exc, HubError)
                else UnavailableError(f"the event store could not write: {exc}", retry_after=5.0)
            )
            for job in jobs:
                job.future.set_exception(err)
        else:
            for job in jobs:
                job.future.set_result(int(job.table.num_rows))
            if self._on_commit is not None:
                self._on_commit(
                    CommitStats(
                        events=int(sum(t.num_rows for t in tables)),
                        requests=len(jobs),
                        seconds=time.perf_counter() - started,
                        inserted=result.inserted,
                        duplicates=result.duplicates,
                        table=combined if tables else None,
                    )
                )
        finally:
            with self._cond:
                self._depth -= size


__all__ = ["CommitStats", "Pipeline"]
