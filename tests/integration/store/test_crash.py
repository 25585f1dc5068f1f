"""A writer killed with SIGKILL loses nothing it acknowledged and stores nothing twice."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from analytics_hub.store.base import EventStore
from analytics_hub.store.duckdb import DuckDBStore
from analytics_hub.store.postgres import PostgresStore

WRITER = Path(__file__).with_name("crash_writer.py")


def _run_and_kill(args: list[str], acks_before_kill: int, seed: int) -> set[str]:
    """Start the writer, SIGKILL it at a random moment after some acks; the acked keys."""
    lines: list[str] = []
    with subprocess.Popen(
        [sys.executable, str(WRITER), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:

        def drain() -> None:  # keep reading so the writer never blocks on a full pipe
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line)

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        deadline = time.monotonic() + 120
        while len(lines) < acks_before_kill:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                assert proc.stderr is not None
                pytest.fail(f"writer stopped early: {proc.stderr.read()}")
            time.sleep(0.01)
        time.sleep(random.Random(seed).uniform(0.0, 0.2))  # land anywhere in a write
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        reader.join(timeout=10)
    # Only whole lines are acknowledgements; a line cut by the kill is not.
    acked = [line for line in lines if line.endswith("\n")]
    return {key for line in acked for key in line.split()}


def _assert_stored_exactly_once(store: EventStore, acked: set[str]) -> None:
    assert store.migrate() == []
    rows = store.fetch("SELECT tenant_id, CAST(event_id AS VARCHAR) FROM events", []).rows
    stored = [f"{t}/{e}" for t, e in rows]
    assert len(stored) == len(set(stored)), "an event was stored twice"
    assert acked <= set(stored), "an acknowledged event was lost"
    # Events and their rollup deltas were committed together.
    totals = store.fetch(
        "SELECT (SELECT count(*) FROM events), (SELECT sum(events) FROM rollup_1m),"
        " (SELECT sum(events) FROM rollup_1h)",
        [],
    ).rows[0]
    assert totals[0] == totals[1] == totals[2]
    store.check()


@pytest.mark.slow
@pytest.mark.parametrize("threshold", ["1MB", "256MB"], ids=["checkpointing", "wal-only"])
@pytest.mark.parametrize("seed", [1, 2])
def test_every_acknowledged_event_survives_a_kill_exactly_once(
    tmp_path: Path, threshold: str, seed: int
) -> None:
    db = tmp_path / "events.duckdb"
    acked = _run_and_kill(["duckdb", str(db), threshold], acks_before_kill=15, seed=seed)
    assert len(acked) > 10_000

    store = DuckDBStore(db)
    try:
        _assert_stored_exactly_once(store, acked)
    finally:
        store.close()


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_every_acknowledged_event_survives_a_kill_exactly_once_on_postgres(
    postgres_database: str, seed: int
) -> None:
    acked = _run_and_kill(["postgres", postgres_database], acks_before_kill=15, seed=seed)
    assert len(acked) > 10_000

    store = PostgresStore(postgres_database)
    try:
        _assert_stored_exactly_once(store, acked)
    finally:
        store.close()
