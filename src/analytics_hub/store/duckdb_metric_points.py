"""The metric-point methods of the DuckDB store (see :mod:`analytics_hub.store.metric_points`).

A mixin of :class:`~analytics_hub.store.duckdb.DuckDBStore`, which provides the hooks
``_reader`` (this thread's cursor) and ``_transaction`` (the writer cursor inside one
transaction, under the write lock).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager

import duckdb

from analytics_hub.store import metric_point_sql as sql
from analytics_hub.store.metric_points import (
    MetricName,
    MetricPoint,
    PointSelection,
    SelectedPoints,
    dedupe,
)

_INSERT = (
    f"INSERT INTO metric_points ({sql.COLUMN_LIST}) SELECT {sql.COLUMN_LIST} FROM _metric_points"
    " ON CONFLICT DO NOTHING"
)


class DuckDBMetricPoints:
    """Metric points on DuckDB: Arrow batches in, rows out."""

    def _reader(self) -> duckdb.DuckDBPyConnection:
        raise NotImplementedError  # pragma: no cover - provided by DuckDBStore

    def _transaction(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        raise NotImplementedError  # pragma: no cover - provided by DuckDBStore

    def write_metric_points(self, points: Sequence[MetricPoint]) -> int:
        """Store points in one transaction; returns how many were new."""
        if not points:
            return 0
        # One Arrow insert: a statement per point costs a millisecond or more each.
        table = sql.arrow_table(dedupe(points))
        with self._transaction() as con:
            con.register("_metric_points", table)
            row = con.execute(_INSERT).fetchone()
            con.unregister("_metric_points")
        return int(row[0]) if row else 0

    def select_metric_points(self, selection: PointSelection) -> SelectedPoints:
        """The points of ``selection`` and the baselines of their cumulative runs."""
        cursor = self._reader()
        text, params = sql.points_sql(selection)
        points = [sql.point(r) for r in cursor.execute(text, params).fetchall()]
        if not any(p.temporality == "cumulative" for p in points):
            return SelectedPoints(points)
        text, params = sql.earlier_sql(selection)
        earlier = [sql.point(r) for r in cursor.execute(text, params).fetchall()]
        return SelectedPoints(points, earlier)

    def metric_names(
        self, tenant_id: str, start_us: int | None = None, end_us: int | None = None
    ) -> list[MetricName]:
        """The metrics a tenant has points of."""
        text, params = sql.names_sql(tenant_id, start_us, end_us)
        return [sql.metric_name(r) for r in self._reader().execute(text, params).fetchall()]


__all__ = ["DuckDBMetricPoints"]
