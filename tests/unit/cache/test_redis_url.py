"""Cache URLs: one server, a cluster, credentials, TLS, a key prefix, and clear refusals."""

from __future__ import annotations

import pytest

from analytics_hub.cache.redis import RedisCache, parse_redis_url
from analytics_hub.errors import ValidationError


def test_a_single_server_url() -> None:
    t = parse_redis_url("redis://:s%40cret@cache.internal:6380/2")
    assert (t.cluster, t.nodes, t.db, t.username, t.password, t.tls) == (
        False,
        (("cache.internal", 6380),),
        2,
        None,
        "s@cret",
        False,
    )
    assert t.prefix == "hub:"
    assert t.describe() == "redis://cache.internal:6380/2"  # no password in logs
    assert parse_redis_url("redis://localhost").nodes == (("localhost", 6379),)


def test_a_cluster_url_lists_its_nodes() -> None:
    t = parse_redis_url("rediss+cluster://hub:pw@10.0.0.1:7000,10.0.0.2:7001,[::1]:7002?prefix=a:")
    assert t.cluster
    assert t.tls
    assert t.nodes == (("10.0.0.1", 7000), ("10.0.0.2", 7001), ("::1", 7002))
    assert (t.username, t.password, t.prefix) == ("hub", "pw", "a:")
    assert t.describe().startswith("rediss+cluster://10.0.0.1:7000,")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("memcached://x:11211", "unsupported cache URL"),
        ("redis://", "names no host"),
        ("redis://a:1,b:2", "redis\\+cluster"),
        ("redis://a:port", "bad port"),
        ("redis://a:6379/x", "database must be a number"),
        ("redis+cluster://a:7000/3", "only database 0"),
        ("redis://a:6379/0?timeout=1", "unknown option"),
    ],
)
def test_bad_urls_are_refused_with_the_reason(url: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_redis_url(url)


def test_keys_carry_the_scope_as_a_hash_tag() -> None:
    cache = RedisCache("redis+cluster://127.0.0.1:7000?prefix=x:")  # connects lazily
    assert cache.key("acme", "gen:20000") == "x:{acme}:gen:20000"
    with pytest.raises(ValueError, match="scope"):
        cache.key("a{b", "k")
    cache.close()
    assert cache.get_many("acme", ["k"]) is None  # closed: a miss, no connection
