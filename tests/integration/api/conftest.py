"""The real app, served by uvicorn on a loopback port in this process.

In-process so that a test can look at the server's side of a connection (its queue)
while talking to it over a real socket with the ``websockets`` client, as a browser
would. Keys are created per test with ``key()``, so each test can use tenants of its
own and count exactly what it receives.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from analytics_hub.api.context import ApiServices
from analytics_hub.server.app import create_app
from analytics_hub.settings import Settings


@dataclass
class LiveHub:
    """A running app: its services, base URL and live feed URL."""

    app: FastAPI
    url: str

    @property
    def services(self) -> ApiServices:
        found: ApiServices = self.app.state.services
        return found

    @property
    def stream_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/api/v1/stream"

    def key(self, tenant: str, role: str = "read") -> str:
        """A new key of ``tenant`` with ``role``."""
        return self.services.keys.create(tenant, role, name="test")[1]

    def tenant(self) -> str:
        """A tenant no other test uses."""
        return f"t-{uuid.uuid4().hex[:10]}"


@contextmanager
def serve(data_dir: Path, **settings: Any) -> Iterator[LiveHub]:
    """Serve a hub built from ``settings`` until the block ends."""
    app = create_app(Settings(data_dir=data_dir, otlp_grpc_port=0, **settings))
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, lifespan="on", log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="test-hub", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the hub did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield LiveHub(app, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(30)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    """A hub shared by a module's tests (which use tenants of their own)."""
    with serve(tmp_path_factory.mktemp("live"), stream_metrics_interval_seconds=0.2) as h:
        yield h
