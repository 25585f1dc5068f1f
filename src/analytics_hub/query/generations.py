"""Data generations: per-tenant, per-day counters that say "new data landed here".

The writer bumps ``gen:<day>`` in the tenant's cache scope for every UTC day (of event
time, ``ts``) that a commit stored rows in, right after the commit and before anyone is
told the rows are visible. A cached query result is stamped with the generations of the
days its range covers, read *before* the query ran; a result whose stamp differs from
the current one is stale. So a result is never served after new rows for its range were
committed, whichever process committed them (with Redis, every process shares the
counters), and a relative range ending now is served stale at most while nothing was
committed — or, if the cache missed a bump (it was unreachable at that moment), until
the entry's TTL runs out.

Days, not hours: a range reads one counter per day it covers (31 for the last 30 days,
in one round trip), and a commit usually bumps one or two per tenant.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc
import structlog

from analytics_hub.cache.base import Cache

log = structlog.get_logger(__name__)

#: a generation counter outlives any cached result by far: if one expired and started
#: again from zero, every result stamped with its old value would have expired long before
GENERATION_TTL_SECONDS = 2 * 86400.0
#: ranges covering more days than this are not cached (too many counters to read)
MAX_CACHED_DAYS = 400

_DAY_US = 86_400_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)


def day_number(moment: datetime) -> int:
    """Days since 1970-01-01 UTC of ``moment`` (a naive moment is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(days=1)


def days_of(start: datetime, end: datetime) -> range:
    """The day numbers the half-open range ``[start, end)`` touches (empty if none)."""
    if end <= start:
        return range(0)
    return range(day_number(start), day_number(end - _ONE_US) + 1)


def generation_key(day: int) -> str:
    """The cache key (in the tenant's scope) of one day's generation counter."""
    return f"gen:{day}"


def committed_days(rows: pa.Table) -> list[tuple[str, int]]:
    """The distinct ``(tenant_id, day)`` pairs of stored rows (event time ``ts``)."""
    if rows.num_rows == 0:
        return []
    # timestamp[us] -> microseconds since the epoch -> whole days (event times are >= 1970)
    micros = rows.column("ts").cast(pa.timestamp("us")).cast(pa.int64())
    days = pc.divide(micros, pa.scalar(_DAY_US, pa.int64()))
    pairs = pa.table({"t": rows.column("tenant_id"), "d": days}).group_by(["t", "d"]).aggregate([])
    return list(zip(pairs.column("t").to_pylist(), pairs.column("d").to_pylist(), strict=True))


class DataGenerations:
    """The writer's side: bump the generations of what a commit stored."""

    def __init__(self, cache: Cache) -> None:
        self._cache = cache

    def committed(self, rows: pa.Table | None) -> None:
        """Bump the generation of every (tenant, day) in ``rows``; never raises.

        Runs on the writer thread inside the commit, so it must not fail the commit: the
        cache's own failures already degrade to no-ops, and anything else is logged.
        """
        if rows is None or rows.num_rows == 0:
            return
        try:
            pairs = committed_days(rows)
            self._cache.incr(
                [(tenant, generation_key(day)) for tenant, day in pairs], GENERATION_TTL_SECONDS
            )
        except Exception as exc:  # a bug here must not make the writer retry the commit
            log.error("could not bump data generations", error=repr(exc), exc_info=exc)


__all__ = [
    "GENERATION_TTL_SECONDS",
    "MAX_CACHED_DAYS",
    "DataGenerations",
    "committed_days",
    "day_number",
    "days_of",
    "generation_key",
]
