"""The ``Cache`` port: bytes with a time to live, and counters that expire.

Every key lives in a *scope*, normally the tenant: a backend keeps a scope's keys
together (on Redis Cluster, in one hash slot: ``hub:{<scope>}:<key>``), so that reading
several keys of one scope is one command, and so that no key can be written without
saying whose it is.

A cache is an optimisation, never a dependency: every operation answers ``None`` (or does
nothing) when the backend cannot answer, quickly, and callers then go to the source of
truth. ``health`` says whether the backend answers now and, when not, why.

Built on the port:

- query results (:mod:`analytics_hub.query.cached`): an entry per query, stamped with
  per-tenant, per-day generation counters that the writer bumps on commit;
- rate limits (:mod:`analytics_hub.auth.ratelimit`): a fixed-window counter per API key;
- :func:`get_or_load`: a typed read-through helper for metadata (registry enrichment).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar, runtime_checkable

from pydantic import TypeAdapter

T = TypeVar("T")

MAX_SCOPE_LENGTH = 200


@dataclass(frozen=True, slots=True)
class CacheHealth:
    """Whether the cache answers now; ``reason`` says why not."""

    up: bool
    reason: str = ""

    def describe(self) -> str:
        """``ok``, or ``unavailable: <reason>`` (what ``/readyz`` shows)."""
        return "ok" if self.up else f"unavailable: {self.reason or 'no answer'}"


class CacheObserver(Protocol):
    """Told about lookups, failures and state changes (the hub's metrics implement it)."""

    def cache_lookup(self, kind: str, hit: bool) -> None:
        """One lookup of ``kind`` (``query``, ``overview``, ``metadata``) hit or missed."""

    def cache_error(self, operation: str) -> None:
        """One operation failed against the backend (it then answered as a miss)."""

    def cache_state(self, up: bool) -> None:
        """The backend became available (``True``) or unavailable (``False``)."""


class _NullObserver:
    def cache_lookup(self, kind: str, hit: bool) -> None:
        return None

    def cache_error(self, operation: str) -> None:
        return None

    def cache_state(self, up: bool) -> None:
        return None


#: an observer that ignores everything
NULL_OBSERVER: CacheObserver = _NullObserver()


@runtime_checkable
class Cache(Protocol):
    """A shared or in-process cache. Thread-safe. Operations never raise for an
    unavailable backend: they answer ``None`` or do nothing."""

    #: ``memory``, ``redis`` or ``redis-cluster``
    name: str

    def get_many(self, scope: str, keys: Sequence[str]) -> list[bytes | None] | None:
        """The values of ``keys`` of one scope (``None`` for a missing key), read at once.

        A counter reads as its decimal digits. ``None`` (not a list) when the backend did
        not answer: the caller should then not write what it computes either.
        """
        ...

    def set(self, scope: str, key: str, value: bytes, ttl: float) -> None:
        """Store ``value`` for ``ttl`` seconds (replacing any value)."""
        ...

    def incr(self, counters: Sequence[tuple[str, str]], ttl: float) -> list[int] | None:
        """Add one to each ``(scope, key)`` counter, which expires ``ttl`` seconds after
        this increment; the new values, or ``None`` when the backend did not answer.

        Each increment is atomic; the counters of one call need not share a scope.
        """
        ...

    def health(self) -> CacheHealth:
        """Whether the backend answers now (a round trip, unless it is known to be down)."""
        ...

    def close(self) -> None:
        """Release connections. Idempotent."""
        ...


def check_scope(scope: str) -> str:
    """Return ``scope`` if it can name a scope: non-empty, short, and without braces
    (which would break Redis Cluster's hash tag); else raise ``ValueError``."""
    if not scope or len(scope) > MAX_SCOPE_LENGTH or "{" in scope or "}" in scope:
        raise ValueError(f"invalid cache scope {scope!r}")
    return scope


class Codec(Protocol[T]):
    """Turns values of one type into bytes and back."""

    def encode(self, value: T) -> bytes:
        """The bytes of ``value``."""
        ...

    def decode(self, data: bytes) -> T:
        """The value of ``data``; ``ValueError`` when ``data`` is not one."""
        ...


class JsonCodec(Generic[T]):
    """JSON through pydantic: models, dataclasses, lists and dicts of them."""

    def __init__(self, type_: type[T]) -> None:
        self._adapter: TypeAdapter[T] = TypeAdapter(type_)

    def encode(self, value: T) -> bytes:
        """The JSON of ``value``."""
        return self._adapter.dump_json(value)

    def decode(self, data: bytes) -> T:
        """The value of JSON ``data`` (pydantic's ValidationError is a ValueError)."""
        return self._adapter.validate_json(data)


def get_or_load(
    cache: Cache,
    scope: str,
    key: str,
    load: Callable[[], T],
    *,
    codec: Codec[T],
    ttl: float,
    observer: CacheObserver = NULL_OBSERVER,
    kind: str = "metadata",
) -> T:
    """The cached value of ``key``, or ``load()`` (then cached for ``ttl`` seconds).

    For slowly changing lookups such as asset metadata from a model registry: every
    process shares what one loaded, and an unavailable cache only means ``load`` runs.
    A cached value that no longer decodes (written by another version) is loaded again.
    """
    found = cache.get_many(scope, [key])
    if found is not None and found[0] is not None:
        try:
            value = codec.decode(found[0])
        except ValueError:
            pass
        else:
            observer.cache_lookup(kind, True)
            return value
    observer.cache_lookup(kind, False)
    value = load()
    if found is not None:  # the cache answered: it is worth writing to
        cache.set(scope, key, codec.encode(value), ttl)
    return value


__all__ = [
    "MAX_SCOPE_LENGTH",
    "NULL_OBSERVER",
    "Cache",
    "CacheHealth",
    "CacheObserver",
    "Codec",
    "JsonCodec",
    "check_scope",
    "get_or_load",
]
