"""The in-process cache: expiry, bounds, counters, scopes, and the typed read-through."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from analytics_hub.cache import Cache, JsonCodec, get_or_load
from analytics_hub.cache.memory import MemoryCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_values_are_kept_per_scope_until_their_ttl(clock: Clock) -> None:
    cache = MemoryCache(clock=clock)
    assert isinstance(cache, Cache)
    cache.set("acme", "k", b"a", ttl=10)
    cache.set("globex", "k", b"g", ttl=10)
    assert cache.get_many("acme", ["k", "other"]) == [b"a", None]
    assert cache.get_many("globex", ["k"]) == [b"g"]
    clock.now += 9.9
    assert cache.get_many("acme", ["k"]) == [b"a"]
    clock.now += 0.2
    assert cache.get_many("acme", ["k"]) == [None]
    assert cache.size_bytes < 200  # the expired value was dropped when read


def test_least_recently_used_values_go_first_when_full(clock: Clock) -> None:
    cache = MemoryCache(max_bytes=3 * (100 + 1 + 100), clock=clock)
    for key in "abc":
        cache.set("t", key, b"x" * 100, ttl=60)
    assert cache.get_many("t", ["a"]) == [b"x" * 100]  # a is now the most recent
    cache.set("t", "d", b"x" * 100, ttl=60)
    assert [v is not None for v in cache.get_many("t", ["a", "b", "c", "d"])] == [
        True,
        False,
        True,
        True,
    ]
    cache.set("t", "huge", b"x" * 10_000, ttl=60)  # larger than the whole cache: not kept
    assert cache.get_many("t", ["huge", "a"]) == [None, b"x" * 100]


def test_counters_count_expire_and_read_as_digits(clock: Clock) -> None:
    cache = MemoryCache(clock=clock)
    assert cache.incr([("acme", "n"), ("globex", "n"), ("acme", "n")], ttl=60) == [1, 1, 2]
    assert cache.get_many("acme", ["n"]) == [b"2"]
    clock.now += 30
    assert cache.incr([("acme", "n")], ttl=60) == [3]  # each increment renews the expiry
    clock.now += 59
    assert cache.incr([("acme", "n")], ttl=60) == [4]
    clock.now += 61
    assert cache.incr([("acme", "n")], ttl=60) == [1]


def test_too_many_counters_clear_everything_together(clock: Clock) -> None:
    cache = MemoryCache(max_counters=3, clock=clock)
    cache.set("t", "entry", b"v", ttl=60)
    cache.incr([("t", "a"), ("t", "b")], ttl=1)
    clock.now += 2
    cache.incr([("t", "c"), ("t", "d")], ttl=60)  # the expired two make room
    assert cache.get_many("t", ["entry", "c", "d"]) == [b"v", b"1", b"1"]
    cache.incr([("t", "e"), ("t", "f")], ttl=60)  # four live counters: all goes
    assert cache.get_many("t", ["entry", "c", "e"]) == [None, None, None]


def test_a_scope_with_braces_is_refused() -> None:
    cache = MemoryCache()
    with pytest.raises(ValueError, match="scope"):
        cache.set("a}b", "k", b"v", ttl=1)
    with pytest.raises(ValueError, match="scope"):
        cache.incr([("", "k")], ttl=1)


@dataclass(frozen=True)
class Asset:
    asset_id: str
    owner: str


def test_get_or_load_loads_once_and_shares_the_value(clock: Clock) -> None:
    cache = MemoryCache(clock=clock)
    loads: list[str] = []

    def load() -> Asset:
        loads.append("x")
        return Asset("app-01", "search")

    codec = JsonCodec(Asset)
    first = get_or_load(cache, "acme", "asset:app-01", load, codec=codec, ttl=60)
    second = get_or_load(cache, "acme", "asset:app-01", load, codec=codec, ttl=60)
    assert first == second == Asset("app-01", "search")
    assert loads == ["x"]
    cache.set("acme", "asset:app-01", b"not json", ttl=60)  # another version's format
    assert get_or_load(cache, "acme", "asset:app-01", load, codec=codec, ttl=60) == first
    assert loads == ["x", "x"]
    clock.now += 61
    get_or_load(cache, "acme", "asset:app-01", load, codec=codec, ttl=60)
    assert len(loads) == 3
