"""End-to-end fixtures: a real ``analytics-hub serve`` subprocess and keys for two tenants."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.e2e.harness import Hub

from analytics_hub.testing.hubprocess import HubProcess, create_key, free_port


def _hub(data_dir: Path) -> Hub:
    keys = {
        f"{tenant}:{role}": create_key(data_dir, tenant, role)
        for tenant in ("acme", "globex")
        for role in ("ingest", "read", "admin")
    }
    # Every e2e hub serves gRPC too (on a free port): the OTLP tests run over all transports.
    return Hub(proc=HubProcess(data_dir=data_dir, otlp_grpc_port=free_port()), keys=keys)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """A running hub shared by the tests of one module."""
    h = _hub(tmp_path_factory.mktemp("hub"))
    h.proc.start()
    yield h
    h.proc.stop()


@pytest.fixture
def fresh_hub(tmp_path: Path) -> Iterator[Hub]:
    """A hub of its own, for tests that stop, kill or restart it."""
    h = _hub(tmp_path / "hub")
    h.proc.start()
    yield h
    h.proc.kill()
