"""Streaming detection end to end on a real store: events written through the store's
event path, rollups read back, anomalies stored, published, labelled; on every backend."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from tests.integration.analytics.conftest import HistoryFactory
from tests.integration.analytics.traffic import NOW, Clock, write_history, write_series

from analytics_hub.analytics.anomaly.alarm import AlarmPolicy
from analytics_hub.analytics.anomaly.records import FeedbackPolicy
from analytics_hub.analytics.anomaly.series import SeriesConfig
from analytics_hub.analytics.anomaly.service import AnomalyService
from analytics_hub.analytics.anomaly.stream import AnomalyStream, StreamConfig, TickReport
from analytics_hub.errors import NotFoundError
from analytics_hub.store.anomalies import AnomalyListing, AnomalyRecord
from analytics_hub.store.base import EventStore

MINUTE = timedelta(minutes=1)
GRACE = 2.0
SERIES = [("a", "asset-0"), ("a", "asset-1"), ("b", "asset-0")]
_seeds = itertools.count(1000)


def _config(**changes: object) -> StreamConfig:
    base: dict[str, object] = {"grace_s": GRACE, "warm_start_hours": 30.0}
    base.update(changes)
    return StreamConfig(**base)  # type: ignore[arg-type]


def _minute(store: EventStore, minute: datetime, spike: tuple[str, str] | None = None) -> None:
    """One more minute of every series; ``spike`` gets ten times its calls, half failing."""
    for tenant, asset in SERIES:
        if (tenant, asset) == spike:
            write_series(
                store, tenant, asset, [300], start=minute, seed=next(_seeds), error_rate=0.5
            )
        else:
            write_series(store, tenant, asset, [30], start=minute, seed=next(_seeds))


def _tick(stream: AnomalyStream, clock: Clock, minute_end: datetime) -> TickReport:
    clock.now = minute_end + timedelta(seconds=GRACE)
    report = stream.tick()
    assert report is not None
    return report


@pytest.fixture
def seeded(history: HistoryFactory) -> EventStore:
    """A store with 30 hours of history of every series."""
    return history(SERIES, 30)


def _warm(
    store: EventStore, clock: Clock, **config: object
) -> tuple[AnomalyStream, list[AnomalyRecord]]:
    """A stream that has primed every series from the 30 hours of ``store``'s history."""
    published: list[AnomalyRecord] = []
    stream = AnomalyStream(store, _config(**config), publish=published.extend, clock=clock)
    first = _tick(stream, clock, NOW)
    assert first.primed == len(SERIES)
    assert first.anomalies == []  # priming raises no alarm
    return stream, published


def test_a_spike_is_stored_and_published_within_its_minute(
    seeded: EventStore, clock: Clock
) -> None:
    store = seeded
    stream, published = _warm(store, clock)
    versions = {
        (v.tenant_id, v.asset_id): v for t in ("a", "b") for v in store.list_detector_versions(t)
    }
    assert set(versions) == set(SERIES)
    version = versions[("a", "asset-1")]
    assert version.reason == "warm_start"
    assert version.window_end == NOW
    assert version.minutes == 30 * 60
    assert version.metrics["requests"]["rows"] == 30 * 60

    _minute(store, NOW)
    ordinary = _tick(stream, clock, NOW + MINUTE)
    assert ordinary.series == len(SERIES)
    assert ordinary.rows == len(SERIES)  # one query, one row per series

    spike_minute = NOW + MINUTE
    _minute(store, spike_minute, spike=("a", "asset-1"))
    report = _tick(stream, clock, spike_minute + MINUTE)
    found = [a for a in report.anomalies if a.minute == spike_minute]
    assert {(a.tenant_id, a.asset_id) for a in found} == {("a", "asset-1")}
    by_metric = {a.metric: a for a in found}
    assert {"requests", "error_rate"} <= set(by_metric)
    requests = by_metric["requests"]
    assert requests.observed == 300
    assert requests.expected_high is not None
    assert requests.expected_low is not None
    assert requests.expected_low <= requests.expected_high < 300
    assert requests.score >= requests.threshold == AlarmPolicy().threshold
    assert requests.source == "stream"
    assert requests.version == version.id
    assert set(requests.votes) == {"seasonal[step_s=60.0]", "forest[extrapolate=False]", "context"}
    assert "error_rate" in {c["metric"] for c in requests.contributing}
    # the clock stood at the end of the minute plus the grace when it was stored
    assert requests.created_at == spike_minute + MINUTE + timedelta(seconds=GRACE)
    assert requests.latency_ms == GRACE * 1000
    # stored, and handed to the live feed
    assert store.get_anomaly("a", requests.id) == requests
    assert requests in published
    listed = store.list_anomalies(
        "a", AnomalyListing(start=spike_minute, end=spike_minute + MINUTE)
    )
    assert {a.id for a in listed} == {a.id for a in found}
    assert store.list_anomalies("b", AnomalyListing(start=spike_minute)) == []
    # scoring the same minute again changes nothing
    assert stream.process(spike_minute + MINUTE) is None


def test_the_tick_reads_the_minute_only_after_the_barrier_settled(
    seeded: EventStore, clock: Clock
) -> None:
    store = seeded
    settled: list[float] = []

    def settle(timeout: float) -> bool:
        if settled:  # the writer commits the minute's last acknowledged events meanwhile
            _minute(store, NOW, spike=("b", "asset-0"))
        settled.append(timeout)
        return True

    stream = AnomalyStream(store, _config(), clock=clock, settle=settle)
    assert _tick(stream, clock, NOW).primed == len(SERIES)
    report = _tick(stream, clock, NOW + MINUTE)
    assert settled == [stream.config.settle_timeout_s] * 2
    assert report.settle_ms >= 0.0
    assert report.rows == len(SERIES), "the rows committed during the barrier are read"
    assert {(a.tenant_id, a.asset_id) for a in report.anomalies} == {("b", "asset-0")}


def test_each_tick_announces_a_quiet_moment_after_storing_its_anomalies(
    seeded: EventStore, clock: Clock
) -> None:
    store = seeded
    stored: list[int] = []
    told: list[int] = []
    stream = AnomalyStream(
        store,
        _config(),
        clock=clock,
        publish=lambda records: stored.append(len(records)),
        quiet=lambda: told.append(len(stored)),
    )
    _tick(stream, clock, NOW)
    _minute(store, NOW, spike=("a", "asset-1"))
    _tick(stream, clock, NOW + MINUTE)
    assert len(stored) == 1  # the spike's anomalies, published once
    assert stored[0] > 0
    assert told == [0, 1]  # once a tick, after the minute's anomalies are out


def test_no_alarm_before_a_series_has_a_baseline(seeded: EventStore, clock: Clock) -> None:
    store = seeded
    # 30 hours: the detectors are warm, but this hub asks for 36 hours of baseline
    stream, published = _warm(store, clock, series=SeriesConfig(min_baseline_minutes=36 * 60))
    _minute(store, NOW, spike=("a", "asset-1"))
    assert _tick(stream, clock, NOW + MINUTE).anomalies == []
    # a series the hub has never seen: no history at all
    for k in range(5):
        minute = NOW + (k + 1) * MINUTE
        write_series(
            store, "a", "asset-new", [30] if k < 4 else [900], start=minute, seed=next(_seeds)
        )
        report = _tick(stream, clock, minute + MINUTE)
        assert [a for a in report.anomalies if a.asset_id == "asset-new"] == []
    assert published == []


def test_feedback_moves_the_threshold_of_later_alarms(seeded: EventStore, clock: Clock) -> None:
    store = seeded
    stream, _ = _warm(store, clock, max_catchup_minutes=300)
    service = AnomalyService(store, feedback=FeedbackPolicy(step=0.5, max_offset=3.0))
    first_spike = NOW
    _minute(store, first_spike, spike=("a", "asset-1"))
    report = _tick(stream, clock, first_spike + MINUTE)
    first = next(a for a in report.anomalies if a.metric == "requests")
    assert first.offset == 0.0

    record, series = service.label("a", first.id, "false_positive")
    assert record.label == "false_positive"
    assert (series.offset, series.false_positives) == (0.5, 1)
    assert series.threshold == AlarmPolicy(offset=0.5).threshold > first.threshold
    # another tenant cannot label it
    with pytest.raises(NotFoundError):
        service.label("b", first.id, "true_positive")

    # 200 ordinary minutes (the gate's memory), scored at once, then a second spike
    quiet = first_spike + MINUTE
    for tenant, asset in SERIES:
        write_series(store, tenant, asset, [30] * 200, start=quiet, seed=next(_seeds))
    _tick(stream, clock, quiet + 200 * MINUTE)
    second_spike = quiet + 200 * MINUTE
    _minute(store, second_spike, spike=("a", "asset-1"))
    report = _tick(stream, clock, second_spike + MINUTE)
    second = next(a for a in report.anomalies if a.metric == "requests")
    assert second.offset == 0.5
    assert second.threshold == series.threshold

    # a true positive takes the step back; withdrawing labels undoes them exactly
    _, series = service.label("a", second.id, "true_positive")
    assert (series.offset, series.false_positives, series.true_positives) == (0.0, 1, 1)
    _, series = service.label("a", second.id, None)
    assert series.offset == 0.5
    _, series = service.label("a", first.id, None)
    assert (series.offset, series.false_positives, series.true_positives) == (0.0, 0, 0)
    assert [t.offset for t in service.thresholds("a")] == [0.0]
    assert service.thresholds("b") == []


def test_a_retrain_builds_new_versions_that_score_what_follows(
    seeded: EventStore, clock: Clock
) -> None:
    store = seeded
    stream, _ = _warm(store, clock)
    before = {v.id for v in store.list_detector_versions("a")}
    assert stream.request_retrain("a", asset_id="asset-1") == 1
    _minute(store, NOW)
    report = _tick(stream, clock, NOW + MINUTE)
    assert report.primed == 1
    (new,) = [v for v in store.list_detector_versions("a") if v.id not in before]
    assert (new.asset_id, new.reason, new.window_end) == ("asset-1", "retrain", NOW + MINUTE)
    _minute(store, NOW + MINUTE, spike=("a", "asset-1"))
    spike = _tick(stream, clock, NOW + 2 * MINUTE)
    assert {a.version for a in spike.anomalies if a.asset_id == "asset-1"} == {new.id}


def test_memory_is_bounded_by_the_number_of_series(store: EventStore, clock: Clock) -> None:
    write_history(store, SERIES, hours=2)
    stream = AnomalyStream(store, _config(max_series=2), clock=clock)
    assert _tick(stream, clock, NOW).primed == 2
    for k in range(3):
        _minute(store, NOW + k * MINUTE)
        _tick(stream, clock, NOW + (k + 1) * MINUTE)
        assert stream.series_count == 2  # a third series pushes the least recent out
    assert store.list_detector_versions("b")  # the third was primed too
