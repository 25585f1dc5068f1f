"""The write pipeline against a real DuckDB store: group commit, backpressure, draining."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from analytics_hub.errors import BackpressureError, UnavailableError
from analytics_hub.ingest.pipeline import CommitStats, Pipeline
from analytics_hub.store.duckdb import DuckDBStore
from analytics_hub.testing.rows import make_event_rows

START = datetime.now(UTC) - timedelta(hours=1)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBStore]:
    s = DuckDBStore(tmp_path / "events.duckdb")
    s.migrate()
    yield s
    s.close()


def _count(store: DuckDBStore) -> int:
    return int(store.fetch("SELECT count(*) FROM events", []).rows[0][0])


def test_waiting_batches_share_one_commit(store: DuckDBStore) -> None:
    commits: list[CommitStats] = []
    gate = threading.Event()
    original = store.write_events

    def slow_first(table):  # type: ignore[no-untyped-def]
        gate.wait(10)  # hold the writer so that the next batches queue up behind it
        return original(table)

    store.write_events = slow_first  # type: ignore[method-assign]
    p = Pipeline(store, capacity_events=100_000, commit_max_events=50_000, on_commit=commits.append)
    p.start()
    futures = [
        p.submit(make_event_rows(100, start=START + timedelta(seconds=i), seed=i))
        for i in range(10)
    ]
    gate.set()
    assert [f.result(30) for f in futures] == [100] * 10
    p.stop()
    assert _count(store) == 1000
    assert len(commits) < 10, "queued batches should have been committed together"
    assert sum(c.inserted for c in commits) == 1000


def test_a_full_queue_is_refused_at_once_and_nothing_acknowledged_is_lost(
    store: DuckDBStore,
) -> None:
    gate = threading.Event()
    original = store.write_events

    def held(table):  # type: ignore[no-untyped-def]
        gate.wait(10)
        return original(table)

    store.write_events = held  # type: ignore[method-assign]
    p = Pipeline(store, capacity_events=2_000, commit_max_events=1_000, retry_after=2.0)
    p.start()
    accepted = [p.submit(make_event_rows(1000, start=START, seed=1))]
    accepted.append(p.submit(make_event_rows(1000, start=START, seed=2)))
    with pytest.raises(BackpressureError) as refused:
        p.submit(make_event_rows(1000, start=START, seed=3))
    assert refused.value.retry_after == 2.0
    assert p.depth == 2000
    gate.set()
    assert [f.result(30) for f in accepted] == [1000, 1000]
    p.stop()
    assert _count(store) == 2000
    assert p.depth == 0


def test_stop_commits_what_is_queued_then_refuses(store: DuckDBStore) -> None:
    p = Pipeline(store, capacity_events=100_000, commit_max_events=500)
    p.start()
    futures = [p.submit(make_event_rows(300, start=START, seed=i)) for i in range(5)]
    p.stop()
    assert all(f.done() for f in futures)
    assert _count(store) == 1500
    with pytest.raises(UnavailableError):
        p.submit(make_event_rows(1, start=START))


def test_a_store_failure_fails_the_waiting_requests_with_503(store: DuckDBStore) -> None:
    p = Pipeline(store, capacity_events=100_000, commit_max_events=50_000)
    p.start()
    store.close()  # the store is gone: writes fail
    future = p.submit(make_event_rows(10, start=START))
    with pytest.raises(UnavailableError):
        future.result(30)
    assert p.depth == 0
    p.stop()
