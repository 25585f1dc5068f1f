"""The ``ControlStore`` port: control-plane data (API keys, per-tenant price overrides,
saved dashboards; rules later).

Kept apart from the event store so that the command line can manage keys while a server
holds the event store open. Backends: ``sqlite`` (a file in the data directory) and
``postgres`` (the event store's PostgreSQL database, shared by every hub process).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
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


@dataclass(frozen=True, slots=True)
class PriceOverrideRecord:
    """One tenant's price for one model from ``valid_from`` on, USD per million tokens.

    ``provider`` is canonical and ``model`` normalised (see ``analytics_hub.pricing``);
    ``cached_input`` and ``reasoning`` None mean "as input" and "as output".
    """

    tenant_id: str
    provider: str
    model: str
    valid_from: date
    input: float
    output: float
    cached_input: float | None
    reasoning: float | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DashboardRecord:
    """One tenant's saved dashboard.

    ``document`` is the dashboard as JSON text, opaque here: its shape belongs to the
    query feature (``analytics_hub.query.dashboard_model``), so that the store never
    changes when a panel gains an option. ``version`` starts at 1 and grows by one on
    every replace (optimistic concurrency).
    """

    tenant_id: str
    dashboard_id: str
    name: str
    version: int
    document: str
    created_at: datetime
    updated_at: datetime


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

    def put_price_override(self, record: PriceOverrideRecord) -> None:
        """Store a price override, replacing the one of the same tenant, provider, model
        and ``valid_from``."""
        ...

    def list_price_overrides(self, tenant_id: str) -> list[PriceOverrideRecord]:
        """A tenant's price overrides, by provider, model and ``valid_from``."""
        ...

    def delete_price_overrides(
        self, tenant_id: str, provider: str, model: str, valid_from: date | None = None
    ) -> int:
        """Delete a tenant's overrides of one model (one period, or all); how many went."""
        ...

    def add_dashboard(self, record: DashboardRecord) -> None:
        """Store a new dashboard; ``ConflictError`` if the tenant has one with its id."""
        ...

    def get_dashboard(self, tenant_id: str, dashboard_id: str) -> DashboardRecord | None:
        """A tenant's dashboard, or None (also when another tenant has that id)."""
        ...

    def list_dashboards(self, tenant_id: str) -> list[DashboardRecord]:
        """A tenant's dashboards, by name (case-insensitive), then id."""
        ...

    def replace_dashboard(self, record: DashboardRecord, expected_version: int) -> bool:
        """Replace a dashboard (all but ``created_at``) if it is still at
        ``expected_version``; False if it is not, or is gone."""
        ...

    def delete_dashboard(self, tenant_id: str, dashboard_id: str) -> bool:
        """Delete a tenant's dashboard; False if it has none with that id."""
        ...

    def migrate(self) -> list[int]:
        """Apply the schema migrations the store lacks, in order; return their versions.

        Safe when several processes start at once: each migration runs once.
        """
        ...

    def schema_version(self) -> int:
        """The highest applied migration version (0 for a new store)."""
        ...

    def close(self) -> None:
        """Release the store. Idempotent."""
        ...


__all__ = ["ApiKeyRecord", "ControlStore", "DashboardRecord", "PriceOverrideRecord"]
