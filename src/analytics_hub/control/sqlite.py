"""SQLite control store for embedded mode: a small file beside the event store.

SQLite in WAL mode lets the server and the command line (``analytics-hub keys``) use the
same file at once, which the embedded event store (DuckDB, one process) cannot.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

from analytics_hub.control.base import ApiKeyRecord
from analytics_hub.errors import ConflictError

_SCHEMA = """
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


def _ts(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class SQLiteControlStore:
    """``ControlStore`` on one SQLite file."""

    def __init__(self, path: Path | str) -> None:
        self._path = Path(path)
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._closed = False
        con = self._con()
        con.executescript(_SCHEMA)

    def _con(self) -> sqlite3.Connection:
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self._path, timeout=10.0, isolation_level=None)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=FULL")
            self._local.con = con
        return con

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


__all__ = ["SQLiteControlStore"]
