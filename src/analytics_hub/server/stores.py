"""Open the configured backends from their URLs. Only the assembly imports backends."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from analytics_hub.bus.base import EventBus
from analytics_hub.bus.journal import JournalBus
from analytics_hub.control.base import ControlStore
from analytics_hub.control.sqlite import SQLiteControlStore
from analytics_hub.errors import ValidationError
from analytics_hub.settings import Settings
from analytics_hub.store.base import EventStore
from analytics_hub.store.duckdb import DuckDBStore


def open_event_store(settings: Settings) -> EventStore:
    """The event store named by ``settings.store_url``, migrated."""
    url = settings.store_url
    parsed = urlparse(url)
    if parsed.scheme == "duckdb":
        # As in SQLAlchemy: duckdb:///relative/file.duckdb, duckdb:////absolute/file.duckdb
        path = Path(url.removeprefix("duckdb:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        store: EventStore = DuckDBStore(
            path, memory_limit=settings.duckdb_memory_limit, threads=settings.duckdb_threads
        )
    else:
        raise ValidationError(f"unsupported store URL {url!r}: use duckdb:///path/to/file.duckdb")
    store.migrate()
    return store


def open_control_store(settings: Settings) -> ControlStore:
    """The control-plane store (API keys) of this deployment."""
    return SQLiteControlStore(settings.data_dir / "control.sqlite")


def open_event_bus(settings: Settings) -> EventBus:
    """The bus between ingest and the writer: the fsynced journal in the data directory."""
    return JournalBus(
        settings.data_dir / "journal",
        capacity=max(settings.pipeline_capacity_events, settings.max_batch_events),
        retry_after=settings.retry_after_seconds,
        segment_bytes=settings.journal_segment_bytes,
    )


__all__ = ["open_control_store", "open_event_bus", "open_event_store"]
