"""Rollup rows folded in Arrow equal the stores' SQL fold of the same fine relation."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from analytics_hub.store.duckdb_rollups import merge_sql
from analytics_hub.store.postgres_copy import with_array_literals
from analytics_hub.store.rollup_deltas import fine_deltas
from analytics_hub.store.rollup_rows import dirty_marks, every_rollup_rows, rollup_rows
from analytics_hub.store.rollup_tables import ROLLUPS, RollupTable
from analytics_hub.testing.rows import make_event_rows


def _events(seed: int) -> pa.Table:
    # 2.2 hours: several minutes and three hours, so both regroupings have work to do
    return make_event_rows(
        8_000,
        start=datetime(2025, 3, 1, 9, 40, 30),
        step=timedelta(seconds=1),
        tenants=["t1", "t2"],
        seed=seed,
    )


def _sql_rows(fine: pa.Table, rollup: RollupTable) -> pa.Table:
    con = duckdb.connect()
    con.register("fine", fine)
    regroup = not (rollup.full and rollup.unit == "minute")
    sql = merge_sql("fine", rollup.unit, regroup=regroup, dimensions=rollup.dimensions)
    out = con.sql(sql).to_arrow_table()
    con.close()
    return out


def _by_group(table: pa.Table, rollup: RollupTable) -> dict[tuple[Any, ...], dict[str, Any]]:
    keys = ("bucket", *rollup.dimensions)
    rows = {tuple(r[k] for k in keys): r for r in table.to_pylist()}
    assert len(rows) == table.num_rows  # one row per group
    return rows


@pytest.mark.parametrize("rollup", ROLLUPS, ids=[r.name for r in ROLLUPS])
@pytest.mark.parametrize("seed", [1, 2])
def test_arrow_rollup_rows_equal_the_sql_fold(rollup: RollupTable, seed: int) -> None:
    fine = fine_deltas(_events(seed))
    got = rollup_rows(fine, rollup)
    assert tuple(got.column_names) == rollup.columns
    want = _sql_rows(fine, rollup)
    mine, theirs = _by_group(got, rollup), _by_group(want, rollup)
    assert mine.keys() == theirs.keys()
    with_latency = 0
    for key, w in theirs.items():
        g = mine[key]
        assert g["lat_bins"] == w["lat_bins"], key  # same bins, sorted alike
        assert g["lat_counts"] == w["lat_counts"], key
        with_latency += bool(w["lat_bins"])
        for name, value in w.items():
            if isinstance(value, float):  # sums of doubles: up to the order of additions
                assert g[name] == pytest.approx(value, rel=1e-12), (key, name)
            elif name not in ("lat_bins", "lat_counts"):
                assert g[name] == value, (key, name)
    # both kinds of group occur: with latencies, and without any (empty histograms)
    assert 0 < with_latency < len(theirs)


def test_dirty_marks_name_each_bucket_of_each_rollup_once() -> None:
    fine = fine_deltas(_events(3))
    marks = dirty_marks(fine).to_pylist()
    assert len(marks) == len({(m["rollup"], m["bucket"]) for m in marks})
    by_rollup: dict[str, set[datetime]] = {}
    for m in marks:
        by_rollup.setdefault(m["rollup"], set()).add(m["bucket"])
    hours = {datetime(2025, 3, 1, h) for h in (9, 10, 11)}
    assert by_rollup["rollup_1h"] == by_rollup["tenant_rollup_1h"] == hours
    minutes = {b.replace(second=0) for b in fine.column("bucket").to_pylist()}
    assert by_rollup["rollup_1m"] == by_rollup["tenant_rollup_1m"] == minutes
    assert len(minutes) == 134  # 09:40 to 11:53


def test_an_empty_fine_relation_has_no_rollup_rows() -> None:
    fine = fine_deltas(_events(1).slice(0, 0))
    for rollup in ROLLUPS:
        assert rollup_rows(fine, rollup).num_rows == 0
    assert dirty_marks(fine).num_rows == 0


def test_histograms_render_as_postgresql_array_literals() -> None:
    table = pa.table(
        {
            "n": pa.array([1, 2, 3]),
            "bins": pa.array([[3, -1, 7], [], [12]], pa.list_(pa.int32())),
            "counts": pa.array([[1, 20, 300], [], [4]], pa.list_(pa.int64())),
        }
    )
    out = with_array_literals(table)
    assert out.column("n").to_pylist() == [1, 2, 3]  # other columns untouched
    assert out.column("bins").to_pylist() == ["{3,-1,7}", "{}", "{12}"]
    assert out.column("counts").to_pylist() == ["{1,20,300}", "{}", "{4}"]


@pytest.mark.parametrize(
    ("step", "minutes"), [(timedelta(milliseconds=5), 1), (timedelta(seconds=1), 134)]
)
def test_every_rollup_equals_each_rollup_folded_alone(step: timedelta, minutes: int) -> None:
    # 8,000 events 5 ms apart lie in one minute (the hour rollups are derived from the
    # minute ones); 1 s apart they span 134 minutes of three hours (all folded)
    events = make_event_rows(
        8_000, start=datetime(2025, 3, 1, 9, 40), step=step, tenants=["t1"], seed=4
    )
    fine = fine_deltas(events)
    assert len(set(fine.column("bucket").to_pylist())) == minutes
    every = every_rollup_rows(fine)
    assert len(every) == len(ROLLUPS)
    for rollup, rows in zip(ROLLUPS, every, strict=True):
        alone = rollup_rows(fine, rollup)
        assert rows.schema == alone.schema, rollup.name
        # the same rows exactly (the order of the rows is of no account)
        assert _by_group(rows, rollup) == _by_group(alone, rollup), rollup.name
