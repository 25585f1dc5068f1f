"""Dashboards in the control store (SQLite and PostgreSQL): per tenant, replaced only at
the version read, shared by every process that opens the store, and added to SQLite files
made before the table."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from analytics_hub.control.base import ControlStore, DashboardRecord, PriceOverrideRecord
from analytics_hub.control.sqlite import MIGRATIONS, SQLiteControlStore
from analytics_hub.errors import ConflictError

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def record(
    dashboard_id: str = "d1", tenant: str = "acme", name: str = "Latency"
) -> DashboardRecord:
    return DashboardRecord(
        tenant_id=tenant,
        dashboard_id=dashboard_id,
        name=name,
        version=1,
        document=json.dumps({"name": name}),
        created_at=NOW,
        updated_at=NOW,
    )


def test_dashboards_are_per_tenant_and_listed_by_name(store: ControlStore) -> None:
    store.add_dashboard(record("d1", name="latency"))
    store.add_dashboard(record("d2", name="Cost"))
    store.add_dashboard(record("d3", name="cost"))
    store.add_dashboard(record("d1", tenant="globex", name="theirs"))  # same id, other tenant
    assert [r.dashboard_id for r in store.list_dashboards("acme")] == ["d2", "d3", "d1"]
    assert store.get_dashboard("acme", "d1") == record("d1", name="latency")
    assert store.get_dashboard("globex", "d1") == record("d1", tenant="globex", name="theirs")
    assert store.get_dashboard("initech", "d1") is None
    with pytest.raises(ConflictError):
        store.add_dashboard(record("d1"))
    assert store.delete_dashboard("acme", "d1") is True
    assert store.delete_dashboard("acme", "d1") is False
    assert store.get_dashboard("globex", "d1") is not None


def test_names_sort_case_blind_in_ascii_then_by_id(store: ControlStore) -> None:
    for dashboard_id, name in [("b", "beta"), ("a", "Beta"), ("c", "ALPHA"), ("d", "Ärger")]:
        store.add_dashboard(record(dashboard_id, name=name))
    # As SQLite's NOCASE: ASCII letters fold, others sort by their bytes (after ASCII).
    assert [r.dashboard_id for r in store.list_dashboards("acme")] == ["c", "a", "b", "d"]


def test_a_replace_wins_only_at_the_version_it_read(
    connect: Callable[..., ControlStore],
) -> None:
    one, two = connect(), connect()  # two processes
    one.add_dashboard(record())
    later = NOW + timedelta(minutes=5)
    mine = replace(record(name="mine"), version=2, document="{}", updated_at=later)
    theirs = replace(record(name="theirs"), version=2, updated_at=later)
    assert one.replace_dashboard(mine, expected_version=1) is True
    assert two.replace_dashboard(theirs, expected_version=1) is False  # read version 1 too
    got = two.get_dashboard("acme", "d1")
    assert got == replace(mine, created_at=NOW)
    other_tenant = replace(mine, tenant_id="globex", version=3)
    assert one.replace_dashboard(other_tenant, expected_version=2) is False
    assert one.replace_dashboard(replace(mine, version=3), expected_version=2) is True
    assert one.delete_dashboard("acme", "d1") is True
    assert two.replace_dashboard(replace(mine, version=4), expected_version=3) is False  # gone


def test_a_file_of_the_previous_version_gains_the_table_and_keeps_its_data(
    tmp_path: Path,
) -> None:
    path = tmp_path / "control.sqlite"
    old = sqlite3.connect(path)
    for version, sql in MIGRATIONS:
        if version <= 2:
            old.executescript(sql)
    old.execute("PRAGMA user_version = 2")
    old.execute(
        "INSERT INTO price_overrides VALUES"
        " ('acme', 'vllm', 'ft', '2025-01-01', 1.0, 2.0, NULL, NULL, '2025-01-01T00:00:00+00:00')"
    )
    old.commit()
    old.close()
    store = SQLiteControlStore(path)
    assert [r.model for r in store.list_price_overrides("acme")] == ["ft"]
    assert isinstance(store.list_price_overrides("acme")[0], PriceOverrideRecord)
    store.add_dashboard(record())
    assert store.list_dashboards("acme") == [record()]
    version = sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0]
    assert version == MIGRATIONS[-1][0] == 3
    store.close()
