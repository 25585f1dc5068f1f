"""A second, lean view of an OTLP/protobuf trace request, for the span mapping's hot path.

With the generated classes every ``KeyValue`` and ``AnyValue`` read from a span is a new
Python object: reading the attributes of a span cost more than everything else the
mapping does with them (measured with ``bench/otlp_mapping.py``). This module parses the
same bytes with a schema of its own in which ``Span.attributes`` (field 9) and
``Span.events`` (field 11) are ``repeated bytes``: each attribute comes out as its
encoded ``KeyValue``, and :mod:`.rawattrs` decodes only the few the mapping reads.

The request is always parsed with the real schema first, which validates it (UTF-8,
nesting, sizes). Every field this schema declares has the number and wire type of the
real one, and ``bytes`` accepts any encoded message, so whatever parsed there parses
here, with the same resources, scopes and spans in the same order. Fields left out here
(resources, scopes, links, ...) are skipped; they are read from the real message.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError

_PACKAGE = "analytics_hub.otlp.lean"
_F = descriptor_pb2.FieldDescriptorProto

# message -> (field name, number, type, repeated, message type name)
_MESSAGES: dict[str, list[tuple[str, int, int, bool, str]]] = {
    "Status": [
        ("message", 2, _F.TYPE_STRING, False, ""),
        ("code", 3, _F.TYPE_INT32, False, ""),  # an enum in the real schema: same varint
    ],
    "Span": [
        ("trace_id", 1, _F.TYPE_BYTES, False, ""),
        ("span_id", 2, _F.TYPE_BYTES, False, ""),
        ("parent_span_id", 4, _F.TYPE_BYTES, False, ""),
        ("name", 5, _F.TYPE_STRING, False, ""),
        ("kind", 6, _F.TYPE_INT32, False, ""),
        ("start_time_unix_nano", 7, _F.TYPE_FIXED64, False, ""),
        ("end_time_unix_nano", 8, _F.TYPE_FIXED64, False, ""),
        ("attributes", 9, _F.TYPE_BYTES, True, ""),  # encoded KeyValue messages
        ("events", 11, _F.TYPE_BYTES, True, ""),  # encoded Span.Event messages
        # A message, not bytes: a status sent twice merges, as in the real schema.
        ("status", 15, _F.TYPE_MESSAGE, False, "Status"),
    ],
    "ScopeSpans": [("spans", 2, _F.TYPE_MESSAGE, True, "Span")],
    "ResourceSpans": [("scope_spans", 2, _F.TYPE_MESSAGE, True, "ScopeSpans")],
    "Request": [("resource_spans", 1, _F.TYPE_MESSAGE, True, "ResourceSpans")],
}


def _request_class() -> Any:
    file = descriptor_pb2.FileDescriptorProto(
        name="analytics_hub/otlp_lean_traces.proto", package=_PACKAGE, syntax="proto3"
    )
    for name, fields in _MESSAGES.items():
        message = file.message_type.add(name=name)
        for field_name, number, type_, repeated, type_name in fields:
            field = message.field.add(
                name=field_name,
                number=number,
                type=type_,
                label=_F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL,
            )
            if type_name:
                field.type_name = f".{_PACKAGE}.{type_name}"
    pool = descriptor_pool.DescriptorPool()  # its own pool: no clash with any other
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.Request"))


LeanRequest: Any = _request_class()


def lean_view(request: Any, wire: bytes | None = None) -> Any | None:
    """The lean view of ``request`` (an ``ExportTraceServiceRequest``); ``wire`` is the
    protobuf body it was parsed from, when there was one (else it is serialised here).
    None if the bytes do not parse, which the real parse makes impossible: the caller
    then maps every span the reference way."""
    try:
        return LeanRequest.FromString(request.SerializeToString() if wire is None else wire)
    except (DecodeError, RecursionError, ValueError):
        return None


__all__ = ["LeanRequest", "lean_view"]
