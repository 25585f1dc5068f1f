"""The write pipeline against a real DuckDB store and a real bus.

Acknowledged means durable on the bus; the writer commits many messages at once;
a failing store never loses what was acknowledged; a restart stores the rest once.
Tests that hold for any bus run on the journal on disk and on NATS JetStream (``make_bus``).
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.conftest import require_service
from tests.integration.ingest.holding import hold_writes

from analytics_hub.bus.base import EventBus
from analytics_hub.bus.journal import JournalBus
from analytics_hub.bus.nats import NatsBus, NatsTuning
from analytics_hub.errors import BackpressureError, UnavailableError
from analytics_hub.events import Normalizer
from analytics_hub.ingest.body import BodyFormat
from analytics_hub.ingest.busrouting import route_batch
from analytics_hub.ingest.pipeline import CommitPolicy, CommitStats, Pipeline
from analytics_hub.ingest.service import IngestService
from analytics_hub.store.base import DeadLetter
from analytics_hub.store.duckdb import DuckDBStore
from analytics_hub.testing.nats import DEFAULT_TEST_URL, delete_streams, host_and_port, unique_names
from analytics_hub.testing.rows import make_event_rows

START = datetime.now(UTC) - timedelta(hours=1)
QUICK = CommitPolicy(max_events=50_000, min_events=1, linger=0.0)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBStore]:
    s = DuckDBStore(tmp_path / "events.duckdb")
    s.migrate()
    yield s
    s.close()


def _bus(tmp_path: Path, capacity: int = 100_000) -> JournalBus:
    return JournalBus(tmp_path / "journal", capacity=capacity, retry_after=2.0)


MakeBus = Callable[..., EventBus]
NATS_URL = os.environ.get("HUB_TEST_NATS_URL", DEFAULT_TEST_URL)


@pytest.fixture(params=["journal", pytest.param("nats", marks=pytest.mark.service)])
def make_bus(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeBus]:
    """Buses of one kind; on NATS every call gives a bus on the same fresh stream."""
    if request.param == "journal":
        yield functools.partial(_bus, tmp_path)
        return
    host, port = host_and_port(NATS_URL)
    require_service("NATS JetStream", host, port, "nats-server -js -sd /tmp/nats")
    stream, prefix = unique_names()
    made: list[NatsBus] = []

    def make(capacity: int = 100_000) -> NatsBus:
        bus = NatsBus(
            NATS_URL, capacity=capacity, stream=stream, subject_prefix=prefix, retry_after=2.0,
            router=functools.partial(route_batch, partitions=8),
            tuning=NatsTuning(ack_wait=5.0, lag_interval=0.1),
        )  # fmt: skip
        made.append(bus)
        return bus

    yield make
    for bus in made:
        bus.close()
    delete_streams(NATS_URL, stream, f"{stream}_DEAD")


def _count(store: DuckDBStore) -> int:
    return int(store.fetch("SELECT count(*) FROM events", []).rows[0][0])


def _letter(i: int) -> DeadLetter:
    return DeadLetter(
        tenant_id="t1", id=f"00000000-0000-4000-8000-{i:012d}", received_at=START, index=i,
        errors=[{"field": "model_id", "message": "missing"}], raw="{}",
    )  # fmt: skip


def test_batches_published_while_the_writer_is_busy_share_one_commit(
    store: DuckDBStore, make_bus: MakeBus
) -> None:
    commits: list[CommitStats] = []
    gate = hold_writes(store)  # the next batches queue up behind the first
    p = Pipeline(store, make_bus(), policy=QUICK, on_commit=commits.append)
    p.start()
    futures = [
        p.submit(make_event_rows(100, start=START + timedelta(seconds=i), seed=i))
        for i in range(10)
    ]
    # Durable before the store has anything: the acknowledgement does not wait for it.
    assert all(isinstance(f.result(10), int) for f in futures)
    assert _count(store) == 0
    gate.set()
    p.stop()
    assert _count(store) == 1000
    assert len(commits) < 10, "waiting batches should have been committed together"
    assert sum(c.inserted for c in commits) == 1000


def test_the_writer_lingers_for_a_larger_commit_up_to_the_policy(
    store: DuckDBStore, make_bus: MakeBus
) -> None:
    commits: list[CommitStats] = []
    policy = CommitPolicy(max_events=10_000, min_events=5_000, linger=0.3)
    p = Pipeline(store, make_bus(), policy=policy, on_commit=commits.append)
    p.start()
    futures = [p.submit(make_event_rows(1000, start=START, seed=i)) for i in range(5)]
    for f in futures:
        f.result(10)
    p.stop()
    assert _count(store) == 5000
    assert len(commits) <= 2, [c.events for c in commits]


def test_a_full_bus_is_refused_at_once_and_nothing_acknowledged_is_lost(
    store: DuckDBStore, make_bus: MakeBus
) -> None:
    gate = hold_writes(store)
    p = Pipeline(store, make_bus(capacity=2_000), policy=QUICK, retry_after=2.0)
    p.start()
    accepted = [p.submit(make_event_rows(1000, start=START, seed=1))]
    accepted.append(p.submit(make_event_rows(1000, start=START, seed=2)))
    with pytest.raises(BackpressureError) as refused:
        p.submit(make_event_rows(1000, start=START, seed=3))
    assert refused.value.retry_after == 2.0
    assert p.depth == 2000
    for f in accepted:
        f.result(10)
    gate.set()
    p.stop()
    assert _count(store) == 2000
    assert p.depth == 0


def test_stop_commits_what_is_acknowledged_then_refuses(
    store: DuckDBStore, make_bus: MakeBus
) -> None:
    p = Pipeline(store, make_bus(), policy=CommitPolicy(500, 1, 0.0))
    p.start()
    futures = [p.submit(make_event_rows(300, start=START, seed=i)) for i in range(5)]
    p.stop()
    assert all(f.done() for f in futures)
    assert _count(store) == 1500
    with pytest.raises(UnavailableError):
        p.submit(make_event_rows(1, start=START))


def test_visible_waits_for_the_store_commit(store: DuckDBStore, make_bus: MakeBus) -> None:
    gate = hold_writes(store)
    p = Pipeline(store, make_bus(), policy=QUICK)
    p.start()

    async def scenario() -> None:
        durable = await p.write(make_event_rows(10, start=START, seed=1))
        assert durable == 10
        assert _count(store) == 0
        threading.Timer(0.2, gate.set).start()
        assert await p.write(make_event_rows(10, start=START, seed=2), visible=True) == 10
        assert _count(store) == 20  # visible means committed, both batches in order

    try:
        asyncio.run(scenario())
    finally:
        gate.set()
        p.stop()


@pytest.fixture
def held(store: DuckDBStore, tmp_path: Path) -> Iterator[tuple[Pipeline, threading.Event]]:
    """A running pipeline on the journal whose store writes wait until the event is set."""
    gate = hold_writes(store)
    p = Pipeline(store, _bus(tmp_path), policy=QUICK)
    p.start()
    yield p, gate
    gate.set()
    p.stop()


def test_settle_waits_until_everything_acknowledged_is_committed(
    store: DuckDBStore, held: tuple[Pipeline, threading.Event]
) -> None:
    p, gate = held
    assert p.can_settle
    assert p.settle(0.1)  # nothing acknowledged yet: settled at once
    for i in range(3):
        p.submit(make_event_rows(100, start=START, seed=i)).result(10)
    assert not p.settle(0.2), "the store holds nothing yet: not settled"
    threading.Timer(0.2, gate.set).start()
    assert p.settle(10)
    assert _count(store) == 300  # every acknowledged batch, not only the first


def test_a_visibility_waiter_that_gives_up_does_not_stop_the_writer(
    store: DuckDBStore, held: tuple[Pipeline, threading.Event]
) -> None:
    p, gate = held
    seq = p.submit(make_event_rows(10, start=START, seed=1)).result(10)
    waiting = p.wait_visible(seq)
    assert not waiting.cancel(), "a client gone must not cancel the writer's future"
    gate.set()
    waiting.result(10)
    p.submit(make_event_rows(10, start=START, seed=2)).result(10)
    assert p.settle(10)
    assert _count(store) == 20  # the writer went on


def test_settle_cannot_tell_without_a_writer_on_the_journal(
    store: DuckDBStore, make_bus: MakeBus, tmp_path: Path
) -> None:
    publisher = Pipeline(store, _bus(tmp_path), policy=QUICK, writer=False)
    assert not publisher.can_settle
    assert not publisher.settle(5)
    bus = make_bus()
    # The journal: the writer's own committed position. NATS: the writer group's ack
    # floor, which any process can wait for, whatever its roles.
    assert Pipeline(store, bus, policy=QUICK).can_settle
    assert Pipeline(store, bus, policy=QUICK, writer=False).can_settle is bus.shared


def test_a_failing_store_is_retried_and_nothing_acknowledged_is_lost(
    store: DuckDBStore, make_bus: MakeBus
) -> None:
    original = store.write_events
    failures = [3]

    def flaky(table):  # type: ignore[no-untyped-def]
        if failures[0]:
            failures[0] -= 1
            raise UnavailableError("store is restarting")
        return original(table)

    store.write_events = flaky  # type: ignore[method-assign]
    errors_seen: list[str | None] = []
    p = Pipeline(store, make_bus(), policy=QUICK)
    p.start()
    f = p.submit(make_event_rows(50, start=START, seed=7))
    f.result(10)  # acknowledged although the store is failing
    while failures[0]:
        errors_seen.append(p.last_error)
        threading.Event().wait(0.05)
    p.stop()
    assert _count(store) == 50
    assert p.last_error is None
    assert any(e and "restarting" in e for e in errors_seen)


def test_a_restart_stores_what_the_journal_kept_exactly_once(
    store: DuckDBStore, tmp_path: Path
) -> None:
    # First run: the writer never gets to commit (the store hangs), as in a crash.
    gate = threading.Event()
    original = store.write_events

    def hang(table):  # type: ignore[no-untyped-def]
        gate.wait(30)
        raise UnavailableError("the process died")

    store.write_events = hang  # type: ignore[method-assign]
    first = Pipeline(store, _bus(tmp_path), policy=QUICK)
    first.start()
    rows = [make_event_rows(200, start=START, seed=i) for i in range(3)]
    for r in rows:
        first.submit(r, [_letter(1)]).result(10)
    store.write_events = original  # type: ignore[method-assign]

    # Second run on the same journal: recovery stores everything before serving.
    second = Pipeline(store, _bus(tmp_path), policy=QUICK)
    second.start()
    assert _count(store) == 600
    assert len(store.list_dead_letters("t1", limit=10)) == 1  # same id: kept once
    second.stop()
    gate.set()
    first.stop(timeout=5)

    # Third run: the acknowledged position was lost, everything is delivered again,
    # and the store's idempotent writes count nothing twice.
    (tmp_path / "journal" / "acked").unlink()
    third = Pipeline(store, _bus(tmp_path), policy=QUICK)
    third.start()
    third.stop()
    assert _count(store) == 600


def test_a_store_too_far_behind_gets_429_so_staleness_stays_bounded(
    store: DuckDBStore, make_bus: MakeBus
) -> None:
    gate = threading.Event()
    gate.set()
    original = store.write_events

    def slow(table):  # type: ignore[no-untyped-def]
        gate.wait(10)
        threading.Event().wait(0.2)  # about 10k events/s for 2k-event commits
        return original(table)

    store.write_events = slow  # type: ignore[method-assign]
    policy = CommitPolicy(max_events=2_000, min_events=1, linger=0.0, max_lag_seconds=0.5)
    p = Pipeline(store, make_bus(), policy=replace(policy, lag_floor_events=1_000))
    p.start()
    try:
        p.submit(make_event_rows(2000, start=START, seed=1)).result(10)
        while p.store_rate is None:
            threading.Event().wait(0.05)
        assert p.store_rate < 20_000
        p.check_admission()  # not behind: a request would be decoded
        gate.clear()  # the store stalls; what is acknowledged piles up
        accepted = 0
        with pytest.raises(BackpressureError, match="behind"):  # noqa: PT012 - until refused
            for i in range(100):
                p.submit(make_event_rows(1000, start=START, seed=10 + i)).result(10)
                accepted += 1000
        # No more than about half a second of the store's work was let in.
        assert accepted <= p.store_rate * 0.5 + 2000
        # A request arriving now is refused before it is decoded: even an undecodable
        # body gets the 429, not the 400 its decoding would give.
        with pytest.raises(BackpressureError, match="behind"):
            p.check_admission()
        service = IngestService(Normalizer(currency_rates={}), p, max_batch_events=1000)
        with pytest.raises(BackpressureError, match="behind"):
            asyncio.run(service.ingest("t1", b"{not json", BodyFormat.JSON))
    finally:
        gate.set()
        p.stop()
    assert _count(store) == 2000 + accepted


@pytest.mark.parametrize("make_bus", ["nats"], indirect=True)
def test_a_second_writer_stores_what_a_stuck_one_handed_back_exactly_once(
    store: DuckDBStore, make_bus: MakeBus, tmp_path: Path
) -> None:
    # Two writers of one JetStream consumer group (the journal has a single consumer):
    # the first one's store hangs, as in a crash; once it is stopped, the second stores
    # everything the first had taken.
    make = make_bus
    gate = threading.Event()
    original = store.write_events

    def hang(table):  # type: ignore[no-untyped-def]
        gate.wait(30)
        raise UnavailableError("the process died")

    store.write_events = hang  # type: ignore[method-assign]
    first = Pipeline(store, make(), policy=QUICK)
    first.start()
    for i in range(3):
        first.submit(make_event_rows(200, start=START, seed=i), [_letter(1)]).result(10)
    second_store = DuckDBStore(tmp_path / "second.duckdb")
    second_store.migrate()
    second = Pipeline(second_store, make(), policy=QUICK)
    second.start()
    try:
        time.sleep(0.5)
        assert _count(second_store) == 0  # the first writer still holds them
        first.stop(timeout=0.5)  # gives up on its store: hands the messages back
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (
            _count(second_store) < 600 or not second_store.list_dead_letters("t1", limit=10)
        ):
            time.sleep(0.05)
        assert _count(second_store) == 600
        assert len(second_store.list_dead_letters("t1", limit=10)) == 1  # same id: kept once
    finally:
        gate.set()
        store.write_events = original  # type: ignore[method-assign]
        second.stop()
        second_store.close()
    assert _count(store) == 0


def test_a_batch_the_store_refuses_goes_to_the_dead_letters_and_the_rest_is_stored(
    store: DuckDBStore, make_bus: MakeBus
) -> None:
    original = store.write_events
    poison = make_event_rows(40, start=START, seed=99)
    poison_ids = set(poison.column("event_id").to_pylist())

    def refusing(table):  # type: ignore[no-untyped-def]
        if poison_ids & set(table.column("event_id").to_pylist()):
            raise ValueError("a value the table cannot hold")
        return original(table)

    store.write_events = refusing  # type: ignore[method-assign]
    gate = threading.Event()
    held = store.write_events

    def first_held(table):  # type: ignore[no-untyped-def]
        gate.wait(10)  # so that the poison is committed together with good batches
        return held(table)

    store.write_events = first_held  # type: ignore[method-assign]
    p = Pipeline(store, make_bus(), policy=QUICK)
    p.start()
    futures = [p.submit(make_event_rows(100, start=START, seed=1))]
    futures.append(p.submit(poison))
    futures.append(p.submit(make_event_rows(100, start=START, seed=2)))
    for f in futures:
        f.result(10)
    gate.set()
    p.stop()
    assert _count(store) == 200  # the good batches, around the refused one
    assert p.last_error is None
    tenants = set(poison.column("tenant_id").to_pylist())
    letters = [
        letter
        for tenant in tenants
        for letter in store.list_dead_letters(tenant, limit=1000)
        if "refused this event's batch" in letter.errors[0]["message"]
    ]
    assert len(letters) == 40
    assert {json.loads(letter.raw)["event_id"] for letter in letters} == {
        str(i) for i in poison_ids
    }
