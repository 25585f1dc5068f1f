"""The e2e view of a running hub: its process and an API key per tenant and role."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from analytics_hub.testing.hubprocess import HubProcess


@dataclass
class Hub:
    proc: HubProcess
    keys: dict[str, str]  # "<tenant>:<role>" -> key

    @property
    def url(self) -> str:
        return self.proc.url

    def client(self, tenant: str = "acme", role: str = "admin") -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.keys[f'{tenant}:{role}']}"},
            timeout=30.0,
        )
