"""The e2e view of a running hub: its process and an API key per tenant and role."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from analytics_hub.testing.hubprocess import HubProcess


def read_your_writes(request: httpx.Request) -> None:
    """Ask event posts to be answered once queries see them (``?wait=visible``).

    The hub acknowledges a batch once it is durable and makes it visible within a second;
    tests that read straight back need the stronger answer.
    """
    is_post = request.method == "POST" and request.url.path == "/api/v1/events"
    if is_post and "wait" not in request.url.params:
        request.url = request.url.copy_merge_params({"wait": "visible"})


@dataclass
class Hub:
    proc: HubProcess
    keys: dict[str, str]  # "<tenant>:<role>" -> key

    @property
    def url(self) -> str:
        return self.proc.url

    @property
    def grpc_target(self) -> str:
        """``host:port`` of the hub's gRPC listener (OTLP/gRPC and the native service)."""
        return self.proc.grpc_target

    def client(self, tenant: str = "acme", role: str = "admin") -> httpx.Client:
        """A client of ``tenant`` with ``role`` whose event posts read their own writes."""
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.keys[f'{tenant}:{role}']}"},
            timeout=30.0,
            event_hooks={"request": [read_your_writes]},
        )
