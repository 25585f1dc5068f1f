"""Rollup deltas computed in Arrow equal the DuckDB store's SQL ones, bin for bin."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from analytics_hub.events.histogram import GAMMA, MIN_VALUE, bin_of
from analytics_hub.store.duckdb_rollups import fine_from_events_sql
from analytics_hub.store.rollup_deltas import FINE_COLUMNS, FINE_SCHEMA, fine_deltas, latency_bins
from analytics_hub.testing.rows import make_event_rows

KEYS = FINE_COLUMNS[: FINE_COLUMNS.index("bin") + 1]


def _boundary_values() -> list[float]:
    rng = random.Random(5)
    values = [0.0, MIN_VALUE / 2, MIN_VALUE, 0.5, 1.0, 1e-9, 1e7]
    values += [rng.lognormvariate(6.0, 2.0) for _ in range(20_000)]
    for k in range(-400, 1200, 7):  # exactly on, and a hair either side of, bin edges
        edge = GAMMA**k
        values += [edge, math.nextafter(edge, 0.0), math.nextafter(edge, math.inf)]
    return values


def test_arrow_latency_bins_equal_python_bins() -> None:
    values = _boundary_values()
    bins = latency_bins(pa.array(values, pa.float64())).to_pylist()
    assert [(v, b) for v, b in zip(values, bins, strict=True) if b != bin_of(v)] == []


def test_a_missing_latency_has_no_bin() -> None:
    assert latency_bins(pa.array([None, 2.0], pa.float64())).to_pylist() == [None, bin_of(2.0)]


def _by_key(table: pa.Table) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {tuple(r[k] for k in KEYS): r for r in table.to_pylist()}


@pytest.mark.parametrize("seed", [1, 2])
def test_fine_deltas_equal_the_sql_fine_relation(seed: int) -> None:
    events = make_event_rows(
        8_000,
        start=datetime(2025, 3, 1, 9, 58, 30),
        step=timedelta(milliseconds=40),
        tenants=["t1", "t2"],
        seed=seed,
    )
    got = fine_deltas(events)
    assert got.schema == FINE_SCHEMA
    con = duckdb.connect()
    con.register("batch", events)
    want = con.sql(fine_from_events_sql("batch")).to_arrow_table()
    con.close()
    assert list(want.column_names) == list(FINE_COLUMNS)
    mine, theirs = _by_key(got), _by_key(want)
    assert mine.keys() == theirs.keys()
    for key, w in theirs.items():
        g = mine[key]
        for name, value in w.items():
            if isinstance(value, float):
                assert g[name] == pytest.approx(value, rel=1e-12), (key, name)
            else:
                assert g[name] == value, (key, name)
