"""OTLP export requests of LLM spans for the benchmarks (``bench/otlp.py``,
``bench/otlp_mapping.py``): built once, serialised, then replayed.

``make_body`` is what ``bench/otlp.py`` posts: GenAI chat spans as the OpenTelemetry
GenAI instrumentations emit them, under one resource with ``service.name``.
``make_mixed_body`` is a richer request of the same size: the three conventions the hub
reads (GenAI semantic conventions, current and deprecated names; OpenInference;
Traceloop / OpenLLMetry), the agent, tool, workflow and HTTP spans around the calls
(trace context), failed calls with exception events, and a resource as an SDK sends it.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

MARK = bytes.fromhex("fe11fe22fe33fe44")  # the first half of every template trace id
MODELS = [("openai", "gpt-4o"), ("openai", "gpt-4o-mini"), ("anthropic", "claude-3-5-sonnet")]


def _kv(key: str, value: Any) -> KeyValue:
    if isinstance(value, str):
        return KeyValue(key=key, value=AnyValue(string_value=value))
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    if isinstance(value, list):
        items = [_kv("", v).value for v in value]
        return KeyValue(key=key, value=AnyValue(array_value=ArrayValue(values=items)))
    return KeyValue(key=key, value=AnyValue(double_value=value))


def make_body(batch: int, seed: int) -> bytes:
    """One request of ``batch`` GenAI chat spans ending around now."""
    rnd = random.Random(seed)
    end = datetime.now(UTC) + timedelta(seconds=30)
    spans = []
    for i in range(batch):
        provider, model = rnd.choice(MODELS)
        latency_ns = int(rnd.lognormvariate(6.5, 0.5) * 1e6)
        stop = int((end - timedelta(seconds=rnd.uniform(0, 120))).timestamp() * 1e9)
        input_tokens, output_tokens = rnd.randint(50, 4000), rnd.randint(10, 800)
        spans.append(
            Span(
                trace_id=MARK + seed.to_bytes(4, "big") + i.to_bytes(4, "big"),
                span_id=rnd.getrandbits(64).to_bytes(8, "big"),
                name=f"chat {model}",
                kind=Span.SPAN_KIND_CLIENT,
                start_time_unix_nano=stop - latency_ns,
                end_time_unix_nano=stop,
                attributes=[
                    _kv("gen_ai.operation.name", "chat"),
                    _kv("gen_ai.provider.name", provider),
                    _kv("gen_ai.request.model", model),
                    _kv("gen_ai.response.model", model),
                    _kv("gen_ai.usage.input_tokens", input_tokens),
                    _kv("gen_ai.usage.output_tokens", output_tokens),
                    _kv("gen_ai.response.finish_reasons", "stop"),
                    _kv("gen_ai.conversation.id", f"conv-{rnd.randint(0, 999)}"),
                ],
                status=Status(code=Status.STATUS_CODE_OK),
            )
        )
    request = ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource={"attributes": [_kv("service.name", f"svc-{seed % 7}")]},
                scope_spans=[ScopeSpans(scope={"name": "bench"}, spans=spans)],
            )
        ]
    )
    return request.SerializeToString()


# --- the mixed request -----------------------------------------------------------------


def _genai(rnd: random.Random, provider: str, model: str) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": model,
        "gen_ai.response.model": f"{model}-2024-08-06",
        "gen_ai.response.id": f"chatcmpl-{rnd.getrandbits(48):012x}",
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.max_tokens": 1024,
        "gen_ai.usage.input_tokens": rnd.randint(50, 4000),
        "gen_ai.usage.output_tokens": rnd.randint(10, 800),
        "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.conversation.id": f"conv-{rnd.randint(0, 999)}",
        "server.address": "api.openai.com",
        "server.port": 443,
    }
    if rnd.random() < 0.3:
        attrs["gen_ai.usage.cache_read.input_tokens"] = attrs["gen_ai.usage.input_tokens"] // 2
    if rnd.random() < 0.5:
        attrs["gen_ai.response.time_to_first_chunk"] = round(rnd.uniform(0.05, 0.8), 3)
    return attrs


def _genai_deprecated(rnd: random.Random, provider: str, model: str) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.system": provider,
        "gen_ai.request.model": model,
        "gen_ai.response.model": model,
        "gen_ai.usage.prompt_tokens": rnd.randint(50, 4000),
        "gen_ai.usage.completion_tokens": rnd.randint(10, 800),
        "gen_ai.response.finish_reasons": ["stop"],
        "session.id": f"sess-{rnd.randint(0, 999)}",
    }


def _openinference(rnd: random.Random, provider: str, model: str) -> dict[str, Any]:
    prompt, completion = rnd.randint(50, 4000), rnd.randint(10, 800)
    return {
        "openinference.span.kind": "LLM",
        "llm.model_name": model,
        "llm.provider": provider,
        "llm.system": provider,
        "llm.invocation_parameters": json.dumps({"temperature": 0.2, "max_tokens": 1024}),
        "llm.input_messages.0.message.role": "system",
        "llm.input_messages.0.message.content": "You are a helpful support assistant.",
        "llm.input_messages.1.message.role": "user",
        "llm.input_messages.1.message.content": "Where is my order #" + str(rnd.randint(1, 9999)),
        "llm.output_messages.0.message.role": "assistant",
        "llm.output_messages.0.message.content": "It ships tomorrow. " * 4,
        "llm.token_count.prompt": prompt,
        "llm.token_count.completion": completion,
        "llm.token_count.total": prompt + completion,
        "input.mime_type": "application/json",
        "output.mime_type": "application/json",
        "session.id": f"sess-{rnd.randint(0, 999)}",
        "user.id": f"user-{rnd.randint(0, 499)}",
    }


def _traceloop(rnd: random.Random, provider: str, model: str) -> dict[str, Any]:
    prompt, completion = rnd.randint(50, 4000), rnd.randint(10, 800)
    return {
        "llm.request.type": "chat",
        "gen_ai.system": provider.capitalize(),
        "gen_ai.request.model": model,
        "gen_ai.response.model": model,
        "gen_ai.usage.prompt_tokens": prompt,
        "gen_ai.usage.completion_tokens": completion,
        "llm.usage.total_tokens": prompt + completion,
        "gen_ai.prompt.0.role": "user",
        "gen_ai.prompt.0.content": "Summarise the ticket in one line.",
        "gen_ai.completion.0.role": "assistant",
        "gen_ai.completion.0.content": "Customer asks for a refund. " * 3,
        "gen_ai.completion.0.finish_reason": "stop",
        "llm.is_streaming": False,
        "traceloop.workflow.name": "support",
        "traceloop.association.properties.user_id": f"user-{rnd.randint(0, 499)}",
        "traceloop.association.properties.session_id": f"sess-{rnd.randint(0, 999)}",
    }


_CONTEXT: list[tuple[str, dict[str, Any], int]] = [
    ("POST /answer", {"http.request.method": "POST", "http.route": "/answer"}, 2),
    ("invoke_agent planner", {"gen_ai.operation.name": "invoke_agent"}, 1),
    ("execute_tool search", {"gen_ai.operation.name": "execute_tool"}, 1),
    ("retrieve", {"openinference.span.kind": "RETRIEVER", "input.value": "order"}, 1),
    ("support.workflow", {"traceloop.span.kind": "workflow"}, 1),
]
SCOPE = "opentelemetry.instrumentation.openai_v2"
_SHAPES = (_genai, _genai_deprecated, _openinference, _traceloop)


def make_mixed_body(batch: int, seed: int) -> bytes:
    """One request of ``batch`` spans: about 70 % model calls of the four shapes above
    (2 % of them failed, with an exception event) and 30 % trace context around them,
    children naming their parent span."""
    rnd = random.Random(seed)
    end = datetime.now(UTC) + timedelta(seconds=30)
    spans = []
    parent = b""
    for i in range(batch):
        provider, model = rnd.choice(MODELS)
        latency_ns = int(rnd.lognormvariate(6.5, 0.5) * 1e6)
        stop = int((end - timedelta(seconds=rnd.uniform(0, 120))).timestamp() * 1e9)
        span_id = rnd.getrandbits(64).to_bytes(8, "big")
        status = Status(code=Status.STATUS_CODE_UNSET)
        events: list[Span.Event] = []
        if i % 10 in (0, 4, 7):
            name, attrs, kind = _CONTEXT[rnd.randrange(len(_CONTEXT))]
            parent_id = b"" if name.startswith("POST") else parent
            parent = span_id
        else:
            attrs = rnd.choice(_SHAPES)(rnd, provider, model)
            name, kind, parent_id = f"chat {model}", Span.SPAN_KIND_CLIENT, parent
            if rnd.random() < 0.02:
                status = Status(code=Status.STATUS_CODE_ERROR, message="429 Too Many Requests")
                events.append(
                    Span.Event(
                        name="exception",
                        time_unix_nano=stop,
                        attributes=[_kv("exception.type", "openai.RateLimitError")],
                    )
                )
        spans.append(
            Span(
                trace_id=MARK + seed.to_bytes(4, "big") + (i // 10).to_bytes(4, "big"),
                span_id=span_id,
                parent_span_id=parent_id,
                name=name,
                kind=kind,  # type: ignore[arg-type]
                start_time_unix_nano=stop - latency_ns,
                end_time_unix_nano=stop,
                attributes=[_kv(k, v) for k, v in attrs.items()],
                events=events,
                status=status,
            )
        )
    resource = {
        "service.name": f"svc-{seed % 7}",
        "service.version": "1.4.2",
        "service.instance.id": f"{rnd.getrandbits(128):032x}",
        "deployment.environment.name": "prod",
        "telemetry.sdk.name": "opentelemetry",
        "telemetry.sdk.language": "python",
        "telemetry.sdk.version": "1.29.0",
        "host.name": "ip-10-0-3-17",
        "process.pid": 4242,
        "process.runtime.name": "cpython",
    }
    request = ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource={"attributes": [_kv(k, v) for k, v in resource.items()]},
                scope_spans=[ScopeSpans(scope={"name": SCOPE}, spans=spans)],
            )
        ]
    )
    return request.SerializeToString()


__all__ = ["MARK", "MODELS", "make_body", "make_mixed_body"]
