"""OTLP/HTTP errors are ``google.rpc.Status`` messages in the request's encoding."""

from __future__ import annotations

import json

import pytest
from google.rpc import status_pb2

from analytics_hub.api.rest.otlp import otlp_error_response, status_message
from analytics_hub.errors import (
    AuthenticationError,
    BackpressureError,
    DecodeError,
    UnavailableError,
    UnsupportedMediaTypeError,
)


@pytest.mark.parametrize(
    ("code", "message"),
    [(3, "bad"), (8, "x" * 300), (16, "clé refusée ✗"), (0, ""), (14, "")],
)
def test_the_hand_encoded_status_is_what_protobuf_decodes(code: int, message: str) -> None:
    decoded = status_pb2.Status.FromString(status_message(code, message))
    assert (decoded.code, decoded.message) == (code, message)


def test_backpressure_is_a_429_with_retry_after_and_resource_exhausted() -> None:
    r = otlp_error_response(BackpressureError("full", retry_after=2.4), "application/x-protobuf")
    assert (r.status_code, r.headers["retry-after"]) == (429, "2")
    assert r.headers["content-type"] == "application/x-protobuf"
    assert status_pb2.Status.FromString(bytes(r.body)).code == 8


def test_unavailable_is_a_503_with_retry_after() -> None:
    r = otlp_error_response(UnavailableError("down", retry_after=5), "application/json")
    assert (r.status_code, r.headers["retry-after"]) == (503, "5")
    assert json.loads(r.body)["code"] == 14


def test_json_errors_are_a_status_that_also_carries_the_hub_envelope() -> None:
    r = otlp_error_response(DecodeError("not JSON"), "application/json; charset=utf-8")
    assert (r.status_code, r.headers["content-type"]) == (400, "application/json")
    assert json.loads(r.body) == {
        "code": 3,
        "message": "not JSON",
        "details": [],
        "error": {"code": "undecodable_body", "message": "not JSON", "details": None},
    }


def test_an_unknown_content_type_is_answered_in_json() -> None:
    r = otlp_error_response(UnsupportedMediaTypeError("use protobuf"), "text/plain")
    assert (r.status_code, r.headers["content-type"]) == (415, "application/json")
    assert json.loads(r.body)["error"]["code"] == "unsupported_media_type"


def test_a_missing_credential_asks_for_a_bearer_token() -> None:
    r = otlp_error_response(AuthenticationError("who?"), "application/x-protobuf")
    assert (r.status_code, r.headers["www-authenticate"]) == (401, "Bearer")
    assert status_pb2.Status.FromString(bytes(r.body)).code == 16
