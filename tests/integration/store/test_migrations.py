"""Schema migrations are versioned, applied once, in order, and survive restarts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import duckdb
import psycopg
from tests.integration.store.test_rollups import (
    TABLES,
    assert_matches,
    reference,
    rolled_up,
    write_interleaved,
)

from analytics_hub.store.base import EventStore
from analytics_hub.testing.rows import make_event_rows

START = datetime(2025, 3, 1, 12, 0)


def _count(store: EventStore, table: str) -> int:
    return int(store.fetch(f"SELECT count(*) FROM {table}", []).rows[0][0])


def test_a_new_database_gets_every_migration_in_order(
    reopen: Callable[[], EventStore], store: EventStore
) -> None:
    version = store.schema_version()
    rows = store.fetch("SELECT version FROM schema_migrations ORDER BY version", []).rows
    assert [r[0] for r in rows] == list(range(1, version + 1))
    assert version >= 1


def test_migrate_is_idempotent(store: EventStore) -> None:
    version = store.schema_version()
    assert store.migrate() == []
    assert store.migrate() == []
    assert store.schema_version() == version


def test_a_restart_keeps_everything_and_applies_no_migration_again(
    store: EventStore, reopen: Callable[[], EventStore]
) -> None:
    version = store.schema_version()
    table = make_event_rows(2_000, start=START, tenants=["t1", "t2"])
    assert store.write_events(table).inserted == 2_000
    rollup_rows = _count(store, "rollup_1m")

    again = reopen()
    assert again.schema_version() == version
    assert again.migrate() == []
    assert _count(again, "events") == 2_000
    assert _count(again, "rollup_1m") == rollup_rows
    # The restarted store still knows what it holds: a replay is a duplicate.
    assert again.write_events(table).duplicates == 2_000
    assert _count(again, "events") == 2_000


def _as_before_tenant_rollups(backend: str, location: str) -> int:
    """Turn the database back into one from before the tenant-wide rollups (their
    tables gone, their migration unrecorded); the migration's version."""
    statements = [
        "DROP TABLE tenant_rollup_1m",
        "DROP TABLE tenant_rollup_1h",
        "DELETE FROM schema_migrations WHERE name = 'tenant_rollups'",
    ]
    version_sql = "SELECT version FROM schema_migrations WHERE name = 'tenant_rollups'"
    if backend == "duckdb":
        con = duckdb.connect(location)
        try:
            (version,) = con.execute(version_sql).fetchone() or (0,)
            for sql in statements:
                con.execute(sql)
        finally:
            con.close()
        return int(version)
    with psycopg.connect(location, autocommit=True) as conn:
        (version,) = conn.execute(version_sql).fetchone() or (0,)
        for sql in statements:
            conn.execute(sql)
    return int(version)


def test_the_tenant_rollups_migration_fills_them_from_the_history_already_stored(
    store: EventStore, reopen: Callable[[], EventStore], backend: str, location: str
) -> None:
    table = make_event_rows(
        4_000, start=START, step=timedelta(seconds=2), tenants=["t1", "t2"], seed=5
    )
    write_interleaved(store, table)  # uncompacted deltas too
    store.close()
    version = _as_before_tenant_rollups(backend, location)
    assert version > 0

    again = reopen()
    assert again.migrate() == [version]
    rows = table.to_pylist()
    for name in ("tenant_rollup_1m", "tenant_rollup_1h"):
        unit, dims = TABLES[name]
        assert_matches(rolled_up(again, name), reference(rows, unit, dims))
