"""Run by test_crash.py: write overlapping batches forever, acknowledging each on stdout.

A line is printed only after ``write_events`` returned, so every id on it was
acknowledged as durable. Each batch repeats the last fifth of the one before (as a
client retrying after a lost reply would), so that replays happen around the crash.

    python crash_writer.py duckdb DB_PATH CHECKPOINT_THRESHOLD
    python crash_writer.py postgres DATABASE_URL
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta

from analytics_hub.store.base import EventStore
from analytics_hub.store.duckdb import DuckDBStore
from analytics_hub.store.postgres import PostgresStore
from analytics_hub.testing.rows import make_event_rows

BATCH = 1_000
STRIDE = 800


def open_store(argv: list[str]) -> EventStore:
    if argv[0] == "duckdb":
        return DuckDBStore(argv[1], checkpoint_threshold=argv[2], threads=1)
    return PostgresStore(argv[1], read_pool_size=1, write_pool_size=1)


def main() -> None:
    store = open_store(sys.argv[1:])
    store.migrate()
    table = make_event_rows(
        200_000,
        start=datetime(2025, 1, 1),
        step=timedelta(milliseconds=50),
        tenants=["t1", "t2"],
        seed=21,
    )
    for k in range(10**9):
        part = table.slice((k * STRIDE) % (table.num_rows - BATCH), BATCH)
        store.write_events(part)
        keys = zip(
            part.column("tenant_id").to_pylist(), part.column("event_id").to_pylist(), strict=True
        )
        print(" ".join(f"{t}/{e}" for t, e in keys), flush=True)


if __name__ == "__main__":
    main()
