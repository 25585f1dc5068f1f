"""The assembly picks the event bus named by the settings (nothing is opened here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics_hub.bus.journal import JournalBus
from analytics_hub.bus.nats import NatsBus
from analytics_hub.errors import ValidationError
from analytics_hub.server.stores import open_event_bus
from analytics_hub.settings import Settings


def test_the_journal_is_the_default_bus(tmp_path: Path) -> None:
    bus = open_event_bus(Settings(data_dir=tmp_path))
    assert isinstance(bus, JournalBus)
    assert bus.directory == tmp_path / "journal"


def test_a_nats_url_list_selects_jetstream_with_the_nats_settings(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        bus=" nats://n1:4222, nats://n2:4222 ",
        nats_stream_replicas=3,
        pipeline_capacity_events=50_000,
    )
    bus = open_event_bus(settings)
    assert isinstance(bus, NatsBus)
    assert bus.capacity == 50_000
    assert bus.stream == "HUB_EVENTS"
    assert bus.subject_prefix == "events"
    assert bus.replicas == 3
    assert not (tmp_path / "journal").exists()


@pytest.mark.parametrize("url", ["memory", "kafka://k:9092", "nats://a:4222,redis://b:6379", ""])
def test_an_unknown_bus_is_refused_with_the_accepted_forms(tmp_path: Path, url: str) -> None:
    with pytest.raises(ValidationError, match="journal or nats://"):
        open_event_bus(Settings(data_dir=tmp_path, bus=url))
