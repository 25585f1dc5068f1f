"""The ``ControlStore`` port: control-plane data (API keys now; dashboards and rules later).

Kept apart from the event store so that the command line can manage keys while a server
holds the event store open, and so that it can live in PostgreSQL in distributed mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """A stored API key. Only the SHA-256 of the secret is kept."""

    key_id: str
    tenant_id: str
    role: str
    name: str
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None = None


@runtime_checkable
class ControlStore(Protocol):
    """Port of the control-plane store. Safe to use from several threads and processes."""

    def add_key(self, record: ApiKeyRecord) -> None:
        """Store a new key; ``key_id`` is unique."""
        ...

    def get_key(self, key_id: str) -> ApiKeyRecord | None:
        """The key with this id, revoked or not."""
        ...

    def list_keys(self, tenant_id: str | None = None) -> list[ApiKeyRecord]:
        """All keys, or one tenant's, oldest first."""
        ...

    def revoke_key(self, key_id: str, at: datetime) -> bool:
        """Revoke a key; False if unknown or already revoked."""
        ...

    def close(self) -> None:
        """Release the store. Idempotent."""
        ...


__all__ = ["ApiKeyRecord", "ControlStore"]
