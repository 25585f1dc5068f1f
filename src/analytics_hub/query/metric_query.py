"""Queries over OTLP metric points: one metric, a time range, buckets, groups, filters.

The request and answer are pydantic models (the OpenAPI schema); the service checks what
depends on settings (range, bucket count), selects the tenant's points through the
:class:`~analytics_hub.store.metric_points.MetricPointStore` port and aggregates them
with :mod:`analytics_hub.query.metric_aggregate`. Dimensions are named by a closed list,
so a request never puts text of its own into SQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from analytics_hub.errors import ValidationError
from analytics_hub.query.metric_aggregate import QUANTILES, aggregate
from analytics_hub.query.model import Bucket, TimeRange
from analytics_hub.store.metric_points import (
    DIMENSIONS,
    DimensionFilter,
    FilterOp,
    MetricPointStore,
    PointSelection,
)

Dimension = Literal[
    "asset_id",
    "service_name",
    "provider",
    "request_model",
    "response_model",
    "operation",
    "token_type",
    "error_type",
]
BUCKET_SECONDS: dict[str, int] = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "1d": 86400}
MAX_IN_VALUES = 1000
DEFAULT_MAX_POINTS = 500_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _Model(BaseModel):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )


class MetricFilter(_Model):
    """One condition on a dimension; all filters must hold (AND)."""

    field: Dimension
    op: FilterOp = "eq"
    value: str | list[str | None] | None = Field(
        default=None,
        description="a text (null: the dimension is not set) for eq/ne, a list of up to "
        "1000 for in/not_in",
    )


class MetricQuery(_Model):
    """Figures of one metric per time bucket, optionally per group of dimensions."""

    metric: str = Field(min_length=1, max_length=255, description="e.g. gen_ai.client.token.usage")
    time_range: TimeRange
    bucket: Bucket = "1h"
    group_by: list[Dimension] = Field(default_factory=list, max_length=len(DIMENSIONS))
    filters: list[MetricFilter] = Field(default_factory=list, max_length=50)


class MetricRow(_Model):
    """The figures of one bucket (and group)."""

    bucket: datetime = Field(description="start of the bucket (UTC)")
    group: dict[str, str | None] = Field(description="the group's dimension values")
    points: int = Field(description="data points that contributed")
    count: int = Field(description="measurements (histograms) or values (sums, gauges)")
    sum: float | None = Field(description="sum of the measurements, increases or values")
    avg: float | None = Field(description="sum / count")
    min: float | None
    max: float | None
    p50: float | None = Field(description="histograms only: estimated from the buckets")
    p95: float | None
    p99: float | None


class MetricQueryResult(_Model):
    """The answer to a :class:`MetricQuery`."""

    metric: str
    unit: str | None = Field(description="the points' unit (UCUM, as the exporter sent it)")
    kinds: list[str] = Field(description="sum, gauge, histogram, exponential_histogram")
    bucket: Bucket
    points_read: int = Field(description="data points read, baselines included")
    rows: list[MetricRow]


class MetricNameOut(_Model):
    """A metric the tenant has points of."""

    name: str
    unit: str
    kind: str
    temporality: str | None
    points: int
    first_seen: datetime
    last_seen: datetime


class MetricNames(_Model):
    """The metrics a tenant has points of, by name."""

    metrics: list[MetricNameOut]


def micros(moment: datetime) -> int:
    """An aware datetime as microseconds since the epoch."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


def moment(us: int) -> datetime:
    """Microseconds since the epoch as an aware UTC datetime."""
    return _EPOCH + timedelta(microseconds=us)


class MetricQueryService:
    """Runs metric queries and lists metric names for a tenant (blocking: run it in a
    worker thread)."""

    def __init__(
        self,
        store: MetricPointStore,
        *,
        max_buckets: int,
        max_points: int = DEFAULT_MAX_POINTS,
    ) -> None:
        self._store = store
        self._max_buckets = max_buckets
        self._max_points = max_points

    def run(self, tenant_id: str, query: MetricQuery) -> MetricQueryResult:
        """The figures of ``query`` over the tenant's points."""
        start, end = micros(query.time_range.from_), micros(query.time_range.to)
        if end <= start:
            raise ValidationError("time_range.to must be after time_range.from")
        bucket_us = BUCKET_SECONDS[query.bucket] * 1_000_000
        first = start - start % bucket_us
        buckets = -(-(end - first) // bucket_us)
        if buckets > self._max_buckets:
            raise ValidationError(
                f"{buckets} buckets of {query.bucket}; at most {self._max_buckets}: choose a "
                "larger bucket or a shorter range"
            )
        if len(set(query.group_by)) != len(query.group_by):
            raise ValidationError("group_by names a dimension twice")
        selection = PointSelection(
            tenant_id=tenant_id,
            metric_name=query.metric,
            start_us=start,
            end_us=end,
            filters=tuple(_filter(f) for f in query.filters),
            limit=self._max_points,
        )
        selected = self._store.select_metric_points(selection)
        if len(selected.points) > self._max_points:
            raise ValidationError(
                f"more than {self._max_points} data points in the range: filter or shorten it"
            )
        figures = aggregate(
            selected, start_us=start, end_us=end, bucket_us=bucket_us, group_by=query.group_by
        )
        rows = [
            MetricRow(
                bucket=moment(f.bucket_us),
                group=dict(zip(query.group_by, f.group, strict=True)),
                points=f.points,
                count=f.count,
                sum=f.sum,
                avg=f.avg,
                min=f.min,
                max=f.max,
                **dict(zip(("p50", "p95", "p99"), f.quantiles, strict=True)),
            )
            for f in figures
        ]
        units = [p.unit for p in selected.points]
        return MetricQueryResult(
            metric=query.metric,
            unit=max(set(units), key=units.count) if units else None,
            kinds=sorted({p.kind for p in selected.points}),
            bucket=query.bucket,
            points_read=len(selected.points) + len(selected.earlier),
            rows=rows,
        )

    def names(
        self, tenant_id: str, start: datetime | None = None, end: datetime | None = None
    ) -> MetricNames:
        """The metrics the tenant has points of (in ``[start, end)`` when given)."""
        found = self._store.metric_names(
            tenant_id,
            None if start is None else micros(start),
            None if end is None else micros(end),
        )
        return MetricNames(
            metrics=[
                MetricNameOut(
                    name=m.name,
                    unit=m.unit,
                    kind=m.kind,
                    temporality=m.temporality,
                    points=m.points,
                    first_seen=moment(m.first_us),
                    last_seen=moment(m.last_us),
                )
                for m in found
            ]
        )


def _filter(f: MetricFilter) -> DimensionFilter:
    listed = f.op in ("in", "not_in")
    if listed != isinstance(f.value, list):
        shape = "a list" if listed else "one text or null"
        raise ValidationError(f"filter on {f.field}: {f.op} takes {shape}")
    values = tuple(f.value) if isinstance(f.value, list) else (f.value,)
    if len(values) > MAX_IN_VALUES:
        raise ValidationError(f"filter on {f.field}: at most {MAX_IN_VALUES} values")
    return DimensionFilter(column=f.field, op=f.op, values=values)


__all__ = [
    "BUCKET_SECONDS",
    "QUANTILES",
    "Dimension",
    "MetricFilter",
    "MetricNameOut",
    "MetricNames",
    "MetricQuery",
    "MetricQueryResult",
    "MetricQueryService",
    "MetricRow",
    "micros",
    "moment",
]
