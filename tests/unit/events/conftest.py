"""Fixtures of the events tests."""

from __future__ import annotations

import pytest

from analytics_hub.events import Normalizer

from .builders import RATES


@pytest.fixture
def normalizer() -> Normalizer:
    """A normaliser with the default limits and a small rate table."""
    return Normalizer(currency_rates=RATES)
