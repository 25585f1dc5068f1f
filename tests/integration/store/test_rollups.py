"""Rollups hold exactly what the raw events say, before and after compaction.

The reference is computed in Python from the rows that were written; the rollups are
read the way the query layer reads them (all delta rows, added up per bucket and
dimensions, histograms merged by bin).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from analytics_hub.events.columns import ROLLUP_DIMENSIONS, TENANT_ROLLUP_DIMENSIONS
from analytics_hub.events.histogram import ALPHA, quantile
from analytics_hub.store.base import EventStore
from analytics_hub.testing.rows import make_event_rows

START = datetime(2025, 3, 1, 9, 47, 13)
_MINUTE, _HOUR = timedelta(minutes=1), timedelta(hours=1)
# Every rollup table: its bucket and the dimensions it groups by.
TABLES: dict[str, tuple[timedelta, tuple[str, ...]]] = {
    "rollup_1m": (_MINUTE, ROLLUP_DIMENSIONS),
    "rollup_1h": (_HOUR, ROLLUP_DIMENSIONS),
    "tenant_rollup_1m": (_MINUTE, TENANT_ROLLUP_DIMENSIONS),
    "tenant_rollup_1h": (_HOUR, TENANT_ROLLUP_DIMENSIONS),
}
QUANTILES = (0.5, 0.95, 0.99)


@dataclass
class Group:
    """Everything a rollup keeps for one bucket and dimensions, added up."""

    events: int = 0
    errors: int = 0
    unpriced: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    latency_count: int = 0
    latency_sum: float = 0.0
    latency_min: float | None = None
    latency_max: float | None = None
    ttft_count: int = 0
    ttft_sum: float = 0.0
    histogram: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)  # reference only


def _floor(ts: datetime, unit: timedelta) -> datetime:
    return datetime.min + ((ts - datetime.min) // unit) * unit


def _low(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)


def _high(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


def reference(
    rows: list[dict[str, Any]], unit: timedelta, dims: tuple[str, ...] = ROLLUP_DIMENSIONS
) -> dict[tuple[Any, ...], Group]:
    groups: dict[tuple[Any, ...], Group] = defaultdict(Group)
    for r in rows:
        g = groups[(_floor(r["ts"], unit), *(r[d] for d in dims))]
        g.events += 1
        g.errors += r["status"] == "error"
        g.unpriced += r["cost_source"] == "unpriced"
        g.input_tokens += r["input_tokens"] or 0
        g.output_tokens += r["output_tokens"] or 0
        g.cost_usd += r["cost_usd"] or 0.0
        if r["latency_ms"] is not None:
            g.latency_count += 1
            g.latency_sum += r["latency_ms"]
            g.latency_min = _low(g.latency_min, r["latency_ms"])
            g.latency_max = _high(g.latency_max, r["latency_ms"])
            g.latencies.append(r["latency_ms"])
        if r["ttft_ms"] is not None:
            g.ttft_count += 1
            g.ttft_sum += r["ttft_ms"]
    return dict(groups)


def rolled_up(store: EventStore, table: str) -> dict[tuple[Any, ...], Group]:
    result = store.fetch(f"SELECT * FROM {table}", [])
    dims = TABLES[table][1]
    assert [c for c in result.columns if c in ROLLUP_DIMENSIONS] == list(dims)
    groups: dict[tuple[Any, ...], Group] = defaultdict(Group)
    for values in result.rows:
        r = dict(zip(result.columns, values, strict=True))
        g = groups[(r["bucket"], *(r[d] for d in dims))]
        for name in ("events", "errors", "unpriced", "input_tokens", "output_tokens"):
            setattr(g, name, getattr(g, name) + r[name])
        for name in ("cost_usd", "latency_count", "latency_sum", "ttft_count", "ttft_sum"):
            setattr(g, name, getattr(g, name) + r[name])
        g.latency_min = _low(g.latency_min, r["latency_min"])
        g.latency_max = _high(g.latency_max, r["latency_max"])
        assert r["lat_bins"] == sorted(r["lat_bins"]), "bins are stored sorted"
        assert len(r["lat_bins"]) == len(r["lat_counts"])
        for b, c in zip(r["lat_bins"], r["lat_counts"], strict=True):
            g.histogram[b] = g.histogram.get(b, 0) + c
    return dict(groups)


def nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def assert_matches(got: dict[tuple[Any, ...], Group], want: dict[tuple[Any, ...], Group]) -> None:
    assert got.keys() == want.keys()
    for key, w in want.items():
        g = got[key]
        for name in ("events", "errors", "unpriced", "input_tokens", "output_tokens"):
            assert getattr(g, name) == getattr(w, name), (key, name)
        for name in ("latency_count", "ttft_count"):
            assert getattr(g, name) == getattr(w, name), (key, name)
        for name in ("cost_usd", "latency_sum", "ttft_sum"):
            assert getattr(g, name) == pytest.approx(getattr(w, name), rel=1e-9), (key, name)
        assert (g.latency_min, g.latency_max) == (w.latency_min, w.latency_max), key
        assert sum(g.histogram.values()) == w.latency_count, key
        if w.latencies:
            assert_quantiles_close(g.histogram, w.latencies)


def assert_quantiles_close(histogram: dict[int, int], latencies: list[float]) -> None:
    # The DDSketch bound holds against the nearest-rank quantile (an actual value);
    # an interpolating quantile_cont can sit between two values and is not bounded.
    for q in QUANTILES:
        exact = nearest_rank(latencies, q)
        estimate = quantile(histogram.items(), q)
        assert estimate is not None
        assert abs(estimate - exact) <= ALPHA * exact * (1 + 1e-12), (q, estimate, exact)


def write_interleaved(store: EventStore, table: pa.Table, ways: int = 4) -> None:
    """Write ``table`` as ``ways`` interleaved batches (each spanning the whole range),
    each split in two, so that most buckets get several delta rows."""
    n = table.num_rows
    for k in range(ways):
        part = table.take(list(range(k, n, ways)))
        half = part.num_rows // 2
        store.write_events(part.slice(0, half))
        store.write_events(part.slice(half))


@pytest.fixture
def written(store: EventStore) -> list[dict[str, Any]]:
    table = make_event_rows(
        16_000, start=START, step=timedelta(milliseconds=700), tenants=["t1", "t2"], seed=11
    )
    write_interleaved(store, table)
    assert store.write_events(table.slice(0, 3_000)).inserted == 0  # replays add nothing
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


@pytest.mark.parametrize("table", TABLES)
def test_rollups_equal_the_raw_aggregates(
    store: EventStore, written: list[dict[str, Any]], table: str
) -> None:
    assert_matches(rolled_up(store, table), reference(written, *TABLES[table]))


def test_percentiles_of_merged_hourly_histograms_are_within_one_percent(
    store: EventStore, written: list[dict[str, Any]]
) -> None:
    # Merge across buckets and tenants too, as a dashboard's "p99 per model" does.
    by_model: dict[str, dict[int, int]] = defaultdict(dict)
    for key, group in rolled_up(store, "rollup_1h").items():
        model = key[1 + ROLLUP_DIMENSIONS.index("model_id")]
        for b, c in group.histogram.items():
            by_model[model][b] = by_model[model].get(b, 0) + c
    latencies: dict[str, list[float]] = defaultdict(list)
    for r in written:
        if r["latency_ms"] is not None:
            latencies[r["model_id"]].append(r["latency_ms"])
    assert len(latencies) == 8
    for model, values in latencies.items():
        assert_quantiles_close(by_model[model], values)


def _row_count(store: EventStore, table: str, where: str = "TRUE") -> int:
    return int(store.fetch(f"SELECT count(*) FROM {table} WHERE {where}", []).rows[0][0])


def test_compaction_keeps_the_rollups_and_merges_closed_buckets(
    store: EventStore, written: list[dict[str, Any]]
) -> None:
    cutoff = datetime(2025, 3, 1, 11, 0)
    tail = f"bucket >= TIMESTAMP '{cutoff}'"
    before = {t: _row_count(store, t) for t in TABLES}
    tail_before = {t: store.fetch(f"SELECT * FROM {t} WHERE {tail}", []).rows for t in TABLES}

    removed = store.compact_rollups(cutoff)

    after = {t: _row_count(store, t) for t in TABLES}
    assert removed == sum(before.values()) - sum(after.values())
    assert removed > 0
    for t, (unit, dims) in TABLES.items():
        assert_matches(rolled_up(store, t), reference(written, unit, dims))
        # One row per closed bucket and dimensions; open buckets untouched.
        groups = store.fetch(
            f"SELECT count(*), count(DISTINCT (bucket, {', '.join(dims)}))"
            f" FROM {t} WHERE NOT ({tail})",
            [],
        ).rows[0]
        assert groups[0] == groups[1]
        tail_after = store.fetch(f"SELECT * FROM {t} WHERE {tail}", []).rows
        assert sorted(map(repr, tail_after)) == sorted(map(repr, tail_before[t]))

    assert store.compact_rollups(cutoff) == 0  # nothing left to merge


def test_compacting_everything_then_writing_more_stays_exact(
    store: EventStore, written: list[dict[str, Any]]
) -> None:
    store.compact_rollups(datetime(2100, 1, 1))
    more = make_event_rows(3_000, start=START, step=timedelta(seconds=3), tenants=["t1"], seed=12)
    store.write_events(more)
    rows = written + more.to_pylist()
    for t, (unit, dims) in TABLES.items():
        assert_matches(rolled_up(store, t), reference(rows, unit, dims))
