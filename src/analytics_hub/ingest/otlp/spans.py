"""OTLP spans -> envelopes: model calls as ``telemetry/llm_call``, the rest as trace context.

Every event keeps the span's ``trace_id`` and ``span_id``; its ``event_id`` is derived
from them and its ``parent_event_id`` from the parent span's ids (see
:mod:`~analytics_hub.ingest.otlp.ids`), so a trace can be walked through the events.
Spans that are not model calls become ``custom`` events with ``custom_type``
``otel_span`` (name, kind, parent span, duration, status and, for agent, tool or
workflow spans, their role), unless the options drop them; see
``docs/decisions/0010-otlp-non-llm-spans.md``.

:func:`map_span` is the reference mapping, written for clarity on the generated
classes. :func:`map_traces` maps the usual spans on a fast path (:mod:`.fastspans`,
about a third of the cost) that gives exactly the same events, and hands every other
span to :func:`map_span`; :func:`map_traces_reference` maps them all the reference way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from analytics_hub.events import (
    DEFAULT_LIMITS,
    CustomData,
    CustomPayload,
    Envelope,
    Limits,
    TelemetryPayload,
)
from analytics_hub.events.envelope import Payload, SeverityName
from analytics_hub.ingest.otlp.attributes import Attributes, ItemProblem, index, text
from analytics_hub.ingest.otlp.conventions import llm_call, llm_operation, role
from analytics_hub.ingest.otlp.fastspans import (
    CONTEXT_SPAN_TYPE,
    MIN_TIME_UNIX_NANO,
    SPAN_KINDS,
    STATUS_CODES,
    RequestState,
    Scope,
    SpanMapper,
)
from analytics_hub.ingest.otlp.ids import (
    SPAN_ID_BYTES,
    TRACE_ID_BYTES,
    optional_id,
    required_id,
    span_event_id,
)
from analytics_hub.ingest.otlp.lean import lean_view
from analytics_hub.ingest.otlp.mapped import Mapped
from analytics_hub.ingest.otlp.options import DEFAULT_OPTIONS, OtlpOptions
from analytics_hub.ingest.otlp.resource import ResourceContext

Rejected = Mapping[int, tuple[str, str]]


def map_traces(
    request: ExportTraceServiceRequest,
    options: OtlpOptions = DEFAULT_OPTIONS,
    *,
    limits: Limits = DEFAULT_LIMITS,
    rejected: Rejected | None = None,
    wire: bytes | None = None,
) -> Mapped:
    """Map every span of ``request``; ``rejected`` holds spans already found bad
    (``index -> (field, message)``) by the decoder. Never raises for one span.

    ``wire`` is the protobuf body ``request`` was parsed from, if it came as one (those
    very bytes, nothing else): the fast path (:mod:`.fastspans`) reads the spans from a
    lean parse of them. Without it the request is serialised for that parse.
    """
    lean = lean_view(request, wire) if len(request.resource_spans) else None
    return _map_traces(request, lean, options, limits, rejected)


def map_traces_reference(
    request: ExportTraceServiceRequest,
    options: OtlpOptions = DEFAULT_OPTIONS,
    *,
    limits: Limits = DEFAULT_LIMITS,
    rejected: Rejected | None = None,
) -> Mapped:
    """:func:`map_traces` without the fast path: every span through :func:`map_span`,
    which reads the generated classes. The fast path's tests hold it to this."""
    return _map_traces(request, None, options, limits, rejected)


def _map_traces(
    request: ExportTraceServiceRequest,
    lean: Any | None,
    options: OtlpOptions,
    limits: Limits,
    rejected: Rejected | None,
) -> Mapped:
    out = Mapped()
    state = RequestState(out, rejected)
    fast = _mapper(options)
    position = 0
    real_resources = request.resource_spans
    lean_resources = _same_length(None if lean is None else lean.resource_spans, real_resources)
    for r, resource_spans in enumerate(real_resources):
        resource = ResourceContext.of(resource_spans.resource, options, limits)
        scopes = resource_spans.scope_spans
        lean_scopes = _same_length(
            None if lean_resources is None else lean_resources[r].scope_spans, scopes
        )
        for s, scope_spans in enumerate(scopes):
            tags = resource.scope_tags(scope_spans.scope.name, limits)
            spans = scope_spans.spans
            first = position
            position += len(spans)
            reference = _reference(out, rejected, spans, resource, tags, options)
            lean_spans = _same_length(None if lean_scopes is None else lean_scopes[s].spans, spans)
            if lean_spans is None or resource.problem is not None:
                for j in range(len(spans)):
                    reference(first + j, j)
                continue
            scope = Scope(
                resource.environment, text(resource.attributes, (options.asset_attribute,)), tags
            )
            fast.map_scope(lean_spans[:], spans, first, scope, state, reference)
    state.set_event_ids()
    out.items = position
    return out


def _reference(
    out: Mapped,
    rejected: Rejected | None,
    spans: Any,
    resource: ResourceContext,
    tags: dict[str, str],
    options: OtlpOptions,
) -> Callable[[int, int], None]:
    """What maps span ``j`` of one scope's ``spans`` (item ``i``) the reference way."""

    def reference(i: int, j: int) -> None:
        try:
            if rejected and i in rejected:
                raise ItemProblem(*rejected[i])
            if resource.problem is not None:
                raise resource.problem
            envelope = map_span(spans[j], resource, tags, options)
        except ItemProblem as problem:
            out.reject(i, problem.field, problem.message, describe(spans[j]))
            return
        if envelope is None:
            out.dropped += 1
        else:
            out.add(i, envelope)

    return reference


@functools.lru_cache(maxsize=16)
def _mapper(options: OtlpOptions) -> SpanMapper:
    # Options are fixed per hub configuration: in practice one mapper per process.
    return SpanMapper(options, exception_type)


def _same_length(lean: Any | None, real: Any) -> Any | None:
    """``lean`` if it holds as many items as ``real`` (it always does: see .lean)."""
    return lean if lean is not None and len(lean) == len(real) else None


def map_span(
    span: Span, resource: ResourceContext, tags: dict[str, str], options: OtlpOptions
) -> Envelope | None:
    """The event of one span (None for a dropped trace-context span)."""
    for name, n in (("attributes", len(span.attributes)), ("events", len(span.events))):
        if n > options.max_attributes:
            raise ItemProblem(
                name,
                f"the span has {n} {name}; at most {options.max_attributes} are accepted "
                "(OtlpOptions.max_attributes)",
            )
    trace_id = required_id(span.trace_id, TRACE_ID_BYTES, "trace_id")
    span_id = required_id(span.span_id, SPAN_ID_BYTES, "span_id")
    parent_id = optional_id(span.parent_span_id, SPAN_ID_BYTES, "parent_span_id")
    start, end = span.start_time_unix_nano, span.end_time_unix_nano
    if start < MIN_TIME_UNIX_NANO:
        raise ItemProblem("start_time_unix_nano", "is unset (or before 1973)")
    if end < start:
        raise ItemProblem("end_time_unix_nano", "is unset or before the span's start")
    latency_ms = (end - start) / 1_000_000
    attrs = index(span.attributes)
    failed = span.status.code == Status.STATUS_CODE_ERROR
    operation = llm_operation(attrs)
    payload: Payload
    severity: SeverityName
    if operation is not None:
        call = llm_call(
            attrs,
            operation=operation,
            latency_ms=latency_ms,
            failed=failed,
            exception_type=exception_type(span) if failed else None,
        )
        payload = TelemetryPayload(data=call)
        severity = "error" if call.status == "error" else "info"
    elif options.keep_context_spans:
        payload = CustomPayload(
            data=CustomData(
                custom_type=CONTEXT_SPAN_TYPE, data=_context(span, parent_id, latency_ms, attrs)
            )
        )
        severity = "error" if failed else "info"
    else:
        return None
    return Envelope(
        event_id=span_event_id(span.trace_id, span.span_id),
        timestamp=start,
        source_module=options.source_module,
        event_type="telemetry" if operation is not None else "custom",
        severity=severity,
        environment=resource.environment,
        asset_id=resource.asset(options.asset_attribute, attrs),
        parent_event_id=span_event_id(span.trace_id, span.parent_span_id) if parent_id else None,
        trace_id=trace_id,
        span_id=span_id,
        tags=tags,
        payload=payload,
    )


def exception_type(span: Span) -> str | None:
    """``exception.type`` of the span's last exception event (the one that ended it)."""
    found = None
    for event in span.events:
        if event.name == "exception":
            found = text(index(event.attributes), ("exception.type",)) or found
    return found


def describe(span: Span) -> dict[str, object]:
    """A short, bounded description of a rejected span for the dead-letter store.

    Not the span itself: a rejected span may be hostile (a million attributes), and its
    identity is what an operator needs to find it at the source.
    """
    return {
        "otlp_span": {
            "name": span.name[:256],
            "trace_id": span.trace_id[:64].hex(),
            "span_id": span.span_id[:64].hex(),
            "start_time_unix_nano": span.start_time_unix_nano,
            "attributes": len(span.attributes),
        }
    }


def _context(span: Span, parent_id: str | None, latency_ms: float, attrs: Attributes) -> Any:
    data: dict[str, Any] = {
        "name": span.name,
        "kind": SPAN_KINDS.get(span.kind, "unspecified"),
        "duration_ms": latency_ms,
        "status": STATUS_CODES.get(span.status.code, "unset"),
    }
    if parent_id is not None:
        data["parent_span_id"] = parent_id
    if span.status.message:
        data["status_message"] = span.status.message
    found = role(attrs)
    if found is not None:
        data["role"] = found
    return data


__all__ = [
    "CONTEXT_SPAN_TYPE",
    "MIN_TIME_UNIX_NANO",
    "SPAN_KINDS",
    "STATUS_CODES",
    "describe",
    "exception_type",
    "map_span",
    "map_traces",
    "map_traces_reference",
]
