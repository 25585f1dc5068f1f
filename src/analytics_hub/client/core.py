"""The client's logic, once, without I/O (the "sans-IO" core).

Every operation is a generator that *yields* what it needs done — :class:`Call` (send
this request, give me the answer or the transport error) or :class:`Sleep` (wait this
long) — and *returns* its result. :class:`~analytics_hub.client.sync_client.HubClient` and
:class:`~analytics_hub.client.async_client.AsyncHubClient` only drive these generators
with blocking or awaitable I/O, so batching, compression, retries, backoff and error
mapping exist in one place and cannot drift apart (httpx's near-copy sync and async
clients are the trap this avoids).
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias, TypeVar

import httpx

from analytics_hub import __version__
from analytics_hub.client.errors import HubClientError, HubRetryExhaustedError
from analytics_hub.client.report import IngestReport, ReportBuilder
from analytics_hub.client.wire import (
    RETRY_STATUSES,
    RETRYABLE_ERRORS,
    Compression,
    array_body,
    compress,
    envelope_fields,
    iter_batches,
    json_body,
    param_value,
    read_json,
    retry_after_seconds,
)

T = TypeVar("T")

EVENTS_PATH = "/api/v1/events"
QUERY_PATH = "/api/v1/query"
OVERVIEW_PATH = "/api/v1/metrics/overview"
HEALTH_PATH = "/healthz"

#: The longest wait a ``Retry-After`` may impose; a broken proxy answering "retry in a
#: day" should fail the call, not hang it.
RETRY_AFTER_CAP = 300.0

#: Below the server's default 10 MiB body limit, with room for the array brackets.
DEFAULT_MAX_BATCH_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Call:
    """Step: send ``request``; resume with the response or the transport error."""

    request: httpx.Request


@dataclass(frozen=True, slots=True)
class Sleep:
    """Step: wait ``seconds``; resume with None."""

    seconds: float


Step: TypeAlias = Call | Sleep
Outcome: TypeAlias = httpx.Response | httpx.TransportError | None
Exchange: TypeAlias = Generator[Step, Outcome, T]
ParamValue: TypeAlias = object


class ClientCore:
    """Configuration plus the exchanges of every client operation."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        batch_size: int = 1000,
        compression: Compression | None = "gzip",
        max_retries: int = 8,
        backoff_base: float = 0.2,
        backoff_max: float = 30.0,
        max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if compression not in ("gzip", "zstd", None):
            raise ValueError(f"compression must be 'gzip', 'zstd' or None, got {compression!r}")
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if backoff_base < 0 or backoff_max < 0:
            raise ValueError("backoff_base and backoff_max must be >= 0")
        if max_batch_bytes < 1:
            raise ValueError("max_batch_bytes must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.batch_size = batch_size
        self.compression = compression
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_batch_bytes = max_batch_bytes
        self._rng = rng if rng is not None else random.Random()
        self._clock = clock
        self._headers = {
            "authorization": f"Bearer {api_key}",
            "accept": "application/json",
            "user-agent": f"llm-analytics-hub-client/{__version__}",
        }

    # -- operations -------------------------------------------------------------------

    def send(
        self, events: Iterable[Mapping[str, Any] | bytes], *, wait_visible: bool = False
    ) -> Exchange[IngestReport]:
        """Ingest ``events`` in batches; returns the totals over all of them.

        Each batch is acknowledged once it is durable; with ``wait_visible`` once queries
        see it too (read-your-writes).
        """
        builder = ReportBuilder()
        try:
            for offset, batch in iter_batches(events, self.batch_size, self.max_batch_bytes):
                body = compress(array_body(batch), self.compression)
                build = functools.partial(self._events_request, body, wait_visible)
                response = yield from self._with_retries(build)
                builder.add(offset, len(batch), read_json(response))
        except HubClientError as exc:
            # Say how far we got, so the caller can resume from ``report.submitted``.
            exc.report = builder.build()
            raise
        return builder.build()

    def query(self, query: Mapping[str, Any]) -> Exchange[dict[str, Any]]:
        """Run a typed query (``POST /api/v1/query``)."""
        body = json_body(query)
        build = functools.partial(
            self._request, "POST", QUERY_PATH, content=body, content_type="application/json"
        )
        response = yield from self._with_retries(build)
        return read_json(response)

    def events(
        self,
        *,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        filters: Iterable[str] | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        params: Mapping[str, ParamValue] | None = None,
    ) -> Exchange[dict[str, Any]]:
        """One page of stored events (``GET /api/v1/events``), newest first.

        ``filters`` are ``field:op:value`` strings (``model_id:eq:gpt-4o``), all of which
        must hold.
        """
        fixed = {
            "from": start,
            "to": end,
            "filter": list(filters) if filters is not None else None,
            "limit": limit,
            "cursor": cursor,
        }
        return self.get(EVENTS_PATH, {**(params or {}), **fixed})

    def overview(
        self,
        *,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        bucket: str | None = None,
        params: Mapping[str, ParamValue] | None = None,
    ) -> Exchange[dict[str, Any]]:
        """The dashboard overview (``GET /api/v1/metrics/overview``)."""
        fixed = {"from": start, "to": end, "bucket": bucket}
        return self.get(OVERVIEW_PATH, {**(params or {}), **fixed})

    def health(self) -> Exchange[dict[str, Any]]:
        """Liveness of the hub (``GET /healthz``)."""
        return self.get(HEALTH_PATH, {})

    def get(self, path: str, params: Mapping[str, ParamValue]) -> Exchange[dict[str, Any]]:
        """``GET path`` with query parameters (None values are left out, lists repeated)."""
        clean: dict[str, str | list[str]] = {}
        for key, value in params.items():
            if isinstance(value, list | tuple):
                clean[key] = [param_value(v) for v in value]
            elif value is not None:
                clean[key] = param_value(value)
        build = functools.partial(self._request, "GET", path, params=clean)
        response = yield from self._with_retries(build)
        return read_json(response)

    # -- building blocks --------------------------------------------------------------

    def _events_request(self, body: bytes, wait_visible: bool = False) -> httpx.Request:
        return self._request(
            "POST",
            EVENTS_PATH,
            content=body,
            content_type="application/json",
            content_encoding=self.compression,
            params={"wait": "visible"} if wait_visible else None,
        )

    def _request(
        self,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        content_type: str | None = None,
        content_encoding: str | None = None,
        params: Mapping[str, str | list[str]] | None = None,
    ) -> httpx.Request:
        headers = dict(self._headers)
        if content_type:
            headers["content-type"] = content_type
        if content_encoding:
            headers["content-encoding"] = content_encoding
        return httpx.Request(
            method, self.base_url + path, headers=headers, content=content, params=params
        )

    def _with_retries(self, build: Callable[[], httpx.Request]) -> Exchange[httpx.Response]:
        """Send until an answer is not "retry later", sleeping between attempts."""
        attempts = self.max_retries + 1
        for attempt in range(attempts):
            outcome = yield Call(build())
            if isinstance(outcome, httpx.Response):
                if outcome.status_code not in RETRY_STATUSES:
                    return outcome
                delay = self.delay(attempt, outcome)
            elif isinstance(outcome, RETRYABLE_ERRORS):
                delay = self.delay(attempt, None)
            elif isinstance(outcome, httpx.TransportError):
                # Not worth retrying (an unsupported scheme, a proxy refusing): say so now.
                raise HubClientError(
                    None, "transport_error", f"{type(outcome).__name__}: {outcome}"
                ) from outcome
            else:  # pragma: no cover - a driver bug, not a runtime condition
                raise TypeError(f"a Call must be resumed with an outcome, got {outcome!r}")
            if attempt + 1 == attempts:
                raise _exhausted(outcome, attempts)
            yield Sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def delay(self, attempt: int, response: httpx.Response | None) -> float:
        """Seconds to wait before retry number ``attempt + 1``.

        A ``Retry-After`` (on 429/503) is honoured plus up to 10 % jitter, so that clients
        told the same thing do not come back in lockstep; otherwise exponential backoff
        with "equal jitter": uniformly between half and all of ``base * 2**attempt``,
        capped at ``backoff_max`` — it always grows, yet never synchronises.
        """
        if response is not None and response.status_code in (429, 503):
            asked = retry_after_seconds(response, now=self._clock())
            if asked is not None:
                asked = min(asked, RETRY_AFTER_CAP)
                return asked + self._rng.uniform(0.0, 0.1 * asked)
        ceiling = min(self.backoff_max, self.backoff_base * (2.0 ** min(attempt, 62)))
        return self._rng.uniform(ceiling / 2.0, ceiling)


def _exhausted(outcome: httpx.Response | httpx.TransportError, attempts: int) -> HubClientError:
    if isinstance(outcome, httpx.Response):
        status, code, message, details = envelope_fields(outcome)
        return HubRetryExhaustedError(
            status,
            code,
            f"gave up after {attempts} attempts: {message}",
            details,
            attempts=attempts,
        )
    error = HubRetryExhaustedError(
        None,
        "connection_error",
        f"gave up after {attempts} attempts: {type(outcome).__name__}: {outcome}",
        attempts=attempts,
    )
    error.__cause__ = outcome
    return error


__all__ = [
    "DEFAULT_MAX_BATCH_BYTES",
    "EVENTS_PATH",
    "HEALTH_PATH",
    "OVERVIEW_PATH",
    "QUERY_PATH",
    "Call",
    "ClientCore",
    "Exchange",
    "Outcome",
    "Sleep",
    "Step",
]
