"""Redis failures: a dead server costs one attempt per interval and every operation
answers as a miss; the cache comes back by itself; a Redis Cluster survives losing a
master (its replica takes over).

Each test starts its own ``redis-server`` processes on free loopback ports (never the
shared server) and stops them, by pid.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.cache.conftest import need_redis_binaries

from analytics_hub.cache.redis import RedisCache
from analytics_hub.testing.rediscluster import RedisClusterNodes
from analytics_hub.testing.redisserver import RedisServer

pytestmark = pytest.mark.service


class Recorder:
    """A ``CacheObserver`` that keeps what it is told."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.states: list[bool] = []

    def cache_lookup(self, kind: str, hit: bool) -> None:
        return None

    def cache_error(self, operation: str) -> None:
        self.errors.append(operation)

    def cache_state(self, up: bool) -> None:
        self.states.append(up)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    need_redis_binaries()
    with RedisServer(tmp_path / "redis") as s:
        yield s


def wait_for(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_dead_redis_is_tried_once_per_interval_and_comes_back(server: RedisServer) -> None:
    seen = Recorder()
    cache = RedisCache(server.url, retry_seconds=0.5, observer=seen)
    try:
        cache.set("acme", "k", b"v", ttl=60)
        assert cache.get_many("acme", ["k"]) == [b"v"]
        server.kill()
        assert cache.get_many("acme", ["k"]) is None
        health = cache.health()
        assert not health.up
        assert "Connection" in health.reason
        assert health.describe().startswith("unavailable: ")
        for _ in range(200):  # within the interval: skipped, not attempted
            assert cache.get_many("acme", ["k"]) is None
            assert cache.incr([("acme", "n")], ttl=60) is None
            cache.set("acme", "k", b"w", ttl=60)
        assert seen.errors == ["get"]
        assert seen.states == [False]

        server.start()  # back, empty (no persistence)
        wait_for(lambda: cache.health().up, 10, "the cache to answer again")
        assert seen.states == [False, True]
        assert cache.get_many("acme", ["k"]) == [None]
        assert cache.incr([("acme", "n")], ttl=60) == [1]
    finally:
        cache.close()


def test_a_hub_may_start_while_redis_is_down(tmp_path: Path) -> None:
    need_redis_binaries()
    server = RedisServer(tmp_path / "late")  # a port, nothing listening yet
    seen = Recorder()
    cache = RedisCache(server.url, retry_seconds=0.2, observer=seen)
    try:
        assert not cache.health().up
        with server:
            wait_for(lambda: cache.health().up, 10, "the cache to connect")
            cache.set("acme", "k", b"v", ttl=60)
            assert cache.get_many("acme", ["k"]) == [b"v"]
    finally:
        cache.close()
    assert seen.states == [False, True]


@pytest.mark.slow
def test_the_cluster_keeps_serving_after_a_master_dies(tmp_path: Path) -> None:
    need_redis_binaries()
    with RedisClusterNodes(tmp_path / "cluster", node_timeout_ms=1000) as cluster:
        seen = Recorder()
        cache = RedisCache(cluster.url, retry_seconds=0.2, observer=seen)
        try:
            tenants = [f"t-{uuid.uuid4().hex[:8]}" for _ in range(30)]  # every master's slots
            for t in tenants:
                cache.set(t, "k", t.encode(), ttl=120)
            cache.incr([(t, "gen:1") for t in tenants], ttl=120)
            time.sleep(0.5)  # replication is asynchronous: let the replicas receive it
            victim = cluster.masters()[0]
            cluster.kill(victim)

            def all_answer() -> bool:
                found = [cache.get_many(t, ["k", "gen:1"]) for t in tenants]
                return all(f is not None for f in found)

            wait_for(all_answer, 30, "a replica to take over")
            assert victim not in cluster.masters()
            assert len(cluster.masters()) == 3
            # What the dead master held was replicated before it died.
            assert [cache.get_many(t, ["k", "gen:1"]) for t in tenants] == [
                [t.encode(), b"1"] for t in tenants
            ]
            assert seen.states[0] is False
            assert seen.states[-1] is True
        finally:
            cache.close()
