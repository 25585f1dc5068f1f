"""OTLP/HTTP bodies: protobuf and OTLP/JSON decode alike; hostile bodies get clean errors."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from analytics_hub.errors import DecodeError, PayloadTooLargeError, UnsupportedMediaTypeError
from analytics_hub.ingest.otlp import (
    OtlpEncoding,
    OtlpOptions,
    decode_logs,
    decode_traces,
    export_response,
    map_traces,
    otlp_encoding,
)

from .builders import START, TRACE, log_record, logs, span, traces

OPTIONS = OtlpOptions()
PB, JSON = OtlpEncoding.PROTOBUF, OtlpEncoding.JSON
CHAT = {
    "gen_ai.operation.name": "chat",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.usage.input_tokens": 7,
}


def _otlp_json(request: ExportTraceServiceRequest) -> dict[str, Any]:
    """OTLP/JSON as an exporter writes it: hex ids, 64-bit integers as strings."""
    doc = json_format.MessageToDict(request)
    for rs in doc.get("resourceSpans", []):
        for ss in rs.get("scopeSpans", []):
            for s in ss.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in s:
                        s[key] = base64.b64decode(s[key]).hex()
    return doc


def _json_span(**fields: Any) -> dict[str, Any]:
    base = {
        "traceId": TRACE.hex().upper(),
        "spanId": "00000000000000a1",
        "name": "chat gpt-4o",
        "kind": 3,
        "startTimeUnixNano": str(START),
        "endTimeUnixNano": str(START + 2_000_000),
        "attributes": [
            {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
            {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
            {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "12"}},
        ],
        "status": {"code": 2, "message": "boom"},
    }
    return base | fields


def _json_body(*spans: dict[str, Any], **top: Any) -> bytes:
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": list(spans)}]}], **top}).encode()


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("application/x-protobuf", PB),
        ("application/protobuf", PB),
        ("application/json", JSON),
        ("Application/JSON; charset=utf-8", JSON),
    ],
)
def test_otlp_media_types(header: str, expected: OtlpEncoding) -> None:
    assert otlp_encoding(header) is expected


@pytest.mark.parametrize(
    "header", [None, "", "text/plain", "application/x-ndjson", "application/grpc"]
)
def test_other_media_types_are_refused(header: str | None) -> None:
    with pytest.raises(UnsupportedMediaTypeError, match="application/x-protobuf"):
        otlp_encoding(header)


def test_protobuf_and_otlp_json_decode_to_the_same_events() -> None:
    request = traces(span(CHAT, span_id=1), span({}, name="GET /", span_id=2, parent=1))
    from_pb, _ = decode_traces(request.SerializeToString(), PB, OPTIONS)
    from_json, rejected = decode_traces(json.dumps(_otlp_json(request)).encode(), JSON, OPTIONS)
    assert rejected == {}
    assert from_json == from_pb == request
    assert map_traces(from_json).envelopes == map_traces(from_pb).envelopes


def test_otlp_json_reads_hex_ids_integer_enums_and_int64_strings() -> None:
    request, rejected = decode_traces(_json_body(_json_span(parentSpanId="")), JSON, OPTIONS)
    assert rejected == {}
    s = request.resource_spans[0].scope_spans[0].spans[0]
    assert (s.trace_id, s.span_id) == (TRACE, bytes.fromhex("00000000000000a1"))
    assert (s.kind, s.status.code, s.start_time_unix_nano) == (3, 2, START)
    (envelope,) = map_traces(request).envelopes
    assert envelope.payload.data.input_tokens == 12  # type: ignore[union-attr]
    assert envelope.payload.data.status == "error"  # type: ignore[union-attr]


def test_otlp_json_ignores_unknown_fields_everywhere() -> None:
    body = _json_body(_json_span(futureField={"x": 1}, droppedLinksCount=3), schemaVersion="9")
    request, rejected = decode_traces(body, JSON, OPTIONS)
    assert rejected == {}
    assert len(map_traces(request).envelopes) == 1


def test_otlp_json_accepts_the_proto_field_names_too() -> None:
    doc = {
        "resource_spans": [
            {"scope_spans": [{"spans": [{"trace_id": TRACE.hex(), "span_id": "00000000000000a1"}]}]}
        ]
    }
    request, rejected = decode_traces(json.dumps(doc).encode(), JSON, OPTIONS)
    assert rejected == {}
    assert request.resource_spans[0].scope_spans[0].spans[0].trace_id == TRACE


def test_a_span_whose_id_is_not_hex_is_rejected_alone() -> None:
    body = _json_body(
        _json_span(spanId="not-hex-at-all!!"), _json_span(), _json_span(traceId="AAAA+/==")
    )
    request, rejected = decode_traces(body, JSON, OPTIONS)
    assert sorted(rejected) == [0, 2]
    assert rejected[0][0] == "span_id"
    assert "hex" in rejected[0][1]
    mapped = map_traces(request, rejected=rejected)
    assert [e.index for e in mapped.errors] == [0, 2]
    assert mapped.positions == [1]


def test_span_links_are_not_read_so_their_ids_cannot_break_the_parse() -> None:
    body = _json_body(_json_span(links=[{"traceId": "zz", "spanId": 5}]))
    request, rejected = decode_traces(body, JSON, OPTIONS)
    assert rejected == {}
    assert len(request.resource_spans[0].scope_spans[0].spans) == 1


def test_a_huge_attribute_list_is_rejected_before_it_is_parsed() -> None:
    crowded = _json_span(
        attributes=[{"key": f"k{i}", "value": {"intValue": i}} for i in range(50_000)]
    )
    request, rejected = decode_traces(_json_body(crowded, _json_span()), JSON, OPTIONS)
    assert rejected[0][0] == "attributes"
    assert "50000" in rejected[0][1]
    assert len(request.resource_spans[0].scope_spans[0].spans[0].attributes) == 0
    assert len(map_traces(request, rejected=rejected).envelopes) == 1


def test_a_huge_resource_rejects_its_spans() -> None:
    doc = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": f"r{i}", "value": {}} for i in range(5000)]},
                "scopeSpans": [{"spans": [_json_span(), _json_span()]}],
            }
        ]
    }
    _, rejected = decode_traces(json.dumps(doc).encode(), JSON, OPTIONS)
    assert sorted(rejected) == [0, 1]
    assert rejected[0][0] == "resource.attributes"


def _field(number: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field (lengths under 2**14 here)."""
    n = len(payload)
    length = bytes([n]) if n < 0x80 else bytes([(n & 0x7F) | 0x80, n >> 7])
    return bytes([number << 3 | 2]) + length + payload


def _deep_protobuf_request(levels: int) -> bytes:
    """A request whose one span has an attribute nested ``levels`` kvlists deep.

    Encoded by hand: the protobuf runtime refuses to build so deep a message itself.
    """
    fields = {f.name: f.number for f in AnyValue.DESCRIPTOR.fields}
    value = _field(fields["string_value"], b"x")
    for _ in range(levels):
        pair = _field(1, b"k") + _field(2, value)  # KeyValue: key, value
        value = _field(fields["kvlist_value"], _field(1, pair))  # KeyValueList.values
    attribute = _field(1, b"deep") + _field(2, value)
    span_bytes = span(CHAT).SerializeToString() + _field(9, attribute)  # Span.attributes
    return _field(1, _field(2, _field(2, span_bytes)))  # request/resource/scope spans


def _deep_json_body(levels: int) -> bytes:
    # Written as text: the json module itself cannot encode this deep a value.
    value = '{"kvlistValue":{"values":[{"key":"k","value":' * levels
    value += '{"stringValue":"x"}' + "}]}}" * levels
    body = _json_body(_json_span(attributes=[{"key": "deep", "value": "DEEP"}]))
    return body.replace(b'"DEEP"', value.encode())


@pytest.mark.parametrize(
    "body",
    [
        traces(span(CHAT)).SerializeToString()[:-3],  # truncated
        b"\xff\xff\xff\xff\xff",  # not protobuf
        b"\x0a\xff\xff\xff\xff\x0f",  # a length far past the end
    ],
    ids=["truncated", "garbage", "overlong-length"],
)
def test_bad_protobuf_is_a_decode_error(body: bytes) -> None:
    with pytest.raises(DecodeError, match="protobuf"):
        decode_traces(body, PB, OPTIONS)


def test_deeply_nested_protobuf_attributes_are_a_decode_error() -> None:
    shallow, _ = decode_traces(_deep_protobuf_request(3), PB, OPTIONS)  # the encoding is right
    assert shallow.resource_spans[0].scope_spans[0].spans[0].attributes[-1].key == "deep"
    with pytest.raises(DecodeError):
        decode_traces(_deep_protobuf_request(300), PB, OPTIONS)


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[1, 2]",
        json.dumps({"resourceSpans": "nope"}).encode(),
        _json_body(_json_span(kind={"not": "an enum"})),
        _json_body(_json_span(startTimeUnixNano="soon")),
        _deep_json_body(300),
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=[
        "not-json",
        "array",
        "wrong-shape",
        "bad-enum",
        "bad-int64",
        "deep-attribute",
        "deep-json",
    ],
)
def test_bad_otlp_json_is_a_decode_error(body: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_traces(body, JSON, OPTIONS)


def test_too_many_spans_is_too_large_for_both_encodings() -> None:
    options = OtlpOptions(max_items=3)
    request = traces(*(span(CHAT, span_id=i + 1) for i in range(4)))
    with pytest.raises(PayloadTooLargeError, match="more than 3 spans"):
        decode_traces(request.SerializeToString(), PB, options)
    with pytest.raises(PayloadTooLargeError):
        decode_traces(json.dumps(_otlp_json(request)).encode(), JSON, options)


def test_an_empty_protobuf_body_is_an_empty_request() -> None:
    request, rejected = decode_traces(b"", PB, OPTIONS)
    assert (len(request.resource_spans), rejected) == (0, {})


def test_logs_decode_from_otlp_json_with_hex_ids() -> None:
    record = log_record("hi", trace=TRACE, span_id=3)
    doc = json_format.MessageToDict(logs(record))
    rec = doc["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
    rec["traceId"], rec["spanId"] = TRACE.hex(), "0000000000000003"
    request, rejected = decode_logs(json.dumps(doc).encode(), JSON, OPTIONS)
    assert rejected == {}
    assert request == logs(record)


def test_the_response_says_nothing_when_everything_was_stored() -> None:
    assert export_response("traces", 0, "", PB) == b""
    assert export_response("traces", 0, "", JSON) == b"{}"


def test_partial_success_is_reported_in_the_request_encoding() -> None:
    pb = ExportTraceServiceResponse.FromString(export_response("traces", 2, "2 of 5 spans", PB))
    assert (pb.partial_success.rejected_spans, pb.partial_success.error_message) == (
        2,
        "2 of 5 spans",
    )
    as_json = json.loads(export_response("traces", 2, "why", JSON))
    assert as_json == {"partialSuccess": {"rejectedSpans": "2", "errorMessage": "why"}}
    log_pb = ExportLogsServiceResponse.FromString(export_response("logs", 1, "bad", PB))
    assert log_pb.partial_success.rejected_log_records == 1
    assert (
        json.loads(export_response("logs", 1, "bad", JSON))["partialSuccess"]["rejectedLogRecords"]
        == "1"
    )
