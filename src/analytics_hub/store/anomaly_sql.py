"""The SQL of the anomaly tables and of per-series minutes, shared by both stores.

Statements use ``?`` placeholders and SQL that DuckDB and PostgreSQL both run; the
PostgreSQL store numbers the placeholders
(:func:`~analytics_hub.store.postgres_statements.numbered`). Rows come back as the
records of :mod:`analytics_hub.store.anomalies`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from analytics_hub.events.histogram import value_of
from analytics_hub.store.anomalies import (
    LABELS,
    AnomalyListing,
    AnomalyRecord,
    DetectorVersion,
    SeriesFeedback,
    SeriesMinute,
    SeriesSelector,
    aware,
    key_text,
    key_value,
    naive_utc,
)

# -- anomalies --------------------------------------------------------------------------

ANOMALY_COLUMNS = (
    "id, tenant_id, asset_id, model_id, metric, minute, score, threshold, threshold_offset,"
    " observed, expected_low, expected_high, contributing, votes, detector, version, source,"
    " created_at, latency_ms, label, labelled_at"
)
INSERT_ANOMALY = (
    f"INSERT INTO anomalies ({ANOMALY_COLUMNS})"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)"
    " ON CONFLICT (tenant_id, id) DO NOTHING"
)
SELECT_ANOMALY = f"SELECT {ANOMALY_COLUMNS} FROM anomalies WHERE tenant_id = ? AND id = ?"
SET_LABEL = "UPDATE anomalies SET label = ?, labelled_at = ? WHERE tenant_id = ? AND id = ?"


def anomaly_params(r: AnomalyRecord) -> list[object]:
    """The parameters of :data:`INSERT_ANOMALY` for one record."""
    return [
        r.id,
        r.tenant_id,
        key_text(r.asset_id),
        key_text(r.model_id),
        r.metric,
        naive_utc(r.minute),
        r.score,
        r.threshold,
        r.offset,
        r.observed,
        r.expected_low,
        r.expected_high,
        json.dumps(r.contributing),
        json.dumps(r.votes),
        r.detector,
        r.version,
        r.source,
        naive_utc(r.created_at),
        r.latency_ms,
    ]


def anomaly_record(row: Sequence[Any]) -> AnomalyRecord:
    """A row selected with :data:`ANOMALY_COLUMNS` as a record."""
    minute, created_at = aware(row[5]), aware(row[17])
    assert minute is not None
    assert created_at is not None
    return AnomalyRecord(
        id=row[0],
        tenant_id=row[1],
        asset_id=key_value(row[2]),
        model_id=key_value(row[3]),
        metric=row[4],
        minute=minute,
        score=float(row[6]),
        threshold=float(row[7]),
        offset=float(row[8]),
        observed=float(row[9]),
        expected_low=None if row[10] is None else float(row[10]),
        expected_high=None if row[11] is None else float(row[11]),
        contributing=json.loads(row[12]),
        votes=json.loads(row[13]),
        detector=row[14],
        version=row[15],
        source=row[16],
        created_at=created_at,
        latency_ms=None if row[18] is None else float(row[18]),
        label=row[19],
        labelled_at=aware(row[20]),
    )


def listing_sql(tenant_id: str, q: AnomalyListing) -> tuple[str, list[object]]:
    """One page of a tenant's anomalies: newest minute first, then id descending."""
    sql = f"SELECT {ANOMALY_COLUMNS} FROM anomalies WHERE tenant_id = ?"
    params: list[object] = [tenant_id]
    if q.start is not None:
        sql += " AND minute >= ?"
        params.append(naive_utc(q.start))
    if q.end is not None:
        sql += " AND minute < ?"
        params.append(naive_utc(q.end))
    for column, value in (("asset_id", q.asset_id), ("model_id", q.model_id)):
        if value is not None:
            sql += f" AND {column} = ?"
            params.append(key_text(value))
    if q.metric is not None:
        sql += " AND metric = ?"
        params.append(q.metric)
    if q.min_score is not None:
        sql += " AND score >= ?"
        params.append(q.min_score)
    if q.after is not None:
        # strictly after the previous page's last row in (minute DESC, id DESC) order
        at, last_id = naive_utc(q.after[0]), q.after[1]
        sql += " AND (minute < ? OR (minute = ? AND id < ?))"
        params += [at, at, last_id]
    sql += " ORDER BY minute DESC, id DESC LIMIT ?"
    params.append(q.limit)
    return sql, params


# -- feedback ---------------------------------------------------------------------------

FEEDBACK_COLUMNS = (
    "tenant_id, asset_id, model_id, metric, false_positives, true_positives, updated_at"
)
#: add (false positives, true positives) to a series' counts, creating the row if new
ADD_FEEDBACK = (
    f"INSERT INTO anomaly_feedback ({FEEDBACK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (tenant_id, asset_id, model_id, metric) DO UPDATE SET"
    " false_positives = anomaly_feedback.false_positives + EXCLUDED.false_positives,"
    " true_positives = anomaly_feedback.true_positives + EXCLUDED.true_positives,"
    " updated_at = EXCLUDED.updated_at"
)
SELECT_FEEDBACK = f"SELECT {FEEDBACK_COLUMNS} FROM anomaly_feedback"
SELECT_ONE_FEEDBACK = (
    SELECT_FEEDBACK + " WHERE tenant_id = ? AND asset_id = ? AND model_id = ? AND metric = ?"
)


def label_deltas(old: str | None, new: str | None) -> tuple[int, int]:
    """(false positives, true positives) to add when a label goes from ``old`` to ``new``."""
    fp = (new == "false_positive") - (old == "false_positive")
    tp = (new == "true_positive") - (old == "true_positive")
    return int(fp), int(tp)


def feedback_record(row: Sequence[Any]) -> SeriesFeedback:
    """A row selected with :data:`FEEDBACK_COLUMNS` as a record."""
    return SeriesFeedback(
        tenant_id=row[0],
        asset_id=key_value(row[1]),
        model_id=key_value(row[2]),
        metric=row[3],
        false_positives=int(row[4]),
        true_positives=int(row[5]),
        updated_at=aware(row[6]),
    )


def feedback_sql(tenant_id: str | None) -> tuple[str, list[object]]:
    """Every series' counts, or one tenant's."""
    if tenant_id is None:
        return SELECT_FEEDBACK, []
    return SELECT_FEEDBACK + " WHERE tenant_id = ?", [tenant_id]


# -- detector versions ------------------------------------------------------------------

VERSION_COLUMNS = (
    "id, tenant_id, asset_id, model_id, created_at, reason, parameters, window_start,"
    " window_end, minutes, metrics"
)
INSERT_VERSION = (
    f"INSERT INTO anomaly_versions ({VERSION_COLUMNS})"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, id) DO NOTHING"
)


def version_params(v: DetectorVersion) -> list[object]:
    """The parameters of :data:`INSERT_VERSION` for one version."""
    return [
        v.id,
        v.tenant_id,
        key_text(v.asset_id),
        key_text(v.model_id),
        naive_utc(v.created_at),
        v.reason,
        json.dumps(v.parameters),
        None if v.window_start is None else naive_utc(v.window_start),
        None if v.window_end is None else naive_utc(v.window_end),
        v.minutes,
        json.dumps(v.metrics),
    ]


def version_record(row: Sequence[Any]) -> DetectorVersion:
    """A row selected with :data:`VERSION_COLUMNS` as a record."""
    created_at = aware(row[4])
    assert created_at is not None
    return DetectorVersion(
        id=row[0],
        tenant_id=row[1],
        asset_id=key_value(row[2]),
        model_id=key_value(row[3]),
        created_at=created_at,
        reason=row[5],
        parameters=json.loads(row[6]),
        window_start=aware(row[7]),
        window_end=aware(row[8]),
        minutes=int(row[9]),
        metrics=json.loads(row[10]),
    )


def versions_sql(
    tenant_id: str, *, asset_id: str | None, model_id: str | None, limit: int
) -> tuple[str, list[object]]:
    """A tenant's detector versions, newest first."""
    sql = f"SELECT {VERSION_COLUMNS} FROM anomaly_versions WHERE tenant_id = ?"
    params: list[object] = [tenant_id]
    for column, value in (("asset_id", asset_id), ("model_id", model_id)):
        if value is not None:
            sql += f" AND {column} = ?"
            params.append(key_text(value))
    sql += " ORDER BY created_at DESC, id DESC LIMIT ?"
    params.append(limit)
    return sql, params


# -- series minutes ---------------------------------------------------------------------


def series_where(
    start: datetime, end: datetime, selector: SeriesSelector
) -> tuple[str, list[object]]:
    """The WHERE clause over ``rollup_1m`` of :meth:`EventStore.series_minutes`."""
    sql = "WHERE bucket >= ? AND bucket < ? AND payload_subtype = 'llm_call'"
    params: list[object] = [naive_utc(start), naive_utc(end)]
    if selector.tenant_id is not None:
        sql += " AND tenant_id = ?"
        params.append(selector.tenant_id)
    for column, value in (("asset_id", selector.asset_id), ("model_id", selector.model_id)):
        if selector.exact:
            sql += f" AND {column} IS NOT DISTINCT FROM ?"
            params.append(value)
        elif value is not None:
            sql += f" AND {column} = ?"
            params.append(value)
    if selector.keys:
        # one text per series, so that the list is one IN (...) in every backend
        sql += (
            " AND tenant_id || chr(31) || coalesce(asset_id, '') || chr(31)"
            f" || coalesce(model_id, '') IN ({', '.join('?' * len(selector.keys))})"
        )
        params += ["\x1f".join((t, a or "", m or "")) for t, a, m in selector.keys]
    return sql, params


_KEYS = "tenant_id, asset_id, model_id, bucket"
_MEASURES = ("requests", "errors", "input_tokens", "output_tokens", "cost_usd", "latency_count")


def series_sql(where: str, unnested_bins: str) -> str:
    """The per-series minute figures of the rollup rows matching ``where``.

    ``unnested_bins`` is the backend's way of listing ``(keys, b, c)`` rows, one per
    histogram bin, from the CTE ``r``. The p95 is the first bin whose running count
    reaches 95 % of the total (nearest rank, as :func:`analytics_hub.events.histogram.quantile`),
    compared in integers so that no rounding can move it. The measures and the p95 meet
    in one grouping (a UNION ALL, then GROUP BY) rather than a join: grouping matches
    NULL keys (no asset, no model) without IS NOT DISTINCT FROM, which PostgreSQL can
    only join by nested loop.
    """
    nulls = ", ".join(
        f"CAST(NULL AS {'DOUBLE PRECISION' if m == 'cost_usd' else 'BIGINT'}) AS {m}"
        for m in _MEASURES
    )
    merged = ", ".join(f"max({m}) AS {m}" for m in (*_MEASURES, "b95"))
    return (
        "WITH r AS MATERIALIZED (SELECT tenant_id, asset_id, model_id, bucket, events, errors,"
        " input_tokens, output_tokens, cost_usd, latency_count, lat_bins, lat_counts"
        f" FROM rollup_1m {where}),"
        f" a AS (SELECT {_KEYS}, CAST(sum(events) AS BIGINT) AS requests,"
        " CAST(sum(errors) AS BIGINT) AS errors,"
        " CAST(sum(input_tokens) AS BIGINT) AS input_tokens,"
        " CAST(sum(output_tokens) AS BIGINT) AS output_tokens,"
        " CAST(sum(cost_usd) AS DOUBLE PRECISION) AS cost_usd,"
        " CAST(sum(latency_count) AS BIGINT) AS latency_count,"
        f" CAST(NULL AS INTEGER) AS b95 FROM r GROUP BY {_KEYS}),"
        f" bins AS (SELECT {_KEYS}, b, CAST(sum(c) AS BIGINT) AS c FROM ({unnested_bins}) AS u"
        f" GROUP BY {_KEYS}, b),"
        f" ranked AS (SELECT {_KEYS}, b,"
        f" sum(c) OVER (PARTITION BY {_KEYS} ORDER BY b) AS running,"
        f" sum(c) OVER (PARTITION BY {_KEYS}) AS total FROM bins),"
        f" p AS (SELECT {_KEYS}, {nulls}, CAST(min(b) AS INTEGER) AS b95 FROM ranked"
        f" WHERE 100 * running >= 95 * total GROUP BY {_KEYS})"
        f" SELECT {_KEYS}, {merged}"
        " FROM (SELECT * FROM a UNION ALL SELECT * FROM p) AS x"
        f" GROUP BY {_KEYS} ORDER BY bucket, tenant_id, asset_id, model_id"
    )


def series_minute(row: Sequence[Any]) -> SeriesMinute:
    """A row of :func:`series_sql` as a record."""
    minute = aware(row[3])
    assert minute is not None
    return SeriesMinute(
        tenant_id=row[0],
        asset_id=row[1],
        model_id=row[2],
        minute=minute,
        requests=int(row[4]),
        errors=int(row[5]),
        input_tokens=int(row[6]),
        output_tokens=int(row[7]),
        cost_usd=float(row[8]),
        latency_count=int(row[9]),
        p95_latency_ms=None if row[10] is None else value_of(int(row[10])),
    )


__all__ = [
    "ADD_FEEDBACK",
    "INSERT_ANOMALY",
    "INSERT_VERSION",
    "LABELS",
    "SELECT_ANOMALY",
    "SELECT_ONE_FEEDBACK",
    "SET_LABEL",
    "anomaly_params",
    "anomaly_record",
    "feedback_record",
    "feedback_sql",
    "label_deltas",
    "listing_sql",
    "series_minute",
    "series_sql",
    "series_where",
    "version_params",
    "version_record",
    "versions_sql",
]
