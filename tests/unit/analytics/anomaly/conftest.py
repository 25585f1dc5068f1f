"""Synthetic series with known answers for the anomaly detector tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from numpy.typing import NDArray

Series = tuple[NDArray[np.float64], NDArray[np.float64]]
STEP = 300.0  # five-minute rows, as in most NAB files
DAY_ROWS = int(86_400 / STEP)
MIDNIGHT = 1_699_920_000.0  # a UTC midnight


def daily_series(days: float = 6.0, seed: int = 0, noise: float = 3.0) -> Series:
    """A daily sine (100 +/- 30) with Gaussian noise, one row every five minutes."""
    rng = np.random.default_rng(seed)
    n = int(days * DAY_ROWS)
    t = MIDNIGHT + STEP * np.arange(n)
    v = 100.0 + 30.0 * np.sin(2 * np.pi * (t % 86_400) / 86_400) + rng.normal(0, noise, n)
    return t, v


@pytest.fixture
def seasonal_data() -> Callable[..., Series]:
    return daily_series
