"""Each convention family's attribute names map to the same ``llm_call`` fields."""

from __future__ import annotations

from typing import Any

import pytest

from analytics_hub.events import CustomPayload, LlmCall
from analytics_hub.ingest.otlp import map_traces

from .builders import span, traces

GENAI_CURRENT = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.response.model": "gpt-4o-2024-08-06",
    "gen_ai.response.id": "chatcmpl-123",
    "gen_ai.usage.input_tokens": 1200,
    "gen_ai.usage.output_tokens": 300,
    "gen_ai.usage.cache_read.input_tokens": 1000,
    "gen_ai.usage.reasoning.output_tokens": 120,
    "gen_ai.response.finish_reasons": ["stop", "length"],
    "gen_ai.response.time_to_first_chunk": 0.25,
    "gen_ai.conversation.id": "conv-7",
    "user.id": "user-42",
}
GENAI_DEPRECATED = {
    "gen_ai.operation.name": "text_completion",
    "gen_ai.system": "OpenAI",
    "gen_ai.request.model": "gpt-3.5-turbo-instruct",
    "gen_ai.usage.prompt_tokens": 1200,
    "gen_ai.usage.completion_tokens": 300,
    "gen_ai.usage.cache_read_input_tokens": 1000,
    "gen_ai.usage.reasoning_tokens": 120,
    "gen_ai.response.finish_reasons": ["stop"],
    "enduser.id": "user-42",
    "session.id": "conv-7",
}
OPENINFERENCE = {
    "openinference.span.kind": "LLM",
    "llm.model_name": "claude-sonnet-4",
    "llm.provider": "anthropic",
    "llm.system": "anthropic",
    "llm.token_count.prompt": 1200,
    "llm.token_count.completion": 300,
    "llm.token_count.total": 1500,
    "llm.token_count.prompt_details.cache_read": 1000,
    "llm.token_count.completion_details.reasoning": 120,
    "llm.cost.total": 0.0123,
    "llm.input_messages.0.message.role": "user",
    "session.id": "conv-7",
    "user.id": "user-42",
}
TRACELOOP = {
    "llm.request.type": "chat",
    "gen_ai.system": "Anthropic",
    "gen_ai.request.model": "claude-3-5-haiku",
    "gen_ai.usage.prompt_tokens": 1200,
    "gen_ai.usage.completion_tokens": 300,
    "llm.usage.total_tokens": 1500,
    "gen_ai.usage.cache_read_input_tokens": 1000,
    "gen_ai.completion.0.finish_reason": "end_turn",
    "traceloop.association.properties.user_id": "user-42",
    "traceloop.association.properties.session_id": "conv-7",
}
TRACELOOP_OLD = {
    "llm.request.type": "completion",
    "llm.vendor": "OpenAI",
    "llm.request.model": "davinci",
    "llm.usage.prompt_tokens": 1200,
    "llm.usage.completion_tokens": 300,
    "llm.response.finish_reason": "stop",
    "llm.user": "user-42",
}


def _call(attrs: dict[str, Any], **span_args: Any) -> LlmCall:
    mapped = map_traces(traces(span(attrs, **span_args)))
    assert not mapped.errors, mapped.errors
    (envelope,) = mapped.envelopes
    data = envelope.payload.data
    assert isinstance(data, LlmCall), data
    return data


@pytest.mark.parametrize(
    ("attrs", "expected"),
    [
        (
            GENAI_CURRENT,
            {
                "model_id": "gpt-4o-2024-08-06",
                "provider": "openai",
                "operation": "chat",
                "request_id": "chatcmpl-123",
                "cached_input_tokens": 1000,
                "reasoning_tokens": 120,
                "finish_reason": "stop",
                "ttft_ms": 250.0,
                "session_id": "conv-7",
                "user_id": "user-42",
                "cost_usd": None,
            },
        ),
        (
            GENAI_DEPRECATED,
            {
                "model_id": "gpt-3.5-turbo-instruct",
                "provider": "openai",
                "operation": "completion",
                "cached_input_tokens": 1000,
                "reasoning_tokens": 120,
                "finish_reason": "stop",
                "session_id": "conv-7",
                "user_id": "user-42",
            },
        ),
        (
            OPENINFERENCE,
            {
                "model_id": "claude-sonnet-4",
                "provider": "anthropic",
                "operation": "chat",
                "cached_input_tokens": 1000,
                "reasoning_tokens": 120,
                "cost_usd": 0.0123,
                "session_id": "conv-7",
                "user_id": "user-42",
            },
        ),
        (
            TRACELOOP,
            {
                "model_id": "claude-3-5-haiku",
                "provider": "anthropic",
                "operation": "chat",
                "cached_input_tokens": 1000,
                "finish_reason": "end_turn",
                "session_id": "conv-7",
                "user_id": "user-42",
            },
        ),
        (
            TRACELOOP_OLD,
            {
                "model_id": "davinci",
                "provider": "openai",
                "operation": "completion",
                "finish_reason": "stop",
                "user_id": "user-42",
            },
        ),
    ],
    ids=["genai-current", "genai-deprecated", "openinference", "traceloop", "traceloop-old"],
)
def test_each_convention_maps_to_the_same_call(
    attrs: dict[str, Any], expected: dict[str, Any]
) -> None:
    call = _call(attrs, duration_ms=850.0)
    assert (call.input_tokens, call.output_tokens) == (1200, 300)
    assert call.latency_ms == 850.0
    assert call.status == "ok"
    for field, want in expected.items():
        assert getattr(call, field) == want, field


def test_the_response_model_wins_over_the_requested_one() -> None:
    call = _call({**GENAI_CURRENT, "gen_ai.response.model": "gpt-4o-mini-2024"})
    assert call.model_id == "gpt-4o-mini-2024"
    del_response = {k: v for k, v in GENAI_CURRENT.items() if k != "gen_ai.response.model"}
    assert _call(del_response).model_id == "gpt-4o"


def test_current_names_win_over_deprecated_ones_in_the_same_span() -> None:
    call = _call(
        {
            **GENAI_CURRENT,
            "gen_ai.system": "azure",
            "gen_ai.usage.prompt_tokens": 1,
            "gen_ai.usage.completion_tokens": 2,
        }
    )
    assert (call.provider, call.input_tokens, call.output_tokens) == ("openai", 1200, 300)


@pytest.mark.parametrize(
    ("attrs", "operation"),
    [
        ({"gen_ai.operation.name": "embeddings", "gen_ai.request.model": "m"}, "embeddings"),
        (
            {"gen_ai.operation.name": "generate_content", "gen_ai.request.model": "m"},
            "generate_content",
        ),
        ({"openinference.span.kind": "EMBEDDING", "embedding.model_name": "m"}, "embeddings"),
        (
            {
                "openinference.span.kind": "LLM",
                "llm.model_name": "m",
                "llm.prompts.0.prompt.text": "hi",
            },
            "completion",
        ),
        ({"llm.request.type": "embedding", "gen_ai.request.model": "m"}, "embeddings"),
        ({"gen_ai.system": "openai", "gen_ai.request.model": "m"}, "unknown"),
    ],
    ids=[
        "genai-embeddings",
        "genai-generate",
        "oi-embedding",
        "oi-completion",
        "tl-embedding",
        "no-operation",
    ],
)
def test_model_call_operations(attrs: dict[str, Any], operation: str) -> None:
    assert _call(attrs).operation == operation


@pytest.mark.parametrize(
    "attrs",
    [
        {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.input_tokens": 900,
        },
        {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search"},
        {"openinference.span.kind": "CHAIN", "llm.token_count.prompt": 900},
        {"openinference.span.kind": "AGENT", "llm.model_name": "gpt-4o"},
        {"traceloop.span.kind": "workflow", "traceloop.entity.name": "answer"},
        {"http.request.method": "GET"},
        {"gen_ai.request.model": "gpt-4o"},  # a model alone says nothing of a call
    ],
    ids=["genai-agent", "genai-tool", "oi-chain", "oi-agent", "tl-workflow", "http", "model-only"],
)
def test_agent_tool_and_other_spans_are_not_model_calls(attrs: dict[str, Any]) -> None:
    # Agent and chain spans often carry a model or summed tokens: counting them as calls
    # would count their child calls twice.
    mapped = map_traces(traces(span(attrs)))
    (envelope,) = mapped.envelopes
    assert isinstance(envelope.payload, CustomPayload)
    assert envelope.payload.data.custom_type == "otel_span"


def test_an_error_status_makes_a_failed_call_named_by_error_type() -> None:
    call = _call({**GENAI_CURRENT, "error.type": "RateLimitError"}, error="429 Too Many Requests")
    assert (call.status, call.error_type) == ("error", "RateLimitError")


def test_without_error_type_the_exception_event_names_the_error() -> None:
    call = _call(
        GENAI_CURRENT,
        error="boom",
        events=[("exception", {"exception.type": "openai.APITimeoutError"})],
    )
    assert (call.status, call.error_type) == ("error", "openai.APITimeoutError")


def test_a_recovered_exception_does_not_fail_the_call() -> None:
    call = _call(GENAI_CURRENT, events=[("exception", {"exception.type": "RetryableError"})])
    assert (call.status, call.error_type) == ("ok", None)


def test_error_type_alone_fails_the_call() -> None:
    call = _call({**GENAI_CURRENT, "error.type": "timeout"})
    assert (call.status, call.error_type) == ("error", "timeout")


def test_missing_usage_is_zero_tokens_and_a_missing_provider_is_unknown() -> None:
    call = _call({"gen_ai.operation.name": "chat", "gen_ai.request.model": "local-llm"})
    assert (call.input_tokens, call.output_tokens, call.provider) == (0, 0, "unknown")
    assert call.cached_input_tokens is None
    assert call.reasoning_tokens is None


def test_token_counts_sent_as_text_or_whole_doubles_are_read() -> None:
    call = _call(
        {
            **GENAI_CURRENT,
            "gen_ai.usage.input_tokens": "1200",
            "gen_ai.usage.output_tokens": 300.0,
        }
    )
    assert (call.input_tokens, call.output_tokens) == (1200, 300)
