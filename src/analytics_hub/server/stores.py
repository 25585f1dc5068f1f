"""Open the configured backends from their URLs. Only the assembly imports backends."""

from __future__ import annotations

import functools
from pathlib import Path
from urllib.parse import urlparse

from analytics_hub.bus.base import EventBus
from analytics_hub.bus.broadcast import Broadcast, NatsBroadcast
from analytics_hub.bus.journal import JournalBus
from analytics_hub.bus.membership import Membership, NatsMembership
from analytics_hub.bus.nats import NatsBus, NatsTuning
from analytics_hub.control.base import ControlStore
from analytics_hub.control.postgres import PostgresControlStore
from analytics_hub.control.sqlite import SQLiteControlStore
from analytics_hub.errors import ValidationError
from analytics_hub.ingest.busrouting import route_batch
from analytics_hub.settings import Settings
from analytics_hub.store.base import EventStore
from analytics_hub.store.duckdb import DuckDBStore
from analytics_hub.store.postgres import PostgresStore


def connect_event_store(settings: Settings) -> EventStore:
    """The event store named by ``settings.store_url``, opened but not migrated."""
    url = settings.store_url
    parsed = urlparse(url)
    if parsed.scheme == "duckdb":
        # As in SQLAlchemy: duckdb:///relative/file.duckdb, duckdb:////absolute/file.duckdb
        path = Path(url.removeprefix("duckdb:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return DuckDBStore(
            path, memory_limit=settings.duckdb_memory_limit, threads=settings.duckdb_threads
        )
    if parsed.scheme in ("postgresql", "postgres"):
        return PostgresStore(
            url,
            read_pool_size=settings.postgres_read_pool_size,
            write_pool_size=settings.postgres_write_pool_size,
            partitions_ahead_days=settings.postgres_partitions_ahead_days,
        )
    raise ValidationError(
        f"unsupported store URL {url!r}: use duckdb:///path/to/file.duckdb or"
        " postgresql://user@host:5432/database"
    )


def open_event_store(settings: Settings) -> EventStore:
    """The event store named by ``settings.store_url``, migrated."""
    store = connect_event_store(settings)
    try:
        store.migrate()
    except BaseException:
        store.close()
        raise
    return store


def _is_postgres(url: str) -> bool:
    return urlparse(url).scheme in ("postgresql", "postgres")


def control_store_location(settings: Settings) -> str:
    """Where the control plane (keys, price overrides, dashboards) lives: the event
    store's database when that is PostgreSQL, so that every hub process sharing it shares
    them too; else ``control.sqlite`` in the data directory (decision 0017)."""
    if _is_postgres(settings.store_url):
        return settings.store_url
    return str(settings.data_dir / "control.sqlite")


def connect_control_store(settings: Settings) -> ControlStore:
    """The control store of this deployment, opened but not migrated."""
    location = control_store_location(settings)
    if _is_postgres(location):
        return PostgresControlStore(location)
    return SQLiteControlStore(location, migrate=False)


def open_control_store(settings: Settings) -> ControlStore:
    """The control store of this deployment, migrated. Every command that reads or
    writes keys, prices or dashboards opens it here, so they all agree with the server."""
    store = connect_control_store(settings)
    try:
        store.migrate()
    except BaseException:
        store.close()
        raise
    return store


def open_analytics_group(settings: Settings) -> Membership | None:
    """The group of analytics workers sharing the series, when the bus is NATS (several
    processes may run the analytics role); None: this process scores every series."""
    servers = _nats_servers(settings.bus_url)
    if not servers:
        return None
    return NatsMembership(
        servers, f"{settings.nats_stream}_analytics", replicas=settings.nats_stream_replicas
    )


def open_broadcast(settings: Settings) -> Broadcast | None:
    """Fan-out of live notices between processes, when the bus is NATS."""
    servers = _nats_servers(settings.bus_url)
    return NatsBroadcast(servers, settings.nats_subject_prefix) if servers else None


def _nats_servers(url: str) -> list[str]:
    servers = [s.strip() for s in url.split(",") if s.strip()]
    return servers if servers and all(urlparse(s).scheme == "nats" for s in servers) else []


def open_event_bus(settings: Settings) -> EventBus:
    """The bus between ingest and the writers, named by ``settings.bus_url``.

    ``journal``: the fsynced journal in the data directory. ``nats://host:port[,...]``:
    NATS JetStream, messages cut into ``events.<module>.<partition>`` pieces.
    """
    url = settings.bus_url
    capacity = max(settings.pipeline_capacity_events, settings.max_batch_events)
    if url == "journal":
        return JournalBus(
            settings.data_dir / "journal",
            capacity=capacity,
            retry_after=settings.retry_after_seconds,
            segment_bytes=settings.journal_segment_bytes,
        )
    servers = _nats_servers(url)
    if servers:
        return NatsBus(
            servers,
            capacity=capacity,
            stream=settings.nats_stream,
            subject_prefix=settings.nats_subject_prefix,
            replicas=settings.nats_stream_replicas,
            retention_days=settings.nats_retention_days,
            router=functools.partial(route_batch, partitions=settings.nats_partitions),
            retry_after=settings.retry_after_seconds,
            tuning=NatsTuning(ack_wait=settings.nats_ack_wait_seconds),
        )
    raise ValidationError(
        f"unsupported bus {url!r}: use journal or nats://host:port[,nats://host:port...]"
    )


__all__ = [
    "connect_control_store",
    "connect_event_store",
    "control_store_location",
    "open_analytics_group",
    "open_broadcast",
    "open_control_store",
    "open_event_bus",
    "open_event_store",
]
