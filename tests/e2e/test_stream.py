"""The live feed of a real ``analytics-hub serve``, read as the web UI reads it.

A browser cannot set headers on a WebSocket: these clients authenticate with the first
message. The restart test follows the recovery the docs describe: reconnect, then fill
the gap from the REST API with ``received_at`` after the last event seen.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from tests.e2e.harness import Hub
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from analytics_hub.testing.envelopes import llm_call


def _stream_url(hub: Hub) -> str:
    return hub.url.replace("http://", "ws://") + "/api/v1/stream"


async def _receive(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return message


async def _ready(ws: ClientConnection, hub: Hub, tenant: str = "acme") -> dict[str, Any]:
    await ws.send(json.dumps({"type": "auth", "key": hub.keys[f"{tenant}:read"]}))
    ready = await _receive(ws)
    assert ready["type"] == "ready", ready
    return ready


def _post(hub: Hub, event: dict[str, Any], wait: str = "durable") -> None:
    with hub.client("acme", "ingest") as c:
        r = c.post("/api/v1/events", json=[event], params={"wait": wait})
    assert r.status_code == 202, r.text


def test_a_posted_event_is_pushed_within_two_seconds(hub: Hub) -> None:
    event = llm_call(asset_id="e2e-live")

    async def scenario() -> tuple[dict[str, Any], float, dict[str, Any]]:
        async with connect(_stream_url(hub)) as ws, connect(_stream_url(hub)) as other:
            await _ready(ws, hub)
            await _ready(other, hub, "globex")
            started = time.monotonic()
            await asyncio.to_thread(_post, hub, event)
            message = await _receive(ws, timeout=2.0)
            elapsed = time.monotonic() - started
            await other.send('{"type": "ping"}')
            # globex's next message is the pong: acme's event never reached it
            return message, elapsed, await _receive(other)

    message, elapsed, other = asyncio.run(scenario())
    assert elapsed < 2.0
    [pushed] = message["events"]
    with hub.client("acme", "read") as c:
        assert pushed == c.get(f"/api/v1/events/{event['event_id']}").json()
    assert other["type"] == "pong"


@pytest.mark.slow
def test_a_client_recovers_after_a_restart_and_fills_the_gap(fresh_hub: Hub) -> None:
    hub = fresh_hub
    before, during = llm_call(asset_id="before"), llm_call(asset_id="during")

    async def until_restart() -> tuple[dict[str, Any], int]:
        async with connect(_stream_url(hub)) as ws:
            await _ready(ws, hub)
            await asyncio.to_thread(_post, hub, before)
            [seen] = (await _receive(ws))["events"]
            await asyncio.to_thread(hub.proc.stop)
            with pytest.raises(ConnectionClosed) as closed:
                await _receive(ws)
            assert closed.value.rcvd is not None
            return seen, closed.value.rcvd.code

    seen, code = asyncio.run(until_restart())
    assert code == 1012  # "service restart": reconnect
    hub.proc.start()
    _post(hub, during, wait="visible")  # stored while no client was connected

    async def after_restart() -> tuple[dict[str, Any], dict[str, Any]]:
        async with connect(_stream_url(hub)) as ws:
            ready = await _ready(ws, hub)
            after = llm_call(asset_id="after")
            await asyncio.to_thread(_post, hub, after)
            return ready, await _receive(ws)

    ready, message = asyncio.run(after_restart())
    assert ready["server_time"] > seen["hub"]["received_at"]
    assert [e["asset_id"] for e in message["events"]] == ["after"]
    with hub.client("acme", "read") as c:
        gap = c.get(
            "/api/v1/events", params={"filter": f"received_at:gt:{seen['hub']['received_at']}"}
        ).json()["events"]
    assert {e["asset_id"] for e in gap} == {"during", "after"}
