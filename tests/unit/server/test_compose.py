"""The compose file of the distributed layout starts a hub that can work."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from analytics_hub.server.roles import check_layout
from analytics_hub.settings import ROLES, Settings

COMPOSE = Path(__file__).parents[3] / "deploy" / "compose" / "compose.yaml"


def _hub_services() -> dict[str, dict[str, Any]]:
    doc = yaml.safe_load(COMPOSE.read_text())
    return {
        name: service
        for name, service in doc["services"].items()
        if service.get("image", "").startswith("llm-analytics-hub") and name != "migrate"
    }


def test_every_hub_service_has_settings_the_hub_accepts() -> None:
    services = _hub_services()
    assert services
    covered: set[str] = set()
    for name, service in services.items():
        env = {k.removeprefix("HUB_").lower(): v for k, v in service["environment"].items()}
        settings = Settings(**env)
        covered |= check_layout(settings)  # raises if the role cannot work there
        assert settings.store_url.startswith("postgresql://"), name
        assert settings.bus_url.startswith("nats://"), name
    assert covered == set(ROLES)
    roles = [s["environment"]["HUB_ROLE"] for s in services.values()]
    assert roles.count("ingest") >= 2
    assert roles.count("writer") >= 2
