"""OTLP attribute values: reading the few the mapping needs, and converting values to JSON.

Spans carry many attributes and the mapping reads a dozen of them, so attributes are
indexed once (key -> ``AnyValue``) and only the values that are read get converted.
A value of the wrong kind for what it feeds (text where a token count belongs) is an
:class:`ItemProblem`: its span or log record is rejected with the attribute's name,
never the whole request.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from analytics_hub.events import Limits
from analytics_hub.events.fields import TAG_KEY_PATTERN

Attributes = Mapping[str, AnyValue]

# Deeper values are refused before the normaliser sees them: converting them is the only
# recursion in the mapping, and the normaliser's depth limit is far below this anyway.
MAX_VALUE_DEPTH = 64
_TAG_KEY = re.compile(TAG_KEY_PATTERN)
_SCALARS = ("string_value", "bool_value", "int_value", "double_value")


class ItemProblem(Exception):
    """One span or log record cannot be mapped; ``field`` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def index(kvs: Iterable[KeyValue]) -> dict[str, AnyValue]:
    """Attributes by key (a repeated key: the last one wins, as in the OTel SDKs)."""
    return {kv.key: kv.value for kv in kvs}


def scalar(value: AnyValue) -> str | bool | int | float | None:
    """The value of a string, bool, int or double ``AnyValue``; None for other kinds."""
    kind = value.WhichOneof("value")
    if kind in _SCALARS:
        found: str | bool | int | float = getattr(value, kind)
        return found
    return None


def text(attrs: Attributes, keys: Iterable[str]) -> str | None:
    """The first of ``keys`` present with a scalar value, as text."""
    for key in keys:
        value = attrs.get(key)
        if value is None:
            continue
        found = scalar(value)
        if isinstance(found, bool):
            return "true" if found else "false"
        if found is not None:
            return str(found)
    return None


def first_text(attrs: Attributes, keys: Iterable[str]) -> str | None:
    """Like :func:`text`, but an array value gives its first scalar element."""
    for key in keys:
        value = attrs.get(key)
        if value is None:
            continue
        if value.WhichOneof("value") == "array_value":
            for item in value.array_value.values:
                found = scalar(item)
                if found is not None:
                    return str(found)
            continue
        found = text({key: value}, (key,))
        if found is not None:
            return found
    return None


def count(attrs: Attributes, keys: Iterable[str]) -> int | None:
    """The first of ``keys`` present, as a whole number >= 0 (token counts)."""
    for key in keys:
        value = attrs.get(key)
        if value is not None:
            return _whole(key, value)
    return None


def number(attrs: Attributes, keys: Iterable[str]) -> float | None:
    """The first of ``keys`` present, as a finite number >= 0 (seconds, dollars)."""
    for key in keys:
        value = attrs.get(key)
        if value is None:
            continue
        found = scalar(value)
        if isinstance(found, str):
            found = _parse_float(found)
        if isinstance(found, bool) or not isinstance(found, int | float):
            raise ItemProblem(f"attributes.{key}", f"must be a number, got {_shown(value)}")
        if not math.isfinite(found) or found < 0:
            raise ItemProblem(f"attributes.{key}", f"must be a number >= 0, got {found!r}")
        return float(found)
    return None


def to_json(value: AnyValue, depth: int = 0) -> Any:
    """An ``AnyValue`` as a JSON value (bytes as base64 text, as OTLP/JSON writes them).

    Raises :class:`ItemProblem` past :data:`MAX_VALUE_DEPTH` levels of nesting.
    """
    if depth > MAX_VALUE_DEPTH:
        raise ItemProblem("attributes", f"a value nests more than {MAX_VALUE_DEPTH} levels")
    kind = value.WhichOneof("value")
    if kind == "double_value":
        number_ = value.double_value
        return number_ if math.isfinite(number_) else str(number_)  # JSON has no NaN
    if kind in _SCALARS:
        return getattr(value, kind)
    if kind == "array_value":
        return [to_json(item, depth + 1) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: to_json(kv.value, depth + 1) for kv in value.kvlist_value.values}
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    return None  # an empty AnyValue


def resource_tags(
    kvs: Iterable[KeyValue], *, skip: frozenset[str], first: str, limits: Limits
) -> dict[str, str]:
    """The scalar resource attributes usable as tags, attribute ``first`` leading.

    Tags are low-cardinality labels: ``skip`` names attributes that change with every
    process, and attributes whose key or value would break a tag limit are left out
    rather than failing every span of the resource. At most ``limits.max_tags - 1``
    tags, keeping one for the instrumentation scope.
    """
    candidates: dict[str, str] = {}
    for kv in kvs:
        if kv.key in skip:
            continue
        found = scalar(kv.value)
        if found is None:
            continue
        value = ("true" if found else "false") if isinstance(found, bool) else str(found)
        key = kv.key
        if (
            len(key) <= limits.max_tag_key_length
            and len(value) <= limits.max_tag_value_length
            and _TAG_KEY.fullmatch(key)
        ):
            candidates[key] = value
    room = limits.max_tags - 1
    tags: dict[str, str] = {}
    if first in candidates:
        tags[first] = candidates[first]
    for key, value in candidates.items():
        if len(tags) >= room:
            break
        tags.setdefault(key, value)
    return tags


def _whole(key: str, value: AnyValue) -> int:
    found = scalar(value)
    if isinstance(found, str):
        found = _parse_float(found.strip())
    if isinstance(found, float) and math.isfinite(found) and found.is_integer():
        found = int(found)
    if isinstance(found, bool) or not isinstance(found, int):
        raise ItemProblem(f"attributes.{key}", f"must be a whole number, got {_shown(value)}")
    if found < 0:
        raise ItemProblem(f"attributes.{key}", f"must be >= 0, got {found}")
    return found


def _parse_float(raw: str) -> float | str:
    try:
        return float(raw)
    except ValueError:
        return raw


def _shown(value: AnyValue) -> str:
    found = scalar(value)
    if found is None:
        return f"a {value.WhichOneof('value') or 'empty'} value"
    shown = repr(found)
    return shown if len(shown) <= 60 else shown[:57] + "..."


__all__ = [
    "MAX_VALUE_DEPTH",
    "Attributes",
    "ItemProblem",
    "count",
    "first_text",
    "index",
    "number",
    "resource_tags",
    "scalar",
    "text",
    "to_json",
]
