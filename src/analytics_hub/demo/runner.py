"""Send the demo's traffic to a hub: the backfill first, then live ticks until stopped.

The runner knows nothing of HTTP. It is given a ``client_factory`` that returns, for a
tenant name, something with ``send(events)`` and ``close()`` — in practice an
:class:`analytics_hub.client.HubClient` holding that tenant's API key (the layer
contract keeps ``demo`` and ``client`` independent, so the assembly, the CLI, joins them)::

    keys = {"acme": acme_key, "globex": globex_key}
    runner = DemoRunner(lambda tenant: HubClient(url, keys[tenant]), DemoGenerator(seed=7))
    threading.Thread(target=runner.run, daemon=True).start()
    ...
    runner.stop()
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from analytics_hub.demo.generator import DemoGenerator, default_window
from analytics_hub.demo.incidents import Incident, describe_incidents

log = logging.getLogger(__name__)


class SendReport(Protocol):
    """What a sink says about one send (``IngestReport`` of the client fits)."""

    @property
    def accepted(self) -> int:
        """Events the hub stored."""
        ...

    @property
    def rejected(self) -> int:
        """Events the hub refused."""
        ...


class EventSink(Protocol):
    """Where a tenant's events go (``HubClient`` fits)."""

    def send(self, events: Iterable[Mapping[str, Any]]) -> SendReport:
        """Deliver ``events``; raise if they could not be delivered."""
        ...

    def close(self) -> None:
        """Release the sink's resources."""
        ...


@dataclass(slots=True)
class RunStats:
    """Counts of one run."""

    backfilled: int = 0
    live: int = 0
    accepted: int = 0
    rejected: int = 0
    failed_sends: int = 0


class DemoRunner:
    """Backfill ``backfill`` of history, then stream live traffic every ``tick_seconds``.

    A live send that fails (the hub restarting, backpressure outlasting the client's
    retries) is logged and the tick's events are dropped — this is a demo — unless
    ``max_consecutive_failures`` sends in a row fail, which ends the run with the last
    error. A failure during the backfill ends the run at once.
    """

    def __init__(
        self,
        client_factory: Callable[[str], EventSink],
        generator: DemoGenerator,
        *,
        backfill: timedelta | None = timedelta(days=7),
        tick_seconds: float = 1.0,
        chunk_size: int = 5000,
        max_consecutive_failures: int = 30,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        log_every_seconds: float = 60.0,
    ) -> None:
        if tick_seconds < 0 or chunk_size < 1:
            raise ValueError("tick_seconds must be >= 0 and chunk_size >= 1")
        self._factory = client_factory
        self._generator = generator
        self._backfill = backfill
        self._tick = tick_seconds
        self._chunk = chunk_size
        self._max_failures = max_consecutive_failures
        self._clock = clock
        self._log_every = log_every_seconds
        self._stopped = threading.Event()
        self.stats = RunStats()

    @property
    def generator(self) -> DemoGenerator:
        """The generator being sent."""
        return self._generator

    def incidents(self) -> list[Incident]:
        """Where the injected incidents are (known once the run has started)."""
        return self._generator.incidents()

    def stop(self) -> None:
        """Ask a running :meth:`run` to return after its current tick. Thread-safe."""
        self._stopped.set()

    def run(self) -> RunStats:
        """Backfill, then send live ticks until :meth:`stop`; returns the counts."""
        sinks = {name: self._factory(name) for name in self._generator.tenant_names}
        try:
            now = self._clock()
            if self._backfill is not None and self._backfill > timedelta(0):
                self._send_backfill(sinks, *default_window(now, self._backfill / timedelta(days=1)))
            self._stream(sinks)
        finally:
            for sink in sinks.values():
                sink.close()
        return self.stats

    def _send_backfill(self, sinks: dict[str, EventSink], start: datetime, end: datetime) -> None:
        log.info("demo backfill %s .. %s for %s", start.isoformat(), end.isoformat(), list(sinks))
        for incident in self._generator.incidents() or _incidents_from(self._generator, start):
            log.info(
                "demo incident %s: %s/%s from %s",
                incident.key,
                incident.tenant,
                incident.asset_id,
                incident.start.isoformat(),
            )
        for name, sink in sinks.items():
            events = self._generator.backfill(start, end, tenant=name)
            for chunk in _chunks(events, self._chunk):
                if self._stopped.is_set():
                    return
                self._record(sink.send(chunk))
                self.stats.backfilled += len(chunk)
                log.info("demo backfill %s: %d events sent", name, self.stats.backfilled)

    def _stream(self, sinks: dict[str, EventSink]) -> None:
        failures = 0
        last_log = time.monotonic()
        while not self._stopped.is_set():
            now = self._clock()
            for name, sink in sinks.items():
                events = self._generator.live(now, tenant=name)
                if not events:
                    continue
                try:
                    self._record(sink.send(events))
                except Exception:  # the sink's errors are not ours to know; the demo goes on
                    failures += 1
                    self.stats.failed_sends += 1
                    log.warning("demo live send failed (%d in a row)", failures, exc_info=True)
                    if failures >= self._max_failures:
                        raise
                    continue
                failures = 0
                self.stats.live += len(events)
            if time.monotonic() - last_log >= self._log_every:
                last_log = time.monotonic()
                log.info(
                    "demo live: %d events sent, %d rejected", self.stats.live, self.stats.rejected
                )
            self._stopped.wait(self._tick)

    def _record(self, report: SendReport) -> None:
        self.stats.accepted += report.accepted
        self.stats.rejected += report.rejected
        if report.rejected:
            log.warning("demo: the hub rejected %d events", report.rejected)


def _chunks(events: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    while chunk := list(itertools.islice(events, size)):
        yield chunk


def _incidents_from(generator: DemoGenerator, start: datetime) -> list[Incident]:
    # Before the first backfill call the generator has no start yet; it will be this one
    # unless one was given to the generator.
    return [i for i in describe_incidents(start) if i.tenant in generator.tenant_names]


__all__ = ["DemoRunner", "EventSink", "RunStats", "SendReport"]
