"""``check`` passes on a working store and fails with UnavailableError otherwise."""

from __future__ import annotations

import pytest

from analytics_hub.errors import UnavailableError
from analytics_hub.store.base import EventStore


def test_check_passes_on_a_healthy_store(store: EventStore) -> None:
    store.check()
    store.check()


def test_a_closed_store_is_unavailable_and_closing_twice_is_fine(store: EventStore) -> None:
    store.close()
    store.close()
    with pytest.raises(UnavailableError):
        store.check()
    with pytest.raises(UnavailableError):
        store.fetch("SELECT 1", [])


def test_the_store_satisfies_the_port(store: EventStore) -> None:
    assert isinstance(store, EventStore)
    assert store.dialect


def test_a_quiet_moment_never_fails_open_or_closed(store: EventStore) -> None:
    assert store.housekeeping_due() is False  # a fresh store has nothing to fold
    assert store.housekeeping_due(at_quiet_moment=True) is False
    store.quiet_moment()
    store.check()
    store.close()
    store.quiet_moment()
    assert store.housekeeping_due() is False
