"""The ``llm_call`` of a span from its decoded attributes (the fast path's conventions).

:mod:`.conventions` reads a span's attribute index key by key, the first present name
winning; here the same rules run on the attributes :mod:`.rawattrs` decoded. What the
presence of keys decides (which name of each field comes first, whether the span names
a convention) is worked out once per set of keys (a :class:`Plan`: instrumentations send
the same keys span after span), so that a span costs one lookup per field. Where the
reference would raise, this raises :class:`~analytics_hub.ingest.otlp.rawattrs.Fallback`.
"""

from __future__ import annotations

import math
from operator import itemgetter

from analytics_hub.events import LlmCall
from analytics_hub.ingest.otlp import conventions as c
from analytics_hub.ingest.otlp.rawattrs import (
    ABSENT,
    PROMPTED,
    PROMPTS,
    ArrayHead,
    Fallback,
    Found,
    count,
    first_text,
    number,
    text,
)


def _keys(names: tuple[str, ...]) -> tuple[bytes, ...]:
    return tuple(name.encode() for name in names)


MODEL = _keys(c.MODEL)
PROVIDER = _keys(c.PROVIDER)
INPUT_TOKENS = _keys(c.INPUT_TOKENS)
OUTPUT_TOKENS = _keys(c.OUTPUT_TOKENS)
CACHED_INPUT_TOKENS = _keys(c.CACHED_INPUT_TOKENS)
REASONING_TOKENS = _keys(c.REASONING_TOKENS)
FINISH_REASON = _keys(c.FINISH_REASON)
TIME_TO_FIRST_CHUNK_SECONDS = _keys(c.TIME_TO_FIRST_CHUNK_SECONDS)
USER = _keys(c.USER)
SESSION = _keys(c.SESSION)
REQUEST_ID = _keys(c.REQUEST_ID)
COST_USD = _keys(c.COST_USD)
ERROR_TYPE = _keys(c.ERROR_TYPE)
ROLE = _keys(c.ROLE)
GENAI_OPERATION = (b"gen_ai.operation.name",)
OPENINFERENCE_KIND = (b"openinference.span.kind",)
TRACELOOP_REQUEST_TYPE = (b"llm.request.type",)
TRACELOOP_SPAN_KIND = b"traceloop.span.kind"
CONVENTION_KEYS = frozenset(
    MODEL
    + PROVIDER
    + INPUT_TOKENS
    + OUTPUT_TOKENS
    + CACHED_INPUT_TOKENS
    + REASONING_TOKENS
    + FINISH_REASON
    + TIME_TO_FIRST_CHUNK_SECONDS
    + USER
    + SESSION
    + REQUEST_ID
    + COST_USD
    + ERROR_TYPE
    + ROLE
    + GENAI_OPERATION
    + OPENINFERENCE_KIND
    + TRACELOOP_REQUEST_TYPE
    + (TRACELOOP_SPAN_KIND,)
)


# The llm_call fields read from attributes, in the order of Plan.first's values.
_FIELDS = (
    MODEL,
    PROVIDER,
    REQUEST_ID,
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    CACHED_INPUT_TOKENS,
    REASONING_TOKENS,
    TIME_TO_FIRST_CHUNK_SECONDS,
    COST_USD,
    ERROR_TYPE,
    FINISH_REASON,
    USER,
    SESSION,
)


class Plan:
    """What one set of attribute keys decides, worked out once per set: the first key of
    each ``llm_call`` field that is present (else ``ABSENT``), fetched all at once by
    ``first``, and the presence tests of ``conventions.llm_operation``."""

    __slots__ = ("first", "has_model", "model_hint", "prompts", "traceloop_kind")

    def __init__(self, found: Found) -> None:
        keys = [next((k for k in keys if found.get(k) is not None), ABSENT) for keys in _FIELDS]
        self.first = itemgetter(*keys)
        # Unwanted keys starting llm.prompts are all PROMPTED; a wanted one (the asset
        # attribute's) keeps its name.
        self.prompts = PROMPTED in found or any(key.startswith(PROMPTS) for key in found)
        self.has_model = any(key in found for key in MODEL)
        # A span of no convention is a model call with a model and a provider or tokens.
        self.model_hint = self.has_model and (
            any(key in found for key in PROVIDER) or any(key in found for key in INPUT_TOKENS)
        )
        self.traceloop_kind = TRACELOOP_SPAN_KIND in found

    def operation(self, found: Found) -> str | None:
        """``conventions.llm_operation`` of the decoded attributes."""
        operation = text(found, GENAI_OPERATION)
        if operation is not None:
            return c.GENAI_MODEL_OPERATIONS.get(operation.strip().lower())
        kind = text(found, OPENINFERENCE_KIND)
        if kind is not None:
            kind = kind.strip().upper()
            if kind == "LLM" and self.prompts:
                return "completion"
            return c.OPENINFERENCE_MODEL_KINDS.get(kind)
        request_type = text(found, TRACELOOP_REQUEST_TYPE)
        if request_type is not None:
            request_type = request_type.strip().lower()
            if request_type in c.TRACELOOP_MODEL_OPERATIONS:
                return c.TRACELOOP_MODEL_OPERATIONS[request_type]
            return c.UNKNOWN if self.has_model else None
        if self.traceloop_kind:
            return None  # a workflow, task, agent or tool span
        return c.UNKNOWN if self.model_hint else None


def llm_call(
    found: Found,
    plan: Plan,
    operation: str,
    latency_ms: float,
    failed: bool,
    exception_type: str | None,
) -> LlmCall:
    """``conventions.llm_call`` of the decoded attributes; Fallback where it raises.

    The first present key of each field decides it when its value is of the usual kind
    (text a string, a count a whole number >= 0, ...): then the values are used as they
    are. Any other case goes through the readers that follow the reference rule by rule.
    """
    (
        model,
        provider,
        request_id,
        input_tokens,
        output_tokens,
        cached,
        reasoning,
        ttft_s,
        cost,
        declared,
        finish,
        user,
        session,
    ) = plan.first(found)
    if not (
        type(model) is str
        and (provider is None or type(provider) is str)
        and (request_id is None or type(request_id) is str)
        and (input_tokens is None or (type(input_tokens) is int and input_tokens >= 0))
        and (output_tokens is None or (type(output_tokens) is int and output_tokens >= 0))
        and (cached is None or (type(cached) is int and cached >= 0))
        and (reasoning is None or (type(reasoning) is int and reasoning >= 0))
        and (ttft_s is None or (type(ttft_s) is float and 0.0 <= ttft_s < math.inf))
        and (cost is None or (type(cost) is float and 0.0 <= cost < math.inf))
        and (declared is None or type(declared) is str)
        and (finish is None or type(finish) is str or type(finish) is ArrayHead)
        and (user is None or type(user) is str)
        and (session is None or type(session) is str)
    ):
        return _any_llm_call(found, operation, latency_ms, failed, exception_type)
    model_id = model.strip()
    if not model_id:
        raise Fallback
    call = LlmCall(
        model_id=model_id,
        provider=(provider or "").strip().lower() or c.UNKNOWN,
        operation=operation,
        request_id=request_id,
        input_tokens=input_tokens or 0,
        output_tokens=output_tokens or 0,
        cached_input_tokens=cached,
        latency_ms=latency_ms,
        ttft_ms=None if ttft_s is None else ttft_s * 1000.0,
        status="error" if failed or declared is not None else "ok",
        error_type=declared or (exception_type if failed else None),
        finish_reason=finish.first if isinstance(finish, ArrayHead) else finish,
        user_id=user,
        session_id=session,
    )
    # Two fields set apart: from 15 keyword arguments on, CPython 3.11 builds a dict for
    # the call, which costs more than the rest of this function (counted).
    if reasoning is not None:
        call.reasoning_tokens = reasoning
    if cost is not None:
        call.cost_usd = cost
    return call


def _any_llm_call(
    found: Found, operation: str, latency_ms: float, failed: bool, exception_type: str | None
) -> LlmCall:
    model = text(found, MODEL)
    if model is None or not model.strip():
        raise Fallback
    ttft_s = number(found, TIME_TO_FIRST_CHUNK_SECONDS)
    declared = text(found, ERROR_TYPE)
    return LlmCall(
        model_id=model.strip(),
        provider=(text(found, PROVIDER) or "").strip().lower() or c.UNKNOWN,
        operation=operation,
        request_id=text(found, REQUEST_ID),
        input_tokens=count(found, INPUT_TOKENS) or 0,
        output_tokens=count(found, OUTPUT_TOKENS) or 0,
        cached_input_tokens=count(found, CACHED_INPUT_TOKENS),
        reasoning_tokens=count(found, REASONING_TOKENS),
        latency_ms=latency_ms,
        ttft_ms=None if ttft_s is None else ttft_s * 1000.0,
        cost_usd=number(found, COST_USD),
        status="error" if failed or declared is not None else "ok",
        error_type=declared or (exception_type if failed else None),
        finish_reason=first_text(found, FINISH_REASON),
        user_id=text(found, USER),
        session_id=text(found, SESSION),
    )


__all__ = [
    "CONVENTION_KEYS",
    "GENAI_OPERATION",
    "ROLE",
    "Plan",
    "llm_call",
]
