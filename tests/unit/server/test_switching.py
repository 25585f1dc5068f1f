"""The interpreter switch interval that ``serve`` sets once started."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from analytics_hub.server.switching import set_switch_interval
from analytics_hub.settings import Settings


@pytest.fixture
def restored() -> Iterator[float]:
    interval = sys.getswitchinterval()
    yield interval
    sys.setswitchinterval(interval)


def test_the_interval_is_set_in_milliseconds(restored: float) -> None:
    set_switch_interval(0.5)
    assert sys.getswitchinterval() == pytest.approx(0.0005)


def test_zero_leaves_the_interval_alone(restored: float) -> None:
    set_switch_interval(0)
    assert sys.getswitchinterval() == restored


def test_the_setting_defaults_to_one_millisecond_and_refuses_negative_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HUB_SWITCH_INTERVAL_MS", raising=False)
    assert Settings().switch_interval_ms == 1.0
    monkeypatch.setenv("HUB_SWITCH_INTERVAL_MS", "-1")
    with pytest.raises(ValueError, match="switch_interval_ms"):
        Settings()
