"""Hub errors become gRPC statuses; overload carries retry advice clients can read."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from analytics_hub.api.grpc.status import (
    RETRY_INFO_KEY,
    STATUS_DETAILS_KEY,
    failure_of,
    retry_info,
)
from analytics_hub.errors import (
    AuthenticationError,
    BackpressureError,
    DecodeError,
    EventValidationError,
    HubError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    UnavailableError,
    UnsupportedMediaTypeError,
    ValidationError,
)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (AuthenticationError("who?"), grpc.StatusCode.UNAUTHENTICATED),
        (PermissionDeniedError("not you"), grpc.StatusCode.PERMISSION_DENIED),
        (DecodeError("truncated"), grpc.StatusCode.INVALID_ARGUMENT),
        (ValidationError("bad"), grpc.StatusCode.INVALID_ARGUMENT),
        (EventValidationError("bad", field="x"), grpc.StatusCode.INVALID_ARGUMENT),
        (UnsupportedMediaTypeError("no"), grpc.StatusCode.INVALID_ARGUMENT),
        # not RESOURCE_EXHAUSTED, which exporters retry: the same request would fail again
        (PayloadTooLargeError("too many spans"), grpc.StatusCode.INVALID_ARGUMENT),
        (NotFoundError("gone"), grpc.StatusCode.NOT_FOUND),
        (BackpressureError("full"), grpc.StatusCode.RESOURCE_EXHAUSTED),
        (UnavailableError("down"), grpc.StatusCode.UNAVAILABLE),
    ],
)
def test_each_expected_error_has_its_status_and_keeps_its_message(
    error: HubError, code: grpc.StatusCode
) -> None:
    failure = failure_of(error, prefix="batch #2: ")
    assert (failure.code, failure.message) == (code, f"batch #2: {error.message}")


def test_client_errors_carry_no_retry_advice() -> None:
    assert failure_of(DecodeError("truncated")).trailing_metadata == ()


@pytest.mark.parametrize(
    ("error", "code", "delay"),
    [
        (BackpressureError("full", retry_after=2.5), 8, (2, 500_000_000)),
        (UnavailableError("down", retry_after=5), 14, (5, 0)),
    ],
)
def test_overload_carries_retry_info_where_exporters_read_it(
    error: HubError, code: int, delay: tuple[int, int]
) -> None:
    failure = failure_of(error)
    trailing = dict(failure.trailing_metadata)
    # the OpenTelemetry Python exporter reads this key
    info = error_details_pb2.RetryInfo.FromString(trailing[RETRY_INFO_KEY])
    assert (info.retry_delay.seconds, info.retry_delay.nanos) == delay
    # gRPC's rich error model: a google.rpc.Status with the same RetryInfo
    status = status_pb2.Status.FromString(trailing[STATUS_DETAILS_KEY])
    assert (status.code, status.message) == (code, error.message)
    assert status.details[0].Is(error_details_pb2.RetryInfo.DESCRIPTOR)
    unpacked = error_details_pb2.RetryInfo()
    status.details[0].Unpack(unpacked)
    assert unpacked == info


def test_a_zero_delay_is_an_empty_duration() -> None:
    info = error_details_pb2.RetryInfo.FromString(retry_info(0))
    assert (info.retry_delay.seconds, info.retry_delay.nanos) == (0, 0)


@pytest.mark.parametrize("error", [RuntimeError("secret path /x/y"), HubError("db exploded")])
def test_bugs_and_internal_errors_are_masked(error: Exception) -> None:
    failure = failure_of(error)
    assert failure.code is grpc.StatusCode.INTERNAL
    assert "secret" not in failure.message
    assert "exploded" not in failure.message
    assert "logged" in failure.message
