"""The anomaly API over HTTP, with the streaming scorer driving the real app's store and
live feed: a planted spike is stored, pushed to a subscriber, listed, shown in context,
labelled; roles, tenancy and bad input are checked on the way.

The hub runs with its own background scorer off (``anomaly_enabled=False``) so that the
test decides when each minute closes: it drives an :class:`AnomalyStream` on the app's
store with a clock of its own, publishing to the app's live feed, as the background task
would.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.integration.analytics.traffic import NOW, Clock, write_history, write_series
from tests.integration.api.conftest import LiveHub, serve
from websockets.asyncio.client import connect

from analytics_hub.analytics.anomaly.stream import AnomalyStream, StreamConfig
from analytics_hub.store.base import EventStore

MINUTE = timedelta(minutes=1)
SPIKE = NOW  # the first minute after the history


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    with serve(
        tmp_path_factory.mktemp("anomalies"),
        anomaly_enabled=False,
        anomaly_warm_start_hours=30.0,
        anomaly_detect_max_series=5,
    ) as h:
        yield h


class Tenant:
    """A tenant of its own with a read and an admin key."""

    def __init__(self, hub: LiveHub) -> None:
        self.id = hub.tenant()
        self.read = hub.key(self.id, "read")
        self.admin = hub.key(self.id, "admin")


def _client(hub: LiveHub, key: str) -> httpx.Client:
    return httpx.Client(base_url=hub.url, headers={"Authorization": f"Bearer {key}"}, timeout=60)


@pytest.fixture(scope="module")
def scene(hub: LiveHub) -> dict[str, Any]:
    """Two tenants with history; one spike in one of the first tenant's series, scored by
    the stream while a live connection of that tenant listens for anomalies."""
    a, b = Tenant(hub), Tenant(hub)
    store: EventStore = hub.services.anomalies.store
    series = [(a.id, "asset-0"), (a.id, "asset-1"), (b.id, "asset-0")]
    write_history(store, series, hours=30)
    clock = Clock(NOW + timedelta(seconds=2))
    stream = AnomalyStream(
        store,
        StreamConfig(warm_start_hours=30.0),
        publish=hub.services.live.publish_anomalies,
        clock=clock,
    )
    assert stream.tick() is not None  # primes every series
    for k, (tenant, asset) in enumerate(series):
        calls, errors = (400, 0.5) if (tenant, asset) == (a.id, "asset-1") else (30, 0.01)
        write_series(store, tenant, asset, [calls], start=SPIKE, seed=5000 + k, error_rate=errors)

    async def listen() -> list[dict[str, Any]]:
        url = hub.stream_url + "?events=false&anomalies=true"
        async with connect(url, compression=None) as ws:
            await ws.send(json.dumps({"type": "auth", "key": a.read}))
            ready = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert ready["type"] == "ready", ready
            assert ready["anomalies"] is True
            clock.now = SPIKE + MINUTE + timedelta(seconds=2)  # the spike's minute closes
            report = await asyncio.to_thread(stream.tick)
            assert report is not None
            assert report.anomalies
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert message["type"] == "anomalies", message
            documents: list[dict[str, Any]] = message["anomalies"]
            return documents

    pushed = asyncio.run(listen())
    return {"a": a, "b": b, "pushed": pushed, "store": store}


def test_the_spike_is_pushed_live_and_listed(hub: LiveHub, scene: dict[str, Any]) -> None:
    a: Tenant = scene["a"]
    pushed = scene["pushed"]
    assert {(d["asset_id"], d["minute"]) for d in pushed} == {("asset-1", "2025-06-02T12:00:00Z")}
    with _client(hub, a.read) as client:
        r = client.get("/api/v1/anomalies", params={"metric": "requests"})
        assert r.status_code == 200, r.text
        (item,) = r.json()["items"]
        assert item == next(d for d in pushed if d["metric"] == "requests")
        assert item["observed"] == 400
        assert item["source"] == "stream"
        assert item["latency_ms"] == 2000
        assert item["expected_low"] <= item["expected_high"] < 400
        everything = client.get("/api/v1/anomalies", params={"from": "2025-06-02T12:00:00Z"})
        assert len(everything.json()["items"]) == len(pushed)
        # paged newest first, one at a time
        ids, cursor = [], None
        while True:
            params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
            page = client.get("/api/v1/anomalies", params=params).json()
            ids += [i["id"] for i in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(ids) == sorted(d["id"] for d in pushed)


def test_one_anomaly_in_context(hub: LiveHub, scene: dict[str, Any]) -> None:
    a: Tenant = scene["a"]
    item = next(d for d in scene["pushed"] if d["metric"] == "requests")
    with _client(hub, a.read) as client:
        r = client.get(f"/api/v1/anomalies/{item['id']}", params={"context_minutes": 1})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["anomaly"] == item
    points = body["context"]["points"]
    assert [p["minute"] for p in points] == [
        "2025-06-02T11:59:00Z",
        "2025-06-02T12:00:00Z",
        "2025-06-02T12:01:00Z",
    ]
    assert points[1]["value"] == 400
    assert points[2]["value"] == 0  # a minute after the data: no calls
    assert (body["context"]["expected_low"], body["context"]["expected_high"]) == (
        item["expected_low"],
        item["expected_high"],
    )
    assert body["series"] == {
        "asset_id": "asset-1",
        "model_id": "gpt-4o",
        "metric": "requests",
        "offset": 0.0,
        "threshold": item["threshold"],
        "false_positives": 0,
        "true_positives": 0,
    }


def test_other_tenants_see_nothing_of_it(hub: LiveHub, scene: dict[str, Any]) -> None:
    b: Tenant = scene["b"]
    item = scene["pushed"][0]
    with _client(hub, b.admin) as client:
        assert client.get("/api/v1/anomalies").json()["items"] == []
        r = client.get(f"/api/v1/anomalies/{item['id']}")
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "not_found"
        feedback = {"label": "false_positive"}
        r = client.post(f"/api/v1/anomalies/{item['id']}/feedback", json=feedback)
        assert r.status_code == 404
        assert client.delete(f"/api/v1/anomalies/{item['id']}/feedback").status_code == 404
        assert client.get("/api/v1/anomalies/thresholds").json()["items"] == []
        versions = client.get("/api/v1/anomalies/versions").json()["items"]
        assert [v["asset_id"] for v in versions] == ["asset-0"]


def test_feedback_moves_the_threshold_and_can_be_withdrawn(
    hub: LiveHub, scene: dict[str, Any]
) -> None:
    a: Tenant = scene["a"]
    item = next(d for d in scene["pushed"] if d["metric"] == "error_rate")
    url = f"/api/v1/anomalies/{item['id']}/feedback"
    with _client(hub, a.read) as reader:
        assert reader.post(url, json={"label": "false_positive"}).status_code == 403
    with _client(hub, a.admin) as admin:
        r = admin.post(url, json={"label": "maybe"})
        assert r.status_code == 400
        assert r.json()["error"]["code"] == "invalid_request"
        r = admin.post(url, json={"label": "false_positive"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["anomaly"]["label"] == "false_positive"
        assert body["series"]["offset"] == 0.5
        assert body["series"]["threshold"] > item["threshold"]
        listed = admin.get("/api/v1/anomalies/thresholds").json()["items"]
        assert listed == [body["series"]]
        shown = admin.get(f"/api/v1/anomalies/{item['id']}").json()
        assert shown["series"] == body["series"]
        assert shown["anomaly"]["label"] == "false_positive"
        r = admin.post(url, json={"label": "true_positive"})
        assert r.json()["series"]["offset"] == 0.0
        r = admin.delete(url)
        assert r.status_code == 200
        assert r.json()["anomaly"]["label"] is None
        assert r.json()["series"] == {
            **body["series"],
            "offset": 0.0,
            "threshold": item["threshold"],
            "false_positives": 0,
        }


def test_detect_over_history(hub: LiveHub, scene: dict[str, Any]) -> None:
    a: Tenant = scene["a"]
    body = {"from": "2025-06-02T11:00:00Z", "to": "2025-06-02T12:02:00Z", "metric": "requests"}
    with _client(hub, a.read) as reader:
        r = reader.post("/api/v1/anomalies/detect", json=body)
        assert r.status_code == 200, r.text
        found = r.json()
        assert found["series"] == 2
        assert found["minutes"] == 62
        assert found["stored"] is None
        spike = [x for x in found["anomalies"] if x["minute"] == "2025-06-02T12:00:00Z"]
        assert [(x["asset_id"], x["source"]) for x in spike] == [("asset-1", "detect")]
        # the stream stored that one already: the same id
        assert spike[0]["id"] == next(d["id"] for d in scene["pushed"] if d["metric"] == "requests")
        assert (
            reader.post("/api/v1/anomalies/detect", json={**body, "store": True}).status_code == 403
        )
    with _client(hub, a.admin) as admin:
        r = admin.post("/api/v1/anomalies/detect", json={**body, "store": True})
        assert r.status_code == 200, r.text
        already = {d["id"] for d in scene["pushed"]}  # stored by the stream: kept as they are
        fresh = {x["id"] for x in r.json()["anomalies"]} - already
        assert r.json()["stored"] == len(fresh)


@pytest.mark.parametrize(
    ("method", "path", "payload", "message"),
    [
        ("GET", "/api/v1/anomalies?metric=latency", None, "unknown metric 'latency'"),
        ("GET", "/api/v1/anomalies?cursor=zzz", None, "invalid cursor"),
        (
            "GET",
            "/api/v1/anomalies?from=2025-06-02T12:00:00Z&to=2025-06-02T11:00:00Z",
            None,
            "empty",
        ),
        (
            "POST",
            "/api/v1/anomalies/detect",
            {"from": "2025-06-02T12:00:00Z", "to": "2025-06-02T12:00:00Z"},
            "empty range",
        ),
        (
            "POST",
            "/api/v1/anomalies/detect",
            {"from": "2025-06-02T11:00:00Z", "to": "2025-06-02T12:00:00Z", "metric": "x"},
            "unknown metric 'x'",
        ),
        (
            "POST",
            "/api/v1/anomalies/detect",
            {"from": "2025-06-02T11:00:00", "to": "2025-06-02T12:00:00Z"},
            "timezone",
        ),
        (
            "POST",
            "/api/v1/anomalies/detect",
            {"from": "2025-05-01T00:00:00Z", "to": "2025-06-01T00:00:00Z"},
            "at most 7 days",
        ),
    ],
)
def test_bad_input_is_a_clear_400(
    hub: LiveHub, scene: dict[str, Any], method: str, path: str, payload: Any, message: str
) -> None:
    a: Tenant = scene["a"]
    with _client(hub, a.read) as client:
        r = client.request(method, path, json=payload)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_request"
    assert message in error["message"]


def test_retrain_needs_the_stream(hub: LiveHub, scene: dict[str, Any], tmp_path: Path) -> None:
    a: Tenant = scene["a"]
    with _client(hub, a.read) as reader:
        assert reader.post("/api/v1/anomalies/retrain", json={}).status_code == 403
    with _client(hub, a.admin) as admin:
        r = admin.post("/api/v1/anomalies/retrain", json={})
    assert r.status_code == 409  # this hub's scorer is off
    assert "HUB_ANOMALY_ENABLED" in r.json()["error"]["message"]
    with serve(tmp_path / "on") as on:
        tenant = on.tenant()
        with _client(on, on.key(tenant, "admin")) as admin:
            r = admin.post("/api/v1/anomalies/retrain", json={"asset_id": "asset-0"})
        assert r.status_code == 200, r.text
        assert r.json() == {"queued": 0}  # nothing seen yet
