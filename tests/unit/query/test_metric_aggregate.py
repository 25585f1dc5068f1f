"""Per-bucket figures of metric points: increases, resets, baselines, percentiles."""

from __future__ import annotations

import math
from typing import Any

import pytest

from analytics_hub.query.metric_aggregate import (
    FIRST_POINT_HORIZON_US,
    aggregate,
    counts_on,
    quantile,
)
from analytics_hub.store.metric_points import MetricPoint, SelectedPoints

MINUTE = 60_000_000
T0 = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z, on every bucket boundary
BOUNDS = (10.0, 100.0, 1000.0)


def point(minute: int, **fields: Any) -> MetricPoint:
    values: dict[str, Any] = {
        "tenant_id": "acme",
        "series_id": 1,
        "start_us": T0,
        "time_us": T0 + minute * MINUTE,
        "metric_name": "m",
        "unit": "1",
        "kind": "sum",
        "temporality": "cumulative",
        "monotonic": True,
        **fields,
    }
    return MetricPoint(**values)


def histogram(minute: int, counts: tuple[int, ...], total: float, **fields: Any) -> MetricPoint:
    return point(
        minute,
        kind="histogram",
        count=sum(counts),
        sum=total,
        bounds=fields.pop("bounds", BOUNDS),
        bucket_counts=counts,
        **fields,
    )


def figures(
    points: list[MetricPoint],
    earlier: list[MetricPoint] | None = None,
    *,
    start: int = 0,
    end: int = 60,
    bucket: int = 60,
    group_by: tuple[str, ...] = (),
) -> list[tuple[Any, ...]]:
    """(bucket minute, group, points, count, sum, min, max) per row."""
    rows = aggregate(
        SelectedPoints(points, earlier or []),
        start_us=T0 + start * MINUTE,
        end_us=T0 + end * MINUTE,
        bucket_us=bucket * MINUTE,
        group_by=group_by,
    )
    return [
        ((r.bucket_us - T0) // MINUTE, r.group, r.points, r.count, r.sum, r.min, r.max)
        for r in rows
    ]


def test_a_cumulative_counter_counts_its_increases_per_bucket() -> None:
    run = [point(m, value=v) for m, v in ((1, 5.0), (2, 7.0), (3, 12.0), (4, 12.0))]
    assert figures(run, bucket=2) == [
        (0, (), 1, 1, 5.0, 5.0, 5.0),  # the first point: the run started a minute before
        (2, (), 2, 2, 7.0, 2.0, 5.0),
        (4, (), 1, 1, 0.0, 0.0, 0.0),
    ]


def test_the_latest_point_before_the_range_is_the_baseline() -> None:
    earlier = [point(1, value=100.0)]
    assert figures([point(11, value=130.0)], earlier, start=10) == [(0, (), 1, 1, 30.0, 30.0, 30.0)]


def test_a_drop_is_a_reset_and_counts_from_zero() -> None:
    run = [point(1, value=50.0), point(2, value=60.0), point(3, value=4.0)]
    assert figures(run)[0][4] == 50.0 + 10.0 + 4.0


def test_a_run_first_seen_long_after_its_start_is_only_a_baseline() -> None:
    old = T0 - FIRST_POINT_HORIZON_US - MINUTE
    run = [point(1, value=1e6, start_us=old), point(2, value=1e6 + 3, start_us=old)]
    assert figures(run) == [(0, (), 1, 1, 3.0, 3.0, 3.0)]
    assert figures([point(1, value=7.0, start_us=0)]) == []  # no start time: unknown history


def test_a_restart_starts_a_new_run() -> None:
    first = [point(1, value=10.0), point(2, value=15.0)]
    second = [
        point(4, value=2.0, start_us=T0 + 3 * MINUTE),
        point(5, value=6.0, start_us=T0 + 3 * MINUTE),
    ]
    assert figures(first + second)[0][4] == 10.0 + 5.0 + 2.0 + 4.0


def test_gauges_and_up_down_counters_are_levels_and_deltas_add_up() -> None:
    gauges = [
        point(m, kind="gauge", temporality=None, monotonic=False, value=v)
        for m, v in ((1, 2.0), (2, 6.0))
    ]
    assert figures(gauges) == [(0, (), 2, 2, 8.0, 2.0, 6.0)]
    updown = [point(m, monotonic=False, value=v) for m, v in ((1, 5.0), (2, 3.0))]
    assert figures(updown) == [(0, (), 2, 2, 8.0, 3.0, 5.0)]
    deltas = [point(m, temporality="delta", value=v) for m, v in ((1, 5.0), (2, 3.0))]
    assert figures(deltas) == [(0, (), 2, 2, 8.0, 3.0, 5.0)]


def test_groups_are_kept_apart_and_sorted_with_unset_first() -> None:
    run = [
        point(1, series_id=1, value=1.0, provider="openai", temporality="delta"),
        point(1, series_id=2, value=2.0, provider=None, temporality="delta"),
        point(2, series_id=3, value=4.0, provider="anthropic", temporality="delta"),
    ]
    assert [r[1:5] for r in figures(run, group_by=("provider",))] == [
        ((None,), 1, 1, 2.0),
        (("anthropic",), 1, 1, 4.0),
        (("openai",), 1, 1, 1.0),
    ]


def test_cumulative_histograms_count_the_buckets_that_grew() -> None:
    run = [
        histogram(1, (1, 2, 0, 0), 105.0, min=5.0, max=50.0),
        histogram(2, (1, 2, 3, 0), 1605.0, min=5.0, max=700.0),
        histogram(3, (1, 3, 3, 0), 1625.0, min=5.0, max=700.0),
    ]
    rows = aggregate(
        SelectedPoints(run[1:], run[:1]),
        start_us=T0 + 2 * MINUTE,
        end_us=T0 + 4 * MINUTE,
        bucket_us=MINUTE,
    )
    second, third = rows
    assert (second.count, second.sum, second.min, second.max) == (3, 1500.0, 100.0, 700.0)
    assert (third.count, third.sum, third.min, third.max) == (1, 20.0, 10.0, 100.0)
    assert third.quantiles == (55.0, pytest.approx(95.5), pytest.approx(99.1))


def test_delta_histograms_merge_their_buckets_for_percentiles() -> None:
    points = [
        histogram(1, (0, 50, 0, 0), 2500.0, temporality="delta", min=20.0, max=90.0),
        histogram(2, (0, 0, 50, 0), 25000.0, temporality="delta", min=200.0, max=800.0),
    ]
    (row,) = aggregate(
        SelectedPoints(points), start_us=T0, end_us=T0 + 60 * MINUTE, bucket_us=60 * MINUTE
    )
    assert (row.points, row.count, row.sum, row.avg, row.min, row.max) == (
        2,
        100,
        27500.0,
        275.0,
        20.0,
        800.0,
    )
    p50, p95, p99 = row.quantiles
    assert p50 == pytest.approx(100.0)
    assert p95 == pytest.approx(100 + 700 * 0.9)  # (100, 1000] closed by the max, 800
    assert p99 is not None
    assert p95 < p99 <= 800.0


def test_a_histogram_without_buckets_has_no_percentiles() -> None:
    p = histogram(1, (), 30.0, temporality="delta", bounds=())
    p = MetricPoint(**{**{f: getattr(p, f) for f in p.__struct_fields__}, "count": 3})
    (row,) = aggregate(SelectedPoints([p]), start_us=T0, end_us=T0 + MINUTE * 60, bucket_us=MINUTE)
    assert (row.count, row.sum, row.quantiles) == (3, 30.0, (None, None, None))


def test_counts_move_onto_coarser_bounds() -> None:
    # an exponential histogram whose scale fell: every old bucket sits inside a new one
    assert counts_on((1.0, 2.0, 4.0), (1, 2, 3, 4), (2.0, 4.0)) == [3, 3, 4]
    assert counts_on(BOUNDS, (1, 2, 3, 4), BOUNDS) == [1, 2, 3, 4]


def test_quantiles_of_open_ended_buckets_use_min_and_max() -> None:
    inf = math.inf
    buckets = {(-inf, 10.0): 1, (10.0, inf): 1}
    assert quantile(buckets, 0.0, None, None) == 10.0
    assert quantile(buckets, 1.0, None, None) == 10.0
    assert quantile(buckets, 1.0, 2.0, 40.0) == 40.0
    assert quantile(buckets, 0.25, 2.0, 40.0) == pytest.approx(6.0)
    assert quantile({}, 0.5, None, None) is None
