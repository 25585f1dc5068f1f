"""Background work with a start and a stop: retention, rollup compaction, anomaly scoring."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import anyio.to_thread
import structlog

from analytics_hub.settings import Settings
from analytics_hub.store.base import EventStore, RetentionPolicy, RetentionReport

log = structlog.get_logger(__name__)


def retention_policies(settings: Settings) -> tuple[RetentionPolicy, dict[str, RetentionPolicy]]:
    """The default retention and the per-tenant overrides from the settings."""
    default = RetentionPolicy(
        raw_days=settings.retention_raw_days,
        minute_rollup_days=settings.retention_minute_rollup_days,
        hour_rollup_days=settings.retention_hour_rollup_days,
    )
    per_tenant = {
        tenant: RetentionPolicy(
            raw_days=o.raw_days or default.raw_days,
            minute_rollup_days=o.minute_rollup_days or default.minute_rollup_days,
            hour_rollup_days=o.hour_rollup_days or default.hour_rollup_days,
            dead_letter_days=default.dead_letter_days,
        )
        for tenant, o in settings.tenant_retention.items()
    }
    return default, per_tenant


def apply_retention(store: EventStore, settings: Settings) -> RetentionReport:
    """Run one retention pass now."""
    default, per_tenant = retention_policies(settings)
    return store.apply_retention(datetime.now(UTC), default, per_tenant)


class PeriodicTask:
    """Runs a blocking function in a worker thread every ``interval`` seconds."""

    def __init__(self, name: str, interval: float, fn: Callable[[], object]) -> None:
        self._name = name
        self._interval = interval
        self._fn = fn
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=self._name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                result = await anyio.to_thread.run_sync(self._fn)
                log.debug("background task ran", task=self._name, result=str(result))
            except Exception as exc:  # keep running: the next pass may succeed
                log.warning("background task failed", task=self._name, error=str(exc))


class MinuteTask(PeriodicTask):
    """Runs a blocking function in a worker thread ``offset`` seconds after every
    ``interval``-second boundary of the clock (every minute, just after it closed)."""

    def __init__(
        self,
        name: str,
        fn: Callable[[], object],
        *,
        offset: float,
        interval: float = 60.0,
        before_stop: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(name, interval, fn)
        self._offset = offset
        self._before_stop = before_stop

    async def stop(self) -> None:
        """Ask a run in progress to finish early (``before_stop``), then stop."""
        if self._before_stop is not None:
            self._before_stop()
        await super().stop()

    def delay(self, now: float) -> float:
        """Seconds from ``now`` (Unix time) until the next run."""
        phase = (now - self._offset) % self._interval
        return self._interval - phase

    async def _loop(self) -> None:
        while True:
            now = time.time()
            await _sleep_until(now + self.delay(now))
            try:
                result = await anyio.to_thread.run_sync(self._fn)
                log.debug("background task ran", task=self._name, result=str(result))
            except Exception as exc:  # keep running: the next minute may succeed
                log.warning("background task failed", task=self._name, error=str(exc))


async def _sleep_until(moment: float) -> None:
    """Sleep until the wall clock reads ``moment`` (Unix time), not a moment less.

    asyncio may wake a timer a little early: it runs what is due within its clock's
    resolution, and its monotonic clock and the wall clock drift apart. A minute task
    woken a millisecond before the boundary plus its offset found the minute not closed
    yet, did nothing, and left the minute to the next run, a minute later.
    """
    while (left := moment - time.time()) > 0:
        await asyncio.sleep(left)


def compaction_task(store: EventStore) -> PeriodicTask:
    """Merge rollup deltas of buckets that closed more than two hours ago, every minute."""
    return PeriodicTask(
        "rollup-compaction",
        60.0,
        lambda: store.compact_rollups(datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=2)),
    )


def retention_task(store: EventStore, settings: Settings) -> PeriodicTask:
    """Apply retention every ``retention_interval_seconds``."""
    return PeriodicTask(
        "retention", settings.retention_interval_seconds, lambda: apply_retention(store, settings)
    )


__all__ = [
    "MinuteTask",
    "PeriodicTask",
    "apply_retention",
    "compaction_task",
    "retention_policies",
    "retention_task",
]
