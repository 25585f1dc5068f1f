"""Day partitions of the PostgreSQL ``events`` table: create ahead, attach, drop.

``events`` is partitioned by range of ``claimed_ts``, one partition per UTC day named
``events_pYYYYMMDD``, plus ``events_default`` for rows whose day has no partition (an
event claimed months ahead: the write path creates partitions for days up to a
horizon only, so that a client cannot make the store create thousands of tables).

A partition is made as a plain table and then attached, rather than with ``CREATE
TABLE ... PARTITION OF``: attaching locks the parent in SHARE UPDATE EXCLUSIVE mode,
which lets queries and inserts go on, where creating in place takes an exclusive lock
on the parent. Rows of the new day that wait in the default partition are moved into
the new table before it is attached (attaching would fail otherwise).

Creation is serialised by an advisory lock, so concurrent writers or processes never
race to create the same day. All functions take a connection in autocommit mode and
run their own short transactions.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

#: advisory lock key serialising partition creation and removal
PARTITION_LOCK = 0x6875_6202
DEFAULT_PARTITION = "events_default"
_NAME = re.compile(r"events_p(\d{8})")
# Waiting longer than this for a lock (behind a long query) gives up; the caller
# decides whether that matters (rows then wait in the default partition).
_LOCK_TIMEOUT = "2s"


def partition_name(day: date) -> str:
    """The table name of ``day``'s partition."""
    return f"events_p{day:%Y%m%d}"


def day_start(day: date) -> datetime:
    """Midnight (naive UTC) at the start of ``day``."""
    return datetime.combine(day, time())


def existing_days(conn: psycopg.Connection[Any]) -> set[date]:
    """The days that have a partition now."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = 'events'::regclass"
    ).fetchall()
    days = set()
    for (name,) in rows:
        m = _NAME.fullmatch(str(name))
        if m:
            days.add(datetime.strptime(m.group(1), "%Y%m%d").date())
    return days


def create_days(conn: psycopg.Connection[Any], days: Iterable[date]) -> list[date]:
    """Create (and attach) partitions for ``days`` that have none; the days created.

    Raises ``psycopg.errors.LockNotAvailable`` when a lock could not be had in time.
    """
    created: list[date] = []
    for day in sorted(set(days)):
        with conn.transaction():
            conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(_LOCK_TIMEOUT)))
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [PARTITION_LOCK])
            if day in existing_days(conn):
                continue  # another writer made it meanwhile
            _create(conn, day)
        created.append(day)
    if created:
        log.info("created event partitions %s", ", ".join(d.isoformat() for d in created))
    return created


def _create(conn: psycopg.Connection[Any], day: date) -> None:
    name = sql.Identifier(partition_name(day))
    lo, hi = day_start(day), day_start(day + timedelta(days=1))
    # LIKE copies columns (types, collations, NOT NULL), defaults and CHECK constraints;
    # attaching adds the partitioned indexes.
    conn.execute(
        sql.SQL("CREATE TABLE {} (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)").format(
            name
        )
    )
    moved = conn.execute(
        sql.SQL(
            "WITH moved AS (DELETE FROM events_default WHERE claimed_ts >= %s AND claimed_ts < %s"
            " RETURNING *) INSERT INTO {} SELECT * FROM moved"
        ).format(name),
        [lo, hi],
    ).rowcount
    if moved:
        log.info("moved %d events of %s out of the default partition", moved, day)
    # DDL takes no bound parameters; the bounds are our own dates, as literals.
    conn.execute(
        sql.SQL("ALTER TABLE events ATTACH PARTITION {} FOR VALUES FROM ({}) TO ({})").format(
            name, sql.Literal(lo.isoformat(sep=" ")), sql.Literal(hi.isoformat(sep=" "))
        )
    )


def partitions_before(conn: psycopg.Connection[Any], cutoff: datetime) -> list[date]:
    """Days whose whole partition lies before ``cutoff`` (naive UTC)."""
    return sorted(d for d in existing_days(conn) if day_start(d + timedelta(days=1)) <= cutoff)


def drop_day(conn: psycopg.Connection[Any], day: date) -> int | None:
    """Detach and drop ``day``'s partition inside the caller's transaction.

    Returns the rows it held, or None when its lock could not be had in time (the
    caller's transaction is then intact: the attempt runs in a savepoint).
    """
    name = sql.Identifier(partition_name(day))
    try:
        with conn.transaction():  # a savepoint inside the caller's transaction
            conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(_LOCK_TIMEOUT)))
            row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(name)).fetchone()
            conn.execute(sql.SQL("ALTER TABLE events DETACH PARTITION {}").format(name))
            conn.execute(sql.SQL("DROP TABLE {}").format(name))
    except psycopg.errors.LockNotAvailable:
        log.warning("partition %s is busy; its rows are deleted instead", day)
        return None
    return int(row[0]) if row else 0


__all__ = [
    "DEFAULT_PARTITION",
    "PARTITION_LOCK",
    "create_days",
    "day_start",
    "drop_day",
    "existing_days",
    "partition_name",
    "partitions_before",
]
