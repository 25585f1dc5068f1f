"""The live feed's messages: strict decoding, both filter forms, close codes and reasons."""

from __future__ import annotations

import json

import pytest

from analytics_hub.api.websocket import protocol
from analytics_hub.errors import (
    AuthenticationError,
    BackpressureError,
    PermissionDeniedError,
    UnavailableError,
    ValidationError,
)
from analytics_hub.query.live import LiveFilter, LiveSpec


def test_client_messages_decode_by_type() -> None:
    assert protocol.decode('{"type": "auth", "key": "hub_x"}') == protocol.Auth(key="hub_x")
    assert protocol.decode(b'{"type": "ping"}') == protocol.Ping()
    message = protocol.decode('{"type": "subscribe", "metrics": true}')
    assert message == protocol.Subscribe(filters=[], events=True, metrics=True)


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        '{"type": "shout"}',
        '{"key": "no type"}',
        '{"type": "subscribe", "filters": [], "extra": 1}',
        '{"type": "subscribe", "metrics": "yes"}',
        "[]",
    ],
)
def test_anything_else_is_a_validation_error_that_says_what_to_send(text: str) -> None:
    with pytest.raises(ValidationError, match="auth, subscribe or ping"):
        protocol.decode(text)


def test_an_oversized_message_is_refused_before_decoding() -> None:
    with pytest.raises(ValidationError, match="at most"):
        protocol.decode(" " * (protocol.MAX_CLIENT_MESSAGE + 1))


def test_filters_come_as_objects_or_as_the_events_listing_strings() -> None:
    message = protocol.Subscribe(
        filters=[
            {"field": "model_id", "op": "in", "value": ["a", "b"]},
            "latency_ms:gt:500",
            "asset_id:in:x,y",
        ]
    )
    spec = protocol.subscription(message)
    assert spec.filter.describe() == [
        {"field": "model_id", "op": "in", "value": ["a", "b"]},
        {"field": "latency_ms", "op": "gt", "value": 500},
        {"field": "asset_id", "op": "in", "value": ["x", "y"]},
    ]


@pytest.mark.parametrize(
    ("item", "says"),
    [
        ({"field": "model_id", "op": "like", "value": "x"}, "op"),
        ({"field": "model_id", "value": "x", "extra": True}, "extra"),
        ("model_id", "field:op:value"),
        (42, "object"),
        ({"field": "nope", "op": "eq", "value": 1}, "unknown field 'nope'"),
    ],
)
def test_a_bad_filter_is_named(item: object, says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        protocol.subscription(protocol.Subscribe(filters=[item]))


def test_the_url_gives_the_first_subscription() -> None:
    spec = protocol.initial_subscription(["model_id:eq:gpt-4o"], {"metrics": "true"})
    assert (spec.events, spec.metrics) == (True, True)
    assert spec.filter.describe() == [{"field": "model_id", "op": "eq", "value": "gpt-4o"}]
    assert protocol.initial_subscription([], {"events": "0"}).events is False
    with pytest.raises(ValidationError, match="'metrics' must be true or false"):
        protocol.initial_subscription([], {"metrics": "maybe"})


def test_ready_and_subscribed_echo_the_subscription() -> None:
    spec = LiveSpec(LiveFilter(), events=False, metrics=True)
    ready = json.loads(protocol.ready("acme", spec, 1000))
    assert ready["type"] == "ready"
    assert ready["server_time"].endswith("Z")
    assert {k: ready[k] for k in ("tenant", "filters", "events", "metrics", "queue_events")} == {
        "tenant": "acme",
        "filters": [],
        "events": False,
        "metrics": True,
        "queue_events": 1000,
    }
    assert json.loads(protocol.subscribed(spec))["type"] == "subscribed"


def test_close_codes() -> None:
    assert protocol.close_code(AuthenticationError("x")) == 4401
    assert protocol.close_code(PermissionDeniedError("x")) == 4403
    assert protocol.close_code(ValidationError("x")) == 4400
    assert protocol.close_code(BackpressureError("x")) == 1013
    assert protocol.close_code(UnavailableError("x")) == 1011


def test_a_close_reason_fits_a_close_frame() -> None:
    assert protocol.close_reason("short") == "short"
    reason = protocol.close_reason("é" * 200)
    assert len(reason.encode()) <= 123
    assert reason.endswith("...")


def test_the_error_message_carries_the_whole_text() -> None:
    text = "x" * 500
    assert json.loads(protocol.error(ValidationError(text))) == {
        "type": "error",
        "code": "invalid_request",
        "message": text,
    }


def test_anomalies_are_asked_for_by_url_or_message() -> None:
    assert protocol.initial_subscription([], {}).anomalies is False
    assert protocol.initial_subscription([], {"anomalies": "true"}).anomalies is True
    with pytest.raises(ValidationError, match="'anomalies' must be true or false"):
        protocol.initial_subscription([], {"anomalies": "maybe"})
    message = protocol.decode('{"type": "subscribe", "anomalies": true, "events": false}')
    assert isinstance(message, protocol.Subscribe)
    spec = protocol.subscription(message)
    assert (spec.events, spec.metrics, spec.anomalies) == (False, False, True)
    assert json.loads(protocol.subscribed(spec))["anomalies"] is True
