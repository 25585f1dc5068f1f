"""OTLP/HTTP end to end: the real OpenTelemetry SDK exports to ``analytics-hub serve``.

The spans are shaped like those of the GenAI instrumentations (current and deprecated
attribute names), OpenInference and Traceloop/OpenLLMetry, plus the plain spans around
them; the test reads them back through the query API. The same test runs over two
transports: OTLP/HTTP protobuf through the SDK's own ``OTLPSpanExporter`` (gzip), and
OTLP/HTTP JSON. The SDK ships no JSON exporter, so for JSON a small exporter here encodes
the SDK's own spans with the SDK's OTLP encoder and writes them as OTLP/JSON (hex ids)
itself, authenticating with ``x-api-key`` instead of a bearer token. The third transport
is OTLP/gRPC through the SDK's gRPC ``OTLPSpanExporter`` (gzip, the key in the call
metadata). Log records go over OTLP/HTTP and OTLP/gRPC.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import httpx
import msgspec
import pytest
from google.protobuf import json_format
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import (
    OTLPLogExporter as GrpcLogExporter,
)
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcSpanExporter,
)
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import LogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind, Status, StatusCode, set_span_in_context
from prometheus_client.parser import text_string_to_metric_families
from tests.e2e.harness import Hub

from analytics_hub.testing.hubprocess import HubProcess, create_key, free_port

MS = 1_000_000  # nanoseconds


class OtlpJsonSpanExporter(SpanExporter):
    """OTLP/HTTP JSON: the SDK's OTLP encoding of its spans, written as OTLP/JSON."""

    def __init__(self, endpoint: str, headers: dict[str, str]) -> None:
        self._endpoint = endpoint
        self._headers = {**headers, "Content-Type": "application/json"}
        self.responses: list[httpx.Response] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        doc = json_format.MessageToDict(encode_spans(spans))
        for rs in doc.get("resourceSpans", []):
            for ss in rs.get("scopeSpans", []):
                for s in ss.get("spans", []):
                    for key in ("traceId", "spanId", "parentSpanId"):
                        if key in s:  # OTLP/JSON ids are hex, not proto3's base64
                            s[key] = base64.b64decode(s[key]).hex()
        r = httpx.post(self._endpoint, content=msgspec.json.encode(doc), headers=self._headers)
        self.responses.append(r)
        return SpanExportResult.SUCCESS if r.status_code == 200 else SpanExportResult.FAILURE

    def shutdown(self) -> None:
        pass


def _exporter(hub: Hub, transport: str, key: str) -> SpanExporter:
    endpoint = f"{hub.url}/v1/traces"
    if transport == "grpc":
        return GrpcSpanExporter(
            endpoint=hub.grpc_target,
            insecure=True,
            headers={"authorization": f"Bearer {key}"},
            compression=grpc.Compression.Gzip,
        )
    if transport == "protobuf":
        return OTLPSpanExporter(
            endpoint=endpoint,
            headers={"Authorization": f"Bearer {key}"},
            compression=Compression.Gzip,
        )
    return OtlpJsonSpanExporter(endpoint, {"x-api-key": key})


GENAI = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.response.model": "gpt-4o-2024-08-06",
    "gen_ai.usage.input_tokens": 1200,
    "gen_ai.usage.output_tokens": 300,
    "gen_ai.usage.cache_read.input_tokens": 1000,
    "gen_ai.usage.reasoning.output_tokens": 100,
    "gen_ai.response.finish_reasons": ("stop",),
    "gen_ai.response.time_to_first_chunk": 0.2,
    "gen_ai.conversation.id": "conv-1",
}
GENAI_DEPRECATED = {
    "gen_ai.operation.name": "chat",
    "gen_ai.system": "anthropic",
    "gen_ai.request.model": "claude-3-5-sonnet",
    "gen_ai.usage.prompt_tokens": 800,
    "gen_ai.usage.completion_tokens": 120,
}
OPENINFERENCE = {
    "openinference.span.kind": "LLM",
    "llm.model_name": "mistral-large",
    "llm.provider": "mistralai",
    "llm.token_count.prompt": 500,
    "llm.token_count.completion": 50,
    "llm.token_count.total": 550,
    "llm.input_messages.0.message.role": "user",
    "session.id": "sess-9",
}
TRACELOOP = {
    "llm.request.type": "chat",
    "gen_ai.system": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.usage.prompt_tokens": 60,
    "gen_ai.usage.completion_tokens": 6,
    "llm.usage.total_tokens": 66,
    "traceloop.association.properties.user_id": "u-7",
}
FAILED = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "o3-mini",
    "error.type": "RateLimitError",
}
TOOL = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search"}

# (model, provider, status, calls, input tokens, output tokens, longest latency in ms)
EXPECTED_CALLS = [
    ("claude-3-5-sonnet", "anthropic", "ok", 1, 800, 120, 600.0),
    ("gpt-4o-2024-08-06", "openai", "ok", 1, 1200, 300, 850.0),
    ("gpt-4o-mini", "openai", "ok", 1, 60, 6, 300.0),
    ("mistral-large", "mistralai", "ok", 1, 500, 50, 450.0),
    ("o3-mini", "openai", "error", 1, 0, 0, 50.0),
]


def _emit_trace(provider: TracerProvider) -> str:
    """One request of an LLM app: a server span, five model calls, a tool call."""
    tracer = provider.get_tracer("tests.e2e.otlp")
    t0 = time.time_ns() - 60_000 * MS
    root = tracer.start_span("POST /answer", kind=SpanKind.SERVER, start_time=t0)
    context = set_span_in_context(root)
    children: list[tuple[str, dict[str, Any], float, bool]] = [
        ("chat gpt-4o", GENAI, 850, False),
        ("chat claude-3-5-sonnet", GENAI_DEPRECATED, 600, False),
        ("ChatMistral", OPENINFERENCE, 450, False),
        ("openai.chat", TRACELOOP, 300, False),
        ("chat o3-mini", FAILED, 50, True),
        ("execute_tool search", TOOL, 20, False),
    ]
    for i, (name, attrs, ms, failed) in enumerate(children):
        start = t0 + (i + 1) * 1000 * MS
        span = tracer.start_span(
            name, context=context, kind=SpanKind.CLIENT, attributes=attrs, start_time=start
        )
        if failed:
            span.set_status(Status(StatusCode.ERROR, "429 Too Many Requests"))
        span.end(end_time=start + round(ms * MS))
    root.end(end_time=t0 + 8000 * MS)
    return format(root.get_span_context().trace_id, "032x")


def _window() -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "from": (now - timedelta(minutes=10)).isoformat(),
        "to": (now + timedelta(minutes=1)).isoformat(),
    }


def _eventually(read: Callable[[], Any], done: Callable[[Any], bool]) -> Any:
    """Read until ``done``: the hub acknowledges once durable, visible within a second."""
    deadline = time.monotonic() + 15
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def _events(hub: Hub, trace_id: str) -> list[dict[str, Any]]:
    with hub.client("acme", "read") as c:
        r = c.get("/api/v1/events", params={"filter": f"trace_id:eq:{trace_id}", "limit": 100})
    assert r.status_code == 200, r.text
    events: list[dict[str, Any]] = r.json()["events"]
    return events


def _name(event: dict[str, Any]) -> str:
    """A trace-context span's name, or a model call's model."""
    data: dict[str, Any] = event["payload"]["data"]
    return str(data["data"]["name"] if "custom_type" in data else data["model_id"])


@pytest.mark.parametrize("transport", ["protobuf", "json", "grpc"])
def test_sdk_spans_of_every_convention_are_queryable(hub: Hub, transport: str) -> None:
    asset = f"otlp-{transport}-{uuid.uuid4().hex[:8]}"
    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": asset, "deployment.environment.name": "staging", "team": "search"}
        )
    )
    exporter = _exporter(hub, transport, hub.keys["acme:ingest"])
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace_id = _emit_trace(provider)
    provider.shutdown()
    if isinstance(exporter, OtlpJsonSpanExporter):
        assert {r.status_code for r in exporter.responses} == {200}
        assert all(r.headers["content-type"] == "application/json" for r in exporter.responses)
        assert all(r.json() == {} for r in exporter.responses)  # nothing rejected

    events = _eventually(lambda: _events(hub, trace_id), lambda e: len(e) >= 7)
    assert len(events) == 7
    query = {
        "time_range": _window(),
        "filters": [
            {"field": "asset_id", "op": "eq", "value": asset},
            {"field": "payload_subtype", "op": "eq", "value": "llm_call"},
        ],
        "group_by": ["model_id", "provider", "status"],
        "aggregates": [
            {"fn": "count", "as": "calls"},
            {"fn": "sum", "field": "input_tokens", "as": "input"},
            {"fn": "sum", "field": "output_tokens", "as": "output"},
            {"fn": "max", "field": "latency_ms", "as": "latency"},
        ],
        "order_by": [{"field": "model_id"}],
    }
    with hub.client("acme", "read") as c:
        r = c.post("/api/v1/query", json=query)
    assert r.status_code == 200, r.text
    rows = [
        (
            row["model_id"],
            row["provider"],
            row["status"],
            row["calls"],
            row["input"],
            row["output"],
            round(row["latency"], 3),
        )
        for row in r.json()["rows"]
    ]
    assert rows == EXPECTED_CALLS

    by_name = {_name(e): e for e in events}
    root = by_name["POST /answer"]
    assert root["event_type"] == "custom"
    assert root["payload"]["data"]["custom_type"] == "otel_span"
    assert root["payload"]["data"]["data"]["kind"] == "server"
    assert root["payload"]["data"]["data"]["duration_ms"] == 8000.0
    assert "parent_event_id" not in root or root["parent_event_id"] is None
    # Every other event names the root's event as its parent: the trace can be walked.
    assert {e.get("parent_event_id") for e in events if e is not root} == {root["event_id"]}
    call = by_name["gpt-4o-2024-08-06"]
    assert call["environment"] == "staging"
    assert call["tags"]["service.name"] == asset
    assert call["tags"]["team"] == "search"
    assert call["tags"]["otel.scope.name"] == "tests.e2e.otlp"
    data = call["payload"]["data"]
    assert (data["cached_input_tokens"], data["reasoning_tokens"], data["ttft_ms"]) == (
        1000,
        100,
        200.0,
    )
    assert (data["finish_reason"], data["session_id"], data["operation"]) == (
        "stop",
        "conv-1",
        "chat",
    )
    failed = by_name["o3-mini"]
    assert (failed["severity"], failed["payload"]["data"]["error_type"]) == (
        "error",
        "RateLimitError",
    )
    tool = by_name["execute_tool search"]
    assert tool["payload"]["data"]["data"]["role"] == "execute_tool"


@pytest.mark.parametrize("transport", ["protobuf", "grpc"])
def test_sdk_logs_are_stored_with_severity_body_and_trace_context(hub: Hub, transport: str) -> None:
    """Log records through the SDK's Logs API and its OTLP log exporters."""
    asset = f"otlp-logs-{transport}-{uuid.uuid4().hex[:8]}"
    provider = LoggerProvider(resource=Resource.create({"service.name": asset}))
    exporter: LogRecordExporter
    if transport == "grpc":
        exporter = GrpcLogExporter(
            endpoint=hub.grpc_target,
            insecure=True,
            headers={"x-api-key": hub.keys["acme:ingest"]},
        )
    else:
        exporter = OTLPLogExporter(
            endpoint=f"{hub.url}/v1/logs",
            headers={"Authorization": f"Bearer {hub.keys['acme:ingest']}"},
        )
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = provider.get_logger("tests.e2e.otlp")
    tracer = TracerProvider().get_tracer("tests")
    with tracer.start_as_current_span("tool call") as span:
        logger.emit(
            severity_number=SeverityNumber.WARN,
            severity_text="WARN",
            body={"message": "tool failed", "tool": "search"},
            attributes={"tool.name": "search"},
            event_name="app.tool.failure",
        )
        span_id = format(span.get_span_context().span_id, "016x")
    logger.emit(severity_number=SeverityNumber.INFO, severity_text="INFO", body="answered")
    provider.shutdown()

    def read() -> list[dict[str, Any]]:
        with hub.client("acme", "read") as c:
            r = c.get("/api/v1/events", params={"filter": f"asset_id:eq:{asset}", "limit": 10})
        assert r.status_code == 200, r.text
        found: list[dict[str, Any]] = r.json()["events"]
        return found

    events = _eventually(read, lambda e: len(e) >= 2)
    by_severity = {e["severity"]: e for e in events}
    assert set(by_severity) == {"warning", "info"}
    warning = by_severity["warning"]
    assert warning["payload"]["data"]["custom_type"] == "otel_log"
    log = warning["payload"]["data"]["data"]
    assert log == {
        "body": {"message": "tool failed", "tool": "search"},
        "severity_number": 13,
        "severity_text": "WARN",
        "event_name": "app.tool.failure",
        "attributes": {"tool.name": "search"},
    }
    assert warning["span_id"] == span_id
    assert by_severity["info"]["payload"]["data"]["data"]["body"] == "answered"
    assert by_severity["info"].get("trace_id") is None


def test_the_preparing_process_shows_in_the_metrics(hub: Hub) -> None:
    """By default a preparing process takes the OTLP requests; ``/metrics`` says so."""
    provider = TracerProvider(resource=Resource.create({"service.name": "otlp-prepare-metrics"}))
    provider.add_span_processor(
        SimpleSpanProcessor(_exporter(hub, "protobuf", hub.keys["acme:ingest"]))
    )
    _emit_trace(provider)
    provider.shutdown()
    text = httpx.get(f"{hub.url}/metrics").text
    samples = {
        s.name: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name.startswith("hub_otlp_prepare") and "le" not in s.labels
    }
    assert samples["hub_otlp_prepare_processes"] == 1
    assert samples["hub_otlp_prepare_seconds_count"] >= 7  # SimpleSpanProcessor: one a span
    assert samples["hub_otlp_prepare_seconds_sum"] > 0
    assert samples["hub_otlp_prepare_in_flight"] == 0
    assert samples["hub_otlp_prepare_pools_replaced_total"] == 0


def test_the_dedicated_otlp_http_port_serves_otlp_alone(tmp_path: Path) -> None:
    """``HUB_OTLP_HTTP_PORT`` (conventionally 4318) adds a listener with the OTLP routes."""
    otlp_port = free_port()
    proc = HubProcess(data_dir=tmp_path / "hub", env={"HUB_OTLP_HTTP_PORT": str(otlp_port)})
    key = create_key(proc.data_dir, "acme", "ingest")
    read = create_key(proc.data_dir, "acme", "read")
    with proc:
        asset = f"otlp-4318-{uuid.uuid4().hex[:8]}"
        provider = TracerProvider(resource=Resource.create({"service.name": asset}))
        exporter = OTLPSpanExporter(
            endpoint=f"http://127.0.0.1:{otlp_port}/v1/traces",
            headers={"Authorization": f"Bearer {key}"},
        )
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace_id = _emit_trace(provider)
        provider.shutdown()

        def read_back() -> list[dict[str, Any]]:
            r = httpx.get(
                f"{proc.url}/api/v1/events",
                params={"filter": f"trace_id:eq:{trace_id}", "limit": 100},
                headers={"Authorization": f"Bearer {read}"},
            )
            assert r.status_code == 200, r.text
            found: list[dict[str, Any]] = r.json()["events"]
            return found

        assert len(_eventually(read_back, lambda e: len(e) >= 7)) == 7
        # the rest of the API stays on the main port
        other = httpx.get(
            f"http://127.0.0.1:{otlp_port}/api/v1/events",
            headers={"Authorization": f"Bearer {read}"},
        )
        assert other.status_code == 404
