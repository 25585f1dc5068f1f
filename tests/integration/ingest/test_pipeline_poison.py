"""A bus message no hub wrote (undecodable) never stalls the writer: NATS dead-letters it."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.conftest import require_service

from analytics_hub.bus import jetstream as jsx
from analytics_hub.bus.nats import NatsBus, NatsTuning
from analytics_hub.ingest.pipeline import CommitPolicy, Pipeline
from analytics_hub.store.duckdb import DuckDBStore
from analytics_hub.testing.nats import (
    DEFAULT_TEST_URL,
    delete_streams,
    host_and_port,
    read_stream,
    unique_names,
)
from analytics_hub.testing.rows import make_event_rows

pytestmark = pytest.mark.service

URL = os.environ.get("HUB_TEST_NATS_URL", DEFAULT_TEST_URL)
START = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def bus() -> Iterator[NatsBus]:
    require_service("NATS JetStream", *host_and_port(URL), "nats-server -js")
    stream, prefix = unique_names()
    # No router: the test publishes raw payloads, as a foreign producer could.
    tuning = NatsTuning(ack_wait=5.0, retry_delay=0.1, lag_interval=0.1, max_deliveries=3)
    b = NatsBus(URL, capacity=100_000, stream=stream, subject_prefix=prefix, tuning=tuning)
    yield b
    b.close()
    delete_streams(URL, stream, f"{stream}_DEAD")


def test_an_undecodable_message_is_dead_lettered_and_the_rest_stored(
    tmp_path: Path, bus: NatsBus
) -> None:
    store = DuckDBStore(tmp_path / "events.duckdb")
    store.migrate()
    pipeline = Pipeline(store, bus, policy=CommitPolicy(max_events=10_000, min_events=1, linger=0))
    pipeline.start()
    try:
        pipeline.submit(make_event_rows(50, start=START, seed=1)).result(10)
        bus.publish(b"\x00not a batch of this hub" * 40, 5).result(10)
        pipeline.submit(make_event_rows(70, start=START, seed=2)).result(10)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not read_stream(URL, bus.dead_letter_stream):
            time.sleep(0.2)
        (dead,) = read_stream(URL, bus.dead_letter_stream)
        assert dead.headers[jsx.ERROR].startswith("undecodable message:")
        assert int(store.fetch("SELECT count(*) FROM events", []).rows[0][0]) == 120
        assert pipeline.last_error is None  # not mistaken for a store outage
    finally:
        pipeline.stop()
        store.close()
