"""The live feed of an api process shows what writers in other processes committed."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from analytics_hub.testing.envelopes import llm_call
from analytics_hub.testing.layout import HubLayout

pytestmark = pytest.mark.service


def test_events_committed_by_a_writer_elsewhere_are_pushed_by_the_api(layout: HubLayout) -> None:
    layout.add("writer")
    ingest = layout.add("ingest")
    apis = [layout.add("api"), layout.add("api")]
    ingest_key, read_key = layout.key("acme", "ingest"), layout.key("acme", "read")
    event = llm_call(asset_id=f"live-{uuid.uuid4().hex[:8]}")

    async def scenario() -> list[dict[str, Any]]:
        received = []
        urls = [api.url.replace("http://", "ws://") + "/api/v1/stream" for api in apis]
        async with connect(urls[0]) as first, connect(urls[1]) as second:
            for ws in (first, second):
                await ws.send(json.dumps({"type": "auth", "key": read_key}))
                assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "ready"
            r = await asyncio.to_thread(
                httpx.post,
                f"{ingest.url}/api/v1/events",
                json=[event],
                headers={"Authorization": f"Bearer {ingest_key}"},
            )
            assert r.status_code == 202, r.text
            for ws in (first, second):
                received.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
        return received

    for message in asyncio.run(scenario()):
        assert message["type"] == "events", message
        assert [e["event_id"] for e in message["events"]] == [event["event_id"]]
