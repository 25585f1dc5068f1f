"""The circuit breaker: one probe per interval while open, transitions reported once."""

from __future__ import annotations

import pytest

from analytics_hub.cache.breaker import CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_failure_opens_and_only_one_probe_per_interval_goes_through() -> None:
    clock = Clock()
    breaker = CircuitBreaker(5.0, clock=clock)
    assert breaker.allow()
    assert not breaker.is_open
    assert breaker.failed("refused") is True
    assert breaker.failed("refused again") is False  # already open: no second report
    assert breaker.is_open
    assert breaker.reason == "refused again"
    assert not breaker.allow()
    clock.now = 4.9
    assert not breaker.allow()
    clock.now = 5.0
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # the others still skip while it is out
    assert breaker.failed("still refused") is False  # a failed probe: still the same outage
    clock.now = 9.9
    assert not breaker.allow()
    clock.now = 10.0
    assert breaker.allow()
    assert breaker.succeeded() is True
    assert breaker.succeeded() is False
    assert not breaker.is_open
    assert breaker.reason == ""
    assert all(breaker.allow() for _ in range(3))


def test_a_probe_that_never_reports_back_does_not_block_the_next() -> None:
    clock = Clock()
    breaker = CircuitBreaker(1.0, clock=clock)
    breaker.failed("timeout")
    clock.now = 1.0
    assert breaker.allow()  # this caller vanishes without a word
    clock.now = 2.0
    assert breaker.allow()


def test_retry_after_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        CircuitBreaker(0)
