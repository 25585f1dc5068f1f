"""A request rate limit per API key, counted in the cache (shared by every hub process
when the cache is Redis).

A fixed window of one minute: the key's counter for the current minute
(``ratelimit:<key id>:<minute>`` in the tenant's scope) is incremented by every request,
and a request that makes it exceed the limit gets ``RateLimitedError`` (429) with a
``Retry-After`` of the seconds left in the minute. A fixed window lets a key send up to
twice the limit across a minute boundary; a sliding one would need two counters per
request, and the limit is a guard against runaway clients, not a billing meter.

When the cache does not answer, requests are let through: an unavailable cache must not
take the API down with it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from analytics_hub.auth.keys import Principal
from analytics_hub.cache.base import Cache
from analytics_hub.errors import RateLimitedError

WINDOW_SECONDS = 60
#: counters outlive their window a little, so that a clock a bit behind still finds them
_COUNTER_TTL = WINDOW_SECONDS * 2


class RateLimiter:
    """Allows each API key ``per_minute`` requests per clock minute."""

    def __init__(
        self, cache: Cache, per_minute: int, *, clock: Callable[[], float] = time.time
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1 (leave the limiter out for none)")
        self._cache = cache
        self._limit = per_minute
        self._clock = clock

    @property
    def per_minute(self) -> int:
        """Requests each key may send per minute."""
        return self._limit

    def check(self, principal: Principal) -> None:
        """Count one request of ``principal``'s key; raise ``RateLimitedError`` over the limit."""
        now = self._clock()
        window = int(now // WINDOW_SECONDS)
        counted = self._cache.incr(
            [(principal.tenant_id, f"ratelimit:{principal.key_id}:{window}")], _COUNTER_TTL
        )
        if counted is None or counted[0] <= self._limit:
            return
        retry_after = (window + 1) * WINDOW_SECONDS - now
        raise RateLimitedError(
            f"this API key is over its rate limit of {self._limit} requests per minute; "
            f"retry after {max(1, round(retry_after))} s",
            retry_after=retry_after,
        )


__all__ = ["WINDOW_SECONDS", "RateLimiter"]
