"""API keys in the control store (SQLite and PostgreSQL): stored as digests only, listed
per tenant oldest first, revoked once, and seen by every process at once; migrations run
once however many processes start together."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from analytics_hub.auth.keys import KeyService
from analytics_hub.control.base import ApiKeyRecord, ControlStore
from analytics_hub.control.postgres_schema import TABLES
from analytics_hub.control.sqlite import MIGRATIONS
from analytics_hub.errors import AuthenticationError, ConflictError, NotFoundError

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def key(key_id: str, tenant: str = "acme", minutes: int = 0) -> ApiKeyRecord:
    return ApiKeyRecord(
        key_id=key_id,
        tenant_id=tenant,
        role="read",
        name=f"key {key_id}",
        secret_hash=f"hash-{key_id}",
        created_at=NOW + timedelta(minutes=minutes),
    )


def stored_bytes(backend: str, location: str) -> bytes:
    """Everything the backend keeps, as bytes: the files, or every control table's rows."""
    if backend == "sqlite":
        files = [Path(location), Path(f"{location}-wal")]
        return b"".join(f.read_bytes() for f in files if f.exists())
    with psycopg.connect(location) as conn:
        rows = [
            conn.execute(f"SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM {table} t")
            for table in TABLES
        ]
        return "\n".join(r.fetchone()[0] for r in rows).encode()


def test_keys_are_added_got_listed_and_revoked(store: ControlStore) -> None:
    store.add_key(key("k2", minutes=2))
    store.add_key(key("k1", minutes=1))
    store.add_key(key("g1", tenant="globex"))
    assert store.get_key("k1") == key("k1", minutes=1)
    assert store.get_key("nope") is None
    assert [k.key_id for k in store.list_keys("acme")] == ["k1", "k2"]  # oldest first
    assert [k.key_id for k in store.list_keys()] == ["g1", "k1", "k2"]
    assert store.list_keys("initech") == []
    with pytest.raises(ConflictError):
        store.add_key(key("k1", tenant="globex"))  # ids are unique across tenants

    at = NOW + timedelta(hours=1, microseconds=7)
    assert store.revoke_key("k1", at) is True
    assert store.revoke_key("k1", at + timedelta(hours=1)) is False  # once
    assert store.revoke_key("nope", at) is False
    revoked = store.get_key("k1")
    assert revoked is not None
    assert revoked.revoked_at == at
    assert revoked.revoked_at.utcoffset() == timedelta(0)
    assert store.get_key("k2") == key("k2", minutes=2)


def test_only_the_digest_of_a_key_is_stored(
    store: ControlStore, backend: str, location: str
) -> None:
    record, plaintext = KeyService(store).create("acme", "admin", "ci")
    # "hub_<key id>_<secret>": the id has no "_", the url-safe secret may have some
    secret = plaintext.split("_", 2)[2]
    raw = stored_bytes(backend, location)
    assert record.key_id.encode() in raw  # the dump is of the right place
    assert record.secret_hash.encode() in raw
    assert secret.encode() not in raw
    assert plaintext.encode() not in raw


def test_a_key_made_by_one_process_works_and_dies_in_every_other(
    connect: Callable[..., ControlStore],
) -> None:
    server_a, server_b, command = connect(), connect(), connect()
    _, plaintext = KeyService(command).create("acme", "ingest")
    for server in (server_a, server_b):
        principal = KeyService(server).authenticate(plaintext)
        assert (principal.tenant_id, principal.role.value) == ("acme", "ingest")
    KeyService(command).revoke(principal.key_id)
    for server in (server_a, server_b):
        with pytest.raises(AuthenticationError, match="revoked"):
            KeyService(server).authenticate(plaintext)
    with pytest.raises(NotFoundError):
        KeyService(server_a).revoke(principal.key_id)


def test_migrations_run_once_and_are_recorded(connect: Callable[..., ControlStore]) -> None:
    fresh = connect(migrate=False)
    assert fresh.schema_version() == 0
    assert fresh.migrate() == [v for v, _ in MIGRATIONS]  # both backends number alike
    assert fresh.schema_version() == MIGRATIONS[-1][0]
    assert fresh.migrate() == []
    assert connect(migrate=False).migrate() == []


def test_processes_starting_together_migrate_once(connect: Callable[..., ControlStore]) -> None:
    stores = [connect(migrate=False) for _ in range(4)]
    start = threading.Barrier(len(stores))
    applied: list[list[int]] = []
    errors: list[BaseException] = []

    def run(store: ControlStore) -> None:
        start.wait()
        try:
            applied.append(store.migrate())
            store.add_key(key(f"k{threading.get_ident()}"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(v for versions in applied for v in versions) == [v for v, _ in MIGRATIONS]
    assert len(stores[0].list_keys("acme")) == len(stores)
