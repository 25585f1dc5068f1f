"""The JetStream bus against a real NATS server: order, bounds, redelivery, dead letters.

Every test works on its own stream and subject prefix and deletes them afterwards, so
tests never see each other's messages on the shared server.
"""

from __future__ import annotations

import functools
import signal
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats.errors
import pytest
import zstandard
from nats.js import JetStreamContext
from tests.integration.bus.conftest import NATS_URL as URL
from tests.integration.bus.conftest import MakeBus

from analytics_hub.bus import jetstream as jsx
from analytics_hub.bus.nats import NatsBus, NatsTuning
from analytics_hub.errors import BackpressureError, UnavailableError
from analytics_hub.events import CANONICAL_MODULES
from analytics_hub.ingest.batchcodec import decode_batch, encode_batch
from analytics_hub.ingest.busrouting import route_batch
from analytics_hub.testing.nats import (
    read_stream,
)
from analytics_hub.testing.natscluster import free_port
from analytics_hub.testing.rows import make_event_rows

pytestmark = pytest.mark.service

CONSUMER = Path(__file__).with_name("nats_crash_consumer.py")


def _publish(bus: NatsBus, *payloads: bytes, weight: int = 1) -> list[int]:
    return [bus.publish(p, weight).result(10) for p in payloads]


def _eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_messages_come_back_in_order_and_acks_clear_the_lag(make_bus: MakeBus) -> None:
    bus = make_bus()
    seqs = _publish(bus, b"a", b"b", b"c")
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 3
    got = bus.fetch(max_weight=10, timeout=2)
    assert [d.payload for d in got] == [b"a", b"b", b"c"]
    assert [d.seq for d in got] == seqs  # the stream sequence
    assert not any(d.redelivered for d in got)
    assert bus.lag == 3
    bus.ack(got)
    assert bus.lag == 0
    time.sleep(0.3)  # a few consumer-info refreshes: the server agrees
    assert bus.lag == 0
    assert bus.fetch(max_weight=10, timeout=0.2) == []


def test_fetch_respects_max_weight_but_always_returns_one(make_bus: MakeBus) -> None:
    bus = make_bus()
    _publish(bus, b"x", weight=300)
    _publish(bus, b"y", weight=300)
    first = bus.fetch(max_weight=100, timeout=2)
    assert [(d.payload, d.weight) for d in first] == [(b"x", 300)]
    second = bus.fetch(max_weight=1000, timeout=2)
    assert [d.payload for d in second] == [b"y"]


def test_fetch_times_out_empty_and_lingers_for_min_weight(make_bus: MakeBus) -> None:
    bus = make_bus()
    t0 = time.monotonic()
    assert bus.fetch(max_weight=10, timeout=0.3) == []
    assert time.monotonic() - t0 >= 0.25
    _publish(bus, b"1")
    threading.Timer(0.2, lambda: bus.publish(b"2", 1)).start()
    got = bus.fetch(max_weight=10, min_weight=2, linger=3.0, timeout=2)
    assert [d.payload for d in got] == [b"1", b"2"]


def test_a_full_bus_refuses_at_once(make_bus: MakeBus) -> None:
    bus = make_bus(capacity=100, retry_after=3.0)
    _publish(bus, b"a", weight=60)
    with pytest.raises(BackpressureError) as exc:
        bus.publish(b"b", 60)
    assert exc.value.retry_after == 3.0
    bus.ack(bus.fetch(max_weight=100, timeout=2))
    _publish(bus, b"b", weight=60)  # room again once acknowledged
    bus.close()
    with pytest.raises(UnavailableError):
        bus.publish(b"c", 1)


def test_an_ingest_node_sees_what_others_published_and_refuses(make_bus: MakeBus) -> None:
    writer = make_bus()
    _publish(writer, *[b"m%d" % i for i in range(10)], weight=5)
    # Another process: it counts the consumer's pending messages at their typical weight.
    ingest = make_bus(capacity=60, tuning=NatsTuning(typical_weight=5, lag_interval=0.1))
    _eventually(lambda: ingest.lag == 50)
    with pytest.raises(BackpressureError):
        ingest.publish(b"more", 20)
    got: list[Any] = []
    while len(got) < 10:
        got += writer.fetch(max_weight=100, timeout=2)
    writer.ack(got)
    _eventually(lambda: ingest.lag == 0)
    _publish(ingest, b"more", weight=20)


def test_a_live_holder_keeps_its_messages_past_the_ack_wait(make_bus: MakeBus) -> None:
    holder = make_bus(tuning=NatsTuning(ack_wait=1.0, lag_interval=0.1))
    _publish(holder, b"slow commit")
    held = holder.fetch(max_weight=10, timeout=2)
    other = make_bus(tuning=NatsTuning(ack_wait=1.0))
    time.sleep(2.5)  # more than twice the ack wait: in-progress acks keep it ours
    assert other.fetch(max_weight=10, timeout=0.5) == []
    holder.ack(held)
    _eventually(lambda: other.lag == 0)


def test_a_killed_consumers_messages_are_delivered_again(make_bus: MakeBus) -> None:
    first = make_bus()  # creates the stream and the consumer
    payloads = [b"p%d" % i for i in range(5)]
    _publish(first, *payloads)
    first.close()
    proc = subprocess.Popen(
        [sys.executable, str(CONSUMER), URL, first.stream, first.subject_prefix, first.group,
         "1.0", "5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.split() == [p.decode() for p in payloads], proc.stderr
        second = make_bus()
        assert second.fetch(max_weight=10, timeout=0.3) == []  # the consumer holds them
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        got: list[Any] = []
        deadline = time.monotonic() + 10  # redelivered after the ack wait of 1 s
        while len(got) < 5 and time.monotonic() < deadline:
            got += second.fetch(max_weight=10, timeout=1)
        assert [d.payload for d in got] == payloads
        assert all(d.redelivered for d in got)
        second.ack(got)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


def test_a_message_rejected_on_every_attempt_is_dead_lettered_with_its_error(
    make_bus: MakeBus,
) -> None:
    bus = make_bus(tuning=NatsTuning(max_deliveries=3, retry_delay=0.1, lag_interval=0.1))
    payload = b"poison " * 500  # large enough to travel compressed
    (seq,) = _publish(bus, payload, weight=7)
    for attempt in range(1, 4):
        got: list[Any] = []
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            got = bus.fetch(max_weight=10, timeout=1)
        assert [d.seq for d in got] == [seq]
        bus.reject(got, f"store refused it: attempt {attempt}\nsecond line")
    _eventually(lambda: len(read_stream(URL, bus.dead_letter_stream)) == 1)
    (dead,) = read_stream(URL, bus.dead_letter_stream)
    assert dead.subject == f"deadletter.{bus.subject_prefix}.unrouted.0"
    assert dead.headers[jsx.ERROR] == "store refused it: attempt 3 second line"
    assert dead.headers[jsx.DELIVERIES] == "3"
    assert dead.headers[jsx.ORIGINAL_SEQ] == str(seq)
    assert dead.headers[jsx.WEIGHT] == "7"
    assert dead.headers[jsx.ENCODING] == "zstd"
    assert zlib.crc32(_unzstd(dead.data)) == zlib.crc32(payload)
    assert bus.fetch(max_weight=10, timeout=0.5) == []  # no longer delivered
    _eventually(lambda: bus.lag == 0)


def test_a_message_that_keeps_killing_its_consumer_is_dead_lettered(make_bus: MakeBus) -> None:
    tuning = NatsTuning(max_deliveries=2, lag_interval=0.1)
    (seq,) = _publish(make_bus(tuning=tuning), b"crashes the writer")
    for _ in range(2):  # two consumers take it and die (closing hands it back)
        bus = make_bus(tuning=tuning)
        assert [d.seq for d in bus.fetch(max_weight=10, timeout=2)] == [seq]
        bus.close()
    last = make_bus(tuning=tuning)
    assert last.fetch(max_weight=10, timeout=1) == []  # the third delivery is not handed out
    _eventually(lambda: len(read_stream(URL, last.dead_letter_stream)) == 1)
    (dead,) = read_stream(URL, last.dead_letter_stream)
    assert dead.headers[jsx.ERROR] == "delivered 2 times without being acknowledged"
    assert dead.data == b"crashes the writer"


def test_a_publish_retried_after_a_lost_ack_is_stored_once(
    make_bus: MakeBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    bus = make_bus()
    real = JetStreamContext.publish
    calls: list[dict[str, str]] = []

    async def ack_lost_once(self: JetStreamContext, *args: Any, **kwargs: Any) -> Any:
        calls.append(dict(kwargs["headers"]))
        ack = await real(self, *args, **kwargs)  # stored...
        if len(calls) == 1:
            raise nats.errors.TimeoutError  # ...but the answer never arrived
        return ack

    monkeypatch.setattr(JetStreamContext, "publish", ack_lost_once)
    (seq,) = _publish(bus, b"exactly once")
    assert len(calls) == 2
    assert calls[0][jsx.MSG_ID] == calls[1][jsx.MSG_ID]
    stored = read_stream(URL, bus.stream)
    assert [(m.seq, m.data) for m in stored] == [(seq, b"exactly once")]
    assert [d.payload for d in bus.fetch(max_weight=10, timeout=2)] == [b"exactly once"]


def test_routed_pieces_are_on_module_and_partition_subjects(make_bus: MakeBus) -> None:
    bus = make_bus(router=functools.partial(route_batch, partitions=4))
    table = make_event_rows(2000, start=datetime.now(UTC), seed=5)
    seq = bus.publish(encode_batch(table, []), table.num_rows).result(10)
    stored = read_stream(URL, bus.stream)
    assert max(m.seq for m in stored) == seq
    ids: list[str] = []
    for m in stored:
        prefix, module, partition = m.subject.rsplit(".", 2)
        assert prefix == bus.subject_prefix
        assert module in CANONICAL_MODULES
        rows, _ = decode_batch(_unzstd(m.data) if jsx.ENCODING in m.headers else m.data)
        assert set(rows.column("source_module").to_pylist()) == {module}
        assets = rows.column("asset_id").to_pylist()
        assert {zlib.crc32(a.encode()) % 4 if a else 0 for a in assets} == {int(partition)}
        assert int(m.headers[jsx.WEIGHT]) == rows.num_rows
        ids += rows.column("event_id").to_pylist()
    assert sorted(ids) == sorted(table.column("event_id").to_pylist())
    got: list[Any] = []
    while sum(d.weight for d in got) < 2000:
        got += bus.fetch(max_weight=100_000, timeout=2)
    assert sum(decode_batch(d.payload)[0].num_rows for d in got) == 2000


def _unzstd(data: bytes) -> bytes:
    return bytes(zstandard.ZstdDecompressor().decompress(data))


def test_opening_without_a_reachable_server_fails_within_the_setup_timeout() -> None:
    bus = NatsBus(
        f"nats://127.0.0.1:{free_port()}", capacity=10, tuning=NatsTuning(setup_timeout=1.0)
    )
    t0 = time.monotonic()
    with pytest.raises(UnavailableError, match="cannot open the NATS bus"):
        bus.open()
    assert time.monotonic() - t0 < 10
    with pytest.raises(UnavailableError):
        bus.publish(b"x", 1)


def test_close_answers_every_publish_it_accepted(make_bus: MakeBus) -> None:
    bus = make_bus()
    futures = [bus.publish(b"late %d" % i, 1) for i in range(200)]
    bus.close()
    assert all(f.done() for f in futures)
    assert all(f.exception() is None for f in futures)  # in flight: waited for, not dropped
    assert bus.lag == 200  # stored, not yet consumed


def test_a_fetch_after_one_whose_pull_request_outlived_it_still_gets_new_messages(
    make_bus: MakeBus,
) -> None:
    bus = make_bus()
    threading.Timer(0.2, lambda: bus.publish(b"first", 1)).start()
    # Answered at about 0.2 s; its pull request stays open at the server until 2 s.
    assert [d.payload for d in bus.fetch(max_weight=10, timeout=2)] == [b"first"]
    threading.Timer(2.5, lambda: bus.publish(b"second", 1)).start()  # after it expired
    t0 = time.monotonic()
    got = bus.fetch(max_weight=10, timeout=6)
    assert [d.payload for d in got] == [b"second"]
    assert time.monotonic() - t0 < 5  # delivered when published, not at the timeout
