"""A hub split into processes by role, for end-to-end tests and benchmarks.

``HubLayout`` starts ``analytics-hub serve --role …`` subprocesses that share one
PostgreSQL database and one JetStream stream (its own names, so layouts on one NATS
server never see each other's events), each on a free loopback port with its own log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from analytics_hub.auth.keys import KeyService
from analytics_hub.server.stores import open_control_store
from analytics_hub.settings import load_settings
from analytics_hub.testing.hubprocess import HubProcess, free_port


@dataclass
class HubLayout:
    """Processes of one distributed hub. ``stop()`` (or leaving the ``with``) stops them."""

    base_dir: Path
    store_url: str
    bus_url: str
    stream: str
    subject_prefix: str
    env: dict[str, str] = field(default_factory=dict)
    nodes: list[HubProcess] = field(default_factory=list)

    @property
    def control_dir(self) -> Path:
        """Data directory of the processes' shared settings and API keys."""
        return self.base_dir / "shared"

    def key(self, tenant: str, role: str) -> str:
        """A new API key that every process of the layout accepts."""
        # The control store the processes themselves open, whichever backend that is.
        store = open_control_store(load_settings(data_dir=self.control_dir, store=self.store_url))
        try:
            return KeyService(store).create(tenant, role, name="test")[1]
        finally:
            store.close()

    def node_env(self, **more: str) -> dict[str, str]:
        """The environment every process of the layout runs with."""
        return {
            "HUB_STORE": self.store_url,
            "HUB_BUS": self.bus_url,
            "HUB_NATS_STREAM": self.stream,
            "HUB_NATS_SUBJECT_PREFIX": self.subject_prefix,
            **self.env,
            **more,
        }

    def add(self, role: str, *, grpc: bool = False, start: bool = True, **env: str) -> HubProcess:
        """Start (unless ``start`` is False) one more process with ``role``."""
        name = f"{re.sub(r'[^a-z]+', '-', role)}-{len(self.nodes)}"
        node = HubProcess(
            # The control store (API keys) is shared; nothing else lives in the data dir
            # when the store is PostgreSQL and the bus NATS.
            data_dir=self.control_dir,
            otlp_grpc_port=free_port() if grpc else 0,
            env=self.node_env(HUB_ROLE=role, **env),
            log_path=self.base_dir / f"{name}.log",
        )
        self.nodes.append(node)
        if start:
            node.start()
        return node

    def start(self, *roles: str) -> list[HubProcess]:
        """Start one process per role side by side; return them once all are ready."""
        nodes = [self.add(role, start=False) for role in roles]
        for node in nodes:
            node.launch()
        for node in nodes:
            node.wait_ready()
        return nodes

    def stop(self) -> None:
        """Stop every process that still runs."""
        for node in reversed(self.nodes):
            node.stop()

    def __enter__(self) -> HubLayout:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def metric_value(node: HubProcess, name: str) -> float:
    """The sum of a Prometheus metric's samples at a process's ``/metrics``."""
    text = httpx.get(f"{node.url}/metrics", timeout=5.0).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            head, _, value = line.rpartition(" ")
            if head.split("{")[0] == name:
                total += float(value)
    return total


__all__ = ["HubLayout", "metric_value"]
