"""Size limits of an event, and the checks that msgspec cannot do while decoding.

The string, list and tag ceilings of :data:`DEFAULT_LIMITS` are compiled into the wire
types (:mod:`analytics_hub.events.fields`), so msgspec enforces them in C while it
decodes, and they are published in the JSON Schema. A :class:`Limits` may *tighten*
those ceilings: the normaliser then runs :func:`tightened_violation` over each event, a
Python walk that costs throughput, so only do it when you need it. It may not loosen
them (the decoder would still reject what it cannot hold).

``max_payload_bytes`` (the encoded, normalised ``payload.data``) and ``max_depth`` (the
nesting of objects and arrays, the event object being depth 1) are always checked here.
Only the free-form JSON fields (custom ``data``, audit ``changes``, lifecycle
``attributes``) can nest deeper than the fixed structure, so only they are walked.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from functools import cache
from typing import Any

import msgspec
import msgspec.inspect as mi


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-event limits; each violation is a per-event error naming the field."""

    max_id_length: int = 256  # ids, names, labels (characters)
    max_text_length: int = 8192  # free text: descriptions, reasons, user agents
    max_tags: int = 64
    max_tag_key_length: int = 64
    max_tag_value_length: int = 256
    max_list_items: int = 1000  # items of any list field
    max_payload_bytes: int = 64 * 1024  # encoded normalised payload.data
    max_depth: int = 16  # nesting of objects/arrays; the event object is depth 1


DEFAULT_LIMITS = Limits()

# The Limits fields compiled into the wire types; msgspec's ``Meta.extra`` marks each
# constrained type with the Limits field that governs it.
COMPILED: tuple[str, ...] = (
    "max_id_length",
    "max_text_length",
    "max_tags",
    "max_tag_key_length",
    "max_tag_value_length",
    "max_list_items",
)


def check_limits(limits: Limits) -> bool:
    """Validate ``limits``; return True when they tighten a compiled ceiling.

    Raises ``ValueError`` for a non-positive value or a compiled ceiling raised above
    its default.
    """
    tightened = False
    for f in fields(limits):
        value = getattr(limits, f.name)
        if not isinstance(value, int) or value <= 0:
            raise ValueError(f"Limits.{f.name} must be a positive integer, got {value!r}")
        if f.name in COMPILED:
            default = getattr(DEFAULT_LIMITS, f.name)
            if value > default:
                raise ValueError(
                    f"Limits.{f.name} cannot exceed {default}: that ceiling is compiled "
                    "into the event types (see analytics_hub.events.fields)"
                )
            tightened = tightened or value < default
    return tightened


def depth_of(value: Any) -> int:
    """Nesting depth of a JSON value: 0 for a scalar, 1 for a flat object or array."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:  # iterative: a hostile value may nest hundreds of levels
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children)
    return deepest


# --- the walk for tightened limits (slow path, only when configured) -----------------


def tightened_violation(event: msgspec.Struct, limits: Limits) -> tuple[str, str] | None:
    """The first ``(field path, message)`` of ``event`` breaking a tightened limit."""
    info = _info(type(event))
    for path, message in _walk(event, info, "", limits):
        return path, message
    return None


@cache
def _info(cls: type) -> mi.Type:
    return mi.type_info(cls)


def _governing(t: mi.Type) -> tuple[str | None, mi.Type]:
    if isinstance(t, mi.Metadata):
        extra = t.extra or {}
        return extra.get("limit"), t.type
    return None, t


def _walk(value: Any, t: mi.Type, path: str, limits: Limits) -> Iterator[tuple[str, str]]:
    limit_name, t = _governing(t)
    if value is None:
        return
    if limit_name is not None:
        bound = getattr(limits, limit_name)
        if len(value) > bound:
            yield path, _too_long(value, bound, limit_name)
            return
    if isinstance(t, mi.UnionType):
        for member in t.types:
            if _matches(value, member):
                yield from _walk(value, member, path, limits)
                return
    elif isinstance(t, mi.StructType):
        for f in t.fields:
            sub = f"{path}.{f.encode_name}" if path else f.encode_name
            yield from _walk(getattr(value, f.name), f.type, sub, limits)
    elif isinstance(t, mi.ListType):
        for i, item in enumerate(value):
            yield from _walk(item, t.item_type, f"{path}[{i}]", limits)
    elif isinstance(t, mi.DictType):
        for key, item in value.items():
            yield from _walk(key, t.key_type, f"{path}.{key}", limits)
            yield from _walk(item, t.value_type, f"{path}.{key}", limits)


def _matches(value: Any, t: mi.Type) -> bool:
    _, t = _governing(t)
    if isinstance(t, mi.StructType):
        return isinstance(value, t.cls)
    if isinstance(t, mi.StrType | mi.LiteralType):
        return isinstance(value, str)
    if isinstance(t, mi.ListType):
        return isinstance(value, list)
    if isinstance(t, mi.DictType):
        return isinstance(value, dict)
    return False


def _too_long(value: Any, bound: int, limit_name: str) -> str:
    if isinstance(value, str):
        return f"longer than {bound} characters (Limits.{limit_name})"
    return f"more than {bound} items (Limits.{limit_name})"


__all__ = ["COMPILED", "DEFAULT_LIMITS", "Limits", "check_limits", "depth_of"]
