"""Bad input gets a clean, specific 4xx in the one error envelope; the server stays healthy."""

from __future__ import annotations

import gzip
import zlib

import httpx
import pytest
import zstandard
from tests.e2e.harness import Hub

from analytics_hub.testing.envelopes import llm_call


def _envelope_ok(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]


def _still_healthy(hub: Hub) -> None:
    assert httpx.get(f"{hub.url}/healthz").status_code == 200
    with hub.client("acme", "ingest") as c:
        assert c.post("/api/v1/events", json=[llm_call()]).json()["accepted"] == 1


def _gzip_bomb(size: int) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b" " * (1 << 20)
    return b"".join(comp.compress(chunk) for _ in range(size >> 20)) + comp.flush()


@pytest.mark.parametrize(
    ("content", "headers", "status", "code"),
    [
        (b"{not json", {"Content-Type": "application/json"}, 400, "undecodable_body"),
        (b"\xff\xfe\x00garbage", {"Content-Type": "application/json"}, 400, "undecodable_body"),
        (b"42", {"Content-Type": "application/json"}, 400, "undecodable_body"),
        (b"[]", {"Content-Type": "text/plain"}, 415, "unsupported_media_type"),
        (b"[]", {}, 415, "unsupported_media_type"),
        (
            b"[]",
            {"Content-Type": "application/json", "Content-Encoding": "br"},
            415,
            "unsupported_media_type",
        ),
        (
            b"not gzip",
            {"Content-Type": "application/json", "Content-Encoding": "gzip"},
            400,
            "undecodable_body",
        ),
        (
            gzip.compress(b"[1, 2")[:-8],
            {"Content-Type": "application/json", "Content-Encoding": "gzip"},
            400,
            "undecodable_body",
        ),
    ],
    ids=[
        "bad-json",
        "binary",
        "scalar",
        "text-plain",
        "no-type",
        "brotli",
        "fake-gzip",
        "truncated-gzip",
    ],
)
def test_malformed_bodies_get_clean_errors(
    hub: Hub, content: bytes, headers: dict[str, str], status: int, code: str
) -> None:
    with hub.client("acme", "ingest") as c:
        _envelope_ok(c.post("/api/v1/events", content=content, headers=headers), status, code)
    _still_healthy(hub)


def test_an_oversized_body_is_413(hub: Hub) -> None:
    big = b"[" + b" " * (11 * 1024 * 1024) + b"]"
    with hub.client("acme", "ingest") as c:
        r = c.post("/api/v1/events", content=big, headers={"Content-Type": "application/json"})
    _envelope_ok(r, 413, "payload_too_large")
    _still_healthy(hub)


def test_too_many_events_is_413(hub: Hub) -> None:
    one = llm_call()
    with hub.client("acme", "ingest") as c:
        r = c.post("/api/v1/events", json=[one] * 10_001)
    _envelope_ok(r, 413, "payload_too_large")
    assert "10000" in r.json()["error"]["message"]


@pytest.mark.parametrize("encoding", ["gzip", "zstd"])
def test_a_decompression_bomb_is_stopped_at_the_limit(hub: Hub, encoding: str) -> None:
    size = 1 << 30  # 1 GiB of spaces
    bomb = (
        _gzip_bomb(size)
        if encoding == "gzip"
        else zstandard.ZstdCompressor(level=3).compress(b" " * (64 << 20))
    )
    with hub.client("acme", "ingest") as c:
        r = c.post(
            "/api/v1/events",
            content=bomb,
            headers={"Content-Type": "application/json", "Content-Encoding": encoding},
        )
    _envelope_ok(r, 413, "payload_too_large")
    _still_healthy(hub)


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "unauthenticated"),
        ({"Authorization": "Bearer hub_nope"}, 401, "unauthenticated"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 401, "unauthenticated"),
    ],
)
def test_missing_or_bad_credentials_are_401(
    hub: Hub, headers: dict[str, str], status: int, code: str
) -> None:
    r = httpx.post(f"{hub.url}/api/v1/events", json=[llm_call()], headers=headers)
    _envelope_ok(r, status, code)
    assert r.headers["www-authenticate"] == "Bearer"


def test_the_x_api_key_header_is_accepted(hub: Hub) -> None:
    r = httpx.post(
        f"{hub.url}/api/v1/events",
        json=[llm_call()],
        headers={"x-api-key": hub.keys["acme:ingest"]},
    )
    assert r.status_code == 202


def test_roles_are_enforced(hub: Hub) -> None:
    with hub.client("acme", "read") as c:
        _envelope_ok(c.post("/api/v1/events", json=[llm_call()]), 403, "forbidden")
    with hub.client("acme", "ingest") as c:
        _envelope_ok(c.post("/api/v1/query", json={}), 403, "forbidden")


def test_an_invalid_query_says_why(hub: Hub) -> None:
    with hub.client("acme", "read") as c:
        r = c.post(
            "/api/v1/query",
            json={
                "time_range": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"},
                "filters": [{"field": "no_such_field", "op": "eq", "value": 1}],
                "aggregates": [{"fn": "count", "as": "n"}],
            },
        )
    _envelope_ok(r, 400, "invalid_request")
    assert "no_such_field" in r.json()["error"]["message"]


def test_unknown_routes_use_the_envelope(hub: Hub) -> None:
    with hub.client() as c:
        _envelope_ok(c.get("/api/v1/nope"), 404, "not_found")


def test_health_endpoints_are_public_and_the_rest_is_not(hub: Hub) -> None:
    for path in ("/healthz", "/readyz", "/metrics"):
        assert httpx.get(f"{hub.url}{path}").status_code == 200, path
    assert httpx.get(f"{hub.url}/api/v1/schema").status_code == 401


def test_metrics_report_ingest_outcomes(hub: Hub) -> None:
    with hub.client("acme", "ingest") as c:
        c.post("/api/v1/events", json=[llm_call(input_tokens=-1)])
    text = httpx.get(f"{hub.url}/metrics").text
    assert 'hub_ingest_events_rejected_total{reason="payload",tenant="acme"}' in text
    assert "hub_pipeline_depth_events" in text
    assert "hub_llm_cost_usd_total" in text
