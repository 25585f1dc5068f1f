"""A hub split into role processes on the real PostgreSQL and NATS JetStream."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import require_service

from analytics_hub.testing import nats as natstest
from analytics_hub.testing import postgres as pgtest
from analytics_hub.testing.layout import HubLayout

PG_URL = os.environ.get("HUB_TEST_POSTGRES_URL", pgtest.DEFAULT_TEST_URL)
NATS_URL = os.environ.get("HUB_TEST_NATS_URL", natstest.DEFAULT_TEST_URL)


@pytest.fixture
def layout(tmp_path: Path) -> Iterator[HubLayout]:
    """An empty layout on a fresh database and stream; add processes with ``add(role)``."""
    require_service("PostgreSQL", *pgtest.host_and_port(PG_URL), "pg_ctlcluster 15 main start")
    require_service("NATS JetStream", *natstest.host_and_port(NATS_URL), "nats-server -js")
    stream, prefix = natstest.unique_names()
    with pgtest.temporary_database(PG_URL) as db_url:
        # A dead writer's messages go to another after 5 s, not the default 30 s.
        env = {"HUB_NATS_ACK_WAIT_SECONDS": "5", "HUB_LOG_LEVEL": "info"}
        try:
            with HubLayout(tmp_path, db_url, NATS_URL, stream, prefix, env=env) as hub:
                yield hub
        finally:
            natstest.delete_streams(NATS_URL, stream, f"{stream}_DEAD")
