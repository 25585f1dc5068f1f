"""The hub with its cache, over HTTP, on every cache backend: a cached overview changes
once new events for its range are committed, no tenant ever gets another's cached
answer, the rate limit answers 429 in the hub's error shape. And with a Redis of its own
that dies and comes back: queries keep being answered, readiness and metrics say the
cache is unavailable, and the cache is used again once Redis is back.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.integration.api.conftest import LiveHub, serve
from tests.integration.cache.conftest import need_redis_binaries

from analytics_hub.testing.envelopes import llm_call
from analytics_hub.testing.redisserver import RedisServer


@pytest.fixture
def hub(tmp_path: Path, cache_url: str) -> Iterator[LiveHub]:
    with serve(tmp_path / "hub", cache=cache_url, anomaly_enabled=False) as h:
        yield h


def client(hub: LiveHub, key: str) -> httpx.Client:
    return httpx.Client(base_url=hub.url, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def window() -> dict[str, str]:
    """The last hour, ending at the next whole minute (as the web UI asks)."""
    end = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    return {"from": (end - timedelta(hours=1)).isoformat(), "to": end.isoformat()}


def post_calls(hub: LiveHub, tenant: str, n: int, *, minutes_ago: float = 10) -> None:
    at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    events = [llm_call(timestamp=at + timedelta(seconds=i)) for i in range(n)]
    with client(hub, hub.key(tenant, "ingest")) as c:
        r = c.post("/api/v1/events", json=events, params={"wait": "visible"})
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] == n


def overview(c: httpx.Client, rng: dict[str, str]) -> dict[str, Any]:
    r = c.get("/api/v1/metrics/overview", params={**rng, "bucket": "5m"})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def count_query(c: httpx.Client, rng: dict[str, str]) -> int:
    body = {"time_range": rng, "aggregates": [{"fn": "count", "as": "n"}]}
    r = c.post("/api/v1/query", json=body)
    assert r.status_code == 200, r.text
    return int(r.json()["rows"][0]["n"])


def lookups(hub: LiveHub, kind: str) -> tuple[float, float]:
    """Hits and misses of ``kind`` so far."""
    registry = hub.services.metrics.registry
    labels = {"kind": kind}
    hits = registry.get_sample_value("hub_cache_hits_total", labels) or 0.0
    misses = registry.get_sample_value("hub_cache_misses_total", labels) or 0.0
    return hits, misses


def test_a_cached_overview_changes_once_new_events_for_its_range_are_committed(
    hub: LiveHub,
) -> None:
    tenant = hub.tenant()
    post_calls(hub, tenant, 5)
    rng = window()
    with client(hub, hub.key(tenant, "read")) as c:
        first = overview(c, rng)
        assert first["totals"]["requests"] == 5
        hits = lookups(hub, "overview")[0]
        assert overview(c, rng) == first
        assert lookups(hub, "overview")[0] == hits + 1
        assert count_query(c, rng) == 5
        assert count_query(c, rng) == 5

        post_calls(hub, tenant, 3, minutes_ago=5)
        assert overview(c, rng)["totals"]["requests"] == 8
        assert count_query(c, rng) == 8


def test_a_tenant_never_gets_another_tenants_cached_answer(hub: LiveHub) -> None:
    a, b = hub.tenant(), hub.tenant()
    post_calls(hub, a, 4)
    post_calls(hub, b, 2)
    rng = window()
    with client(hub, hub.key(a, "read")) as ca, client(hub, hub.key(b, "read")) as cb:
        assert overview(ca, rng)["totals"]["requests"] == 4
        assert count_query(ca, rng) == 4
        _, misses = lookups(hub, "overview")
        assert overview(cb, rng)["totals"]["requests"] == 2  # the same question, B's answer
        assert lookups(hub, "overview")[1] == misses + 1
        assert count_query(cb, rng) == 2
        assert overview(ca, rng)["totals"]["requests"] == 4


def test_a_key_over_its_rate_limit_gets_429_in_the_error_shape(
    tmp_path: Path, cache_url: str
) -> None:
    if datetime.now(UTC).second >= 50:  # the window is the clock minute: start a fresh one
        time.sleep(61 - datetime.now(UTC).second)
    with serve(tmp_path / "limited", cache=cache_url, rate_limit_per_minute=3) as hub:
        tenant = hub.tenant()
        with client(hub, hub.key(tenant, "read")) as c, client(hub, hub.key(tenant, "read")) as d:
            for _ in range(3):
                assert c.get("/api/v1/schema").status_code == 200
            refused = c.get("/api/v1/schema")
            assert refused.status_code == 429
            assert refused.json()["error"]["code"] == "rate_limited"
            assert "rate limit of 3 requests per minute" in refused.json()["error"]["message"]
            assert 1 <= int(refused.headers["Retry-After"]) <= 60
            assert d.get("/api/v1/schema").status_code == 200  # another key, its own count
            assert httpx.get(f"{hub.url}/healthz").status_code == 200  # public: not counted


def readiness(hub: LiveHub) -> dict[str, Any]:
    r = httpx.get(f"{hub.url}/readyz", timeout=10)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert body["status"] == "ready"
    return body


def cache_up(hub: LiveHub) -> float:
    text = httpx.get(f"{hub.url}/metrics", timeout=10).text
    line = next(x for x in text.splitlines() if x.startswith("hub_cache_up "))
    return float(line.split()[1])


@pytest.mark.service
def test_the_hub_answers_without_redis_says_so_and_uses_it_again_when_it_is_back(
    tmp_path: Path,
) -> None:
    need_redis_binaries()
    with (
        RedisServer(tmp_path / "redis") as redis,
        serve(
            tmp_path / "hub",
            cache=redis.url,
            cache_retry_seconds=0.2,
            cache_timeout_seconds=0.2,
            anomaly_enabled=False,
        ) as hub,
    ):
        tenant = hub.tenant()
        post_calls(hub, tenant, 6)
        rng = window()
        with client(hub, hub.key(tenant, "read")) as c:
            assert overview(c, rng)["totals"]["requests"] == 6
            assert overview(c, rng)["totals"]["requests"] == 6
            assert readiness(hub)["checks"]["cache"] == "ok"
            assert cache_up(hub) == 1

            redis.kill()
            assert overview(c, rng)["totals"]["requests"] == 6  # from the store
            checks = readiness(hub)["checks"]
            assert checks["cache"].startswith("unavailable: "), checks
            assert cache_up(hub) == 0
            post_calls(hub, tenant, 2, minutes_ago=5)  # the writer's bump finds no Redis
            assert overview(c, rng)["totals"]["requests"] == 8
            assert count_query(c, rng) == 8
            errors = hub.services.metrics.registry.get_sample_value(
                "hub_cache_errors_total", {"operation": "get"}
            )
            assert errors is not None
            assert errors >= 1

            redis.start()  # back, and empty

            def ready_again() -> bool:
                return bool(readiness(hub)["checks"]["cache"] == "ok")

            deadline = time.monotonic() + 15
            while not ready_again():
                assert time.monotonic() < deadline, "the cache did not come back"
                time.sleep(0.1)
            assert cache_up(hub) == 1
            hits, misses = lookups(hub, "overview")
            assert overview(c, rng)["totals"]["requests"] == 8
            assert overview(c, rng)["totals"]["requests"] == 8
            assert lookups(hub, "overview") == (hits + 1, misses + 1)
