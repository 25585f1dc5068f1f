"""A minute task never runs before the boundary plus its offset, however asyncio wakes."""

from __future__ import annotations

import asyncio

import pytest

from analytics_hub.server import tasks
from analytics_hub.server.tasks import MinuteTask

REAL_SLEEP = asyncio.sleep


class EarlyClock:
    """A wall clock whose timers wake ``early`` seconds before they are due, as asyncio's
    may (its clock resolution, its monotonic clock drifting from the wall clock)."""

    def __init__(self, now: float, early: float) -> None:
        self.now = now
        self.early = early

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds - self.early, seconds / 2)
        await REAL_SLEEP(0)


@pytest.mark.parametrize("early", [0.0, 0.001, 0.003])
def test_the_run_starts_at_the_boundary_plus_the_offset_not_before(
    monkeypatch: pytest.MonkeyPatch, early: float
) -> None:
    clock = EarlyClock(now=1_000.2, early=early)
    monkeypatch.setattr(tasks.time, "time", clock.time)
    monkeypatch.setattr(tasks.asyncio, "sleep", clock.sleep)
    runs: list[float] = []
    task = MinuteTask("tick", lambda: runs.append(clock.time()), offset=0.5)

    async def run() -> None:
        task.start()
        while len(runs) < 2:
            await REAL_SLEEP(0.001)
        await task.stop()

    asyncio.run(run())
    # 1,020.5 is the first minute boundary (1,020) plus the offset, then 1,080.5
    assert runs[0] >= 1_020.5
    assert runs[0] < 1_020.51
    assert runs[1] >= 1_080.5
    assert runs[1] < 1_080.51
