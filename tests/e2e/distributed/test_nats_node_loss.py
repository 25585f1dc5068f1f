"""A three-node JetStream cluster loses its stream leader while role processes ingest.

The test starts its own ``nats-server`` processes (never the shared server), runs the
hub's ingest, writer and api processes on R3 streams there and on a fresh PostgreSQL
database, and SIGKILLs the stream's leader during sustained ingest.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from tests.conftest import require_service
from tests.e2e.distributed.traffic import Senders, wait_stored

from analytics_hub.testing import postgres as pgtest
from analytics_hub.testing.layout import HubLayout
from analytics_hub.testing.natscluster import NatsCluster

pytestmark = [pytest.mark.service, pytest.mark.slow]
PG_URL = os.environ.get("HUB_TEST_POSTGRES_URL", pgtest.DEFAULT_TEST_URL)
STREAM = "HUB_EVENTS"


def _leader(urls: list[str]) -> str:
    async def ask() -> str:
        nc = await nats.connect(servers=urls, connect_timeout=2)
        try:
            info = await nc.jetstream(timeout=5).stream_info(STREAM)
            assert info.cluster is not None
            return str(info.cluster.leader)
        finally:
            await nc.close()

    return asyncio.run(ask())


def _bus_state(urls: list[str]) -> str:
    """The stream and writers' consumer as JetStream reports them (for a failure's message)."""

    async def ask() -> str:
        nc = await nats.connect(servers=urls, connect_timeout=2)
        try:
            js = nc.jetstream(timeout=5)
            stream = await js.stream_info(STREAM)
            consumer = await js.consumer_info(STREAM, "writers")
            return (
                f"stream messages {stream.state.messages}, last seq {stream.state.last_seq}; "
                f"consumer pending {consumer.num_pending}, ack pending "
                f"{consumer.num_ack_pending}, redelivered {consumer.num_redelivered}, "
                f"ack floor {consumer.ack_floor.stream_seq if consumer.ack_floor else None}"
            )
        finally:
            await nc.close()

    try:
        return asyncio.run(ask())
    except Exception as exc:  # the message must still be written
        return f"JetStream did not answer: {exc!r}"


@pytest.fixture
def cluster_layout(tmp_path: Path) -> Iterator[tuple[HubLayout, NatsCluster]]:
    if shutil.which("nats-server") is None:
        pytest.fail("nats-server is needed for the cluster test")
    require_service("PostgreSQL", *pgtest.host_and_port(PG_URL), "pg_ctlcluster 15 main start")
    with NatsCluster(tmp_path / "nats") as cluster, pgtest.temporary_database(PG_URL) as db:
        env = {"HUB_NATS_STREAM_REPLICAS": "3", "HUB_NATS_ACK_WAIT_SECONDS": "5"}
        with HubLayout(
            tmp_path / "hub", db, ",".join(cluster.urls), STREAM, "events", env=env
        ) as layout:
            yield layout, cluster


def test_losing_the_stream_leader_loses_nothing_acknowledged(
    cluster_layout: tuple[HubLayout, NatsCluster],
) -> None:
    layout, cluster = cluster_layout
    _, ingest, api = layout.start("writer", "ingest", "api")
    asset = f"nats-loss-{uuid.uuid4().hex[:8]}"
    senders = Senders(ingest, layout.key("acme", "ingest"), asset).start()
    try:
        time.sleep(3.0)
        leader = _leader(cluster.urls)
        cluster.kill(next(i for i, n in enumerate(cluster.nodes) if n.name == leader))
        at_kill = len(senders.acked)
        time.sleep(10.0)  # the election (5-6 s), then ingest goes on
    finally:
        senders.stop()
    assert len(senders.acked) > at_kill, "ingest should resume after the election"

    read_key = layout.key("acme", "read")
    stored = wait_stored(api, read_key, asset, len(senders.acked), timeout=60)
    missing = set(senders.acked) - set(stored)
    if missing:
        # Tell a loss from a stall: what JetStream still holds, and whether they come later.
        state = _bus_state(cluster.urls)
        later = set(senders.acked) - set(wait_stored(api, read_key, asset, len(senders.acked), 60))
        pytest.fail(
            f"{len(missing)} of {len(senders.acked)} acknowledged events not stored within "
            f"60 s ({state}); {len(later)} still missing 60 s later"
        )
    assert all(n == 1 for n in stored.values()), "an event was stored twice"
