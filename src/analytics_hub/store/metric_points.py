"""What the event store keeps of OTLP metrics: metric points, one row per data point.

The OTLP metrics receiver maps every Sum, Gauge, Histogram and ExponentialHistogram data
point to a :class:`MetricPoint` and writes it straight to the store (see
``docs/decisions/0016-otlp-metric-points.md``); the metric query reads them back and
aggregates them into time buckets. Points are kept as they were sent: a cumulative
point keeps its running total, and the query turns running totals into increases.

A point's key is ``(tenant_id, series_id, start_us, time_us)``: ``series_id`` is a hash
of everything that identifies its time series (metric name, unit, kind, temporality,
the resource, the instrumentation scope and the point's attributes), so an exporter
that sends the same request again stores nothing new. The SQL both backends share is in
:mod:`analytics_hub.store.metric_point_sql`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import msgspec

MetricKind = Literal["sum", "gauge", "histogram", "exponential_histogram"]
Temporality = Literal["delta", "cumulative"]
FilterOp = Literal["eq", "ne", "in", "not_in"]

#: the GenAI dimensions kept as columns, in table order: they can be grouped and filtered on
DIMENSIONS: tuple[str, ...] = (
    "asset_id",
    "service_name",
    "provider",
    "request_model",
    "response_model",
    "operation",
    "token_type",
    "error_type",
)


class MetricPoint(msgspec.Struct, frozen=True, gc=False):
    """One OTLP data point of one tenant.

    Times are microseconds since the Unix epoch, UTC; ``start_us`` 0 means the exporter
    sent no start time (gauges usually do not). ``temporality`` is None for gauges.
    Sums and gauges carry ``value``; histograms carry ``count``, ``sum``, ``min``,
    ``max`` (each None when not sent), explicit ``bounds`` and ``bucket_counts`` (one more
    count than bounds: bucket ``i`` holds values in ``(bounds[i-1], bounds[i]]``).
    Exponential histograms are stored with their buckets' bounds written out.
    ``attributes`` is the JSON text of the point's attributes that are not columns.
    """

    tenant_id: str
    series_id: int
    start_us: int
    time_us: int
    metric_name: str
    unit: str
    kind: MetricKind
    temporality: Temporality | None
    monotonic: bool
    asset_id: str | None = None
    service_name: str | None = None
    provider: str | None = None
    request_model: str | None = None
    response_model: str | None = None
    operation: str | None = None
    token_type: str | None = None
    error_type: str | None = None
    attributes: str = "{}"
    value: float | None = None
    count: int | None = None
    sum: float | None = None
    min: float | None = None
    max: float | None = None
    bounds: tuple[float, ...] = ()
    bucket_counts: tuple[int, ...] = ()

    @property
    def key(self) -> tuple[str, int, int, int]:
        """The idempotency key: a point stored twice under it is one point."""
        return (self.tenant_id, self.series_id, self.start_us, self.time_us)


@dataclass(frozen=True, slots=True)
class DimensionFilter:
    """A condition on one dimension column; a None value stands for "not set"."""

    column: str
    op: FilterOp
    values: tuple[str | None, ...]


@dataclass(frozen=True, slots=True)
class PointSelection:
    """The points of one metric of one tenant in ``[start_us, end_us)`` matching every
    filter, at most ``limit`` of them (the store returns one more when there are more)."""

    tenant_id: str
    metric_name: str
    start_us: int
    end_us: int
    filters: tuple[DimensionFilter, ...] = ()
    limit: int = 500_000


@dataclass(frozen=True, slots=True)
class SelectedPoints:
    """The points of a selection, and for each cumulative run (series and start time)
    among them, its latest point before the selection's start (``earlier``): the
    baseline its first increase in the range is measured from."""

    points: list[MetricPoint]
    earlier: list[MetricPoint] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class MetricName:
    """A metric a tenant has points of, with what they are."""

    name: str
    unit: str
    kind: str
    temporality: str | None
    points: int
    first_us: int
    last_us: int


@runtime_checkable
class MetricPointStore(Protocol):
    """What the metrics receiver and the metric query need of the event store.

    Both backends implement it beside :class:`~analytics_hub.store.base.EventStore`.
    Safe to call from many threads.
    """

    def write_metric_points(self, points: Sequence[MetricPoint]) -> int:
        """Store points in one transaction; returns how many were new (a point whose
        key is stored already, or repeated in ``points``, is skipped). Durable on return."""
        ...

    def select_metric_points(self, selection: PointSelection) -> SelectedPoints:
        """The points of ``selection`` ordered by series, start and time, with the
        baselines of their cumulative runs."""
        ...

    def metric_names(
        self, tenant_id: str, start_us: int | None = None, end_us: int | None = None
    ) -> list[MetricName]:
        """The metrics a tenant has points of (in ``[start_us, end_us)`` when given),
        by name, unit, kind and temporality."""
        ...


def dedupe(points: Sequence[MetricPoint]) -> list[MetricPoint]:
    """``points`` without those whose key came earlier, in key order (the order writers
    insert in, so that two concurrent writers never wait for each other in a cycle)."""
    unique: dict[tuple[str, int, int, int], MetricPoint] = {}
    for point in points:
        unique.setdefault(point.key, point)
    return [unique[k] for k in sorted(unique)]


__all__ = [
    "DIMENSIONS",
    "DimensionFilter",
    "FilterOp",
    "MetricKind",
    "MetricName",
    "MetricPoint",
    "MetricPointStore",
    "PointSelection",
    "SelectedPoints",
    "Temporality",
    "dedupe",
]
