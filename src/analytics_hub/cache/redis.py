"""The Redis cache: one Redis server, or a Redis Cluster.

URLs (see ``docs/operations/cache.md``):

- ``redis://[[user]:password@]host[:port][/db]`` (``rediss://`` for TLS): one server;
- ``redis+cluster://[[user]:password@]host:port[,host:port...]`` (``rediss+cluster://``):
  a cluster, found from any of the listed nodes;
- either may end in ``?prefix=<text>`` (default ``hub:``) to share one Redis between hubs.

Keys are ``<prefix>{<scope>}:<key>``. The braces are Redis Cluster's hash tag: a scope's
keys (a tenant's query results and generation counters) live in one slot, so that
reading several of them is one ``MGET`` on one node.

Failure: sockets time out after ``timeout`` seconds, a failed call is retried at most
once (a pooled connection to a restarted server is simply dead), and a
:class:`~analytics_hub.cache.breaker.CircuitBreaker` skips calls for ``retry_seconds``
after a failure, so a dead Redis costs one timeout per interval, not one per request.
Every operation then answers as a miss. An outage is logged when it starts and when it
is over, not once per request.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import parse_qs, unquote

import structlog
from redis import Redis
from redis.backoff import NoBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import RedisClusterException, RedisError
from redis.retry import Retry

from analytics_hub.cache.base import NULL_OBSERVER, CacheHealth, CacheObserver, check_scope
from analytics_hub.cache.breaker import CircuitBreaker
from analytics_hub.errors import ValidationError

log = structlog.get_logger(__name__)

T = TypeVar("T")
Client = Redis | RedisCluster

DEFAULT_PORT = 6379
DEFAULT_PREFIX = "hub:"
_SCHEMES = {
    "redis": (False, False),
    "rediss": (False, True),
    "redis+cluster": (True, False),
    "rediss+cluster": (True, True),
}
_FAILURES = (RedisError, RedisClusterException, OSError)


@dataclass(frozen=True, slots=True)
class RedisTarget:
    """Where a Redis URL points."""

    cluster: bool
    nodes: tuple[tuple[str, int], ...]
    db: int = 0
    username: str | None = None
    password: str | None = None
    tls: bool = False
    prefix: str = DEFAULT_PREFIX

    def describe(self) -> str:
        """The URL without credentials (for logs and ``/readyz``)."""
        scheme = ("rediss" if self.tls else "redis") + ("+cluster" if self.cluster else "")
        hosts = ",".join(f"{h}:{p}" for h, p in self.nodes)
        return f"{scheme}://{hosts}" + ("" if self.cluster else f"/{self.db}")


def parse_redis_url(url: str) -> RedisTarget:
    """Parse a cache URL; ``ValidationError`` says what is wrong with a bad one."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep or scheme.lower() not in _SCHEMES:
        raise ValidationError(
            f"unsupported cache URL {url!r}: use memory, redis://host:6379/0 or "
            "redis+cluster://host:port[,host:port...]"
        )
    cluster, tls = _SCHEMES[scheme.lower()]
    rest, _, query = rest.partition("?")
    netloc, _, path = rest.partition("/")
    username = password = None
    if "@" in netloc:
        userinfo, netloc = netloc.rsplit("@", 1)
        user, has_password, secret = userinfo.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if has_password else None
    nodes = tuple(_node(part, url) for part in netloc.split(",") if part.strip())
    if not nodes:
        raise ValidationError(f"cache URL {url!r} names no host")
    if len(nodes) > 1 and not cluster:
        raise ValidationError(
            f"cache URL {url!r} lists several hosts: use redis+cluster:// for a cluster"
        )
    db = 0
    if path.strip("/"):
        try:
            db = int(path.strip("/"))
        except ValueError:
            raise ValidationError(f"cache URL {url!r}: the database must be a number") from None
    if cluster and db != 0:
        raise ValidationError(f"cache URL {url!r}: a Redis Cluster has only database 0")
    options = parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(options) - {"prefix"})
    if unknown:
        raise ValidationError(f"cache URL {url!r}: unknown option(s) {', '.join(unknown)}")
    prefix = options.get("prefix", [DEFAULT_PREFIX])[-1]
    return RedisTarget(cluster, nodes, db, username, password, tls, prefix)


def _node(text: str, url: str) -> tuple[str, int]:
    text = text.strip()
    if text.startswith("["):  # [v6 address]:port
        host, _, port = text[1:].partition("]")
        port = port.removeprefix(":")
    else:
        host, _, port = text.rpartition(":") if ":" in text else (text, "", "")
    try:
        return host, int(port) if port else DEFAULT_PORT
    except ValueError:
        raise ValidationError(f"cache URL {url!r}: bad port in {text!r}") from None


class RedisCache:
    """A ``Cache`` on Redis or Redis Cluster (redis-py, a connection pool per node).

    Connects lazily: a hub starts, and answers from its store, while Redis is down.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 0.25,
        retry_seconds: float = 5.0,
        observer: CacheObserver = NULL_OBSERVER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.target = parse_redis_url(url)
        self.name = "redis-cluster" if self.target.cluster else "redis"
        self._timeout = timeout
        self._observer = observer
        self._breaker = CircuitBreaker(retry_seconds, clock=clock)
        self._clock = clock
        self._retry_seconds = retry_seconds
        self._log_lock = threading.Lock()
        self._outage_logged = False
        self._up_since = 0.0
        self._client: Client | None = None
        self._client_lock = threading.Lock()
        self._closed = False

    def key(self, scope: str, key: str) -> str:
        """The Redis key of ``key`` in ``scope``."""
        return f"{self.target.prefix}{{{check_scope(scope)}}}:{key}"

    def get_many(self, scope: str, keys: Sequence[str]) -> list[bytes | None] | None:
        """One ``MGET`` (one slot: the scope's hash tag); ``None`` if Redis did not answer."""
        names = [self.key(scope, k) for k in keys]
        if not names:
            return []
        found = self._call("get", lambda c: c.mget(names))
        return None if found is None else list(cast("list[bytes | None]", found))

    def set(self, scope: str, key: str, value: bytes, ttl: float) -> None:
        """``SET key value PX ttl``."""
        name = self.key(scope, key)
        if ttl > 0:
            self._call("set", lambda c: c.set(name, value, px=max(1, round(ttl * 1000))))

    def incr(self, counters: Sequence[tuple[str, str]], ttl: float) -> list[int] | None:
        """``INCR`` and ``PEXPIRE`` of every counter, pipelined (one round trip per node).

        Not a transaction: a client that dies between the two leaves a counter without
        an expiry, which only costs memory (counter names carry their window or day).
        """
        names = [self.key(scope, key) for scope, key in counters]
        if not names:
            return []
        ms = max(1, round(ttl * 1000))

        def run(client: Client) -> list[int]:
            pipe = client.pipeline(transaction=False)
            for name in names:
                pipe.incr(name)
                pipe.pexpire(name, ms)
            replies = pipe.execute()
            return [int(v) for v in replies[::2]]

        return self._call("incr", run)

    def health(self) -> CacheHealth:
        """``PING``, unless the circuit is open and no probe is due."""
        if self._call("ping", lambda c: c.ping()):
            return CacheHealth(True)
        return CacheHealth(False, self._breaker.reason or "no answer")

    def close(self) -> None:
        """Close every connection; later calls answer as misses."""
        with self._client_lock:
            self._closed = True
            client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(*_FAILURES):
                client.close()

    # -- internals ------------------------------------------------------------------------

    def _connect(self) -> Client:
        with self._client_lock:
            if self._closed:  # closed while this call was on its way
                raise RedisError("the cache is closed")
            if self._client is None:
                self._client = self._make_client()
            return self._client

    def _make_client(self) -> Client:
        t = self.target
        common: dict[str, Any] = {
            "username": t.username,
            "password": t.password,
            "ssl": t.tls,
            "socket_timeout": self._timeout,
            "socket_connect_timeout": self._timeout,
            # One retry: a pooled connection to a restarted server is dead, a new one is
            # not. More would multiply the timeout a dead server costs.
            "retry": Retry(NoBackoff(), 1),
        }
        if not t.cluster:
            host, port = t.nodes[0]
            return Redis(host=host, port=port, db=t.db, **common)
        # The cluster client reads the slot map now; this raises while no node answers.
        return RedisCluster(
            startup_nodes=[ClusterNode(h, p) for h, p in t.nodes],  # type: ignore[no-untyped-call]
            # Serve the slots that have a master while a failover is under way.
            require_full_coverage=False,
            **common,
        )

    def _call(self, operation: str, fn: Callable[[Client], T]) -> T | None:
        if self._closed or not self._breaker.allow():
            return None
        try:
            result = fn(self._connect())
        except _FAILURES as exc:
            self._observer.cache_error(operation)
            reason = f"{type(exc).__name__}: {exc}"[:300]
            if self._breaker.failed(reason):
                self._observer.cache_state(False)
                self._outage_started(reason)
            return None
        if self._breaker.succeeded():
            self._observer.cache_state(True)
            self._up_since = self._clock()
        if self._outage_logged:
            self._outage_maybe_over()
        return result

    # An outage is logged when it starts and once the cache has answered for a whole retry
    # interval since: a cluster with one master down answers for some slots and not for
    # others, and would otherwise log a pair of lines per interval until its failover.

    def _outage_started(self, reason: str) -> None:
        with self._log_lock:
            if self._outage_logged:
                return
            self._outage_logged = True
        log.warning(
            "cache unavailable; queries go to the store until it answers",
            cache=self.target.describe(),
            error=reason,
        )

    def _outage_maybe_over(self) -> None:
        with self._log_lock:
            if not self._outage_logged or self._breaker.is_open:
                return
            if self._clock() - self._up_since < self._retry_seconds:
                return
            self._outage_logged = False
        log.info("cache available again", cache=self.target.describe())


__all__ = ["DEFAULT_PREFIX", "RedisCache", "RedisTarget", "parse_redis_url"]
