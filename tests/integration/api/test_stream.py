"""``GET /api/v1/stream`` over a real socket: auth, tenancy, filters, metrics, slow clients.

The hub is the real app in this process (see ``conftest.py``); the client is the
``websockets`` library, events are posted over HTTP. Each test uses tenants of its own.
Where a test must show that something does *not* arrive, it posts a sentinel event
after the others: events reach the feed in commit order, so what has not arrived by the
time the sentinel does was not sent.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from tests.integration.api.conftest import LiveHub, serve
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from analytics_hub.api.websocket import stream as stream_module
from analytics_hub.query.live import Subscription
from analytics_hub.testing.envelopes import llm_call

Message = dict[str, Any]


async def receive(ws: ClientConnection, timeout: float = 5.0) -> Message:
    message: Message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return message


@asynccontextmanager
async def connected(hub: LiveHub, key: str, query: str = "") -> AsyncIterator[ClientConnection]:
    """A connection authenticated the browser way (an ``auth`` message), past ``ready``."""
    async with connect(f"{hub.stream_url}{query}", compression=None) as ws:
        await ws.send(json.dumps({"type": "auth", "key": key}))
        ready = await receive(ws)
        assert ready["type"] == "ready", ready
        yield ws


async def refusal(ws: ClientConnection) -> tuple[list[Message], int, str]:
    """Messages until the server closes, and the close code and reason."""
    messages = []
    try:
        while True:
            messages.append(await receive(ws))
    except ConnectionClosed as closed:
        close = closed.rcvd
    if close is None:
        raise AssertionError("the connection ended without a close frame")
    return messages, close.code, close.reason


async def post(hub: LiveHub, key: str, events: list[Message]) -> None:
    async with httpx.AsyncClient(base_url=hub.url, timeout=30) as client:
        r = await client.post(
            "/api/v1/events", json=events, headers={"Authorization": f"Bearer {key}"}
        )
    assert r.status_code == 202, r.text
    assert r.json()["rejected"] == 0, r.text


async def events_until(ws: ClientConnection, sentinel: str, timeout: float = 10.0) -> list[Message]:
    """Every event received up to the one with asset ``sentinel`` (excluded)."""
    seen: list[Message] = []
    deadline = time.monotonic() + timeout
    while True:
        message = await receive(ws, max(deadline - time.monotonic(), 0.01))
        assert message["type"] == "events", message
        for event in message["events"]:
            if event["asset_id"] == sentinel:
                return seen
            seen.append(event)


def assets(events: list[Message]) -> list[str]:
    return [e["asset_id"] for e in events]


# -- authentication ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "says"),
    [
        ({"type": "subscribe"}, "authenticate first"),
        ({"type": "auth", "key": "hub_nope"}, "malformed API key"),
        ({"type": "auth", "key": "hub_AAAAAAAAAAAA_" + "x" * 43}, "unknown API key"),
    ],
)
def test_a_connection_without_a_valid_key_is_closed_with_4401(
    hub: LiveHub, first: Message, says: str
) -> None:
    async def scenario() -> tuple[list[Message], int, str]:
        async with connect(hub.stream_url) as ws:
            await ws.send(json.dumps(first))
            return await refusal(ws)

    messages, code, reason = asyncio.run(scenario())
    assert code == 4401
    assert says in reason
    assert messages == [{"type": "error", "code": "unauthenticated", "message": reason}]


def test_a_key_that_may_not_read_is_closed_with_4403(hub: LiveHub) -> None:
    async def scenario() -> tuple[list[Message], int, str]:
        async with connect(hub.stream_url) as ws:
            await ws.send(json.dumps({"type": "auth", "key": hub.key(hub.tenant(), "ingest")}))
            return await refusal(ws)

    _, code, reason = asyncio.run(scenario())
    assert (code, reason) == (4403, "this API key has role 'ingest'; this action needs 'read'")


def test_a_silent_connection_is_closed_after_the_auth_timeout(
    hub: LiveHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream_module, "AUTH_TIMEOUT_SECONDS", 0.3)

    async def scenario() -> tuple[list[Message], int, str]:
        async with connect(hub.stream_url) as ws:
            return await refusal(ws)

    _, code, reason = asyncio.run(scenario())
    assert code == 4401
    assert "no credential within 0.3 s" in reason


def test_non_browser_clients_authenticate_with_a_bearer_header(hub: LiveHub) -> None:
    tenant = hub.tenant()

    async def scenario() -> Message:
        headers = {"Authorization": f"Bearer {hub.key(tenant)}"}
        async with connect(hub.stream_url, additional_headers=headers) as ws:
            return await receive(ws)

    ready = asyncio.run(scenario())
    assert (ready["type"], ready["tenant"], ready["events"], ready["metrics"]) == (
        "ready",
        tenant,
        True,
        False,
    )
    assert abs(datetime.fromisoformat(ready["server_time"]) - datetime.now(UTC)) < timedelta(
        seconds=5
    )


# -- events ------------------------------------------------------------------------------


def test_an_event_arrives_within_two_seconds_as_the_rest_api_renders_it(hub: LiveHub) -> None:
    tenant = hub.tenant()
    read = hub.key(tenant)
    sent = llm_call(asset_id="fast", tags={"team": "search"})

    async def scenario() -> tuple[Message, float]:
        async with connected(hub, read) as ws:
            started = time.monotonic()
            await post(hub, hub.key(tenant, "ingest"), [sent])
            message = await receive(ws, timeout=2.0)
            return message, time.monotonic() - started

    message, elapsed = asyncio.run(scenario())
    assert elapsed < 2.0
    assert message["type"] == "events"
    [event] = message["events"]
    with httpx.Client(base_url=hub.url, headers={"Authorization": f"Bearer {read}"}) as client:
        stored = client.get(f"/api/v1/events/{sent['event_id']}").json()
        listed = client.get("/api/v1/events").json()["events"]
    assert event == stored == listed[0]


def test_a_tenant_never_sees_another_tenant_s_events(hub: LiveHub) -> None:
    a, b = hub.tenant(), hub.tenant()

    async def scenario() -> tuple[list[Message], list[Message]]:
        async with connected(hub, hub.key(a)) as wa, connected(hub, hub.key(b)) as wb:
            await post(hub, hub.key(a, "ingest"), [llm_call(asset_id=f"a{i}") for i in range(3)])
            await post(hub, hub.key(b, "ingest"), [llm_call(asset_id="b0")])
            await post(hub, hub.key(a, "ingest"), [llm_call(asset_id="end")])
            await post(hub, hub.key(b, "ingest"), [llm_call(asset_id="end")])
            return await events_until(wa, "end"), await events_until(wb, "end")

    seen_a, seen_b = asyncio.run(scenario())
    assert assets(seen_a) == ["a0", "a1", "a2"]
    assert assets(seen_b) == ["b0"]


def test_filters_in_the_url_and_in_subscribe_messages_select_events(hub: LiveHub) -> None:
    tenant = hub.tenant()
    ingest = hub.key(tenant, "ingest")

    def batch() -> list[Message]:
        return [
            llm_call(asset_id="slow-search", latency_ms=900.0, tags={"team": "search"}),
            llm_call(asset_id="fast-search", latency_ms=100.0, tags={"team": "search"}),
            llm_call(asset_id="slow-support", latency_ms=900.0, tags={"team": "support"}),
            llm_call(asset_id="slow-search-error", latency_ms=950.0, status="error",
                     tags={"team": "search"}),
        ]  # fmt: skip

    def sentinel() -> Message:  # matches both subscriptions
        return llm_call(asset_id="end", latency_ms=999.0, status="error", tags={"team": "search"})

    url_filters = "?filter=latency_ms:gt:500&filter=tags.team:eq:search"
    typed = [
        {"field": "tags.team", "op": "eq", "value": "search"},
        {"field": "severity", "op": "gte", "value": "error"},
        "asset_id:in:slow-search-error,end",
    ]

    async def scenario() -> tuple[list[Message], Message, list[Message]]:
        async with connected(hub, hub.key(tenant), url_filters) as ws:
            await post(hub, ingest, batch())
            await post(hub, ingest, [sentinel()])
            by_url = await events_until(ws, "end")
            await ws.send(json.dumps({"type": "subscribe", "filters": typed}))
            subscribed = await receive(ws)
            await post(hub, ingest, batch())
            await post(hub, ingest, [sentinel()])
            return by_url, subscribed, await events_until(ws, "end")

    by_url, subscribed, by_message = asyncio.run(scenario())
    assert assets(by_url) == ["slow-search", "slow-search-error"]
    assert subscribed["type"] == "subscribed"
    assert subscribed["filters"][2] == {
        "field": "asset_id",
        "op": "in",
        "value": ["slow-search-error", "end"],
    }
    assert assets(by_message) == ["slow-search-error"]


@pytest.mark.parametrize(
    ("query", "subscribe", "says"),
    [
        ("?filter=latency_ms:like:5", None, "'like'"),
        ("?filter=tenant_id:eq:other", None, "tenant comes from the credential"),
        ("", {"type": "subscribe", "filters": [{"field": "cost_usd", "op": "gt", "value": "x"}]},
         "expects a number"),
        ("", {"type": "subscribe", "filters": "model_id:eq:x"}, "unreadable message"),
        ("", {"type": "unsubscribe"}, "unreadable message"),
    ],
)  # fmt: skip
def test_a_bad_filter_or_message_is_closed_with_4400(
    hub: LiveHub, query: str, subscribe: Message | None, says: str
) -> None:
    async def scenario() -> tuple[list[Message], int, str]:
        async with connect(hub.stream_url + query) as ws:
            await ws.send(json.dumps({"type": "auth", "key": hub.key(hub.tenant())}))
            if subscribe is not None:
                assert (await receive(ws))["type"] == "ready"
                await ws.send(json.dumps(subscribe))
            return await refusal(ws)

    messages, code, reason = asyncio.run(scenario())
    assert code == 4400
    assert messages[-1]["type"] == "error"
    assert says in messages[-1]["message"]
    assert reason in messages[-1]["message"] or reason.endswith("...")


def test_a_replayed_batch_is_not_sent_twice(hub: LiveHub) -> None:
    tenant = hub.tenant()
    ingest = hub.key(tenant, "ingest")
    first = [llm_call(asset_id=f"once-{i}") for i in range(3)]

    async def scenario() -> list[Message]:
        async with connected(hub, hub.key(tenant)) as ws:
            await post(hub, ingest, first)
            await post(hub, ingest, [llm_call(asset_id="end")])
            assert assets(await events_until(ws, "end")) == ["once-0", "once-1", "once-2"]
            await post(hub, ingest, first)  # the whole batch again
            await post(hub, ingest, [*first, llm_call(asset_id="new")])  # again, with a new one
            await post(hub, ingest, [llm_call(asset_id="end")])
            return await events_until(ws, "end")

    assert assets(asyncio.run(scenario())) == ["new"]


def test_a_client_can_ping(hub: LiveHub) -> None:
    async def scenario() -> Message:
        async with connected(hub, hub.key(hub.tenant())) as ws:
            await ws.send('{"type": "ping"}')
            return await receive(ws)

    assert asyncio.run(scenario())["type"] == "pong"


# -- metrics -----------------------------------------------------------------------------


def test_the_current_minute_s_metrics_arrive_and_agree_with_the_overview(hub: LiveHub) -> None:
    tenant = hub.tenant()
    read = hub.key(tenant)
    when = datetime.now(UTC).replace(microsecond=0)
    calls = [
        llm_call(timestamp=when, latency_ms=100.0, input_tokens=10, output_tokens=1),
        llm_call(timestamp=when, latency_ms=200.0, input_tokens=20, output_tokens=2),
        llm_call(timestamp=when, latency_ms=300.0, status="error", cost_usd=0.5),
    ]
    minute = when.replace(second=0).isoformat().replace("+00:00", "Z")

    async def scenario() -> Message:
        async with connected(hub, read, "?metrics=true&events=false") as ws:
            first = await receive(ws)  # the figures so far, right after subscribing
            assert first["type"] == "metrics"
            await post(hub, hub.key(tenant, "ingest"), calls)
            while True:
                message = await receive(ws)
                assert message["type"] == "metrics", message  # events=false: no events
                if message["minute"] == minute and message["requests"] == 3:
                    return message

    live = asyncio.run(scenario())
    assert (live["errors"], live["input_tokens"], live["output_tokens"]) == (1, 1030, 203)
    assert live["cost_usd"] == pytest.approx(0.5 + 2 * 0.0045)
    end = (when.replace(second=0) + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    with httpx.Client(base_url=hub.url, headers={"Authorization": f"Bearer {read}"}) as client:
        r = client.get(
            "/api/v1/metrics/overview", params={"from": minute, "to": end, "bucket": "1m"}
        )
    [point] = r.json()["series"]
    assert {"minute": point.pop("bucket"), "type": "metrics", **point} == live


# -- a client that does not keep up ------------------------------------------------------


@pytest.fixture(scope="module")
def small_hub(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A hub with a tiny live queue, room for two live connections, and a writer that
    commits each request on its own (no lingering for larger commits)."""
    with serve(
        tmp_path_factory.mktemp("small"),
        stream_queue_events=10,
        stream_max_connections=2,
        commit_min_events=1,
    ) as h:
        yield h


def blob(asset: str) -> Message:
    """A large event (~56 KB of payload): a few MB of them fill the sockets' buffers."""
    event = llm_call(asset_id=asset)
    event["payload"] = {
        "payload_type": "custom",
        "data": {"custom_type": "blob", "data": {"text": ["x" * 8000] * 7}},
    }
    return event


def test_a_slow_client_gets_dropped_notices_and_its_queue_stays_bounded(
    small_hub: LiveHub,
) -> None:
    tenant = small_hub.tenant()
    ingest = small_hub.key(tenant, "ingest")
    most_queued = (0, 0)
    posted = 0

    async def flood(sub: Subscription, posts: int, *, until_dropped: bool = False) -> None:
        """Requests of 5 events (each commit fits in the queue): ``posts`` of them, or, with
        ``until_dropped``, until the hub has dropped events, then ``posts`` more."""
        nonlocal most_queued, posted
        more = posts
        for _ in range(400):
            await post(small_hub, ingest, [blob("flood") for _ in range(5)])
            posted += 5
            await asyncio.sleep(0.02)
            most_queued = max(most_queued, (sub.queued_events, sub.queued_messages))
            if not until_dropped or sub.dropped:
                more -= 1
                if not more:
                    return

    async def count(ws: ClientConnection, total: int) -> tuple[int, int]:
        sent = dropped = 0
        while sent + dropped < total:
            message = await receive(ws, timeout=30)
            if message["type"] == "events":
                sent += len(message["events"])
            elif message["type"] == "dropped":
                dropped += message["count"]
        return sent, dropped

    async def scenario() -> tuple[tuple[int, int], tuple[int, int]]:
        # A small receive buffer and a one-message client queue: when the test stops
        # reading, the client stops taking data off the socket and the server's sends
        # block once the kernel's buffers are full; then the hub's queue fills.
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
        sock.connect(("127.0.0.1", int(small_hub.url.rsplit(":", 1)[1])))
        async with connect(
            small_hub.stream_url, sock=sock, max_queue=1, max_size=None, compression=None
        ) as ws:
            await ws.send(json.dumps({"type": "auth", "key": small_hub.key(tenant)}))
            assert (await receive(ws))["type"] == "ready"
            [sub] = small_hub.services.live.subscriptions(tenant)
            reader = asyncio.create_task(count(ws, 50))
            await flood(sub, 10)  # a client that reads: nothing is dropped
            keeping_up = await reader
            before = posted
            # The client reads nothing: the sockets' buffers fill (a few MB), then the
            # hub's queue, then the hub drops.
            await flood(sub, 5, until_dropped=True)
            return keeping_up, await count(ws, posted - before)

    keeping_up, not_reading = asyncio.run(scenario())
    assert keeping_up == (50, 0)
    sent, dropped = not_reading
    assert sent + dropped == posted - 50
    assert dropped > 0
    assert most_queued[0] <= 10  # the hub never held more than the queue's capacity
    assert most_queued[1] <= 10 + 1  # events (one at least per message) and one gap
    registry = small_hub.services.metrics.registry
    assert registry.get_sample_value("hub_stream_events_dropped_total") == dropped


def test_connections_beyond_the_limit_are_told_to_retry(small_hub: LiveHub) -> None:
    key = small_hub.key(small_hub.tenant())

    async def scenario() -> tuple[list[Message], int]:
        async with (
            connected(small_hub, key),
            connected(small_hub, key),
            connect(small_hub.stream_url) as third,
        ):
            messages, code, _ = await refusal(third)
            return messages, code

    messages, code = asyncio.run(scenario())
    assert code == 1013
    assert messages[0]["code"] == "overloaded"
