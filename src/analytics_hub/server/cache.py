"""Open the configured cache from ``HUB_CACHE``. Only the assembly imports cache backends."""

from __future__ import annotations

import structlog

from analytics_hub.cache.base import Cache, CacheObserver
from analytics_hub.cache.memory import MemoryCache
from analytics_hub.cache.redis import RedisCache
from analytics_hub.settings import Settings

log = structlog.get_logger(__name__)


def open_cache(settings: Settings, observer: CacheObserver) -> Cache:
    """The cache named by ``settings.cache``: ``memory``, ``redis://…`` or
    ``redis+cluster://…`` (``ValidationError``, which stops the start, for anything else).

    Redis is not required to be up: the hub starts without it (and says so in the log,
    ``/readyz`` and ``hub_cache_up``) and uses it once it answers.
    """
    url = settings.cache.strip()
    if url.lower() == "memory":
        observer.cache_state(True)
        return MemoryCache(max_bytes=settings.cache_max_bytes)
    cache = RedisCache(
        url,
        timeout=settings.cache_timeout_seconds,
        retry_seconds=settings.cache_retry_seconds,
        observer=observer,
    )
    # One round trip now: an unreachable Redis is logged (by the cache) at start.
    health = cache.health()
    if health.up:
        log.info("cache connected", cache=cache.target.describe())
    observer.cache_state(health.up)
    return cache


def result_ttl(settings: Settings, cache: Cache, *, writer: bool, hears_commits: bool) -> float:
    """How long query results may be cached in this process.

    New events mark the cache as the writer commits them. A process without the writer
    role learns of other processes' commits through a shared cache, or through the
    writers' announcements (``hears_commits``, with a NATS bus); with neither and a
    ``memory`` cache its results could lag by a whole TTL, so it caches none.
    """
    if writer or hears_commits or cache.name != "memory" or settings.cache_ttl_seconds <= 0:
        return settings.cache_ttl_seconds
    log.info("query results are not cached: no writer here and HUB_CACHE is memory")
    return 0.0


__all__ = ["open_cache", "result_ttl"]
