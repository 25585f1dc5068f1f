"""SQLite control store for embedded mode: a small file beside the event store.

SQLite in WAL mode lets the server and the command line (``analytics-hub keys``,
``analytics-hub prices import``) use the same file at once, which the embedded event store
(DuckDB, one process) cannot.

Schema changes are numbered migrations recorded in SQLite's ``user_version``: each runs
once, in order, inside ``BEGIN IMMEDIATE`` so that a server and a command opening the
file together cannot both apply one. Version 1 is the original key table (written with
``IF NOT EXISTS``, so files made before the ledger existed pass through it unchanged).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

from analytics_hub.control.base import ApiKeyRecord, DashboardRecord, PriceOverrideRecord
from analytics_hub.errors import ConflictError

_KEYS = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    role TEXT NOT NULL,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX IF NOT EXISTS api_keys_tenant ON api_keys (tenant_id);
"""

_PRICE_OVERRIDES = """
CREATE TABLE price_overrides (
    tenant_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    valid_from TEXT NOT NULL,          -- ISO day, UTC
    input REAL NOT NULL,               -- USD per million tokens
    output REAL NOT NULL,
    cached_input REAL,                 -- NULL: as input
    reasoning REAL,                    -- NULL: as output
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, provider, model, valid_from)
);
"""

_DASHBOARDS = """
CREATE TABLE dashboards (
    tenant_id TEXT NOT NULL,
    dashboard_id TEXT NOT NULL,
    name TEXT NOT NULL,                -- also inside document: kept apart for listing
    version INTEGER NOT NULL,          -- optimistic concurrency: +1 on every replace
    document TEXT NOT NULL,            -- JSON, shaped by the query feature
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, dashboard_id)
);
"""

# (version, SQL): applied in order; never edit one that was released.
MIGRATIONS: tuple[tuple[int, str], ...] = (
    (1, _KEYS),
    (2, _PRICE_OVERRIDES),
    (3, _DASHBOARDS),
)


def _ts(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


_DASHBOARD_COLUMNS = "tenant_id, dashboard_id, name, version, document, created_at, updated_at"


_BUSY_TIMEOUT_S = 10.0


def _enable_wal(con: sqlite3.Connection) -> None:
    """Put the file in WAL mode (a no-op once it is).

    Switching a new file's journal mode takes an exclusive lock, and SQLite answers
    "database is locked" at once, without its busy timeout, when another connection
    (processes starting together) holds one: wait for it as the timeout would.
    """
    deadline = time.monotonic() + _BUSY_TIMEOUT_S
    while True:
        try:
            con.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


class SQLiteControlStore:
    """``ControlStore`` on one SQLite file."""

    def __init__(self, path: Path | str, *, migrate: bool = True) -> None:
        """Open (creating) the file; ``migrate=False`` leaves :meth:`migrate` to the caller
        (``analytics-hub migrate`` reports what it applied)."""
        self._path = Path(path)
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._closed = False
        if migrate:
            self.migrate()

    def _con(self) -> sqlite3.Connection:
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self._path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
            _enable_wal(con)
            con.execute("PRAGMA synchronous=FULL")
            self._local.con = con
        return con

    def migrate(self) -> list[int]:
        """Apply pending migrations in order; return their versions."""
        con = self._con()
        if self.schema_version() >= MIGRATIONS[-1][0]:
            return []
        applied: list[int] = []
        con.execute("BEGIN IMMEDIATE")
        try:
            done = self.schema_version()  # another process may have won
            for version, sql in MIGRATIONS:
                if version > done:
                    for statement in filter(str.strip, sql.split(";")):
                        con.execute(statement)
                    con.execute(f"PRAGMA user_version = {int(version)}")
                    applied.append(version)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return applied

    def schema_version(self) -> int:
        """The highest applied migration version (0 for a new file)."""
        version: int = self._con().execute("PRAGMA user_version").fetchone()[0]
        return version

    def add_key(self, record: ApiKeyRecord) -> None:
        try:
            self._con().execute(
                "INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    record.key_id,
                    record.tenant_id,
                    record.role,
                    record.name,
                    record.secret_hash,
                    record.created_at.astimezone(UTC).isoformat(),
                    record.revoked_at.astimezone(UTC).isoformat() if record.revoked_at else None,
                ),
            )
        except sqlite3.IntegrityError as exc:
            raise ConflictError(f"an API key with id {record.key_id!r} exists") from exc

    def get_key(self, key_id: str) -> ApiKeyRecord | None:
        row = self._con().execute("SELECT * FROM api_keys WHERE key_id = ?", (key_id,)).fetchone()
        return self._record(row) if row else None

    def list_keys(self, tenant_id: str | None = None) -> list[ApiKeyRecord]:
        if tenant_id is None:
            rows = self._con().execute("SELECT * FROM api_keys ORDER BY created_at").fetchall()
        else:
            rows = (
                self._con()
                .execute(
                    "SELECT * FROM api_keys WHERE tenant_id = ? ORDER BY created_at", (tenant_id,)
                )
                .fetchall()
            )
        return [self._record(r) for r in rows]

    def revoke_key(self, key_id: str, at: datetime) -> bool:
        cur = self._con().execute(
            "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
            (at.astimezone(UTC).isoformat(), key_id),
        )
        return cur.rowcount == 1

    def put_price_override(self, record: PriceOverrideRecord) -> None:
        self._con().execute(
            "INSERT OR REPLACE INTO price_overrides VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.tenant_id,
                record.provider,
                record.model,
                record.valid_from.isoformat(),
                record.input,
                record.output,
                record.cached_input,
                record.reasoning,
                record.updated_at.astimezone(UTC).isoformat(),
            ),
        )

    def list_price_overrides(self, tenant_id: str) -> list[PriceOverrideRecord]:
        rows = (
            self._con()
            .execute(
                "SELECT * FROM price_overrides WHERE tenant_id = ?"
                " ORDER BY provider, model, valid_from",
                (tenant_id,),
            )
            .fetchall()
        )
        return [
            PriceOverrideRecord(
                tenant_id=r[0],
                provider=r[1],
                model=r[2],
                valid_from=date.fromisoformat(r[3]),
                input=r[4],
                output=r[5],
                cached_input=r[6],
                reasoning=r[7],
                updated_at=datetime.fromisoformat(r[8]),
            )
            for r in rows
        ]

    def delete_price_overrides(
        self, tenant_id: str, provider: str, model: str, valid_from: date | None = None
    ) -> int:
        sql = "DELETE FROM price_overrides WHERE tenant_id = ? AND provider = ? AND model = ?"
        params: tuple[str, ...] = (tenant_id, provider, model)
        if valid_from is not None:
            sql += " AND valid_from = ?"
            params += (valid_from.isoformat(),)
        return self._con().execute(sql, params).rowcount

    def add_dashboard(self, record: DashboardRecord) -> None:
        try:
            self._con().execute(
                f"INSERT INTO dashboards ({_DASHBOARD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    record.tenant_id,
                    record.dashboard_id,
                    record.name,
                    record.version,
                    record.document,
                    _utc(record.created_at),
                    _utc(record.updated_at),
                ),
            )
        except sqlite3.IntegrityError as exc:
            raise ConflictError(f"a dashboard with id {record.dashboard_id!r} exists") from exc

    def get_dashboard(self, tenant_id: str, dashboard_id: str) -> DashboardRecord | None:
        row = (
            self._con()
            .execute(
                f"SELECT {_DASHBOARD_COLUMNS} FROM dashboards"
                " WHERE tenant_id = ? AND dashboard_id = ?",
                (tenant_id, dashboard_id),
            )
            .fetchone()
        )
        return self._dashboard(row) if row else None

    def list_dashboards(self, tenant_id: str) -> list[DashboardRecord]:
        rows = (
            self._con()
            .execute(
                f"SELECT {_DASHBOARD_COLUMNS} FROM dashboards WHERE tenant_id = ?"
                " ORDER BY name COLLATE NOCASE, dashboard_id",
                (tenant_id,),
            )
            .fetchall()
        )
        return [self._dashboard(r) for r in rows]

    def replace_dashboard(self, record: DashboardRecord, expected_version: int) -> bool:
        # One conditional UPDATE: two writers that read the same version cannot both win.
        cur = self._con().execute(
            "UPDATE dashboards SET name = ?, version = ?, document = ?, updated_at = ?"
            " WHERE tenant_id = ? AND dashboard_id = ? AND version = ?",
            (
                record.name,
                record.version,
                record.document,
                _utc(record.updated_at),
                record.tenant_id,
                record.dashboard_id,
                expected_version,
            ),
        )
        return cur.rowcount == 1

    def delete_dashboard(self, tenant_id: str, dashboard_id: str) -> bool:
        cur = self._con().execute(
            "DELETE FROM dashboards WHERE tenant_id = ? AND dashboard_id = ?",
            (tenant_id, dashboard_id),
        )
        return cur.rowcount == 1

    def close(self) -> None:
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None

    @staticmethod
    def _record(row: tuple[str, ...]) -> ApiKeyRecord:
        created = _ts(row[5])
        assert created is not None  # NOT NULL column
        return ApiKeyRecord(
            key_id=row[0],
            tenant_id=row[1],
            role=row[2],
            name=row[3],
            secret_hash=row[4],
            created_at=created,
            revoked_at=_ts(row[6]),
        )

    @staticmethod
    def _dashboard(row: tuple[str, str, str, int, str, str, str]) -> DashboardRecord:
        return DashboardRecord(
            tenant_id=row[0],
            dashboard_id=row[1],
            name=row[2],
            version=row[3],
            document=row[4],
            created_at=datetime.fromisoformat(row[5]),
            updated_at=datetime.fromisoformat(row[6]),
        )


__all__ = ["MIGRATIONS", "SQLiteControlStore"]
