"""What only the DuckDB backend promises: its exact column types, its SQL histogram
bins, migrations that roll back as a whole, and the configuration it runs with."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from analytics_hub.events.columns import EVENT_COLUMNS, ROLLUP_DIMENSIONS, ROLLUP_MEASURES
from analytics_hub.events.histogram import GAMMA, MIN_VALUE, bin_of
from analytics_hub.store import duckdb as duckdb_module
from analytics_hub.store.duckdb import DuckDBStore
from analytics_hub.store.duckdb_rollups import latency_bin_sql
from analytics_hub.store.duckdb_schema import MIGRATIONS, Migration
from analytics_hub.testing.rows import make_event_rows

SQL_TYPES = {
    "string": "VARCHAR",
    "uuid": "UUID",
    "timestamp": "TIMESTAMP",
    "int64": "BIGINT",
    "float64": "DOUBLE",
    "int16": "SMALLINT",
    "json": "VARCHAR",
}


@pytest.fixture
def duck(tmp_path: Path) -> Iterator[DuckDBStore]:
    store = DuckDBStore(tmp_path / "events.duckdb", threads=2)
    store.migrate()
    yield store
    store.close()


def _columns(store: DuckDBStore, table: str) -> list[tuple[str, str, bool]]:
    rows = store.fetch(
        "SELECT column_name, data_type, is_nullable = 'YES' FROM information_schema.columns"
        " WHERE table_name = ? ORDER BY ordinal_position",
        [table],
    ).rows
    return [(r[0], r[1], r[2]) for r in rows]


def test_events_table_has_the_event_columns_in_order(duck: DuckDBStore) -> None:
    want = [(c.name, SQL_TYPES[c.type], c.nullable) for c in EVENT_COLUMNS]
    assert _columns(duck, "events") == want


@pytest.mark.parametrize("table", ["rollup_1m", "rollup_1h"])
def test_rollup_tables_have_bucket_dimensions_measures_and_histogram(
    duck: DuckDBStore, table: str
) -> None:
    by_name = {c.name: c for c in EVENT_COLUMNS}
    want = [("bucket", "TIMESTAMP", False)]
    want += [(d, SQL_TYPES[by_name[d].type], by_name[d].nullable) for d in ROLLUP_DIMENSIONS]
    want += [(m.name, SQL_TYPES[m.type], m.nullable) for m in ROLLUP_MEASURES]
    want += [("lat_bins", "INTEGER[]", False), ("lat_counts", "BIGINT[]", False)]
    assert _columns(duck, table) == want


def test_events_table_has_no_primary_key(duck: DuckDBStore) -> None:
    # Deliberate: see docs/decisions/0001-dedupe-by-anti-join.md.
    rows = duck.fetch(
        "SELECT count(*) FROM duckdb_constraints() WHERE table_name = 'events'"
        " AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')",
        [],
    ).rows
    assert rows == [(0,)]


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


def test_sql_latency_bins_equal_python_bins(duck: DuckDBStore) -> None:
    values = _boundary_values()
    rows = duck.fetch(
        f"SELECT v, {latency_bin_sql('v')} FROM (SELECT unnest(CAST(? AS DOUBLE[])) AS v)",
        [values],
    ).rows
    assert len(rows) == len(values)
    mismatched = [(v, b, bin_of(v)) for v, b in rows if b != bin_of(v)]
    assert mismatched == []


def test_sql_latency_bin_of_null_is_null(duck: DuckDBStore) -> None:
    # greatest() skips NULLs: without the explicit case NULL would land in the lowest bin.
    assert duck.fetch(f"SELECT {latency_bin_sql('NULL::DOUBLE')}", []).rows == [(None,)]


def test_a_failing_migration_is_rolled_back_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = DuckDBStore(tmp_path / "events.duckdb")
    try:
        store.migrate()
        version = store.schema_version()
        broken = Migration(
            version + 1, "broken", "CREATE TABLE half_done (x INTEGER); SELECT * FROM nowhere;"
        )
        monkeypatch.setattr("analytics_hub.store.duckdb.MIGRATIONS", (*MIGRATIONS, broken))
        with pytest.raises(Exception, match="nowhere"):
            store.migrate()
        assert store.schema_version() == version
        tables = store.fetch(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'half_done'", []
        )
        assert tables.rows == [(0,)]

        fixed = Migration(version + 1, "fixed", "CREATE TABLE half_done (x INTEGER);")
        monkeypatch.setattr("analytics_hub.store.duckdb.MIGRATIONS", (*MIGRATIONS, fixed))
        assert store.migrate() == [version + 1]
        assert store.schema_version() == version + 1
    finally:
        store.close()


def test_settings_are_applied(tmp_path: Path) -> None:
    store = DuckDBStore(tmp_path / "events.duckdb", memory_limit="300MB", threads=1)
    try:
        rows = store.fetch(
            "SELECT current_setting('threads'), current_setting('memory_limit'),"
            " current_setting('preserve_insertion_order')",
            [],
        ).rows
        threads, memory, order = rows[0]
        assert int(threads) == 1
        assert memory == "286.1 MiB"  # 300 MB, as DuckDB shows it
        assert order is False
    finally:
        store.close()


def test_fetch_runs_only_one_select(duck: DuckDBStore) -> None:
    for sql in ("DELETE FROM events", "SELECT 1; SELECT 2", "DROP TABLE events"):
        with pytest.raises(ValueError, match="one SELECT"):
            duck.fetch(sql, [])
    assert duck.fetch("SELECT count(*) FROM events", []).rows == [(0,)]


def test_a_quiet_moment_checkpoints_a_log_past_its_size_and_keeps_every_row(
    tmp_path: Path,
) -> None:
    start = datetime.now(UTC) - timedelta(hours=1)
    path = tmp_path / "quiet.duckdb"
    wal = tmp_path / "quiet.duckdb.wal"
    store = DuckDBStore(path, threads=2, quiet_checkpoint_bytes=1 << 20)
    try:
        store.migrate()
        store.quiet_moment()  # whatever the log holds after the migrations: no error
        store.write_events(make_event_rows(200, start=start, seed=1))
        small = wal.stat().st_size
        assert 0 < small < 1 << 20
        store.quiet_moment()
        assert wal.stat().st_size == small  # below the size: left to DuckDB
        store.write_events(make_event_rows(5000, start=start, seed=2))
        assert wal.stat().st_size >= 1 << 20
        store.quiet_moment()
        assert not wal.exists() or wal.stat().st_size < small  # folded into the file
        assert store.fetch("SELECT count(*) FROM events", []).rows == [(5200,)]
    finally:
        store.close()
    store.quiet_moment()  # closed: nothing, and no error


def _folding_store(path: Path, *, housekeeping_log_bytes: int) -> DuckDBStore:
    """A migrated store whose quiet moment folds from 1 MB of log, the log folded empty."""
    store = DuckDBStore(
        path, threads=2, quiet_checkpoint_bytes=1 << 20,
        housekeeping_log_bytes=housekeeping_log_bytes,
    )  # fmt: skip
    store.migrate()
    store.quiet_moment()
    return store


def test_housekeeping_is_due_once_the_log_holds_its_size_and_not_after_the_fold(
    tmp_path: Path,
) -> None:
    start = datetime.now(UTC) - timedelta(hours=1)
    store = _folding_store(tmp_path / "due.duckdb", housekeeping_log_bytes=1 << 20)
    try:
        store.write_events(make_event_rows(200, start=start, seed=1))
        assert not store.housekeeping_due()
        store.write_events(make_event_rows(5000, start=start, seed=2))
        assert store.housekeeping_due()
        store.quiet_moment()
        assert not store.housekeeping_due()
        assert store.fetch("SELECT count(*) FROM events", []).rows == [(5200,)]
        store.write_events(make_event_rows(5000, start=start, seed=3))
        assert store.housekeeping_due()
    finally:
        store.close()
    assert not store.housekeeping_due()  # closed: nothing to ask for


def test_a_quiet_moment_has_housekeeping_to_do_at_its_own_lower_size(tmp_path: Path) -> None:
    start = datetime.now(UTC) - timedelta(hours=1)
    store = _folding_store(tmp_path / "quiet.duckdb", housekeeping_log_bytes=1 << 30)
    try:
        assert not store.housekeeping_due(at_quiet_moment=True)
        store.write_events(make_event_rows(5000, start=start, seed=2))
        assert store.housekeeping_due(at_quiet_moment=True)
        assert not store.housekeeping_due()  # far from the size that stalls a commit
        store.quiet_moment()
        assert not store.housekeeping_due(at_quiet_moment=True)
    finally:
        store.close()


def test_a_commit_that_fails_after_its_rollup_deltas_leaves_none_for_the_next(
    duck: DuckDBStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The deltas wait in the writer's temporary scratch table until the rollups are
    # appended: a failure in between must roll them back with the rest.
    start = datetime(2025, 6, 1, 12, 0)
    failing = make_event_rows(300, start=start, seed=1)
    good = make_event_rows(200, start=start, seed=2)
    later = make_event_rows(100, start=start + timedelta(minutes=1), seed=3)
    broken = dict(duckdb_module._PREPARED_FOLD)
    # Fails when executed, after three rollups were appended from the scratch table.
    broken["_fold_tenant_rollup_1h"] = "SELECT error('injected failure')"
    monkeypatch.setattr(duckdb_module, "_PREPARED_FOLD", broken)
    with pytest.raises(duckdb.Error, match="injected failure"):
        duck.write_events(failing)
    monkeypatch.undo()  # the store prepares its statements anew after a failure

    assert duck.write_events(good).inserted == 200
    assert duck.write_events(later).inserted == 100  # and each commit's deltas only once
    for table in ("rollup_1m", "rollup_1h", "tenant_rollup_1m", "tenant_rollup_1h"):
        assert duck.fetch(f"SELECT sum(events) FROM {table}", []).rows == [(300,)]
    assert duck.fetch("SELECT count(*) FROM events", []).rows == [(300,)]
