"""Retention and rollup compaction of the DuckDB store.

Functions take the writer cursor, already inside the transaction the store opened for
them, so that each pass commits as a whole or not at all.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb

from analytics_hub.store.base import RetentionPolicy
from analytics_hub.store.duckdb_rollups import fine_from_rollup_sql, merge_sql
from analytics_hub.store.rollup_tables import ROLLUPS

# Retention: table -> (its time column, the RetentionPolicy field that limits it).
RETENTION: dict[str, tuple[str, str]] = {
    "events": ("ts", "raw_days"),
    **{r.name: ("bucket", r.retention) for r in ROLLUPS},
    "dead_letters": ("received_at", "dead_letter_days"),
    # kept as long as the minute rollups they were scored from (their context)
    "anomalies": ("minute", "minute_rollup_days"),
    "anomaly_versions": ("created_at", "minute_rollup_days"),
    # OTLP metric points are aggregates already (one per series and export interval):
    # kept as long as the minute rollups, the other per-interval figures
    "metric_points": ("ts", "minute_rollup_days"),
}


def row_count(result: duckdb.DuckDBPyConnection) -> int:
    """The row count a DELETE, UPDATE or INSERT reports."""
    row = result.fetchone()
    return int(row[0]) if row else 0


def apply_retention(
    con: duckdb.DuckDBPyConnection,
    now: datetime,
    default: RetentionPolicy,
    per_tenant: dict[str, RetentionPolicy],
) -> dict[str, int]:
    """Delete what is older than its limit; rows deleted per table.

    ``now`` is naive UTC. One statement per table for every tenant on the default
    policy, then one per tenant with its own policy.
    """
    overridden = sorted(per_tenant)
    deleted: dict[str, int] = {}
    for table, (column, days_field) in RETENTION.items():
        count = row_count(
            con.execute(
                f"DELETE FROM {table} WHERE {column} < ?"
                " AND NOT list_contains(CAST(? AS VARCHAR[]), tenant_id)",
                [now - timedelta(days=getattr(default, days_field)), overridden],
            )
        )
        for tenant in overridden:
            days = getattr(per_tenant[tenant], days_field)
            count += row_count(
                con.execute(
                    f"DELETE FROM {table} WHERE tenant_id = ? AND {column} < ?",
                    [tenant, now - timedelta(days=days)],
                )
            )
        deleted[table] = count
    return deleted


def compact_rollups(con: duckdb.DuckDBPyConnection, cutoff: datetime) -> int:
    """Merge the delta rows of buckets before ``cutoff`` (naive UTC); rows removed.

    Only buckets holding more than one row for some dimension combination are
    rewritten (all of their rows, merged), so compacting compacted history costs one
    grouped scan of the rollup table and no writes.
    """
    removed = 0
    for rollup in ROLLUPS:
        table, columns = rollup.name, ", ".join(rollup.columns)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _dirty AS SELECT DISTINCT bucket FROM ("
            f" SELECT bucket FROM {table} WHERE bucket < ?"
            f" GROUP BY bucket, {rollup.dims} HAVING count(*) > 1)",
            [cutoff],
        )
        where = "bucket IN (SELECT bucket FROM _dirty)"
        # Merged first, into a temporary table, because the delete removes its source.
        fine = fine_from_rollup_sql(table, where, rollup.dimensions)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _merged AS "
            + merge_sql(fine, rollup.unit, dimensions=rollup.dimensions)
        )
        before = row_count(con.execute(f"DELETE FROM {table} WHERE {where}"))
        after = row_count(con.execute(f"INSERT INTO {table} ({columns}) SELECT * FROM _merged"))
        con.execute("DROP TABLE _dirty; DROP TABLE _merged")
        removed += before - after
    return removed


__all__ = ["RETENTION", "apply_retention", "compact_rollups", "row_count"]
