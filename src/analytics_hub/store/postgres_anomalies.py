"""The anomaly methods of the PostgreSQL store (see :mod:`analytics_hub.store.anomalies`).

A mixin of :class:`~analytics_hub.store.postgres.PostgresStore`, which provides the hooks
``_read`` (a pooled read-only connection) and ``_transaction`` (a writer connection inside
one transaction). The statements are the shared ones with ``?`` placeholders, numbered
for PostgreSQL and run on a raw cursor, as ``fetch`` runs queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import psycopg

from analytics_hub.store import anomaly_sql as sql
from analytics_hub.store.anomalies import (
    AnomalyListing,
    AnomalyRecord,
    DetectorVersion,
    LabelOutcome,
    SeriesFeedback,
    SeriesMinute,
    SeriesSelector,
    key_text,
    naive_utc,
)
from analytics_hub.store.postgres_statements import numbered

_UNNESTED_BINS = (
    "SELECT r.tenant_id, r.asset_id, r.model_id, r.bucket, h.b, h.c"
    " FROM r, unnest(r.lat_bins, r.lat_counts) AS h(b, c)"
)

Conn = psycopg.Connection[Any]


def _rows(conn: Conn, text: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
    with psycopg.RawCursor(conn) as cur:
        cur.execute(numbered(text).sql, list(params))
        return cur.fetchall() if cur.description else []


def _count(conn: Conn, text: str, params: Sequence[object]) -> int:
    with psycopg.RawCursor(conn) as cur:
        cur.execute(numbered(text).sql, list(params))
        return max(cur.rowcount, 0)


class PostgresAnomalies:
    """Series minutes, anomalies, feedback counts and detector versions on PostgreSQL."""

    def _read(self) -> AbstractContextManager[Conn]:
        raise NotImplementedError  # pragma: no cover - provided by PostgresStore

    def _transaction(self, *, isolation: str | None = None) -> AbstractContextManager[Conn]:
        raise NotImplementedError  # pragma: no cover - provided by PostgresStore

    def series_minutes(
        self, start: datetime, end: datetime, selector: SeriesSelector | None = None
    ) -> list[SeriesMinute]:
        """Per-series minute figures of model calls in ``[start, end)`` (see the port)."""
        where, params = sql.series_where(start, end, selector or SeriesSelector())
        with self._read() as conn:
            rows = _rows(conn, sql.series_sql(where, _UNNESTED_BINS), params)
        return [sql.series_minute(r) for r in rows]

    def write_anomalies(self, records: Sequence[AnomalyRecord]) -> int:
        """Store anomalies; one whose (tenant, id) is stored already is kept as is."""
        if not records:
            return 0
        with self._transaction() as conn:
            return sum(_count(conn, sql.INSERT_ANOMALY, sql.anomaly_params(r)) for r in records)

    def list_anomalies(self, tenant_id: str, listing: AnomalyListing) -> list[AnomalyRecord]:
        """One page of a tenant's anomalies, newest minute first."""
        if listing.limit <= 0:
            return []
        text, params = sql.listing_sql(tenant_id, listing)
        with self._read() as conn:
            return [sql.anomaly_record(r) for r in _rows(conn, text, params)]

    def get_anomaly(self, tenant_id: str, anomaly_id: str) -> AnomalyRecord | None:
        """One of a tenant's anomalies, or None."""
        with self._read() as conn:
            rows = _rows(conn, sql.SELECT_ANOMALY, [tenant_id, anomaly_id])
        return sql.anomaly_record(rows[0]) if rows else None

    def label_anomaly(
        self, tenant_id: str, anomaly_id: str, label: str | None, at: datetime
    ) -> LabelOutcome | None:
        """Set (or, with None, withdraw) an anomaly's label and its series' counts."""
        if label is not None and label not in sql.LABELS:
            raise ValueError(f"label must be one of {sql.LABELS} or None")
        with self._transaction() as conn:
            # FOR UPDATE: two labels of one anomaly at once must not both count its old one
            rows = _rows(conn, sql.SELECT_ANOMALY + " FOR UPDATE", [tenant_id, anomaly_id])
            if not rows:
                return None
            old = sql.anomaly_record(rows[0])
            stamp = None if label is None else naive_utc(at)
            _count(conn, sql.SET_LABEL, [label, stamp, tenant_id, anomaly_id])
            key = [tenant_id, key_text(old.asset_id), key_text(old.model_id), old.metric]
            fp, tp = sql.label_deltas(old.label, label)
            if fp or tp:
                _count(conn, sql.ADD_FEEDBACK, [*key, fp, tp, naive_utc(at)])
            counts = _rows(conn, sql.SELECT_ONE_FEEDBACK, key)
            new = _rows(conn, sql.SELECT_ANOMALY, [tenant_id, anomaly_id])
        feedback = (
            sql.feedback_record(counts[0])
            if counts
            else SeriesFeedback(tenant_id, old.asset_id, old.model_id, old.metric, 0, 0, None)
        )
        return LabelOutcome(record=sql.anomaly_record(new[0]), feedback=feedback)

    def series_feedback(self, tenant_id: str | None = None) -> list[SeriesFeedback]:
        """Feedback counts of every series (or one tenant's) that has any."""
        text, params = sql.feedback_sql(tenant_id)
        with self._read() as conn:
            return [sql.feedback_record(r) for r in _rows(conn, text, params)]

    def write_detector_versions(self, versions: Sequence[DetectorVersion]) -> None:
        """Store detector versions; one already stored (same tenant and id) is kept."""
        if not versions:
            return
        with self._transaction() as conn:
            for version in versions:
                _count(conn, sql.INSERT_VERSION, sql.version_params(version))

    def list_detector_versions(
        self,
        tenant_id: str,
        *,
        asset_id: str | None = None,
        model_id: str | None = None,
        limit: int = 100,
    ) -> list[DetectorVersion]:
        """A tenant's detector versions, newest first."""
        text, params = sql.versions_sql(
            tenant_id, asset_id=asset_id, model_id=model_id, limit=limit
        )
        with self._read() as conn:
            return [sql.version_record(r) for r in _rows(conn, text, params)]


__all__ = ["PostgresAnomalies"]
