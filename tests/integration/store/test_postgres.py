"""What only the PostgreSQL backend promises: its column types and keys, day partitions,
SQL histogram bins, migrations that roll back whole, and read-only ``fetch``."""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import psycopg
import pyarrow as pa
import pytest

from analytics_hub.events.columns import (
    EVENT_COLUMNS,
    EVENT_SCHEMA,
    ROLLUP_DIMENSIONS,
    ROLLUP_MEASURES,
)
from analytics_hub.events.histogram import GAMMA, MIN_VALUE, bin_of
from analytics_hub.store.base import RetentionPolicy, WriteResult
from analytics_hub.store.postgres import PostgresStore
from analytics_hub.store.postgres_rollups import latency_bin_sql
from analytics_hub.store.postgres_schema import MIGRATIONS, Migration
from analytics_hub.store.rollup_tables import ROLLUPS
from analytics_hub.testing.rows import make_event_rows

SQL_TYPES = {
    "string": "text",
    "uuid": "uuid",
    "timestamp": "timestamp without time zone",
    "int64": "bigint",
    "float64": "double precision",
    "int16": "smallint",
    "json": "text",
}
TODAY = datetime(2025, 6, 10, 15, 30)


class Clock:
    """A settable clock for the store's partition horizon."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(TODAY)


@pytest.fixture
def pg(postgres_database: str, clock: Clock) -> Iterator[PostgresStore]:
    store = PostgresStore(postgres_database, partitions_ahead_days=2, clock=clock)
    store.migrate()
    yield store
    store.close()


def _columns(store: PostgresStore, table: str) -> list[tuple[str, str, bool]]:
    rows = store.fetch(
        "SELECT column_name, data_type, is_nullable = 'YES' FROM information_schema.columns"
        " WHERE table_name = ? ORDER BY ordinal_position",
        [table],
    ).rows
    return [(r[0], r[1], r[2]) for r in rows]


def _partitions(store: PostgresStore) -> list[str]:
    rows = store.fetch(
        "SELECT c.relname FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = 'events'::regclass ORDER BY 1",
        [],
    ).rows
    return [r[0] for r in rows]


def _in_default(store: PostgresStore) -> int:
    return int(store.fetch("SELECT count(*) FROM events_default", []).rows[0][0])


def test_events_table_has_the_event_columns_in_order(pg: PostgresStore) -> None:
    want = [(c.name, SQL_TYPES[c.type], c.nullable) for c in EVENT_COLUMNS]
    assert _columns(pg, "events") == want
    collations = pg.fetch(
        "SELECT DISTINCT collation_name FROM information_schema.columns"
        " WHERE table_name = 'events' AND data_type = 'text'",
        [],
    ).rows
    assert collations == [("C",)]


@pytest.mark.parametrize("table", ["rollup_1m", "rollup_1h"])
def test_rollup_tables_have_bucket_dimensions_measures_and_histogram(
    pg: PostgresStore, table: str
) -> None:
    by_name = {c.name: c for c in EVENT_COLUMNS}
    want = [("bucket", SQL_TYPES["timestamp"], False)]
    want += [(d, SQL_TYPES[by_name[d].type], by_name[d].nullable) for d in ROLLUP_DIMENSIONS]
    want += [(m.name, SQL_TYPES[m.type], m.nullable) for m in ROLLUP_MEASURES]
    want += [("lat_bins", "ARRAY", False), ("lat_counts", "ARRAY", False)]
    assert _columns(pg, table) == want


def test_events_are_partitioned_by_claimed_day_with_the_key_and_query_indexes(
    pg: PostgresStore,
) -> None:
    key = pg.fetch("SELECT pg_get_partkeydef('events'::regclass)", []).rows
    assert key == [("RANGE (claimed_ts)",)]
    indexes = {
        r[0]
        for r in pg.fetch("SELECT indexdef FROM pg_indexes WHERE tablename = 'events'", []).rows
    }
    assert indexes == {
        "CREATE UNIQUE INDEX events_key ON ONLY public.events USING btree"
        " (tenant_id, event_id, claimed_ts)",
        "CREATE INDEX events_tenant_ts ON ONLY public.events USING btree (tenant_id, ts)",
        "CREATE INDEX events_tenant_asset_ts ON ONLY public.events USING btree"
        " (tenant_id, asset_id, ts)",
        "CREATE INDEX events_ts_brin ON ONLY public.events USING brin (ts)",
    }


@pytest.mark.parametrize("table", [r.name for r in ROLLUPS])
def test_rollups_are_indexed_by_tenant_and_bucket_and_by_bucket_with_b_trees(
    pg: PostgresStore, table: str
) -> None:
    indexes = {
        r[0] for r in pg.fetch("SELECT indexdef FROM pg_indexes WHERE tablename = ?", [table]).rows
    }
    # No block-range index: compaction leaves old buckets at the heap's end, and the
    # planner chose such an index over the tenant's (migration 9).
    assert indexes == {
        f"CREATE INDEX {table}_tenant_bucket ON public.{table} USING btree (tenant_id, bucket)",
        f"CREATE INDEX {table}_bucket ON public.{table} USING btree (bucket)",
    }


def test_migrations_are_numbered_one_to_n() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))


def _boundary_values() -> list[float]:
    rng = random.Random(5)
    values = [0.0, MIN_VALUE / 2, MIN_VALUE, 0.5, 1.0, 1e-9, 1e7]
    values += [rng.lognormvariate(6.0, 2.0) for _ in range(20_000)]
    for k in range(-400, 1200, 7):  # exactly on, and a hair either side of, bin edges
        edge = GAMMA**k
        values += [edge, math.nextafter(edge, 0.0), math.nextafter(edge, math.inf)]
    return values


def test_sql_latency_bins_equal_python_bins(pg: PostgresStore) -> None:
    values = _boundary_values()
    rows = pg.fetch(
        f"SELECT v, {latency_bin_sql('v')} FROM unnest(CAST(? AS double precision[])) AS v",
        [values],
    ).rows
    assert len(rows) == len(values)
    assert [(v, b, bin_of(v)) for v, b in rows if b != bin_of(v)] == []
    assert pg.fetch(f"SELECT {latency_bin_sql('NULL::double precision')}", []).rows == [(None,)]


def test_a_failing_migration_is_rolled_back_whole(
    pg: PostgresStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = pg.schema_version()
    broken = Migration(
        version + 1, "broken", "CREATE TABLE half_done (x int); SELECT * FROM nowhere;"
    )
    monkeypatch.setattr("analytics_hub.store.postgres.MIGRATIONS", (*MIGRATIONS, broken))
    with pytest.raises(Exception, match="nowhere"):
        pg.migrate()
    assert pg.schema_version() == version
    assert pg.fetch("SELECT to_regclass('half_done') IS NULL", []).rows == [(True,)]
    fixed = Migration(version + 1, "fixed", "CREATE TABLE half_done (x int);")
    monkeypatch.setattr("analytics_hub.store.postgres.MIGRATIONS", (*MIGRATIONS, fixed))
    assert pg.migrate() == [version + 1]
    assert pg.schema_version() == version + 1


def test_stores_migrating_at_once_apply_each_migration_once(postgres_database: str) -> None:
    stores = [PostgresStore(postgres_database) for _ in range(3)]
    applied: list[list[int]] = []
    threads = [threading.Thread(target=lambda s=s: applied.append(s.migrate())) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.close()
    assert sorted(applied, key=len) == [[], [], [m.version for m in MIGRATIONS]]


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM events",
        "SELECT 1; SELECT 2",
        "DROP TABLE events",
        "WITH gone AS (DELETE FROM events RETURNING 1) SELECT count(*) FROM gone",
        "SELECT 1; DELETE FROM events",
        "SET default_transaction_read_only = off",
    ],
)
def test_fetch_runs_only_one_read_only_query(pg: PostgresStore, sql: str) -> None:
    pg.write_events(make_event_rows(10, start=TODAY))
    with pytest.raises(ValueError, match="one SELECT"):
        pg.fetch(sql, [])
    assert pg.fetch("SELECT count(*) FROM events", []).rows == [(10,)]


def test_migrate_creates_the_days_ahead_and_a_write_creates_its_days(pg: PostgresStore) -> None:
    assert _partitions(pg) == [
        "events_default",
        "events_p20250610",
        "events_p20250611",
        "events_p20250612",
    ]
    pg.write_events(
        make_event_rows(10, start=datetime(2025, 5, 20, 23, 59, 58), step=timedelta(seconds=1))
    )
    assert {"events_p20250520", "events_p20250521"} <= set(_partitions(pg))
    assert _in_default(pg) == 0


def _claimed(at: datetime, *, received: datetime, seed: int) -> pa.Table:
    """One event claimed at ``at`` but received (and clamped to) ``received``."""
    row = make_event_rows(1, start=at, seed=seed).to_pylist()[0]
    row.update(
        ts=min(at, received),
        received_at=received,
        skew_ms=(at - received) / timedelta(milliseconds=1),
    )
    return pa.Table.from_pylist([row], schema=EVENT_SCHEMA)


def test_a_far_future_event_waits_in_the_default_partition_until_its_day_comes(
    pg: PostgresStore, clock: Clock
) -> None:
    future = datetime(2025, 8, 1, 12, 0)
    event = _claimed(future, received=TODAY, seed=3)
    assert pg.write_events(event) == WriteResult(1, 0)
    assert _in_default(pg) == 1
    assert "events_p20250801" not in _partitions(pg)

    clock.now = datetime(2025, 7, 31, 9, 0)
    assert date(2025, 8, 1) in pg.ensure_partitions()
    assert _in_default(pg) == 0
    assert pg.fetch("SELECT count(*) FROM events_p20250801", []).rows == [(1,)]
    assert pg.write_events(event) == WriteResult(0, 1)  # still the same key


def test_a_clamped_event_resent_later_is_a_duplicate(pg: PostgresStore) -> None:
    # A client retry is received (and so clamped) at another time: ts differs, the
    # claimed time (the key's time) does not.
    claimed = TODAY + timedelta(hours=2)
    first = _claimed(claimed, received=TODAY, seed=4)
    again = _claimed(claimed, received=TODAY + timedelta(minutes=3), seed=4)
    assert pg.write_events(first) == WriteResult(1, 0)
    assert pg.write_events(again) == WriteResult(0, 1)
    assert pg.fetch("SELECT sum(events) FROM rollup_1m", []).rows == [(1,)]


def test_an_event_later_than_its_claimed_time_is_refused(pg: PostgresStore) -> None:
    row = make_event_rows(1, start=TODAY).to_pylist()[0]
    row["ts"] = row["claimed_ts"] + timedelta(seconds=1)
    with pytest.raises(ValueError, match="event store"):
        pg.write_events(pa.Table.from_pylist([row], schema=EVENT_SCHEMA))


def test_retention_drops_whole_partitions_and_counts_their_rows(pg: PostgresStore) -> None:
    for age in (1, 40, 41, 42):
        pg.write_events(
            make_event_rows(
                20, start=TODAY - timedelta(days=age), step=timedelta(seconds=1), seed=age
            )
        )
    days = set(_partitions(pg))
    assert {"events_p20250501", "events_p20250430", "events_p20250429"} <= days

    report = pg.apply_retention(TODAY, RetentionPolicy(raw_days=30), {})

    assert report.deleted["events"] == 60
    assert not {"events_p20250501", "events_p20250430", "events_p20250429"} & set(_partitions(pg))
    assert pg.fetch("SELECT count(*) FROM events", []).rows == [(20,)]


def test_a_tenant_with_longer_retention_keeps_the_partitions(pg: PostgresStore) -> None:
    pg.write_events(
        make_event_rows(20, start=TODAY - timedelta(days=40), tenants=["a", "long"], seed=1)
    )
    long = RetentionPolicy(raw_days=60)
    report = pg.apply_retention(TODAY, RetentionPolicy(raw_days=30), {"long": long})
    assert "events_p20250501" in _partitions(pg)
    kept = pg.fetch("SELECT DISTINCT tenant_id FROM events", []).rows
    assert kept == [("long",)]
    assert report.deleted["events"] == 20 - int(
        pg.fetch("SELECT count(*) FROM events", []).rows[0][0]
    )


def test_doubles_round_trip_exactly_and_nul_becomes_the_replacement_character(
    pg: PostgresStore,
) -> None:
    values = [0.1 + 0.2, 1e-300, 5e-324, 1.7976931348623157e308, 2.0 / 3.0, 123456.789]
    table = make_event_rows(len(values), start=TODAY, seed=9)
    rows = table.to_pylist()
    for row, value in zip(rows, values, strict=True):
        row.update(latency_ms=value, cost_usd=value, user_id="nul\x00here")
    pg.write_events(pa.Table.from_pylist(rows, schema=EVENT_SCHEMA))
    stored = pg.fetch("SELECT latency_ms, cost_usd, user_id FROM events ORDER BY ts", []).rows
    assert [r[0] for r in stored] == values
    assert [r[1] for r in stored] == values
    assert {r[2] for r in stored} == {"nul\ufffdhere"}


def test_upper_case_event_ids_go_in_by_csv_and_count_once(pg: PostgresStore) -> None:
    # The binary COPY takes only canonical UUID text; any other batch falls back to CSV,
    # where PostgreSQL parses the ids, so both spellings meet in the same key.
    table = make_event_rows(4, start=TODAY, seed=11)
    upper = table.set_column(
        1, "event_id", pa.array([v.upper() for v in table.column("event_id").to_pylist()])
    )
    assert pg.write_events(upper).inserted == 4
    assert pg.write_events(table).inserted == 0
    stored = pg.fetch("SELECT CAST(event_id AS text) FROM events ORDER BY ts", []).rows
    assert [r[0] for r in stored] == table.column("event_id").to_pylist()


def test_two_stores_writing_the_same_batches_store_each_event_once(postgres_database: str) -> None:
    # As two writer processes would: separate pools, overlapping batches, no shared lock.
    stores = [PostgresStore(postgres_database) for _ in range(2)]
    stores[0].migrate()
    table = make_event_rows(6_000, start=TODAY, tenants=["t1", "t2"], seed=5)
    results: list[WriteResult] = []

    def write(store: PostgresStore, offset: int) -> None:
        for k in range(offset, 5_000, 500):
            results.append(store.write_events(table.slice(k, 1_000)))

    threads = [
        threading.Thread(target=write, args=(s, o)) for s, o in zip(stores, (0, 250), strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    count, rolled = (
        stores[0]
        .fetch("SELECT (SELECT count(*) FROM events), (SELECT sum(events) FROM rollup_1h)", [])
        .rows[0]
    )
    for s in stores:
        s.close()
    assert count == rolled == sum(r.inserted for r in results) == 5_750


def test_connections_the_server_dropped_are_replaced(
    pg: PostgresStore, postgres_database: str
) -> None:
    # What a PostgreSQL restart does to the pools: every open session is gone.
    pg.write_events(make_event_rows(100, start=TODAY, seed=1))
    name = postgres_database.rsplit("/", 1)[1]
    with psycopg.connect(postgres_database, autocommit=True) as admin:
        ended = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        ).fetchone()
    assert ended is not None
    assert ended[0] >= 2
    pg.check()
    assert pg.write_events(make_event_rows(100, start=TODAY, seed=2)) == WriteResult(100, 0)
    assert pg.fetch("SELECT count(*) FROM events", []).rows == [(200,)]


def _rows_per_group(pg: PostgresStore, table: str) -> tuple[int, int]:
    dims = ", ".join(ROLLUP_DIMENSIONS)
    row = pg.fetch(f"SELECT count(*), count(DISTINCT (bucket, {dims})) FROM {table}", []).rows[0]
    return int(row[0]), int(row[1])


def test_compaction_merges_each_bucket_that_got_deltas_since_the_last_pass(
    pg: PostgresStore,
) -> None:
    start = TODAY - timedelta(hours=5)
    table = make_event_rows(2_000, start=start, step=timedelta(seconds=3), seed=1)
    pg.write_events(table.take(list(range(0, 2_000, 2))))
    pg.write_events(table.take(list(range(1, 2_000, 2))))
    assert pg.compact_rollups(TODAY) > 0
    for rollup in ("rollup_1m", "rollup_1h"):
        rows, groups = _rows_per_group(pg, rollup)
        assert rows == groups
    marks = pg.fetch("SELECT count(*) FROM rollup_dirty WHERE bucket < ?", [TODAY]).rows
    assert marks == [(0,)]
    assert pg.compact_rollups(TODAY) == 0

    # Late events for buckets compacted already: marked, so merged by the next pass.
    late = make_event_rows(300, start=start, step=timedelta(seconds=3), seed=99)
    pg.write_events(late)
    assert pg.compact_rollups(TODAY) > 0
    for rollup in ("rollup_1m", "rollup_1h"):
        rows, groups = _rows_per_group(pg, rollup)
        assert rows == groups
    total = pg.fetch("SELECT sum(events) FROM rollup_1h", []).rows
    assert total == [(2_300,)]


def test_json_numbers_read_like_duckdbs_try_cast(pg: PostgresStore) -> None:
    rows = pg.fetch(
        "SELECT hub_try_float8('1.5'), hub_try_float8(' -2e3 '), hub_try_float8('fast'),"
        " hub_try_float8('1e999'), hub_try_float8(NULL)",
        [],
    ).rows
    assert rows == [(1.5, -2000.0, None, None, None)]
