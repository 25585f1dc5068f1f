"""Spans become events that keep their trace context; a bad span never fails its request."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from analytics_hub.events import DEFAULT_LIMITS, CustomPayload, Envelope, LlmCall
from analytics_hub.ingest.otlp import OtlpOptions, map_traces
from analytics_hub.ingest.otlp.ids import span_event_id

from .builders import START, TRACE, attributes, span, traces

CHAT = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
}


def _context_data(envelope: Envelope) -> dict[str, Any]:
    assert isinstance(envelope.payload, CustomPayload)
    assert envelope.payload.data.custom_type == "otel_span"
    data: dict[str, Any] = envelope.payload.data.data
    return data


def test_events_keep_trace_ids_and_name_their_parent_span_event() -> None:
    root = span({}, name="POST /answer", span_id=1, kind=Span.SPAN_KIND_SERVER, duration_ms=1200)
    call = span(CHAT, span_id=2, parent=1)
    mapped = map_traces(traces(root, call))
    parent, child = mapped.envelopes
    assert parent.trace_id == child.trace_id == TRACE.hex()
    assert (parent.span_id, child.span_id) == ("0000000000000001", "0000000000000002")
    assert parent.event_id == span_event_id(TRACE, (1).to_bytes(8, "big"))
    assert child.parent_event_id == parent.event_id
    assert parent.parent_event_id is None
    assert child.timestamp == START


def test_event_ids_are_stable_so_a_retried_export_is_not_counted_twice() -> None:
    first = map_traces(traces(span(CHAT)))
    again = map_traces(traces(span(CHAT)))
    other_trace = map_traces(traces(span(CHAT, trace=b"\x01" * 16)))
    assert first.envelopes[0].event_id == again.envelopes[0].event_id
    assert first.envelopes[0].event_id != other_trace.envelopes[0].event_id
    derived = uuid.UUID(first.envelopes[0].event_id)
    assert (derived.version, derived.variant) == (8, uuid.RFC_4122)


def test_a_non_llm_span_is_kept_as_trace_context() -> None:
    http = span(
        {"http.route": "/answer"},
        name="POST /answer",
        span_id=5,
        parent=4,
        kind=Span.SPAN_KIND_SERVER,
        duration_ms=42.5,
        error="upstream failed",
    )
    (envelope,) = map_traces(traces(http)).envelopes
    assert envelope.event_type == "custom"
    assert envelope.severity == "error"
    assert _context_data(envelope) == {
        "name": "POST /answer",
        "kind": "server",
        "duration_ms": 42.5,
        "status": "error",
        "status_message": "upstream failed",
        "parent_span_id": "0000000000000004",
    }


def test_an_agent_span_keeps_its_role() -> None:
    agent = span({"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner"})
    (envelope,) = map_traces(traces(agent)).envelopes
    data = _context_data(envelope)
    assert (data["role"], data["status"], envelope.severity) == ("invoke_agent", "unset", "info")


def test_context_spans_can_be_dropped() -> None:
    request = traces(span({}, name="GET /", span_id=1), span(CHAT, span_id=2, parent=1))
    mapped = map_traces(request, OtlpOptions(keep_context_spans=False))
    assert [e.span_id for e in mapped.envelopes] == ["0000000000000002"]
    assert (mapped.items, mapped.dropped, mapped.errors) == (2, 1, [])


def test_resource_attributes_become_tags_and_the_service_is_the_asset() -> None:
    resource = {
        "service.name": "checkout",
        "service.version": "1.4.2",
        "deployment.environment": "staging",
        "telemetry.sdk.language": "python",
        "process.pid": 4242,  # per process: not a label
        "bad key": "x",  # not a tag key
        "huge": "x" * 1000,  # longer than a tag value may be
        "replicas": 3,
        "canary": True,
        "list": ["a", "b"],  # not a scalar
    }
    (envelope,) = map_traces(traces(span(CHAT), resource=resource)).envelopes
    assert envelope.asset_id == "checkout"
    assert envelope.environment == "staging"
    assert envelope.tags == {
        "service.name": "checkout",
        "service.version": "1.4.2",
        "deployment.environment": "staging",
        "telemetry.sdk.language": "python",
        "replicas": "3",
        "canary": "true",
        "otel.scope.name": "opentelemetry.instrumentation.openai_v2",
    }


def test_tags_stay_within_the_tag_limit_and_keep_the_service() -> None:
    resource = {f"attr.{i:03d}": "v" for i in range(200)} | {"service.name": "late"}
    (envelope,) = map_traces(traces(span(CHAT), resource=resource)).envelopes
    assert len(envelope.tags) == DEFAULT_LIMITS.max_tags
    assert envelope.tags["service.name"] == "late"
    assert "otel.scope.name" in envelope.tags


def test_the_asset_attribute_is_configurable_and_read_from_the_span_too() -> None:
    options = OtlpOptions(asset_attribute="gen_ai.agent.name")
    (envelope,) = map_traces(
        traces(span({**CHAT, "gen_ai.agent.name": "planner"})), options
    ).envelopes
    assert envelope.asset_id == "planner"
    (no_asset,) = map_traces(traces(span(CHAT)), options).envelopes
    assert no_asset.asset_id is None
    (default,) = map_traces(traces(span(CHAT), resource={})).envelopes
    assert (default.asset_id, default.environment) == (None, "prod")


def _broken(change: str) -> Span:
    s = span(CHAT, span_id=7)
    if change == "no-trace-id":
        s.trace_id = b""
    elif change == "short-span-id":
        s.span_id = b"\x01\x02"
    elif change == "zero-span-id":
        s.span_id = b"\x00" * 8
    elif change == "bad-parent":
        s.parent_span_id = b"\x01" * 3
    elif change == "no-start":
        s.start_time_unix_nano = 0
        s.end_time_unix_nano = 5
    elif change == "ends-before-start":
        s.end_time_unix_nano = s.start_time_unix_nano - 1
    elif change == "no-model":
        s.ClearField("attributes")
        s.attributes.extend(attributes({"gen_ai.operation.name": "chat"}))
    elif change == "text-tokens":
        s.attributes.extend(attributes({"gen_ai.usage.input_tokens": "lots"}))
    elif change == "negative-tokens":
        s.attributes.extend(attributes({"gen_ai.usage.output_tokens": -3}))
    elif change == "nan-ttft":
        s.attributes.extend(attributes({"gen_ai.response.time_to_first_chunk": float("nan")}))
    return s


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ("no-trace-id", "trace_id"),
        ("short-span-id", "span_id"),
        ("zero-span-id", "span_id"),
        ("bad-parent", "parent_span_id"),
        ("no-start", "start_time_unix_nano"),
        ("ends-before-start", "end_time_unix_nano"),
        ("no-model", "attributes.gen_ai.request.model"),
        ("text-tokens", "attributes.gen_ai.usage.input_tokens"),
        ("negative-tokens", "attributes.gen_ai.usage.output_tokens"),
        ("nan-ttft", "attributes.gen_ai.response.time_to_first_chunk"),
    ],
)
def test_a_span_that_cannot_be_mapped_is_one_error_and_the_others_are_kept(
    change: str, field: str
) -> None:
    request = traces(span(CHAT, span_id=1), _broken(change), span(CHAT, span_id=3))
    mapped = map_traces(request)
    assert [e.span_id for e in mapped.envelopes] == ["0000000000000001", "0000000000000003"]
    assert mapped.positions == [0, 2]
    (error,) = mapped.errors
    assert (error.index, error.field) == (1, field)
    assert error.message
    assert '"otlp_span"' in mapped.rejected_raw[1]


def test_items_are_numbered_across_resources_and_scopes() -> None:
    request = traces(span(CHAT, span_id=1))
    second = traces(span(CHAT, span_id=2), _broken("no-start"))
    request.resource_spans.extend(second.resource_spans)
    request.resource_spans[1].scope_spans.add().spans.extend([_broken("no-model")])
    mapped = map_traces(request)
    assert mapped.items == 4
    assert [e.index for e in mapped.errors] == [2, 3]
    assert mapped.positions == [0, 1]


def test_too_many_attributes_or_events_reject_the_span() -> None:
    options = OtlpOptions(max_attributes=10)
    crowded = span({f"k{i}": i for i in range(11)}, span_id=1)
    busy = span(CHAT, span_id=2, events=[("e", {})] * 11)
    mapped = map_traces(traces(crowded, busy, span(CHAT, span_id=3)), options)
    assert [(e.index, e.field) for e in mapped.errors] == [(0, "attributes"), (1, "events")]
    assert len(mapped.envelopes) == 1


def test_a_resource_with_too_many_attributes_rejects_its_spans_only() -> None:
    options = OtlpOptions(max_attributes=10)
    request = traces(span(CHAT, span_id=1), resource={f"r{i}": "v" for i in range(11)})
    request.resource_spans.extend(traces(span(CHAT, span_id=2)).resource_spans)
    mapped = map_traces(request, options)
    assert [(e.index, e.field) for e in mapped.errors] == [(0, "resource.attributes")]
    assert [e.span_id for e in mapped.envelopes] == ["0000000000000002"]


def test_an_llm_span_becomes_a_telemetry_event_with_its_latency() -> None:
    (envelope,) = map_traces(traces(span(CHAT, duration_ms=1234.5))).envelopes
    assert (envelope.event_type, envelope.severity, envelope.source_module) == (
        "telemetry",
        "info",
        "otlp",
    )
    assert isinstance(envelope.payload.data, LlmCall)
    assert envelope.payload.data.latency_ms == 1234.5
