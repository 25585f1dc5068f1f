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

from analytics_hub.store.duckdb import DuckDBStore

WRITER = Path(__file__).with_name("crash_writer.py")


def _run_and_kill(db: Path, threshold: str, acks_before_kill: int, seed: int) -> set[str]:
    """Start the writer, SIGKILL it at a random moment after some acks; the acked keys."""
    lines: list[str] = []
    with subprocess.Popen(
        [sys.executable, str(WRITER), str(db), threshold],
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


@pytest.mark.slow
@pytest.mark.parametrize("threshold", ["1MB", "256MB"], ids=["checkpointing", "wal-only"])
@pytest.mark.parametrize("seed", [1, 2])
def test_every_acknowledged_event_survives_a_kill_exactly_once(
    tmp_path: Path, threshold: str, seed: int
) -> None:
    db = tmp_path / "events.duckdb"
    acked = _run_and_kill(db, threshold, acks_before_kill=15, seed=seed)
    assert len(acked) > 10_000

    store = DuckDBStore(db)
    try:
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
    finally:
        store.close()
