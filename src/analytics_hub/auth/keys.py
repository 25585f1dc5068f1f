"""API keys: creation, verification and revocation.

A key looks like ``hub_<key_id>_<secret>``. The ``key_id`` finds the record; only the
SHA-256 of the whole key is stored and compared in constant time. A slow password hash
is not needed: the secret is 256 random bits, so it cannot be guessed from its hash
(see docs/decisions/0003-api-key-hashing.md).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from analytics_hub.control.base import ApiKeyRecord, ControlStore
from analytics_hub.errors import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)

TENANT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_KEY_RE = re.compile(r"^hub_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$")


class Role(StrEnum):
    """What a key may do. ``admin`` may do everything."""

    INGEST = "ingest"
    READ = "read"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the tenant and role of a verified key."""

    tenant_id: str
    role: Role
    key_id: str

    def require(self, role: Role) -> None:
        """Raise ``PermissionDeniedError`` unless this principal has ``role`` (or admin)."""
        if self.role is not Role.ADMIN and self.role is not role:
            raise PermissionDeniedError(
                f"this API key has role {self.role.value!r}; this action needs {role.value!r}"
            )


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def validate_tenant(tenant_id: str) -> str:
    """Return ``tenant_id`` if it is a valid tenant slug, else raise ValidationError."""
    if not TENANT_RE.match(tenant_id):
        raise ValidationError(
            f"invalid tenant {tenant_id!r}: use 1-63 lower-case letters, digits, '-' or '_'"
        )
    return tenant_id


class KeyService:
    """Creates, verifies and revokes API keys kept in a ``ControlStore``."""

    def __init__(self, store: ControlStore) -> None:
        self._store = store

    def create(self, tenant_id: str, role: str, name: str = "") -> tuple[ApiKeyRecord, str]:
        """Create a key; returns its record and the plaintext key (shown once, never stored)."""
        validate_tenant(tenant_id)
        try:
            parsed_role = Role(role)
        except ValueError:
            choices = ", ".join(r.value for r in Role)
            raise ValidationError(f"unknown role {role!r}; choose one of {choices}") from None
        key_id = "".join(
            secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
            for _ in range(12)
        )
        key = f"hub_{key_id}_{secrets.token_urlsafe(32)}"
        record = ApiKeyRecord(
            key_id=key_id,
            tenant_id=tenant_id,
            role=parsed_role.value,
            name=name,
            secret_hash=_hash(key),
            created_at=datetime.now(UTC),
        )
        self._store.add_key(record)
        return record, key

    def authenticate(self, key: str) -> Principal:
        """Verify a presented key; raise ``AuthenticationError`` for anything but a live key."""
        match = _KEY_RE.match(key)
        if not match:
            raise AuthenticationError("malformed API key")
        record = self._store.get_key(match.group(1))
        if record is None or not hmac.compare_digest(record.secret_hash, _hash(key)):
            raise AuthenticationError("unknown API key")
        if record.revoked_at is not None:
            raise AuthenticationError("this API key has been revoked")
        return Principal(tenant_id=record.tenant_id, role=Role(record.role), key_id=record.key_id)

    def list(self, tenant_id: str | None = None) -> list[ApiKeyRecord]:
        """Keys of one tenant, or all."""
        return self._store.list_keys(tenant_id)

    def revoke(self, key_id: str) -> None:
        """Revoke a key by id; ``NotFoundError`` if unknown or already revoked."""
        if not self._store.revoke_key(key_id, datetime.now(UTC)):
            raise NotFoundError(f"no live API key with id {key_id!r}")


__all__ = ["TENANT_RE", "KeyService", "Principal", "Role", "validate_tenant"]
