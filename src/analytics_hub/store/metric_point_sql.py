"""The SQL of the ``metric_points`` table, shared by both stores.

Statements use ``?`` placeholders and SQL that DuckDB and PostgreSQL both run; the
PostgreSQL store numbers the placeholders
(:func:`~analytics_hub.store.postgres_statements.numbered`). Column names in a statement
come from :data:`~analytics_hub.store.metric_points.DIMENSIONS` only, never from a
request. Rows come back as :class:`~analytics_hub.store.metric_points.MetricPoint`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from analytics_hub.store.metric_points import (
    DIMENSIONS,
    DimensionFilter,
    MetricName,
    MetricPoint,
    PointSelection,
)

#: every column, in table order
COLUMNS: tuple[str, ...] = (
    "tenant_id",
    "series_id",
    "start_ts",
    "ts",
    "metric_name",
    "unit",
    "kind",
    "temporality",
    "monotonic",
    *DIMENSIONS,
    "attributes",
    "value",
    "count",
    "sum",
    "min",
    "max",
    "bounds",
    "bucket_counts",
)
COLUMN_LIST = ", ".join(COLUMNS)
_HISTOGRAMS = ("histogram", "exponential_histogram")
_EPOCH = datetime(1970, 1, 1)
_US = timedelta(microseconds=1)

#: the Arrow schema of a batch of points (timestamps naive UTC, as stored)
ARROW_SCHEMA = pa.schema(
    [
        ("tenant_id", pa.string()),
        ("series_id", pa.int64()),
        ("start_ts", pa.timestamp("us")),
        ("ts", pa.timestamp("us")),
        ("metric_name", pa.string()),
        ("unit", pa.string()),
        ("kind", pa.string()),
        ("temporality", pa.string()),
        ("monotonic", pa.bool_()),
        *[(d, pa.string()) for d in DIMENSIONS],
        ("attributes", pa.string()),
        ("value", pa.float64()),
        ("count", pa.int64()),
        ("sum", pa.float64()),
        ("min", pa.float64()),
        ("max", pa.float64()),
        ("bounds", pa.list_(pa.float64())),
        ("bucket_counts", pa.list_(pa.int64())),
    ]
)


def arrow_table(points: Sequence[MetricPoint]) -> pa.Table:
    """``points`` as one Arrow table of :data:`ARROW_SCHEMA`, built column by column."""
    columns: list[list[Any]] = [
        [p.tenant_id for p in points],
        [p.series_id for p in points],
        [p.start_us for p in points],
        [p.time_us for p in points],
        [p.metric_name for p in points],
        [p.unit for p in points],
        [p.kind for p in points],
        [p.temporality for p in points],
        [p.monotonic for p in points],
        *[[getattr(p, d) for p in points] for d in DIMENSIONS],
        [p.attributes for p in points],
        [p.value for p in points],
        [p.count for p in points],
        [p.sum for p in points],
        [p.min for p in points],
        [p.max for p in points],
        [list(p.bounds) if p.kind in _HISTOGRAMS else None for p in points],
        [list(p.bucket_counts) if p.kind in _HISTOGRAMS else None for p in points],
    ]
    arrays = [pa.array(c, f.type) for c, f in zip(columns, ARROW_SCHEMA, strict=True)]
    return pa.Table.from_arrays(arrays, schema=ARROW_SCHEMA)


def _micros(moment: datetime) -> int:
    # Stored timestamps are naive UTC; a backend may hand back an aware one.
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return (moment - _EPOCH) // _US


def stored(micros: int) -> datetime:
    """Microseconds since the epoch as the naive UTC timestamp the tables hold."""
    return _EPOCH + timedelta(microseconds=micros)


def point(row: Sequence[Any]) -> MetricPoint:
    """A row selected with :data:`COLUMN_LIST` as a point."""
    n = 9 + len(DIMENSIONS)
    dims = dict(zip(DIMENSIONS, row[9:n], strict=True))
    bounds, counts = row[n + 6], row[n + 7]
    return MetricPoint(
        tenant_id=row[0],
        series_id=int(row[1]),
        start_us=_micros(row[2]),
        time_us=_micros(row[3]),
        metric_name=row[4],
        unit=row[5],
        kind=row[6],
        temporality=row[7],
        monotonic=bool(row[8]),
        attributes=row[n],
        value=row[n + 1],
        count=None if row[n + 2] is None else int(row[n + 2]),
        sum=row[n + 3],
        min=row[n + 4],
        max=row[n + 5],
        bounds=tuple(float(b) for b in bounds) if bounds else (),
        bucket_counts=tuple(int(c) for c in counts) if counts else (),
        **dims,
    )


def _filter_sql(f: DimensionFilter) -> tuple[str, list[object]]:
    if f.column not in DIMENSIONS:  # never a request's text in a statement
        raise ValueError(f"{f.column!r} is not a dimension of metric points")
    values = [v for v in f.values if v is not None]
    with_null = len(values) < len(f.values)
    column = f.column
    listed = f"{column} IN ({', '.join('?' * len(values))})" if values else ""
    if f.op in ("eq", "in"):
        parts = [p for p in (listed, f"{column} IS NULL" if with_null else "") if p]
        return "(" + (" OR ".join(parts) or "FALSE") + ")", list(values)
    # ne / not_in: a missing value differs from every listed text (unless NULL is listed)
    kept = f"{column} IS NOT NULL" if with_null else f"{column} IS NULL"
    if not values:
        return f"({kept})" if with_null else "(TRUE)", []
    if with_null:
        return f"({kept} AND NOT {listed})", list(values)
    return f"({kept} OR NOT {listed})", list(values)


def selection_where(s: PointSelection) -> tuple[str, list[object]]:
    """The WHERE clause of the points of a selection (the range is on ``ts``)."""
    sql = "WHERE tenant_id = ? AND metric_name = ? AND ts >= ? AND ts < ?"
    params: list[object] = [s.tenant_id, s.metric_name, stored(s.start_us), stored(s.end_us)]
    for f in s.filters:
        text, values = _filter_sql(f)
        sql += f" AND {text}"
        params += values
    return sql, params


def points_sql(s: PointSelection) -> tuple[str, list[object]]:
    """The points of a selection in series, start, time order; at most ``limit + 1``."""
    where, params = selection_where(s)
    sql = (
        f"SELECT {COLUMN_LIST} FROM metric_points {where} ORDER BY series_id, start_ts, ts LIMIT ?"
    )
    return sql, [*params, s.limit + 1]


def earlier_sql(s: PointSelection) -> tuple[str, list[object]]:
    """For each cumulative run among a selection's points, its latest point before the
    selection's start: one look-up along the key per run (a LATERAL join)."""
    where, params = selection_where(s)
    inner = ", ".join(f"m.{c}" for c in COLUMNS)
    sql = (
        "WITH runs AS (SELECT DISTINCT series_id, start_ts FROM metric_points"
        f" {where} AND temporality = 'cumulative')"
        f" SELECT {inner} FROM runs CROSS JOIN LATERAL ("
        f" SELECT {COLUMN_LIST} FROM metric_points"
        " WHERE tenant_id = ? AND series_id = runs.series_id AND start_ts = runs.start_ts"
        " AND ts < ? ORDER BY ts DESC LIMIT 1) AS m"
    )
    return sql, [*params, s.tenant_id, stored(s.start_us)]


def names_sql(tenant_id: str, start_us: int | None, end_us: int | None) -> tuple[str, list[object]]:
    """The metrics of a tenant (in a range when given), with units, kinds, point counts."""
    sql = (
        "SELECT metric_name, unit, kind, temporality, count(*) AS points,"
        " min(ts) AS first_ts, max(ts) AS last_ts FROM metric_points WHERE tenant_id = ?"
    )
    params: list[object] = [tenant_id]
    if start_us is not None:
        sql += " AND ts >= ?"
        params.append(stored(start_us))
    if end_us is not None:
        sql += " AND ts < ?"
        params.append(stored(end_us))
    sql += (
        " GROUP BY metric_name, unit, kind, temporality"
        " ORDER BY metric_name, unit, kind, temporality"
    )
    return sql, params


def metric_name(row: Sequence[Any]) -> MetricName:
    """A row of :func:`names_sql` as a record."""
    return MetricName(
        name=row[0],
        unit=row[1],
        kind=row[2],
        temporality=row[3],
        points=int(row[4]),
        first_us=_micros(row[5]),
        last_us=_micros(row[6]),
    )


__all__ = [
    "ARROW_SCHEMA",
    "COLUMNS",
    "COLUMN_LIST",
    "arrow_table",
    "earlier_sql",
    "metric_name",
    "names_sql",
    "point",
    "points_sql",
    "selection_where",
    "stored",
]
