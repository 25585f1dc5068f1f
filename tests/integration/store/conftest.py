"""The event store under test, once per backend, with the same assertions for each.

``store`` is a fresh, migrated store in a temporary location; its parameter names the
backend, so a backend is one more entry in ``BACKENDS`` and one more branch in
``open_store``. ``location`` is where a backend keeps its data: a DuckDB file, or a
PostgreSQL database created for the test (``HUB_TEST_POSTGRES_URL`` names the server,
default ``postgresql://postgres@127.0.0.1:5432/postgres``) and dropped afterwards.
``reopen`` closes the store and opens the same location again, as a restarted process
would.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.conftest import require_service

from analytics_hub.store.base import EventStore
from analytics_hub.store.duckdb import DuckDBStore
from analytics_hub.store.postgres import PostgresStore
from analytics_hub.testing.postgres import DEFAULT_TEST_URL, host_and_port, temporary_database

BACKENDS = ["duckdb", "postgres"]
POSTGRES_URL = os.environ.get("HUB_TEST_POSTGRES_URL", DEFAULT_TEST_URL)


def open_store(backend: str, location: str) -> EventStore:
    """Open (not migrate) the store of ``backend`` kept at ``location``."""
    if backend == "duckdb":
        return DuckDBStore(location, threads=2)
    if backend == "postgres":
        return PostgresStore(location, read_pool_size=4, write_pool_size=4)
    raise AssertionError(f"unknown backend {backend}")


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped at teardown."""
    host, port = host_and_port(POSTGRES_URL)
    require_service("PostgreSQL", host, port, "pg_ctlcluster 15 main start")
    with temporary_database(POSTGRES_URL) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def location(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "postgres":
        url: str = request.getfixturevalue("postgres_database")
        return url
    return str(tmp_path / "events.duckdb")


@pytest.fixture
def store(backend: str, location: str) -> Iterator[EventStore]:
    opened = open_store(backend, location)
    opened.migrate()
    yield opened
    opened.close()


@pytest.fixture
def reopen(store: EventStore, backend: str, location: str) -> Iterator[Callable[[], EventStore]]:
    """Close ``store`` and open its database again (not migrated); closed at teardown."""
    opened: list[EventStore] = []

    def again() -> EventStore:
        store.close()
        for earlier in opened:
            earlier.close()
        opened.append(open_store(backend, location))
        return opened[-1]

    yield again
    for each in opened:
        each.close()
