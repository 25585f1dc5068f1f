"""OTLP log records -> ``custom`` events with ``custom_type`` ``otel_log``.

The event model has no log variant, so a log record is a custom event whose data keeps
the body (as JSON: strings stay strings, maps and arrays keep their structure), the
severity as sent, the event name and the attributes. The envelope's ``severity`` is
mapped from the OTLP severity number (or, without one, from the severity text):

=================  ==============
severity_number    severity
=================  ==============
1-8  TRACE, DEBUG  debug
9-12 INFO          info
13-16 WARN         warning
17-20 ERROR        error
21-24 FATAL        critical
=================  ==============

The record's ``trace_id``/``span_id`` are kept and its ``parent_event_id`` is the event
of the span it was emitted in. Its ``event_id`` is derived from the record's content
and resource, so an exporter's retry is not counted twice (two identical records of one
resource at the same nanosecond are one event).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord

from analytics_hub.events import DEFAULT_LIMITS, CustomData, CustomPayload, Envelope, Limits
from analytics_hub.events.envelope import SeverityName
from analytics_hub.ingest.otlp.attributes import ItemProblem, index, to_json
from analytics_hub.ingest.otlp.ids import (
    SPAN_ID_BYTES,
    TRACE_ID_BYTES,
    derived_uuid,
    optional_id,
    span_event_id,
)
from analytics_hub.ingest.otlp.mapped import Mapped
from analytics_hub.ingest.otlp.options import DEFAULT_OPTIONS, OtlpOptions
from analytics_hub.ingest.otlp.resource import ResourceContext
from analytics_hub.ingest.otlp.spans import MIN_TIME_UNIX_NANO

LOG_TYPE = "otel_log"
_BY_NUMBER: tuple[tuple[int, SeverityName], ...] = (
    (8, "debug"),
    (12, "info"),
    (16, "warning"),
    (20, "error"),
    (24, "critical"),
)
_BY_TEXT: dict[str, SeverityName] = {
    "trace": "debug",
    "debug": "debug",
    "info": "info",
    "information": "info",
    "notice": "info",
    "warn": "warning",
    "warning": "warning",
    "error": "error",
    "err": "error",
    "fatal": "critical",
    "critical": "critical",
    "crit": "critical",
    "alert": "critical",
    "emergency": "critical",
}


def severity_of(number: int, text: str) -> SeverityName:
    """The envelope severity of an OTLP severity number (or, when it is 0, its text)."""
    if number > 0:
        for upper, name in _BY_NUMBER:
            if number <= upper:
                return name
        return "critical"  # beyond FATAL4: not defined, but surely not less
    word = text.strip().lower().rstrip("0123456789")
    return _BY_TEXT.get(word, "info")


def map_logs(
    request: ExportLogsServiceRequest,
    options: OtlpOptions = DEFAULT_OPTIONS,
    *,
    limits: Limits = DEFAULT_LIMITS,
    rejected: Mapping[int, tuple[str, str]] | None = None,
) -> Mapped:
    """Map every log record of ``request`` (see :func:`~.spans.map_traces`)."""
    out = Mapped()
    position = 0
    for resource_logs in request.resource_logs:
        resource = ResourceContext.of(resource_logs.resource, options, limits)
        resource_key = hashlib.blake2b(
            resource_logs.resource.SerializeToString(deterministic=True), digest_size=16
        ).digest()
        for scope_logs in resource_logs.scope_logs:
            tags = resource.scope_tags(scope_logs.scope.name, limits)
            for record in scope_logs.log_records:
                i = position
                position += 1
                try:
                    if rejected and i in rejected:
                        raise ItemProblem(*rejected[i])
                    if resource.problem is not None:
                        raise resource.problem
                    envelope = map_record(record, resource, resource_key, tags, options)
                except ItemProblem as problem:
                    out.reject(i, problem.field, problem.message, describe(record))
                    continue
                out.add(i, envelope)
    out.items = position
    return out


def map_record(
    record: LogRecord,
    resource: ResourceContext,
    resource_key: bytes,
    tags: dict[str, str],
    options: OtlpOptions,
) -> Envelope:
    """The event of one log record."""
    n = len(record.attributes)
    if n > options.max_attributes:
        raise ItemProblem(
            "attributes",
            f"the log record has {n} attributes; at most {options.max_attributes} are "
            "accepted (OtlpOptions.max_attributes)",
        )
    time = record.time_unix_nano or record.observed_time_unix_nano
    if time < MIN_TIME_UNIX_NANO:
        raise ItemProblem("time_unix_nano", "is unset (or before 1973), and so is observed_time")
    trace_id = optional_id(record.trace_id, TRACE_ID_BYTES, "trace_id")
    span_id = optional_id(record.span_id, SPAN_ID_BYTES, "span_id")
    attrs = index(record.attributes)
    data: dict[str, Any] = {}
    if record.HasField("body"):
        data["body"] = to_json(record.body)
    if record.severity_number:
        data["severity_number"] = int(record.severity_number)
    if record.severity_text:
        data["severity_text"] = record.severity_text
    if record.event_name:
        data["event_name"] = record.event_name
    if attrs:
        data["attributes"] = {key: to_json(value) for key, value in attrs.items()}
    return Envelope(
        event_id=derived_uuid(
            b"otlp-log", resource_key, record.SerializeToString(deterministic=True)
        ),
        timestamp=time,
        source_module=options.source_module,
        event_type="custom",
        severity=severity_of(int(record.severity_number), record.severity_text),
        environment=resource.environment,
        asset_id=resource.asset(options.asset_attribute, attrs),
        parent_event_id=(
            span_event_id(record.trace_id, record.span_id) if trace_id and span_id else None
        ),
        trace_id=trace_id,
        span_id=span_id,
        tags=tags,
        payload=CustomPayload(data=CustomData(custom_type=LOG_TYPE, data=data)),
    )


def describe(record: LogRecord) -> dict[str, object]:
    """A short, bounded description of a rejected log record (see ``spans.describe``)."""
    return {
        "otlp_log_record": {
            "time_unix_nano": record.time_unix_nano,
            "severity_text": record.severity_text[:64],
            "trace_id": record.trace_id[:64].hex(),
            "span_id": record.span_id[:64].hex(),
            "attributes": len(record.attributes),
        }
    }


__all__ = ["LOG_TYPE", "describe", "map_logs", "map_record", "severity_of"]
