"""PostgreSQL control store: API keys, price overrides and dashboards shared by every hub
process that uses one PostgreSQL database (``HUB_STORE=postgresql://...``).

The same semantics as :class:`~analytics_hub.control.sqlite.SQLiteControlStore`: keys
are stored as digests, a dashboard is replaced only at the version its writer read (one
conditional UPDATE), and every query of price overrides and dashboards names its tenant.
PostgreSQL makes each statement atomic and visible to every process at commit, so the
store needs no lock of its own: statements run in autocommit on a small pool.

Schema (tables prefixed ``control_``, versioned in ``control_migrations``) in
:mod:`~analytics_hub.control.postgres_schema`; see
``docs/decisions/0017-control-plane-in-postgresql.md`` for why it shares the event store's
database and schema.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from analytics_hub.control import postgres_schema as schema
from analytics_hub.control.base import ApiKeyRecord, DashboardRecord, PriceOverrideRecord
from analytics_hub.errors import ConflictError, HubError, UnavailableError


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


class PostgresControlStore:
    """``ControlStore`` on one PostgreSQL database.

    ``url`` is a libpq URL, as for the event store (its ``search_path`` option chooses
    the schema). Call :meth:`migrate` once after opening (``open_control_store`` does).
    """

    def __init__(self, url: str, *, pool_size: int = 4, connect_timeout: float = 10.0) -> None:
        """Open the pool, waiting up to ``connect_timeout`` s for a first connection.

        ``pool_size``: most connections this process keeps; every authenticated request
        reads one key, a sub-millisecond statement, so a few serve many requests.
        """
        self.url = url
        self._closed = False
        self._close_lock = threading.Lock()
        try:  # one plain connection first: a wrong URL or a down server fails at once
            psycopg.connect(url, connect_timeout=max(1, round(connect_timeout))).close()
        except psycopg.Error as exc:
            raise UnavailableError(f"cannot connect to the control store: {exc}") from exc

        def configure(conn: psycopg.Connection[Any]) -> None:
            # timestamptz comes back in the session's zone: UTC, as the records are.
            conn.execute("SET TIME ZONE 'UTC'")

        self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            url,
            min_size=1,
            max_size=max(1, pool_size),
            # No prepared statements, as in the event store: safe behind PgBouncer.
            kwargs={"autocommit": True, "prepare_threshold": None},
            configure=configure,
            check=ConnectionPool.check_connection,  # a restarted server leaves dead ones
            name="hub-control",
            open=False,
            timeout=10.0,
            num_workers=1,
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout)
        except PoolTimeout as exc:
            self._pool.close()
            raise UnavailableError(f"cannot connect to the control store: {exc}") from exc

    # -- connections ------------------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled autocommit connection; connection failures become UnavailableError."""
        if self._closed:
            raise UnavailableError("the control store is closed")
        try:
            with self._pool.connection() as conn:
                yield conn
        except (PoolTimeout, PoolClosed) as exc:
            raise UnavailableError(f"no connection to the control store: {exc}") from exc
        except psycopg.OperationalError as exc:
            raise UnavailableError(f"control store failed: {exc}") from exc

    def _rows(self, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        with self._connection() as conn:
            return conn.execute(sql, params).fetchall()

    def _count(self, sql: str, params: Sequence[object]) -> int:
        with self._connection() as conn:
            return conn.execute(sql, params).rowcount

    # -- schema -------------------------------------------------------------------------

    def migrate(self) -> list[int]:
        """Apply pending migrations in order, each in its own transaction; return their
        versions. Processes migrating at once take turns (an advisory lock)."""
        applied: list[int] = []
        with self._connection() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", [schema.MIGRATION_LOCK])
            try:
                # Under the lock: two sessions creating the ledger at once could collide.
                conn.execute(schema.LEDGER_SQL)
                done = {v for (v,) in conn.execute("SELECT version FROM control_migrations")}
                known = schema.MIGRATIONS[-1].version
                if done and max(done) > known:
                    raise HubError(
                        f"the control store has schema version {max(done)}, newer than this"
                        f" hub knows ({known}); upgrade the hub"
                    )
                for migration in schema.MIGRATIONS:
                    if migration.version in done:
                        continue
                    with conn.transaction():
                        conn.execute(migration.sql)
                        conn.execute(
                            "INSERT INTO control_migrations VALUES (%s, %s, %s)",
                            [migration.version, migration.name, datetime.now(UTC)],
                        )
                    applied.append(migration.version)
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", [schema.MIGRATION_LOCK])
        return applied

    def schema_version(self) -> int:
        """The highest applied migration version (0 for a new database)."""
        if not self._rows("SELECT to_regclass('control_migrations') IS NOT NULL", [])[0][0]:
            return 0
        version = self._rows("SELECT max(version) FROM control_migrations", [])[0][0]
        return int(version) if version is not None else 0

    # -- keys ---------------------------------------------------------------------------

    def add_key(self, record: ApiKeyRecord) -> None:
        """Store a new key; ``ConflictError`` if its id is taken."""
        revoked = _utc(record.revoked_at) if record.revoked_at else None
        try:
            self._count(
                f"INSERT INTO control_api_keys ({schema.KEY_COLUMNS})"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [
                    record.key_id,
                    record.tenant_id,
                    record.role,
                    record.name,
                    record.secret_hash,
                    _utc(record.created_at),
                    revoked,
                ],
            )
        except psycopg.errors.UniqueViolation as exc:
            raise ConflictError(f"an API key with id {record.key_id!r} exists") from exc

    def get_key(self, key_id: str) -> ApiKeyRecord | None:
        """The key with this id, revoked or not (ids are unique across tenants)."""
        rows = self._rows(
            f"SELECT {schema.KEY_COLUMNS} FROM control_api_keys WHERE key_id = %s", [key_id]
        )
        return self._key(rows[0]) if rows else None

    def list_keys(self, tenant_id: str | None = None) -> list[ApiKeyRecord]:
        """All keys, or one tenant's, oldest first."""
        select = f"SELECT {schema.KEY_COLUMNS} FROM control_api_keys"
        if tenant_id is None:
            rows = self._rows(f"{select} ORDER BY created_at, key_id", [])
        else:
            rows = self._rows(
                f"{select} WHERE tenant_id = %s ORDER BY created_at, key_id", [tenant_id]
            )
        return [self._key(r) for r in rows]

    def revoke_key(self, key_id: str, at: datetime) -> bool:
        """Revoke a key; False if unknown or already revoked."""
        return (
            self._count(
                "UPDATE control_api_keys SET revoked_at = %s"
                " WHERE key_id = %s AND revoked_at IS NULL",
                [_utc(at), key_id],
            )
            == 1
        )

    # -- price overrides -------------------------------------------------------------------

    def put_price_override(self, record: PriceOverrideRecord) -> None:
        """Store an override, replacing the one of the same tenant, model and day."""
        self._count(
            schema.PUT_PRICE,
            [
                record.tenant_id,
                record.provider,
                record.model,
                record.valid_from,
                record.input,
                record.output,
                record.cached_input,
                record.reasoning,
                _utc(record.updated_at),
            ],
        )

    def list_price_overrides(self, tenant_id: str) -> list[PriceOverrideRecord]:
        """A tenant's overrides, by provider, model and ``valid_from``."""
        rows = self._rows(
            f"SELECT {schema.PRICE_COLUMNS} FROM control_price_overrides WHERE tenant_id = %s"
            " ORDER BY provider, model, valid_from",
            [tenant_id],
        )
        return [
            PriceOverrideRecord(
                tenant_id=r[0],
                provider=r[1],
                model=r[2],
                valid_from=r[3],
                input=r[4],
                output=r[5],
                cached_input=r[6],
                reasoning=r[7],
                updated_at=_utc(r[8]),
            )
            for r in rows
        ]

    def delete_price_overrides(
        self, tenant_id: str, provider: str, model: str, valid_from: date | None = None
    ) -> int:
        """Delete a tenant's overrides of one model (one day, or all); how many went."""
        sql = (
            "DELETE FROM control_price_overrides"
            " WHERE tenant_id = %s AND provider = %s AND model = %s"
        )
        params: list[object] = [tenant_id, provider, model]
        if valid_from is not None:
            sql += " AND valid_from = %s"
            params.append(valid_from)
        return self._count(sql, params)

    # -- dashboards -----------------------------------------------------------------------

    def add_dashboard(self, record: DashboardRecord) -> None:
        """Store a new dashboard; ``ConflictError`` if the tenant has one with its id."""
        try:
            self._count(
                f"INSERT INTO control_dashboards ({schema.DASHBOARD_COLUMNS})"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [
                    record.tenant_id,
                    record.dashboard_id,
                    record.name,
                    record.version,
                    record.document,
                    _utc(record.created_at),
                    _utc(record.updated_at),
                ],
            )
        except psycopg.errors.UniqueViolation as exc:
            raise ConflictError(f"a dashboard with id {record.dashboard_id!r} exists") from exc

    def get_dashboard(self, tenant_id: str, dashboard_id: str) -> DashboardRecord | None:
        """A tenant's dashboard, or None (also when another tenant has that id)."""
        rows = self._rows(
            f"SELECT {schema.DASHBOARD_COLUMNS} FROM control_dashboards"
            " WHERE tenant_id = %s AND dashboard_id = %s",
            [tenant_id, dashboard_id],
        )
        return self._dashboard(rows[0]) if rows else None

    def list_dashboards(self, tenant_id: str) -> list[DashboardRecord]:
        """A tenant's dashboards, by name (ASCII case-insensitive), then id."""
        rows = self._rows(
            f"SELECT {schema.DASHBOARD_COLUMNS} FROM control_dashboards WHERE tenant_id = %s"
            f" ORDER BY {schema.DASHBOARD_ORDER}",
            [tenant_id],
        )
        return [self._dashboard(r) for r in rows]

    def replace_dashboard(self, record: DashboardRecord, expected_version: int) -> bool:
        """Replace a dashboard if it is still at ``expected_version``; False if not."""
        return (
            self._count(
                schema.REPLACE_DASHBOARD,
                [
                    record.name,
                    record.version,
                    record.document,
                    _utc(record.updated_at),
                    record.tenant_id,
                    record.dashboard_id,
                    expected_version,
                ],
            )
            == 1
        )

    def delete_dashboard(self, tenant_id: str, dashboard_id: str) -> bool:
        """Delete a tenant's dashboard; False if it has none with that id."""
        return (
            self._count(
                "DELETE FROM control_dashboards WHERE tenant_id = %s AND dashboard_id = %s",
                [tenant_id, dashboard_id],
            )
            == 1
        )

    def close(self) -> None:
        """Close the pool. Idempotent."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self._pool.close()

    # -- rows -------------------------------------------------------------------------------

    @staticmethod
    def _key(row: tuple[Any, ...]) -> ApiKeyRecord:
        return ApiKeyRecord(
            key_id=row[0],
            tenant_id=row[1],
            role=row[2],
            name=row[3],
            secret_hash=row[4],
            created_at=_utc(row[5]),
            revoked_at=_utc(row[6]) if row[6] is not None else None,
        )

    @staticmethod
    def _dashboard(row: tuple[Any, ...]) -> DashboardRecord:
        return DashboardRecord(
            tenant_id=row[0],
            dashboard_id=row[1],
            name=row[2],
            version=row[3],
            document=row[4],
            created_at=_utc(row[5]),
            updated_at=_utc(row[6]),
        )


__all__ = ["PostgresControlStore"]
