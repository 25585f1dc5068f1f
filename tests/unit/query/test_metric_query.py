"""The metric query service: limits checked, points of the tenant read and aggregated."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from analytics_hub.errors import ValidationError
from analytics_hub.query.metric_query import MetricQuery, MetricQueryService, micros
from analytics_hub.store.duckdb import DuckDBStore
from analytics_hub.store.metric_points import MetricPoint

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBStore]:
    opened = DuckDBStore(tmp_path / "events.duckdb", threads=1)
    opened.migrate()
    yield opened
    opened.close()


def _gauge(
    minute: int, value: float, *, tenant: str = "acme", model: str = "gpt-4o"
) -> MetricPoint:
    return MetricPoint(
        tenant_id=tenant,
        series_id={"gpt-4o": 1, "o3": 2}[model],
        start_us=0,
        time_us=micros(T0 + timedelta(minutes=minute)),
        metric_name="gen_ai.server.queue",
        unit="{request}",
        kind="gauge",
        temporality=None,
        monotonic=False,
        request_model=model,
        value=value,
    )


def _query(**fields: Any) -> MetricQuery:
    body: dict[str, Any] = {
        "metric": "gen_ai.server.queue",
        "time_range": {"from": T0.isoformat(), "to": (T0 + timedelta(hours=2)).isoformat()},
        "bucket": "1h",
        **fields,
    }
    return MetricQuery.model_validate(body)


def test_figures_per_bucket_and_group_of_the_tenant(store: DuckDBStore) -> None:
    store.write_metric_points(
        [
            _gauge(1, 2.0),
            _gauge(2, 4.0),
            _gauge(61, 10.0),
            _gauge(3, 7.0, model="o3"),
            _gauge(4, 99.0, tenant="globex"),
        ]
    )
    service = MetricQueryService(store, max_buckets=100)
    result = service.run("acme", _query(group_by=["request_model"]))
    assert (result.unit, result.kinds, result.points_read) == ("{request}", ["gauge"], 4)
    rows = [(r.bucket, r.group, r.count, r.sum, r.avg, r.min, r.max, r.p50) for r in result.rows]
    assert rows == [
        (T0, {"request_model": "gpt-4o"}, 2, 6.0, 3.0, 2.0, 4.0, None),
        (T0, {"request_model": "o3"}, 1, 7.0, 7.0, 7.0, 7.0, None),
        (T0 + timedelta(hours=1), {"request_model": "gpt-4o"}, 1, 10.0, 10.0, 10.0, 10.0, None),
    ]
    only_o3 = service.run(
        "acme", _query(filters=[{"field": "request_model", "op": "in", "value": ["o3"]}])
    )
    assert [r.sum for r in only_o3.rows] == [7.0]
    assert service.run("initech", _query()).rows == []
    assert [m.name for m in service.names("acme").metrics] == ["gen_ai.server.queue"]


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        (
            {
                "bucket": "1m",
                "time_range": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-09T00:00:00Z"},
            },
            "buckets",
        ),
        ({"time_range": {"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}}, "after"),
        ({"group_by": ["provider", "provider"]}, "twice"),
        ({"filters": [{"field": "provider", "op": "in", "value": "openai"}]}, "a list"),
        ({"filters": [{"field": "provider", "op": "eq", "value": ["openai"]}]}, "one text"),
    ],
    ids=["too-many-buckets", "backwards", "group-twice", "in-scalar", "eq-list"],
)
def test_queries_beyond_the_limits_are_validation_errors(
    store: DuckDBStore, fields: dict[str, Any], words: str
) -> None:
    service = MetricQueryService(store, max_buckets=1000)
    with pytest.raises(ValidationError, match=words):
        service.run("acme", _query(**fields))


def test_too_many_points_ask_for_a_narrower_query(store: DuckDBStore) -> None:
    store.write_metric_points([_gauge(m, 1.0) for m in range(5)])
    service = MetricQueryService(store, max_buckets=100, max_points=3)
    with pytest.raises(ValidationError, match="more than 3 data points"):
        service.run("acme", _query())
