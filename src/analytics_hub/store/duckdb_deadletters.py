"""Dead-letter SQL of the DuckDB store; every statement is scoped to one tenant.

Functions take the cursor to run on: the store passes its writer cursor inside a
transaction for changes, and the calling thread's reader cursor for reads. Timestamps
are stored as naive UTC and returned timezone-aware (UTC), so that a record can be
compared with and serialised like the ``DeadLetter`` it came from.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from analytics_hub.store.base import DeadLetter, DeadLetterRecord

_SELECT = (
    "SELECT id, tenant_id, received_at, event_index, errors, raw, status, replayed_at"
    " FROM dead_letters"
)
_NEWEST_FIRST = " ORDER BY received_at DESC, id DESC"
STATUSES = ("pending", "replayed")


def _naive_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


def _aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.replace(tzinfo=UTC)


def _record(row: tuple[Any, ...]) -> DeadLetterRecord:
    id_, tenant_id, received_at, index, errors, raw, status, replayed_at = row
    return DeadLetterRecord(
        id=id_,
        tenant_id=tenant_id,
        received_at=received_at.replace(tzinfo=UTC),
        index=index,
        errors=json.loads(errors),
        raw=raw,
        status=status,
        replayed_at=_aware(replayed_at),
    )


def insert(con: duckdb.DuckDBPyConnection, letters: Sequence[DeadLetter]) -> None:
    """Insert ``letters``; one whose (tenant, id) is stored or repeated is skipped."""
    first: dict[tuple[str, str], DeadLetter] = {}
    for letter in letters:
        first.setdefault((letter.tenant_id, letter.id), letter)
    unique = list(first.values())
    table = pa.table(
        {
            "tenant_id": pa.array([x.tenant_id for x in unique], pa.string()),
            "id": pa.array([x.id for x in unique], pa.string()),
            "received_at": pa.array(
                [_naive_utc(x.received_at) for x in unique], pa.timestamp("us")
            ),
            "event_index": pa.array([x.index for x in unique], pa.int32()),
            "errors": pa.array([json.dumps(x.errors) for x in unique], pa.string()),
            "raw": pa.array([x.raw for x in unique], pa.string()),
        }
    )
    # One Arrow insert rather than executemany: a rejected batch can hold thousands.
    # Registered inside the caller's transaction, which removes it if it rolls back.
    con.register("_letters", table)
    con.execute(
        "INSERT OR IGNORE INTO dead_letters"
        " (tenant_id, id, received_at, event_index, errors, raw)"
        " SELECT * FROM _letters"
    )
    con.unregister("_letters")


def page(
    con: duckdb.DuckDBPyConnection,
    tenant_id: str,
    *,
    limit: int,
    before: str | None,
    status: str | None,
) -> list[DeadLetterRecord]:
    """Up to ``limit`` of a tenant's dead letters, newest first, after id ``before``.

    An unknown ``before`` id gives an empty page (it cannot be placed in the order).
    """
    if status is not None and status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}")
    if limit <= 0:
        return []
    sql = _SELECT + " WHERE tenant_id = $tenant"
    params: dict[str, object] = {"tenant": tenant_id, "limit": limit}
    if status is not None:
        sql += " AND status = $status"
        params["status"] = status
    if before is not None:
        cursor = con.execute(
            "SELECT received_at FROM dead_letters WHERE tenant_id = ? AND id = ?",
            [tenant_id, before],
        ).fetchone()
        if cursor is None:
            return []
        # Strictly after the cursor in (received_at DESC, id DESC) order.
        sql += " AND (received_at < $at OR (received_at = $at AND id < $before))"
        params.update(at=cursor[0], before=before)
    rows = con.execute(sql + _NEWEST_FIRST + " LIMIT $limit", params).fetchall()
    return [_record(r) for r in rows]


def get(
    con: duckdb.DuckDBPyConnection, tenant_id: str, ids: Sequence[str]
) -> list[DeadLetterRecord]:
    """The tenant's dead letters with these ids, newest first."""
    rows = con.execute(
        _SELECT
        + " WHERE tenant_id = ? AND list_contains(CAST(? AS VARCHAR[]), id)"
        + _NEWEST_FIRST,
        [tenant_id, list(ids)],
    ).fetchall()
    return [_record(r) for r in rows]


def mark_replayed(
    con: duckdb.DuckDBPyConnection, tenant_id: str, ids: Sequence[str], now: datetime
) -> int:
    """Mark the tenant's pending dead letters with these ids replayed; how many changed."""
    row = con.execute(
        "UPDATE dead_letters SET status = 'replayed', replayed_at = ?"
        " WHERE tenant_id = ? AND status = 'pending'"
        " AND list_contains(CAST(? AS VARCHAR[]), id)",
        [now, tenant_id, list(ids)],
    ).fetchone()
    return int(row[0]) if row else 0


__all__ = ["STATUSES", "get", "insert", "mark_replayed", "page"]
