"""Dashboard query results served from a cache, invalidated when data for their range lands.

``CachedQueryService`` is a ``QueryService`` whose ``run`` (aggregate queries) and
``overview`` look in the cache first. Raw event listings and single events are not
cached: they page with cursors and are rarely asked twice.

One entry per question, in the tenant's scope: ``q1:<kind>:<sha256 of the normalised
question>`` (the range in UTC, so that two spellings of one instant share an entry). Its
value is ``<stamp>\\n<the result as JSON>``, where the stamp is a digest of the data
generations (:mod:`analytics_hub.query.generations`) of the days the range covers, read
in the same round trip as the entry (one ``MGET``: the scope is one Redis Cluster slot).
A stamp that differs from the current one means new rows landed: the entry is stale and
is replaced. Entries also expire after ``ttl`` seconds, which bounds staleness from
anything the generations do not see (a bump the cache missed while unreachable, a
re-price, retention).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from analytics_hub.cache.base import NULL_OBSERVER, Cache, CacheObserver
from analytics_hub.query.generations import MAX_CACHED_DAYS, days_of, generation_key
from analytics_hub.query.model import Bucket, Overview, Query, QueryResult
from analytics_hub.query.service import QueryService
from analytics_hub.store.base import EventStore

M = TypeVar("M", bound=BaseModel)

#: bump when what is cached changes shape, so that hubs of two versions sharing a
#: Redis (a rolling upgrade) do not read each other's entries
KEY_VERSION = 1
#: larger results (pages of thousands of rows) are not worth the cache's memory
MAX_VALUE_BYTES = 4 * 1024 * 1024


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def query_identity(query: Query) -> dict[str, Any]:
    """``query`` as plain data, its range in UTC: equal for equal questions."""
    data = query.model_dump(mode="json", by_alias=True)
    data["time_range"] = {"from": _utc(query.time_range.from_), "to": _utc(query.time_range.to)}
    return data


def entry_key(kind: str, identity: dict[str, Any]) -> str:
    """The cache key (in the tenant's scope) of one question."""
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"q{KEY_VERSION}:{kind}:{hashlib.sha256(text.encode()).hexdigest()}"


def stamp_of(generations: list[bytes | None]) -> bytes:
    """A digest of generation counters as read (a missing counter is generation 0)."""
    text = b",".join(g or b"0" for g in generations)
    return hashlib.blake2b(text, digest_size=12).hexdigest().encode()


class CachedQueryService(QueryService):
    """A ``QueryService`` that caches aggregate queries and the overview.

    A subclass rather than a wrapper so that everything that takes a ``QueryService``
    (the API's container, the forecast sources) takes this one unchanged. ``ttl <= 0``
    turns the cache off.
    """

    def __init__(
        self,
        store: EventStore,
        cache: Cache,
        *,
        ttl: float,
        observer: CacheObserver = NULL_OBSERVER,
        max_rows: int = 10_000,
        max_buckets: int = 10_000,
        max_unbucketed_range_days: int = 400,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        super().__init__(
            store,
            max_rows=max_rows,
            max_buckets=max_buckets,
            max_unbucketed_range_days=max_unbucketed_range_days,
            clock=clock,
        )
        self._cache = cache
        self._ttl = ttl
        self._observer = observer

    def run(self, tenant_id: str, query: Query, *, allow_rollups: bool = True) -> QueryResult:
        """As ``QueryService.run``; an aggregate query may be answered from the cache."""
        if self._ttl <= 0 or not allow_rollups or not (query.aggregates or query.group_by):
            return super().run(tenant_id, query, allow_rollups=allow_rollups)
        self.check(tenant_id, query)  # a query that would be refused never reaches the cache
        started = time.perf_counter()
        result, hit = self._through(
            tenant_id,
            "query",
            query_identity(query),
            (query.time_range.from_, query.time_range.to),
            lambda: super(CachedQueryService, self).run(tenant_id, query),
            QueryResult,
        )
        if not hit:
            return result
        # elapsed_ms says how long this answer took: the lookup, not the original query
        elapsed = round((time.perf_counter() - started) * 1000, 3)
        return result.model_copy(
            update={"meta": result.meta.model_copy(update={"elapsed_ms": elapsed})}
        )

    def overview(
        self, tenant_id: str, *, from_: datetime, to: datetime, bucket: Bucket
    ) -> Overview:
        """As ``QueryService.overview``, answered from the cache when it can be."""
        if self._ttl <= 0:
            return super().overview(tenant_id, from_=from_, to=to, bucket=bucket)
        identity = {"from": _utc(from_), "to": _utc(to), "bucket": bucket}
        result, _ = self._through(
            tenant_id,
            "overview",
            identity,
            (from_, to),
            lambda: super(CachedQueryService, self).overview(
                tenant_id, from_=from_, to=to, bucket=bucket
            ),
            Overview,
        )
        return result

    def _through(
        self,
        tenant_id: str,
        kind: str,
        identity: dict[str, Any],
        span: tuple[datetime, datetime],
        compute: Callable[[], M],
        model: type[M],
    ) -> tuple[M, bool]:
        """The cached answer if it is current, else ``compute()`` (then cached)."""
        days = days_of(*span)
        if len(days) > MAX_CACHED_DAYS:
            return compute(), False
        key = entry_key(kind, identity)
        found = self._cache.get_many(tenant_id, [key, *(generation_key(d) for d in days)])
        if found is None:  # the cache is unavailable: neither read nor write it
            self._observer.cache_lookup(kind, False)
            return compute(), False
        stamp = stamp_of(found[1:])
        cached = _decode(found[0], stamp, model)
        self._observer.cache_lookup(kind, cached is not None)
        if cached is not None:
            return cached, True
        # The stamp was read before the query runs: rows committed meanwhile bump it, so
        # this entry is then stale at once, never wrongly fresh.
        result = compute()
        value = stamp + b"\n" + result.model_dump_json().encode()
        if len(value) <= MAX_VALUE_BYTES:
            self._cache.set(tenant_id, key, value, self._ttl)
        return result, False


def _decode(entry: bytes | None, stamp: bytes, model: type[M]) -> M | None:
    """The entry's result if its stamp is ``stamp`` and it parses; else ``None``."""
    if entry is None:
        return None
    head, sep, body = entry.partition(b"\n")
    if not sep or head != stamp:
        return None
    try:
        return model.model_validate_json(body)
    except ValueError:  # written by another version of the hub: recompute
        return None


__all__ = [
    "KEY_VERSION",
    "MAX_VALUE_BYTES",
    "CachedQueryService",
    "entry_key",
    "query_identity",
    "stamp_of",
]
