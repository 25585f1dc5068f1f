"""The NATS bus's barrier against a real JetStream: ``settle`` waits for the writer group.

``settle`` takes the stream's last sequence at the call and returns True once the group's
consumer acknowledged everything up to it, which writers do after the store committed it.
Every test works on its own stream and subject prefix and deletes them afterwards.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from nats.js import JetStreamContext
from tests.integration.bus.conftest import NATS_URL as URL
from tests.integration.bus.conftest import MakeBus

from analytics_hub.bus import jetstream as jsx
from analytics_hub.bus.nats import NatsBus, NatsTuning
from analytics_hub.ingest.pipeline import CommitPolicy, Pipeline
from analytics_hub.store.duckdb import DuckDBStore
from analytics_hub.testing.nats import delete_streams
from analytics_hub.testing.rows import make_event_rows

pytestmark = pytest.mark.service


def _publish(bus: NatsBus, *payloads: bytes) -> list[int]:
    return [bus.publish(p, 1).result(10) for p in payloads]


def _in_thread(bus: NatsBus, timeout: float) -> Future[bool]:
    """``bus.settle(timeout)`` called in a thread of its own."""
    result: Future[bool] = Future()

    def run() -> None:
        result.set_result(bus.settle(timeout))

    threading.Thread(target=run, daemon=True).start()
    return result


def _snapshots_taken(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """An event set once a ``settle`` has read the stream's last sequence."""
    taken = threading.Event()
    original = jsx.stream_last_seq

    async def noted(js: JetStreamContext, stream: str, *, timeout: float) -> int:
        seq = await original(js, stream, timeout=timeout)
        taken.set()
        return seq

    monkeypatch.setattr(jsx, "stream_last_seq", noted)
    return taken


def test_an_empty_stream_is_settled_at_once(make_bus: MakeBus) -> None:
    bus = make_bus()
    t0 = time.monotonic()
    assert bus.settle(5)
    assert time.monotonic() - t0 < 1.0


def test_settle_waits_until_the_group_acknowledged_what_was_published(
    make_bus: MakeBus,
) -> None:
    bus = make_bus()
    _publish(bus, b"a", b"b", b"c")
    t0 = time.monotonic()
    assert not bus.settle(0.3), "nothing was acknowledged yet"
    assert 0.25 <= time.monotonic() - t0 < 3.0  # it waited for the timeout, no longer
    got = bus.fetch(max_weight=2, timeout=2)
    assert [d.payload for d in got] == [b"a", b"b"]
    bus.ack(got)
    assert not bus.settle(0.3), "the last message is still unacknowledged"
    rest = bus.fetch(max_weight=10, timeout=2)
    assert [d.payload for d in rest] == [b"c"]
    bus.ack(rest)
    assert bus.settle(5)


def test_a_writer_in_another_process_acknowledging_releases_the_barrier(
    make_bus: MakeBus,
) -> None:
    ingest, writer = make_bus(), make_bus()  # two connections on one stream and group
    _publish(ingest, b"a", b"b")
    waiting = _in_thread(ingest, 10)
    time.sleep(0.2)
    assert not waiting.done()
    got = writer.fetch(max_weight=10, timeout=2)
    assert [d.payload for d in got] == [b"a", b"b"]
    writer.ack(got)
    assert waiting.result(10) is True


def test_messages_published_after_the_call_need_not_be_acknowledged(
    make_bus: MakeBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    bus = make_bus()
    _publish(bus, b"before-1", b"before-2")
    taken = _snapshots_taken(monkeypatch)
    waiting = _in_thread(bus, 10)
    assert taken.wait(5), "settle never read the stream"
    _publish(bus, b"after-1", b"after-2")
    assert not waiting.done()
    first = bus.fetch(max_weight=2, timeout=2)
    assert [d.payload for d in first] == [b"before-1", b"before-2"]
    bus.ack(first)  # the later ones stay unacknowledged
    assert waiting.result(10) is True
    assert not bus.settle(0.3), "a new call does wait for the later ones"


def test_a_dead_lettered_message_counts_as_acknowledged(make_bus: MakeBus) -> None:
    bus = make_bus(tuning=NatsTuning(max_deliveries=1, retry_delay=0.1, lag_interval=0.1))
    _publish(bus, b"poison", b"fine")
    got = bus.fetch(max_weight=10, timeout=2)
    assert [d.payload for d in got] == [b"poison", b"fine"]
    bus.reject(got[:1], "cannot store it")  # its last attempt: dead-lettered, then term'ed
    bus.ack(got[1:])
    assert bus.settle(5)


def test_settle_says_false_where_it_cannot_ask(make_bus: MakeBus) -> None:
    closed = make_bus(open_it=False)
    assert closed.settle(0.1) is False  # not open: no loop, no connection
    bus = make_bus()
    delete_streams(URL, bus.stream)  # the stream and its consumer are gone
    t0 = time.monotonic()
    assert bus.settle(1) is False  # answered, not raised
    assert time.monotonic() - t0 < 5.0


def test_a_pipeline_without_the_writer_role_waits_for_the_writers(
    make_bus: MakeBus, tmp_path: Path
) -> None:
    store = DuckDBStore(tmp_path / "events.duckdb")
    store.migrate()
    quick = CommitPolicy(max_events=50_000, min_events=1, linger=0.0)
    analytics = Pipeline(store, make_bus(open_it=False), policy=quick, writer=False)
    writer = Pipeline(store, make_bus(open_it=False), policy=quick)
    try:
        assert analytics.can_settle, "a shared bus can tell, whatever the roles"
        assert writer.can_settle
        analytics.start()
        assert analytics.settle(5)
        start = datetime.now(UTC) - timedelta(hours=1)
        analytics.submit(make_event_rows(50, start=start, seed=1)).result(10)
        assert not analytics.settle(0.3), "no writer has committed the batch"
        writer.start()
        assert analytics.settle(10)
        rows = store.fetch("SELECT count(*) FROM events", []).rows
        assert int(rows[0][0]) == 50
    finally:
        writer.stop()
        analytics.stop()
        store.close()
