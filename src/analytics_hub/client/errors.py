"""Exceptions of the Python client.

These are deliberately not :class:`analytics_hub.errors.HubError`: that tree describes the
server's own failures and is mapped to HTTP by the API layer, whereas these describe an
HTTP answer as seen from the outside.

::

    HubClientError               a non-2xx answer, a 2xx that is not the expected JSON, or a
    │                            transport failure not worth retrying (code transport_error)
    └── HubRetryExhaustedError   429/502/503/504 or connection errors outlasted max_retries
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from analytics_hub.client.report import IngestReport


class HubClientError(Exception):
    """The server answered with an error (built from its ``{"error": {...}}`` envelope).

    ``status`` is the HTTP status (``None`` when no answer was received), ``code`` the
    server's stable machine-readable code, ``details`` whatever the server attached.
    ``report`` is set by ``send`` to what was ingested before the failure.
    """

    def __init__(
        self,
        status: int | None,
        code: str,
        message: str,
        details: object | None = None,
        *,
        report: IngestReport | None = None,
    ) -> None:
        super().__init__(f"{status if status is not None else '-'} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.report = report


class HubRetryExhaustedError(HubClientError):
    """Every attempt was answered with backpressure or failed to connect.

    ``attempts`` is how many requests were made; the last transport error, if any, is the
    ``__cause__``.
    """

    def __init__(
        self,
        status: int | None,
        code: str,
        message: str,
        details: object | None = None,
        *,
        attempts: int,
        report: IngestReport | None = None,
    ) -> None:
        super().__init__(status, code, message, details, report=report)
        self.attempts = attempts


__all__ = ["HubClientError", "HubRetryExhaustedError"]
