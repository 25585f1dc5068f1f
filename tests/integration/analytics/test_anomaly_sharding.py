"""Analytics workers split the series: each scores its own, together every one once."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.analytics.traffic import NOW, Clock, write_history, write_series

from analytics_hub.analytics.anomaly.sharding import ownership
from analytics_hub.analytics.anomaly.stream import AnomalyStream, StreamConfig
from analytics_hub.store.base import EventStore

SERIES = [("a", f"asset-{i}") for i in range(8)] + [("b", f"asset-{i}") for i in range(4)]


def test_two_workers_prime_disjoint_halves_and_take_over_when_one_leaves(
    store: EventStore, clock: Clock
) -> None:
    write_history(store, SERIES, hours=3)
    members = ["worker-a", "worker-b"]
    config = StreamConfig(grace_s=2.0, warm_start_hours=3.0)
    streams = {
        m: AnomalyStream(store, config, clock=clock, owns=ownership(m, lambda: members))
        for m in members
    }
    clock.now = NOW.replace(second=2)
    reports = {m: s.tick() for m, s in streams.items()}
    primed = {m: r.primed for m, r in reports.items() if r is not None}
    assert sum(primed.values()) == len(SERIES)  # every series once
    assert all(n > 0 for n in primed.values())  # by both workers
    for m, stream in streams.items():
        assert stream.series_count == primed[m]

    # worker-b leaves: worker-a takes its series over at its next tick.
    members.remove("worker-b")
    for seed, (tenant, asset) in enumerate(SERIES):
        write_series(store, tenant, asset, [30], start=NOW, seed=seed)
    clock.now += timedelta(minutes=1)
    report = streams["worker-a"].tick()
    assert report is not None
    assert report.primed == primed["worker-b"]
    assert streams["worker-a"].series_count == len(SERIES)
