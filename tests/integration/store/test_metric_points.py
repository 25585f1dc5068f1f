"""Metric points on every backend: idempotent writes, selections with baselines, names."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from analytics_hub.store.base import EventStore
from analytics_hub.store.metric_points import (
    DimensionFilter,
    MetricPoint,
    MetricPointStore,
    PointSelection,
)

MINUTE = 60_000_000
T0 = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z in microseconds
TOKENS = "gen_ai.client.token.usage"


def _points(store: EventStore) -> MetricPointStore:
    assert isinstance(store, MetricPointStore)
    return store


def histogram(
    minute: int,
    counts: tuple[int, ...],
    *,
    series: int = 1,
    tenant: str = "acme",
    start_us: int = T0,
    **dims: Any,
) -> MetricPoint:
    """A cumulative token-usage histogram point at ``T0 + minute`` minutes."""
    bounds = (10.0, 100.0, 1000.0)
    return MetricPoint(
        tenant_id=tenant,
        series_id=series,
        start_us=start_us,
        time_us=T0 + minute * MINUTE,
        metric_name=TOKENS,
        unit="{token}",
        kind="histogram",
        temporality="cumulative",
        monotonic=True,
        attributes='{"server.address":"api.openai.com"}',
        count=sum(counts),
        sum=float(sum(c * b for c, b in zip(counts, (5, 50, 500, 5000), strict=True))),
        min=5.0,
        max=5000.0,
        bounds=bounds,
        bucket_counts=counts,
        **{"provider": "openai", "request_model": "gpt-4o", "token_type": "input", **dims},
    )


def gauge(minute: int, value: float, *, tenant: str = "acme", series: int = 9) -> MetricPoint:
    return MetricPoint(
        tenant_id=tenant,
        series_id=series,
        start_us=0,
        time_us=T0 + minute * MINUTE,
        metric_name="gen_ai.server.queue.size",
        unit="{request}",
        kind="gauge",
        temporality=None,
        monotonic=False,
        value=value,
    )


def _select(store: MetricPointStore, start: int, end: int, **kwargs: Any) -> PointSelection:
    return PointSelection(
        tenant_id=kwargs.pop("tenant", "acme"),
        metric_name=kwargs.pop("metric", TOKENS),
        start_us=T0 + start * MINUTE,
        end_us=T0 + end * MINUTE,
        **kwargs,
    )


def test_points_read_back_as_written(store: EventStore) -> None:
    points = _points(store)
    written = [histogram(1, (1, 2, 0, 0)), gauge(1, 3.5)]
    assert points.write_metric_points(written) == 2
    found = points.select_metric_points(_select(points, 0, 5)).points
    assert found == [written[0]]
    gauges = points.select_metric_points(_select(points, 0, 5, metric="gen_ai.server.queue.size"))
    assert gauges.points == [written[1]]
    assert gauges.earlier == []


def test_a_replayed_write_stores_nothing_new(store: EventStore) -> None:
    points = _points(store)
    batch = [histogram(m, (m, 0, 0, 0)) for m in range(1, 6)]
    assert points.write_metric_points(batch) == 5
    assert points.write_metric_points(batch) == 0
    assert points.write_metric_points([*batch, batch[0], histogram(6, (6, 0, 0, 0))]) == 1
    assert len(points.select_metric_points(_select(points, 0, 10)).points) == 6


def test_concurrent_writers_of_the_same_points_store_each_once(store: EventStore) -> None:
    points = _points(store)
    batch = [histogram(m, (m, 0, 0, 0), series=s) for m in range(1, 30) for s in range(5)]
    write: Callable[[list[MetricPoint]], int] = points.write_metric_points
    with ThreadPoolExecutor(4) as pool:
        inserted = list(pool.map(write, [batch, list(reversed(batch)), batch, batch[::2]]))
    assert sum(inserted) == len(batch)


def test_a_cumulative_run_comes_with_its_latest_point_before_the_range(store: EventStore) -> None:
    points = _points(store)
    restarted = T0 + 7 * MINUTE
    points.write_metric_points(
        [
            *(histogram(m, (m, 0, 0, 0)) for m in (1, 2, 3, 4)),
            histogram(8, (1, 0, 0, 0), start_us=restarted),  # the process restarted
            histogram(2, (9, 0, 0, 0), series=2),  # another series, nothing in the range
        ]
    )
    selected = points.select_metric_points(_select(points, 3, 10))
    assert [(p.series_id, p.time_us) for p in selected.points] == [
        (1, T0 + 3 * MINUTE),
        (1, T0 + 4 * MINUTE),
        (1, T0 + 8 * MINUTE),
    ]
    assert [(p.series_id, p.start_us, p.time_us) for p in selected.earlier] == [
        (1, T0, T0 + 2 * MINUTE)
    ]


def test_tenants_never_see_each_others_points(store: EventStore) -> None:
    points = _points(store)
    points.write_metric_points([histogram(1, (1, 0, 0, 0)), histogram(2, (2, 0, 0, 0))])
    points.write_metric_points([histogram(3, (5, 0, 0, 0), tenant="globex")])
    assert points.select_metric_points(_select(points, 0, 5, tenant="globex")).earlier == []
    assert len(points.select_metric_points(_select(points, 0, 5, tenant="globex")).points) == 1
    assert [m.name for m in points.metric_names("acme")] == [TOKENS]
    assert points.metric_names("initech") == []


@pytest.mark.parametrize(
    ("condition", "series"),
    [
        (DimensionFilter("request_model", "eq", ("gpt-4o",)), [1]),
        (DimensionFilter("request_model", "in", ("gpt-4o", "o3")), [1, 2]),
        (DimensionFilter("request_model", "ne", ("gpt-4o",)), [2, 3]),
        (DimensionFilter("request_model", "not_in", ("gpt-4o", None)), [2]),
        (DimensionFilter("request_model", "eq", (None,)), [3]),
        (DimensionFilter("request_model", "in", ("o3", None)), [2, 3]),
        (DimensionFilter("request_model", "ne", (None,)), [1, 2]),
    ],
)
def test_dimension_filters(
    store: EventStore, condition: DimensionFilter, series: list[int]
) -> None:
    points = _points(store)
    points.write_metric_points(
        [
            histogram(1, (1, 0, 0, 0), series=1),
            histogram(1, (1, 0, 0, 0), series=2, request_model="o3"),
            histogram(1, (1, 0, 0, 0), series=3, request_model=None),
        ]
    )
    found = points.select_metric_points(_select(points, 0, 5, filters=(condition,))).points
    assert sorted(p.series_id for p in found) == series


def test_a_selection_returns_one_point_more_than_its_limit(store: EventStore) -> None:
    points = _points(store)
    points.write_metric_points([histogram(m, (m, 0, 0, 0)) for m in range(1, 11)])
    assert len(points.select_metric_points(_select(points, 0, 20, limit=3)).points) == 4


def test_metric_names_with_units_kinds_and_times(store: EventStore) -> None:
    points = _points(store)
    points.write_metric_points([histogram(1, (1, 0, 0, 0)), gauge(2, 1.0), gauge(5, 2.0)])
    names = points.metric_names("acme")
    assert [(n.name, n.unit, n.kind, n.temporality, n.points) for n in names] == [
        (TOKENS, "{token}", "histogram", "cumulative", 1),
        ("gen_ai.server.queue.size", "{request}", "gauge", None, 2),
    ]
    queue = next(n for n in names if n.kind == "gauge")
    assert (queue.first_us, queue.last_us) == (T0 + 2 * MINUTE, T0 + 5 * MINUTE)
    assert [n.name for n in points.metric_names("acme", T0 + 3 * MINUTE)] == [
        "gen_ai.server.queue.size"
    ]


def test_points_survive_a_restart(store: EventStore, reopen: Callable[[], EventStore]) -> None:
    _points(store).write_metric_points([histogram(1, (1, 2, 3, 4))])
    again = _points(reopen())
    assert again.select_metric_points(_select(again, 0, 5)).points == [histogram(1, (1, 2, 3, 4))]
