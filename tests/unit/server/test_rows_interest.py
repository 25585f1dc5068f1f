"""A writer announces rows only while some process wants them (decision 0026)."""

from __future__ import annotations

from analytics_hub.server.live_fanout import RowsInterest


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_new_writer_announces_until_it_could_have_heard_a_notice() -> None:
    clock = Clock()
    interest = RowsInterest(hold=6.0, clock=clock)
    assert interest.active()
    clock.now += 5.9
    assert interest.active()
    clock.now += 0.2
    assert not interest.active()


def test_a_notice_keeps_rows_announced_for_the_hold_then_they_stop() -> None:
    clock = Clock()
    interest = RowsInterest(hold=6.0, clock=clock)
    clock.now += 30
    assert not interest.active()
    interest.heard()
    assert interest.active()
    clock.now += 5.9
    assert interest.active()
    interest.heard()  # the next periodic notice renews it
    clock.now += 5.9
    assert interest.active()
    clock.now += 0.2
    assert not interest.active()
