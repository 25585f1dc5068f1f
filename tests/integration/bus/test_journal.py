"""The embedded journal on a real file system: durability, recovery, bounds, cleanup."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from analytics_hub.bus.journal import JournalBus
from analytics_hub.bus.segments import HEADER, encode_frame, list_segments, scan
from analytics_hub.errors import BackpressureError, UnavailableError


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[JournalBus]:
    bus = JournalBus(tmp_path / "j", capacity=1000)
    bus.open()
    yield bus
    bus.close()


def _publish(bus: JournalBus, *payloads: bytes, weight: int = 1) -> list[int]:
    return [bus.publish(p, weight).result(5) for p in payloads]


def test_messages_come_back_in_order_after_they_are_durable(journal: JournalBus) -> None:
    seqs = _publish(journal, b"a", b"b", b"c")
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 3
    got = journal.fetch(max_weight=10, timeout=1)
    assert [d.payload for d in got] == [b"a", b"b", b"c"]
    assert [d.seq for d in got] == seqs
    assert not any(d.redelivered for d in got)
    assert journal.lag == 3
    journal.ack(got)
    assert journal.lag == 0


def test_a_waiter_that_gives_up_does_not_stop_the_journal(journal: JournalBus) -> None:
    # A request cancelled while it waits for durability (its client went away) cancels
    # the future it awaits: that must neither succeed nor stop later fsyncs.
    futures = [journal.publish(b"gone", 1) for _ in range(50)]
    assert not any(f.cancel() for f in futures)

    async def waiter() -> None:
        await asyncio.wrap_future(journal.publish(b"awaited", 1))

    async def cancel_it() -> None:
        task = asyncio.create_task(waiter())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_it())
    assert [f.result(5) for f in futures] == sorted(f.result(5) for f in futures)
    assert _publish(journal, b"after")  # the sync thread is alive
    got = journal.fetch(max_weight=100, timeout=1)
    assert [d.payload for d in got] == [b"gone"] * 50 + [b"awaited", b"after"]


def test_fetch_respects_max_weight_but_always_returns_one(journal: JournalBus) -> None:
    _publish(journal, b"x", weight=300)
    _publish(journal, b"y", weight=300)
    first = journal.fetch(max_weight=100, timeout=1)
    assert [d.payload for d in first] == [b"x"]  # heavier than max: still delivered alone
    second = journal.fetch(max_weight=1000, timeout=1)
    assert [d.payload for d in second] == [b"y"]


def test_fetch_times_out_empty_and_lingers_for_min_weight(journal: JournalBus) -> None:
    t0 = time.monotonic()
    assert journal.fetch(max_weight=10, timeout=0.1) == []
    assert time.monotonic() - t0 >= 0.09
    _publish(journal, b"1")
    threading.Timer(0.1, lambda: journal.publish(b"2", 1)).start()
    got = journal.fetch(max_weight=10, min_weight=2, linger=2.0, timeout=1)
    assert [d.payload for d in got] == [b"1", b"2"]


def test_a_full_journal_refuses_at_once(tmp_path: Path) -> None:
    bus = JournalBus(tmp_path / "j", capacity=100, retry_after=3.0)
    bus.open()
    try:
        _publish(bus, b"a", weight=60)
        with pytest.raises(BackpressureError) as exc:
            bus.publish(b"b", 60)
        assert exc.value.retry_after == 3.0
        bus.ack(bus.fetch(max_weight=100, timeout=1))
        _publish(bus, b"b", weight=60)  # room again once acknowledged
    finally:
        bus.close()
    with pytest.raises(UnavailableError):
        bus.publish(b"c", 1)


def test_unacknowledged_messages_are_delivered_again_after_a_restart(tmp_path: Path) -> None:
    bus = JournalBus(tmp_path / "j", capacity=1000)
    bus.open()
    _publish(bus, b"one", b"two", b"three", weight=5)
    bus.ack(bus.fetch(max_weight=5, timeout=1))  # only "one"
    bus.close()

    again = JournalBus(tmp_path / "j", capacity=1000)
    again.open()
    try:
        assert again.lag == 10
        got = again.fetch(max_weight=100, timeout=1)
        assert [d.payload for d in got] == [b"two", b"three"]
        assert all(d.redelivered for d in got)
        later = _publish(again, b"four")
        assert later[0] > got[-1].seq  # positions keep increasing across restarts
    finally:
        again.close()


def test_a_torn_tail_is_cut_off_and_earlier_messages_survive(tmp_path: Path) -> None:
    bus = JournalBus(tmp_path / "j", capacity=1000)
    bus.open()
    _publish(bus, b"kept-1", b"kept-2")
    bus.close()
    segment = list_segments(tmp_path / "j")[-1]
    whole = encode_frame(99, 1, b"never acknowledged")
    with segment.open("ab") as f:
        f.write(whole[: HEADER.size + 3])  # the machine died in the middle of an append
    assert scan(segment).damaged

    again = JournalBus(tmp_path / "j", capacity=1000)
    again.open()
    try:
        got = again.fetch(max_weight=100, timeout=1)
        assert [d.payload for d in got] == [b"kept-1", b"kept-2"]
        assert not scan(segment).damaged
    finally:
        again.close()


def test_a_corrupted_frame_is_never_delivered(tmp_path: Path) -> None:
    bus = JournalBus(tmp_path / "j", capacity=1000)
    bus.open()
    _publish(bus, b"good", b"flipped")
    bus.close()
    segment = list_segments(tmp_path / "j")[-1]
    data = bytearray(segment.read_bytes())
    data[-1] ^= 0xFF  # one bit of the last payload flipped
    segment.write_bytes(bytes(data))

    again = JournalBus(tmp_path / "j", capacity=1000)
    again.open()
    try:
        assert [d.payload for d in again.fetch(max_weight=100, timeout=1)] == [b"good"]
    finally:
        again.close()


def test_segments_rotate_and_are_deleted_once_acknowledged(tmp_path: Path) -> None:
    bus = JournalBus(tmp_path / "j", capacity=10_000, segment_bytes=1024)
    bus.open()
    try:
        for i in range(20):
            _publish(bus, bytes([i]) * 300)
        assert len(list_segments(tmp_path / "j")) > 3
        bus.ack(bus.fetch(max_weight=10_000, timeout=1))
        # Only the segment being appended to is left.
        assert len(list_segments(tmp_path / "j")) == 1
    finally:
        bus.close()
    again = JournalBus(tmp_path / "j", capacity=10_000)
    again.open()
    try:
        assert again.lag == 0
    finally:
        again.close()


def test_concurrent_publishers_share_fsyncs_and_lose_nothing(journal: JournalBus) -> None:
    results: list[int] = []
    lock = threading.Lock()

    def publisher(k: int) -> None:
        mine = [journal.publish(f"{k}-{i}".encode(), 1) for i in range(25)]
        with lock:
            results.extend(f.result(10) for f in mine)

    threads = [threading.Thread(target=publisher, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = []
    while len(got) < 200:
        got.extend(journal.fetch(max_weight=1000, timeout=1))
    assert sorted(results) == [d.seq for d in got]
    assert len({d.payload for d in got}) == 200


def test_rejected_messages_are_fetched_again_first_and_in_order(journal: JournalBus) -> None:
    _publish(journal, b"a", b"b", b"c")
    first = journal.fetch(max_weight=2, timeout=1)
    assert [d.payload for d in first] == [b"a", b"b"]
    journal.reject(first, "store refused it")
    assert journal.lag == 3
    again = journal.fetch(max_weight=10, timeout=1)
    assert [d.payload for d in again] == [b"a", b"b", b"c"]
    journal.ack(again)
    assert journal.lag == 0


def test_settle_is_true_at_once_when_nothing_is_unacknowledged(journal: JournalBus) -> None:
    t0 = time.monotonic()
    assert journal.settle(5)
    _publish(journal, b"a")
    journal.ack(journal.fetch(max_weight=10, timeout=1))
    assert journal.settle(5)
    assert time.monotonic() - t0 < 1.0


def test_settle_waits_until_the_durable_messages_are_acknowledged(journal: JournalBus) -> None:
    _publish(journal, b"a", b"b", b"c")
    t0 = time.monotonic()
    assert not journal.settle(0.2), "nothing was acknowledged yet"
    assert time.monotonic() - t0 >= 0.19
    got = journal.fetch(max_weight=2, timeout=1)
    journal.ack(got)
    assert not journal.settle(0.2), "the last message is still unacknowledged"
    rest = journal.fetch(max_weight=10, timeout=1)
    threading.Timer(0.2, journal.ack, args=(rest,)).start()
    assert journal.settle(5)  # woken by the ack, not at the timeout
    assert time.monotonic() - t0 < 3.0


def test_settle_ignores_what_is_published_after_the_call(journal: JournalBus) -> None:
    _publish(journal, b"before")
    first = journal.fetch(max_weight=10, timeout=1)

    def meanwhile() -> None:  # while settle waits: a new message, and only the first acked
        _publish(journal, b"after")
        time.sleep(0.1)
        journal.ack(first)

    threading.Timer(0.3, meanwhile).start()
    t0 = time.monotonic()
    assert journal.settle(5)
    assert time.monotonic() - t0 >= 0.3  # it did wait for the first
    assert journal.lag == 1  # "after" is durable and unacknowledged


def test_settle_counts_recovered_messages_and_is_false_when_closed(tmp_path: Path) -> None:
    bus = JournalBus(tmp_path / "j", capacity=1000)
    assert not bus.settle(0.1), "not open: it cannot tell"
    bus.open()
    _publish(bus, b"kept")
    bus.close()
    again = JournalBus(tmp_path / "j", capacity=1000)
    again.open()
    try:
        assert not again.settle(0.2), "the recovered message is not acknowledged"
        again.ack(again.fetch(max_weight=10, timeout=1))
        assert again.settle(1)
    finally:
        again.close()
    assert not again.settle(0.1)
