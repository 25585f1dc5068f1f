"""The control store under test, once per backend, with the same assertions for each.

``backend`` is ``sqlite`` (a file in ``tmp_path``) or ``postgres`` (a database created for
the test on ``HUB_TEST_POSTGRES_URL``, default
``postgresql://postgres@127.0.0.1:5432/postgres``, and dropped afterwards). ``location``
is the file or the database URL; ``connect`` opens (and migrates) one more store there,
as another process would; ``store`` is the first of them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.conftest import require_service

from analytics_hub.control.base import ControlStore
from analytics_hub.control.postgres import PostgresControlStore
from analytics_hub.control.sqlite import SQLiteControlStore
from analytics_hub.testing.postgres import DEFAULT_TEST_URL, host_and_port, temporary_database

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.service)]
POSTGRES_URL = os.environ.get("HUB_TEST_POSTGRES_URL", DEFAULT_TEST_URL)


def open_control(backend: str, location: str, *, migrate: bool = True) -> ControlStore:
    """Open the control store of ``backend`` kept at ``location``."""
    if backend == "sqlite":
        return SQLiteControlStore(location, migrate=migrate)
    if backend == "postgres":
        store = PostgresControlStore(location, pool_size=2)
        if migrate:
            store.migrate()
        return store
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
    return str(tmp_path / "control.sqlite")


@pytest.fixture
def connect(backend: str, location: str) -> Iterator[Callable[..., ControlStore]]:
    """Open another store at ``location`` (``migrate=False`` to leave it unmigrated);
    every one is closed at teardown, before the database is dropped."""
    opened: list[ControlStore] = []

    def again(*, migrate: bool = True) -> ControlStore:
        opened.append(open_control(backend, location, migrate=migrate))
        return opened[-1]

    yield again
    for each in opened:
        each.close()


@pytest.fixture
def store(connect: Callable[..., ControlStore]) -> ControlStore:
    return connect()
