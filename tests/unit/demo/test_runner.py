from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from analytics_hub.demo import DemoGenerator, DemoRunner

NOW = datetime(2025, 3, 5, 19, 30, 12, tzinfo=UTC)


@dataclass
class Report:
    accepted: int
    rejected: int


class FakeSink:
    """Stands in for a HubClient: records what it is sent."""

    def __init__(
        self, tenant: str, runner: list[DemoRunner], stop_after: int, fail: int = 0
    ) -> None:
        self.tenant = tenant
        self.runner = runner
        self.stop_after = stop_after
        self.fail = fail
        self.sends: list[list[Mapping[str, Any]]] = []
        self.closed = False

    def send(self, events: Iterable[Mapping[str, Any]]) -> Report:
        batch = list(events)
        self.sends.append(batch)
        if len(self.sends) >= self.stop_after:
            self.runner[0].stop()
        if self.fail:
            self.fail -= 1
            raise ConnectionError("hub down")
        return Report(accepted=len(batch), rejected=0)

    def close(self) -> None:
        self.closed = True


class Clock:
    def __init__(self, start: datetime, step: timedelta) -> None:
        self.now, self.step, self.calls = start, step, 0

    def __call__(self) -> datetime:
        value = self.now
        self.now += self.step
        self.calls += 1
        return value


def make(stop_after: int, fail: int = 0, **kwargs: Any) -> tuple[DemoRunner, dict[str, FakeSink]]:
    holder: list[DemoRunner] = []
    sinks: dict[str, FakeSink] = {}

    def factory(tenant: str) -> FakeSink:
        sinks[tenant] = FakeSink(tenant, holder, stop_after, fail)
        return sinks[tenant]

    options: dict[str, Any] = {
        "backfill": timedelta(hours=2),
        "tick_seconds": 0.0,
        "clock": Clock(NOW, timedelta(seconds=5)),
        "chunk_size": 100,
    }
    options.update(kwargs)
    runner = DemoRunner(factory, DemoGenerator(11, rate_per_s=4.0), **options)
    holder.append(runner)
    return runner, sinks


def test_the_runner_backfills_each_tenant_with_its_own_client_then_streams() -> None:
    holder: list[DemoRunner] = []
    clock = Clock(NOW, timedelta(seconds=5))

    def clock_that_stops() -> datetime:
        # the first call starts the backfill; each later one is a live tick
        if clock.calls == 5:
            holder[0].stop()
        return clock()

    runner, original = make(stop_after=10_000, clock=clock_that_stops)
    holder.append(runner)
    stats = runner.run()

    start = NOW.replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    for tenant in ("acme", "globex"):
        expected = list(DemoGenerator(11, rate_per_s=4.0).backfill(start, NOW, tenant=tenant))
        sent = [e for batch in original[tenant].sends for e in batch]
        assert sent[: len(expected)] == expected
        assert all(len(batch) <= 100 for batch in original[tenant].sends)
        live = sent[len(expected) :]
        assert live
        assert all(datetime.fromisoformat(e["timestamp"]) >= NOW for e in live)
        assert original[tenant].closed
    assert stats.backfilled == sum(1 for _ in DemoGenerator(11).backfill(start, NOW))
    assert stats.live > 0
    assert stats.accepted == stats.backfilled + stats.live
    assert runner.incidents()[0].start == start + timedelta(days=4, hours=10)


def test_live_failures_are_logged_and_survived(caplog: pytest.LogCaptureFixture) -> None:
    runner, sinks = make(stop_after=6, fail=2, backfill=None)
    with caplog.at_level(logging.WARNING):
        stats = runner.run()
    assert stats.failed_sends >= 2
    assert stats.live > 0
    assert "demo live send failed" in caplog.text
    assert all(s.closed for s in sinks.values())


def test_too_many_failures_in_a_row_end_the_run() -> None:
    runner, sinks = make(stop_after=10_000, fail=10_000, backfill=None, max_consecutive_failures=3)
    with pytest.raises(ConnectionError):
        runner.run()
    assert runner.stats.failed_sends == 3
    assert all(s.closed for s in sinks.values())


def test_a_backfill_failure_ends_the_run() -> None:
    runner, sinks = make(stop_after=10_000, fail=1)
    with pytest.raises(ConnectionError):
        runner.run()
    assert runner.stats.backfilled == 0
    assert all(s.closed for s in sinks.values())
