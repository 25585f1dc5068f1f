"""The per-key rate limit: a fixed one-minute window counted in the cache."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from analytics_hub.auth.keys import Principal, Role
from analytics_hub.auth.ratelimit import RateLimiter
from analytics_hub.cache.base import CacheHealth
from analytics_hub.cache.memory import MemoryCache
from analytics_hub.errors import BackpressureError, RateLimitedError

KEY_A = Principal(tenant_id="acme", role=Role.READ, key_id="key-a")
KEY_B = Principal(tenant_id="acme", role=Role.READ, key_id="key-b")


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_key_over_its_limit_gets_429_until_the_minute_ends() -> None:
    clock = Clock(6000.0 + 15.25)  # 15.25 s into a minute
    limiter = RateLimiter(MemoryCache(), 3, clock=clock)
    for _ in range(3):
        limiter.check(KEY_A)
    with pytest.raises(RateLimitedError) as refused:
        limiter.check(KEY_A)
    assert isinstance(refused.value, BackpressureError)  # a 429 with Retry-After
    assert refused.value.status == 429
    assert refused.value.code == "rate_limited"
    assert refused.value.retry_after == pytest.approx(44.75)
    limiter.check(KEY_B)  # other keys keep their own count
    clock.now = 6060.0  # the next minute
    limiter.check(KEY_A)


class Unavailable:
    name = "redis"

    def get_many(self, scope: str, keys: Sequence[str]) -> list[bytes | None] | None:
        return None

    def set(self, scope: str, key: str, value: bytes, ttl: float) -> None:
        return None

    def incr(self, counters: Sequence[tuple[str, str]], ttl: float) -> list[int] | None:
        return None

    def health(self) -> CacheHealth:
        return CacheHealth(False, "down")

    def close(self) -> None:
        return None


def test_an_unavailable_cache_lets_requests_through() -> None:
    limiter = RateLimiter(Unavailable(), 1)
    for _ in range(5):
        limiter.check(KEY_A)


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RateLimiter(MemoryCache(), 0)
