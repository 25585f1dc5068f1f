"""OTLP metrics -> metric points: Sum, Gauge, Histogram and ExponentialHistogram data points.

Every data point becomes one :class:`~analytics_hub.store.metric_points.MetricPoint` of
the caller's tenant: its time and start time in microseconds, the metric's name, unit,
kind and temporality, the GenAI dimensions as columns (provider, request and response
model, operation, token type, error type, the asset and the service), the other
attributes as JSON, and its values. A cumulative point keeps its running total; the
query turns running totals into increases (``docs/decisions/0016-otlp-metric-points.md``).

Data points are numbered in request order across all resources, scopes and metrics,
from 0: that number is the ``index`` of every per-point error. Points of metrics outside
the GenAI conventions are dropped unless the options keep every metric, and so are
points flagged as having no recorded value. Summary points are rejected: the hub has no
way to merge their quantiles.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AggregationTemporality,
    ExponentialHistogramDataPoint,
    HistogramDataPoint,
    Metric,
    NumberDataPoint,
)

from analytics_hub.events import DEFAULT_LIMITS, EventError, Limits
from analytics_hub.ingest.otlp.attributes import ItemProblem, index, text, to_json
from analytics_hub.ingest.otlp.histograms import checked_count, explicit, exponential
from analytics_hub.ingest.otlp.options import DEFAULT_OPTIONS, OtlpOptions
from analytics_hub.ingest.otlp.resource import ResourceContext
from analytics_hub.ingest.otlp.spans import MIN_TIME_UNIX_NANO
from analytics_hub.store.metric_points import MetricKind, MetricPoint, Temporality

GENAI_PREFIX = "gen_ai."
SERVICE_NAME = ("service.name",)
#: dimension column -> the attributes it is read from, the first present winning
DIMENSION_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "provider": ("gen_ai.provider.name", "gen_ai.system"),
    "request_model": ("gen_ai.request.model",),
    "response_model": ("gen_ai.response.model",),
    "operation": ("gen_ai.operation.name",),
    "token_type": ("gen_ai.token.type",),
    "error_type": ("error.type",),
}
_COLUMN_KEYS = frozenset(k for keys in DIMENSION_ATTRIBUTES.values() for k in keys)
MAX_NAME_LENGTH = 255
MAX_UNIT_LENGTH = 63
MAX_DIMENSION_LENGTH = 256
MAX_ATTRIBUTES_JSON = 64 * 1024
_NO_RECORDED_VALUE = 1  # DataPointFlags.FLAG_NO_RECORDED_VALUE_MASK
_KINDS: dict[str, MetricKind] = {
    "sum": "sum",
    "gauge": "gauge",
    "histogram": "histogram",
    "exponential_histogram": "exponential_histogram",
}
_TEMPORALITIES: dict[int, Temporality] = {
    AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA: "delta",
    AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE: "cumulative",
}
_encode = msgspec.json.Encoder(order="sorted").encode  # canonical: the same text every time

DataPoint = NumberDataPoint | HistogramDataPoint | ExponentialHistogramDataPoint


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """The point times accepted, in microseconds since the epoch: not later than the
    clock-skew guard allows, not earlier than retention keeps."""

    earliest_us: int
    latest_us: int


@dataclass(slots=True)
class MappedPoints:
    """What mapping one request gives: points in order, the rejected ones' errors, the
    number of data points in the request and how many were dropped on purpose."""

    points: list[MetricPoint] = field(default_factory=list)
    errors: list[EventError] = field(default_factory=list)
    items: int = 0
    dropped: int = 0


@dataclass(frozen=True, slots=True)
class _Series:
    """What the points of one metric share."""

    tenant_id: str
    name: str
    unit: str
    kind: MetricKind
    temporality: Temporality | None
    monotonic: bool
    identity: bytes  # resource, scope and metric, canonical
    resource: ResourceContext
    service_name: str | None


def data_points(metric: Metric) -> tuple[str | None, Sequence[Any]]:
    """The kind of ``metric`` (the name of its ``data`` field) and its data points."""
    kind = metric.WhichOneof("data")
    if kind is None:
        return None, ()
    return kind, getattr(metric, kind).data_points


def count_points(request: ExportMetricsServiceRequest) -> int:
    """The number of data points of ``request``."""
    return sum(
        len(data_points(m)[1])
        for r in request.resource_metrics
        for s in r.scope_metrics
        for m in s.metrics
    )


def map_metrics(
    request: ExportMetricsServiceRequest,
    tenant_id: str,
    window: TimeWindow,
    options: OtlpOptions = DEFAULT_OPTIONS,
    *,
    limits: Limits = DEFAULT_LIMITS,
    rejected: Mapping[int, tuple[str, str]] | None = None,
) -> MappedPoints:
    """Map every data point of ``request``; ``rejected`` holds points already found bad
    (``index -> (field, message)``) by the decoder. Never raises for one point."""
    out = MappedPoints()
    position = 0
    for resource_metrics in request.resource_metrics:
        resource = ResourceContext.of(resource_metrics.resource, options, limits)
        resource_key = _encode(
            {k: to_json(v) for k, v in resource.attributes.items()}
            if resource.problem is None
            else {}
        )
        service = text(resource.attributes, SERVICE_NAME)
        for scope_metrics in resource_metrics.scope_metrics:
            scope = _encode([scope_metrics.scope.name, scope_metrics.scope.version])
            for metric in scope_metrics.metrics:
                kind, points = data_points(metric)
                keep = options.keep_all_metrics or metric.name.startswith(GENAI_PREFIX)
                series: _Series | None = None
                for dp in points:
                    i = position
                    position += 1
                    if not keep:
                        out.dropped += 1
                        continue
                    try:
                        if rejected and i in rejected:
                            raise ItemProblem(*rejected[i])
                        if resource.problem is not None:
                            raise resource.problem
                        if series is None:
                            context = resource_key + scope
                            series = _series(tenant_id, metric, kind, resource, service, context)
                        found = map_point(dp, series, window, options)
                    except ItemProblem as problem:
                        out.errors.append(EventError(i, problem.field, problem.message))
                        continue
                    if found is None:
                        out.dropped += 1
                    else:
                        out.points.append(found)
    out.items = position
    return out


def map_point(
    dp: DataPoint, series: _Series, window: TimeWindow, options: OtlpOptions
) -> MetricPoint | None:
    """The point of one data point (None when flagged as having no recorded value)."""
    n = len(dp.attributes)
    if n > options.max_attributes:
        raise ItemProblem(
            "attributes",
            f"the data point has {n} attributes; at most {options.max_attributes} are "
            "accepted (OtlpOptions.max_attributes)",
        )
    if dp.flags & _NO_RECORDED_VALUE:
        return None
    time_us, start_us = _times(dp, window)
    attrs = index(dp.attributes)
    as_json = {k: to_json(v) for k, v in attrs.items()}
    rest = _encode({k: v for k, v in as_json.items() if k not in _COLUMN_KEYS})
    if len(rest) > MAX_ATTRIBUTES_JSON:
        raise ItemProblem(
            "attributes", f"the attributes take {len(rest)} bytes as JSON; at most 65536"
        )
    digest = hashlib.blake2b(series.identity, digest_size=8)
    digest.update(_encode(as_json))
    provider = _dimension(attrs, "provider")
    return MetricPoint(
        tenant_id=series.tenant_id,
        series_id=int.from_bytes(digest.digest(), "big", signed=True),
        start_us=start_us,
        time_us=time_us,
        metric_name=series.name,
        unit=series.unit,
        kind=series.kind,
        temporality=series.temporality,
        monotonic=series.monotonic,
        asset_id=_bounded(series.resource.asset(options.asset_attribute, attrs), "asset"),
        service_name=_bounded(series.service_name, "service.name"),
        provider=(provider.strip().lower() or None) if provider else None,  # as spans have it
        request_model=_dimension(attrs, "request_model"),
        response_model=_dimension(attrs, "response_model"),
        operation=_dimension(attrs, "operation"),
        token_type=_dimension(attrs, "token_type"),
        error_type=_dimension(attrs, "error_type"),
        attributes=rest.decode(),
        **_values(dp),
    )


# --- internals -----------------------------------------------------------------------


def _series(
    tenant_id: str,
    metric: Metric,
    kind: str | None,
    resource: ResourceContext,
    service: str | None,
    context: bytes,
) -> _Series:
    name, unit = metric.name, metric.unit
    if not name or len(name) > MAX_NAME_LENGTH:
        raise ItemProblem("name", f"a metric name has 1 to {MAX_NAME_LENGTH} characters")
    if len(unit) > MAX_UNIT_LENGTH:
        raise ItemProblem("unit", f"a unit has at most {MAX_UNIT_LENGTH} characters")
    if kind == "summary":
        raise ItemProblem(
            "summary",
            "Summary points are not stored: their quantiles cannot be merged; send a "
            "Histogram or ExponentialHistogram instead",
        )
    assert kind is not None  # a metric without data has no points
    temporality: Temporality | None = None
    monotonic = False
    if kind in ("sum", "histogram", "exponential_histogram"):
        data = getattr(metric, kind)
        found = _TEMPORALITIES.get(data.aggregation_temporality)
        if found is None:
            raise ItemProblem(
                "aggregation_temporality", "must be DELTA or CUMULATIVE, not unspecified"
            )
        temporality = found
        monotonic = bool(data.is_monotonic) if kind == "sum" else True
    # The series identity: resource and scope (``context``), then the metric itself.
    identity = context + _encode([name, unit, kind, temporality, monotonic])
    return _Series(
        tenant_id=tenant_id,
        name=name,
        unit=unit,
        kind=_KINDS[kind],
        temporality=temporality,
        monotonic=monotonic,
        identity=identity,
        resource=resource,
        service_name=service,
    )


def _dimension(attrs: Mapping[str, Any], column: str) -> str | None:
    return _bounded(text(attrs, DIMENSION_ATTRIBUTES[column]), column)


def _bounded(value: str | None, what: str) -> str | None:
    if value is not None and len(value) > MAX_DIMENSION_LENGTH:
        raise ItemProblem(
            f"attributes.{what}", f"has {len(value)} characters; at most {MAX_DIMENSION_LENGTH}"
        )
    return value


def _times(dp: DataPoint, window: TimeWindow) -> tuple[int, int]:
    if dp.time_unix_nano < MIN_TIME_UNIX_NANO:
        raise ItemProblem("time_unix_nano", "is unset (or before 1973)")
    time_us = dp.time_unix_nano // 1000
    if time_us > window.latest_us:
        raise ItemProblem("time_unix_nano", "is in the future (beyond the clock-skew guard)")
    if time_us < window.earliest_us:
        raise ItemProblem("time_unix_nano", "is older than the metric points' retention")
    start_us = dp.start_time_unix_nano // 1000
    if start_us > time_us:
        raise ItemProblem("start_time_unix_nano", "is after time_unix_nano")
    return time_us, start_us


def _finite(value: float, field_: str) -> float:
    if not math.isfinite(value):
        raise ItemProblem(field_, f"must be a finite number, got {value!r}")
    return value


def _optional(
    dp: HistogramDataPoint | ExponentialHistogramDataPoint, name: Literal["sum", "min", "max"]
) -> float | None:
    return _finite(getattr(dp, name), name) if dp.HasField(name) else None


def _values(dp: DataPoint) -> dict[str, Any]:
    if isinstance(dp, NumberDataPoint):
        which = dp.WhichOneof("value")
        if which is None:
            raise ItemProblem("value", "the data point has no value (as_double or as_int)")
        return {"value": _finite(float(getattr(dp, which)), which)}
    count = checked_count(dp.count, "count")
    if isinstance(dp, HistogramDataPoint):
        bounds, counts = explicit(dp.explicit_bounds, dp.bucket_counts)
    else:
        bounds, counts = exponential(
            scale=dp.scale,
            zero_count=checked_count(dp.zero_count, "zero_count"),
            zero_threshold=dp.zero_threshold,
            positive=(dp.positive.offset, dp.positive.bucket_counts),
            negative=(dp.negative.offset, dp.negative.bucket_counts),
        )
    if counts and sum(counts) != count:
        raise ItemProblem(
            "count", f"is {count} but the buckets hold {sum(counts)}: they must agree"
        )
    return {
        "count": count,
        "sum": _optional(dp, "sum"),
        "min": _optional(dp, "min"),
        "max": _optional(dp, "max"),
        "bounds": bounds,
        "bucket_counts": counts,
    }


__all__ = [
    "DIMENSION_ATTRIBUTES",
    "GENAI_PREFIX",
    "MappedPoints",
    "TimeWindow",
    "count_points",
    "data_points",
    "map_metrics",
    "map_point",
]
