"""The writer reports each commit's newly stored rows (``CommitStats.new_rows``).

The live feed pushes those rows, so a replay (a client's retry, the bus delivering a
batch again) must not be among them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest

from analytics_hub.bus.journal import JournalBus
from analytics_hub.ingest.pipeline import CommitPolicy, CommitStats, Pipeline, _new_rows
from analytics_hub.store.base import WriteResult
from analytics_hub.store.duckdb import DuckDBStore
from analytics_hub.testing.rows import make_event_rows

START = datetime(2025, 3, 1, 12, 0)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBStore]:
    s = DuckDBStore(tmp_path / "events.duckdb")
    s.migrate()
    yield s
    s.close()


def test_commits_report_only_the_rows_they_stored(store: DuckDBStore, tmp_path: Path) -> None:
    commits: list[CommitStats] = []
    bus = JournalBus(tmp_path / "journal", capacity=100_000, retry_after=1.0)
    p = Pipeline(
        store, bus, policy=CommitPolicy(min_events=1, linger=0.0), on_commit=commits.append
    )
    p.start()
    table = make_event_rows(200, start=START, seed=31)
    for batch in (table.slice(0, 100), table.slice(0, 100), table.slice(50, 150)):
        p.wait_visible(p.submit(batch).result(10)).result(10)
    p.stop()
    reported = [
        sorted(c.new_rows.column("event_id").to_pylist()) if c.new_rows is not None else None
        for c in commits
    ]
    ids = table.column("event_id").to_pylist()
    assert reported == [sorted(ids[:100]), [], sorted(ids[100:])]
    assert [(c.inserted, c.duplicates) for c in commits] == [(100, 0), (0, 100), (100, 50)]


def test_without_the_store_s_word_only_a_commit_without_duplicates_is_all_new() -> None:
    table = make_event_rows(10, start=START)
    assert _new_rows(table, WriteResult(10, 0)) is table
    assert _new_rows(table, WriteResult(5, 5)) is None  # which five: unknown, push none
    reported = table.slice(0, 5)
    assert _new_rows(table, WriteResult(5, 5, new_rows=reported)) is reported
    assert _new_rows(None, WriteResult(0, 0)) is None
    assert isinstance(reported, pa.Table)
