"""Which role sets can run, and the fix the hub names when one cannot."""

from __future__ import annotations

import pytest

from analytics_hub.errors import ValidationError
from analytics_hub.server.roles import check_layout
from analytics_hub.settings import ROLES, Settings

PG = "postgresql://hub@db:5432/hub"


def test_all_is_every_role_and_runs_embedded() -> None:
    assert check_layout(Settings(role="all")) == frozenset(ROLES)
    assert Settings(role="writer, API").roles == {"writer", "api"}


def test_an_unknown_role_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown role reader"):
        Settings(role="ingest,reader")
    with pytest.raises(ValueError, match="unknown role"):
        Settings(role=" , ")


def test_a_part_of_the_hub_needs_a_shared_store() -> None:
    with pytest.raises(ValidationError, match="HUB_STORE=postgresql"):
        check_layout(Settings(role="api"))


def test_ingest_apart_from_the_writer_needs_a_shared_bus() -> None:
    with pytest.raises(ValidationError, match="HUB_BUS=nats"):
        check_layout(Settings(role="ingest", store=PG))
    with pytest.raises(ValidationError, match="HUB_BUS=nats"):
        check_layout(Settings(role="writer,api", store=PG))
    assert check_layout(Settings(role="ingest", store=PG, bus="nats://n:4222")) == {"ingest"}
    # ingest and writer together may keep the local journal: nothing crosses processes
    assert check_layout(Settings(role="ingest,writer", store=PG)) == {"ingest", "writer"}
    # api replays dead letters through the bus: writers elsewhere must see them
    with pytest.raises(ValidationError, match="HUB_BUS=nats"):
        check_layout(Settings(role="api,analytics", store=PG))
    assert check_layout(Settings(role="analytics", store=PG)) == {"analytics"}
