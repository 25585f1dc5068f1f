"""NATS buses on a throw-away stream, shared by the JetStream bus tests."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tests.conftest import require_service

from analytics_hub.bus.nats import NatsBus, NatsTuning
from analytics_hub.testing.nats import DEFAULT_TEST_URL, delete_streams, host_and_port, unique_names

NATS_URL = os.environ.get("HUB_TEST_NATS_URL", DEFAULT_TEST_URL)
#: short waits, so that redelivery and dead-lettering happen within a test's time
FAST = NatsTuning(ack_wait=2.0, retry_delay=0.1, lag_interval=0.1, publish_timeout=10.0)

MakeBus = Callable[..., NatsBus]


@pytest.fixture
def make_bus() -> Iterator[MakeBus]:
    """Buses on one fresh stream (all calls share it), closed and deleted at the end.

    ``make_bus(open_it=False)`` leaves the bus closed (for a pipeline to open); other
    keyword arguments go to ``NatsBus``.
    """
    host, port = host_and_port(NATS_URL)
    require_service("NATS JetStream", host, port, "nats-server -js -sd /tmp/nats")
    stream, prefix = unique_names()
    made: list[NatsBus] = []

    def make(*, open_it: bool = True, **kwargs: Any) -> NatsBus:
        options: dict[str, Any] = {
            "capacity": 1_000_000, "stream": stream, "subject_prefix": prefix, "tuning": FAST,
        } | kwargs  # fmt: skip
        bus = NatsBus(NATS_URL, **options)
        made.append(bus)
        if open_it:
            bus.open()
        return bus

    yield make
    for bus in made:
        bus.close()
    delete_streams(NATS_URL, stream, f"{stream}_DEAD")
