"""The ``Cache`` port on every backend (memory, Redis, Redis Cluster), same assertions."""

from __future__ import annotations

import threading
import time
import uuid

from analytics_hub.cache.base import Cache, JsonCodec, get_or_load


def scope() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


def test_values_live_in_their_scope_until_their_ttl(cache: Cache) -> None:
    assert isinstance(cache, Cache)
    assert cache.health().up
    a, b = scope(), scope()
    cache.set(a, "k", b"\x00binary\xff", ttl=0.5)
    cache.set(b, "k", b"other", ttl=30)
    assert cache.get_many(a, ["k", "missing"]) == [b"\x00binary\xff", None]
    assert cache.get_many(b, ["k"]) == [b"other"]
    time.sleep(0.7)
    assert cache.get_many(a, ["k"]) == [None]
    assert cache.get_many(b, ["k"]) == [b"other"]


def test_one_read_returns_values_and_counters_of_a_scope(cache: Cache) -> None:
    a = scope()
    cache.set(a, "q1:query:abc", b"result", ttl=30)
    assert cache.incr([(a, "gen:20000"), (a, "gen:20001"), (a, "gen:20001")], ttl=30) == [1, 1, 2]
    # On a cluster this is one MGET: the scope's hash tag keeps its keys in one slot.
    found = cache.get_many(a, ["q1:query:abc", "gen:20000", "gen:20001", "gen:19999"])
    assert found == [b"result", b"1", b"2", None]


def test_counters_of_many_scopes_in_one_call_are_each_atomic(cache: Cache) -> None:
    scopes = [scope() for _ in range(20)]  # spread over the cluster's slots
    assert cache.incr([(s, "n") for s in scopes], ttl=30) == [1] * 20
    target = scopes[0]

    def hammer() -> None:
        for _ in range(100):
            assert cache.incr([(target, "n")], ttl=30) is not None

    threads = [threading.Thread(target=hammer) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cache.get_many(target, ["n"]) == [b"601"]
    assert cache.get_many(scopes[1], ["n"]) == [b"1"]


def test_counters_expire(cache: Cache) -> None:
    a = scope()
    cache.incr([(a, "window")], ttl=0.5)
    time.sleep(0.7)
    assert cache.get_many(a, ["window"]) == [None]
    assert cache.incr([(a, "window")], ttl=0.5) == [1]


def test_metadata_is_loaded_once_for_every_reader(cache: Cache) -> None:
    a = scope()
    loads = []

    def load() -> dict[str, str]:
        loads.append(1)
        return {"owner": "search", "model": "gpt-4o"}

    codec = JsonCodec(dict[str, str])
    values = [get_or_load(cache, a, "asset:app-01", load, codec=codec, ttl=30) for _ in range(3)]
    assert values == [{"owner": "search", "model": "gpt-4o"}] * 3
    assert loads == [1]
