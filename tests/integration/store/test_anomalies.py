"""The anomaly part of the store port, on every backend: series minutes from the rollups,
anomalies written, listed and paged, labels moving the feedback counts, detector
versions; always within one tenant."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from analytics_hub.events.histogram import bin_of, quantile
from analytics_hub.store.anomalies import (
    AnomalyListing,
    AnomalyRecord,
    DetectorVersion,
    SeriesSelector,
)
from analytics_hub.store.base import EventStore
from analytics_hub.testing.rows import make_event_rows

T0 = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


def _anomaly(tenant: str, n: int, **changes: object) -> AnomalyRecord:
    fields: dict[str, object] = {
        "id": f"an-{n:04d}",
        "tenant_id": tenant,
        "asset_id": "asset-00",
        "model_id": "gpt-4o",
        "metric": "error_rate",
        "minute": T0 + timedelta(minutes=n),
        "score": 0.99 + n / 100_000,
        "threshold": 0.996,
        "offset": 0.0,
        "observed": 0.5,
        "expected_low": 0.0,
        "expected_high": 0.05,
        "contributing": [{"metric": "requests", "score": 0.999, "observed": 40.0}],
        "votes": {"seasonal": 0.9999, "forest": 0.97},
        "detector": "ensemble",
        "version": "v1",
        "source": "stream",
        "created_at": T0 + timedelta(minutes=n + 1, seconds=2),
        "latency_ms": 2100.5,
    }
    fields.update(changes)
    return AnomalyRecord(**fields)  # type: ignore[arg-type]


def test_series_minutes_match_the_raw_events(store: EventStore) -> None:
    table = make_event_rows(
        3000, start=T0, step=timedelta(milliseconds=150), tenants=["a", "b"], assets=3, models=3
    )
    store.write_events(table)
    got = store.series_minutes(T0, T0 + timedelta(hours=1))

    expected: dict[tuple[object, ...], dict[str, object]] = {}
    latencies: dict[tuple[object, ...], list[float]] = defaultdict(list)
    for row in table.to_pylist():
        if row["payload_subtype"] != "llm_call":
            continue
        minute = row["ts"].replace(second=0, microsecond=0, tzinfo=UTC)
        key = (row["tenant_id"], row["asset_id"], row["model_id"], minute)
        figures = expected.setdefault(
            key, {"requests": 0, "errors": 0, "in": 0, "out": 0, "cost": 0.0}
        )
        figures["requests"] += 1  # type: ignore[operator]
        figures["errors"] += row["status"] == "error"  # type: ignore[operator]
        figures["in"] += row["input_tokens"] or 0  # type: ignore[operator]
        figures["out"] += row["output_tokens"] or 0  # type: ignore[operator]
        figures["cost"] += row["cost_usd"] or 0.0  # type: ignore[operator]
        if row["latency_ms"] is not None:
            latencies[key].append(row["latency_ms"])

    assert len(got) == len(expected)
    assert [g.minute for g in got] == sorted(g.minute for g in got)  # ordered by minute
    for g in got:
        key = (g.tenant_id, g.asset_id, g.model_id, g.minute)
        want = expected[key]
        assert (g.requests, g.errors, g.input_tokens, g.output_tokens) == (
            want["requests"],
            want["errors"],
            want["in"],
            want["out"],
        )
        assert g.cost_usd == pytest.approx(want["cost"])
        assert g.latency_count == len(latencies[key])
        # the same nearest-rank p95 as the histogram module, on the same bins
        assert g.p95_latency_ms == quantile([(bin_of(v), 1) for v in latencies[key]], 0.95)


def test_series_minutes_select_tenant_asset_and_model(store: EventStore) -> None:
    store.write_events(
        make_event_rows(600, start=T0, step=timedelta(seconds=1), tenants=["a", "b"], assets=2)
    )
    end = T0 + timedelta(hours=1)
    everything = store.series_minutes(T0, end)
    only_a = store.series_minutes(T0, end, SeriesSelector(tenant_id="a"))
    assert only_a
    assert {m.tenant_id for m in only_a} == {"a"}
    assert len(only_a) < len(everything)
    asset, model = only_a[0].asset_id, only_a[0].model_id
    one = store.series_minutes(
        T0, end, SeriesSelector(tenant_id="a", asset_id=asset, model_id=model)
    )
    assert one
    assert {(m.asset_id, m.model_id) for m in one} == {(asset, model)}
    assert len(one) < len(only_a)
    # a list of series
    keys = tuple({(m.tenant_id, m.asset_id, m.model_id) for m in everything})[:2]
    listed = store.series_minutes(T0, end, SeriesSelector(keys=keys))
    assert {(m.tenant_id, m.asset_id, m.model_id) for m in listed} == set(keys)
    assert len(listed) == sum((m.tenant_id, m.asset_id, m.model_id) in keys for m in everything)
    # exact: None means "no asset", which no model call here lacks
    assert store.series_minutes(T0, end, SeriesSelector(tenant_id="a", exact=True)) == []
    # the range is half-open
    assert store.series_minutes(T0 + timedelta(minutes=3), T0 + timedelta(minutes=4)) == [
        m for m in everything if m.minute == T0 + timedelta(minutes=3)
    ]


def test_a_minute_with_no_latency_has_no_p95(store: EventStore) -> None:
    table = make_event_rows(20, start=T0, step=timedelta(seconds=1), assets=1, models=1)
    no_latency = table.set_column(
        table.schema.get_field_index("latency_ms"),
        "latency_ms",
        pa.nulls(table.num_rows, pa.float64()),
    )
    store.write_events(no_latency)
    (minute,) = store.series_minutes(T0, T0 + timedelta(minutes=1))
    assert minute.latency_count == 0
    assert minute.p95_latency_ms is None
    assert minute.requests > 0


def test_anomalies_are_listed_newest_first_paged_and_filtered(store: EventStore) -> None:
    records = [_anomaly("t1", n) for n in range(25)]
    records += [_anomaly("t1", 100 + n, metric="requests", asset_id=None) for n in range(3)]
    assert store.write_anomalies(records) == 28
    assert store.write_anomalies(records[:5]) == 0  # idempotent
    store.write_anomalies([_anomaly("t2", n) for n in range(5)])

    seen: list[str] = []
    listing = AnomalyListing(limit=10, metric="error_rate")
    while True:
        page = store.list_anomalies("t1", listing)
        seen += [r.id for r in page]
        if len(page) < listing.limit:
            break
        listing = AnomalyListing(
            limit=10, metric="error_rate", after=(page[-1].minute, page[-1].id)
        )
    assert seen == [f"an-{n:04d}" for n in range(24, -1, -1)]

    stored = store.get_anomaly("t1", "an-0003")
    assert stored == records[3]  # everything round-trips, timestamps aware
    assert stored is not None
    assert stored.minute.tzinfo is not None
    assert store.get_anomaly("t2", "an-0100") is None  # another tenant's id
    assert store.get_anomaly("t1", "nope") is None

    window = AnomalyListing(start=T0 + timedelta(minutes=5), end=T0 + timedelta(minutes=8))
    assert [r.id for r in store.list_anomalies("t1", window)] == ["an-0007", "an-0006", "an-0005"]
    strong = store.list_anomalies("t1", AnomalyListing(min_score=0.99 + 20 / 100_000))
    assert {r.id for r in strong} == {f"an-{n:04d}" for n in (*range(20, 25), 100, 101, 102)}
    no_asset = store.list_anomalies("t1", AnomalyListing(metric="requests"))
    assert [r.asset_id for r in no_asset] == [None, None, None]
    assert store.list_anomalies("t1", AnomalyListing(asset_id="asset-99")) == []
    assert store.list_anomalies("t1", AnomalyListing(model_id="gpt-4o", limit=3))[0].id == "an-0102"
    assert len(store.list_anomalies("t2", AnomalyListing())) == 5


def test_labels_move_the_series_counts_and_can_be_withdrawn(store: EventStore) -> None:
    store.write_anomalies([_anomaly("t1", n) for n in range(3)] + [_anomaly("t2", 0)])
    at = T0 + timedelta(days=1)

    first = store.label_anomaly("t1", "an-0000", "false_positive", at)
    assert first is not None
    assert first.record.label == "false_positive"
    assert first.record.labelled_at == at
    assert (first.feedback.false_positives, first.feedback.true_positives) == (1, 0)
    second = store.label_anomaly("t1", "an-0001", "false_positive", at)
    assert second is not None
    assert second.feedback.false_positives == 2

    # relabelled: one false positive fewer, one true positive more
    changed = store.label_anomaly("t1", "an-0001", "true_positive", at)
    assert changed is not None
    assert (changed.feedback.false_positives, changed.feedback.true_positives) == (1, 1)
    # the same label again changes nothing
    again = store.label_anomaly("t1", "an-0001", "true_positive", at)
    assert again is not None
    assert again.feedback.true_positives == 1
    # withdrawn
    withdrawn = store.label_anomaly("t1", "an-0000", None, at)
    assert withdrawn is not None
    assert withdrawn.record.label is None
    assert withdrawn.record.labelled_at is None
    assert (withdrawn.feedback.false_positives, withdrawn.feedback.true_positives) == (0, 1)
    fresh = store.label_anomaly("t1", "an-0002", None, at)  # never labelled: no counts
    assert fresh is not None
    assert fresh.feedback.false_positives == 0

    # another tenant cannot label t1's anomaly, and its own counts are its own
    assert store.label_anomaly("t2", "an-0001", "false_positive", at) is None
    assert store.series_feedback("t2") == []
    (counts,) = store.series_feedback("t1")
    assert (counts.asset_id, counts.model_id, counts.metric) == ("asset-00", "gpt-4o", "error_rate")
    assert (counts.false_positives, counts.true_positives) == (0, 1)
    assert store.series_feedback() == [counts]
    with pytest.raises(ValueError, match="label"):
        store.label_anomaly("t1", "an-0000", "maybe", at)


def test_detector_versions_are_listed_newest_first(store: EventStore) -> None:
    versions = [
        DetectorVersion(
            id=f"v{n}",
            tenant_id="t1",
            asset_id="asset-00" if n % 2 else None,
            model_id="gpt-4o",
            created_at=T0 + timedelta(hours=n),
            reason="warm_start",
            parameters={"members": ["seasonal", "forest"]},
            window_start=T0 - timedelta(hours=48),
            window_end=T0 + timedelta(hours=n),
            minutes=2880,
            metrics={"requests": {"rows": 2880}},
        )
        for n in range(4)
    ]
    store.write_detector_versions(versions)
    store.write_detector_versions(versions[:1])  # kept as is
    assert store.list_detector_versions("t1") == versions[::-1]
    assert [v.id for v in store.list_detector_versions("t1", asset_id="asset-00")] == ["v3", "v1"]
    assert [v.id for v in store.list_detector_versions("t1", limit=1)] == ["v3"]
    assert store.list_detector_versions("t2") == []
