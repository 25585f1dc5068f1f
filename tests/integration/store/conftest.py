"""The event store under test, once per backend, with the same assertions for each.

``store`` is a fresh, migrated store in a temporary location; its parameter names the
backend, so a PostgreSQL backend is one more entry in ``BACKENDS`` and one more branch in
``open_store``. ``reopen`` closes it and opens the same database again, as a restarted
process would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from analytics_hub.store.base import EventStore
from analytics_hub.store.duckdb import DuckDBStore

BACKENDS = ["duckdb"]


def open_store(backend: str, where: Path) -> EventStore:
    """Open (not migrate) the store of ``backend`` kept under ``where``."""
    if backend == "duckdb":
        return DuckDBStore(where / "events.duckdb", threads=2)
    raise AssertionError(f"unknown backend {backend}")


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    opened = open_store(request.param, tmp_path)
    opened.migrate()
    yield opened
    opened.close()


@pytest.fixture
def reopen(
    store: EventStore, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[], EventStore]]:
    """Close ``store`` and open its database again (not migrated); closed at teardown."""
    opened: list[EventStore] = []

    def again() -> EventStore:
        store.close()
        for earlier in opened:
            earlier.close()
        opened.append(open_store(request.node.callspec.params["store"], tmp_path))
        return opened[-1]

    yield again
    for each in opened:
        each.close()
