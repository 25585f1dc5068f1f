"""Ingest over HTTP and read it back, as a user would."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import UTC, datetime, timedelta

import msgspec
import zstandard
from tests.e2e.harness import Hub

from analytics_hub.testing.envelopes import llm_call, realistic_calls


def _window(minutes: int = 10) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "from": (now - timedelta(minutes=minutes)).isoformat(),
        "to": (now + timedelta(minutes=1)).isoformat(),
    }


def _count(hub: Hub, tenant: str, asset: str) -> int:
    with hub.client(tenant, "read") as c:
        r = c.post(
            "/api/v1/query",
            json={
                "time_range": _window(60),
                "filters": [{"field": "asset_id", "op": "eq", "value": asset}],
                "aggregates": [{"fn": "count", "as": "n"}],
            },
        )
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    return int(rows[0]["n"]) if rows else 0


def test_ingested_events_are_queryable_at_once(hub: Hub) -> None:
    asset = f"e2e-{uuid.uuid4().hex[:8]}"
    events = [
        llm_call(asset_id=asset, model_id=m, latency_ms=100.0 * (i + 1))
        for i, m in enumerate(["gpt-4o", "gpt-4o", "claude-sonnet-4"])
    ]
    with hub.client("acme", "ingest") as c:
        r = c.post("/api/v1/events", json=events)
    assert r.status_code == 202, r.text
    assert r.json() == {"accepted": 3, "rejected": 0, "errors": []}
    with hub.client("acme", "read") as c:
        r = c.post(
            "/api/v1/query",
            json={
                "time_range": _window(),
                "filters": [{"field": "asset_id", "op": "eq", "value": asset}],
                "group_by": ["model_id"],
                "aggregates": [
                    {"fn": "count", "as": "calls"},
                    {"fn": "max", "field": "latency_ms", "as": "slowest"},
                ],
                "order_by": [{"field": "model_id", "direction": "asc"}],
            },
        )
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    assert [(row["model_id"], row["calls"], row["slowest"]) for row in rows] == [
        ("claude-sonnet-4", 1, 300.0),
        ("gpt-4o", 2, 200.0),
    ]


def test_a_mixed_batch_keeps_the_valid_events_and_reports_each_invalid_one(hub: Hub) -> None:
    asset = f"mixed-{uuid.uuid4().hex[:8]}"
    good = llm_call(asset_id=asset)
    negative = llm_call(asset_id=asset, input_tokens=-5)
    no_time = llm_call(asset_id=asset)
    del no_time["timestamp"]
    batch = [good, negative, llm_call(asset_id=asset), no_time]
    with hub.client("acme", "ingest") as c:
        r = c.post("/api/v1/events", json=batch)
    assert r.status_code == 202, r.text
    body = r.json()
    assert (body["accepted"], body["rejected"]) == (2, 2)
    by_index = {e["index"]: e for e in body["errors"]}
    assert set(by_index) == {1, 3}
    assert by_index[1]["field"] == "payload.data.input_tokens"
    assert by_index[3]["field"] == "timestamp"
    assert _count(hub, "acme", asset) == 2
    with hub.client("acme", "read") as c:
        letters = c.get("/api/v1/dead-letters", params={"limit": 1000}).json()["items"]
    mine = [d for d in letters if asset in d["raw"]]
    assert sorted(d["index"] for d in mine) == [1, 3]


def test_ndjson_gzip_and_zstd_bodies_are_accepted(hub: Hub) -> None:
    asset = f"enc-{uuid.uuid4().hex[:8]}"
    lines = b"\n".join(msgspec.json.encode(llm_call(asset_id=asset)) for _ in range(4)) + b"\n"
    gz = msgspec.json.encode([llm_call(asset_id=asset) for _ in range(3)])
    zs = msgspec.json.encode([llm_call(asset_id=asset) for _ in range(3)])
    with hub.client("acme", "ingest") as c:
        r1 = c.post(
            "/api/v1/events", content=lines, headers={"Content-Type": "application/x-ndjson"}
        )
        r2 = c.post(
            "/api/v1/events",
            content=gzip.compress(gz),
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )
        r3 = c.post(
            "/api/v1/events",
            content=zstandard.compress(zs),
            headers={"Content-Type": "application/json", "Content-Encoding": "zstd"},
        )
    assert [r.json()["accepted"] for r in (r1, r2, r3)] == [4, 3, 3]
    assert _count(hub, "acme", asset) == 10


def test_resending_the_same_events_does_not_count_them_twice(hub: Hub) -> None:
    asset = f"dup-{uuid.uuid4().hex[:8]}"
    events = [llm_call(asset_id=asset) for _ in range(5)]
    with hub.client("acme", "ingest") as c:
        for _ in range(3):
            assert c.post("/api/v1/events", json=events).status_code == 202
        # and once more with a duplicate inside the batch
        assert c.post("/api/v1/events", json=events + events[:2]).status_code == 202
    assert _count(hub, "acme", asset) == 5


def test_two_tenants_never_see_each_others_data(hub: Hub) -> None:
    asset = f"iso-{uuid.uuid4().hex[:8]}"
    ev = llm_call(asset_id=asset)
    with hub.client("acme", "ingest") as c:
        assert c.post("/api/v1/events", json=[ev]).json()["accepted"] == 1
    assert _count(hub, "acme", asset) == 1
    assert _count(hub, "globex", asset) == 0
    with hub.client("globex", "read") as c:
        assert c.get(f"/api/v1/events/{ev['event_id']}").status_code == 404
        page = c.get("/api/v1/events", params={"limit": 1000}).json()
        assert all(e.get("asset_id") != asset for e in page["events"])
        # a filter naming the tenant is refused rather than believed
        r = c.post(
            "/api/v1/query",
            json={
                "time_range": _window(),
                "filters": [{"field": "tenant_id", "op": "eq", "value": "acme"}],
                "aggregates": [{"fn": "count", "as": "n"}],
            },
        )
        assert r.status_code == 400
    with hub.client("acme", "read") as c:
        got = c.get(f"/api/v1/events/{ev['event_id']}")
        assert got.status_code == 200
        assert got.json()["asset_id"] == asset


def test_a_tenant_claimed_in_the_body_is_not_believed(hub: Hub) -> None:
    ev = llm_call(asset_id=f"claim-{uuid.uuid4().hex[:8]}")
    ev["tenant_id"] = "globex"
    with hub.client("acme", "ingest") as c:
        body = c.post("/api/v1/events", json=[ev]).json()
    assert body["accepted"] == 0
    assert body["errors"][0]["field"] == "tenant_id"
    assert _count(hub, "globex", ev["asset_id"]) == 0


def test_events_page_newest_first_and_cursor_covers_everything(hub: Hub) -> None:
    asset = f"page-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    events = [llm_call(asset_id=asset, timestamp=now - timedelta(seconds=i)) for i in range(25)]
    with hub.client("acme", "ingest") as c:
        assert c.post("/api/v1/events", json=events).json()["accepted"] == 25
    seen: list[str] = []
    cursor = None
    with hub.client("acme", "read") as c:
        for _ in range(10):
            params = {"limit": 10, "filter": f"asset_id:eq:{asset}"}
            if cursor:
                params["cursor"] = cursor
            page = c.get("/api/v1/events", params=params).json()
            seen += [e["event_id"] for e in page["events"]]
            cursor = page.get("next_cursor")
            if not cursor:
                break
    assert seen == [e["event_id"] for e in events]


def test_overview_reports_requests_tokens_cost_and_percentiles(hub: Hub) -> None:
    events = realistic_calls(200, seed=7)
    with hub.client("globex", "ingest") as c:
        assert c.post("/api/v1/events", json=events).json()["accepted"] == 200
    now = datetime.now(UTC)
    with hub.client("globex", "read") as c:
        r = c.get(
            "/api/v1/metrics/overview",
            params={
                "from": (now - timedelta(hours=1)).isoformat(),
                "to": (now + timedelta(minutes=1)).isoformat(),
                "bucket": "5m",
            },
        )
    assert r.status_code == 200, r.text
    totals = r.json()["totals"]
    assert totals["requests"] >= 200
    assert totals["cost_usd"] > 0
    assert totals["p50_latency_ms"] <= totals["p95_latency_ms"] <= totals["p99_latency_ms"]
    assert r.json()["top_models_by_cost"]


def test_the_event_schema_is_served(hub: Hub) -> None:
    with hub.client("acme", "read") as c:
        schema = c.get("/api/v1/schema").json()
    assert "payload" in json.dumps(schema)
