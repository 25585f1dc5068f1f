"""Write throughput of ``PostgresStore.write_events`` against PostgreSQL's raw COPY.

Writes ``--batches`` commits of ``--batch-rows`` realistic events (three tenants, ten
assets, eight models; event time advancing at ``--events-per-s``) into a fresh database
per run, so the table grows to ``batches * batch_rows`` rows. Variants, each measured in
the same run on the same batches (``--repeats`` times, alternating; medians reported):

- ``write_events``: the store (idempotent COPY, rollup deltas, one commit per batch);
- ``write_events_two_writers``: two stores in two threads (as two writer processes
  would) taking turns at the batches; per-batch figures are the wall clock shared out;
- ``write_events_overlapping``: the store again, each batch starting with the last
  event of the one before (a replay), which sends it down the staging-table path;
- ``antijoin``: the design not taken (docs/decisions/0013): staging-table COPY, insert
  of the rows a ``NOT EXISTS`` finds new under a global advisory lock, a non-unique key
  index, the same rollup deltas;
- ``raw_copy``: COPY of the same rows, pre-rendered in PostgreSQL's binary format (as
  the store writes them), into the store's partitioned and indexed ``events`` table: no
  dedupe, no rollups (the reference);
- ``raw_copy_csv``: the same COPY with the rows rendered as CSV instead;
- ``raw_copy_bare``: the binary COPY into a plain table without partitions or indexes.

Needs a PostgreSQL server (``--url``, default ``HUB_TEST_POSTGRES_URL`` or the local
one); creates and drops ``hub_bench_*`` databases. Prints one JSON object.

    python bench/postgres_write.py [--batches 20] [--batch-rows 50000] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
import pyarrow as pa
import pyarrow.compute as pc

from analytics_hub.events.columns import COLUMN_NAMES
from analytics_hub.store.postgres import PostgresStore
from analytics_hub.store.postgres_binary import binary_bytes, binary_copy_sql
from analytics_hub.store.postgres_copy import copy_sql, csv_bytes
from analytics_hub.store.postgres_schema import MIGRATIONS
from analytics_hub.store.postgres_writes import copy_rollup_deltas, rollup_deltas
from analytics_hub.testing.postgres import DEFAULT_TEST_URL, temporary_database
from analytics_hub.testing.rows import make_event_rows

TENANTS = ("acme", "globex", "initech")
COLUMNS = ", ".join(COLUMN_NAMES)
Run = Callable[[str, list[pa.Table]], list[float]]


def make_batches(batches: int, batch_rows: int, events_per_s: float) -> list[pa.Table]:
    """The commits, back to back in event time, starting now (inside today's partitions)."""
    step = timedelta(seconds=1 / events_per_s)
    start = datetime.now(UTC).replace(tzinfo=None, minute=0, second=0, microsecond=0)
    return [
        make_event_rows(
            batch_rows, start=start + k * batch_rows * step, step=step, tenants=TENANTS, seed=k
        )
        for k in range(batches)
    ]


def _store(url: str) -> PostgresStore:
    store = PostgresStore(url, read_pool_size=1, write_pool_size=1)
    store.migrate()
    return store


def _days(batches: list[pa.Table]) -> list[datetime]:
    column = pa.chunked_array([b.column("claimed_ts") for b in batches])
    return [d.date() for d in pc.unique(pc.floor_temporal(column, unit="day")).to_pylist()]


def write_events(url: str, batches: list[pa.Table]) -> list[float]:
    """Seconds per batch of ``write_events``."""
    store = _store(url)
    store.ensure_partitions(_days(batches))
    seconds = []
    for batch in batches:
        began = time.perf_counter()
        store.write_events(batch)
        seconds.append(time.perf_counter() - began)
    store.close()
    return seconds


def write_events_two_writers(url: str, batches: list[pa.Table]) -> list[float]:
    """Wall-clock seconds per batch of two stores (as two writers) taking turns at batches."""
    stores = [_store(url), PostgresStore(url, read_pool_size=1, write_pool_size=1)]
    stores[0].ensure_partitions(_days(batches))

    def write(k: int) -> None:
        for batch in batches[k::2]:
            stores[k].write_events(batch)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(2)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    for store in stores:
        store.close()
    return [elapsed / len(batches)] * len(batches)


def write_events_overlapping(url: str, batches: list[pa.Table]) -> list[float]:
    """Seconds per batch of ``write_events`` when each batch replays one event first."""
    store = _store(url)
    store.ensure_partitions(_days(batches))
    seconds = []
    previous: pa.Table | None = None
    for batch in batches:
        replay = [] if previous is None else [previous.slice(previous.num_rows - 1)]
        sent = pa.concat_tables([*replay, batch])
        began = time.perf_counter()
        store.write_events(sent)
        seconds.append(time.perf_counter() - began)
        previous = batch
    store.close()
    return seconds


def antijoin(url: str, batches: list[pa.Table]) -> list[float]:
    """Seconds per batch of the anti-join design, on the same schema minus the key."""
    _store(url).close()
    seconds = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP INDEX events_key")
        conn.execute("CREATE INDEX events_tenant_event ON events (tenant_id, event_id)")
        conn.execute("CREATE TEMP TABLE _stage (LIKE events) ON COMMIT DELETE ROWS")
        insert = (
            f"INSERT INTO events ({COLUMNS}) SELECT {COLUMNS} FROM _stage AS s WHERE NOT EXISTS"
            " (SELECT 1 FROM events AS e WHERE e.tenant_id = s.tenant_id"
            " AND e.event_id = s.event_id AND e.claimed_ts BETWEEN %s AND %s)"
            " RETURNING tenant_id, CAST(event_id AS text)"
        )
        for batch in batches:
            began = time.perf_counter()
            bounds = pc.min_max(batch.column("claimed_ts"))
            with conn.transaction(), conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(1)")  # one writer at a time
                sql, data = render(batch, "_stage", binary=True)  # as the store renders
                with cur.copy(sql) as copy:
                    copy.write(data)
                keys = cur.execute(
                    insert, [bounds["min"].as_py(), bounds["max"].as_py()]
                ).fetchall()
                inserted = batch.join(
                    pa.table(
                        {
                            "tenant_id": pa.array([k[0] for k in keys], pa.string()),
                            "event_id": pa.array([k[1] for k in keys], pa.string()),
                        }
                    ),
                    ["tenant_id", "event_id"],
                    join_type="left semi",
                )
                copy_rollup_deltas(cur, rollup_deltas(inserted))
            seconds.append(time.perf_counter() - began)
    return seconds


def raw_copy(url: str, batches: list[pa.Table]) -> list[float]:
    """Seconds per batch of binary COPY of pre-rendered rows into the store's events
    table (the format the store writes in)."""
    return _copy(_with_partitions(url, batches), "events", batches, binary=True)


def raw_copy_csv(url: str, batches: list[pa.Table]) -> list[float]:
    """The same COPY with the rows rendered as CSV (the format the store wrote before)."""
    return _copy(_with_partitions(url, batches), "events", batches, binary=False)


def raw_copy_bare(url: str, batches: list[pa.Table]) -> list[float]:
    """Seconds per batch of the binary COPY into a table without partitions or indexes."""
    bare = MIGRATIONS[0].sql.split(") PARTITION BY")[0] + ")"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(bare.replace("CREATE TABLE events", "CREATE TABLE bare", 1))
    return _copy(url, "bare", batches, binary=True)


def _with_partitions(url: str, batches: list[pa.Table]) -> str:
    store = _store(url)
    store.ensure_partitions(_days(batches))
    store.close()
    return url


def render(batch: pa.Table, table: str, *, binary: bool) -> tuple[str, bytes]:
    """The COPY statement and body of ``batch``: binary when its ids allow, as the store."""
    data = binary_bytes(batch, ("event_id", "parent_event_id")) if binary else None
    if data is None:
        return copy_sql(table, COLUMN_NAMES), csv_bytes(batch)
    return binary_copy_sql(table, COLUMN_NAMES), data


def _copy(url: str, table: str, batches: list[pa.Table], *, binary: bool) -> list[float]:
    rendered = [render(b, table, binary=binary) for b in batches]  # not PostgreSQL's work
    seconds = []
    with psycopg.connect(url, autocommit=True) as conn:
        for sql, data in rendered:
            began = time.perf_counter()
            with conn.transaction(), conn.cursor() as cur, cur.copy(sql) as copy:
                copy.write(data)
            seconds.append(time.perf_counter() - began)
    return seconds


VARIANTS: dict[str, Run] = {
    "write_events": write_events,
    "write_events_two_writers": write_events_two_writers,
    "write_events_overlapping": write_events_overlapping,
    "antijoin": antijoin,
    "raw_copy": raw_copy,
    "raw_copy_csv": raw_copy_csv,
    "raw_copy_bare": raw_copy_bare,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=os.environ.get("HUB_TEST_POSTGRES_URL", DEFAULT_TEST_URL))
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch-rows", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--events-per-s", type=float, default=100_000)
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated")
    args = parser.parse_args()

    names = [n.strip() for n in args.variants.split(",") if n.strip()]
    batches = make_batches(args.batches, args.batch_rows, args.events_per_s)
    rows = args.batches * args.batch_rows
    runs: dict[str, list[list[float]]] = {name: [] for name in names}
    for _ in range(args.repeats):
        for name in names:
            with temporary_database(args.url, prefix="hub_bench_") as url:
                runs[name].append(VARIANTS[name](url, batches))

    def rate(name: str) -> float:
        return float(statistics.median(rows / sum(r) for r in runs[name]))

    def last_rate(name: str) -> float:  # the last quarter: the table at its largest
        tail = max(1, args.batches // 4)
        return float(statistics.median(args.batch_rows * tail / sum(r[-tail:]) for r in runs[name]))

    out: dict[str, object] = {
        "benchmark": "postgres_write",
        "batch_rows": args.batch_rows,
        "batches": args.batches,
        "stored_rows_at_end": rows,
        "repeats": args.repeats,
    }
    for name in names:
        out[f"{name}_rows_per_s"] = round(rate(name))
        out[f"{name}_last_quarter_rows_per_s"] = round(last_rate(name))
        out[f"{name}_batch_ms_p50"] = round(
            1000 * statistics.median(s for r in runs[name] for s in r), 1
        )
    if "raw_copy" in runs:
        for name in names:
            if name != "raw_copy":
                out[f"{name}_vs_raw_copy"] = round(rate(name) / rate("raw_copy"), 3)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
