"""Price overrides in the control store (SQLite and PostgreSQL): stored per tenant,
shared by every process that opens the store, and added to SQLite files made before the
table existed."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from analytics_hub.control.base import ApiKeyRecord, ControlStore, PriceOverrideRecord
from analytics_hub.control.sqlite import MIGRATIONS, SQLiteControlStore

NOW = datetime(2025, 3, 1, tzinfo=UTC)


def record(
    tenant: str = "acme", day: date = date(2025, 1, 1), **prices: float
) -> PriceOverrideRecord:
    values = {"input": 1.0, "output": 2.0} | prices
    return PriceOverrideRecord(
        tenant, "vllm", "acme-ft-1", day, values["input"], values["output"], None, None, NOW
    )


def test_overrides_are_per_tenant_ordered_and_replaced_by_day(store: ControlStore) -> None:
    store.put_price_override(record(day=date(2025, 2, 1)))
    store.put_price_override(record(day=date(2025, 1, 1)))
    store.put_price_override(record(day=date(2025, 2, 1), input=9.0))  # same day: replaced
    store.put_price_override(record(tenant="globex"))
    acme = store.list_price_overrides("acme")
    assert [(r.valid_from, r.input) for r in acme] == [
        (date(2025, 1, 1), 1.0),
        (date(2025, 2, 1), 9.0),
    ]
    assert acme[0] == record()
    assert len(store.list_price_overrides("globex")) == 1
    assert store.delete_price_overrides("acme", "vllm", "acme-ft-1", date(2025, 2, 1)) == 1
    assert store.delete_price_overrides("acme", "vllm", "acme-ft-1") == 1
    assert store.delete_price_overrides("acme", "vllm", "acme-ft-1") == 0
    assert store.list_price_overrides("acme") == []
    assert len(store.list_price_overrides("globex")) == 1


def test_a_second_process_sees_the_overrides_at_once(
    connect: Callable[..., ControlStore],
) -> None:
    server = connect()
    command = connect()  # e.g. `prices import`
    command.put_price_override(record())
    assert server.list_price_overrides("acme") == [record()]


def test_optional_prices_and_replacing_keep_every_field(store: ControlStore) -> None:
    full = PriceOverrideRecord(
        "acme", "vllm", "acme-ft-1", date(2025, 1, 1), 1.25, 2.5, 0.125, 7.75, NOW
    )
    store.put_price_override(full)
    assert store.list_price_overrides("acme") == [full]
    later = datetime(2025, 3, 2, 8, 30, 0, 123456, tzinfo=UTC)
    cleared = PriceOverrideRecord(
        "acme", "vllm", "acme-ft-1", date(2025, 1, 1), 3.0, 4.0, None, None, later
    )
    store.put_price_override(cleared)  # an override of the same day replaces every price
    assert store.list_price_overrides("acme") == [cleared]


def test_a_file_made_before_the_migrations_keeps_its_keys_and_gains_the_table(
    tmp_path: Path,
) -> None:
    path = tmp_path / "control.sqlite"
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE api_keys (key_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL,
            role TEXT NOT NULL, name TEXT NOT NULL, secret_hash TEXT NOT NULL,
            created_at TEXT NOT NULL, revoked_at TEXT);
        INSERT INTO api_keys
            VALUES ('k1', 'acme', 'admin', '', 'h', '2025-01-01T00:00:00+00:00', NULL);
        """
    )
    old.close()
    store = SQLiteControlStore(path)
    key = store.get_key("k1")
    assert key is not None
    assert key.tenant_id == "acme"
    store.put_price_override(record())
    assert store.list_price_overrides("acme") == [record()]
    version = sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0]
    assert version == MIGRATIONS[-1][0]
    # Opening again applies nothing twice.
    again = SQLiteControlStore(path)
    assert again.list_price_overrides("acme") == [record()]
    again.add_key(ApiKeyRecord("k2", "acme", "read", "", "h2", datetime(2025, 1, 2, tzinfo=UTC)))
    assert [k.key_id for k in again.list_keys("acme")] == ["k1", "k2"]
