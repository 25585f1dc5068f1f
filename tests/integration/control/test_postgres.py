"""What only the PostgreSQL control store does: processes on several machines migrate one
database at once, a database of an older hub gains what it lacks, a newer one is refused,
the tables follow the URL's schema, and a server that is down is a clear error."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from urllib.parse import quote

import psycopg
import pytest

from analytics_hub.control.base import ApiKeyRecord
from analytics_hub.control.postgres import PostgresControlStore
from analytics_hub.control.postgres_schema import LEDGER_SQL, MIGRATIONS
from analytics_hub.errors import HubError, UnavailableError

pytestmark = pytest.mark.service

NOW = datetime(2025, 3, 1, tzinfo=UTC)

# Waits for a common moment, so that both processes ask for the lock together.
MIGRATE = """
import json, sys, time
from analytics_hub.control.postgres import PostgresControlStore
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
store = PostgresControlStore(sys.argv[1])
print(json.dumps(store.migrate()))
store.close()
"""


def test_two_processes_migrating_at_once_apply_each_migration_once(
    postgres_database: str,
) -> None:
    at = str(time.time() + 3.0)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATE, postgres_database, at],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    applied = sorted(v for out, _ in outputs for v in json.loads(out))
    assert applied == [m.version for m in MIGRATIONS]
    with psycopg.connect(postgres_database) as conn:
        ledger = conn.execute("SELECT version FROM control_migrations ORDER BY 1").fetchall()
    assert [v for (v,) in ledger] == [m.version for m in MIGRATIONS]


def test_a_database_of_an_older_hub_gains_only_what_it_lacks(postgres_database: str) -> None:
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        conn.execute(LEDGER_SQL)
        for migration in MIGRATIONS[:2]:
            conn.execute(migration.sql)
            conn.execute(
                "INSERT INTO control_migrations VALUES (%s, %s, now())",
                [migration.version, migration.name],
            )
        conn.execute(
            "INSERT INTO control_api_keys VALUES ('k1', 'acme', 'admin', '', 'h', %s, NULL)",
            [NOW],
        )
    store = PostgresControlStore(postgres_database)
    try:
        assert store.schema_version() == 2
        assert store.migrate() == [3]
        assert store.get_key("k1") == ApiKeyRecord("k1", "acme", "admin", "", "h", NOW)
        assert store.list_dashboards("acme") == []
    finally:
        store.close()


def test_a_database_of_a_newer_hub_is_refused(postgres_database: str) -> None:
    store = PostgresControlStore(postgres_database)
    try:
        store.migrate()
        with psycopg.connect(postgres_database, autocommit=True) as conn:
            conn.execute("INSERT INTO control_migrations VALUES (99, 'future', now())")
        with pytest.raises(HubError, match="schema version 99, newer than this hub"):
            store.migrate()
    finally:
        store.close()


def test_the_tables_follow_the_schema_of_the_url(postgres_database: str) -> None:
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA blue")
        conn.execute("CREATE SCHEMA green")
    options = quote("-csearch_path=", safe="")
    blue = PostgresControlStore(f"{postgres_database}?options={options}blue")
    green = PostgresControlStore(f"{postgres_database}?options={options}green")
    try:
        assert blue.migrate() == green.migrate() == [m.version for m in MIGRATIONS]
        blue.add_key(ApiKeyRecord("k1", "acme", "admin", "", "h", NOW))
        assert green.get_key("k1") is None  # two deployments in one database stay apart
        green.add_key(ApiKeyRecord("k1", "acme", "read", "", "h2", NOW))
        with psycopg.connect(postgres_database) as conn:
            where = conn.execute(
                "SELECT DISTINCT schemaname FROM pg_tables WHERE tablename LIKE 'control_%'"
                " ORDER BY 1"
            ).fetchall()
        assert where == [("blue",), ("green",)]
    finally:
        blue.close()
        green.close()


def test_a_server_that_is_down_or_a_closed_store_is_unavailable(postgres_database: str) -> None:
    with pytest.raises(UnavailableError, match="cannot connect to the control store"):
        PostgresControlStore("postgresql://hub@127.0.0.1:1/nowhere", connect_timeout=1)
    store = PostgresControlStore(postgres_database)
    store.migrate()
    store.close()
    store.close()  # idempotent
    with pytest.raises(UnavailableError, match="closed"):
        store.get_key("k1")
