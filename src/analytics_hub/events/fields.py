"""Constrained field types shared by the envelope and every payload variant.

Constraints that msgspec checks cheaply in C (lengths, numeric ranges, enums) are
compiled in here from :data:`~analytics_hub.events.limits.DEFAULT_LIMITS`. Regular
expressions are *not*: a msgspec ``pattern`` costs a Python ``re`` call per value, so
patterned fields (UUIDs, trace ids, slugs, versions, tag keys) carry their pattern in
the JSON Schema only and are checked batch-wise after decoding (``ids``, ``modules``,
``normalize``), with the same pattern constants as below.

JSON numbers that overflow a double (``1e400``) are rejected by msgspec itself ("number
out of range"), so no float can be infinite or NaN after decoding.
"""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta

from analytics_hub.events.limits import DEFAULT_LIMITS as _D

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
TRACE_ID_PATTERN = r"^(?:[0-9a-fA-F]{16}|[0-9a-fA-F]{32})$"
SPAN_ID_PATTERN = r"^[0-9a-fA-F]{16}$"
SLUG_PATTERN = r"^[a-z][a-z0-9]*(?:[-_.][a-z0-9]+)*$"
SEMVER_PATTERN = r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:[-+][0-9A-Za-z.+-]+)?$"
TAG_KEY_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.:/-]*$"
MAX_COUNT = 2**53 - 1  # largest integer every JSON consumer reads exactly

Id = Annotated[
    str,
    Meta(max_length=_D.max_id_length, extra={"limit": "max_id_length"}),
]
"""An identifier, name or short label."""

Key = Annotated[
    str,
    Meta(min_length=1, max_length=_D.max_id_length, extra={"limit": "max_id_length"}),
]
"""An identifier that must not be empty (model, provider, primary ids)."""

Text = Annotated[
    str,
    Meta(max_length=_D.max_text_length, extra={"limit": "max_text_length"}),
]
"""Free text: descriptions, reasons, user agents."""

Count = Annotated[int, Meta(ge=0, le=MAX_COUNT)]
Millis = Annotated[float, Meta(ge=0, description="milliseconds")]
Money = Annotated[float, Meta(ge=0)]
NonNegative = Annotated[float, Meta(ge=0)]
Fraction = Annotated[float, Meta(ge=0, le=1)]
Percent = Annotated[float, Meta(ge=0, le=100)]

Currency = Annotated[
    str,
    Meta(
        min_length=3,
        max_length=3,
        description="ISO 4217 code; converted to USD with the hub's rate table",
        extra_json_schema={"pattern": "^[A-Za-z]{3}$"},
    ),
]

IdList = Annotated[
    list[Id],
    Meta(max_length=_D.max_list_items, extra={"limit": "max_list_items"}),
]

_ITEMS = Meta(max_length=_D.max_list_items, extra={"limit": "max_list_items"})
CountMap = Annotated[dict[Id, Count], _ITEMS]
NumberMap = Annotated[dict[Id, float], _ITEMS]
JsonMap = Annotated[dict[Id, Any], _ITEMS]
"""An object of free-form JSON values; depth-checked and size-checked with the payload."""

Json = Any
"""Any JSON value; depth-checked (``Limits.max_depth``) and size-checked with the payload."""

UuidText = Annotated[
    str,
    Meta(max_length=36, extra_json_schema={"format": "uuid", "pattern": UUID_PATTERN}),
]
TraceId = Annotated[str, Meta(max_length=32, extra_json_schema={"pattern": TRACE_ID_PATTERN})]
SpanId = Annotated[str, Meta(max_length=16, extra_json_schema={"pattern": SPAN_ID_PATTERN})]
Slug = Annotated[
    str,
    Meta(min_length=1, max_length=64, extra_json_schema={"pattern": SLUG_PATTERN}),
]
SemVer = Annotated[str, Meta(max_length=64, extra_json_schema={"pattern": SEMVER_PATTERN})]

TagKey = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=_D.max_tag_key_length,
        extra={"limit": "max_tag_key_length"},
        extra_json_schema={"pattern": TAG_KEY_PATTERN},
    ),
]
TagValue = Annotated[
    str,
    Meta(max_length=_D.max_tag_value_length, extra={"limit": "max_tag_value_length"}),
]
Tags = Annotated[
    dict[TagKey, TagValue],
    Meta(
        max_length=_D.max_tags,
        extra={"limit": "max_tags"},
        description="low-cardinality labels (no ids or numbers)",
    ),
]

__all__ = [
    "MAX_COUNT",
    "SEMVER_PATTERN",
    "SLUG_PATTERN",
    "SPAN_ID_PATTERN",
    "TAG_KEY_PATTERN",
    "TRACE_ID_PATTERN",
    "UUID_PATTERN",
    "Count",
    "CountMap",
    "Currency",
    "Fraction",
    "Id",
    "IdList",
    "Json",
    "JsonMap",
    "Key",
    "Millis",
    "Money",
    "NonNegative",
    "NumberMap",
    "Percent",
    "SemVer",
    "Slug",
    "SpanId",
    "Tags",
    "Text",
    "TraceId",
    "UuidText",
]
