"""The write path of the PostgreSQL store: a batch made ready, then one transaction.

See ``docs/decisions/0013-postgres-writes.md``. :func:`prepare` does the work that
needs no database (schema check, repeats inside the batch, CSV rendering, the days it
covers); :func:`insert` runs one attempt of the transaction on a connection: COPY
straight into ``events`` and, when the unique key fails it (a replay), the staging-table
path that skips stored events. Either way the rollup deltas are of exactly the rows
inserted, computed in Arrow and added in the same transaction.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.compute as pc

from analytics_hub.events.columns import COLUMN_NAMES
from analytics_hub.store.batches import check_event_batch
from analytics_hub.store.postgres_copy import copy_sql, csv_bytes, first_of_each_key
from analytics_hub.store.postgres_rollups import FINE_TABLE, FINE_TABLE_SQL, insert_deltas_sql
from analytics_hub.store.rollup_deltas import FINE_COLUMNS, fine_deltas

_STAGE_SQL = "CREATE TEMP TABLE IF NOT EXISTS _stage (LIKE events) ON COMMIT DELETE ROWS"
_COPY_EVENTS_SQL = copy_sql("events", COLUMN_NAMES)
_COPY_STAGE_SQL = copy_sql("_stage", COLUMN_NAMES)
_COPY_FINE_SQL = copy_sql(FINE_TABLE, FINE_COLUMNS)
# Row by row in key order: two writers of shared keys wait for each other in the same
# order, so they cannot deadlock (COPY buffers rows per partition, which reorders them).
_INSERT_NEW_SQL = (
    f"INSERT INTO events ({', '.join(COLUMN_NAMES)}) SELECT {', '.join(COLUMN_NAMES)}"
    " FROM _stage ORDER BY tenant_id, event_id, claimed_ts"
    " ON CONFLICT DO NOTHING RETURNING tenant_id, CAST(event_id AS text)"
)
_INSERT_DELTAS_SQL = insert_deltas_sql(FINE_TABLE)

# Sessions that have the temporary tables of the write path (made once per session).
_prepared: weakref.WeakSet[psycopg.Connection[Any]] = weakref.WeakSet()


@dataclass(frozen=True, slots=True)
class Batch:
    """A batch ready to write: its rows (first of each key), as CSV, and their days."""

    table: pa.Table
    data: bytes
    days: list[date]


def prepare(table: pa.Table) -> Batch:
    """Check ``table`` (ValueError if not in ``EVENT_SCHEMA``) and make it ready."""
    check_event_batch(table)
    table = first_of_each_key(table)
    days = pc.unique(pc.floor_temporal(table.column("claimed_ts"), unit="day"))
    return Batch(table, csv_bytes(table), [d.date() for d in days.to_pylist()])


def insert(conn: psycopg.Connection[Any], batch: Batch, *, ordered: bool = False) -> pa.Table:
    """One attempt at storing ``batch`` and its rollup deltas; the rows inserted.

    ``conn`` is in autocommit mode; each path is one transaction of its own.
    ``ordered`` skips the COPY into ``events`` for the path that inserts in key order:
    slower, but it cannot deadlock with another writer of the same events.
    """
    if conn not in _prepared:
        # Outside any transaction, so that a rolled-back write keeps the tables.
        conn.execute(_STAGE_SQL)
        conn.execute(FINE_TABLE_SQL)
        _prepared.add(conn)
    if not ordered:
        try:
            with conn.transaction(), conn.cursor() as cur:
                with cur.copy(_COPY_EVENTS_SQL) as copy:
                    copy.write(batch.data)
                _insert_deltas(cur, batch.table)
            return batch.table
        except psycopg.errors.UniqueViolation:
            pass  # a replay, in part or whole
    with conn.transaction(), conn.cursor() as cur:
        with cur.copy(_COPY_STAGE_SQL) as copy:
            copy.write(batch.data)
        keys = cur.execute(_INSERT_NEW_SQL).fetchall()
        if not keys:
            return batch.table.slice(0, 0)
        inserted = pa.table(
            {
                "tenant_id": pa.array([k[0] for k in keys], pa.string()),
                "event_id": pa.array([k[1] for k in keys], pa.string()),
            }
        )
        new = batch.table.join(inserted, ["tenant_id", "event_id"], join_type="left semi")
        _insert_deltas(cur, new)
    return new


def _insert_deltas(cur: psycopg.Cursor[Any], events: pa.Table) -> None:
    """Add the minute and hour rollup deltas of ``events`` (all of them inserted)."""
    with cur.copy(_COPY_FINE_SQL) as copy:
        copy.write(csv_bytes(fine_deltas(events)))
    cur.execute(_INSERT_DELTAS_SQL)


__all__ = ["Batch", "insert", "prepare"]
