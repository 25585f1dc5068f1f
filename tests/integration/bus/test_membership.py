"""Worker group membership in a JetStream key-value bucket, on the real NATS server."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterator

import pytest
from tests.conftest import require_service

from analytics_hub.bus.membership import NatsMembership
from analytics_hub.testing.nats import DEFAULT_TEST_URL, delete_streams, host_and_port

pytestmark = pytest.mark.service

URL = os.environ.get("HUB_TEST_NATS_URL", DEFAULT_TEST_URL)


@pytest.fixture
def group() -> Iterator[str]:
    require_service("NATS JetStream", *host_and_port(URL), "nats-server -js")
    name = f"t{secrets.token_hex(4)}"
    yield name
    delete_streams(URL, f"KV_HUB_MEMBERS_{name}")


def _eventually(check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)


def test_members_see_each_other_and_a_leaver_goes_at_once(group: str) -> None:
    a = NatsMembership(URL, group, heartbeat=0.3, ttl=2.0)
    b = NatsMembership(URL, group, heartbeat=0.3, ttl=2.0)
    a.start()
    b.start()
    try:
        both = sorted([a.member_id, b.member_id])
        _eventually(lambda: a.members() == both and b.members() == both, 5)
        b.close()
        _eventually(lambda: a.members() == [a.member_id], 3)
    finally:
        a.close()
        b.close()


def test_a_member_that_stops_beating_expires(group: str) -> None:
    a = NatsMembership(URL, group, heartbeat=0.3, ttl=1.5)
    # A silent member: joined once, never beats again (as a killed process).
    ghost = NatsMembership(URL, group, heartbeat=3600, ttl=1.5)
    a.start()
    ghost.start()
    try:
        _eventually(lambda: ghost.member_id in a.members(), 3)
        _eventually(lambda: a.members() == [a.member_id], 6)
    finally:
        a.close()
        ghost.close()
