"""Dead-letter SQL of the PostgreSQL store; every statement is scoped to one tenant.

Mirrors :mod:`analytics_hub.store.duckdb_deadletters`: timestamps are stored as naive
UTC and returned timezone-aware (UTC). Functions take a connection; changes run inside
the transaction the store opened.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg

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


def insert(conn: psycopg.Connection[Any], letters: Sequence[DeadLetter]) -> None:
    """Insert ``letters``; one whose (tenant, id) is stored or repeated is skipped."""
    first: dict[tuple[str, str], DeadLetter] = {}
    for letter in letters:
        first.setdefault((letter.tenant_id, letter.id), letter)
    # COPY into a temporary table, then one insert that skips stored keys: a rejected
    # batch can hold thousands of letters, and executemany would be a round trip each.
    conn.execute(
        "CREATE TEMP TABLE _letters (tenant_id text, id text, received_at timestamp,"
        " event_index integer, errors text, raw text) ON COMMIT DROP"
    )
    with conn.cursor().copy(
        "COPY _letters (tenant_id, id, received_at, event_index, errors, raw) FROM STDIN"
    ) as copy:
        for x in first.values():
            # PostgreSQL text cannot hold NUL; keep the rest of the letter readable.
            copy.write_row(
                (
                    x.tenant_id,
                    x.id,
                    _naive_utc(x.received_at),
                    x.index,
                    json.dumps(x.errors),
                    x.raw.replace("\x00", "\ufffd"),
                )
            )
    conn.execute(
        "INSERT INTO dead_letters (tenant_id, id, received_at, event_index, errors, raw)"
        " SELECT tenant_id, id, received_at, event_index, errors, raw FROM _letters"
        " ON CONFLICT (tenant_id, id) DO NOTHING"
    )


def page(
    conn: psycopg.Connection[Any],
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
    sql = _SELECT + " WHERE tenant_id = %(tenant)s"
    params: dict[str, object] = {"tenant": tenant_id, "limit": limit}
    if status is not None:
        sql += " AND status = %(status)s"
        params["status"] = status
    if before is not None:
        cursor = conn.execute(
            "SELECT received_at FROM dead_letters WHERE tenant_id = %s AND id = %s",
            [tenant_id, before],
        ).fetchone()
        if cursor is None:
            return []
        # Strictly after the cursor in (received_at DESC, id DESC) order.
        sql += " AND (received_at, id) < (%(at)s, %(before)s)"
        params.update(at=cursor[0], before=before)
    rows = conn.execute(sql + _NEWEST_FIRST + " LIMIT %(limit)s", params).fetchall()
    return [_record(r) for r in rows]


def get(
    conn: psycopg.Connection[Any], tenant_id: str, ids: Sequence[str]
) -> list[DeadLetterRecord]:
    """The tenant's dead letters with these ids, newest first."""
    rows = conn.execute(
        _SELECT + " WHERE tenant_id = %s AND id = ANY(%s)" + _NEWEST_FIRST,
        [tenant_id, list(ids)],
    ).fetchall()
    return [_record(r) for r in rows]


def mark_replayed(
    conn: psycopg.Connection[Any], tenant_id: str, ids: Sequence[str], now: datetime
) -> int:
    """Mark the tenant's pending dead letters with these ids replayed; how many changed."""
    return conn.execute(
        "UPDATE dead_letters SET status = 'replayed', replayed_at = %s"
        " WHERE tenant_id = %s AND status = 'pending' AND id = ANY(%s)",
        [now, tenant_id, list(ids)],
    ).rowcount


__all__ = ["STATUSES", "get", "insert", "mark_replayed", "page"]
