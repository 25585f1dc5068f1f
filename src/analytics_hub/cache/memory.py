"""The in-process cache of the embedded hub: bounded, least recently used first out.

Values are bounded by their total size (``max_bytes``), counters by their number
(``max_counters``). The two are kept apart on purpose: a generation counter evicted
under pressure from large values would read as zero again, and an entry stamped with
that old zero would look fresh. When the counters overflow even after expired ones are
dropped, everything is cleared together, which is always safe for a cache.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

from analytics_hub.cache.base import CacheHealth, check_scope

#: rough bookkeeping cost of one entry beyond its key and value, in bytes
_ENTRY_OVERHEAD = 100


class MemoryCache:
    """A ``Cache`` in this process's memory. Thread-safe."""

    name = "memory"

    def __init__(
        self,
        *,
        max_bytes: int = 64 * 1024 * 1024,
        max_counters: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_bytes = max_bytes
        self._max_counters = max_counters
        self._clock = clock
        self._lock = threading.Lock()
        # (scope, key) -> (expires_at, value); ordered from least to most recently used
        self._entries: OrderedDict[tuple[str, str], tuple[float, bytes]] = OrderedDict()
        self._bytes = 0
        self._counters: dict[tuple[str, str], tuple[float, int]] = {}

    @property
    def size_bytes(self) -> int:
        """The accounted size of the values held now."""
        return self._bytes

    def get_many(self, scope: str, keys: Sequence[str]) -> list[bytes | None]:
        """The values of ``keys`` (counters as decimal digits); ``None`` where missing."""
        now = self._clock()
        out: list[bytes | None] = []
        with self._lock:
            for key in keys:
                out.append(self._get(now, (scope, key)))
        return out

    def set(self, scope: str, key: str, value: bytes, ttl: float) -> None:
        """Store ``value`` for ``ttl`` seconds; too large a value is not stored."""
        check_scope(scope)
        size = _size(key, value)
        if ttl <= 0 or size > self._max_bytes:
            return
        with self._lock:
            self._drop((scope, key))
            self._entries[(scope, key)] = (self._clock() + ttl, value)
            self._bytes += size
            while self._bytes > self._max_bytes:
                (_, old_key), (_, old_value) = self._entries.popitem(last=False)
                self._bytes -= _size(old_key, old_value)

    def incr(self, counters: Sequence[tuple[str, str]], ttl: float) -> list[int]:
        """Add one to each counter, which then expires ``ttl`` seconds later."""
        for scope, _ in counters:
            check_scope(scope)
        with self._lock:
            now = self._clock()
            values = []
            for ident in counters:
                held = self._counters.get(ident)
                value = held[1] + 1 if held is not None and held[0] > now else 1
                self._counters[ident] = (now + ttl, value)
                values.append(value)
            if len(self._counters) > self._max_counters:
                self._shrink_counters(now)
            return values

    def health(self) -> CacheHealth:
        """Always up: it is this process's memory."""
        return CacheHealth(True)

    def close(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()
            self._counters.clear()
            self._bytes = 0

    # -- with the lock held ---------------------------------------------------------------

    def _get(self, now: float, ident: tuple[str, str]) -> bytes | None:
        entry = self._entries.get(ident)
        if entry is not None:
            if entry[0] > now:
                self._entries.move_to_end(ident)
                return entry[1]
            self._drop(ident)
        counter = self._counters.get(ident)
        if counter is not None and counter[0] > now:
            return str(counter[1]).encode()
        return None

    def _drop(self, ident: tuple[str, str]) -> None:
        old = self._entries.pop(ident, None)
        if old is not None:
            self._bytes -= _size(ident[1], old[1])

    def _shrink_counters(self, now: float) -> None:
        for ident in [i for i, (expires, _) in self._counters.items() if expires <= now]:
            del self._counters[ident]
        if len(self._counters) > self._max_counters:
            # Dropping some live counters could make an old stamp look fresh (see above).
            self._entries.clear()
            self._counters.clear()
            self._bytes = 0


def _size(key: str, value: bytes) -> int:
    return len(key) + len(value) + _ENTRY_OVERHEAD


__all__ = ["MemoryCache"]
