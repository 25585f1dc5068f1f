"""OTLP/HTTP bodies: media types, decoding export requests, encoding export responses.

Protobuf bodies are parsed by the protobuf runtime (upb), which also bounds nesting.
OTLP/JSON differs from proto3's JSON mapping in one way that matters: trace and span
ids are hex, not base64. The JSON body is therefore parsed to Python values first, the
ids are converted, and ``json_format`` builds the message (unknown fields ignored;
enums as integers or names and 64-bit integers as strings or numbers, as proto3 JSON
allows). The same walk rejects items whose id is not hex or whose attribute lists
exceed the options before they are parsed, so a hostile body does not cost the parse.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

import msgspec
from google.protobuf import json_format
from google.protobuf.message import DecodeError as ProtobufDecodeError
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsPartialSuccess,
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsPartialSuccess,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from analytics_hub.errors import DecodeError, PayloadTooLargeError, UnsupportedMediaTypeError
from analytics_hub.ingest.otlp.options import OtlpOptions

Rejected = dict[int, tuple[str, str]]  # item index -> (field, message)
SignalName = Literal["traces", "logs", "metrics"]
_MAX_SHOWN_ERROR = 300


class OtlpEncoding(StrEnum):
    """How an OTLP/HTTP body is encoded; the response is encoded the same way."""

    PROTOBUF = "protobuf"
    JSON = "json"

    @property
    def media_type(self) -> str:
        """The ``Content-Type`` of a body in this encoding."""
        return "application/x-protobuf" if self is OtlpEncoding.PROTOBUF else "application/json"


_MEDIA_TYPES = {
    "application/x-protobuf": OtlpEncoding.PROTOBUF,
    "application/protobuf": OtlpEncoding.PROTOBUF,
    "application/json": OtlpEncoding.JSON,
}


def otlp_encoding(content_type: str | None) -> OtlpEncoding:
    """The encoding named by a ``Content-Type`` header, or ``UnsupportedMediaTypeError``."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    found = _MEDIA_TYPES.get(media)
    if found is None:
        raise UnsupportedMediaTypeError(
            f"unsupported content type {media or 'none'!r}: OTLP/HTTP bodies are "
            "application/x-protobuf or application/json"
        )
    return found


@dataclass(frozen=True, slots=True)
class _Signal:
    noun: str  # what the items are called in messages
    request: type[Message]
    resources: tuple[str, str]  # JSON names: lowerCamelCase as OTLP/JSON writes, proto name
    scopes: tuple[str, str]
    items: tuple[str, str]
    ids: tuple[tuple[str, str, str], ...]  # (JSON name, proto name, id kind)
    counted: tuple[str, ...]  # lists bounded by OtlpOptions.max_attributes
    unused: tuple[str, ...]  # fields the mapping never reads: not parsed at all


_TRACES = _Signal(
    noun="spans",
    request=ExportTraceServiceRequest,
    resources=("resourceSpans", "resource_spans"),
    scopes=("scopeSpans", "scope_spans"),
    items=("spans", "spans"),
    ids=(
        ("traceId", "trace_id", "trace"),
        ("spanId", "span_id", "span"),
        ("parentSpanId", "parent_span_id", "span"),
    ),
    counted=("attributes", "events"),
    unused=("links",),  # links carry hex ids of their own; the mapping keeps no links
)
_LOGS = _Signal(
    noun="log records",
    request=ExportLogsServiceRequest,
    resources=("resourceLogs", "resource_logs"),
    scopes=("scopeLogs", "scope_logs"),
    items=("logRecords", "log_records"),
    ids=(("traceId", "trace_id", "trace"), ("spanId", "span_id", "span")),
    counted=("attributes",),
    unused=(),
)


def decode_traces(
    body: bytes, encoding: OtlpEncoding, options: OtlpOptions
) -> tuple[ExportTraceServiceRequest, Rejected]:
    """An ``ExportTraceServiceRequest`` and the spans rejected while decoding it.

    Raises ``DecodeError`` (400) for a body that is not a request at all and
    ``PayloadTooLargeError`` (413) for more than ``options.max_items`` spans.
    """
    message, rejected = _decode(body, encoding, _TRACES, options)
    assert isinstance(message, ExportTraceServiceRequest)
    _check_count(
        sum(len(s.spans) for r in message.resource_spans for s in r.scope_spans), _TRACES, options
    )
    return message, rejected


def decode_logs(
    body: bytes, encoding: OtlpEncoding, options: OtlpOptions
) -> tuple[ExportLogsServiceRequest, Rejected]:
    """An ``ExportLogsServiceRequest`` and the log records rejected while decoding it."""
    message, rejected = _decode(body, encoding, _LOGS, options)
    assert isinstance(message, ExportLogsServiceRequest)
    _check_count(
        sum(len(s.log_records) for r in message.resource_logs for s in r.scope_logs),
        _LOGS,
        options,
    )
    return message, rejected


def export_response(
    signal: SignalName, rejected: int, error_message: str, encoding: OtlpEncoding
) -> bytes:
    """The ``Export*ServiceResponse`` body; ``partial_success`` only when something was
    rejected or there is something to say, as the OTLP specification asks."""
    response: Message
    if signal == "traces":
        response = ExportTraceServiceResponse()
        if rejected or error_message:
            response.partial_success.CopyFrom(
                ExportTracePartialSuccess(rejected_spans=rejected, error_message=error_message)
            )
    elif signal == "metrics":
        response = ExportMetricsServiceResponse()
        if rejected or error_message:
            response.partial_success.CopyFrom(
                ExportMetricsPartialSuccess(
                    rejected_data_points=rejected, error_message=error_message
                )
            )
    else:
        response = ExportLogsServiceResponse()
        if rejected or error_message:
            response.partial_success.CopyFrom(
                ExportLogsPartialSuccess(rejected_log_records=rejected, error_message=error_message)
            )
    if encoding is OtlpEncoding.PROTOBUF:
        return bytes(response.SerializeToString())
    return msgspec.json.encode(json_format.MessageToDict(response))


# --- internals -----------------------------------------------------------------------


def _decode(
    body: bytes, encoding: OtlpEncoding, signal: _Signal, options: OtlpOptions
) -> tuple[Message, Rejected]:
    message = signal.request()
    rejected = decode_into(message, body, encoding, lambda doc: _prepare(doc, signal, options))
    return message, rejected


def decode_into(
    message: Message,
    body: bytes,
    encoding: OtlpEncoding,
    prepare: Callable[[dict[str, Any]], Rejected],
) -> Rejected:
    """Parse ``body`` into ``message``; for OTLP/JSON, ``prepare`` first walks the parsed
    document (converting or stripping what the parse must not see) and returns the items
    it rejected. Raises ``DecodeError`` (400) for a body that is not such a message."""
    name = type(message).__name__
    if encoding is OtlpEncoding.PROTOBUF:
        try:
            message.ParseFromString(body)
        except (ProtobufDecodeError, RecursionError, ValueError) as exc:
            raise DecodeError(f"the body is not a valid {name} protobuf message: {exc}") from None
        return {}
    try:
        doc = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise DecodeError(f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise DecodeError("the body nests too deeply to decode") from None
    if not isinstance(doc, dict):
        raise DecodeError(f"an OTLP/JSON body is a JSON object (an {name})")
    rejected = prepare(doc)
    try:
        json_format.ParseDict(doc, message, ignore_unknown_fields=True)
    except (json_format.ParseError, RecursionError, ValueError, TypeError) as exc:
        shown = str(exc)
        if len(shown) > _MAX_SHOWN_ERROR:
            shown = shown[: _MAX_SHOWN_ERROR - 3] + "..."
        raise DecodeError(f"the body is not a valid OTLP/JSON {name}: {shown}") from None
    return rejected


def children(parent: Any, names: tuple[str, str]) -> Iterator[Any]:
    """The items of the list ``parent`` holds under the first of ``names`` (OTLP/JSON's
    lowerCamelCase name, then the proto name); none when it holds no such list."""
    if isinstance(parent, dict):
        for name in names:
            found = parent.get(name)
            if isinstance(found, list):
                yield from found
                return


def _prepare(doc: dict[str, Any], signal: _Signal, options: OtlpOptions) -> Rejected:
    """Convert hex ids in place; strip and reject items over the attribute limits."""
    rejected: Rejected = {}
    position = 0
    for resource_entry in children(doc, signal.resources):
        problem = strip_resource(resource_entry, options)
        for scope_entry in children(resource_entry, signal.scopes):
            for item in children(scope_entry, signal.items):
                position += 1
                _check_count(position, signal, options)
                if isinstance(item, dict):
                    found = _prepare_item(item, signal, options)  # always: ids must parse
                    reason = problem or found
                    if reason is not None:
                        rejected[position - 1] = reason
    return rejected


def strip_resource(entry: Any, options: OtlpOptions) -> tuple[str, str] | None:
    """Empty the attributes of a resource entry that has more than the options allow;
    the reason every item of the resource is rejected with, else None."""
    resource = entry.get("resource") if isinstance(entry, dict) else None
    attributes = resource.get("attributes") if isinstance(resource, dict) else None
    if isinstance(attributes, list) and len(attributes) > options.max_attributes:
        assert isinstance(resource, dict)
        resource["attributes"] = []  # every item of the resource is rejected: skip the parse
        return (
            "resource.attributes",
            f"the resource has {len(attributes)} attributes; at most "
            f"{options.max_attributes} are accepted (OtlpOptions.max_attributes)",
        )
    return None


def _prepare_item(
    item: dict[str, Any], signal: _Signal, options: OtlpOptions
) -> tuple[str, str] | None:
    problem: tuple[str, str] | None = None
    for name in signal.unused:
        item.pop(name, None)
    for name in signal.counted:
        values = item.get(name)
        if isinstance(values, list) and len(values) > options.max_attributes:
            item[name] = []
            problem = problem or (
                name,
                f"{len(values)} {name}; at most {options.max_attributes} are accepted "
                "(OtlpOptions.max_attributes)",
            )
    for json_name, proto_name, kind in signal.ids:
        for name in (json_name, proto_name):
            value = item.get(name)
            if not isinstance(value, str) or not value:
                continue  # absent or empty; another type fails the parse with a message
            try:
                item[name] = base64.b64encode(bytes.fromhex(value)).decode("ascii")
            except ValueError:
                item[name] = ""
                digits = 32 if kind == "trace" else 16
                problem = problem or (
                    proto_name,
                    f"{value[:40]!r} is not hex: OTLP/JSON writes a {kind} id as "
                    f"{digits} hex digits",
                )
    return problem


def _check_count(n: int, signal: _Signal, options: OtlpOptions) -> None:
    if n > options.max_items:
        raise PayloadTooLargeError(
            f"more than {options.max_items} {signal.noun} in one request; send smaller "
            "batches (for the SDK's batch processor: OTEL_BSP_MAX_EXPORT_BATCH_SIZE)"
        )


__all__ = [
    "OtlpEncoding",
    "Rejected",
    "SignalName",
    "children",
    "decode_into",
    "decode_logs",
    "decode_traces",
    "export_response",
    "otlp_encoding",
    "strip_resource",
]
