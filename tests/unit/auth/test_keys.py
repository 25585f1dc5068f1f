from __future__ import annotations

from pathlib import Path

import pytest

from analytics_hub.auth.keys import KeyService, Role
from analytics_hub.control.sqlite import SQLiteControlStore
from analytics_hub.errors import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)


@pytest.fixture
def keys(tmp_path: Path) -> KeyService:
    return KeyService(SQLiteControlStore(tmp_path / "control.sqlite"))


def test_a_created_key_authenticates_as_its_tenant_and_role(keys: KeyService) -> None:
    record, key = keys.create("acme", "ingest", "ci")
    principal = keys.authenticate(key)
    assert (principal.tenant_id, principal.role, principal.key_id) == (
        "acme",
        Role.INGEST,
        record.key_id,
    )


def test_only_a_digest_of_the_key_is_stored(keys: KeyService, tmp_path: Path) -> None:
    _, key = keys.create("acme", "read")
    assert key.encode() not in (tmp_path / "control.sqlite").read_bytes()
    wal = tmp_path / "control.sqlite-wal"
    if wal.exists():
        assert key.encode() not in wal.read_bytes()


def test_a_tampered_key_is_refused(keys: KeyService) -> None:
    _, key = keys.create("acme", "read")
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    with pytest.raises(AuthenticationError, match="unknown"):
        keys.authenticate(tampered)


@pytest.mark.parametrize("bad", ["", "hub_", "Bearer x", "hub_short_secret", "x" * 500])
def test_malformed_keys_are_refused(keys: KeyService, bad: str) -> None:
    with pytest.raises(AuthenticationError):
        keys.authenticate(bad)


def test_a_revoked_key_stops_working_at_once(keys: KeyService) -> None:
    record, key = keys.create("acme", "admin")
    keys.revoke(record.key_id)
    with pytest.raises(AuthenticationError, match="revoked"):
        keys.authenticate(key)
    with pytest.raises(NotFoundError):
        keys.revoke(record.key_id)


def test_keys_are_visible_from_a_second_connection(tmp_path: Path) -> None:
    # The CLI and the server open the same file from different processes.
    _, key = KeyService(SQLiteControlStore(tmp_path / "c.sqlite")).create("t1", "read")
    assert KeyService(SQLiteControlStore(tmp_path / "c.sqlite")).authenticate(key).tenant_id == "t1"


@pytest.mark.parametrize("tenant", ["", "Acme", "a b", "../etc", "x" * 64, "-lead"])
def test_invalid_tenant_names_are_refused(keys: KeyService, tenant: str) -> None:
    with pytest.raises(ValidationError, match="invalid tenant"):
        keys.create(tenant, "read")


def test_unknown_role_is_refused_with_the_choices(keys: KeyService) -> None:
    with pytest.raises(ValidationError, match="ingest, read, admin"):
        keys.create("acme", "owner")


@pytest.mark.parametrize(
    ("role", "needed", "allowed"),
    [
        ("ingest", Role.INGEST, True),
        ("ingest", Role.READ, False),
        ("read", Role.READ, True),
        ("read", Role.INGEST, False),
        ("admin", Role.INGEST, True),
        ("admin", Role.READ, True),
        ("read", Role.ADMIN, False),
    ],
)
def test_roles(keys: KeyService, role: str, needed: Role, allowed: bool) -> None:
    principal = keys.authenticate(keys.create("acme", role)[1])
    if allowed:
        principal.require(needed)
    else:
        with pytest.raises(PermissionDeniedError):
            principal.require(needed)


def test_listing_by_tenant(keys: KeyService) -> None:
    keys.create("acme", "read")
    keys.create("globex", "read")
    assert [r.tenant_id for r in keys.list("acme")] == ["acme"]
    assert len(keys.list()) == 2
