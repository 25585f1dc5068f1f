from __future__ import annotations

import asyncio

import httpx
import pytest

from analytics_hub.client import AsyncHubClient, HubClientError, HubRetryExhaustedError

from .conftest import Recorder, decoded_body, envelope


def make_client(handler: Recorder, sleeps: list[float], **kwargs: object) -> AsyncHubClient:
    async def record_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    return AsyncHubClient(
        "http://hub.test",
        "key-123",
        transport=httpx.MockTransport(handler),
        sleep=record_sleep,
        **kwargs,  # type: ignore[arg-type]
    )


def test_async_send_batches_retries_and_remaps(sleeps: list[float]) -> None:
    def reject_first(request: httpx.Request) -> httpx.Response:
        batch = decoded_body(request)
        return httpx.Response(
            202,
            json={
                "accepted": len(batch) - 1,
                "rejected": 1,
                "errors": [{"index": 0, "field": "severity", "message": "unknown"}],
            },
        )

    peer = Recorder(
        envelope(429, "overloaded", "full", **{"Retry-After": "2"}),
        httpx.ConnectError("refused"),
        default=reject_first,
    )

    async def scenario() -> None:
        async with make_client(peer, sleeps, batch_size=4, compression="zstd") as hub:
            report = await hub.send({"i": i} for i in range(10))
        assert [e.index for e in report.errors] == [0, 4, 8]
        assert report.accepted == 7

    asyncio.run(scenario())
    assert [len(decoded_body(r)) for r in peer.requests] == [4, 4, 4, 4, 2]
    assert 2.0 <= sleeps[0] <= 2.2
    assert len(sleeps) == 2


def test_async_errors_match_the_sync_client(sleeps: list[float]) -> None:
    async def scenario() -> None:
        peer = Recorder(envelope(415, "unsupported_media_type", "nope"))
        async with make_client(peer, sleeps) as hub:
            with pytest.raises(HubClientError) as info:
                await hub.query({})
        assert (info.value.status, info.value.code) == (415, "unsupported_media_type")

        always_busy = Recorder(default=lambda _: envelope(503, "unavailable", "down"))
        async with make_client(always_busy, sleeps, max_retries=1) as hub:
            with pytest.raises(HubRetryExhaustedError) as exhausted:
                await hub.overview()
        assert exhausted.value.attempts == 2

    asyncio.run(scenario())


def test_async_read_methods(sleeps: list[float]) -> None:
    peer = Recorder(default=lambda _: httpx.Response(200, json={"status": "ok"}))

    async def scenario() -> None:
        async with make_client(peer, sleeps) as hub:
            assert await hub.health() == {"status": "ok"}
            await hub.events(limit=5)

    asyncio.run(scenario())
    assert [r.url.path for r in peer.requests] == ["/healthz", "/api/v1/events"]
    assert peer.requests[1].url.params["limit"] == "5"
