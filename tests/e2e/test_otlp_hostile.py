"""Hostile or wrong OTLP input gets a clean OTLP answer; the server stays healthy.

Partial success for the items that cannot be mapped, a ``google.rpc.Status`` in the
request's encoding for requests that cannot be read at all.
"""

from __future__ import annotations

import gzip
import time
import uuid
import zlib

import httpx
import msgspec
import pytest
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from tests.e2e.harness import Hub

MS = 1_000_000  # nanoseconds


def _field(number: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field."""
    n, length = len(payload), bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        length.append(low | (0x80 if n else 0))
        if not n:
            break
    return bytes([number << 3 | 2]) + bytes(length) + payload


def _span_bytes(span_id: int, extra: bytes = b"") -> bytes:
    """A valid GenAI chat span, encoded, plus ``extra`` fields appended."""
    start = time.time_ns() - 30_000 * MS
    request = ExportTraceServiceRequest()
    s = (
        request.resource_spans.add()
        .scope_spans.add()
        .spans.add(
            trace_id=uuid.uuid4().bytes,
            span_id=span_id.to_bytes(8, "big"),
            name="chat",
            start_time_unix_nano=start,
            end_time_unix_nano=start + 5 * MS,
        )
    )
    for key, value in (("gen_ai.operation.name", "chat"), ("gen_ai.request.model", "gpt-4o")):
        s.attributes.add(key=key).value.string_value = value
    return bytes(s.SerializeToString()) + extra


def _request(*spans: bytes) -> bytes:
    return _field(1, _field(2, b"".join(_field(2, s) for s in spans)))


def _post(
    hub: Hub, body: bytes, content_type: str = "application/x-protobuf", **headers: str
) -> httpx.Response:
    with hub.client("acme", "ingest") as c:
        return c.post("/v1/traces", content=body, headers={"Content-Type": content_type, **headers})


def _still_healthy(hub: Hub) -> None:
    assert httpx.get(f"{hub.url}/healthz").status_code == 200
    r = _post(hub, _request(_span_bytes(1)))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/x-protobuf"
    assert not ExportTraceServiceResponse.FromString(r.content).HasField("partial_success")


def test_a_million_attributes_reject_that_span_only(hub: Hub) -> None:
    attribute = _field(9, _field(1, b"a"))  # Span.attributes: {key: "a"}
    crowded = _span_bytes(2, attribute * 1_000_000)
    r = _post(hub, gzip.compress(_request(_span_bytes(1), crowded)), **{"Content-Encoding": "gzip"})
    assert r.status_code == 200, r.text
    answer = ExportTraceServiceResponse.FromString(r.content)
    assert answer.partial_success.rejected_spans == 1
    assert "1 of 2 spans rejected" in answer.partial_success.error_message
    assert "1000002 attributes" in answer.partial_success.error_message
    _still_healthy(hub)


def test_otlp_json_partial_success_names_the_bad_span(hub: Hub) -> None:
    now = time.time_ns()
    good = {
        "traceId": uuid.uuid4().hex,
        "spanId": "00000000000000aa",
        "name": "chat",
        "startTimeUnixNano": str(now - 10_000 * MS),
        "endTimeUnixNano": str(now - 9_000 * MS),
        "attributes": [
            {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
            {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
        ],
    }
    bad = good | {"spanId": "not a hex span id"}
    body = {"resourceSpans": [{"scopeSpans": [{"spans": [good, bad]}]}], "unknownField": 1}
    r = _post(hub, msgspec.json.encode(body), "application/json")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    partial = r.json()["partialSuccess"]
    assert partial["rejectedSpans"] == "1"
    assert "#1 span_id" in partial["errorMessage"]


def _gzip_bomb(size: int) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"\x00" * (1 << 20)
    return b"".join(comp.compress(chunk) for _ in range(size >> 20)) + comp.flush()


@pytest.mark.parametrize(
    ("body", "headers", "status", "grpc_code"),
    [
        (_request(_span_bytes(1))[:-4], {}, 400, 3),
        (b"\x0a\xff\xff\xff\xff\x0f", {}, 400, 3),
        (_gzip_bomb(64 << 20), {"Content-Encoding": "gzip"}, 413, 8),
        (b"not gzip", {"Content-Encoding": "gzip"}, 400, 3),
        (b"", {"Content-Encoding": "br"}, 415, 3),
    ],
    ids=["truncated", "overlong-length", "gzip-bomb", "fake-gzip", "brotli"],
)
def test_hostile_protobuf_gets_a_clean_status(
    hub: Hub, body: bytes, headers: dict[str, str], status: int, grpc_code: int
) -> None:
    r = _post(hub, body, **headers)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/x-protobuf"
    answer = status_pb2.Status.FromString(r.content)
    assert answer.code == grpc_code
    assert answer.message
    _still_healthy(hub)


@pytest.mark.parametrize(
    ("content_type", "body", "status", "code"),
    [
        ("text/plain", b"{}", 415, "unsupported_media_type"),
        ("application/x-ndjson", b"{}", 415, "unsupported_media_type"),
        ("application/json", b"{not json", 400, "undecodable_body"),
        ("application/json", b"[" * 50_000 + b"]" * 50_000, 400, "undecodable_body"),
    ],
    ids=["text-plain", "ndjson", "bad-json", "deep-json"],
)
def test_hostile_or_mistyped_json_gets_a_clean_error(
    hub: Hub, content_type: str, body: bytes, status: int, code: str
) -> None:
    r = _post(hub, body, content_type)
    assert r.status_code == status, r.text
    answer = r.json()
    assert answer["code"] == 3  # google.rpc.Code INVALID_ARGUMENT
    assert answer["error"]["code"] == code
    assert answer["message"] == answer["error"]["message"]
    _still_healthy(hub)


def test_credentials_are_checked_the_otlp_way(hub: Hub) -> None:
    body = _request(_span_bytes(1))
    pb = {"Content-Type": "application/x-protobuf"}
    anonymous = httpx.post(f"{hub.url}/v1/traces", content=body, headers=pb)
    assert anonymous.status_code == 401
    assert status_pb2.Status.FromString(anonymous.content).code == 16
    reader = httpx.post(
        f"{hub.url}/v1/logs", content=b"", headers={**pb, "x-api-key": hub.keys["acme:read"]}
    )
    assert reader.status_code == 403
    assert status_pb2.Status.FromString(reader.content).code == 7
    metrics = httpx.post(
        f"{hub.url}/v1/metrics", content=b"", headers={**pb, "x-api-key": hub.keys["acme:read"]}
    )
    assert metrics.status_code == 403
    assert status_pb2.Status.FromString(metrics.content).code == 7
