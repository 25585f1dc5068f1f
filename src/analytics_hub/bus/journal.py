"""``JournalBus``: the embedded hub's bus, an fsynced append-only journal on local disk.

Publishers hand over encoded batches; one sync thread appends everything that is waiting
with a single ``write`` and a single ``fdatasync`` (group commit), then resolves every
publisher's future at once. A message is delivered to the consumer only after that
fsync, so the store never holds anything the journal could lose.

The consumer (the writer) acknowledges messages once the store committed them. The
acknowledged position is kept in a small file; segments wholly below it are deleted. On
open, frames above the position are delivered again (at least once; the store's writes
are idempotent). A torn frame at the end of the last segment, the trace of a crash in the
middle of an append, was never acknowledged to anybody and is cut off.

``settle`` waits until the acknowledged position reaches the last one fsynced at the call.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from time import monotonic

import structlog

from analytics_hub.bus.base import Delivery
from analytics_hub.bus.segments import (
    encode_frame,
    fsync_directory,
    list_segments,
    scan,
    segment_name,
)
from analytics_hub.errors import BackpressureError, UnavailableError

log = structlog.get_logger(__name__)

ACKED_FILE = "acked"
DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024


@dataclass(slots=True)
class _Pending:
    seq: int
    weight: int
    payload: bytes
    frame: bytes
    future: Future[int]


@dataclass(slots=True)
class _Segment:
    path: Path
    last_seq: int  # 0 while empty


class JournalBus:
    """A durable, bounded, single-consumer bus in a directory of segment files."""

    def __init__(
        self,
        directory: Path,
        *,
        capacity: int,
        retry_after: float = 1.0,
        segment_bytes: int = DEFAULT_SEGMENT_BYTES,
    ) -> None:
        self._dir = directory
        self._capacity = capacity
        self._retry_after = retry_after
        self._segment_bytes = segment_bytes
        self._cond = threading.Condition()
        self._pending: list[_Pending] = []
        self._ready: deque[Delivery] = deque()
        self._ready_weight = 0
        self._lag = 0  # weight published or recovered, not acknowledged
        self._next_seq = 1
        self._acked = 0
        self._durable = 0  # the last position fsynced (or recovered): deliverable
        self._segments: list[_Segment] = []
        self._fd = -1
        self._size = 0
        self._open = False
        self._closing = False
        self._thread: threading.Thread | None = None

    # -- the port -----------------------------------------------------------------------

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def shared(self) -> bool:
        return False  # one process writes and reads its journal

    @property
    def lag(self) -> int:
        return self._lag

    @property
    def directory(self) -> Path:
        return self._dir

    def open(self) -> None:
        """Recover unacknowledged frames, open a fresh segment and start the sync thread."""
        if self._open:
            return
        self._dir.mkdir(parents=True, exist_ok=True)
        self._acked = self._read_acked()
        self._recover()
        self._next_seq = max(self._next_seq, self._acked + 1)
        self._durable = self._next_seq - 1
        self._start_segment()
        self._closing = False
        self._open = True
        self._thread = threading.Thread(target=self._sync_loop, name="hub-journal", daemon=True)
        self._thread.start()

    def publish(self, payload: bytes, weight: int) -> Future[int]:
        """Queue a message for the next group fsync (see the port)."""
        future: Future[int] = Future()
        # Running from the start: a waiter that gives up (a client gone, a cancelled
        # request) cannot cancel it, so the sync thread never meets a cancelled future
        # (setting its result would raise there and stop every later fsync).
        future.set_running_or_notify_cancel()
        with self._cond:
            if not self._open or self._closing:
                raise UnavailableError("the hub is shutting down", retry_after=self._retry_after)
            if self._lag and self._lag + weight > self._capacity:
                raise BackpressureError(
                    f"ingest pipeline is full ({self._lag} events waiting to be stored); "
                    f"retry after {self._retry_after:g} s",
                    retry_after=self._retry_after,
                )
            seq = self._next_seq
            self._next_seq += 1
            self._lag += weight
            # Framing (a CRC over the payload) happens here, in the publisher's thread,
            # under the lock only because the seq must match the append order.
            frame = encode_frame(seq, weight, payload)
            self._pending.append(_Pending(seq, weight, payload, frame, future))
            self._cond.notify_all()
        return future

    def fetch(
        self, *, max_weight: int, min_weight: int = 1, linger: float = 0.0, timeout: float
    ) -> list[Delivery]:
        """The next durable messages (see the port)."""
        deadline = monotonic() + timeout
        with self._cond:
            while not self._ready:
                left = deadline - monotonic()
                if left <= 0 or (self._closing and not self._pending):
                    return []
                self._cond.wait(left)
            linger_until = monotonic() + linger
            while self._ready_weight < min_weight and not self._closing:
                left = linger_until - monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            out: list[Delivery] = []
            weight = 0
            while self._ready and (not out or weight + self._ready[0].weight <= max_weight):
                delivery = self._ready.popleft()
                out.append(delivery)
                weight += delivery.weight
            self._ready_weight -= weight
            return out

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        """Record the consumer's progress and drop segments wholly behind it."""
        if not deliveries:
            return
        with self._cond:
            self._lag -= sum(d.weight for d in deliveries)
            self._acked = max(self._acked, max(d.seq for d in deliveries))
            acked = self._acked
            done = [s for s in self._segments[:-1] if 0 < s.last_seq <= acked]
            self._segments = [s for s in self._segments if s not in done]
            self._cond.notify_all()
        self._write_acked(acked)
        for segment in done:
            segment.path.unlink(missing_ok=True)

    def reject(self, deliveries: Sequence[Delivery], error: str) -> None:
        """Put the messages back at the head of the queue, to be fetched again at once.

        The journal keeps no attempt count and has no dead-letter subject: with a single
        consumer, order matters more than skipping a message that keeps failing.
        """
        if not deliveries:
            return
        log.warning("journal messages rejected; delivering again", error=error)
        with self._cond:
            for delivery in reversed(deliveries):
                self._ready.appendleft(delivery)
                self._ready_weight += delivery.weight
            self._cond.notify_all()

    def settle(self, timeout: float) -> bool:
        """Wait until the consumer acknowledged every message durable at the call.

        Positions are acknowledged in order by the one consumer (the in-process writer).
        False at the timeout, or when the journal is not open or closes meanwhile.
        """
        deadline = monotonic() + timeout
        with self._cond:
            target = self._durable
            while self._acked < target:
                left = deadline - monotonic()
                if left <= 0 or not self._open:
                    return False
                self._cond.wait(left)
            return self._open

    def close(self) -> None:
        """Flush what is pending, stop the sync thread, close the segment."""
        with self._cond:
            if not self._open:
                return
            self._closing = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._cond:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
            self._open = False
            self._cond.notify_all()  # settle's waiters give up

    # -- the sync thread ----------------------------------------------------------------

    def _sync_loop(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closing:
                    self._cond.wait()
                batch, self._pending = self._pending, []
                if not batch and self._closing:
                    return
            self._append(batch)

    def _append(self, batch: list[_Pending]) -> None:
        try:
            if self._size >= self._segment_bytes:
                self._start_segment()
            data = b"".join(p.frame for p in batch)
            written = 0
            while written < len(data):
                written += os.write(self._fd, data[written:])
            os.fdatasync(self._fd)
        except OSError as exc:
            self._fail(batch, exc)
            return
        self._size += len(data)
        with self._cond:
            self._segments[-1].last_seq = batch[-1].seq
            self._durable = batch[-1].seq
            for p in batch:
                self._ready.append(Delivery(seq=p.seq, payload=p.payload, weight=p.weight))
                self._ready_weight += p.weight
            self._cond.notify_all()
        for p in batch:
            p.future.set_result(p.seq)

    def _fail(self, batch: list[_Pending], exc: OSError) -> None:
        """A failed append: cut the segment back, refuse the batch, keep serving."""
        log.error("journal append failed", error=str(exc), messages=len(batch))
        try:
            os.ftruncate(self._fd, self._size)
        except OSError:
            log.error("journal could not be cut back after a failed append", exc_info=True)
        with self._cond:
            self._lag -= sum(p.weight for p in batch)
            self._cond.notify_all()
        err = UnavailableError(f"the journal could not write: {exc}", retry_after=5.0)
        for p in batch:
            p.future.set_exception(err)

    # -- files --------------------------------------------------------------------------

    def _start_segment(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
        path = self._dir / segment_name(self._next_seq)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._size = os.fstat(self._fd).st_size
        fsync_directory(self._dir)
        with self._cond:
            self._segments.append(_Segment(path=path, last_seq=0))

    def _recover(self) -> None:
        recovered = 0
        for path in list_segments(self._dir):
            result = scan(path)
            if result.damaged:
                # The tail of an append that never finished: it was never acknowledged.
                log.warning(
                    "journal segment had an incomplete tail; cut off",
                    segment=path.name,
                    kept_bytes=result.valid_bytes,
                    dropped_bytes=result.size - result.valid_bytes,
                )
                with path.open("r+b") as f:
                    f.truncate(result.valid_bytes)
                    os.fsync(f.fileno())
            if not result.frames:
                path.unlink()
                continue
            last = result.frames[-1].seq
            self._next_seq = max(self._next_seq, last + 1)
            if last <= self._acked:
                path.unlink()
                continue
            self._segments.append(_Segment(path=path, last_seq=last))
            for frame in result.frames:
                if frame.seq <= self._acked:
                    continue
                self._ready.append(
                    Delivery(
                        seq=frame.seq, payload=frame.payload, weight=frame.weight, redelivered=True
                    )
                )
                self._ready_weight += frame.weight
                self._lag += frame.weight
                recovered += 1
        if recovered:
            log.info(
                "journal recovered unacknowledged messages", messages=recovered, events=self._lag
            )

    def _read_acked(self) -> int:
        try:
            return int((self._dir / ACKED_FILE).read_text().strip() or 0)
        except FileNotFoundError:
            return 0
        except ValueError:
            # Unreadable: deliver everything again, the store's writes are idempotent.
            log.warning("journal position unreadable; delivering every kept message again")
            return 0

    def _write_acked(self, seq: int) -> None:
        # Not fsynced on purpose: losing it only means delivering some messages again.
        tmp = self._dir / f"{ACKED_FILE}.tmp"
        tmp.write_text(str(seq))
        os.replace(tmp, self._dir / ACKED_FILE)


__all__ = ["DEFAULT_SEGMENT_BYTES", "JournalBus"]
