"""Metrics bodies: protobuf and OTLP/JSON decode alike; hostile bodies fail cleanly."""

from __future__ import annotations

import base64
from typing import Any

import msgspec
import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceResponse,
)

from analytics_hub.errors import DecodeError, PayloadTooLargeError
from analytics_hub.ingest.otlp import OtlpEncoding, OtlpOptions, export_response
from analytics_hub.ingest.otlp.metric_wire import decode_metrics
from analytics_hub.ingest.otlp.metrics import map_metrics

from .metric_builders import (
    CUMULATIVE,
    TOKEN_ATTRS,
    WINDOW,
    histogram_point,
    metric,
    number,
    request,
)

OPTIONS = OtlpOptions()


def _usage() -> Any:
    point = histogram_point((0, 3, 1), (100.0, 1000.0), TOKEN_ATTRS, total=900.0)
    exemplar = point.exemplars.add(time_unix_nano=point.time_unix_nano, as_double=500.0)
    exemplar.trace_id, exemplar.span_id = b"\x01" * 16, b"\x02" * 8
    return request(
        metric("gen_ai.client.token.usage", "histogram", point, aggregation_temporality=CUMULATIVE),
        metric("gen_ai.server.queue", "gauge", number(3)),
    )


def _json_body(message: Any) -> dict[str, Any]:
    """OTLP/JSON of ``message``: exemplar ids in hex, as OTLP/JSON writes them."""
    doc: dict[str, Any] = json_format.MessageToDict(message)
    for rm in doc["resourceMetrics"]:
        for sm in rm["scopeMetrics"]:
            for m in sm["metrics"]:
                for kind in ("histogram", "gauge"):
                    for dp in m.get(kind, {}).get("dataPoints", []):
                        for ex in dp.get("exemplars", []):
                            for key in ("traceId", "spanId"):
                                ex[key] = base64.b64decode(ex[key]).hex()
    return doc


def test_protobuf_and_otlp_json_give_the_same_points() -> None:
    message = _usage()
    from_pb, rejected_pb = decode_metrics(
        message.SerializeToString(), OtlpEncoding.PROTOBUF, OPTIONS
    )
    body = msgspec.json.encode(_json_body(message))
    from_json, rejected_json = decode_metrics(body, OtlpEncoding.JSON, OPTIONS)
    assert rejected_pb == rejected_json == {}
    pb_points = map_metrics(from_pb, "acme", WINDOW, OPTIONS).points
    json_points = map_metrics(from_json, "acme", WINDOW, OPTIONS).points
    assert pb_points == json_points
    assert len(pb_points) == 2


def test_json_points_over_the_limits_are_rejected_before_the_parse() -> None:
    doc = _json_body(_usage())
    points = doc["resourceMetrics"][0]["scopeMetrics"][0]["metrics"]
    histogram_dp = points[0]["histogram"]["dataPoints"][0]
    histogram_dp["bucketCounts"] = ["1"] * 10_000
    gauge_dp = points[1]["gauge"]["dataPoints"][0]
    gauge_dp["attributes"] = [{"key": f"k{i}", "value": {"intValue": i}} for i in range(5000)]
    request_, rejected = decode_metrics(msgspec.json.encode(doc), OtlpEncoding.JSON, OPTIONS)
    assert rejected[0][0] == "bucket_counts"
    assert rejected[1] == (
        "attributes",
        "the data point has 5000 attributes; at most 4096 are accepted "
        "(OtlpOptions.max_attributes)",
    )
    mapped = map_metrics(request_, "acme", WINDOW, OPTIONS, rejected=rejected)
    assert mapped.points == []
    assert [e.index for e in mapped.errors] == [0, 1]


def test_more_points_than_allowed_is_payload_too_large() -> None:
    message = request(metric("gen_ai.x", "gauge", *(number(i) for i in range(3))))
    options = OtlpOptions(max_items=2)
    with pytest.raises(PayloadTooLargeError, match="more than 2 data points"):
        decode_metrics(message.SerializeToString(), OtlpEncoding.PROTOBUF, options)
    body = msgspec.json.encode(json_format.MessageToDict(message))
    with pytest.raises(PayloadTooLargeError):
        decode_metrics(body, OtlpEncoding.JSON, options)


def _field(number_: int, payload: bytes) -> bytes:
    n, length = len(payload), bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        length.append(low | (0x80 if n else 0))
        if not n:
            break
    return bytes([number_ << 3 | 2]) + bytes(length) + payload


def _deeply_nested_attribute(levels: int) -> bytes:
    """A request whose one gauge point has an attribute nested ``levels`` arrays deep."""
    value = _field(1, b"leaf")  # AnyValue.string_value
    for _ in range(levels):
        value = _field(5, _field(1, value))  # AnyValue.array_value { values: ... }
    point = _field(7, _field(1, b"deep") + _field(2, value))  # NumberDataPoint.attributes
    gauge = _field(5, _field(1, point))  # Metric.gauge { data_points }
    metric_ = _field(1, b"gen_ai.x") + gauge
    return _field(1, _field(2, _field(2, metric_)))  # resource_metrics/scope_metrics/metrics


@pytest.mark.parametrize(
    ("body", "encoding"),
    [
        (b"\xff\xff\xff\xff", OtlpEncoding.PROTOBUF),
        (_deeply_nested_attribute(200), OtlpEncoding.PROTOBUF),
        (b"{not json", OtlpEncoding.JSON),
        (b"[" * 50_000 + b"]" * 50_000, OtlpEncoding.JSON),
        (b'{"resourceMetrics": "no"}', OtlpEncoding.JSON),
    ],
    ids=["garbage", "deep-protobuf", "bad-json", "deep-json", "wrong-shape"],
)
def test_hostile_bodies_are_decode_errors(body: bytes, encoding: OtlpEncoding) -> None:
    with pytest.raises(DecodeError):
        decode_metrics(body, encoding, OPTIONS)


def test_the_response_reports_rejected_data_points() -> None:
    raw = export_response("metrics", 2, "2 of 5 data points rejected", OtlpEncoding.PROTOBUF)
    answer = ExportMetricsServiceResponse.FromString(raw)
    assert answer.partial_success.rejected_data_points == 2
    as_json = msgspec.json.decode(export_response("metrics", 2, "why", OtlpEncoding.JSON))
    assert as_json == {"partialSuccess": {"rejectedDataPoints": "2", "errorMessage": "why"}}
    assert export_response("metrics", 0, "", OtlpEncoding.PROTOBUF) == b""
