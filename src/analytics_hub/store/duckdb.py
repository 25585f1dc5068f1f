"""The embedded event store: one DuckDB file, written by one writer, read by many.

Concurrency: DuckDB is multi-version, so readers never wait for the writer. Every
write (events, dead letters, retention, compaction, migrations, the health probe) holds
one lock and runs on one dedicated cursor; every reading thread gets its own cursor
(a DuckDB connection must not be shared by threads running statements at once).

Idempotency without a primary key: ``docs/decisions/0001-dedupe-by-anti-join.md``.
The rollup SQL lives in :mod:`analytics_hub.store.duckdb_rollups`, the schema in
:mod:`analytics_hub.store.duckdb_schema`, dead letters in
:mod:`analytics_hub.store.duckdb_deadletters`, retention and compaction in
:mod:`analytics_hub.store.duckdb_maintenance`, re-pricing in
:mod:`analytics_hub.store.duckdb_pricing`, anomalies in
:mod:`analytics_hub.store.duckdb_anomalies`, OTLP metric points in
:mod:`analytics_hub.store.duckdb_metric_points`.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from analytics_hub.errors import HubError, UnavailableError
from analytics_hub.events.columns import EVENT_SCHEMA
from analytics_hub.store import duckdb_deadletters as dl
from analytics_hub.store import duckdb_maintenance as maintenance
from analytics_hub.store import duckdb_pricing as pricing
from analytics_hub.store.base import (
    DeadLetter,
    DeadLetterRecord,
    QueryRows,
    Repricer,
    RepriceReport,
    RetentionPolicy,
    RetentionReport,
    WriteResult,
)
from analytics_hub.store.batches import check_event_batch
from analytics_hub.store.duckdb_anomalies import DuckDBAnomalies
from analytics_hub.store.duckdb_metric_points import DuckDBMetricPoints
from analytics_hub.store.duckdb_rollups import fine_from_events_sql, merge_sql
from analytics_hub.store.duckdb_schema import LEDGER_SQL, MIGRATIONS
from analytics_hub.store.rollup_tables import ROLLUPS

log = logging.getLogger(__name__)

# Errors that mean "the database cannot be used right now" rather than "this code is
# wrong": the file is locked, the disk is full, or DuckDB invalidated the instance after
# a failed write-ahead-log flush.
_UNAVAILABLE = (duckdb.IOException, duckdb.FatalException)

# The positions of the rows of a batch that are new: the first of each
# (tenant_id, event_id) in the batch, unless an event with that key is already stored
# with a claimed_ts inside the batch's claimed_ts range. The range restriction lets
# DuckDB skip every row group whose zone map lies outside it, so the anti-join reads
# only the recent part of the table however large it grows.
_NEW_ROWS_SQL = """
SELECT min(k.i) AS i
FROM _keys AS k
ANTI JOIN (
    SELECT tenant_id, event_id FROM events WHERE claimed_ts BETWEEN $lo AND $hi
) AS e ON e.tenant_id = k.tenant_id AND e.event_id = CAST(k.event_id AS UUID)
GROUP BY k.tenant_id, CAST(k.event_id AS UUID)
"""
_INSERT_EVENTS_SQL = "INSERT INTO events SELECT * FROM _batch"
# A commit's fine relation (its rollup deltas per minute and latency bin) goes into a
# temporary table of the writer's connection, and the rollup tables are appended from
# there: nothing of it travels through Python. Every Python object DuckDB reads, or
# hands back, takes the interpreter lock, and under ingest the lock is busy: such
# hand-offs, not the SQL, were most of a commit (decision 0030).
_FINE_TABLE = "_commit_fine"
_FINE_SQL = fine_from_events_sql("_batch")
_CREATE_FINE_SQL = f"CREATE TEMP TABLE IF NOT EXISTS {_FINE_TABLE} AS {_FINE_SQL} LIMIT 0"
_FILL_FINE_SQL = f"INSERT INTO {_FINE_TABLE} {_FINE_SQL}"
_CLEAR_FINE_SQL = f"DELETE FROM {_FINE_TABLE}"
# The fine relation is per minute and every dimension: only the full minute rollup can
# take it as it is; the others fold minutes into hours or assets and models together.
_INSERT_ROLLUP_SQL = {
    r.name: f"INSERT INTO {r.name} "
    + merge_sql(
        _FINE_TABLE, r.unit, regroup=not (r.full and r.unit == "minute"), dimensions=r.dimensions
    )
    for r in ROLLUPS
}
# Statements that read only the scratch table are prepared once per store: DuckDB's
# parser and planner took about a third of each (1.3-1.7 of 4-6 ms, with an empty
# scratch table). Those that read a registered Arrow batch are not: a prepared
# statement kept reading the batch it was prepared with.
_PREPARED_FOLD = {
    **{f"_fold_{name}": sql for name, sql in _INSERT_ROLLUP_SQL.items()},
    "_clear_fine": _CLEAR_FINE_SQL,
}


def duckdb_config(
    *, memory_limit: str = "512MB", threads: int = 0, checkpoint_threshold: str = "256MB"
) -> dict[str, Any]:
    """The DuckDB settings the store opens its database with (also used by the bench)."""
    config: dict[str, Any] = {
        "memory_limit": memory_limit,
        "checkpoint_threshold": checkpoint_threshold,
        # Rows within a batch need no order; letting DuckDB write them in any order
        # allows parallel appends and less buffering.
        "preserve_insertion_order": False,
    }
    if threads > 0:
        config["threads"] = threads
    return config


def naive_utc(moment: datetime) -> datetime:
    """``moment`` as a naive UTC datetime (how every timestamp is stored); naive is UTC."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class DuckDBStore(DuckDBAnomalies, DuckDBMetricPoints):
    """:class:`~analytics_hub.store.base.EventStore` on one DuckDB database file.

    Opening an existing file continues it. Call :meth:`migrate` once after opening
    (the assembly does, at startup) before anything else.
    """

    dialect = "duckdb"

    def __init__(
        self,
        path: Path | str,
        *,
        memory_limit: str = "512MB",
        threads: int = 0,
        checkpoint_threshold: str = "512MB",
        quiet_checkpoint_bytes: int = 64 << 20,
        housekeeping_log_bytes: int = 256 << 20,
    ) -> None:
        """Open (or create) the database at ``path``.

        ``threads`` 0 lets DuckDB use every core. ``checkpoint_threshold`` is how much
        write-ahead log may pile up before DuckDB folds it into the file: DuckDB's 16 MB
        default checkpoints after nearly every 50k-event commit, which halves append speed
        (the bench in ``bench/store_write.py`` shows it); the price of a larger value is
        a longer log replay when the process restarts after a crash.

        DuckDB checkpoints inside the commit that takes the log past the threshold, which
        then takes 0.5 to 2 s longer; :meth:`quiet_moment` checkpoints earlier, once the
        log holds ``quiet_checkpoint_bytes``, when that pause costs least. Under sustained
        ingest :meth:`housekeeping_due` asks the writer for such a moment once the log
        holds ``housekeeping_log_bytes``; ``checkpoint_threshold`` stays above it (by
        more than one commit's log) as the backstop where nobody asks.
        """
        self.path = Path(path)
        self._quiet_checkpoint_bytes = quiet_checkpoint_bytes
        self._housekeeping_log_bytes = housekeeping_log_bytes
        config = duckdb_config(
            memory_limit=memory_limit, threads=threads, checkpoint_threshold=checkpoint_threshold
        )
        try:
            self._con = duckdb.connect(str(self.path), config=config)
        except _UNAVAILABLE as exc:
            raise UnavailableError(f"cannot open the event store at {self.path}: {exc}") from exc
        self._writer = self._con.cursor()
        # The commit's scratch table: temporary (in memory, never in the log), made once.
        self._writer.register("_batch", EVENT_SCHEMA.empty_table())
        self._writer.execute(_CREATE_FINE_SQL)
        self._writer.unregister("_batch")
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._readers: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()
        self._readers_lock = threading.Lock()
        self._closed = False
        self._positions = pa.array([], type=pa.int32())
        self._fold_prepared = False

    # -- connections ------------------------------------------------------------------

    def _reader(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor, made on first use.

        Held in thread-local storage so that it is released with its thread; the weak
        set only lets :meth:`close` reach the cursors of threads still alive.
        """
        if self._closed:
            raise UnavailableError("the event store is closed")
        cursor: duckdb.DuckDBPyConnection | None = getattr(self._local, "cursor", None)
        if cursor is None:
            with self._readers_lock:
                if self._closed:
                    raise UnavailableError("the event store is closed")
                cursor = self._con.cursor()
                self._readers.add(cursor)
            self._local.cursor = cursor
        return cursor

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The writer cursor inside one transaction, under the write lock."""
        with self._write_lock:
            if self._closed:
                raise UnavailableError("the event store is closed")
            con = self._writer
            try:
                con.execute("BEGIN TRANSACTION")
                try:
                    yield con
                except BaseException:
                    self._rollback(con)
                    raise
                con.execute("COMMIT")
            except _UNAVAILABLE as exc:
                raise UnavailableError(f"event store write failed: {exc}") from exc

    @staticmethod
    def _rollback(con: duckdb.DuckDBPyConnection) -> None:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:  # already rolled back by DuckDB after the failure
            log.debug("rollback after a failed write was not needed", exc_info=True)

    def _row_positions(self, n: int) -> pa.Array:
        # A cached 0..n-1, sliced per batch: building it anew each time costs a few ms.
        # Read once into a local: another thread may swap in a different cached array.
        positions = self._positions
        if len(positions) < n:
            positions = pa.array(range(max(n, 2 * len(positions))), type=pa.int32())
            self._positions = positions
        return positions.slice(0, n)

    # -- schema -------------------------------------------------------------------------

    def migrate(self) -> list[int]:
        """Apply pending migrations in order, each in its own transaction."""
        applied: list[int] = []
        with self._write_lock:
            if self._closed:
                raise UnavailableError("the event store is closed")
            con = self._writer
            con.execute(LEDGER_SQL)
            done = {v for (v,) in con.execute("SELECT version FROM schema_migrations").fetchall()}
            known = max(m.version for m in MIGRATIONS)
            if done and max(done) > known:
                raise HubError(
                    f"{self.path} has schema version {max(done)}, newer than this hub "
                    f"knows ({known}); upgrade the hub"
                )
            for migration in MIGRATIONS:
                if migration.version in done:
                    continue
                con.execute("BEGIN TRANSACTION")
                try:
                    con.execute(migration.sql)
                    con.execute(
                        "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                        [migration.version, migration.name, _utcnow()],
                    )
                    con.execute("COMMIT")
                except BaseException:
                    self._rollback(con)
                    raise
                applied.append(migration.version)
        return applied

    def schema_version(self) -> int:
        """The highest applied migration version (0 for a new file)."""
        cursor = self._reader()
        exists = cursor.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'schema_migrations'"
        ).fetchone()
        if not exists or not exists[0]:
            return 0
        row = cursor.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    # -- events -------------------------------------------------------------------------

    def write_events(self, table: pa.Table) -> WriteResult:
        """Store new events and their rollup deltas in one transaction (see the port)."""
        n = table.num_rows
        if n == 0:
            return WriteResult(inserted=0, duplicates=0, new_rows=table)
        check_event_batch(table)
        bounds = pc.min_max(table.column("claimed_ts"))
        params = {"lo": bounds["min"].as_py(), "hi": bounds["max"].as_py()}
        keys = pa.table(
            {
                "tenant_id": table.column("tenant_id"),
                "event_id": table.column("event_id"),
                "i": self._row_positions(n),
            }
        )
        try:
            return self._write_new(table, keys, params)
        except (duckdb.ConversionException, duckdb.ConstraintException) as exc:
            # A value the schema allows but the table does not (an event_id that is not
            # a UUID): the caller's bug, reported like a schema mismatch.
            raise ValueError(f"batch rejected by the event store: {exc}") from exc

    def _write_new(self, table: pa.Table, keys: pa.Table, params: dict[str, Any]) -> WriteResult:
        """The transaction of :meth:`write_events`: dedupe, insert, rollup deltas."""
        n = table.num_rows
        # Registrations are part of the transaction: a rollback removes them, so they
        # are unregistered on success only (unregistering in an aborted transaction
        # would fail and hide the original error).
        with self._transaction() as con:
            con.register("_keys", keys)
            keep = con.sql(_NEW_ROWS_SQL, params=params).to_arrow_table().column("i")
            con.unregister("_keys")
            inserted = len(keep)
            if inserted == 0:
                return WriteResult(inserted=0, duplicates=n, new_rows=table.slice(0, 0))
            if inserted < n:
                # Keep the batch's order: rows stay clustered by time for the zone maps.
                table = table.take(pc.take(keep, pc.sort_indices(keep)))
            con.register("_batch", table)
            con.execute(_INSERT_EVENTS_SQL)
            con.execute(_FILL_FINE_SQL)
            con.unregister("_batch")
            self._fold(con)
        return WriteResult(inserted=inserted, duplicates=n - inserted, new_rows=table)

    def _fold(self, con: duckdb.DuckDBPyConnection) -> None:
        """Append the rollups from the scratch table and empty it (prepared statements,
        made on the first commit: the migrations have made the rollup tables by then)."""
        try:
            if not self._fold_prepared:
                for name, sql in _PREPARED_FOLD.items():
                    con.execute(f"PREPARE {name} AS {sql}")
                self._fold_prepared = True
            for name in _PREPARED_FOLD:
                con.execute(f"EXECUTE {name}")
        except BaseException:
            self._fold_prepared = False  # whatever failed, the next commit prepares anew
            raise

    def fetch(self, sql: str, params: Sequence[object]) -> QueryRows:
        """Run one read-only statement (a single SELECT) on this thread's cursor."""
        cursor = self._reader()
        statements = cursor.extract_statements(sql)
        if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
            raise ValueError("fetch runs exactly one SELECT statement")
        try:
            cursor.execute(sql, list(params))
            columns = [d[0] for d in cursor.description or []]
            rows = cursor.fetchall()
        except _UNAVAILABLE as exc:
            raise UnavailableError(f"event store read failed: {exc}") from exc
        return QueryRows(columns=columns, rows=rows)

    # -- dead letters -------------------------------------------------------------------

    def write_dead_letters(self, letters: Sequence[DeadLetter]) -> None:
        """Append rejected events; one already stored (same tenant and id) is kept as is."""
        if not letters:
            return
        with self._transaction() as con:
            dl.insert(con, letters)

    def list_dead_letters(
        self, tenant_id: str, *, limit: int, before: str | None = None, status: str | None = None
    ) -> list[DeadLetterRecord]:
        """A tenant's dead letters, newest first, after the one with id ``before``."""
        return dl.page(self._reader(), tenant_id, limit=limit, before=before, status=status)

    def get_dead_letters(self, tenant_id: str, ids: Sequence[str]) -> list[DeadLetterRecord]:
        """The named dead letters of one tenant, newest first; unknown ids are left out."""
        if not ids:
            return []
        return dl.get(self._reader(), tenant_id, ids)

    def mark_dead_letters_replayed(self, tenant_id: str, ids: Sequence[str]) -> int:
        """Mark pending dead letters as replayed now; returns how many changed."""
        if not ids:
            return 0
        with self._transaction() as con:
            return dl.mark_replayed(con, tenant_id, ids, _utcnow())

    # -- maintenance --------------------------------------------------------------------

    def apply_retention(
        self, now: datetime, default: RetentionPolicy, per_tenant: dict[str, RetentionPolicy]
    ) -> RetentionReport:
        """Delete rows older than their table's retention, per tenant, in one transaction."""
        with self._transaction() as con:
            deleted = maintenance.apply_retention(con, naive_utc(now), default, per_tenant)
        return RetentionReport(deleted=deleted)

    def compact_rollups(self, older_than: datetime) -> int:
        """Merge the rollup deltas of buckets before ``older_than``, in one transaction.

        Returns the number of rollup rows removed. Readers see the rollups before or
        after, never in between; sums, minima, maxima and histograms are unchanged.
        """
        with self._transaction() as con:
            return maintenance.compact_rollups(con, naive_utc(older_than))

    def reprice(
        self,
        tenant_id: str,
        start: datetime,
        end: datetime,
        repricer: Repricer,
        *,
        recompute: bool = False,
    ) -> RepriceReport:
        """Price model calls again, one transaction per time slice (see the port)."""
        lo, hi = naive_utc(start), naive_utc(end)
        args = (self._reader(), self._transaction, tenant_id, lo, hi, repricer)
        return pricing.reprice(*args, recompute=recompute)

    def check(self) -> None:
        """Raise UnavailableError unless a write and a read of ``_health`` both work."""
        now = _utcnow()
        try:
            with self._transaction() as con:
                con.execute("INSERT OR REPLACE INTO _health VALUES (1, ?)", [now])
            rows = self.fetch("SELECT checked_at FROM _health WHERE id = 1", []).rows
        except duckdb.Error as exc:
            raise UnavailableError(f"event store check failed: {exc}") from exc
        if rows != [(now,)]:
            raise UnavailableError("event store check read back something else than it wrote")

    def _log_bytes(self) -> int:
        """The size of the write-ahead log (0 when there is none)."""
        try:
            return self.path.with_name(self.path.name + ".wal").stat().st_size
        except OSError:
            return 0  # no log: nothing written since the last checkpoint

    def housekeeping_due(self, *, at_quiet_moment: bool = False) -> bool:
        """True once the write-ahead log holds ``housekeeping_log_bytes`` (with
        ``at_quiet_moment``: ``quiet_checkpoint_bytes``): the writer should hold ingest
        back and call :meth:`quiet_moment` (see the port)."""
        limit = self._quiet_checkpoint_bytes if at_quiet_moment else self._housekeeping_log_bytes
        return not self._closed and self._log_bytes() >= limit

    def quiet_moment(self) -> None:
        """Checkpoint now if the write-ahead log holds ``quiet_checkpoint_bytes`` or more:
        the commit that would have crossed the threshold (a minute's anomalies, a batch
        a client waits to see) then does not pay for it."""
        size = self._log_bytes()
        if size < self._quiet_checkpoint_bytes:
            return
        with self._write_lock:
            if self._closed:
                return
            began = time.perf_counter()
            try:
                self._writer.execute("CHECKPOINT")
            except duckdb.Error as exc:  # readers busy: a later moment, or DuckDB, will
                log.debug("quiet checkpoint skipped: %s", exc)
                return
        log.debug(
            "checkpointed %d MB of log at a quiet moment in %d ms",
            size >> 20, round((time.perf_counter() - began) * 1000),
        )  # fmt: skip

    def close(self) -> None:
        """Checkpoint (so the next open replays no log) and close. Idempotent."""
        with self._write_lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._writer.execute("CHECKPOINT")
            except duckdb.Error:  # readers still busy: DuckDB checkpoints on close anyway
                log.warning("checkpoint on close failed", exc_info=True)
            with self._readers_lock:
                for cursor in list(self._readers):
                    cursor.close()
            self._writer.close()
            self._con.close()


__all__ = ["DuckDBStore", "duckdb_config", "naive_utc"]
