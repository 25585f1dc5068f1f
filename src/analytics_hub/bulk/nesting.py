"""Flat columns to nested events: ``payload.data.model_id`` → ``{"payload": {"data": ...}}``.

Shared by the CSV and Parquet readers. The column layout is checked once, up front, so
that a conflict (``payload`` and ``payload.data.x`` side by side) is reported as a bad
header rather than as a confusing error on some row.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import Any

#: Leaves that are identifiers or labels: kept as text even when they look like numbers
#: (``user_id`` "007" must not become 7, a tag value must stay a string).
_TEXT_LEAVES = frozenset({"version", "schema_version", "environment", "currency", "name"})

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")


def split_columns(
    names: Sequence[str], objects: frozenset[str] = frozenset()
) -> list[tuple[str, ...]]:
    """Each column's key path; raises ``ValueError`` naming the conflicting columns.

    A column named in ``objects`` holds objects (a Parquet struct), so dotted columns
    below it are merged into its value rather than being a conflict.
    """
    paths = [tuple(part.strip() for part in name.split(".")) for name in names]
    seen: dict[tuple[str, ...], str] = {}
    for name, path in zip(names, paths, strict=True):
        if any(not part for part in path):
            raise ValueError(f"column {name!r} has an empty name or path segment")
        if path in seen:
            raise ValueError(f"column {name!r} appears twice")
        seen[path] = name
    for path, name in seen.items():
        for cut in range(1, len(path)):
            prefix = path[:cut]
            if prefix in seen and seen[prefix] not in objects:
                raise ValueError(
                    f"column {seen[prefix]!r} is a value but {name!r} uses it as an object"
                )
    return paths


def keeps_text(path: tuple[str, ...]) -> bool:
    """Whether a column holds text whatever it looks like (ids, tags, versions)."""
    leaf = path[-1]
    return path[0] == "tags" or leaf.endswith(("_id", "_ids")) or leaf in _TEXT_LEAVES


def parse_cell(text: str, *, as_text: bool) -> Any:
    """A CSV cell as its JSON value: numbers, booleans, JSON objects and arrays, text.

    ``null`` and the empty string are handled by the caller (absent). A cell that starts
    like a JSON array or object and parses as one becomes that value, so that list fields
    (``violated_rules``, ``indicators_of_compromise``) can be written in a CSV at all.
    """
    if as_text:
        return text
    stripped = text.strip()
    if _INT.fullmatch(stripped):
        return int(stripped)
    if _FLOAT.fullmatch(stripped):
        value = float(stripped)
        return value if math.isfinite(value) else text
    lowered = stripped.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if stripped[:1] in ("[", "{"):
        try:
            return json.loads(stripped)
        except ValueError:
            return text
    return text


def nest(paths: Sequence[tuple[str, ...]], values: Sequence[Any]) -> dict[str, Any]:
    """One nested object from parallel paths and values; ``None`` values are left out."""
    out: dict[str, Any] = {}
    for path, value in zip(paths, values, strict=True):
        if value is None:
            continue
        node = out
        for part in path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        leaf = path[-1]
        existing = node.get(leaf)
        if isinstance(existing, dict) and isinstance(value, dict):
            _merge(existing, value)
        else:
            node[leaf] = value
    return out


def _merge(into: dict[str, Any], other: dict[str, Any]) -> None:
    # A struct column arriving after dotted columns below it: keep both sides.
    for key, value in other.items():
        current = into.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            _merge(current, value)
        else:
            into[key] = value


__all__ = ["keeps_text", "nest", "parse_cell", "split_columns"]
