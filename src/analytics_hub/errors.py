"""The error tree of the hub.

Every expected failure raised by our code is a :class:`HubError`. The API layer alone
maps these to HTTP statuses (and later gRPC and GraphQL errors); anything that is not a
``HubError`` is a bug: it is logged with its traceback and masked as a 500.

::

    HubError                       500  internal_error
    ├── ValidationError            400  invalid_request   (bad query, bad field, bad value)
    │   └── EventValidationError   400  invalid_event     (one event; carries its field path)
    ├── DecodeError                400  undecodable_body
    ├── UnsupportedMediaTypeError  415  unsupported_media_type
    ├── PayloadTooLargeError       413  payload_too_large
    ├── AuthenticationError        401  unauthenticated
    ├── PermissionDeniedError      403  forbidden
    ├── NotFoundError              404  not_found
    ├── ConflictError              409  conflict
    ├── BackpressureError          429  overloaded        (carries retry_after seconds)
    │   └── RateLimitedError       429  rate_limited      (an API key over its request rate)
    └── UnavailableError           503  unavailable       (carries retry_after seconds)
"""

from __future__ import annotations


class HubError(Exception):
    """Base of every expected error. ``code`` is stable and machine-readable."""

    status: int = 500
    code: str = "internal_error"

    def __init__(self, message: str, *, details: object | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class ValidationError(HubError):
    """A request is well-formed but asks for something invalid."""

    status = 400
    code = "invalid_request"


class EventValidationError(ValidationError):
    """One event failed validation; ``field`` is the dotted path of the offending field."""

    code = "invalid_event"

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class DecodeError(HubError):
    """A body could not be decoded at all (bad JSON, bad compression, truncated data)."""

    status = 400
    code = "undecodable_body"


class UnsupportedMediaTypeError(HubError):
    status = 415
    code = "unsupported_media_type"


class PayloadTooLargeError(HubError):
    status = 413
    code = "payload_too_large"


class AuthenticationError(HubError):
    status = 401
    code = "unauthenticated"


class PermissionDeniedError(HubError):
    status = 403
    code = "forbidden"


class NotFoundError(HubError):
    status = 404
    code = "not_found"


class ConflictError(HubError):
    status = 409
    code = "conflict"


class BackpressureError(HubError):
    """The pipeline is full; the client should retry after ``retry_after`` seconds."""

    status = 429
    code = "overloaded"

    def __init__(self, message: str, *, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimitedError(BackpressureError):
    """An API key sent more requests than its rate limit allows; retry after ``retry_after``."""

    code = "rate_limited"


class UnavailableError(HubError):
    """A dependency (the store, the bus) is down; retry after ``retry_after`` seconds."""

    status = 503
    code = "unavailable"

    def __init__(self, message: str, *, retry_after: float = 5.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


__all__ = [
    "AuthenticationError",
    "BackpressureError",
    "ConflictError",
    "DecodeError",
    "EventValidationError",
    "HubError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitedError",
    "UnavailableError",
    "UnsupportedMediaTypeError",
    "ValidationError",
]
