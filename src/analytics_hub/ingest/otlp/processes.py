"""Preparing OTLP requests in worker processes, beside the process that stores them.

Decoding, mapping and normalising a span is about fifteen microseconds of Python: in the
serving process that work holds the interpreter lock the store writer needs for every
call into DuckDB, so under OTLP load the writer commits at less than half its speed
(decision 0031). A preparing process does that work under its own interpreter lock; the
serving process only sends the body and takes back the normalised batch (its rows as an
Arrow IPC stream). Processes are forked from a fork server that has imported the mapping code, so
they start in a fraction of a second and not before the first request needs them.

A preparing process ends itself within a second of the serving process's end, even a
kill. A process that dies (killed, out of memory) fails the requests it held with
:class:`~analytics_hub.errors.UnavailableError` (503: OTLP exporters retry it) and the
next request starts a new pool. Nothing was acknowledged for those requests, so nothing
is lost.

An observer (the hub's ``/metrics``) sees how long each request spent with the processes,
waiting for one included, and each pool replaced after a process stopped; ``in_flight``
counts the requests held. More requests held than there are processes means requests
queue for one: the processes are the bound.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from analytics_hub.errors import UnavailableError
from analytics_hub.events import DecodedBatch, EventError, Normalizer
from analytics_hub.ingest.otlp.options import OtlpOptions
from analytics_hub.ingest.otlp.prepare import Prepared, Signal, prepare
from analytics_hub.ingest.otlp.wire import OtlpEncoding

log = logging.getLogger(__name__)

# How often a preparing process checks that the serving process is still there.
_WATCH_SECONDS = 1.0
# The state of a preparing process, set once by its initializer.
_settings: tuple[Normalizer, OtlpOptions] | None = None


def _start(normalizer: Normalizer, options: OtlpOptions, serving_pid: int) -> None:
    global _settings
    _settings = (normalizer, options)
    threading.Thread(target=_watch, args=(serving_pid,), name="watch-serving", daemon=True).start()


def _watch(serving_pid: int) -> None:
    # A preparing process is the fork server's child, and holds both ends of its queues:
    # when the serving process is killed nothing would end it. So it ends itself.
    while _alive(serving_pid):
        time.sleep(_WATCH_SECONDS)
    os._exit(0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - another user's process took the id
        return False
    try:  # a killed process that its parent has not reaped yet is a zombie: gone
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):  # no /proc (not Linux): the signal test decides
        return True
    return state != "Z"


class PreparingObserver(Protocol):
    """Told about the work of :class:`PreparingProcesses` (the hub's metrics)."""

    def otlp_prepared(self, seconds: float) -> None:
        """A request came back from a process, prepared or refused, after ``seconds``
        (the wait for a free process included)."""

    def otlp_pool_replaced(self) -> None:
        """A pool was given up because one of its processes stopped."""


@dataclass(frozen=True, slots=True)
class _Shipped:
    """A :class:`Prepared` as it crosses back: the rows as one Arrow IPC stream. Pickling
    the table itself pickles every buffer of every column one by one: five times the
    cost (3.0–3.3 against 0.6–0.7 ms a 500-span request, there and back)."""

    items: int
    dropped: int
    rows: bytes
    errors: list[EventError]
    rejected_raw: dict[int, str]
    total: int

    @classmethod
    def of(cls, prepared: Prepared) -> _Shipped:
        batch = prepared.batch
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, batch.table.schema) as writer:
            writer.write_table(batch.table)
        rows = sink.getvalue().to_pybytes()
        return cls(
            prepared.items, prepared.dropped, rows, batch.errors, batch.rejected_raw, batch.total
        )

    def prepared(self) -> Prepared:
        table = pa.ipc.open_stream(pa.py_buffer(self.rows)).read_all()
        batch = DecodedBatch(table, self.errors, self.rejected_raw, self.total)
        return Prepared(self.items, self.dropped, batch)


def _prepare(signal: Signal, tenant_id: str, body: bytes, encoding: OtlpEncoding) -> _Shipped:
    if _settings is None:  # pragma: no cover - the pool always runs the initializer
        raise RuntimeError("preparing process not initialised")
    normalizer, options = _settings
    return _Shipped.of(prepare(signal, normalizer, options, tenant_id, body, encoding))


def _context() -> multiprocessing.context.BaseContext:
    # Not "fork": the serving process runs threads (DuckDB's, the writer) whose locks a
    # forked child would inherit held. The fork server is a clean single-threaded
    # process, started once, that has already imported the mapping code.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([prepare.__module__])
    return context


class PreparingProcesses:
    """``processes`` worker processes that prepare OTLP requests (see the module)."""

    def __init__(
        self,
        normalizer: Normalizer,
        options: OtlpOptions,
        *,
        processes: int,
        observer: PreparingObserver | None = None,
    ) -> None:
        if processes < 1:
            raise ValueError(f"processes must be >= 1, got {processes}")
        self._normalizer = normalizer
        self._options = options
        self._processes = processes
        self._observer = observer
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._in_flight = 0

    @property
    def processes(self) -> int:
        """How many processes prepare requests."""
        return self._processes

    @property
    def in_flight(self) -> int:
        """Requests sent to the processes and not yet back (queued or being prepared)."""
        return self._in_flight

    def _current(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise UnavailableError("the hub is shutting down", retry_after=1.0)
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self._processes,
                    mp_context=_context(),
                    initializer=_start,
                    initargs=(self._normalizer, self._options, os.getpid()),
                )
            return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            current = self._pool is pool
            if current:
                self._pool = None
        # Every request the pool held sees it broken: the first one counts the loss.
        if current and self._observer is not None:
            self._observer.otlp_pool_replaced()
        pool.shutdown(wait=False, cancel_futures=True)

    async def prepare(
        self, signal: Signal, tenant_id: str, body: bytes, encoding: OtlpEncoding
    ) -> Prepared:
        """Prepare one request in a worker process; its errors are raised here."""
        with self._lock:  # callers may await it on more than one thread
            self._in_flight += 1
        began = time.perf_counter()
        try:
            return await self._prepare(signal, tenant_id, body, encoding)
        finally:
            with self._lock:
                self._in_flight -= 1
            if self._observer is not None:
                self._observer.otlp_prepared(time.perf_counter() - began)

    async def _prepare(
        self, signal: Signal, tenant_id: str, body: bytes, encoding: OtlpEncoding
    ) -> Prepared:
        pool = self._current()
        try:
            future = pool.submit(_prepare, signal, tenant_id, body, encoding)
        except BrokenProcessPool:
            # A process stopped before this request came: a new pool takes it.
            log.error("an OTLP preparing process had stopped; starting a new pool")
            self._discard(pool)
            pool = self._current()
            future = pool.submit(_prepare, signal, tenant_id, body, encoding)
        try:
            shipped: _Shipped = await asyncio.wrap_future(future)
        except BrokenProcessPool:
            # This request may be what stopped it (a body that exhausts the memory): it
            # is not tried again, and the client's retry goes to a new pool.
            log.error("an OTLP preparing process stopped; starting a new pool")
            self._discard(pool)
            raise UnavailableError(
                "the process preparing this request stopped; retry", retry_after=1.0
            ) from None
        return shipped.prepared()

    def close(self) -> None:
        """Stop the processes (requests still waiting for one are cancelled)."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


__all__ = ["PreparingObserver", "PreparingProcesses"]
