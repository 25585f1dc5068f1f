"""Process roles: which parts of the hub one process runs, and which layouts can work.

``all`` (the default) is the embedded hub. A process with only some roles works together
with other processes that share the bus and the store, so a partial set needs a bus that
processes share (NATS JetStream) and a store they share (PostgreSQL). See
``docs/operations/scaling.md``.
"""

from __future__ import annotations

from urllib.parse import urlparse

from fastapi import APIRouter

from analytics_hub.errors import NotFoundError, ValidationError
from analytics_hub.settings import ROLES, Settings

INGEST, WRITER, API, ANALYTICS = ROLES


def check_layout(settings: Settings) -> frozenset[str]:
    """The process's roles; a ``ValidationError`` naming the fix if they cannot work."""
    roles = settings.roles
    if roles == frozenset(ROLES):
        return roles
    shown = ",".join(r for r in ROLES if r in roles)
    if urlparse(settings.store_url).scheme not in ("postgresql", "postgres"):
        raise ValidationError(
            f"--role {shown} shares the store with the hub's other processes, which an"
            " embedded DuckDB file cannot do: set HUB_STORE=postgresql://... (or run --role all)"
        )
    # Ingest and api (dead-letter replays) publish; without a writer beside them, writers
    # elsewhere must see what they publish. A writer without ingest takes from elsewhere.
    publishes_away = WRITER not in roles and bool(roles & {INGEST, API})
    consumes_from_away = WRITER in roles and INGEST not in roles
    if (publishes_away or consumes_from_away) and not settings.bus_url.startswith("nats://"):
        raise ValidationError(
            f"--role {shown} hands events to writers in other processes (or takes them from"
            " ingest processes) through a shared bus: set HUB_BUS=nats://host:4222"
        )
    return roles


#: the paths each serving role adds; a process without the role says who serves them
_ROLE_PATHS = {
    INGEST: ("/api/v1/events", "/v1/traces", "/v1/logs", "/v1/metrics"),
    API: ("/api/v1/{path:path}",),
}
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def elsewhere_router(roles: frozenset[str]) -> APIRouter:
    """Routes (include them last) that answer a request for a role this process lacks with
    a 404 naming the role, instead of a bare 404 or a 405 from a neighbouring route."""
    router = APIRouter(include_in_schema=False)
    mine = ",".join(r for r in ROLES if r in roles)
    for role, paths in _ROLE_PATHS.items():
        if role in roles:
            continue

        def elsewhere(role: str = role) -> None:
            raise NotFoundError(
                f"this process has the roles {mine}; processes with the {role} role serve this path"
            )

        for path in paths:
            router.add_api_route(path, elsewhere, methods=_METHODS)
    return router


__all__ = ["ANALYTICS", "API", "INGEST", "WRITER", "check_layout", "elsewhere_router"]
