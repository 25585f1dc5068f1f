"""Retention and rollup compaction of the PostgreSQL store.

Functions take a connection already inside the transaction the store opened for them,
so that each pass commits as a whole or not at all.

Retention drops whole day partitions of ``events`` when every tenant's raw retention
has passed them (a partition holds rows of all tenants), and deletes rows for the rest:
``claimed_ts`` (the partition key) is never earlier than ``ts``, so a partition that
ends before the cutoff holds only rows that are past it.

Compaction runs in a REPEATABLE READ transaction (the store opens it so): its merge,
delete and insert must see one snapshot, or a delta committed by a writer between the
merge and the delete would be deleted without having been merged. Writers only insert,
so they never conflict with it. It looks only at buckets that writers marked in
``rollup_dirty`` as they added deltas, not at whole tables.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg

from analytics_hub.store import postgres_partitions as partitions
from analytics_hub.store.base import RetentionPolicy
from analytics_hub.store.postgres_rollups import fine_from_rollup_sql, merge_sql
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


def _drop_expired_partitions(
    conn: psycopg.Connection[Any],
    now: datetime,
    default: RetentionPolicy,
    per_tenant: dict[str, RetentionPolicy],
) -> int:
    """Drop the day partitions past every tenant's raw retention; rows they held."""
    longest = max([default.raw_days, *(p.raw_days for p in per_tenant.values())])
    dropped = 0
    for day in partitions.partitions_before(conn, now - timedelta(days=longest)):
        rows = partitions.drop_day(conn, day)
        if rows is not None:
            dropped += rows
    return dropped


def apply_retention(
    conn: psycopg.Connection[Any],
    now: datetime,
    default: RetentionPolicy,
    per_tenant: dict[str, RetentionPolicy],
) -> dict[str, int]:
    """Delete what is older than its limit; rows deleted per table.

    ``now`` is naive UTC. Whole partitions first, then one statement per table for
    every tenant on the default policy and one per tenant with its own policy.
    """
    overridden = sorted(per_tenant)
    deleted: dict[str, int] = {}
    for table, (column, days_field) in RETENTION.items():
        count = _drop_expired_partitions(conn, now, default, per_tenant) if table == "events" else 0
        count += conn.execute(
            f"DELETE FROM {table} WHERE {column} < %s AND tenant_id <> ALL(%s)",
            [now - timedelta(days=getattr(default, days_field)), overridden],
        ).rowcount
        for tenant in overridden:
            days = getattr(per_tenant[tenant], days_field)
            count += conn.execute(
                f"DELETE FROM {table} WHERE tenant_id = %s AND {column} < %s",
                [tenant, now - timedelta(days=days)],
            ).rowcount
        deleted[table] = count
    # Marks of buckets that no tenant keeps rollups for any longer.
    for rollup in ROLLUPS:
        longest = max(getattr(p, rollup.retention) for p in [default, *per_tenant.values()])
        conn.execute(
            "DELETE FROM rollup_dirty WHERE rollup = %s AND bucket < %s",
            [rollup.name, now - timedelta(days=longest)],
        )
    return deleted


def compact_rollups(conn: psycopg.Connection[Any], cutoff: datetime) -> int:
    """Merge the delta rows of buckets before ``cutoff`` (naive UTC); rows removed.

    Only buckets marked in ``rollup_dirty`` (they received deltas since they were last
    compacted) are looked at, and of those only the ones holding more than one row for
    some dimension combination are rewritten (all of their rows, merged), so a pass
    costs in proportion to what was written since the last one, not to the table.
    """
    removed = 0
    for rollup in ROLLUPS:
        table, columns = rollup.name, ", ".join(rollup.columns)
        marked = "SELECT bucket FROM rollup_dirty WHERE rollup = %(table)s AND bucket < %(cutoff)s"
        params = {"table": table, "cutoff": cutoff}
        conn.execute(
            "CREATE TEMP TABLE _dirty ON COMMIT DROP AS SELECT DISTINCT bucket FROM ("
            f" SELECT bucket FROM {table} WHERE bucket IN ({marked})"
            f" GROUP BY bucket, {rollup.dims} HAVING count(*) > 1) AS d",
            params,
        )
        where = "bucket IN (SELECT bucket FROM _dirty)"
        # Merged first, into a temporary table, because the delete removes its source.
        fine = fine_from_rollup_sql(table, where, rollup.dimensions)
        conn.execute(
            "CREATE TEMP TABLE _merged ON COMMIT DROP AS "
            + merge_sql(fine, rollup.unit, dimensions=rollup.dimensions)
        )
        before = conn.execute(f"DELETE FROM {table} WHERE {where}").rowcount
        after = conn.execute(f"INSERT INTO {table} ({columns}) SELECT * FROM _merged").rowcount
        # The marks this snapshot sees; a writer's newer mark stays for the next pass.
        conn.execute(
            "DELETE FROM rollup_dirty WHERE rollup = %(table)s AND bucket < %(cutoff)s", params
        )
        conn.execute("DROP TABLE _dirty, _merged")
        removed += before - after
    return removed


__all__ = ["RETENTION", "apply_retention", "compact_rollups"]
