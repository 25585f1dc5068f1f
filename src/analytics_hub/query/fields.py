"""The catalogue of fields a query may name, and the resolution of a name to a field.

A query names fields by their public name (``timestamp``, ``model_id``, ``tags.team``,
``payload.threat_type``). Resolution is the only door from user text to the store: a
name either matches the catalogue (whose column names are our own constants) or one of
two strict patterns for JSON paths (whose path travels as a bound parameter), or it is
rejected with a :class:`~analytics_hub.errors.ValidationError` that names it. Nothing a
user types is ever pasted into SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from analytics_hub.errors import ValidationError
from analytics_hub.events.columns import COLUMNS_BY_NAME, ROLLUP_DIMENSIONS, LogicalType

FieldKind = Literal["string", "uuid", "timestamp", "int", "float", "severity", "json"]
Op = Literal["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "contains", "starts_with"]

_EQUALITY: frozenset[Op] = frozenset({"eq", "ne", "in", "not_in"})
_ORDER: frozenset[Op] = frozenset({"gt", "gte", "lt", "lte"})
_TEXT: frozenset[Op] = frozenset({"contains", "starts_with"})

#: which operators each kind of field accepts
OPS_BY_KIND: dict[FieldKind, frozenset[Op]] = {
    "string": _EQUALITY | _TEXT,
    "uuid": _EQUALITY,
    "timestamp": _EQUALITY | _ORDER,
    "int": _EQUALITY | _ORDER,
    "float": _EQUALITY | _ORDER,
    # severities are ordered (debug < ... < critical): gt/gte compare their level
    "severity": _EQUALITY | _ORDER,
    "json": _EQUALITY | _ORDER | _TEXT,
}

_KIND_OF_TYPE: dict[LogicalType, FieldKind] = {
    "string": "string",
    "uuid": "uuid",
    "timestamp": "timestamp",
    "int64": "int",
    "int16": "int",
    "float64": "float",
    "json": "json",
}

#: public name -> stored column. Only these columns are reachable by name; the tenant,
#: the dedupe time and the raw JSON blobs are not (tags and payload via their paths).
_PUBLIC_COLUMNS: dict[str, str] = {
    "timestamp": "ts",
    "received_at": "received_at",
    "event_id": "event_id",
    "source_module": "source_module",
    "event_type": "event_type",
    "severity": "severity",
    "environment": "environment",
    "asset_id": "asset_id",
    "correlation_id": "correlation_id",
    "parent_event_id": "parent_event_id",
    "trace_id": "trace_id",
    "span_id": "span_id",
    "schema_version": "schema_version",
    "payload_type": "payload_type",
    "payload_subtype": "payload_subtype",
    "model_id": "model_id",
    "provider": "provider",
    "operation": "operation",
    "input_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "cached_input_tokens": "cached_input_tokens",
    "reasoning_tokens": "reasoning_tokens",
    "total_tokens": "total_tokens",
    "latency_ms": "latency_ms",
    "ttft_ms": "ttft_ms",
    "cost_usd": "cost_usd",
    "cost_source": "cost_source",
    "status": "status",
    "error_type": "error_type",
    "user_id": "user_id",
    "session_id": "session_id",
    "request_id": "request_id",
}

# ASCII only, anchored with fullmatch: look-alike letters, quotes, spaces, semicolons and
# trailing newlines all fail here before any lookup happens.
_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")
_TAG_RE = re.compile(r"tags\.([A-Za-z0-9_][A-Za-z0-9_.:/-]{0,127})")
_PAYLOAD_SEGMENT = r"(?:[A-Za-z_][A-Za-z0-9_]{0,63}|[0-9]{1,6})"
_PAYLOAD_RE = re.compile(rf"payload((?:\.{_PAYLOAD_SEGMENT}){{1,16}})")
_MAX_NAME_LENGTH = 256


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """A resolved field: how to read it and what may be done with it.

    ``column`` is the stored column (a trusted constant). For ``tags.*`` and
    ``payload.*`` it is the JSON column and ``json_path`` is the JSONPath to bind as a
    parameter. ``rollup_dimension`` says the rollup tables carry the column.
    """

    name: str
    kind: FieldKind
    column: str
    json_path: str | None = None
    rollup_dimension: bool = False
    doc: str = ""

    @property
    def ops(self) -> frozenset[Op]:
        """The operators this field accepts."""
        return OPS_BY_KIND[self.kind]

    @property
    def numeric(self) -> bool:
        """True for fields that sum/avg/min/max/percentiles apply to."""
        return self.kind in ("int", "float", "json")


def _column_field(name: str, column: str) -> FieldSpec:
    col = COLUMNS_BY_NAME[column]
    kind: FieldKind = "severity" if column == "severity" else _KIND_OF_TYPE[col.type]
    return FieldSpec(
        name=name,
        kind=kind,
        column=column,
        rollup_dimension=column in ROLLUP_DIMENSIONS and column != "tenant_id",
        doc=col.doc,
    )


#: every named field, by public name
CATALOGUE: dict[str, FieldSpec] = {
    name: _column_field(name, column) for name, column in _PUBLIC_COLUMNS.items()
}

#: rollup measures that count the rows of one ``field eq value`` filter; a count under
#: such a filter is still answerable from rollups although the field is no dimension
INDICATOR_MEASURES: dict[tuple[str, str], str] = {
    ("cost_source", "unpriced"): "unpriced",
    ("status", "error"): "errors",
}


def _shown(name: str) -> str:
    """A user-supplied name made safe to echo back in a message (bounded, repr-quoted)."""
    return repr(name if len(name) <= 80 else name[:77] + "...")


def known_fields_text() -> str:
    """The list of field names an error message offers."""
    return ", ".join([*CATALOGUE, "tags.<key>", "payload.<path>"])


def resolve_field(name: str) -> FieldSpec:
    """Resolve a public field name, or raise ``ValidationError`` naming it."""
    if not isinstance(name, str) or not name or len(name) > _MAX_NAME_LENGTH:
        raise ValidationError(f"invalid field name {_shown(str(name))}")
    if not name.isascii():
        raise ValidationError(f"invalid field name {_shown(name)}: only ASCII names are allowed")
    spec = CATALOGUE.get(name)
    if spec is not None:
        return spec
    if name == "tenant_id":
        raise ValidationError(
            "field 'tenant_id' cannot be queried: the tenant comes from the credential"
        )
    if name.startswith("tags."):
        m = _TAG_RE.fullmatch(name)
        if m is None:
            raise ValidationError(
                f"invalid field name {_shown(name)}: a tag key is 1-128 characters of "
                "letters, digits and _ . : / -"
            )
        # The key is quoted inside the JSONPath so that dots in it stay part of the key;
        # the regex keeps quotes and backslashes out, and the path is bound as a parameter.
        return FieldSpec(name=name, kind="string", column="tags", json_path=f'$."{m.group(1)}"')
    if name.startswith("payload."):
        m = _PAYLOAD_RE.fullmatch(name)
        if m is None:
            raise ValidationError(
                f"invalid field name {_shown(name)}: a payload path is 1-16 dot-separated "
                "identifiers or array indexes, e.g. payload.threat_type"
            )
        return FieldSpec(name=name, kind="json", column="payload", json_path=_json_path(m.group(1)))
    if _NAME_RE.fullmatch(name) is None:
        raise ValidationError(
            f"invalid field name {_shown(name)}: names are lower-case letters, digits and _"
        )
    raise ValidationError(f"unknown field {_shown(name)}; known fields: {known_fields_text()}")


def _json_path(dotted: str) -> str:
    """``.a.0.b`` -> ``$.a[0].b``."""
    parts = []
    for segment in dotted.strip(".").split("."):
        parts.append(f"[{int(segment)}]" if segment.isdigit() else f".{segment}")
    return "$" + "".join(parts)


__all__ = [
    "CATALOGUE",
    "INDICATOR_MEASURES",
    "OPS_BY_KIND",
    "FieldKind",
    "FieldSpec",
    "Op",
    "known_fields_text",
    "resolve_field",
]
