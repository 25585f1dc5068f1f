"""A real store per backend, loaded once (read-only afterwards) with known rows, and a
reference model.

``Loaded`` holds the store, a service over it and the rows written; ``loaded`` is
parametrised over the backends, so every query test runs on DuckDB and on PostgreSQL (a
database created for the session on ``HUB_TEST_POSTGRES_URL``, default
``postgresql://postgres@127.0.0.1:5432/postgres``). ``Reference`` computes in plain
Python what a query should return from those rows, so that both plans (rollups and raw
events) are checked against an independent answer, not only against each other. It
models only what the tests ask: equality filters, field and bucket groups, the
aggregates.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from tests.conftest import require_service

from analytics_hub.query import QueryService
from analytics_hub.store.base import EventStore
from analytics_hub.store.duckdb import DuckDBStore
from analytics_hub.store.postgres import PostgresStore
from analytics_hub.testing.postgres import DEFAULT_TEST_URL, host_and_port, temporary_database
from analytics_hub.testing.rows import make_event_rows

BACKENDS = ["duckdb", "postgres"]
POSTGRES_URL = os.environ.get("HUB_TEST_POSTGRES_URL", DEFAULT_TEST_URL)

# Ragged on purpose: the data starts and ends inside minutes, so every plan has edges.
DATA_START = datetime(2025, 1, 1, 8, 59, 13, 250000, tzinfo=UTC)
STEP = timedelta(milliseconds=731)
ROWS = 30_000  # ~6 hours
BATCH = 4_000  # several commits, so rollups hold several delta rows per bucket
TIED_TENANT = "t3"  # rows that all share one timestamp: paging must break ties by id
TIED_AT = datetime(2025, 1, 1, 11, 30, tzinfo=UTC)


@contextmanager
def fresh_store(backend: str, directory: Path) -> Iterator[EventStore]:
    """A new, migrated, empty store of ``backend``; closed (and dropped) on exit."""
    if backend == "duckdb":
        duck = DuckDBStore(directory / "events.duckdb")
        try:
            duck.migrate()
            yield duck
        finally:
            duck.close()
        return
    host, port = host_and_port(POSTGRES_URL)
    require_service("PostgreSQL", host, port, "pg_ctlcluster 15 main start")
    with temporary_database(POSTGRES_URL) as url:
        postgres = PostgresStore(url)
        try:
            postgres.migrate()
            yield postgres
        finally:
            postgres.close()


@dataclass
class Loaded:
    """The store, the service over it, and the rows written, as Python dicts."""

    store: EventStore
    service: QueryService
    rows: list[dict[str, Any]]

    def of(self, tenant: str) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["tenant_id"] == tenant]


def _write(store: EventStore, table: pa.Table) -> None:
    for offset in range(0, table.num_rows, BATCH):
        store.write_events(table.slice(offset, BATCH))


@pytest.fixture(scope="session", params=BACKENDS)
def loaded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Loaded]:
    with fresh_store(request.param, tmp_path_factory.mktemp("query")) as store:
        main = make_event_rows(ROWS, start=DATA_START, step=STEP, tenants=["t1", "t2"], seed=7)
        tied = make_event_rows(250, start=TIED_AT, step=timedelta(0), tenant=TIED_TENANT, seed=8)
        _write(store, main)
        _write(store, tied)
        service = QueryService(
            store, max_rows=5_000, max_buckets=5_000, max_unbucketed_range_days=31
        )
        yield Loaded(store, service, main.to_pylist() + tied.to_pylist())


@pytest.fixture(params=BACKENDS)
def empty_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    """A new, migrated store of each backend, for a test that writes its own rows."""
    with fresh_store(request.param, tmp_path) as store:
        yield store


# -- the reference model ------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1)
_BUCKETS = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "1d": 86400}
_COLUMN = {"timestamp": "ts"}


def naive(text: str) -> datetime:
    """RFC 3339 text -> naive UTC datetime (how rows hold time)."""
    return datetime.fromisoformat(text).astimezone(UTC).replace(tzinfo=None)


def _matches(row: dict[str, Any], f: dict[str, Any]) -> bool:
    value = row[_COLUMN.get(f["field"], f["field"])]
    op, want = f.get("op", "eq"), f.get("value")
    if op == "eq":
        return value == want
    if op == "ne":
        return value != want
    if op == "in":
        return value in want
    if op == "not_in":
        return value not in want
    raise AssertionError(f"reference does not model {op}")


def interpolated(values: list[float], q: float) -> float:
    """quantile_cont: linear interpolation between the nearest order statistics."""
    s = sorted(values)
    h = (len(s) - 1) * q
    lo = math.floor(h)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (h - lo) * (s[hi] - s[lo])


def nearest_rank(values: list[float], q: float) -> float:
    """The exact value a histogram percentile approximates (within 1 %)."""
    s = sorted(values)
    return s[max(1, math.ceil(q * len(s))) - 1]


_Q = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}


def _aggregate(rows: list[dict[str, Any]], fn: str, field: str | None) -> Any:
    if fn == "count":
        return len(rows) if field is None else sum(r[field] is not None for r in rows)
    values = [r[field] for r in rows if r[field] is not None] if field else []
    if fn == "count_distinct":
        return len(set(values))
    if fn == "sum":
        return sum(values)  # 0 without values, in both plans
    if not values:
        return None
    if fn == "avg":
        return sum(values) / len(values)
    if fn in ("min", "max"):
        return min(values) if fn == "min" else max(values)
    return sorted(values)  # percentiles: the caller picks the definition


def reference(
    rows: list[dict[str, Any]], tenant: str, query: dict[str, Any]
) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Expected rows by group key tuple. Percentile aggregates hold the sorted values."""
    start, end = naive(query["time_range"]["from"]), naive(query["time_range"]["to"])
    keep = [
        r
        for r in rows
        if r["tenant_id"] == tenant
        and start <= r["ts"] < end
        and all(_matches(r, f) for f in query.get("filters", []))
    ]
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in keep:
        key = []
        for g in query.get("group_by", []):
            if isinstance(g, dict):
                step = timedelta(seconds=_BUCKETS[g["bucket"]])
                key.append(_EPOCH + ((r["ts"] - _EPOCH) // step) * step)
            else:
                key.append(r[g])
        groups.setdefault(tuple(key), []).append(r)
    if not query.get("group_by"):
        groups.setdefault((), [])
    out = {}
    for key, members in groups.items():
        out[key] = {
            a.get("as") or a["fn"]: _aggregate(members, a["fn"], a.get("field"))
            for a in query["aggregates"]
        }
    return out


def result_key(row: dict[str, Any], query: dict[str, Any]) -> tuple[Any, ...]:
    """The group key tuple of a result row, in reference form (buckets as naive datetimes)."""
    key = []
    for g in query.get("group_by", []):
        if isinstance(g, dict):
            key.append(naive(row["bucket"]))
        else:
            key.append(row[g])
    return tuple(key)


def percentile_fn(fn: str) -> float | None:
    return _Q.get(fn)


class Reference:
    """The reference model, as a fixture (test modules cannot import conftest)."""

    naive = staticmethod(naive)
    interpolated = staticmethod(interpolated)
    nearest_rank = staticmethod(nearest_rank)
    expected = staticmethod(reference)
    result_key = staticmethod(result_key)
    quantile = staticmethod(percentile_fn)


@pytest.fixture(scope="session")
def ref() -> Reference:
    return Reference()
