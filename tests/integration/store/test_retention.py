"""Retention deletes what is older than each table's limit, tenant by tenant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from analytics_hub.store.anomalies import AnomalyRecord, DetectorVersion
from analytics_hub.store.base import DeadLetter, EventStore, RetentionPolicy
from analytics_hub.store.metric_points import MetricPoint, MetricPointStore
from analytics_hub.testing.rows import make_event_rows

NOW = datetime(2025, 6, 1)
AGES = (1, 3, 10, 30, 40, 100, 200, 400)  # days; 30 sits exactly on the default limit
DEFAULT = RetentionPolicy(
    raw_days=30, minute_rollup_days=90, hour_rollup_days=365, dead_letter_days=30
)
STRICT = RetentionPolicy(
    raw_days=7, minute_rollup_days=14, hour_rollup_days=120, dead_letter_days=2
)
TIME_COLUMN = {
    "events": "ts",
    "rollup_1m": "bucket",
    "rollup_1h": "bucket",
    "tenant_rollup_1m": "bucket",
    "tenant_rollup_1h": "bucket",
    "dead_letters": "received_at",
    "anomalies": "minute",
    "anomaly_versions": "created_at",
    "metric_points": "ts",
}


def _fill(store: EventStore, tenants: list[str]) -> None:
    tables = [
        make_event_rows(
            5, start=NOW - timedelta(days=age), step=timedelta(seconds=1), tenant=tenant, seed=age
        )
        for tenant in tenants
        for age in AGES
    ]
    store.write_events(pa.concat_tables(tables))
    store.write_dead_letters(
        [
            DeadLetter(
                tenant_id=tenant,
                id=f"{tenant}-{age}",
                received_at=NOW - timedelta(days=age),
                index=0,
                errors=[{"field": "timestamp", "message": "missing"}],
                raw="{}",
            )
            for tenant in tenants
            for age in AGES
        ]
    )
    store.write_anomalies(
        [_anomaly(tenant, NOW - timedelta(days=age)) for tenant in tenants for age in AGES]
    )
    assert isinstance(store, MetricPointStore)
    store.write_metric_points([_point(tenant, age) for tenant in tenants for age in AGES])
    store.write_detector_versions(
        [
            DetectorVersion(
                id=f"v-{age}",
                tenant_id=tenant,
                asset_id=None,
                model_id=None,
                created_at=NOW - timedelta(days=age),
                reason="warm_start",
            )
            for tenant in tenants
            for age in AGES
        ]
    )


def _point(tenant: str, age: int) -> MetricPoint:
    micros = int((NOW - timedelta(days=age)).replace(tzinfo=UTC).timestamp() * 1_000_000)
    return MetricPoint(
        tenant_id=tenant,
        series_id=1,
        start_us=0,
        time_us=micros,
        metric_name="gen_ai.server.queue",
        unit="1",
        kind="gauge",
        temporality=None,
        monotonic=False,
        value=float(age),
    )


def _anomaly(tenant: str, minute: datetime) -> AnomalyRecord:
    return AnomalyRecord(
        id=f"{tenant}-{minute.isoformat()}",
        tenant_id=tenant,
        asset_id="asset-00",
        model_id="gpt-4o",
        metric="requests",
        minute=minute,
        score=0.999,
        threshold=0.996,
        offset=0.0,
        observed=10.0,
        expected_low=1.0,
        expected_high=2.0,
        contributing=[],
        votes={},
        detector="ensemble",
        version="v",
        source="stream",
        created_at=minute,
        latency_ms=None,
    )


def _ages(store: EventStore, table: str, tenant: str) -> set[int]:
    """The ages (whole days, rounded up) of what ``tenant`` still has in ``table``."""
    column = TIME_COLUMN[table]
    rows = store.fetch(f"SELECT {column} FROM {table} WHERE tenant_id = ?", [tenant]).rows
    return {-((ts - NOW) // timedelta(days=1)) for (ts,) in rows}


def _counts(store: EventStore) -> dict[str, int]:
    return {t: int(store.fetch(f"SELECT count(*) FROM {t}", []).rows[0][0]) for t in TIME_COLUMN}


def _kept(days: int) -> set[int]:
    return {age for age in AGES if age <= days}


@pytest.mark.parametrize("now", [NOW, NOW.replace(tzinfo=UTC)], ids=["naive", "aware"])
def test_default_and_per_tenant_retention(store: EventStore, now: datetime) -> None:
    _fill(store, ["a", "b", "c"])
    before = _counts(store)

    report = store.apply_retention(now, DEFAULT, {"b": STRICT, "nobody": STRICT})

    after = _counts(store)
    assert report.deleted == {t: before[t] - after[t] for t in TIME_COLUMN}
    for tenant in ("a", "c"):
        assert _ages(store, "events", tenant) == _kept(30)
        assert _ages(store, "rollup_1m", tenant) == _kept(90)
        assert _ages(store, "rollup_1h", tenant) == _kept(365)
        assert _ages(store, "tenant_rollup_1m", tenant) == _kept(90)
        assert _ages(store, "tenant_rollup_1h", tenant) == _kept(365)
        assert _ages(store, "dead_letters", tenant) == _kept(30)
        assert _ages(store, "anomalies", tenant) == _kept(90)
        assert _ages(store, "anomaly_versions", tenant) == _kept(90)
        assert _ages(store, "metric_points", tenant) == _kept(90)
    assert _ages(store, "events", "b") == _kept(7)
    assert _ages(store, "rollup_1m", "b") == _kept(14)
    assert _ages(store, "rollup_1h", "b") == _kept(120)
    assert _ages(store, "tenant_rollup_1m", "b") == _kept(14)
    assert _ages(store, "tenant_rollup_1h", "b") == _kept(120)
    assert _ages(store, "dead_letters", "b") == {1}
    assert _ages(store, "anomalies", "b") == _kept(14)
    assert _ages(store, "metric_points", "b") == _kept(14)

    # A second pass has nothing left to do.
    assert store.apply_retention(now, DEFAULT, {"b": STRICT}).deleted == dict.fromkeys(
        TIME_COLUMN, 0
    )


def test_a_tenant_may_keep_longer_than_the_default(store: EventStore) -> None:
    _fill(store, ["a", "long"])
    forever = RetentionPolicy(
        raw_days=1000, minute_rollup_days=1000, hour_rollup_days=1000, dead_letter_days=1000
    )
    store.apply_retention(NOW, DEFAULT, {"long": forever})
    for table in TIME_COLUMN:
        assert _ages(store, table, "long") == set(AGES)
    assert _ages(store, "events", "a") == _kept(30)
