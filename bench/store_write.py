"""Write throughput of ``DuckDBStore.write_events`` against DuckDB's plain Arrow append.

Writes ``--batches`` group commits of ``--batch-rows`` realistic events (a few tenants,
ten assets, eight models, lognormal latencies; event time advancing at
``--events-per-s``) into a fresh store, so the table grows to ``batches * batch_rows``
rows. The reference, measured in the same run on the same batches, is what DuckDB does
without the hub's work: ``INSERT INTO events SELECT * FROM batch`` per batch into a fresh
``events`` table of the same schema and settings, with no dedupe and no rollups.
Each side runs ``--repeats`` times (alternating); the figures are medians. Prints one
JSON object.

``--busy-thread`` runs a thread spinning in Python beside both, as a serving process's
decoding thread is: every call into DuckDB then waits to take the interpreter lock back
(decision 0029); ``--switch-interval-ms`` sets how long that wait can be.

    python bench/store_write.py [--batches 40] [--batch-rows 50000] [--repeats 3]
        [--busy-thread] [--switch-interval-ms 1]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from contextlib import nullcontext
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from analytics_hub.store.duckdb import DuckDBStore, duckdb_config
from analytics_hub.store.duckdb_schema import MIGRATIONS
from analytics_hub.testing.rows import make_event_rows

TENANTS = ("acme", "globex", "initech")


def make_batches(batches: int, batch_rows: int, events_per_s: float) -> list[pa.Table]:
    """The group commits, back to back in event time."""
    step = timedelta(seconds=1 / events_per_s)
    start = datetime(2025, 6, 1)
    return [
        make_event_rows(
            batch_rows, start=start + k * batch_rows * step, step=step, tenants=TENANTS, seed=k
        )
        for k in range(batches)
    ]


def plain_insert(path: Path, batches: list[pa.Table]) -> list[float]:
    """Seconds per batch of DuckDB's own append into a bare ``events`` table."""
    con = duckdb.connect(str(path), config=duckdb_config())
    con.execute(MIGRATIONS[0].sql)  # the events table, exactly as the store creates it
    seconds = []
    for batch in batches:
        began = time.perf_counter()
        con.register("batch", batch)
        con.execute("INSERT INTO events SELECT * FROM batch")
        con.unregister("batch")
        seconds.append(time.perf_counter() - began)
    con.close()
    return seconds


def store_write(path: Path, batches: list[pa.Table]) -> list[float]:
    """Seconds per batch of ``write_events`` (dedupe, insert, rollups, one commit)."""
    store = DuckDBStore(path)
    store.migrate()
    seconds = []
    for batch in batches:
        began = time.perf_counter()
        store.write_events(batch)
        seconds.append(time.perf_counter() - began)
    store.close()
    return seconds


class Spinner:
    """A thread running Python without pause, as the decoding thread does under load:
    every call into DuckDB must then take the interpreter lock back from it."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, daemon=True)

    def _spin(self) -> None:
        total = 0
        while not self._stop.is_set():
            for i in range(1000):
                total += i

    def __enter__(self) -> Spinner:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--batch-rows", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--events-per-s", type=float, default=100_000)
    parser.add_argument(
        "--busy-thread",
        action="store_true",
        help="run a thread spinning in Python beside both writers (the lock contention "
        "of a serving process)",
    )
    parser.add_argument(
        "--switch-interval-ms",
        type=float,
        default=0.0,
        help="the interpreter's switch interval; 0 keeps CPython's (5 ms)",
    )
    args = parser.parse_args()
    if args.switch_interval_ms:
        sys.setswitchinterval(args.switch_interval_ms / 1000)

    batches = make_batches(args.batches, args.batch_rows, args.events_per_s)
    rows = args.batches * args.batch_rows
    runs: dict[str, list[list[float]]] = {"plain": [], "store": []}
    for _ in range(args.repeats):
        for name, run in (("plain", plain_insert), ("store", store_write)):
            with (
                tempfile.TemporaryDirectory() as tmp,
                Spinner() if args.busy_thread else nullcontext(),
            ):
                runs[name].append(run(Path(tmp) / "bench.duckdb", batches))

    def rate(name: str) -> float:
        return float(statistics.median(rows / sum(r) for r in runs[name]))

    def batch_ms(name: str, q: float) -> float:
        every = sorted(s for r in runs[name] for s in r)
        return round(1000 * every[min(len(every) - 1, int(q * len(every)))], 1)

    plain, store = rate("plain"), rate("store")
    print(
        json.dumps(
            {
                "benchmark": "store_write",
                "batch_rows": args.batch_rows,
                "batches": args.batches,
                "stored_rows_at_end": rows,
                "repeats": args.repeats,
                "busy_thread": args.busy_thread,
                "switch_interval_ms": sys.getswitchinterval() * 1000,
                "plain_insert_rows_per_s": round(plain),
                "write_events_rows_per_s": round(store),
                "ratio": round(store / plain, 3),
                "plain_insert_runs_rows_per_s": [round(rows / sum(r)) for r in runs["plain"]],
                "write_events_runs_rows_per_s": [round(rows / sum(r)) for r in runs["store"]],
                "plain_insert_batch_ms_p50": batch_ms("plain", 0.5),
                "plain_insert_batch_ms_max": batch_ms("plain", 1.0),
                "write_events_batch_ms_p50": batch_ms("store", 0.5),
                "write_events_batch_ms_max": batch_ms("store", 1.0),
            }
        )
    )


if __name__ == "__main__":
    main()
