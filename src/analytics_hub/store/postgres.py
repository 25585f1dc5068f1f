"""The distributed event store: PostgreSQL through psycopg 3 and two connection pools.

Concurrency: PostgreSQL is multi-version and the schema makes writes safe to run side
by side (the idempotency key is a unique index, ``ON CONFLICT DO NOTHING`` waits for a
concurrent writer of the same key and then skips it), so there is no store-wide write
lock: any number of threads and processes may write and read at once. Reads use a pool
of sessions that are read-only by default; writes and maintenance use another pool, so
a burst of queries never starves the writer of connections.

A write (``docs/decisions/0013-postgres-writes.md``, :mod:`~analytics_hub.store.postgres_writes`)
is one transaction: COPY of the batch, rendered as CSV by Arrow, straight into
``events`` (or, when a key is already stored, into a staging table and from there with
``ON CONFLICT DO NOTHING``), then the minute and hour rollup deltas of exactly the rows
inserted, computed in Arrow and folded into rollup rows by SQL.

The schema lives in :mod:`~analytics_hub.store.postgres_schema`, day partitions in
:mod:`~analytics_hub.store.postgres_partitions`, dead letters in
:mod:`~analytics_hub.store.postgres_deadletters`, retention and compaction in
:mod:`~analytics_hub.store.postgres_maintenance`, re-pricing in
:mod:`~analytics_hub.store.postgres_pricing`, anomalies in
:mod:`~analytics_hub.store.postgres_anomalies`, OTLP metric points in
:mod:`~analytics_hub.store.postgres_metric_points`.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pyarrow as pa
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from analytics_hub.errors import HubError, UnavailableError
from analytics_hub.store import postgres_deadletters as dl
from analytics_hub.store import postgres_maintenance as maintenance
from analytics_hub.store import postgres_partitions as partitions
from analytics_hub.store import postgres_pricing as pricing
from analytics_hub.store import postgres_writes as writes
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
from analytics_hub.store.postgres_anomalies import PostgresAnomalies
from analytics_hub.store.postgres_metric_points import PostgresMetricPoints
from analytics_hub.store.postgres_schema import LEDGER_SQL, MIGRATION_LOCK, MIGRATIONS
from analytics_hub.store.postgres_statements import numbered

log = logging.getLogger(__name__)

_QUERY_KEYWORDS = frozenset({"SELECT", "WITH", "VALUES"})
_ONE_SELECT = "fetch runs exactly one SELECT statement"
# Two writers inserting shared keys in opposite orders deadlock; PostgreSQL aborts one,
# which tries again on the key-ordered path (see postgres_writes.insert).
_RETRY = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)
_WRITE_ATTEMPTS = 4
# The write path creates partitions for at most this many new days per batch; rows of
# other days wait in the default partition (one bad batch must not make 10,000 tables).
_MAX_NEW_PARTITIONS = 62


def _naive_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class PostgresStore(PostgresAnomalies, PostgresMetricPoints):
    """:class:`~analytics_hub.store.base.EventStore` on one PostgreSQL database.

    ``url`` is a libpq URL (``postgresql://user@host:5432/db``; options such as
    ``?options=-csearch_path%3Dhub`` choose a schema). Call :meth:`migrate` once after
    opening (the assembly does, at startup) before anything else.
    """

    dialect = "postgres"

    def __init__(
        self,
        url: str,
        *,
        read_pool_size: int = 8,
        write_pool_size: int = 4,
        partitions_ahead_days: int = 3,
        connect_timeout: float = 10.0,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        """Open the pools (waiting up to ``connect_timeout`` s for a first connection).

        ``partitions_ahead_days``: day partitions are kept ready from today to this
        many days ahead (by :meth:`migrate`, retention and the write path).
        """
        self.url = url
        self._ahead = partitions_ahead_days
        self._clock = clock
        self._closed = False
        self._close_lock = threading.Lock()
        self._check_lock = threading.Lock()
        self._partition_lock = threading.Lock()
        self._days: frozenset[date] = frozenset()
        # A row of its own in _health, so that hubs sharing the database never read
        # back each other's probe.
        self._health_id = secrets.randbelow(2**31)
        try:  # one plain connection first: a wrong URL or a down server fails at once
            psycopg.connect(url, connect_timeout=max(1, round(connect_timeout))).close()
        except psycopg.Error as exc:
            raise UnavailableError(f"cannot connect to the event store: {exc}") from exc
        kwargs: dict[str, Any] = {"autocommit": True, "prepare_threshold": None}
        self._read_pool = self._pool("hub-read", read_pool_size, kwargs, read_only=True)
        self._write_pool = self._pool("hub-write", write_pool_size, kwargs, read_only=False)
        try:
            for pool in (self._read_pool, self._write_pool):
                pool.open(wait=True, timeout=connect_timeout)
        except PoolTimeout as exc:
            self._read_pool.close()
            self._write_pool.close()
            raise UnavailableError(f"cannot connect to the event store: {exc}") from exc

    def _pool(
        self, name: str, size: int, kwargs: dict[str, Any], *, read_only: bool
    ) -> ConnectionPool[psycopg.Connection[Any]]:
        def configure(conn: psycopg.Connection[Any]) -> None:
            # Stored timestamps are naive UTC: a zone-aware parameter must compare in UTC.
            conn.execute("SET TIME ZONE 'UTC'")
            if read_only:
                conn.execute("SET default_transaction_read_only = on")

        return ConnectionPool(
            self.url,
            min_size=1,
            max_size=max(1, size),
            kwargs=kwargs,
            configure=configure,
            check=ConnectionPool.check_connection,  # a restarted server leaves dead ones
            name=name,
            open=False,
            timeout=10.0,
            num_workers=1,
        )

    # -- connections ------------------------------------------------------------------

    @contextmanager
    def _connection(
        self, pool: ConnectionPool[psycopg.Connection[Any]], timeout: float | None = None
    ) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection; connection failures become UnavailableError."""
        if self._closed:
            raise UnavailableError("the event store is closed")
        try:
            with pool.connection(timeout=timeout) as conn:
                yield conn
        except (PoolTimeout, PoolClosed) as exc:
            if self._closed:
                raise UnavailableError("the event store is closed") from exc
            raise UnavailableError(f"no connection to the event store: {exc}") from exc
        except _RETRY:
            raise  # the caller may try again
        except psycopg.errors.LockNotAvailable:
            raise  # a lock_timeout the caller set: it knows what to do instead
        except psycopg.OperationalError as exc:
            raise UnavailableError(f"event store failed: {exc}") from exc

    def _read(self) -> AbstractContextManager[psycopg.Connection[Any]]:
        """A pooled read-only connection."""
        return self._connection(self._read_pool)

    @contextmanager
    def _transaction(self, *, isolation: str | None = None) -> Iterator[psycopg.Connection[Any]]:
        """A writer connection inside one transaction."""
        with self._connection(self._write_pool) as conn, conn.transaction():
            if isolation is not None:
                conn.execute(f"SET TRANSACTION ISOLATION LEVEL {isolation}")
            yield conn

    # -- schema -------------------------------------------------------------------------

    def migrate(self) -> list[int]:
        """Apply pending migrations in order, each in its own transaction, then make
        sure the day partitions ahead exist. Concurrent callers wait for each other."""
        applied: list[int] = []
        with self._connection(self._write_pool) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK])
            try:
                conn.execute(LEDGER_SQL)
                done = {v for (v,) in conn.execute("SELECT version FROM schema_migrations")}
                known = max(m.version for m in MIGRATIONS)
                if done and max(done) > known:
                    raise HubError(
                        f"the database has schema version {max(done)}, newer than this hub "
                        f"knows ({known}); upgrade the hub"
                    )
                for migration in MIGRATIONS:
                    if migration.version in done:
                        continue
                    with conn.transaction():
                        conn.execute(migration.sql)
                        conn.execute(
                            "INSERT INTO schema_migrations VALUES (%s, %s, %s)",
                            [migration.version, migration.name, _utcnow()],
                        )
                    applied.append(migration.version)
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK])
        self.ensure_partitions()
        return applied

    def schema_version(self) -> int:
        """The highest applied migration version (0 for a new database)."""
        exists = self.fetch("SELECT to_regclass('schema_migrations') IS NOT NULL", []).rows
        if not exists[0][0]:
            return 0
        version = self.fetch("SELECT max(version) FROM schema_migrations", []).rows[0][0]
        return int(version) if version is not None else 0

    def ensure_partitions(self, days: Sequence[date] = ()) -> list[date]:
        """Create the day partitions of ``days`` and of today up to the days ahead.

        Days later than that horizon are left to the default partition. Returns the
        days created; a partition that could not be created for a lock held too long is
        logged and left for the next call.
        """
        today = self._clock().date()
        horizon = today + timedelta(days=self._ahead)
        wanted = {today + timedelta(days=k) for k in range(self._ahead + 1)}
        wanted.update(d for d in days if d <= horizon)
        if wanted <= self._days:
            return []
        with self._partition_lock, self._connection(self._write_pool) as conn:
            self._days = frozenset(partitions.existing_days(conn))
            # Today and the days ahead first, then the rest (a backfill) oldest first.
            missing = sorted(wanted - self._days, key=lambda d: (d < today, d))
            missing = missing[:_MAX_NEW_PARTITIONS]
            if not missing:
                return []
            try:
                created = partitions.create_days(conn, missing)
            except psycopg.errors.LockNotAvailable:
                log.warning("could not create event partitions now; rows wait in the default")
                created = []
            self._days = frozenset(partitions.existing_days(conn))
        return created

    # -- events -------------------------------------------------------------------------

    def write_events(self, table: pa.Table) -> WriteResult:
        """Store new events and their rollup deltas in one transaction (see the port).

        The key of an event is ``(tenant_id, event_id, claimed_ts)``; a batch keeps the
        first row of each ``(tenant_id, event_id)`` it repeats.
        """
        n = table.num_rows
        if n == 0:
            return WriteResult(inserted=0, duplicates=0, new_rows=table)
        batch = writes.prepare(table)
        self.ensure_partitions(batch.days)
        ordered = False
        for attempt in range(1, _WRITE_ATTEMPTS + 1):
            try:
                with self._connection(self._write_pool) as conn:
                    new_rows = writes.insert(conn, batch, ordered=ordered)
            except _RETRY as exc:
                if attempt == _WRITE_ATTEMPTS:
                    raise UnavailableError(f"event store write kept failing: {exc}") from exc
                log.info("event write retried after %s", type(exc).__name__)
                ordered = True
                continue
            except (psycopg.DataError, psycopg.IntegrityError) as exc:
                # A value the schema allows but the table does not (an event_id that is
                # not a UUID): the caller's bug, reported like a schema mismatch.
                raise ValueError(f"batch rejected by the event store: {exc}") from exc
            inserted = int(new_rows.num_rows)
            return WriteResult(inserted=inserted, duplicates=n - inserted, new_rows=new_rows)
        raise AssertionError("unreachable")  # pragma: no cover

    def fetch(self, sql: str, params: Sequence[object]) -> QueryRows:
        """Run one read-only statement (a single query) with ``?`` placeholders."""
        statement = numbered(sql)
        if statement.keyword not in _QUERY_KEYWORDS:
            raise ValueError(_ONE_SELECT)
        if statement.placeholders != len(params):
            raise ValueError(
                f"the statement has {statement.placeholders} placeholders"
                f" but {len(params)} parameters"
            )
        with self._connection(self._read_pool) as conn, psycopg.RawCursor(conn) as cur:
            try:
                # binary=True also forces the extended protocol: one statement only.
                cur.execute(statement.sql, list(params), binary=True)
            except psycopg.errors.ReadOnlySqlTransaction as exc:
                raise ValueError(_ONE_SELECT) from exc
            except psycopg.errors.SyntaxError as exc:
                if "multiple commands" in str(exc):
                    raise ValueError(_ONE_SELECT) from exc
                raise
            columns = [d.name for d in cur.description or []]
            rows = cur.fetchall()
        return QueryRows(columns=columns, rows=rows)

    # -- dead letters -------------------------------------------------------------------

    def write_dead_letters(self, letters: Sequence[DeadLetter]) -> None:
        """Append rejected events; one already stored (same tenant and id) is kept as is."""
        if not letters:
            return
        with self._transaction() as conn:
            dl.insert(conn, letters)

    def list_dead_letters(
        self, tenant_id: str, *, limit: int, before: str | None = None, status: str | None = None
    ) -> list[DeadLetterRecord]:
        """A tenant's dead letters, newest first, after the one with id ``before``."""
        if status is not None and status not in dl.STATUSES:
            raise ValueError(f"status must be one of {dl.STATUSES}")
        with self._connection(self._read_pool) as conn:
            return dl.page(conn, tenant_id, limit=limit, before=before, status=status)

    def get_dead_letters(self, tenant_id: str, ids: Sequence[str]) -> list[DeadLetterRecord]:
        """The named dead letters of one tenant, newest first; unknown ids are left out."""
        if not ids:
            return []
        with self._connection(self._read_pool) as conn:
            return dl.get(conn, tenant_id, ids)

    def mark_dead_letters_replayed(self, tenant_id: str, ids: Sequence[str]) -> int:
        """Mark pending dead letters as replayed now; returns how many changed."""
        if not ids:
            return 0
        with self._transaction() as conn:
            return dl.mark_replayed(conn, tenant_id, ids, _utcnow())

    # -- maintenance --------------------------------------------------------------------

    def apply_retention(
        self, now: datetime, default: RetentionPolicy, per_tenant: dict[str, RetentionPolicy]
    ) -> RetentionReport:
        """Drop expired day partitions and delete older rows, per tenant, in one
        transaction; then create the partitions of the days ahead."""
        with self._transaction() as conn:
            deleted = maintenance.apply_retention(conn, _naive_utc(now), default, per_tenant)
        with self._partition_lock:
            self._days = frozenset()  # some were dropped: read them again next time
        self.ensure_partitions()
        return RetentionReport(deleted=deleted)

    def compact_rollups(self, older_than: datetime) -> int:
        """Merge the rollup deltas of buckets before ``older_than``, in one transaction.

        Returns the number of rollup rows removed; readers see the rollups before or
        after, never in between.
        """
        for attempt in (1, 2):
            try:
                with self._transaction(isolation="REPEATABLE READ") as conn:
                    return maintenance.compact_rollups(conn, _naive_utc(older_than))
            except psycopg.errors.SerializationFailure:  # retention deleted rows meanwhile
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

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
        with self._connection(self._read_pool) as conn:
            return pricing.reprice(
                conn,
                self._transaction,
                tenant_id,
                _naive_utc(start),
                _naive_utc(end),
                repricer,
                recompute=recompute,
            )

    def quiet_moment(self) -> None:
        """Nothing to do: PostgreSQL checkpoints in the background, off the commits."""

    def housekeeping_due(self, *, at_quiet_moment: bool = False) -> bool:
        """Never: PostgreSQL's checkpoints and vacuum do not stall a commit."""
        return False

    def check(self) -> None:
        """Raise UnavailableError unless a write and a read of ``_health`` both work."""
        now = _utcnow()
        with self._check_lock:
            try:
                with self._connection(self._write_pool, timeout=5.0) as conn:
                    conn.execute(
                        "INSERT INTO _health VALUES (%s, %s) ON CONFLICT (id)"
                        " DO UPDATE SET checked_at = EXCLUDED.checked_at",
                        [self._health_id, now],
                    )
                    # Rows of hubs long gone (each process probes under its own id).
                    conn.execute(
                        "DELETE FROM _health WHERE checked_at < %s", [now - timedelta(days=1)]
                    )
                rows = self.fetch(
                    "SELECT checked_at FROM _health WHERE id = ?", [self._health_id]
                ).rows
            except psycopg.Error as exc:
                raise UnavailableError(f"event store check failed: {exc}") from exc
        if rows != [(now,)]:
            raise UnavailableError("event store check read back something else than it wrote")

    def close(self) -> None:
        """Close both pools. Idempotent."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self._read_pool.close()
        self._write_pool.close()


__all__ = ["PostgresStore"]
