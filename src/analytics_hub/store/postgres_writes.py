"""The write path of the PostgreSQL store: a batch made ready, then one transaction.

See ``docs/decisions/0013-postgres-writes.md`` and ``0027-binary-copy.md``.
:func:`prepare` does what must be known before the transaction (schema check, repeats
inside the batch, the days it covers, the columns shaped for a binary COPY);
:func:`insert` runs one attempt of the transaction on a connection: COPY straight into
``events`` (rendering the rows and folding their rollup deltas while the server loads
them) and, when the unique key fails it (a replay), the staging-table path that skips
stored events. Either way the rollup deltas
are of exactly the rows inserted: rollup rows folded in Arrow
(:mod:`analytics_hub.store.rollup_rows`) and COPYed into the rollup tables in the same
transaction, with their buckets marked for compaction.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
from psycopg.copy import QueuedLibpqWriter

from analytics_hub.events.columns import COLUMN_NAMES
from analytics_hub.store.batches import check_event_batch
from analytics_hub.store.postgres_binary import binary_copy_sql, binary_pieces, shape_for_binary
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
# Rows per piece of a binary COPY: small enough that the server starts loading at once.
_PIECE_ROWS = 4096
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


@dataclass(slots=True)
class Batch:
    """A batch ready to write: its rows (first of each key) and their days, shaped for
    a binary COPY (``shaped``) or, when its ids do not allow that, rendered as CSV.

    The rollup deltas of all its rows (what a batch that replays nothing adds) are
    folded once, while PostgreSQL loads the rows (:meth:`all_deltas`).
    """

    table: pa.Table
    days: list[date]
    shaped: pa.RecordBatch | None
    csv: bytes = b""
    _deltas: RollupDeltas | None = field(default=None, init=False, repr=False)
    _folded: bool = field(default=False, init=False, repr=False)

    def all_deltas(self) -> RollupDeltas | None:
        """The rollup deltas of every row of the batch (folded on the first call)."""
        if not self._folded:
            self._deltas, self._folded = rollup_deltas(self.table), True
        return self._deltas


def prepare(table: pa.Table) -> Batch:
    """Check ``table`` (ValueError if not in ``EVENT_SCHEMA``) and make it ready.

    What must be known before the transaction (the days it needs, whether its ids allow
    the binary format) happens here; rendering the rows and folding the rollup deltas
    happen while PostgreSQL loads them (:func:`insert`).
    """
    check_event_batch(table)
    table = first_of_each_key(table)
    days = pc.unique(pc.floor_temporal(table.column("claimed_ts"), unit="day"))
    shaped = shape_for_binary(table, _UUID_COLUMNS)
    return Batch(
        table,
        [d.date() for d in days.to_pylist()],
        shaped,
        csv_bytes(table) if shaped is None else b"",
    )


def _copy_rows(cur: psycopg.Cursor[Any], batch: Batch, into: dict[bool, str]) -> None:
    """COPY the batch's rows (``into`` by format); the rows are rendered in pieces and
    the rollup deltas folded while the server loads the pieces before them (a queued
    writer thread sends them), so the writer's work overlaps PostgreSQL's."""
    binary = batch.shaped is not None
    with cur.copy(into[binary], writer=QueuedLibpqWriter(cur)) as copy:
        if batch.shaped is None:
            copy.write(batch.csv)
        else:
            for piece in binary_pieces(batch.shaped, _PIECE_ROWS):
                copy.write(piece)
        batch.all_deltas()


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
                _copy_rows(cur, batch, _COPY_EVENTS_SQL)
                copy_rollup_deltas(cur, batch.all_deltas())
            return batch.table
        except psycopg.errors.UniqueViolation:
            pass  # a replay, in part or whole
    with conn.transaction(), conn.cursor() as cur:
        _copy_rows(cur, batch, _COPY_STAGE_SQL)
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
        copy_rollup_deltas(cur, batch.all_deltas() if all_new else rollup_deltas(new))
    return new


__all__ = ["Batch", "RollupDeltas", "copy_rollup_deltas", "insert", "prepare", "rollup_deltas"]
