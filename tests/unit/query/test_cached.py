"""CachedQueryService: what is cached, under which key, and what invalidates it.

Over a real DuckDB file (no network) behind a proxy that counts the statements the
service sends, so that "answered from the cache" means "the store was not asked".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, cast

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from analytics_hub.cache.base import CacheHealth
from analytics_hub.cache.memory import MemoryCache
from analytics_hub.errors import ValidationError
from analytics_hub.query import Query
from analytics_hub.query.cached import CachedQueryService, entry_key, query_identity
from analytics_hub.query.generations import (
    MAX_CACHED_DAYS,
    DataGenerations,
    committed_days,
    day_number,
    days_of,
)
from analytics_hub.store.base import EventStore, QueryRows
from analytics_hub.store.duckdb import DuckDBStore
from analytics_hub.testing.rows import make_event_rows

DAY = datetime(2025, 3, 10, tzinfo=UTC)
RANGE = {"from": "2025-03-10T00:00:00Z", "to": "2025-03-11T00:00:00Z"}
COUNT = {"time_range": RANGE, "aggregates": [{"fn": "count", "as": "n"}]}


class CountingStore:
    """The store's read side, counting statements; ``before_fetch`` runs first."""

    def __init__(self, store: DuckDBStore) -> None:
        self.store = store
        self.dialect = store.dialect
        self.fetches = 0
        self.before_fetch: Callable[[], None] | None = None

    def fetch(self, sql: str, params: Sequence[object]) -> QueryRows:
        self.fetches += 1
        if self.before_fetch is not None:
            hook, self.before_fetch = self.before_fetch, None
            hook()
        return self.store.fetch(sql, params)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def duck(tmp_path: Path) -> Iterator[DuckDBStore]:
    store = DuckDBStore(tmp_path / "events.duckdb", threads=1)
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(clock: Clock) -> MemoryCache:
    return MemoryCache(clock=clock)


@pytest.fixture
def counting(duck: DuckDBStore) -> CountingStore:
    return CountingStore(duck)


@pytest.fixture
def service(counting: CountingStore, cache: MemoryCache) -> CachedQueryService:
    return CachedQueryService(cast(EventStore, counting), cache, ttl=10)


def rows(n: int, start: datetime, tenant: str = "t1", seed: int = 0) -> pa.Table:
    return make_event_rows(n, start=start, tenant=tenant, step=timedelta(seconds=7), seed=seed)


def land(duck: DuckDBStore, cache: MemoryCache, table: pa.Table) -> None:
    """Commit rows as the writer does: store them, then bump their generations."""
    duck.write_events(table)
    DataGenerations(cache).committed(table)


def count(service: CachedQueryService, tenant: str = "t1", **parts: Any) -> int:
    result = service.run(tenant, Query.model_validate({**COUNT, **parts}))
    return int(result.rows[0]["n"])


def test_a_repeated_aggregate_query_is_answered_from_the_cache(
    service: CachedQueryService, counting: CountingStore, duck: DuckDBStore, cache: MemoryCache
) -> None:
    land(duck, cache, rows(100, DAY + timedelta(hours=1)))
    query = Query.model_validate({**COUNT, "group_by": ["model_id"]})
    first = service.run("t1", query)
    asked = counting.fetches
    second = service.run("t1", query)
    assert counting.fetches == asked
    assert second.rows == first.rows
    assert second.meta.plan == first.meta.plan
    assert sum(r["n"] for r in second.rows) == 100


def test_two_spellings_of_one_instant_share_an_entry(
    service: CachedQueryService, counting: CountingStore
) -> None:
    count(service)
    asked = counting.fetches
    paris = {"from": "2025-03-10T01:00:00+01:00", "to": "2025-03-11T01:00:00+01:00"}
    count(service, time_range=paris)
    assert counting.fetches == asked
    a = Query.model_validate(COUNT)
    b = Query.model_validate({**COUNT, "time_range": paris})
    assert entry_key("query", query_identity(a)) == entry_key("query", query_identity(b))


def test_new_rows_for_the_range_make_the_next_answer_fresh(
    service: CachedQueryService, duck: DuckDBStore, cache: MemoryCache
) -> None:
    land(duck, cache, rows(50, DAY + timedelta(hours=2)))
    assert count(service) == 50
    land(duck, cache, rows(30, DAY + timedelta(hours=20), seed=1))
    assert count(service) == 80


def test_rows_for_other_days_or_tenants_leave_the_entry_alone(
    service: CachedQueryService, counting: CountingStore, duck: DuckDBStore, cache: MemoryCache
) -> None:
    land(duck, cache, rows(50, DAY + timedelta(hours=2)))
    assert count(service) == 50
    asked = counting.fetches
    land(duck, cache, rows(10, DAY + timedelta(days=1, hours=1), seed=2))  # the next day
    land(duck, cache, rows(10, DAY + timedelta(hours=3), tenant="t2", seed=3))  # another tenant
    assert count(service) == 50
    assert counting.fetches == asked


def test_a_tenant_never_gets_another_tenants_answer(
    service: CachedQueryService, duck: DuckDBStore, cache: MemoryCache
) -> None:
    land(duck, cache, rows(40, DAY + timedelta(hours=1), tenant="t1"))
    land(duck, cache, rows(7, DAY + timedelta(hours=1), tenant="t2", seed=4))
    assert count(service, "t1") == 40
    assert count(service, "t2") == 7
    assert count(service, "t1") == 40


def test_rows_landing_while_a_query_runs_do_not_leave_a_fresh_looking_entry(
    service: CachedQueryService, counting: CountingStore, duck: DuckDBStore, cache: MemoryCache
) -> None:
    land(duck, cache, rows(20, DAY + timedelta(hours=1)))
    # A commit lands after the generations were read, before the store is asked.
    counting.before_fetch = lambda: land(duck, cache, rows(5, DAY + timedelta(hours=4), seed=5))
    assert count(service) == 25  # the store already had them
    asked = counting.fetches
    assert count(service) == 25
    assert counting.fetches > asked  # the entry was stamped with the older generation


def test_entries_expire_after_the_ttl(
    service: CachedQueryService, counting: CountingStore, clock: Clock
) -> None:
    count(service)
    asked = counting.fetches
    clock.now += 9.9
    count(service)
    assert counting.fetches == asked
    clock.now += 0.2
    count(service)
    assert counting.fetches > asked


def test_the_overview_is_cached_and_invalidated_by_its_range(
    service: CachedQueryService, counting: CountingStore, duck: DuckDBStore, cache: MemoryCache
) -> None:
    land(duck, cache, rows(300, DAY + timedelta(hours=5)))
    start, end = DAY, DAY + timedelta(days=1)
    first = service.overview("t1", from_=start, to=end, bucket="1h")
    asked = counting.fetches
    again = service.overview("t1", from_=start, to=end, bucket="1h")
    assert counting.fetches == asked
    assert again == first
    assert service.overview("t1", from_=start, to=end, bucket="15m").bucket == "15m"  # own key
    more = rows(100, DAY + timedelta(hours=9), seed=6)
    land(duck, cache, more)
    later = service.overview("t1", from_=start, to=end, bucket="1h")
    calls = more.filter(pc.equal(more["payload_subtype"], "llm_call")).num_rows
    assert later.totals.requests == first.totals.requests + calls


def test_listings_raw_only_and_refused_queries_bypass_the_cache(
    service: CachedQueryService, counting: CountingStore, cache: MemoryCache
) -> None:
    listing = Query.model_validate({"time_range": RANGE, "limit": 5})
    service.run("t1", listing)
    service.run("t1", listing)
    assert counting.fetches == 2
    exact = Query.model_validate(COUNT)
    service.run("t1", exact, allow_rollups=False)
    service.run("t1", exact, allow_rollups=False)
    assert counting.fetches == 4
    with pytest.raises(ValidationError, match="limit"):
        service.run("t1", Query.model_validate({**COUNT, "group_by": ["model_id"], "limit": 10**6}))
    assert cache.size_bytes == 0


def test_a_range_of_too_many_days_is_not_cached(
    counting: CountingStore, cache: MemoryCache
) -> None:
    service = CachedQueryService(
        cast(EventStore, counting), cache, ttl=10, max_unbucketed_range_days=1000
    )
    wide = {"from": "2023-01-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"}
    assert len(days_of(datetime(2023, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC))) > (
        MAX_CACHED_DAYS
    )
    count(service, time_range=wide)
    count(service, time_range=wide)
    assert counting.fetches == 2


class Unavailable:
    """A cache whose backend does not answer."""

    name = "redis"

    def __init__(self) -> None:
        self.sets = 0

    def get_many(self, scope: str, keys: Sequence[str]) -> list[bytes | None] | None:
        return None

    def set(self, scope: str, key: str, value: bytes, ttl: float) -> None:
        self.sets += 1

    def incr(self, counters: Sequence[tuple[str, str]], ttl: float) -> list[int] | None:
        return None

    def health(self) -> CacheHealth:
        return CacheHealth(False, "down")

    def close(self) -> None:
        return None


def test_an_unavailable_cache_answers_from_the_store_and_writes_nothing(
    counting: CountingStore, duck: DuckDBStore
) -> None:
    down = Unavailable()
    service = CachedQueryService(cast(EventStore, counting), down, ttl=10)
    duck.write_events(rows(12, DAY + timedelta(hours=1)))
    DataGenerations(down).committed(rows(12, DAY))  # a no-op, and no error
    assert count(service) == 12
    assert count(service) == 12
    assert down.sets == 0


def test_ttl_zero_turns_caching_off(counting: CountingStore, cache: MemoryCache) -> None:
    service = CachedQueryService(cast(EventStore, counting), cache, ttl=0)
    count(service)
    count(service)
    assert counting.fetches == 2


def test_days_of_a_half_open_range() -> None:
    d0 = day_number(DAY)
    assert list(days_of(DAY, DAY + timedelta(days=1))) == [d0]
    assert list(days_of(DAY, DAY + timedelta(days=1, microseconds=1))) == [d0, d0 + 1]
    assert list(days_of(DAY - timedelta(seconds=1), DAY + timedelta(seconds=1))) == [d0 - 1, d0]
    assert list(days_of(DAY, DAY)) == []
    plus_two = timezone(timedelta(hours=2))
    assert day_number(datetime(2025, 3, 10, 1, 0, tzinfo=plus_two)) == d0 - 1
    assert day_number(datetime(2025, 3, 10, 1, 0)) == d0  # naive is UTC


def test_committed_days_are_distinct_tenant_day_pairs() -> None:
    table = pa.concat_tables(
        [
            rows(3, DAY + timedelta(hours=23, minutes=59, seconds=50), tenant="a"),
            rows(2, DAY + timedelta(hours=5), tenant="b", seed=1),
        ]
    )
    d0 = day_number(DAY)
    assert sorted(committed_days(table)) == [("a", d0), ("a", d0 + 1), ("b", d0)]
    assert committed_days(table.slice(0, 0)) == []
