"""Saved dashboards of a tenant: create, read, replace with optimistic concurrency, delete.

Documents live in the control store (``ControlStore.*_dashboard``) as JSON. Before a
dashboard is stored, every panel's query is checked by the query planner over the
dashboard's time range, with the limits of the running hub, so that a saved panel is a
query that runs (and the error names the panel whose query does not).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime

from analytics_hub.control.base import ControlStore, DashboardRecord
from analytics_hub.errors import ConflictError, NotFoundError, ValidationError
from analytics_hub.query.dashboard_model import (
    DOCUMENT_FIELDS,
    Dashboard,
    DashboardDocument,
    DashboardSummary,
)
from analytics_hub.query.model import Query

#: checks one query of a tenant, raising ``ValidationError`` (``QueryService.check``)
QueryCheck = Callable[[str, Query], None]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def new_dashboard_id() -> str:
    """A fresh URL-safe id (96 random bits: unguessable, never reused)."""
    return secrets.token_urlsafe(12)


class DashboardService:
    """Dashboards of every tenant, each visible to its own tenant only. Thread-safe as
    far as the store is."""

    def __init__(
        self,
        store: ControlStore,
        check_query: QueryCheck,
        *,
        clock: Callable[[], datetime] = _utc_now,
        make_id: Callable[[], str] = new_dashboard_id,
    ) -> None:
        self._store = store
        self._check_query = check_query
        self._clock = clock
        self._make_id = make_id

    def list(self, tenant_id: str) -> list[DashboardSummary]:
        """The tenant's dashboards (id, name, last change), by name."""
        return [
            DashboardSummary(id=r.dashboard_id, name=r.name, updated_at=r.updated_at)
            for r in self._store.list_dashboards(tenant_id)
        ]

    def get(self, tenant_id: str, dashboard_id: str) -> Dashboard:
        """One dashboard of the tenant; ``NotFoundError`` if the tenant has none by this id
        (whether or not another tenant has)."""
        record = self._store.get_dashboard(tenant_id, dashboard_id)
        if record is None:
            raise _not_found(dashboard_id)
        return _dashboard(record)

    def create(self, tenant_id: str, document: DashboardDocument) -> Dashboard:
        """Store a new dashboard at version 1; bookkeeping fields in ``document`` (an
        imported export's id, version, timestamps) are ignored."""
        self.check(tenant_id, document)
        now = self._clock()
        record = DashboardRecord(
            tenant_id=tenant_id,
            dashboard_id=self._make_id(),
            name=document.name,
            version=1,
            document=_document_json(document),
            created_at=now,
            updated_at=now,
        )
        self._store.add_dashboard(record)
        return _dashboard(record)

    def replace(
        self, tenant_id: str, dashboard_id: str, document: DashboardDocument, version: int
    ) -> Dashboard:
        """Replace a dashboard read at ``version``. ``ConflictError`` when it has been
        saved since (details carry ``current_version``), ``NotFoundError`` when gone."""
        self.check(tenant_id, document)
        current = self._store.get_dashboard(tenant_id, dashboard_id)
        if current is None:
            raise _not_found(dashboard_id)
        if current.version != version:
            raise _conflict(dashboard_id, version, current.version)
        record = DashboardRecord(
            tenant_id=tenant_id,
            dashboard_id=dashboard_id,
            name=document.name,
            version=version + 1,
            document=_document_json(document),
            created_at=current.created_at,
            updated_at=max(self._clock(), current.updated_at),
        )
        # The store replaces only if the version is still the one read: a writer that
        # saved between the read above and here makes this one lose, not overwrite.
        if not self._store.replace_dashboard(record, expected_version=version):
            latest = self._store.get_dashboard(tenant_id, dashboard_id)
            if latest is None:
                raise _not_found(dashboard_id)
            raise _conflict(dashboard_id, version, latest.version)
        return _dashboard(record)

    def delete(self, tenant_id: str, dashboard_id: str) -> None:
        """Delete a dashboard of the tenant; ``NotFoundError`` if it has none by this id."""
        if not self._store.delete_dashboard(tenant_id, dashboard_id):
            raise _not_found(dashboard_id)

    def check(self, tenant_id: str, document: DashboardDocument) -> None:
        """Raise ``ValidationError`` naming the first panel whose query would not run over
        the dashboard's time range (a relative range is taken up to now)."""
        time_range = document.time_range.resolve(self._clock())
        for i, panel in enumerate(document.panels):
            try:
                self._check_query(tenant_id, panel.query.over(time_range))
            except ValidationError as exc:
                field = f"panels.{i}.query"
                raise ValidationError(
                    f"{field}: {exc.message}", details=[{"field": field, "message": exc.message}]
                ) from None


def _document_json(document: DashboardDocument) -> str:
    # Only the document's own fields: an imported export's id or version is not kept.
    return document.model_dump_json(include=set(DOCUMENT_FIELDS), by_alias=True)


def _dashboard(record: DashboardRecord) -> Dashboard:
    # Stored documents were validated when saved; validating again keeps the response
    # model honest if an old document misses a field added since (its default applies).
    document = DashboardDocument.model_validate_json(record.document)
    return Dashboard.model_validate(
        {
            **document.model_dump(by_alias=True),
            "id": record.dashboard_id,
            "version": record.version,
            "created_at": record.created_at,
            "updated_at": record.updated_at,
        }
    )


def _not_found(dashboard_id: str) -> NotFoundError:
    return NotFoundError(f"no dashboard {dashboard_id[:80]!r} for this tenant")


def _conflict(dashboard_id: str, sent: int, current: int) -> ConflictError:
    return ConflictError(
        f"dashboard {dashboard_id!r} is at version {current}, not {sent}: it was saved since"
        " you read it; GET it again, reapply your change and PUT with the new version",
        details={"current_version": current},
    )


__all__ = ["DashboardService", "QueryCheck", "new_dashboard_id"]
