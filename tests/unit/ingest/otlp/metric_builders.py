"""Builders of OTLP metrics export requests for the mapping tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

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

from analytics_hub.ingest.otlp.metrics import TimeWindow

from .builders import RECEIVED, RESOURCE, attributes

DELTA = AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA
CUMULATIVE = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
NOW_NS = int(RECEIVED.timestamp()) * 1_000_000_000
T = NOW_NS - 60 * 1_000_000_000  # a minute ago
START = T - 60 * 1_000_000_000
WINDOW = TimeWindow(earliest_us=NOW_NS // 1000 - 86400 * 10**6, latest_us=NOW_NS // 1000 + 10**8)
TOKEN_ATTRS = {
    "gen_ai.provider.name": "OpenAI",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.response.model": "gpt-4o-2024-08-06",
    "gen_ai.operation.name": "chat",
    "gen_ai.token.type": "input",
    "server.address": "api.openai.com",
}


def number(
    value: float | int, attrs: Mapping[str, Any] | None = None, *, time: int = T, start: int = START
) -> NumberDataPoint:
    out = NumberDataPoint(time_unix_nano=time, start_time_unix_nano=start)
    if isinstance(value, int):
        out.as_int = value
    else:
        out.as_double = value
    out.attributes.extend(attributes(attrs or {}))
    return out


def histogram_point(
    counts: Sequence[int],
    bounds: Sequence[float],
    attrs: Mapping[str, Any] | None = None,
    *,
    total: float | None = None,
    low: float | None = None,
    high: float | None = None,
    count: int | None = None,
    time: int = T,
    start: int = START,
) -> HistogramDataPoint:
    out = HistogramDataPoint(
        time_unix_nano=time,
        start_time_unix_nano=start,
        count=sum(counts) if count is None else count,
        bucket_counts=list(counts),
        explicit_bounds=list(bounds),
    )
    for name, v in (("sum", total), ("min", low), ("max", high)):
        if v is not None:
            setattr(out, name, v)
    out.attributes.extend(attributes(attrs or {}))
    return out


def exponential_point(
    *,
    scale: int,
    positive: tuple[int, Sequence[int]] = (0, ()),
    negative: tuple[int, Sequence[int]] = (0, ()),
    zero_count: int = 0,
    zero_threshold: float = 0.0,
    attrs: Mapping[str, Any] | None = None,
    total: float | None = None,
) -> ExponentialHistogramDataPoint:
    out = ExponentialHistogramDataPoint(
        time_unix_nano=T,
        start_time_unix_nano=START,
        scale=scale,
        zero_count=zero_count,
        zero_threshold=zero_threshold,
        count=zero_count + sum(positive[1]) + sum(negative[1]),
    )
    out.positive.offset, out.negative.offset = positive[0], negative[0]
    out.positive.bucket_counts.extend(positive[1])
    out.negative.bucket_counts.extend(negative[1])
    if total is not None:
        out.sum = total
    out.attributes.extend(attributes(attrs or {}))
    return out


def metric(name: str, kind: str, *points: Any, unit: str = "", **options: Any) -> Metric:
    """A metric of ``kind`` (sum, gauge, histogram, exponential_histogram, summary)."""
    out = Metric(name=name, unit=unit)
    data = getattr(out, kind)
    for key, v in options.items():
        setattr(data, key, v)
    data.data_points.extend(points)
    return out


def request(
    *metrics: Metric,
    resource: Mapping[str, Any] | None = None,
    scope: str = "opentelemetry.instrumentation.openai_v2",
) -> ExportMetricsServiceRequest:
    """One resource, one scope, these metrics."""
    req = ExportMetricsServiceRequest()
    rm = req.resource_metrics.add()
    rm.resource.attributes.extend(attributes(RESOURCE if resource is None else resource))
    sm = rm.scope_metrics.add()
    sm.scope.name = scope
    sm.metrics.extend(metrics)
    return req
