"""Caches under test, once per backend, with the same assertions for each.

``cache_url`` names a backend: ``memory``; ``redis``, the shared server of
``HUB_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``) under a key prefix of this
session, whose keys are deleted afterwards; ``redis-cluster``, a six-node Redis Cluster
(three masters, a replica each) that this session starts on free loopback ports and
stops. ``cache`` is an open cache of each backend.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from redis import Redis
from tests.conftest import REQUIRE_SERVICES, require_service

from analytics_hub.cache.base import Cache
from analytics_hub.cache.memory import MemoryCache
from analytics_hub.cache.redis import RedisCache
from analytics_hub.testing.rediscluster import RedisClusterNodes
from analytics_hub.testing.redisserver import redis_binaries

REDIS_URL = os.environ.get("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
BACKENDS = [
    "memory",
    pytest.param("redis", marks=pytest.mark.service),
    pytest.param("redis-cluster", marks=pytest.mark.service),
]


def need_redis_binaries() -> None:
    """Skip (locally) or fail (``HUB_REQUIRE_SERVICES=1``) without redis-server/redis-cli."""
    if redis_binaries() is None:
        message = "redis-server and redis-cli are not installed (apt-get install redis-server)"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def shared_redis_url() -> Iterator[str]:
    """The shared Redis, with a key prefix of this session; its keys go afterwards."""
    parts = urlsplit(REDIS_URL)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    require_service("Redis", host, port, "redis-server --daemonize yes --save '' --appendonly no")
    prefix = f"hub-test-{secrets.token_hex(4)}:"
    yield f"{REDIS_URL}?prefix={prefix}"
    with Redis(host=host, port=port, db=int(parts.path.strip("/") or 0)) as client:
        stale = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if stale:
            client.delete(*stale)


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisClusterNodes]:
    """A six-node Redis Cluster of this session (the processes are stopped afterwards)."""
    need_redis_binaries()
    with RedisClusterNodes(tmp_path_factory.mktemp("rediscluster")) as cluster:
        yield cluster


@pytest.fixture(params=BACKENDS)
def cache_url(request: pytest.FixtureRequest) -> str:
    """The ``HUB_CACHE`` of each backend."""
    if request.param == "redis":
        return str(request.getfixturevalue("shared_redis_url"))
    if request.param == "redis-cluster":
        cluster: RedisClusterNodes = request.getfixturevalue("redis_cluster")
        return f"{cluster.url}?prefix=hub-test-{secrets.token_hex(4)}:"
    return "memory"


@pytest.fixture
def cache(cache_url: str) -> Iterator[Cache]:
    """An open cache of each backend."""
    opened: Cache = MemoryCache() if cache_url == "memory" else RedisCache(cache_url)
    yield opened
    opened.close()
