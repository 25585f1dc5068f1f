"""Throw-away PostgreSQL databases for tests and benchmarks.

``temporary_database(server_url)`` creates ``hub_test_<random>`` on the server named by
``server_url`` (any database on it, usually ``postgres``), yields the URL of the new
database and drops it afterwards, closing whatever connections are still open to it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

#: the server the tests use unless ``HUB_TEST_POSTGRES_URL`` says otherwise
DEFAULT_TEST_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` (query options are kept)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def host_and_port(url: str) -> tuple[str, int]:
    """The host and port a PostgreSQL URL connects to (defaults: localhost, 5432)."""
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 5432


@contextmanager
def temporary_database(server_url: str, prefix: str = "hub_test_") -> Iterator[str]:
    """Create a fresh database, yield its URL, drop it on exit."""
    name = f"{prefix}{secrets.token_hex(6)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


__all__ = ["DEFAULT_TEST_URL", "host_and_port", "temporary_database", "with_database"]
