"""The messages of ``GET /api/v1/stream`` and the close codes (``docs/api/stream.md``).

Client messages are decoded strictly (msgspec, a tagged union on ``type``); filters take
either form the query API knows: ``{"field", "op", "value"}`` objects, or the
``field:op:value`` strings of ``GET /api/v1/events``, parsed by the same function.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
from pydantic import ValidationError as PydanticValidationError

from analytics_hub.api.rest.query import parse_filter
from analytics_hub.errors import (
    AuthenticationError,
    BackpressureError,
    HubError,
    PermissionDeniedError,
    ValidationError,
)
from analytics_hub.query import Filter
from analytics_hub.query.live import LiveFilter, LiveSpec
from analytics_hub.query.render import rfc3339

#: a bad message or filter
CLOSE_INVALID = 4400
#: no key, an unknown or revoked key, or no ``auth`` message in time
CLOSE_UNAUTHENTICATED = 4401
#: the key's role may not read
CLOSE_FORBIDDEN = 4403
#: all live connections are taken (the standard "try again later")
CLOSE_TRY_AGAIN = 1013
#: the hub failed (the standard "internal error")
CLOSE_INTERNAL = 1011

#: largest client message, in bytes (50 filters of 1,000 values fit easily)
MAX_CLIENT_MESSAGE = 1024 * 1024
#: a close frame's reason is at most 123 bytes of UTF-8
_MAX_REASON = 123

_encoder = msgspec.json.Encoder()


class Auth(msgspec.Struct, tag="auth", tag_field="type", forbid_unknown_fields=True):
    """``{"type": "auth", "key": "hub_..."}``: the first message when no header carried a key."""

    key: str


class Subscribe(msgspec.Struct, tag="subscribe", tag_field="type", forbid_unknown_fields=True):
    """``{"type": "subscribe", "filters": [...], "events": true, "metrics": false,
    "anomalies": false}``."""

    filters: list[Any] = msgspec.field(default_factory=list)
    events: bool = True
    metrics: bool = False
    anomalies: bool = False


class Ping(msgspec.Struct, tag="ping", tag_field="type", forbid_unknown_fields=True):
    """``{"type": "ping"}``: answered with ``pong`` and the server's time."""


ClientMessage = Auth | Subscribe | Ping
_decoder = msgspec.json.Decoder(ClientMessage)


def decode(data: str | bytes) -> ClientMessage:
    """One client message, or ``ValidationError`` saying what is wrong with it."""
    if len(data) > MAX_CLIENT_MESSAGE:
        raise ValidationError(f"a message may hold at most {MAX_CLIENT_MESSAGE} bytes")
    try:
        message: ClientMessage = _decoder.decode(data)
    except msgspec.DecodeError as exc:
        raise ValidationError(
            f"unreadable message ({exc}); send JSON objects whose 'type' is auth, subscribe or ping"
        ) from None
    return message


def parse_filters(items: Sequence[Any]) -> list[Filter]:
    """Filters given as objects or as ``field:op:value`` strings."""
    filters = []
    for item in items:
        if isinstance(item, str):
            filters.append(parse_filter(item))
        elif isinstance(item, dict):
            try:
                filters.append(Filter.model_validate(item))
            except PydanticValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                raise ValidationError(f"filter {item!r:.200}: {where}: {first['msg']}") from None
        else:
            raise ValidationError(
                f"a filter is an object {{field, op, value}} or a 'field:op:value' string, "
                f"got {item!r:.80}"
            )
    return filters


def subscription(message: Subscribe) -> LiveSpec:
    """The subscription a ``subscribe`` message asks for (filters checked)."""
    return LiveSpec(
        LiveFilter(parse_filters(message.filters)),
        message.events,
        message.metrics,
        message.anomalies,
    )


def _flag(params: Mapping[str, str], name: str, default: bool) -> bool:
    value = params.get(name)
    if value is None:
        return default
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise ValidationError(f"query parameter {name!r} must be true or false, got {value!r:.40}")


def initial_subscription(filters: Sequence[str], params: Mapping[str, str]) -> LiveSpec:
    """The subscription of the URL: ``filter`` (repeatable), ``events``, ``metrics``,
    ``anomalies``."""
    return LiveSpec(
        LiveFilter([parse_filter(f) for f in filters]),
        events=_flag(params, "events", True),
        metrics=_flag(params, "metrics", False),
        anomalies=_flag(params, "anomalies", False),
    )


def now_text() -> str:
    """The server's time, RFC 3339 UTC."""
    return rfc3339(datetime.now(UTC))


def encode(message: dict[str, Any]) -> str:
    """A server message as JSON text."""
    return _encoder.encode(message).decode()


def ready(tenant_id: str, spec: LiveSpec, queue_events: int) -> str:
    """The first server message after authentication."""
    return encode(
        {
            "type": "ready",
            "tenant": tenant_id,
            "server_time": now_text(),
            **spec.describe(),
            "queue_events": queue_events,
        }
    )


def subscribed(spec: LiveSpec) -> str:
    """The answer to a ``subscribe``: every later message follows the new subscription."""
    return encode({"type": "subscribed", "server_time": now_text(), **spec.describe()})


def close_code(exc: HubError) -> int:
    """The close code of a refusal."""
    if isinstance(exc, AuthenticationError):
        return CLOSE_UNAUTHENTICATED
    if isinstance(exc, PermissionDeniedError):
        return CLOSE_FORBIDDEN
    if isinstance(exc, ValidationError):
        return CLOSE_INVALID
    if isinstance(exc, BackpressureError):
        return CLOSE_TRY_AGAIN
    return CLOSE_INTERNAL


def close_reason(message: str) -> str:
    """``message`` cut to what a close frame carries (the ``error`` message has it all)."""
    data = message.encode()
    if len(data) <= _MAX_REASON:
        return message
    return data[: _MAX_REASON - 3].decode(errors="ignore") + "..."


def error(exc: HubError) -> str:
    """The ``error`` message sent before closing."""
    return encode({"type": "error", "code": exc.code, "message": exc.message})


__all__ = [
    "CLOSE_FORBIDDEN",
    "CLOSE_INTERNAL",
    "CLOSE_INVALID",
    "CLOSE_TRY_AGAIN",
    "CLOSE_UNAUTHENTICATED",
    "MAX_CLIENT_MESSAGE",
    "Auth",
    "ClientMessage",
    "Ping",
    "Subscribe",
    "close_code",
    "close_reason",
    "decode",
    "error",
    "initial_subscription",
    "now_text",
    "parse_filters",
    "ready",
    "subscribed",
    "subscription",
]
