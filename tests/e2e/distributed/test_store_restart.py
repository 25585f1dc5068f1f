"""PostgreSQL restarted during sustained ingest: writers wait it out, nothing is lost.

The test runs its own PostgreSQL server (never the shared one), stops it while an ingest
process keeps acknowledging events into JetStream, and starts it again.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from tests.conftest import require_service
from tests.e2e.distributed.conftest import NATS_URL
from tests.e2e.distributed.traffic import Senders, wait_stored

from analytics_hub.testing import nats as natstest
from analytics_hub.testing.hubprocess import HubProcess
from analytics_hub.testing.layout import HubLayout
from analytics_hub.testing.pgserver import PostgresServer, postgres_bin_dir

pytestmark = pytest.mark.service


@pytest.fixture
def private_layout(tmp_path: Path) -> Iterator[tuple[HubLayout, PostgresServer]]:
    require_service("NATS JetStream", *natstest.host_and_port(NATS_URL), "nats-server -js")
    if postgres_bin_dir() is None:
        pytest.fail("the PostgreSQL server binaries are needed: apt-get install postgresql")
    stream, prefix = natstest.unique_names()
    env = {"HUB_NATS_ACK_WAIT_SECONDS": "5"}
    with PostgresServer() as pg:
        try:
            with HubLayout(tmp_path, pg.url, NATS_URL, stream, prefix, env=env) as hub:
                yield hub, pg
        finally:
            natstest.delete_streams(NATS_URL, stream, f"{stream}_DEAD")


def _ready(node: HubProcess) -> bool:
    try:
        return httpx.get(f"{node.url}/readyz", timeout=5.0).status_code == 200
    except httpx.HTTPError:
        return False


def _until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not {what} after {timeout} s"
        time.sleep(0.2)


def test_a_store_restart_during_ingest_loses_nothing(
    private_layout: tuple[HubLayout, PostgresServer],
) -> None:
    layout, pg = private_layout
    writer, ingest, api = layout.start("writer", "ingest", "api")
    read_key = layout.key("acme", "read")
    asset = f"pg-restart-{uuid.uuid4().hex[:8]}"
    senders = Senders(ingest, layout.key("acme", "ingest"), asset).start()
    try:
        time.sleep(3.0)
        before = len(senders.acked)
        pg.stop()
        # Readiness says what is wrong while the store is down; the processes stay up.
        _until(lambda: not _ready(writer), 20, "reporting not ready")
        _until(lambda: not _ready(api), 20, "reporting not ready")
        time.sleep(3.0)
        assert writer.proc is not None
        assert writer.proc.poll() is None, "the writer must wait, not exit"
        pg.start()
        _until(lambda: _ready(writer), 60, "ready again")
        time.sleep(2.0)
    finally:
        senders.stop()
    assert len(senders.acked) > before, "ingest should go on acknowledging"

    stored = wait_stored(api, read_key, asset, len(senders.acked), timeout=60)
    missing = set(senders.acked) - set(stored)
    assert not missing, f"{len(missing)} acknowledged events were lost"
    assert all(n == 1 for n in stored.values()), "an event was stored twice"
