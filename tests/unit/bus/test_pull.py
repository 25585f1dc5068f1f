"""The pull bookkeeping: when a JetStream pull request is believed to be outstanding.

The server's answers are fed straight to the puller (``_on_msg``) with a client that
only records the requests, so that the cases are exact, including the one nats-server
2.9 produces now and then: a request that delivered messages shortly before it expired
and then ends without its 408 status.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from nats.aio.msg import Msg

from analytics_hub.bus import pull
from analytics_hub.bus.pull import Puller


class RecordingClient:
    """The two calls the puller makes of a NATS client."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def new_inbox(self) -> str:
        return "_INBOX.test"

    async def publish(self, subject: str, payload: bytes, reply: str = "") -> None:
        self.requests.append(json.loads(payload))


def _message(status: str | None = None) -> Msg:
    headers = {"Status": status} if status else None
    return Msg(_client=None, subject="events.x.0", data=b"m", headers=headers)  # type: ignore[arg-type]


def _puller() -> tuple[Puller, RecordingClient]:
    client = RecordingClient()
    puller = Puller(client, stream="S", durable="writers", weight_of=lambda m: 1)  # type: ignore[arg-type]
    return puller, client


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The puller's clock, set by the test (``now[0]``), starting at 100 s."""
    clock = [100.0]
    monkeypatch.setattr(pull, "monotonic", lambda: clock[0])
    return clock


def test_a_waiting_request_that_delivered_is_over_at_its_expiry_even_without_a_status(
    now: list[float],
) -> None:
    puller, client = _puller()

    async def run() -> None:
        await puller.request(1024, expires=0.5)
        assert client.requests == [{"batch": 1024, "expires": 500_000_000}]
        now[0] = 100.49
        await puller._on_msg(_message())  # the first message of a burst, then silence
        assert puller.outstanding
        now[0] = 100.5 + pull._LATE / 2
        assert puller.outstanding  # a status may still be on its way
        now[0] = 100.5 + pull._LATE * 2
        assert not puller.outstanding  # a new request goes out for the rest of the burst

    asyncio.run(run())


def test_a_waiting_request_that_delivered_nothing_waits_for_its_status(
    now: list[float],
) -> None:
    puller, _ = _puller()

    async def run() -> None:
        await puller.request(1024, expires=0.5)
        now[0] = 100.5 + pull._LATE * 2
        assert puller.outstanding  # its 408 may be late: no second request yet
        await puller._on_msg(_message("408"))
        assert not puller.outstanding
        await puller.request(10, expires=None)  # no wait: over when the status comes
        now[0] += 1.0
        await puller._on_msg(_message())
        assert puller.outstanding
        await puller._on_msg(_message("404"))
        assert not puller.outstanding

    asyncio.run(run())


def test_a_request_whose_batch_is_filled_is_over() -> None:
    puller, _ = _puller()

    async def run() -> None:
        await puller.request(2, expires=30.0)
        await puller._on_msg(_message())
        assert puller.outstanding
        await puller._on_msg(_message())
        assert not puller.outstanding
        assert puller.buffer_weight == 2

    asyncio.run(run())
