"""Telemetry payloads (``payload_type: telemetry``, tagged by ``telemetry_type``)."""

from __future__ import annotations

from typing import Literal

from analytics_hub.events.base import WireStruct
from analytics_hub.events.fields import (
    Count,
    CountMap,
    Currency,
    Fraction,
    Id,
    Key,
    Millis,
    Money,
    NonNegative,
    NumberMap,
    Percent,
)

_TAG = "telemetry_type"


class LlmCall(WireStruct, kw_only=True, tag_field=_TAG, tag="llm_call"):
    """One model call; what OTLP spans map to.

    ``output_tokens`` includes reasoning tokens (the OpenAI and Anthropic convention);
    emitters that count them apart set ``reasoning_included`` to false and the hub adds
    ``reasoning_tokens`` to ``total_tokens``. ``input_tokens`` includes cached ones.
    ``cost_usd`` is in ``currency`` (default USD) and stored converted to USD.
    """

    model_id: Key
    provider: Key
    operation: Id  # chat, completion, embeddings, tool, agent, ...
    request_id: Id | None = None
    input_tokens: Count
    output_tokens: Count
    cached_input_tokens: Count | None = None
    reasoning_tokens: Count | None = None
    reasoning_included: bool = True
    latency_ms: Millis
    ttft_ms: Millis | None = None
    cost_usd: Money | None = None
    currency: Currency | None = None
    status: Literal["ok", "error"]
    error_type: Id | None = None
    finish_reason: Id | None = None
    user_id: Id | None = None
    session_id: Id | None = None


class LatencyBreakdown(WireStruct, kw_only=True):
    """Where the time of a request went, in milliseconds."""

    queue_time_ms: Millis | None = None
    processing_time_ms: Millis | None = None
    network_time_ms: Millis | None = None
    other_ms: Millis | None = None


class Latency(WireStruct, kw_only=True, tag_field=_TAG, tag="latency"):
    """The latency of one request."""

    model_id: Key
    request_id: Id
    total_latency_ms: Millis
    ttft_ms: Millis | None = None
    tokens_per_second: NonNegative | None = None
    breakdown: LatencyBreakdown | None = None


class Throughput(WireStruct, kw_only=True, tag_field=_TAG, tag="throughput"):
    """Throughput of a model over a window."""

    model_id: Key
    requests_per_second: NonNegative
    tokens_per_second: NonNegative
    concurrent_requests: Count
    window_duration_seconds: NonNegative


class ErrorRate(WireStruct, kw_only=True, tag_field=_TAG, tag="error_rate"):
    """Errors of a model over a window; ``error_breakdown`` maps error type to count."""

    model_id: Key
    total_requests: Count
    failed_requests: Count
    error_rate_percent: Percent
    error_breakdown: CountMap
    window_duration_seconds: NonNegative


class TokenUsage(WireStruct, kw_only=True, tag_field=_TAG, tag="token_usage"):
    """Tokens of one request."""

    model_id: Key
    request_id: Id
    prompt_tokens: Count
    completion_tokens: Count
    total_tokens: Count


class ModelPerformance(WireStruct, kw_only=True, tag_field=_TAG, tag="model_performance"):
    """Quality measurements of a model; ``custom_metrics`` maps a name to a number."""

    model_id: Key
    accuracy: Fraction | None = None
    quality_score: float | None = None
    user_satisfaction: float | None = None
    custom_metrics: NumberMap


TelemetryData = LlmCall | Latency | Throughput | ErrorRate | TokenUsage | ModelPerformance


class TelemetryPayload(WireStruct, kw_only=True, tag_field="payload_type", tag="telemetry"):
    """Performance telemetry (LLM-Observatory and adapters)."""

    data: TelemetryData


__all__ = [
    "ErrorRate",
    "Latency",
    "LatencyBreakdown",
    "LlmCall",
    "ModelPerformance",
    "TelemetryData",
    "TelemetryPayload",
    "Throughput",
    "TokenUsage",
]
