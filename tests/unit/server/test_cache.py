"""The assembly opens the cache named by HUB_CACHE (memory here; Redis in integration)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics_hub.api.metrics import HubMetrics
from analytics_hub.cache.memory import MemoryCache
from analytics_hub.cache.redis import RedisCache
from analytics_hub.errors import ValidationError
from analytics_hub.server.cache import open_cache, result_ttl
from analytics_hub.settings import Settings


def test_memory_is_the_default_and_is_up(tmp_path: Path) -> None:
    metrics = HubMetrics()
    metrics.cache_state(False)
    cache = open_cache(Settings(data_dir=tmp_path, cache_max_bytes=1234), metrics)
    assert isinstance(cache, MemoryCache)
    assert cache.health().describe() == "ok"
    assert metrics.registry.get_sample_value("hub_cache_up") == 1


@pytest.mark.parametrize("url", ["memcached://c:11211", "redis://a:1,b:2", "redis://h/x"])
def test_an_unusable_cache_url_stops_the_start_with_the_reason(tmp_path: Path, url: str) -> None:
    with pytest.raises(ValidationError, match="cache URL"):
        open_cache(Settings(data_dir=tmp_path, cache=url), HubMetrics())


def test_a_process_without_a_writer_caches_only_what_it_hears_invalidated(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path, cache_ttl_seconds=7)
    memory = open_cache(settings, HubMetrics())
    assert result_ttl(settings, memory, writer=True, hears_commits=False) == 7
    # No commit of another process would ever mark this process's memory stale...
    assert result_ttl(settings, memory, writer=False, hears_commits=False) == 0
    # ...unless the writers' announcements reach it (NATS).
    assert result_ttl(settings, memory, writer=False, hears_commits=True) == 7
    shared = RedisCache("redis://127.0.0.1:6379/0")  # lazily connected: no I/O here
    assert result_ttl(settings, shared, writer=False, hears_commits=False) == 7
