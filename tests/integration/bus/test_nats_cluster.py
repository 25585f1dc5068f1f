"""A three-node JetStream cluster loses its stream leader during sustained publishing.

The test starts its own ``nats-server`` processes on free loopback ports (never the
shared server), publishes through ``NatsBus`` to an R3 stream, SIGKILLs the stream's
leader, and keeps publishing through the election. Every publish must be acknowledged
(retries carry the same ``Nats-Msg-Id``), the stream must hold each message once, and
the consumer must deliver each acknowledged message once.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
import time
from collections import Counter, deque
from concurrent.futures import Future
from pathlib import Path

import nats
import pytest
from tests.conftest import REQUIRE_SERVICES

from analytics_hub.bus.nats import NatsBus, NatsTuning
from analytics_hub.testing.nats import read_stream
from analytics_hub.testing.natscluster import NatsCluster

STREAM = "HUB_FAULT"
PAD = b"." * 1000  # about 1 KB a message
IN_FLIGHT = 100


def _leader(urls: list[str], stream: str) -> str:
    async def ask() -> str:
        nc = await nats.connect(servers=urls, connect_timeout=2)
        try:
            info = await nc.jetstream(timeout=5).stream_info(stream)
            assert info.cluster is not None
            return str(info.cluster.leader)
        finally:
            await nc.close()

    return asyncio.run(ask())


class _Publisher(threading.Thread):
    """Publishes numbered messages until stopped, at most ``IN_FLIGHT`` unanswered."""

    def __init__(self, bus: NatsBus) -> None:
        super().__init__(name="fault-publisher", daemon=True)
        self._bus = bus
        self.stop = threading.Event()
        self.acked: list[int] = []
        self.failed: list[tuple[int, str]] = []

    def run(self) -> None:
        pending: deque[tuple[int, Future[int]]] = deque()
        i = 0
        while not self.stop.is_set():
            pending.append((i, self._bus.publish(b"m%07d" % i + PAD, 1)))
            i += 1
            while pending and (len(pending) >= IN_FLIGHT or pending[0][1].done()):
                self._settle(*pending.popleft())
        while pending:
            self._settle(*pending.popleft())

    def _settle(self, i: int, future: Future[int]) -> None:
        try:
            future.result(60)
            self.acked.append(i)
        except Exception as exc:
            self.failed.append((i, repr(exc)))


def _wait_for(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.mark.slow
def test_killing_the_stream_leader_loses_no_acknowledged_message(tmp_path: Path) -> None:
    if shutil.which("nats-server") is None:
        message = "nats-server is not installed (apt-get install nats-server)"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    with NatsCluster(tmp_path / "cluster") as cluster:
        bus = NatsBus(
            cluster.urls, capacity=10**9, stream=STREAM, subject_prefix="fault.events",
            replicas=3, tuning=NatsTuning(attempt_timeout=1.0, ack_wait=10.0),
        )  # fmt: skip
        bus.open()
        publisher = _Publisher(bus)
        try:
            publisher.start()
            _wait_for(lambda: len(publisher.acked) >= 1000, 30, "publishing to start")
            leader = _leader(cluster.urls, STREAM)
            victim = next(i for i, n in enumerate(cluster.nodes) if n.name == leader)
            cluster.kill(victim)
            acked_at_kill = len(publisher.acked)
            survivors = [n.url for i, n in enumerate(cluster.nodes) if i != victim]
            # Publishing continues once a new leader is elected (about 5 s).
            _wait_for(
                lambda: len(publisher.acked) >= acked_at_kill + 1000, 40, "publishing to resume"
            )
            assert _leader(survivors, STREAM) != leader
        finally:
            publisher.stop.set()
            publisher.join(90)
        assert not publisher.failed, publisher.failed[:5]

        stored = Counter(m.data[:8] for m in read_stream(survivors, STREAM))
        assert max(stored.values()) == 1, "a retried publish was stored twice"
        fetched: Counter[bytes] = Counter()
        # The consumer has a leader of its own, elected again after the kill; on a busy
        # machine that can take longer than a couple of empty fetches. Fetch until every
        # stored message came (then two more empty fetches, to catch duplicates) or
        # nothing came for 20 s.
        empty, quiet_since = 0, time.monotonic()
        while empty < 2 and time.monotonic() - quiet_since < 20:
            got = bus.fetch(max_weight=10_000, timeout=1)
            if got:
                quiet_since = time.monotonic()
            fetched.update(d.payload[:8] for d in got)
            bus.ack(got)
            empty = empty + 1 if not got and set(fetched) >= set(stored) else 0
        bus.close()
        acked = {b"m%07d" % i for i in publisher.acked}
        assert acked <= set(fetched), f"{len(acked - set(fetched))} acknowledged, never delivered"
        assert set(fetched) == set(stored)
        assert max(fetched.values()) == 1, "a message was delivered twice"
