"""Schema migrations are versioned, applied once, in order, and survive restarts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

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
