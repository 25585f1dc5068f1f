"""Metric points -> per-bucket figures: increases of running totals, merged histograms.

Pure functions over the points a store selected (:class:`SelectedPoints`). What each
point contributes to its time bucket depends on what it is:

- a gauge, or a cumulative sum that is not monotonic (an up-down counter): its value;
- a delta sum, or a delta histogram: itself;
- a cumulative monotonic sum or a cumulative histogram: its increase since the previous
  point of its run (same series, same start time), buckets and all. A drop is a reset:
  the point then counts from zero. A run's first point counts in full when it is at most
  :data:`FIRST_POINT_HORIZON_US` after the run's start (a process that just started);
  otherwise it is only the baseline of the next one, so that history from before the hub
  saw the series, or from before retention, is never put in one bucket.

Per bucket and group: the number of points, the count (of measurements for histograms,
of values otherwise), sum, average, min, max and, for histograms, p50/p95/p99 estimated
from the merged buckets (linear within a bucket, clamped to min and max). The min and
max of a cumulative histogram's interval are exact when the running ones moved, else
bounded by the buckets that grew.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from analytics_hub.store.metric_points import MetricPoint, SelectedPoints

FIRST_POINT_HORIZON_US = 3600 * 1_000_000
QUANTILES = (0.5, 0.95, 0.99)
Edges = tuple[float, float]  # (lower, upper) of a histogram bucket


@dataclass(slots=True)
class Figures:
    """What the points of one bucket and group add up to so far."""

    points: int = 0
    count: int = 0
    total: float = 0.0
    total_known: bool = True
    low: float | None = None
    high: float | None = None
    buckets: dict[Edges, int] = field(default_factory=dict)

    def add_value(self, value: float) -> None:
        """One value (a gauge reading, a sum, an increase)."""
        self.points += 1
        self.count += 1
        self.total += value
        self._extremes(value, value)

    def add_histogram(
        self,
        count: int,
        total: float | None,
        low: float | None,
        high: float | None,
        buckets: Iterable[tuple[Edges, int]],
    ) -> None:
        """One histogram interval: its count, sum, extremes and bucket counts."""
        self.points += 1
        self.count += count
        if total is None:
            self.total_known = False
        else:
            self.total += total
        if count:
            self._extremes(low, high)
        for edges, n in buckets:
            if n:
                self.buckets[edges] = self.buckets.get(edges, 0) + n

    def _extremes(self, low: float | None, high: float | None) -> None:
        if low is not None:
            self.low = low if self.low is None else min(self.low, low)
        if high is not None:
            self.high = high if self.high is None else max(self.high, high)


@dataclass(frozen=True, slots=True)
class BucketFigures:
    """The figures of one time bucket and group."""

    bucket_us: int
    group: tuple[str | None, ...]
    points: int
    count: int
    sum: float | None
    avg: float | None
    min: float | None
    max: float | None
    quantiles: tuple[float | None, ...]  # at QUANTILES; None without histogram buckets


def aggregate(
    selected: SelectedPoints,
    *,
    start_us: int,
    end_us: int,
    bucket_us: int,
    group_by: Sequence[str] = (),
) -> list[BucketFigures]:
    """The figures of ``selected`` per time bucket (epoch-aligned) and group, in bucket
    then group order; buckets without points are left out."""
    runs: dict[tuple[int, int], list[MetricPoint]] = {}
    for p in (*selected.earlier, *selected.points):
        runs.setdefault((p.series_id, p.start_us), []).append(p)
    figures: dict[tuple[int, tuple[str | None, ...]], Figures] = {}
    for run in runs.values():
        run.sort(key=lambda p: p.time_us)
        previous: MetricPoint | None = None
        for p in run:
            if start_us <= p.time_us < end_us:
                key = (p.time_us - p.time_us % bucket_us, tuple(getattr(p, g) for g in group_by))
                _contribute(figures.setdefault(key, Figures()), p, previous)
            previous = p
    rows = [_figures(k, f) for k, f in figures.items() if f.points]
    rows.sort(key=lambda r: (r.bucket_us, [(v is not None, v or "") for v in r.group]))
    return rows


def quantile(
    buckets: Mapping[Edges, int], q: float, low: float | None, high: float | None
) -> float | None:
    """The ``q`` quantile of merged histogram buckets, linear within the bucket it falls
    in; an open-ended bucket is closed by ``low``/``high`` when known."""
    total = sum(buckets.values())
    if total <= 0:
        return None
    rank = q * total
    seen = 0
    for (lower, upper), n in sorted(buckets.items(), key=lambda item: (item[0][1], item[0][0])):
        if n <= 0:
            continue
        if seen + n >= rank:
            lo = lower if math.isfinite(lower) else (low if low is not None else upper)
            hi = upper if math.isfinite(upper) else (high if high is not None else lower)
            if low is not None:
                lo = max(lo, low)
            if high is not None:
                hi = min(hi, high)
            hi = max(hi, lo)
            return lo + (hi - lo) * ((rank - seen) / n)
        seen += n
    return None  # pragma: no cover - the loop always reaches the total


def edges(bounds: Sequence[float]) -> list[Edges]:
    """The (lower, upper) edges of the buckets of explicit ``bounds``."""
    inf = math.inf
    return list(zip((-inf, *bounds), (*bounds, inf), strict=True))


def counts_on(bounds: Sequence[float], counts: Sequence[int], target: Sequence[float]) -> list[int]:
    """Bucket ``counts`` over ``bounds`` moved onto the buckets of ``target`` bounds: each
    bucket into the target bucket holding its upper edge (exact when ``target`` is as
    fine or coarser along the same edges, as when an exponential histogram's scale fell)."""
    if tuple(bounds) == tuple(target):
        return list(counts)
    moved = [0] * (len(target) + 1)
    for (_, upper), n in zip(edges(bounds), counts, strict=True):
        moved[bisect.bisect_left(target, upper)] += n
    return moved


# --- internals -----------------------------------------------------------------------


def _contribute(into: Figures, p: MetricPoint, previous: MetricPoint | None) -> None:
    histogram = p.kind in ("histogram", "exponential_histogram")
    if not histogram:
        assert p.value is not None
        if p.temporality != "cumulative" or not p.monotonic:
            into.add_value(p.value)  # a gauge, an up-down counter's level, a delta
            return
        if previous is not None and previous.value is not None and p.value >= previous.value:
            into.add_value(p.value - previous.value)
        elif previous is not None or _counts_in_full(p):
            into.add_value(p.value)  # after a reset, or a run's first point
        return
    count = p.count or 0
    if p.temporality != "cumulative":
        into.add_histogram(count, p.sum, p.min, p.max, _buckets(p.bounds, p.bucket_counts))
        return
    if previous is None or previous.count is None or count < previous.count:
        if previous is not None or _counts_in_full(p):
            into.add_histogram(count, p.sum, p.min, p.max, _buckets(p.bounds, p.bucket_counts))
        return
    _add_increase(into, p, previous)


def _counts_in_full(p: MetricPoint) -> bool:
    return p.start_us > 0 and p.time_us - p.start_us <= FIRST_POINT_HORIZON_US


def _add_increase(into: Figures, p: MetricPoint, previous: MetricPoint) -> None:
    """A cumulative histogram's interval since ``previous`` of its run."""
    assert p.count is not None
    assert previous.count is not None
    grown: list[int] = []
    if p.bucket_counts:
        before = (
            counts_on(previous.bounds, previous.bucket_counts, p.bounds)
            if previous.bucket_counts
            else [0] * len(p.bucket_counts)
        )
        grown = [max(0, now - then) for now, then in zip(p.bucket_counts, before, strict=True)]
    total = None if p.sum is None or previous.sum is None else p.sum - previous.sum
    spans = [e for e, n in _buckets(p.bounds, grown) if n]
    low = p.min
    if p.min is not None and previous.min is not None and p.min >= previous.min and spans:
        low = max(p.min, spans[0][0])  # the running min did not move: bound it by the buckets
    high = p.max
    if p.max is not None and previous.max is not None and p.max <= previous.max and spans:
        high = min(p.max, spans[-1][1])
    into.add_histogram(p.count - previous.count, total, low, high, _buckets(p.bounds, grown))


def _buckets(bounds: Sequence[float], counts: Sequence[int]) -> list[tuple[Edges, int]]:
    # A histogram without buckets (count and sum only) has no counts at all.
    return list(zip(edges(bounds), counts, strict=True)) if counts else []


def _figures(key: tuple[int, tuple[str | None, ...]], f: Figures) -> BucketFigures:
    total = f.total if f.total_known else None
    quantiles = (
        tuple(quantile(f.buckets, q, f.low, f.high) for q in QUANTILES)
        if f.buckets
        else (None,) * len(QUANTILES)
    )
    return BucketFigures(
        bucket_us=key[0],
        group=key[1],
        points=f.points,
        count=f.count,
        sum=total,
        avg=total / f.count if total is not None and f.count else None,
        min=f.low,
        max=f.high,
        quantiles=quantiles,
    )


__all__ = [
    "FIRST_POINT_HORIZON_US",
    "QUANTILES",
    "BucketFigures",
    "Figures",
    "aggregate",
    "counts_on",
    "edges",
    "quantile",
]
