"""Series traffic for the anomaly tests, written through the store's event path."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np

from analytics_hub.store.base import EventStore
from analytics_hub.testing.rows import make_minute_rows

#: the end of every test's history: a minute boundary
NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)


def counts(minutes: int, seed: int, level: float = 30.0) -> list[int]:
    """Calls per minute with a daily pattern and Poisson noise."""
    rng = np.random.default_rng(seed)
    phase = np.arange(minutes) * 2 * math.pi / 1440
    return [int(c) for c in rng.poisson(level + 0.3 * level * np.sin(phase))]


def write_series(
    store: EventStore,
    tenant: str,
    asset: str,
    per_minute: Sequence[int],
    *,
    start: datetime,
    seed: int,
    error_rate: float = 0.01,
) -> None:
    """Model calls of one series (model ``gpt-4o``), ``per_minute[i]`` in minute ``i``."""
    store.write_events(
        make_minute_rows(
            per_minute,
            start=start,
            tenant=tenant,
            asset_id=asset,
            seed=seed,
            error_rate=error_rate,
        )
    )


def write_history(
    store: EventStore, series: Sequence[tuple[str, str]], *, hours: float, end: datetime = NOW
) -> None:
    """``hours`` of ordinary traffic for each (tenant, asset), ending at ``end``."""
    minutes = int(hours * 60)
    for k, (tenant, asset) in enumerate(series):
        write_series(
            store,
            tenant,
            asset,
            counts(minutes, seed=k),
            start=end - timedelta(minutes=minutes),
            seed=k,
        )


class Clock:
    """A settable clock for the scorer."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now
