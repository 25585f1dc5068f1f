"""Turning msgspec's validation errors into ``(field path, message)`` pairs.

msgspec reports ``<message> - at `$.payload.data.input_tokens` ``. The hub reports the
dotted path without ``$`` (``payload.data.input_tokens``; list items as ``[2]``), a
missing field by its own path, and rewrites the few messages that would puzzle an
emitter. Tags are re-checked in Python to name the offending key (``tags.team``), which
msgspec does not report.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from analytics_hub.events.cost import CostData
from analytics_hub.events.envelope import PAYLOAD_TYPES
from analytics_hub.events.fields import TAG_KEY_PATTERN
from analytics_hub.events.governance import GovernanceData
from analytics_hub.events.lifecycle import LifecycleData
from analytics_hub.events.limits import Limits
from analytics_hub.events.security import SecurityData
from analytics_hub.events.telemetry import TelemetryData
from analytics_hub.events.timestamps import naive_message

_AT = re.compile(r"^(?P<msg>.*?) - at (?:`key` in )?`(?P<path>\$[^`]*)`$", re.DOTALL)
_MISSING = re.compile(r"^Object missing required field `(?P<name>[^`]+)`$")
_TAG_KEY = re.compile(TAG_KEY_PATTERN)


def _subtypes(union: Any) -> str:
    members = getattr(union, "__args__", (union,))
    return ", ".join(repr(m.__struct_config__.tag) for m in members)


_SUBTYPES = {
    "telemetry_type": _subtypes(TelemetryData),
    "security_type": _subtypes(SecurityData),
    "cost_type": _subtypes(CostData),
    "governance_type": _subtypes(GovernanceData),
    "lifecycle_type": _subtypes(LifecycleData),
}


def dotted(path: str) -> str:
    """``$.a.b[0]`` -> ``a.b[0]``; a map value ``$.m[...]`` -> ``m.*``."""
    return path.removeprefix("$").removeprefix(".").replace("[...]", ".*")


def from_validation_error(exc: msgspec.ValidationError) -> tuple[str, str]:
    """The ``(field, message)`` of one msgspec validation error."""
    text = str(exc)
    m = _AT.match(text)
    message, field = (m["msg"], dotted(m["path"])) if m else (text, "")
    missing = _MISSING.match(message)
    if missing:
        name = missing["name"]
        return (f"{field}.{name}" if field else name), "required field is missing"
    return field, _rewrite(field, message)


def _rewrite(field: str, message: str) -> str:
    last = field.rsplit(".", 1)[-1]
    if message == "Number out of range":
        return "number out of range (numbers must be finite: no NaN or infinity)"
    if "with a timezone component" in message:
        return naive_message()
    if field == "timestamp" and (message.startswith("Invalid RFC3339") or "got `" in message):
        return (
            "timestamp must be RFC 3339 text with an offset or an epoch number "
            f"(s, ms, µs or ns): {message}"
        )
    if message.startswith("Invalid value") and last == "payload_type":
        return f"{message}: payload_type must be one of {', '.join(map(repr, PAYLOAD_TYPES))}"
    if message.startswith("Invalid value") and last in _SUBTYPES:
        return f"{message}: {last} must be one of {_SUBTYPES[last]}"
    if message.startswith("Expected `object`") and field == "":
        return f"each event must be a JSON object: {message}"
    return message


def tag_problem(key: Any, value: Any, limits: Limits) -> str | None:
    """What is wrong with one tag, or None."""
    if not isinstance(key, str) or not key:
        return "tag keys must be non-empty strings"
    if len(key) > limits.max_tag_key_length:
        return f"tag key longer than {limits.max_tag_key_length} characters"
    if not _TAG_KEY.fullmatch(key):
        return (
            "tag keys start with a letter or '_' and contain only letters, digits "
            "and '_', '.', ':', '/', '-'"
        )
    if not isinstance(value, str):
        return f"tag values must be strings, got {type(value).__name__}"
    if len(value) > limits.max_tag_value_length:
        return f"tag value longer than {limits.max_tag_value_length} characters"
    return None


def tags_error(tags: Any, limits: Limits) -> tuple[str, str] | None:
    """The first problem of a ``tags`` value decoded as plain JSON, or None."""
    if not isinstance(tags, dict):
        return "tags", f"tags must be an object of string labels, got {type(tags).__name__}"
    if len(tags) > limits.max_tags:
        return "tags", f"{len(tags)} tags; at most {limits.max_tags} are allowed"
    for key, value in tags.items():
        problem = tag_problem(key, value, limits)
        if problem:
            return f"tags.{key}", problem
    return None


def refine_tags(raw: bytes, fallback: tuple[str, str], limits: Limits) -> tuple[str, str]:
    """Name the tag behind a msgspec error about ``tags`` (msgspec does not)."""
    try:
        event = msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        return fallback
    if isinstance(event, dict) and "tags" in event:
        return tags_error(event["tags"], limits) or fallback
    return fallback


__all__ = ["dotted", "from_validation_error", "refine_tags", "tag_problem", "tags_error"]
