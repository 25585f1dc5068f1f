"""The writer holds ingest back while the store does its housekeeping.

DuckDB folds a large write-ahead log into its file inside some commit otherwise, and
every event acknowledged before that commit would become visible 0.5 to 2 s later. The
writer asks the store (``housekeeping_due``), refuses new batches with 429, commits what
it acknowledged, lets the store fold its log (``quiet_moment``) and resumes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.integration.ingest.holding import hold_writes

from analytics_hub.bus.journal import JournalBus
from analytics_hub.errors import BackpressureError
from analytics_hub.ingest.pipeline import CommitPolicy, Pipeline
from analytics_hub.store.duckdb import DuckDBStore
from analytics_hub.testing.rows import make_event_rows

START = datetime.now(UTC) - timedelta(hours=1)
QUICK = CommitPolicy(max_events=500, min_events=1, linger=0.0)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBStore]:
    # housekeeping is due after every commit of a few hundred events
    s = DuckDBStore(tmp_path / "events.duckdb", quiet_checkpoint_bytes=1, housekeeping_log_bytes=1)
    s.migrate()
    yield s
    s.close()


def _pipeline(store: DuckDBStore, tmp_path: Path, holds: list[float]) -> Pipeline:
    """A pipeline on a journal that records each hold of ingest in ``holds``."""
    bus = JournalBus(tmp_path / "journal", capacity=100_000, retry_after=1.0)
    return Pipeline(store, bus, policy=QUICK, on_housekeeping=holds.append)


def _count(store: DuckDBStore) -> int:
    return int(store.fetch("SELECT count(*) FROM events", []).rows[0][0])


def test_ingest_is_held_back_while_the_store_folds_what_was_acknowledged(
    store: DuckDBStore, tmp_path: Path
) -> None:
    gate = hold_writes(store)
    seen: list[tuple[int, str]] = []
    fold = store.quiet_moment
    holds: list[float] = []
    p = _pipeline(store, tmp_path, holds)

    def observed_fold() -> None:
        # At the fold: everything acknowledged so far is committed, and a new batch is
        # refused (it would otherwise wait for the fold before it became visible).
        try:
            p.submit(make_event_rows(10, start=START, seed=99))
            refused = ""
        except BackpressureError as exc:
            refused = str(exc)
        seen.append((_count(store), refused))
        fold()

    store.quiet_moment = observed_fold  # type: ignore[method-assign]
    p.start()
    try:
        # five acknowledged batches wait behind the held store; the first commit (at
        # most 500 events) leaves the rest in the backlog when housekeeping falls due
        last = 0
        for i in range(5):
            batch = make_event_rows(400, start=START + timedelta(seconds=i), seed=i)
            last = p.submit(batch).result(10)
        gate.set()
        p.wait_visible(last).result(10)
        deadline = time.monotonic() + 10
        while not holds and time.monotonic() < deadline:  # the fold follows the commit
            threading.Event().wait(0.02)
        assert seen, "the store's housekeeping never ran"
        committed, refused = seen[0]
        assert committed == 2000, "the backlog is committed before the fold"
        assert "folding its write-ahead log" in refused
        assert "retry after 1 s" in refused
        assert len(holds) == len(seen)
        assert all(h > 0 for h in holds)
        # after the fold, batches are taken again and stored
        p.submit(make_event_rows(300, start=START, seed=50)).result(10)
    finally:
        p.stop()
    assert _count(store) == 2300
    assert all(r for _, r in seen)


def test_a_store_with_nothing_to_fold_never_holds_ingest_back(tmp_path: Path) -> None:
    store = DuckDBStore(tmp_path / "events.duckdb")  # 256 MB of log before it asks
    store.migrate()
    holds: list[float] = []
    p = _pipeline(store, tmp_path, holds)
    p.start()
    try:
        for i in range(5):
            p.submit(make_event_rows(400, start=START, seed=i)).result(10)
    finally:
        p.stop()
        store.close()
    assert holds == []


def _commit_second(p: Pipeline, i: int) -> None:
    """Submit 400 events of second ``i`` after START and wait until they are durable."""
    p.submit(make_event_rows(400, start=START + timedelta(seconds=i), seed=i)).result(10)


def test_housekeeping_that_could_not_be_done_is_not_retried_at_every_commit(
    store: DuckDBStore, tmp_path: Path
) -> None:
    # The store stays due (its fold is refused, as DuckDB may refuse a checkpoint): the
    # writer holds ingest once, then commits on without holding it at every commit.
    store.quiet_moment = lambda: None  # type: ignore[method-assign]
    holds: list[float] = []
    p = _pipeline(store, tmp_path, holds)
    p.start()
    try:
        for i in range(6):
            _commit_second(p, i)
            p.settle(10)
    finally:
        p.stop()
    assert _count(store) == 2400
    assert len(holds) == 1


def test_a_quiet_moment_folds_the_log_with_ingest_held_back(tmp_path: Path) -> None:
    # The log is far from the size that stalls a commit but holds enough for a quiet
    # moment's fold: the writer folds it as it does housekeeping, ingest held back.
    store = DuckDBStore(
        tmp_path / "events.duckdb", quiet_checkpoint_bytes=1, housekeeping_log_bytes=1 << 30
    )
    store.migrate()
    folds: list[int] = []
    fold = store.quiet_moment

    def counted_fold() -> None:
        folds.append(_count(store))
        fold()

    store.quiet_moment = counted_fold  # type: ignore[method-assign]
    holds: list[float] = []
    p = _pipeline(store, tmp_path, holds)
    p.start()
    try:
        for i in range(3):
            _commit_second(p, i)
        p.settle(10)
        assert holds == []  # commits alone never fold below the size
        assert folds == []
        p.quiet_moment()  # as the anomaly stream says after a tick
        deadline = time.monotonic() + 10
        while not holds and time.monotonic() < deadline:
            threading.Event().wait(0.02)
        assert len(holds) == 1
        assert folds == [1200]  # what was acknowledged was committed before the fold
        assert not store.housekeeping_due(at_quiet_moment=True)
        p.submit(make_event_rows(300, start=START, seed=50)).result(10)
    finally:
        p.stop()
        store.close()
    assert len(holds) == 1


def test_a_quiet_moment_with_nothing_to_fold_never_refuses_a_batch(tmp_path: Path) -> None:
    store = DuckDBStore(tmp_path / "events.duckdb")  # 64 MB of log before a quiet fold
    store.migrate()
    holds: list[float] = []
    p = _pipeline(store, tmp_path, holds)
    p.start()
    try:
        for i in range(5):
            p.quiet_moment()
            p.submit(make_event_rows(400, start=START, seed=i)).result(10)
            threading.Event().wait(0.6)  # longer than the writer's idle fetch
    finally:
        p.stop()
        store.close()
    assert holds == []


def test_without_a_writer_a_quiet_moment_goes_straight_to_the_store(tmp_path: Path) -> None:
    store = DuckDBStore(tmp_path / "events.duckdb")
    store.migrate()
    told: list[str] = []
    store.quiet_moment = lambda: told.append("store")  # type: ignore[method-assign]
    bus = JournalBus(tmp_path / "journal", capacity=100_000, retry_after=1.0)
    p = Pipeline(store, bus, policy=QUICK, writer=False)
    p.start()
    try:
        p.quiet_moment()
    finally:
        p.stop()
        store.close()
    assert told == ["store"]
