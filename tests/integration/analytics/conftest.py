"""The event store under test, once per backend (the store tests' fixtures), a clock, and
stores that start with hours of history.

Writing 30 hours of traffic for three series takes seconds per test on PostgreSQL, and a
dozen tests need the same history. ``history(series, hours)`` writes it once per backend
and test session into a template (a PostgreSQL database, or a DuckDB file) and gives each
test its own copy: ``CREATE DATABASE ... TEMPLATE`` or a file copy, a fraction of the
cost. Each copy is an ordinary store, private to the test and dropped after it.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from tests.conftest import require_service
from tests.integration.analytics.traffic import NOW, Clock, write_history
from tests.integration.store.conftest import (  # noqa: F401 - fixtures used by name
    POSTGRES_URL,
    backend,
    location,
    open_store,
    postgres_database,
    store,
)

from analytics_hub.store.base import EventStore
from analytics_hub.testing.postgres import host_and_port, with_database

Series = Sequence[tuple[str, str]]
HistoryFactory = Callable[[Series, float], EventStore]
_Key = tuple[str, tuple[tuple[str, str], ...], float]


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


def _execute(statement: sql.Composable) -> None:
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(statement)


def _database(name: str) -> sql.Composable:
    return sql.Identifier(name)


@pytest.fixture(scope="session")
def _templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[_Key, str]]:
    """Where each (backend, series, hours) history was written; PostgreSQL ones dropped
    at the end of the session."""
    made: dict[_Key, str] = {}
    yield made
    for (backend_name, _, _), where in made.items():
        if backend_name == "postgres":
            _execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(_database(where)))


def _build(backend_name: str, series: Series, hours: float, folder: Path) -> str:
    """Write a template and return its name (PostgreSQL) or path (DuckDB)."""
    if backend_name == "postgres":
        where = f"hub_tmpl_{secrets.token_hex(6)}"
        _execute(sql.SQL("CREATE DATABASE {}").format(_database(where)))
        location_ = with_database(POSTGRES_URL, where)
    else:
        where = location_ = str(folder / f"history-{secrets.token_hex(4)}.duckdb")
    template = open_store(backend_name, location_)
    try:
        template.migrate()
        write_history(template, series, hours=hours)
    finally:
        template.close()  # no session may stay on a template that is copied
    return where


@pytest.fixture
def history(
    backend: str,  # noqa: F811 - the imported fixture, requested by name
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    _templates: dict[_Key, str],
) -> Iterator[HistoryFactory]:
    """``history(series, hours)``: a migrated store of this test's own holding ``hours``
    of ordinary traffic for each (tenant, asset) of ``series``, ending at ``NOW``."""
    opened: list[EventStore] = []
    copies: list[str] = []

    def make(series: Series, hours: float) -> EventStore:
        if backend == "postgres":
            host, port = host_and_port(POSTGRES_URL)
            require_service("PostgreSQL", host, port, "pg_ctlcluster 15 main start")
        key: _Key = (backend, tuple(series), hours)
        if key not in _templates:
            _templates[key] = _build(backend, series, hours, tmp_path_factory.mktemp("history"))
        template = _templates[key]
        if backend == "postgres":
            name = f"hub_test_{secrets.token_hex(6)}"
            _execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    _database(name), _database(template)
                )
            )
            copies.append(name)
            where = with_database(POSTGRES_URL, name)
        else:
            where = str(tmp_path / f"events-{len(opened)}.duckdb")
            shutil.copyfile(template, where)
            if Path(f"{template}.wal").exists():
                shutil.copyfile(f"{template}.wal", f"{where}.wal")
        copy = open_store(backend, where)
        copy.migrate()
        opened.append(copy)
        return copy

    yield make
    for copy in opened:
        copy.close()
    for name in copies:
        _execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(_database(name)))
