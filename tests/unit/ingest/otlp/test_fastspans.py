"""The fast span mapping gives exactly what the reference mapping gives.

``map_traces`` reads spans from a lean parse of the request's bytes and decodes only the
attributes it needs (``fastspans``, ``fastcalls``, ``rawattrs``); ``map_traces_reference``
maps every span through ``map_span`` and the generated classes. Both must give the same
envelopes (to the byte, once encoded), positions, errors, dead-letter descriptions and
counts, on every shape of span, and the fast path must really be the one that maps the
usual shapes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from analytics_hub.ingest.otlp import DEFAULT_OPTIONS, Mapped, OtlpOptions, map_traces
from analytics_hub.ingest.otlp import spans as spans_module
from analytics_hub.ingest.otlp.spans import map_traces_reference

from .builders import span, traces, value

CHAT = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
}


def same(
    request: ExportTraceServiceRequest,
    options: OtlpOptions = DEFAULT_OPTIONS,
    *,
    wire: bytes | None = None,
    rejected: Mapping[int, tuple[str, str]] | None = None,
) -> Mapped:
    """Map ``request`` both ways and require the same outcome; the fast one is returned."""
    fast = map_traces(request, options, rejected=rejected, wire=wire)
    reference = map_traces_reference(request, options, rejected=rejected)
    encode = msgspec.json.encode
    assert [encode(e) for e in fast.envelopes] == [encode(e) for e in reference.envelopes]
    assert fast.envelopes == reference.envelopes
    assert fast.positions == reference.positions
    assert fast.errors == reference.errors
    assert fast.rejected_raw == reference.rejected_raw
    assert (fast.items, fast.dropped) == (reference.items, reference.dropped)
    return fast


@contextmanager
def counting_reference(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Counts the spans ``map_traces`` leaves to the reference mapping."""
    calls: list[int] = []
    original = spans_module.map_span

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(spans_module, "map_span", counted)
        yield calls


GENAI = {
    **CHAT,
    "gen_ai.response.model": "gpt-4o-2024-08-06",
    "gen_ai.response.id": "chatcmpl-1",
    "gen_ai.usage.input_tokens": 1200,
    "gen_ai.usage.output_tokens": 300,
    "gen_ai.usage.cache_read.input_tokens": 1000,
    "gen_ai.usage.reasoning.output_tokens": 120,
    "gen_ai.response.finish_reasons": ["stop", "length"],
    "gen_ai.response.time_to_first_chunk": 0.25,
    "gen_ai.conversation.id": "conv-7",
    "user.id": "user-42",
    "server.address": "api.openai.com",
}
OPENINFERENCE = {
    "openinference.span.kind": "LLM",
    "llm.model_name": "claude-sonnet-4",
    "llm.provider": "anthropic",
    "llm.token_count.prompt": 1200,
    "llm.token_count.completion": 300,
    "llm.cost.total": 0.0123,
    "llm.input_messages.0.message.content": "hello " * 40,
    "session.id": "conv-7",
}
TRACELOOP = {
    "llm.request.type": "chat",
    "gen_ai.system": "Anthropic",
    "gen_ai.request.model": "claude-3-5-haiku",
    "gen_ai.usage.prompt_tokens": 1200,
    "gen_ai.usage.completion_tokens": 300,
    "gen_ai.completion.0.finish_reason": "end_turn",
    "traceloop.association.properties.user_id": "user-42",
}
# Spans the fast path maps itself: (attributes, span arguments)
USUAL: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "genai": (GENAI, {}),
    "genai-deprecated": (
        {
            "gen_ai.operation.name": "text_completion",
            "gen_ai.system": "OpenAI",
            "gen_ai.request.model": "gpt-3.5-turbo-instruct",
            "gen_ai.usage.prompt_tokens": 1,
            "gen_ai.usage.completion_tokens": 2,
            "gen_ai.response.finish_reasons": ["stop"],
            "enduser.id": "u",
        },
        {},
    ),
    "openinference": (OPENINFERENCE, {}),
    "openinference-completion": ({**OPENINFERENCE, "llm.prompts.0.prompt.text": "hi"}, {}),
    "traceloop": (TRACELOOP, {}),
    "traceloop-old": (
        {"llm.request.type": "completion", "llm.vendor": "OpenAI", "llm.request.model": "d"},
        {},
    ),
    "traceloop-unknown-type": ({"llm.request.type": "rerankish", "llm.model_name": "m"}, {}),
    "no-convention": ({"gen_ai.system": "openai", "gen_ai.request.model": "m"}, {}),
    "no-usage": ({"gen_ai.operation.name": "chat", "gen_ai.request.model": "local"}, {}),
    "error-type": ({**CHAT, "error.type": "RateLimitError"}, {"error": "429"}),
    "exception-event": (
        CHAT,
        {"error": "boom", "events": [("exception", {"exception.type": "APITimeoutError"})]},
    ),
    "recovered-exception": (CHAT, {"events": [("exception", {"exception.type": "Retry"})]}),
    "parent": (CHAT, {"parent": 9}),
    "http": ({"http.route": "/answer"}, {"name": "POST /", "kind": Span.SPAN_KIND_SERVER}),
    "agent": ({"gen_ai.operation.name": "invoke_agent", "gen_ai.request.model": "m"}, {}),
    "tool-failed": ({"gen_ai.operation.name": "execute_tool"}, {"error": "x", "parent": 3}),
    "oi-chain": ({"openinference.span.kind": "CHAIN", "llm.token_count.prompt": 9}, {}),
    "workflow": ({"traceloop.span.kind": "workflow", "llm.model_name": "m"}, {}),
    "model-only": ({"gen_ai.request.model": "gpt-4o"}, {}),
    "no-attributes": ({}, {"name": "GET /", "kind": 99}),
    "empty-texts": ({**CHAT, "gen_ai.provider.name": "  ", "user.id": ""}, {}),
}
# Spans whose values are not of the usual kinds: mapped (or rejected) the same way.
UNUSUAL: dict[str, dict[str, Any]] = {
    "tokens-as-text": {**CHAT, "gen_ai.usage.input_tokens": " 1200 ", "llm.cost.total": "0.5"},
    "tokens-as-whole-doubles": {**CHAT, "gen_ai.usage.output_tokens": 300.0},
    "tokens-fractional": {**CHAT, "gen_ai.usage.input_tokens": 1.5},
    "tokens-negative": {**CHAT, "gen_ai.usage.output_tokens": -3},
    "tokens-bool": {**CHAT, "gen_ai.usage.output_tokens": True},
    "tokens-text": {**CHAT, "gen_ai.usage.input_tokens": "lots"},
    "tokens-array": {**CHAT, "gen_ai.usage.input_tokens": [1]},
    "ttft-nan": {**CHAT, "gen_ai.response.time_to_first_chunk": float("nan")},
    "ttft-int": {**CHAT, "gen_ai.response.time_to_first_chunk": 1},
    "ttft-text": {**CHAT, "gen_ai.response.time_to_first_chunk": "0.25"},
    "cost-inf": {**CHAT, "llm.cost.total": float("inf")},
    "model-int": {**CHAT, "gen_ai.request.model": 4},
    "model-kvlist-then-text": {**CHAT, "gen_ai.response.model": {"a": 1}},
    "model-blank": {**CHAT, "gen_ai.request.model": "   "},
    "no-model": {"gen_ai.operation.name": "chat"},
    "operation-int": {"gen_ai.operation.name": 7, "gen_ai.request.model": "m"},
    "operation-array": {"gen_ai.operation.name": ["chat"], "gen_ai.request.model": "m"},
    "kind-bool": {"openinference.span.kind": True, "llm.model_name": "m"},
    "user-bool": {**CHAT, "user.id": False, "session.id": 3.5},
    "finish-empty-array": {**CHAT, "gen_ai.response.finish_reasons": [], "llm.finish_reason": "x"},
    "finish-int-array": {**CHAT, "gen_ai.response.finish_reasons": [1, "stop"]},
    "finish-bool": {**CHAT, "gen_ai.response.finish_reasons": True},
    "finish-kvlist": {**CHAT, "gen_ai.response.finish_reasons": {"k": "v"}},
    "finish-long": {**CHAT, "gen_ai.response.finish_reasons": ["x" * 300]},
    "bytes-value": {**CHAT, "gen_ai.response.id": b"\x00\x01"},
    "empty-value": {**CHAT, "gen_ai.response.id": AnyValue()},
    "long-value": {**CHAT, "gen_ai.conversation.id": "c" * 20_000},
    "long-key": {**CHAT, "k" * 200: "v", "gen_ai.usage.input_tokens": 5},
    "unicode": {**CHAT, "gen_ai.request.model": "modèle-ü", "ключ": "значение"},
    "large-ints": {**CHAT, "gen_ai.usage.input_tokens": 2**63 - 1},
    "negative-int-text": {**CHAT, "user.id": -(2**63)},
}


@pytest.mark.parametrize("name", list(USUAL))
def test_the_usual_spans_are_mapped_by_the_fast_path(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    attrs, args = USUAL[name]
    request = traces(span(attrs, span_id=1, **args), span(GENAI, span_id=2))
    with counting_reference(monkeypatch) as calls:
        fast = map_traces(request, wire=request.SerializeToString())
    assert calls == []
    same(request, wire=request.SerializeToString())
    assert len(fast.envelopes) == 2


@pytest.mark.parametrize("name", list(UNUSUAL))
def test_unusual_values_give_the_same_events_and_errors(name: str) -> None:
    request = traces(span(UNUSUAL[name], span_id=1), span(GENAI, span_id=2))
    same(request)
    same(request, wire=request.SerializeToString())


def test_a_repeated_key_keeps_its_last_value() -> None:
    s = span({**CHAT, "gen_ai.response.model": "first"})
    s.attributes.extend(
        [
            KeyValue(key="gen_ai.response.model", value=value({"x": 1})),  # not text: skipped
            KeyValue(key="gen_ai.usage.input_tokens", value=value(7)),
            KeyValue(key="gen_ai.usage.input_tokens", value=value("8")),
        ]
    )
    (envelope,) = same(traces(s)).envelopes
    call = envelope.payload.data
    assert (call.model_id, call.input_tokens) == ("gpt-4o", 8)  # type: ignore[union-attr]


def _broken(change: str) -> Span:
    s = span(CHAT, span_id=7, parent=5)
    if change == "no-trace-id":
        s.trace_id = b""
    elif change == "zero-trace-id":
        s.trace_id = bytes(16)
    elif change == "short-span-id":
        s.span_id = b"\x01\x02"
    elif change == "zero-span-id":
        s.span_id = bytes(8)
    elif change == "bad-parent":
        s.parent_span_id = b"\x01" * 3
    elif change == "zero-parent":
        s.parent_span_id = bytes(8)
    elif change == "short-zero-parent":
        s.parent_span_id = bytes(3)  # no parent, as all zeros are
    elif change == "no-start":
        s.start_time_unix_nano, s.end_time_unix_nano = 0, 5
    elif change == "ends-before-start":
        s.end_time_unix_nano = s.start_time_unix_nano - 1
    return s


@pytest.mark.parametrize(
    "change",
    [
        "no-trace-id",
        "zero-trace-id",
        "short-span-id",
        "zero-span-id",
        "bad-parent",
        "zero-parent",
        "short-zero-parent",
        "no-start",
        "ends-before-start",
    ],
)
def test_bad_ids_and_times_are_rejected_as_before(change: str) -> None:
    same(traces(span(CHAT, span_id=1), _broken(change), span(CHAT, span_id=3)))


OPTIONS = {
    "default": DEFAULT_OPTIONS,
    "drop-context": OtlpOptions(keep_context_spans=False),
    "asset-from-span": OtlpOptions(asset_attribute="gen_ai.conversation.id"),
    "asset-is-a-convention-key": OtlpOptions(asset_attribute="user.id"),
    "asset-is-a-prompt": OtlpOptions(asset_attribute="llm.prompts.0.prompt.text"),
    "asset-absent": OtlpOptions(asset_attribute="nowhere"),
    "few-attributes": OtlpOptions(max_attributes=10, source_module="otel-collector"),
}


@pytest.mark.parametrize("name", list(OPTIONS))
def test_every_option_maps_the_same(name: str) -> None:
    spans = [span(attrs, span_id=k + 1, **args) for k, (attrs, args) in enumerate(USUAL.values())]
    spans.append(span({f"k{i}": i for i in range(11)}, span_id=90))  # too many for 10
    spans.append(span(CHAT, span_id=91, events=[("e", {})] * 11))
    spans.append(span({**OPENINFERENCE, "llm.prompts.0.prompt.text": "hi"}, span_id=92))
    same(traces(*spans), OPTIONS[name])
    same(traces(*spans, resource={}), OPTIONS[name])


def test_resources_scopes_and_decoder_rejections_are_numbered_as_before() -> None:
    request = traces(span(CHAT, span_id=1), span(GENAI, span_id=2))
    other = traces(span(TRACELOOP, span_id=3), resource={"service.name": "x"}, scope="")
    request.resource_spans.extend(other.resource_spans)
    request.resource_spans[1].scope_spans.add().spans.extend([span({}, span_id=4)])
    crowded = traces(span(CHAT, span_id=5), resource={f"r{i}": "v" for i in range(11)})
    request.resource_spans.extend(crowded.resource_spans)
    options = OtlpOptions(max_attributes=10)
    same(request, options)
    same(request, options, rejected={1: ("span_id", "is not hex"), 3: ("trace_id", "bad")})


def test_without_the_wire_bytes_or_with_bytes_that_do_not_parse_the_result_is_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    request = traces(span(GENAI, span_id=1), span(OPENINFERENCE, span_id=2, parent=1))
    same(request, wire=None)
    same(request, wire=b"\xff\xff\xff")
    with counting_reference(monkeypatch) as calls:
        map_traces(request, wire=b"\xff\xff\xff")  # never happens: all the reference way
    assert len(calls) == 2
    assert map_traces(ExportTraceServiceRequest()).items == 0


def test_siblings_share_their_parent_event_id() -> None:
    children = [span(CHAT, span_id=k, parent=1) for k in range(2, 6)]
    mapped = same(traces(span({}, span_id=1), *children))
    assert len({e.parent_event_id for e in mapped.envelopes[1:]}) == 1
    assert mapped.envelopes[1].parent_event_id == mapped.envelopes[0].event_id


_SCALARS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["12", " 7 ", "1e3", "-4", "nan", "0.25", "LLM", "chat", "CHAIN", ""]),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)
_VALUES = st.one_of(
    _SCALARS,
    st.lists(_SCALARS, max_size=3),
    st.dictionaries(st.text(max_size=3), _SCALARS, max_size=2),
    st.binary(max_size=4),
    st.just(AnyValue()),
)
_KEYS = st.sampled_from(
    [
        *CHAT,
        *GENAI,
        *OPENINFERENCE,
        *TRACELOOP,
        "gen_ai.system",
        "llm.request.type",
        "traceloop.span.kind",
        "error.type",
        "llm.prompts",
        "service.name",
        "session.id",
        "x",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pairs=st.lists(st.tuples(_KEYS, _VALUES), max_size=14),
    failed=st.booleans(),
    parent=st.sampled_from([None, 0, 1]),
    asset=st.sampled_from(["service.name", "gen_ai.request.model", "x"]),
)
def test_any_attributes_map_the_same(
    pairs: list[tuple[str, Any]], failed: bool, parent: int | None, asset: str
) -> None:
    s = span(
        {},
        span_id=2,
        parent=parent,
        error="failed" if failed else None,
        events=[("exception", {"exception.type": "E"})] if failed else (),
    )
    s.attributes.extend(KeyValue(key=k, value=value(v)) for k, v in pairs)
    request = traces(s, span(dict(pairs), span_id=3))
    same(request, OtlpOptions(asset_attribute=asset), wire=request.SerializeToString())
