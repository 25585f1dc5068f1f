"""The write path of the PostgreSQL store: a batch made ready, then one transaction.

See ``docs/decisions/0013-postgres-writes.md``. :func:`prepare` does the work that
needs no database (schema check, repeats inside the batch, CSV rendering, the days it
covers, the rollup rows it adds); :func:`insert` runs one attempt of the transaction
on a connection: COPY straight into ``events`` and, when the unique key fails it (a
replay), the staging-table path that skips stored events. Either way the rollup deltas
are of exactly the rows inserted: rollup rows folded in Arrow
(:mod:`analytics_hub.store.rollup_rows`) and COPYed into the rollup tables in the same
transaction, with their buckets marked for compaction.
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
from analytics_hub.store.postgres_binary import binary_bytes, binary_copy_sql
from analytics_hub.store.postgres_copy import (
    copy_sql,
    csv_bytes,
    first_of_each_key,
    with_array_literals,
)
from analytics_hub.store.rollup_deltas import fine_deltas
from analytics_hub.store.rollup_rows import dirty_marks, every_rollup_rows
from analytics_hub.store.rollup_tables import ROLLUPS

_STAGE_SQL = "CREATE TEMP TABLE IF NOT EXISTS _stage (LIKE events) ON COMMIT DELETE ROWS"
# The events go in PostgreSQL's binary format when their ids allow (see postgres_binary).
_UUID_COLUMNS = ("event_id", "parent_event_id")
_COPY_EVENTS_SQL = {
    False: copy_sql("events", COLUMN_NAMES),
    True: binary_copy_sql("events", COLUMN_NAMES),
}
_COPY_STAGE_SQL = {
    False: copy_sql("_stage", COLUMN_NAMES),
    True: binary_copy_sql("_stage", COLUMN_NAMES),
}
_COPY_ROLLUP_SQL = [copy_sql(r.name, r.columns) for r in ROLLUPS]
_COPY_DIRTY_SQL = copy_sql("rollup_dirty", ("rollup", "bucket"))
# Row by row in key order: two writers of shared keys wait for each other in the same
# order, so they cannot deadlock (COPY buffers rows per partition, which reorders them).
_INSERT_NEW_SQL = (
    f"INSERT INTO events ({', '.join(COLUMN_NAMES)}) SELECT {', '.join(COLUMN_NAMES)}"
    " FROM _stage ORDER BY tenant_id, event_id, claimed_ts"
    " ON CONFLICT DO NOTHING RETURNING tenant_id, CAST(event_id AS text)"
)

# Sessions that have the staging table of the write path (made once per session).
_prepared: weakref.WeakSet[psycopg.Connection[Any]] = weakref.WeakSet()


@dataclass(frozen=True, slots=True)
class RollupDeltas:
    """The rollup rows some events add, as the CSV of each rollup table's COPY (in the
    order of ``ROLLUPS``), and the buckets they touch, as the CSV of ``rollup_dirty``."""

    tables: list[bytes]
    dirty: bytes


def rollup_deltas(events: pa.Table) -> RollupDeltas | None:
    """The rollup deltas of ``events`` (``EVENT_SCHEMA``); None when there are none."""
    if not events.num_rows:
        return None
    fine = fine_deltas(events)
    tables = [csv_bytes(with_array_literals(rows)) for rows in every_rollup_rows(fine)]
    return RollupDeltas(tables, csv_bytes(dirty_marks(fine)))


def copy_rollup_deltas(cur: psycopg.Cursor[Any], deltas: RollupDeltas | None) -> None:
    """Append ``deltas`` to the rollup tables and mark their buckets for compaction."""
    if deltas is None:
        return
    for sql, body in zip(_COPY_ROLLUP_SQL, deltas.tables, strict=True):
        with cur.copy(sql) as copy:
            copy.write(body)
    with cur.copy(_COPY_DIRTY_SQL) as copy:
        copy.write(deltas.dirty)


@dataclass(frozen=True, slots=True)
class Batch:
    """A batch ready to write: its rows (first of each key), as the body of a COPY
    (binary, or CSV when ``binary`` is false), their days, and the rollup deltas of all
    of them (what a batch that replays nothing adds)."""

    table: pa.Table
    data: bytes
    days: list[date]
    deltas: RollupDeltas | None
    binary: bool = True


def prepare(table: pa.Table) -> Batch:
    """Check ``table`` (ValueError if not in ``EVENT_SCHEMA``) and make it ready.

    Everything that needs no database happens here, outside the transaction, so that a
    writer holds its locks only while PostgreSQL loads the rows.
    """
    check_event_batch(table)
    table = first_of_each_key(table)
    days = pc.unique(pc.floor_temporal(table.column("claimed_ts"), unit="day"))
    data = binary_bytes(table, _UUID_COLUMNS)
    return Batch(
        table,
        csv_bytes(table) if data is None else data,
        [d.date() for d in days.to_pylist()],
        rollup_deltas(table),
        binary=data is not None,
    )


def insert(conn: psycopg.Connection[Any], batch: Batch, *, ordered: bool = False) -> pa.Table:
    """One attempt at storing ``batch`` and its rollup deltas; the rows inserted.

    ``conn`` is in autocommit mode; each path is one transaction of its own.
    ``ordered`` skips the COPY into ``events`` for the path that inserts in key order:
    slower, but it cannot deadlock with another writer of the same events.
    """
    if conn not in _prepared:
        # Outside any transaction, so that a rolled-back write keeps the tables.
        conn.execute(_STAGE_SQL)
        _prepared.add(conn)
    if not ordered:
        try:
            with conn.transaction(), conn.cursor() as cur:
                with cur.copy(_COPY_EVENTS_SQL[batch.binary]) as copy:
                    copy.write(batch.data)
                copy_rollup_deltas(cur, batch.deltas)
            return batch.table
        except psycopg.errors.UniqueViolation:
            pass  # a replay, in part or whole
    with conn.transaction(), conn.cursor() as cur:
        with cur.copy(_COPY_STAGE_SQL[batch.binary]) as copy:
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
        all_new = new.num_rows == batch.table.num_rows
        copy_rollup_deltas(cur, batch.deltas if all_new else rollup_deltas(new))
    return new


__all__ = ["Batch", "RollupDeltas", "copy_rollup_deltas", "insert", "prepare", "rollup_deltas"]
