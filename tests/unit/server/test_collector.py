"""The garbage collector tuning that ``serve`` applies once started."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from analytics_hub.server.collector import OLDER_THRESHOLDS, tune_collector


@pytest.fixture
def restored() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored")
def test_tuning_freezes_startup_objects_and_raises_the_thresholds() -> None:
    made_at_startup = [{"n": i} for i in range(100)]
    tune_collector(10_000)
    assert gc.get_threshold() == (10_000, *OLDER_THRESHOLDS)
    assert gc.get_freeze_count() >= len(made_at_startup)


@pytest.mark.usefixtures("restored")
def test_zero_leaves_the_collector_alone() -> None:
    before = gc.get_threshold(), gc.get_freeze_count()
    tune_collector(0)
    assert (gc.get_threshold(), gc.get_freeze_count()) == before
