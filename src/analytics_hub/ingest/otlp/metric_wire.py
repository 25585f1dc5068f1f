"""OTLP/HTTP metrics bodies: decoding an ``ExportMetricsServiceRequest``, with its limits.

As for traces and logs (:mod:`.wire`), protobuf is parsed by the protobuf runtime and
OTLP/JSON is walked before it is parsed: data points over the attribute limit or with
more buckets than :data:`~analytics_hub.ingest.otlp.histograms.MAX_BUCKETS` are emptied
and rejected there, so a hostile array does not cost the parse, and exemplars (which
carry hex trace ids, and which the hub does not keep) are dropped. Data points are
counted in request order, as the mapping numbers them.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)

from analytics_hub.errors import PayloadTooLargeError
from analytics_hub.ingest.otlp.histograms import MAX_BUCKETS
from analytics_hub.ingest.otlp.metrics import count_points
from analytics_hub.ingest.otlp.options import OtlpOptions
from analytics_hub.ingest.otlp.wire import (
    OtlpEncoding,
    Rejected,
    children,
    decode_into,
    strip_resource,
)

# The data fields of a metric, as OTLP/JSON and the proto name them (a metric has one).
_KINDS = ("sum", "gauge", "histogram", "exponentialHistogram", "exponential_histogram", "summary")
# Bucket arrays of a data point: (JSON name, proto name) at the top or under a side.
_ARRAYS = (("bucketCounts", "bucket_counts"), ("explicitBounds", "explicit_bounds"))
_SIDES = ("positive", "negative")


def decode_metrics(
    body: bytes, encoding: OtlpEncoding, options: OtlpOptions
) -> tuple[ExportMetricsServiceRequest, Rejected]:
    """An ``ExportMetricsServiceRequest`` and the data points rejected while decoding it.

    Raises ``DecodeError`` (400) for a body that is not such a request and
    ``PayloadTooLargeError`` (413) for more than ``options.max_items`` data points.
    """
    message = ExportMetricsServiceRequest()
    rejected = decode_into(message, body, encoding, lambda doc: _prepare(doc, options))
    check_count(count_points(message), options)
    return message, rejected


def check_count(n: int, options: OtlpOptions) -> None:
    """``PayloadTooLargeError`` when ``n`` data points are more than one request may hold."""
    if n > options.max_items:
        raise PayloadTooLargeError(
            f"more than {options.max_items} data points in one request; send smaller "
            "batches (for the Python SDK: OTLPMetricExporter(max_export_batch_size=...))"
        )


def _prepare(doc: dict[str, Any], options: OtlpOptions) -> Rejected:
    rejected: Rejected = {}
    position = 0
    for resource_entry in children(doc, ("resourceMetrics", "resource_metrics")):
        problem = strip_resource(resource_entry, options)
        for scope_entry in children(resource_entry, ("scopeMetrics", "scope_metrics")):
            for metric in children(scope_entry, ("metrics", "metrics")):
                for kind in _KINDS:
                    data = metric.get(kind) if isinstance(metric, dict) else None
                    for point in children(data, ("dataPoints", "data_points")):
                        position += 1
                        check_count(position, options)
                        if isinstance(point, dict):
                            found = _prepare_point(point, options)
                            reason = problem or found
                            if reason is not None:
                                rejected[position - 1] = reason
    return rejected


def _prepare_point(point: dict[str, Any], options: OtlpOptions) -> tuple[str, str] | None:
    problem: tuple[str, str] | None = None
    point.pop("exemplars", None)
    attributes = point.get("attributes")
    if isinstance(attributes, list) and len(attributes) > options.max_attributes:
        point["attributes"] = []
        problem = (
            "attributes",
            f"the data point has {len(attributes)} attributes; at most "
            f"{options.max_attributes} are accepted (OtlpOptions.max_attributes)",
        )
    holders = [point, *(point.get(side) for side in _SIDES)]
    for holder in holders:
        if not isinstance(holder, dict):
            continue
        for names in _ARRAYS:
            for name in names:
                values = holder.get(name)
                if isinstance(values, list) and len(values) > MAX_BUCKETS:
                    holder[name] = []
                    problem = problem or (
                        names[1],
                        f"{len(values)} values; at most {MAX_BUCKETS} are accepted",
                    )
    return problem


__all__ = ["check_count", "decode_metrics"]
