"""The metric-point methods of the PostgreSQL store (see :mod:`analytics_hub.store.metric_points`).

A mixin of :class:`~analytics_hub.store.postgres.PostgresStore`, which provides the hooks
``_read`` (a pooled read-only connection) and ``_transaction`` (a writer connection inside
one transaction). A write is COPY of the batch, rendered as CSV by Arrow, into a
temporary table, then one ``INSERT ... ON CONFLICT DO NOTHING`` in key order: a replayed
point is skipped, and two writers of the same points wait for each other in the same
order, so they cannot deadlock.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

import psycopg
import pyarrow as pa

from analytics_hub.store import metric_point_sql as sql
from analytics_hub.store.metric_points import (
    MetricName,
    MetricPoint,
    PointSelection,
    SelectedPoints,
    dedupe,
)
from analytics_hub.store.postgres_copy import copy_sql, csv_bytes
from analytics_hub.store.postgres_statements import numbered

Conn = psycopg.Connection[Any]

_STAGE = "CREATE TEMP TABLE _metric_stage (LIKE metric_points) ON COMMIT DROP"
_COPY = copy_sql("_metric_stage", sql.COLUMNS)
_INSERT = (
    f"INSERT INTO metric_points ({sql.COLUMN_LIST}) SELECT {sql.COLUMN_LIST} FROM _metric_stage"
    " ORDER BY tenant_id, series_id, start_ts, ts ON CONFLICT DO NOTHING"
)
_ARRAYS = ("bounds", "bucket_counts")


def _array_text(values: list[Any] | None) -> str | None:
    # Arrow's CSV writer has no list type: PostgreSQL's array literal, as text. repr()
    # of a float parses back to the same double; values are finite (the mapping says so).
    if values is None:
        return None
    return "{" + ",".join(repr(v) for v in values) + "}"


def _csv(points: Sequence[MetricPoint]) -> bytes:
    table = sql.arrow_table(points)
    for name in _ARRAYS:
        texts = [_array_text(v) for v in table.column(name).to_pylist()]
        i = table.schema.get_field_index(name)
        table = table.set_column(i, name, pa.array(texts, pa.string()))
    return csv_bytes(table)


def _rows(conn: Conn, text: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
    with psycopg.RawCursor(conn) as cur:
        cur.execute(numbered(text).sql, list(params))
        return cur.fetchall()


class PostgresMetricPoints:
    """Metric points on PostgreSQL."""

    def _read(self) -> AbstractContextManager[Conn]:
        raise NotImplementedError  # pragma: no cover - provided by PostgresStore

    def _transaction(self, *, isolation: str | None = None) -> AbstractContextManager[Conn]:
        raise NotImplementedError  # pragma: no cover - provided by PostgresStore

    def write_metric_points(self, points: Sequence[MetricPoint]) -> int:
        """Store points in one transaction; returns how many were new."""
        if not points:
            return 0
        data = _csv(dedupe(points))
        with self._transaction() as conn, conn.cursor() as cur:
            cur.execute(_STAGE)
            with cur.copy(_COPY) as copy:
                copy.write(data)
            cur.execute(_INSERT)
            return max(cur.rowcount, 0)

    def select_metric_points(self, selection: PointSelection) -> SelectedPoints:
        """The points of ``selection`` and the baselines of their cumulative runs."""
        with self._read() as conn:
            text, params = sql.points_sql(selection)
            points = [sql.point(r) for r in _rows(conn, text, params)]
            if not any(p.temporality == "cumulative" for p in points):
                return SelectedPoints(points)
            text, params = sql.earlier_sql(selection)
            earlier = [sql.point(r) for r in _rows(conn, text, params)]
        return SelectedPoints(points, earlier)

    def metric_names(
        self, tenant_id: str, start_us: int | None = None, end_us: int | None = None
    ) -> list[MetricName]:
        """The metrics a tenant has points of."""
        text, params = sql.names_sql(tenant_id, start_us, end_us)
        with self._read() as conn:
            return [sql.metric_name(r) for r in _rows(conn, text, params)]


__all__ = ["PostgresMetricPoints"]
