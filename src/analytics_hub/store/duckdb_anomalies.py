"""The anomaly methods of the DuckDB store (see :mod:`analytics_hub.store.anomalies`).

A mixin of :class:`~analytics_hub.store.duckdb.DuckDBStore`, which provides the two
hooks: ``_reader`` (this thread's cursor) and ``_transaction`` (the writer cursor inside
one transaction, under the write lock). Keeping the methods here keeps the store module
about events.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime

import duckdb
import pyarrow as pa

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

# the types of sql.anomaly_params, in order
_ANOMALY_TYPES = (
    *[pa.string()] * 5,
    pa.timestamp("us"),
    *[pa.float64()] * 6,
    *[pa.string()] * 5,
    pa.timestamp("us"),
    pa.float64(),
)
_INSERT_ANOMALIES = (
    f"INSERT INTO anomalies ({sql.ANOMALY_COLUMNS}) SELECT *, NULL, NULL FROM _anomalies"
    " ON CONFLICT (tenant_id, id) DO NOTHING"
)
_UNNESTED_BINS = (
    "SELECT tenant_id, asset_id, model_id, bucket, unnest(lat_bins) AS b,"
    " unnest(lat_counts) AS c FROM r"
)


class DuckDBAnomalies:
    """Series minutes, anomalies, feedback counts and detector versions on DuckDB."""

    def _reader(self) -> duckdb.DuckDBPyConnection:
        raise NotImplementedError  # pragma: no cover - provided by DuckDBStore

    def _transaction(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        raise NotImplementedError  # pragma: no cover - provided by DuckDBStore

    def series_minutes(
        self, start: datetime, end: datetime, selector: SeriesSelector | None = None
    ) -> list[SeriesMinute]:
        """Per-series minute figures of model calls in ``[start, end)`` (see the port)."""
        where, params = sql.series_where(start, end, selector or SeriesSelector())
        rows = self._reader().execute(sql.series_sql(where, _UNNESTED_BINS), params).fetchall()
        return [sql.series_minute(r) for r in rows]

    def write_anomalies(self, records: Sequence[AnomalyRecord]) -> int:
        """Store anomalies; one whose (tenant, id) is stored already is kept as is."""
        if not records:
            return 0
        unique = {(r.tenant_id, r.id): r for r in reversed(records)}  # the first of each
        rows = [sql.anomaly_params(r) for r in unique.values()]
        table = pa.table(
            [pa.array([row[i] for row in rows], t) for i, t in enumerate(_ANOMALY_TYPES)],
            names=[f"c{i}" for i in range(len(_ANOMALY_TYPES))],
        )
        # One Arrow insert: a statement per record costs milliseconds each in DuckDB, and
        # the streaming scorer stores a minute's anomalies while the clock runs.
        with self._transaction() as con:
            con.register("_anomalies", table)
            row = con.execute(_INSERT_ANOMALIES).fetchone()
            con.unregister("_anomalies")
        return int(row[0]) if row else 0

    def list_anomalies(self, tenant_id: str, listing: AnomalyListing) -> list[AnomalyRecord]:
        """One page of a tenant's anomalies, newest minute first."""
        if listing.limit <= 0:
            return []
        text, params = sql.listing_sql(tenant_id, listing)
        return [sql.anomaly_record(r) for r in self._reader().execute(text, params).fetchall()]

    def get_anomaly(self, tenant_id: str, anomaly_id: str) -> AnomalyRecord | None:
        """One of a tenant's anomalies, or None."""
        row = self._reader().execute(sql.SELECT_ANOMALY, [tenant_id, anomaly_id]).fetchone()
        return None if row is None else sql.anomaly_record(row)

    def label_anomaly(
        self, tenant_id: str, anomaly_id: str, label: str | None, at: datetime
    ) -> LabelOutcome | None:
        """Set (or, with None, withdraw) an anomaly's label and its series' counts."""
        if label is not None and label not in sql.LABELS:
            raise ValueError(f"label must be one of {sql.LABELS} or None")
        with self._transaction() as con:
            row = con.execute(sql.SELECT_ANOMALY, [tenant_id, anomaly_id]).fetchone()
            if row is None:
                return None
            old = sql.anomaly_record(row)
            stamp = None if label is None else naive_utc(at)
            con.execute(sql.SET_LABEL, [label, stamp, tenant_id, anomaly_id])
            key = [tenant_id, key_text(old.asset_id), key_text(old.model_id), old.metric]
            fp, tp = sql.label_deltas(old.label, label)
            if fp or tp:
                con.execute(sql.ADD_FEEDBACK, [*key, fp, tp, naive_utc(at)])
            counts = con.execute(sql.SELECT_ONE_FEEDBACK, key).fetchone()
            new = con.execute(sql.SELECT_ANOMALY, [tenant_id, anomaly_id]).fetchone()
        assert new is not None
        record = sql.anomaly_record(new)
        feedback = (
            sql.feedback_record(counts)
            if counts is not None
            else SeriesFeedback(tenant_id, old.asset_id, old.model_id, old.metric, 0, 0, None)
        )
        return LabelOutcome(record=record, feedback=feedback)

    def series_feedback(self, tenant_id: str | None = None) -> list[SeriesFeedback]:
        """Feedback counts of every series (or one tenant's) that has any."""
        text, params = sql.feedback_sql(tenant_id)
        return [sql.feedback_record(r) for r in self._reader().execute(text, params).fetchall()]

    def write_detector_versions(self, versions: Sequence[DetectorVersion]) -> None:
        """Store detector versions; one already stored (same tenant and id) is kept."""
        if not versions:
            return
        with self._transaction() as con:
            for version in versions:
                con.execute(sql.INSERT_VERSION, sql.version_params(version))

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
        return [sql.version_record(r) for r in self._reader().execute(text, params).fetchall()]


__all__ = ["DuckDBAnomalies"]
