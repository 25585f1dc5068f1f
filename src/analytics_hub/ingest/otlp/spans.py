"""OTLP spans -> envelopes: model calls as ``telemetry/llm_call``, the rest as trace context.

Every event keeps the span's ``trace_id`` and ``span_id``; its ``event_id`` is derived
from them and its ``parent_event_id`` from the parent span's ids (see
:mod:`~analytics_hub.ingest.otlp.ids`), so a trace can be walked through the events.
Spans that are not model calls become ``custom`` events with ``custom_type``
``otel_span`` (name, kind, parent span, duration, status and, for agent, tool or
workflow spans, their role), unless the options drop them; see
``docs/decisions/0010-otlp-non-llm-spans.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
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
from analytics_hub.ingest.otlp.ids import (
    SPAN_ID_BYTES,
    TRACE_ID_BYTES,
    optional_id,
    required_id,
    span_event_id,
)
from analytics_hub.ingest.otlp.mapped import Mapped
from analytics_hub.ingest.otlp.options import DEFAULT_OPTIONS, OtlpOptions
from analytics_hub.ingest.otlp.resource import ResourceContext

CONTEXT_SPAN_TYPE = "otel_span"
# Below this a nanosecond time is unset or before 1973-03-03: outside any retention, and
# the envelope would read such a small number in a coarser unit.
MIN_TIME_UNIX_NANO = 10**17

SPAN_KINDS = {
    0: "unspecified",
    1: "internal",
    2: "server",
    3: "client",
    4: "producer",
    5: "consumer",
}
STATUS_CODES = {0: "unset", 1: "ok", 2: "error"}


def map_traces(
    request: ExportTraceServiceRequest,
    options: OtlpOptions = DEFAULT_OPTIONS,
    *,
    limits: Limits = DEFAULT_LIMITS,
    rejected: Mapping[int, tuple[str, str]] | None = None,
) -> Mapped:
    """Map every span of ``request``; ``rejected`` holds spans already found bad
    (``index -> (field, message)``) by the decoder. Never raises for one span."""
    out = Mapped()
    position = 0
    for resource_spans in request.resource_spans:
        resource = ResourceContext.of(resource_spans.resource, options, limits)
        for scope_spans in resource_spans.scope_spans:
            tags = resource.scope_tags(scope_spans.scope.name, limits)
            for span in scope_spans.spans:
                i = position
                position += 1
                try:
                    if rejected and i in rejected:
                        raise ItemProblem(*rejected[i])
                    if resource.problem is not None:
                        raise resource.problem
                    envelope = map_span(span, resource, tags, options)
                except ItemProblem as problem:
                    out.reject(i, problem.field, problem.message, describe(span))
                    continue
                if envelope is None:
                    out.dropped += 1
                else:
                    out.add(i, envelope)
    out.items = position
    return out


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
    "describe",
    "exception_type",
    "map_span",
    "map_traces",
]
