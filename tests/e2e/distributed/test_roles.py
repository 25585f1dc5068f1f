"""Role processes on PostgreSQL and NATS JetStream: each does its part, together the whole.

Every test starts real ``analytics-hub serve --role …`` subprocesses against the real
PostgreSQL and NATS servers, on a database and stream of its own.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import time
import uuid
from contextlib import AsyncExitStack
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from redis import Redis
from tests.conftest import require_service
from tests.e2e.distributed.conftest import NATS_URL
from tests.e2e.distributed.traffic import Senders, stored_counts, wait_stored
from websockets.asyncio.client import connect

from analytics_hub.bus.broadcast import NatsBroadcast
from analytics_hub.server.live_fanout import INTEREST_HOLD_SECONDS, ROWS
from analytics_hub.testing.envelopes import llm_call
from analytics_hub.testing.hubprocess import HubProcess
from analytics_hub.testing.layout import HubLayout, metric_value

REDIS_URL = os.environ.get("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

pytestmark = pytest.mark.service


def _asset() -> str:
    return f"roles-{uuid.uuid4().hex[:8]}"


async def _pushed_to_every_api(apis: list[HubProcess], read_key: str, post: Any) -> list[Any]:
    """The first live message each api process pushes after ``post()`` ran."""
    urls = [api.url.replace("http://", "ws://") + "/api/v1/stream" for api in apis]
    async with AsyncExitStack() as stack:
        sockets = [await stack.enter_async_context(connect(url)) for url in urls]
        for ws in sockets:
            await ws.send(json.dumps({"type": "auth", "key": read_key}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "ready"
        await asyncio.to_thread(post)
        return [json.loads(await asyncio.wait_for(ws.recv(), 5)) for ws in sockets]


def test_ingest_writer_and_api_processes_make_one_hub(layout: HubLayout) -> None:
    writer, ingest, api, other_api = layout.start("writer", "ingest", "api", "api")
    ingest_key, read_key = layout.key("acme", "ingest"), layout.key("acme", "read")
    asset = _asset()

    def post(events: list[dict[str, Any]]) -> None:
        r = httpx.post(
            f"{ingest.url}/api/v1/events",
            json=events,
            headers={"Authorization": f"Bearer {ingest_key}"},
        )
        assert r.status_code == 202, r.text

    # The live feed of every api process shows what the writer (elsewhere) committed.
    first = llm_call(asset_id=asset)
    pushed = asyncio.run(_pushed_to_every_api([api, other_api], read_key, lambda: post([first])))
    for message in pushed:
        assert message["type"] == "events", message
        assert [e["event_id"] for e in message["events"]] == [first["event_id"]]

    batch = [llm_call(asset_id=asset) for _ in range(299)]
    post(batch)
    batch.append(first)
    stored = wait_stored(api, read_key, asset, 300, timeout=30)
    assert sorted(stored) == sorted(e["event_id"] for e in batch)
    assert metric_value(writer, "hub_store_events_inserted_total") == 300

    # Each process serves its part only.
    auth = {"Authorization": f"Bearer {read_key}"}
    for node, method, path, role in (
        (ingest, "POST", "/api/v1/query", "api"),
        (api, "POST", "/api/v1/events", "ingest"),
        (api, "POST", "/v1/traces", "ingest"),
        (writer, "GET", "/api/v1/dashboards", "api"),
    ):
        r = httpx.request(method, f"{node.url}{path}", json={}, headers=auth)
        assert r.status_code == 404, (path, r.text)
        assert f"the {role} role" in r.json()["error"]["message"]
    for node, roles in ((writer, "writer"), (ingest, "ingest"), (api, "api")):
        ready = httpx.get(f"{node.url}/readyz").json()
        assert ready["checks"]["roles"] == roles


def test_an_ingest_process_refuses_to_wait_for_visibility(layout: HubLayout) -> None:
    ingest = layout.add("ingest")
    key = layout.key("acme", "ingest")
    r = httpx.post(
        f"{ingest.url}/api/v1/events?wait=visible",
        json=[llm_call(asset_id=_asset())],
        headers={"Authorization": f"Bearer {key}"},
    )
    assert r.status_code == 400
    assert "writer role" in r.json()["error"]["message"]


def test_writers_share_the_work_and_a_killed_one_loses_nothing(layout: HubLayout) -> None:
    *writers, ingest, api = layout.start("writer", "writer", "ingest", "api")
    asset = _asset()
    senders = Senders(ingest, layout.key("acme", "ingest"), asset).start()
    try:
        time.sleep(3.0)
        # The group spreads the work: both writers have committed some of it.
        shares = [metric_value(w, "hub_store_events_inserted_total") for w in writers]
        assert all(share > 0 for share in shares), f"one writer did all the work: {shares}"
        writers[0].kill()  # SIGKILL mid-commit: what it fetched is neither acked nor lost
        time.sleep(2.0)  # ingest goes on: JetStream holds the events, the other writer stores
        writers[0].start()
        time.sleep(1.0)
    finally:
        senders.stop()
    assert len(senders.acked) >= 2000, "the ingest process should have acknowledged events"

    read_key = layout.key("acme", "read")
    # After the ack wait (5 s here) JetStream delivers what the dead writer held again.
    stored = wait_stored(api, read_key, asset, len(senders.acked), timeout=60)
    missing = set(senders.acked) - set(stored)
    assert not missing, f"{len(missing)} acknowledged events were lost"
    twice = [i for i, n in stored.items() if n != 1]
    assert not twice, f"{len(twice)} events stored more than once"
    assert set(stored) <= set(senders.acked) | set(senders.unacked)


def test_the_api_role_answers_while_no_writer_runs(layout: HubLayout) -> None:
    api = layout.add("api")
    counts = stored_counts(api, layout.key("acme", "read"), _asset())
    assert counts == {}
    assert httpx.get(f"{api.url}/readyz").status_code == 200


def test_writers_announce_rows_only_once_a_live_client_wants_them(layout: HubLayout) -> None:
    # With a shared cache, an api process needs the writers' rows only for live clients.
    parts = urlsplit(REDIS_URL)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    require_service("Redis", host, port, "redis-server --daemonize yes --save '' --appendonly no")
    prefix = f"hub-e2e-{secrets.token_hex(4)}:"
    cache = f"{REDIS_URL}?prefix={prefix}"
    writer, ingest, api = (
        layout.add(role, HUB_CACHE=cache) for role in ("writer", "ingest", "api")
    )
    ingest_key, read_key = layout.key("acme", "ingest"), layout.key("acme", "read")
    asset = _asset()
    announced: list[bytes] = []
    listener = NatsBroadcast(NATS_URL, layout.subject_prefix)
    listener.subscribe(ROWS, announced.append)
    listener.start()

    def post(event: dict[str, Any]) -> None:
        r = httpx.post(
            f"{ingest.url}/api/v1/events",
            json=[event],
            headers={"Authorization": f"Bearer {ingest_key}"},
        )
        assert r.status_code == 202, r.text

    try:
        time.sleep(INTEREST_HOLD_SECONDS + 1)  # past the writer's start-up hold
        unseen = llm_call(asset_id=asset)
        post(unseen)
        wait_stored(api, read_key, asset, 1, timeout=30)
        time.sleep(0.5)
        assert announced == []  # stored, and announced to nobody

        # A live client subscribes: its api process says so, and the next rows come.
        seen = llm_call(asset_id=asset)
        (message,) = asyncio.run(_pushed_to_every_api([api], read_key, lambda: post(seen)))
        assert message["type"] == "events", message
        assert [e["event_id"] for e in message["events"]] == [seen["event_id"]]
        assert len(announced) == 1
        assert metric_value(writer, "hub_store_events_inserted_total") == 2
    finally:
        listener.close()
        with Redis(host=host, port=port, db=int(parts.path.strip("/") or 0)) as client:
            stale = list(client.scan_iter(match=f"{prefix}*", count=1000))
            if stale:
                client.delete(*stale)
