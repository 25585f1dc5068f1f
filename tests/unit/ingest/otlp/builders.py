"""Builders of OTLP export requests for the mapping tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from analytics_hub.events import Normalizer

TENANT = "acme"
RECEIVED = dt.datetime.now(dt.UTC)
START = int((RECEIVED - dt.timedelta(minutes=5)).timestamp()) * 1_000_000_000
TRACE = bytes.fromhex("5b8efff798038103d269b633813fc60c")
RESOURCE = {"service.name": "checkout", "deployment.environment.name": "staging"}


def value(v: Any) -> AnyValue:
    """An ``AnyValue`` of a Python value (lists and dicts nest)."""
    if isinstance(v, AnyValue):
        return v
    if isinstance(v, bool):
        return AnyValue(bool_value=v)
    if isinstance(v, int):
        return AnyValue(int_value=v)
    if isinstance(v, float):
        return AnyValue(double_value=v)
    if isinstance(v, str):
        return AnyValue(string_value=v)
    if isinstance(v, bytes):
        return AnyValue(bytes_value=v)
    if isinstance(v, list):
        out = AnyValue()
        out.array_value.values.extend(value(x) for x in v)
        return out
    if isinstance(v, dict):
        out = AnyValue()
        out.kvlist_value.values.extend(attributes(v))
        return out
    raise TypeError(v)


def attributes(attrs: Mapping[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=k, value=value(v)) for k, v in attrs.items()]


def span(
    attrs: Mapping[str, Any] | None = None,
    *,
    name: str = "chat gpt-4o",
    span_id: int = 1,
    parent: int | None = None,
    trace: bytes = TRACE,
    start: int = START,
    duration_ms: float = 850.0,
    kind: int = Span.SPAN_KIND_CLIENT,
    error: str | None = None,
    events: Sequence[tuple[str, Mapping[str, Any]]] = (),
) -> Span:
    """A span; ``error`` sets an error status with that message."""
    out = Span(
        trace_id=trace,
        span_id=span_id.to_bytes(8, "big"),
        parent_span_id=b"" if parent is None else parent.to_bytes(8, "big"),
        name=name,
        kind=kind,
        start_time_unix_nano=start,
        end_time_unix_nano=start + round(duration_ms * 1_000_000),
    )
    out.attributes.extend(attributes(attrs or {}))
    for event_name, event_attrs in events:
        ev = out.events.add(name=event_name, time_unix_nano=start)
        ev.attributes.extend(attributes(event_attrs))
    if error is not None:
        out.status.CopyFrom(Status(code=Status.STATUS_CODE_ERROR, message=error))
    return out


def traces(
    *spans: Span,
    resource: Mapping[str, Any] | None = None,
    scope: str = "opentelemetry.instrumentation.openai_v2",
) -> ExportTraceServiceRequest:
    """One resource, one scope, these spans."""
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    rs.resource.attributes.extend(attributes(RESOURCE if resource is None else resource))
    ss = rs.scope_spans.add()
    ss.scope.name = scope
    ss.spans.extend(spans)
    return req


def log_record(
    body: Any = "hello",
    *,
    severity_number: int = 9,
    severity_text: str = "INFO",
    attrs: Mapping[str, Any] | None = None,
    time: int = START,
    trace: bytes = b"",
    span_id: int | None = None,
    event_name: str = "",
) -> LogRecord:
    out = LogRecord(
        time_unix_nano=time,
        severity_number=severity_number,  # type: ignore[arg-type]
        severity_text=severity_text,
        trace_id=trace,
        span_id=b"" if span_id is None else span_id.to_bytes(8, "big"),
        event_name=event_name,
    )
    if body is not None:
        out.body.CopyFrom(value(body))
    out.attributes.extend(attributes(attrs or {}))
    return out


def logs(
    *records: LogRecord, resource: Mapping[str, Any] | None = None
) -> ExportLogsServiceRequest:
    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    rl.resource.attributes.extend(attributes(RESOURCE if resource is None else resource))
    sl = rl.scope_logs.add()
    sl.scope.name = "app.logger"
    sl.log_records.extend(records)
    return req


def normalizer() -> Normalizer:
    return Normalizer(currency_rates={})
