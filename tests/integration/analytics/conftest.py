"""The event store under test, once per backend (the store tests' fixtures), and a clock."""

from __future__ import annotations

import pytest
from tests.integration.analytics.traffic import NOW, Clock
from tests.integration.store.conftest import (  # noqa: F401 - fixtures used by name
    backend,
    location,
    postgres_database,
    store,
)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)
