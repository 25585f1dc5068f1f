"""Best-effort fan-out between the hub's processes: what one stored, others show live.

The live feed of an api process must see what writers in other processes committed and
what analytics workers there found. ``NatsBroadcast`` carries such notices on core NATS
subjects ``hub-live.<prefix>.<topic>``: no persistence and no acknowledgement, as for the
feed itself (a client that misses some refills from the REST API). Publishing never
blocks the caller and never raises; a payload over NATS's limit is not sent (the
caller cuts its messages to ``max_payload``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

import nats
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg

from analytics_hub.bus.loopthread import LoopThread

log = structlog.get_logger(__name__)

Handler = Callable[[bytes], None]


class Broadcast(Protocol):
    """Topics every process of a deployment may publish to and listen on."""

    max_payload: int

    def start(self) -> None:
        """Connect; subscriptions made before take effect."""
        ...

    def publish(self, topic: str, payload: bytes) -> None:
        """Send ``payload`` to every listener of ``topic`` (best effort, non-blocking)."""
        ...

    def subscribe(self, topic: str, handler: Handler) -> None:
        """Call ``handler`` (on a background thread) with every payload of ``topic``."""
        ...

    def close(self) -> None:
        """Stop listening and disconnect."""
        ...


class NatsBroadcast:
    """``Broadcast`` on core NATS subjects under ``prefix``."""

    #: leaves room under the server's default 1 MiB ``max_payload`` for headers
    max_payload = 1_000_000

    def __init__(self, servers: str | Sequence[str], prefix: str) -> None:
        self._servers = [servers] if isinstance(servers, str) else list(servers)
        self._prefix = prefix
        self._handlers: list[tuple[str, Handler]] = []
        self._loop: LoopThread | None = None
        self._nc: Client | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def subject(self, topic: str) -> str:
        # Not under ``<prefix>.``: the event stream takes every subject there.
        return f"hub-live.{self._prefix}.{topic}"

    def subscribe(self, topic: str, handler: Handler) -> None:
        self._handlers.append((topic, handler))

    def start(self) -> None:
        self._loop = LoopThread("hub-broadcast")
        self._loop.call(self._connect(), timeout=30.0)

    def publish(self, topic: str, payload: bytes) -> None:
        if self._loop is None or len(payload) > self.max_payload:
            return
        self._loop.call_soon(self._publish(self.subject(topic), payload), self._tasks)

    def close(self) -> None:
        if self._loop is None:
            return
        try:
            self._loop.call(self._close(), timeout=5.0)
        except Exception:  # closing anyway
            log.debug("broadcast: close", exc_info=True)
        self._loop.stop()
        self._loop = None

    async def _connect(self) -> None:
        self._nc = await nats.connect(
            servers=self._servers,
            name="analytics-hub-live",
            connect_timeout=2,
            reconnect_time_wait=0.5,
            max_reconnect_attempts=-1,
        )
        for topic, handler in self._handlers:
            await self._nc.subscribe(self.subject(topic), cb=self._deliver(handler))

    @staticmethod
    def _deliver(handler: Handler) -> Callable[[Msg], Awaitable[None]]:
        async def on_message(msg: Msg) -> None:
            try:
                handler(msg.data)
            except Exception:  # one bad notice must not end the subscription
                log.warning("broadcast: a notice could not be handled", exc_info=True)

        return on_message

    async def _publish(self, subject: str, payload: bytes) -> None:
        try:
            assert self._nc is not None
            await self._nc.publish(subject, payload)
        except Exception:  # best effort: the live feed tolerates gaps
            log.debug("broadcast: not published", subject=subject, exc_info=True)

    async def _close(self) -> None:
        if self._nc is not None:
            await self._nc.drain()


__all__ = ["Broadcast", "Handler", "NatsBroadcast"]
