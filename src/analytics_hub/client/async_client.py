"""The asyncio client: drives the exchanges of :mod:`analytics_hub.client.core` with httpx."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

import httpx

from analytics_hub.client.core import DEFAULT_MAX_BATCH_BYTES, ClientCore, Exchange, Outcome, Sleep
from analytics_hub.client.report import IngestReport
from analytics_hub.client.wire import Compression

T = TypeVar("T")


class AsyncHubClient:
    """Send events to and query an LLM Analytics Hub over HTTP (asyncio).

    ``transport`` and ``sleep`` exist for tests and special set-ups (an
    ``httpx.MockTransport``, a proxy transport); the defaults are the real network and
    ``asyncio.sleep``. Safe to share between tasks, like the ``httpx.AsyncClient`` it wraps.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        batch_size: int = 1000,
        compression: Compression | None = "gzip",
        max_retries: int = 8,
        timeout: float = 30.0,
        backoff_base: float = 0.2,
        backoff_max: float = 30.0,
        max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._core = ClientCore(
            base_url,
            api_key,
            batch_size=batch_size,
            compression=compression,
            max_retries=max_retries,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
            max_batch_bytes=max_batch_bytes,
        )
        self._sleep = sleep
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport)

    async def send(
        self, events: Iterable[Mapping[str, Any] | bytes], *, wait_visible: bool = False
    ) -> IngestReport:
        """Ingest events in batches of ``batch_size``; see :class:`IngestReport`.

        ``wait_visible``: each batch is answered once queries see it, not only once it
        is durable (read-your-writes; slower under load).
        """
        return await self._drive(self._core.send(events, wait_visible=wait_visible))

    async def query(self, query: Mapping[str, Any]) -> dict[str, Any]:
        """Run a typed query (``POST /api/v1/query``); returns the result page."""
        return await self._drive(self._core.query(query))

    async def events(
        self,
        *,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        filters: Iterable[str] | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        params: Mapping[str, object] | None = None,
    ) -> dict[str, Any]:
        """One page of stored events (``GET /api/v1/events``), newest first.

        ``filters`` are ``field:op:value`` strings, e.g. ``model_id:eq:gpt-4o``.
        """
        return await self._drive(
            self._core.events(
                start=start, end=end, filters=filters, limit=limit, cursor=cursor, params=params
            )
        )

    async def overview(
        self,
        *,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        bucket: str | None = None,
        params: Mapping[str, object] | None = None,
    ) -> dict[str, Any]:
        """The dashboard overview (``GET /api/v1/metrics/overview``)."""
        return await self._drive(
            self._core.overview(start=start, end=end, bucket=bucket, params=params)
        )

    async def health(self) -> dict[str, Any]:
        """Liveness of the hub (``GET /healthz``)."""
        return await self._drive(self._core.health())

    async def aclose(self) -> None:
        """Close the connection pool. Idempotent."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncHubClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _drive(self, exchange: Exchange[T]) -> T:
        # The only I/O loop: perform each step the core asks for, feed back the outcome.
        outcome: Outcome = None
        try:
            while True:
                step = exchange.send(outcome)
                if isinstance(step, Sleep):
                    await self._sleep(step.seconds)
                    outcome = None
                    continue
                try:
                    outcome = await self._http.send(step.request)
                except httpx.TransportError as exc:  # the core decides what is retried
                    outcome = exc
        except StopIteration as stop:
            result: T = stop.value
            return result
        finally:
            exchange.close()


__all__ = ["AsyncHubClient"]
