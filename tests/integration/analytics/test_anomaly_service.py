"""What the anomaly API calls, on a real store: detection over history, one anomaly in
context, paging; bad input refused with a reason; tenants kept apart."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from tests.integration.analytics.conftest import HistoryFactory
from tests.integration.analytics.traffic import NOW, counts, write_history, write_series

from analytics_hub.analytics.anomaly.service import AnomalyService
from analytics_hub.errors import NotFoundError, ValidationError
from analytics_hub.store.anomalies import AnomalyListing
from analytics_hub.store.base import EventStore

MINUTE = timedelta(minutes=1)
SERIES = [("a", "asset-0"), ("a", "asset-1"), ("b", "asset-0")]
SPIKE = NOW + 30 * MINUTE
END = NOW + 60 * MINUTE
FUTURE = datetime(2999, 1, 1, tzinfo=NOW.tzinfo)


@pytest.fixture
def seeded(history: HistoryFactory) -> EventStore:
    """A store with 30 hours of history."""
    return history(SERIES, 30)


@pytest.fixture
def service(seeded: EventStore) -> AnomalyService:
    """30 hours of history, then an hour in which a/asset-1 has one spike minute."""
    store = seeded
    for k, (tenant, asset) in enumerate(SERIES):
        per_minute = counts(60, seed=100 + k)
        if (tenant, asset) == ("a", "asset-1"):
            per_minute[30] = 400
        write_series(store, tenant, asset, per_minute, start=NOW, seed=100 + k)
    return AnomalyService(store, warm_start_hours=30.0)


def test_detection_finds_the_spike_and_stores_it_once(
    service: AnomalyService, seeded: EventStore
) -> None:
    store = seeded
    result = service.detect("a", NOW, END)
    assert (result.series, result.minutes, result.stored) == (2, 60, None)
    spike = [a for a in result.anomalies if a.minute == SPIKE]
    assert {(a.asset_id, a.metric) for a in spike} >= {("asset-1", "requests")}
    assert all(a.source == "detect" and a.latency_ms is None for a in result.anomalies)
    assert [a.minute for a in result.anomalies] == sorted(
        (a.minute for a in result.anomalies), reverse=True
    )
    requests = next(a for a in spike if a.metric == "requests")
    assert requests.observed == 400
    assert requests.expected_high is not None
    assert requests.expected_high < 400

    only = service.detect("a", NOW, END, metric="requests", asset_id="asset-1")
    assert {a.metric for a in only.anomalies} == {"requests"}
    assert only.series == 1
    strong = service.detect("a", NOW, END, min_score=requests.score)
    assert all(a.score >= requests.score for a in strong.anomalies)

    assert store.list_anomalies("a", AnomalyListing(limit=1000)) == []  # not stored unless asked
    stored = service.detect("a", NOW, END, store=True)
    assert stored.stored == len(stored.anomalies) > 0
    assert service.detect("a", NOW, END, store=True).stored == 0  # the same ids: kept once
    assert store.get_anomaly("a", requests.id) is not None
    versions = {v.id: v for v in store.list_detector_versions("a")}
    assert {a.version for a in stored.anomalies} <= set(versions)
    assert {versions[a.version].reason for a in stored.anomalies} == {"detect"}


def test_one_anomaly_comes_with_the_series_around_it(service: AnomalyService) -> None:
    found = service.detect("a", NOW, END, metric="requests", asset_id="asset-1", store=True)
    record = next(a for a in found.anomalies if a.minute == SPIKE)
    detail = service.get("a", record.id, context_minutes=5)
    assert detail.record == record
    assert [p.minute for p in detail.context] == [SPIKE + k * MINUTE for k in range(-5, 6)]
    assert detail.context[5].value == 400
    assert all(p.value is not None and p.value < 400 for p in detail.context if p.minute != SPIKE)
    assert (detail.series.offset, detail.series.threshold) == (0.0, record.threshold)
    with pytest.raises(NotFoundError):
        service.get("b", record.id)  # another tenant's anomaly does not exist for b
    with pytest.raises(NotFoundError):
        service.get("a", "no-such-id")
    with pytest.raises(ValidationError, match="context_minutes"):
        service.get("a", record.id, context_minutes=10_000)


def test_pages_follow_the_cursor_newest_first(service: AnomalyService) -> None:
    service.detect("a", NOW, END, store=True)
    everything = service.page("a", limit=1000).items
    assert len(everything) >= 2
    seen = []
    cursor = None
    while True:
        page = service.page("a", limit=1, cursor=cursor)
        seen += page.items
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == everything
    assert service.page("a", metric="requests", asset_id="asset-1").items
    assert service.page("b").items == []


def test_tenants_detect_and_list_only_their_own(service: AnomalyService) -> None:
    service.detect("a", NOW, END, store=True)
    theirs = service.detect("b", NOW, END, store=True)
    assert theirs.series == 1
    assert all(a.tenant_id == "b" for a in theirs.anomalies)
    assert {a.tenant_id for a in service.page("b", limit=1000).items} <= {"b"}
    assert all(a.asset_id != "asset-1" for a in service.page("b", limit=1000).items)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"metric": "latency"}, "unknown metric 'latency'"),
        ({"start": END, "end": NOW}, "empty range"),
        ({"start": NOW, "end": NOW + timedelta(seconds=30)}, "empty range"),
        ({"end": NOW + timedelta(days=9)}, "at most 7 days"),
        ({"start": NOW.replace(tzinfo=None)}, "time zone"),
        ({"start": FUTURE, "end": FUTURE + timedelta(days=1)}, "no closed minute"),
    ],
)
def test_detection_refuses_bad_input_with_a_reason(
    service: AnomalyService, change: dict[str, object], message: str
) -> None:
    args: dict[str, object] = {"start": NOW, "end": END, **change}
    start, end = args.pop("start"), args.pop("end")
    with pytest.raises(ValidationError, match=message):
        service.detect("a", start, end, **args)  # type: ignore[arg-type]


def test_detection_is_bounded_in_series(store: EventStore) -> None:
    write_history(store, SERIES, hours=1)
    narrow = AnomalyService(store, max_detect_series=1)
    with pytest.raises(ValidationError, match="narrow it with asset_id or model_id"):
        narrow.detect("a", NOW - 30 * MINUTE, NOW)
    assert narrow.detect("a", NOW - 30 * MINUTE, NOW, asset_id="asset-0").series == 1


def test_listing_refuses_bad_input(service: AnomalyService) -> None:
    with pytest.raises(ValidationError, match="unknown metric"):
        service.page("a", metric="nope")
    with pytest.raises(ValidationError, match="empty"):
        service.page("a", start=END, end=NOW)
    with pytest.raises(ValidationError, match="cursor"):
        service.page("a", cursor="garbage")
