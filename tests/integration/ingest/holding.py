"""A real store whose writes wait: lets a test pile acknowledged batches up."""

from __future__ import annotations

import threading

from analytics_hub.store.duckdb import DuckDBStore


def hold_writes(store: DuckDBStore) -> threading.Event:
    """Make the store's writes wait (up to 10 s) until the returned event is set."""
    gate = threading.Event()
    original = store.write_events

    def held(table):  # type: ignore[no-untyped-def]
        gate.wait(10)
        return original(table)

    store.write_events = held  # type: ignore[method-assign]
    return gate
