"""Caches: short-lived query results, counters, metadata (port in ``base``).

Backends: ``memory`` (in-process, bounded; the embedded hub's default) and ``redis``
(a single Redis or a Redis Cluster). Only the assembly imports a backend.
"""

from analytics_hub.cache.base import (
    NULL_OBSERVER,
    Cache,
    CacheHealth,
    CacheObserver,
    Codec,
    JsonCodec,
    check_scope,
    get_or_load,
)

__all__ = [
    "NULL_OBSERVER",
    "Cache",
    "CacheHealth",
    "CacheObserver",
    "Codec",
    "JsonCodec",
    "check_scope",
    "get_or_load",
]
