"""Which spans are model calls, and the ``llm_call`` fields their attributes give.

Three families of attribute names are read, the first present winning:

- the OpenTelemetry GenAI semantic conventions, current and deprecated names
  (``gen_ai.provider.name`` / ``gen_ai.system``, ``gen_ai.usage.input_tokens`` /
  ``gen_ai.usage.prompt_tokens``, ...);
- OpenInference (Arize Phoenix): ``openinference.span.kind``, ``llm.model_name``,
  ``llm.token_count.*``, ``llm.cost.total``;
- Traceloop / OpenLLMetry: ``llm.request.type``, ``traceloop.*``, ``llm.usage.*``
  and the older ``llm.vendor`` / ``llm.request.model`` names.

A span is a model call when its convention says so (the operation name, the
OpenInference span kind or the Traceloop request type); agent, tool, workflow and chain
spans are not, even when they carry a model or summed token counts, so that no call is
counted twice. A span that names no convention is a model call when it carries a model
and a provider or token counts. The table in ``docs/api/otlp.md`` is the reference.
"""

from __future__ import annotations

from analytics_hub.events import LlmCall
from analytics_hub.ingest.otlp.attributes import (
    Attributes,
    ItemProblem,
    count,
    first_text,
    number,
    text,
)

# gen_ai.operation.name values that are model calls -> the hub's operation name
GENAI_MODEL_OPERATIONS: dict[str, str] = {
    "chat": "chat",
    "text_completion": "completion",
    "completion": "completion",
    "generate_content": "generate_content",
    "embeddings": "embeddings",
    "embedding": "embeddings",
    "rerank": "rerank",
}
# llm.request.type (Traceloop) values that are model calls
TRACELOOP_MODEL_OPERATIONS: dict[str, str] = {
    "chat": "chat",
    "completion": "completion",
    "embedding": "embeddings",
    "rerank": "rerank",
}
# openinference.span.kind values that are model calls
OPENINFERENCE_MODEL_KINDS: dict[str, str] = {
    "LLM": "chat",  # "completion" when the span carries llm.prompts (see llm_operation)
    "EMBEDDING": "embeddings",
    "RERANKER": "rerank",
}

MODEL = (
    "gen_ai.response.model",
    "gen_ai.request.model",
    "llm.response.model_name",
    "llm.request.model_name",
    "llm.model_name",
    "embedding.model_name",
    "reranker.model_name",
    "llm.response.model",
    "llm.request.model",
)
PROVIDER = ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system", "llm.vendor")
INPUT_TOKENS = (
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.prompt_tokens",
    "llm.token_count.prompt",
    "llm.usage.prompt_tokens",
)
OUTPUT_TOKENS = (
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens",
    "llm.token_count.completion",
    "llm.usage.completion_tokens",
)
CACHED_INPUT_TOKENS = (
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_read_input_tokens",
    "llm.token_count.prompt_details.cache_read",
)
REASONING_TOKENS = (
    "gen_ai.usage.reasoning.output_tokens",
    "gen_ai.usage.reasoning_tokens",
    "llm.usage.reasoning_tokens",
    "llm.token_count.completion_details.reasoning",
)
FINISH_REASON = (
    "gen_ai.response.finish_reasons",
    "gen_ai.completion.0.finish_reason",
    "llm.response.finish_reason",
    "llm.response.stop_reason",
    "llm.finish_reason",
)
TIME_TO_FIRST_CHUNK_SECONDS = (
    "gen_ai.response.time_to_first_chunk",
    "gen_ai.response.time_to_first_token",
)
USER = ("user.id", "enduser.id", "llm.user", "traceloop.association.properties.user_id")
SESSION = (
    "gen_ai.conversation.id",
    "session.id",
    "traceloop.association.properties.session_id",
)
REQUEST_ID = ("gen_ai.response.id",)
COST_USD = ("llm.cost.total",)
ERROR_TYPE = ("error.type",)
# Attributes that name a span's role in a convention; kept on trace-context spans.
ROLE = ("gen_ai.operation.name", "openinference.span.kind", "traceloop.span.kind")

UNKNOWN = "unknown"


def llm_operation(attrs: Attributes) -> str | None:
    """The hub's operation name when the span is a model call, else None."""
    operation = text(attrs, ("gen_ai.operation.name",))
    if operation is not None:
        return GENAI_MODEL_OPERATIONS.get(operation.strip().lower())
    kind = text(attrs, ("openinference.span.kind",))
    if kind is not None:
        kind = kind.strip().upper()
        if kind == "LLM" and any(key.startswith("llm.prompts") for key in attrs):
            return "completion"
        return OPENINFERENCE_MODEL_KINDS.get(kind)
    request_type = text(attrs, ("llm.request.type",))
    if request_type is not None:
        request_type = request_type.strip().lower()
        if request_type in TRACELOOP_MODEL_OPERATIONS:
            return TRACELOOP_MODEL_OPERATIONS[request_type]
        return UNKNOWN if _has_model(attrs) else None
    if "traceloop.span.kind" in attrs:
        return None  # a workflow, task, agent or tool span
    if _has_model(attrs) and (
        any(key in attrs for key in PROVIDER) or any(key in attrs for key in INPUT_TOKENS)
    ):
        return UNKNOWN
    return None


def role(attrs: Attributes) -> str | None:
    """A span's role in its convention (``invoke_agent``, ``TOOL``, ``workflow``...)."""
    return text(attrs, ROLE)


def llm_call(
    attrs: Attributes,
    *,
    operation: str,
    latency_ms: float,
    failed: bool,
    exception_type: str | None,
) -> LlmCall:
    """The ``llm_call`` of a model-call span; :class:`ItemProblem` when it has no model.

    Token counts the span does not carry are 0 (a failed or unmetered call), a provider
    it does not name is ``unknown``. The call failed when the span's status is an error
    or it sets ``error.type``. ``output_tokens`` includes reasoning tokens and
    ``input_tokens`` cached ones, as all three conventions count them.
    """
    model = text(attrs, MODEL)
    if model is None or not model.strip():
        raise ItemProblem(
            "attributes.gen_ai.request.model",
            "a model-call span must name its model (gen_ai.response.model, "
            "gen_ai.request.model, llm.model_name, ...)",
        )
    provider = (text(attrs, PROVIDER) or "").strip().lower() or UNKNOWN
    ttft_s = number(attrs, TIME_TO_FIRST_CHUNK_SECONDS)
    declared = text(attrs, ERROR_TYPE)  # set only when the call failed (GenAI conventions)
    # An exception event names the error only of a failed span: a span may record an
    # exception it recovered from.
    error_type = declared or (exception_type if failed else None)
    return LlmCall(
        model_id=model.strip(),
        provider=provider,
        operation=operation,
        request_id=text(attrs, REQUEST_ID),
        input_tokens=count(attrs, INPUT_TOKENS) or 0,
        output_tokens=count(attrs, OUTPUT_TOKENS) or 0,
        cached_input_tokens=count(attrs, CACHED_INPUT_TOKENS),
        reasoning_tokens=count(attrs, REASONING_TOKENS),
        latency_ms=latency_ms,
        ttft_ms=None if ttft_s is None else ttft_s * 1000.0,
        cost_usd=number(attrs, COST_USD),
        status="error" if failed or declared is not None else "ok",
        error_type=error_type,
        finish_reason=first_text(attrs, FINISH_REASON),
        user_id=text(attrs, USER),
        session_id=text(attrs, SESSION),
    )


def _has_model(attrs: Attributes) -> bool:
    return any(key in attrs for key in MODEL)


__all__ = [
    "CACHED_INPUT_TOKENS",
    "COST_USD",
    "ERROR_TYPE",
    "FINISH_REASON",
    "GENAI_MODEL_OPERATIONS",
    "INPUT_TOKENS",
    "MODEL",
    "OPENINFERENCE_MODEL_KINDS",
    "OUTPUT_TOKENS",
    "PROVIDER",
    "REASONING_TOKENS",
    "REQUEST_ID",
    "SESSION",
    "TIME_TO_FIRST_CHUNK_SECONDS",
    "TRACELOOP_MODEL_OPERATIONS",
    "USER",
    "llm_call",
    "llm_operation",
    "role",
]
