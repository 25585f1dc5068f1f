"""Pulling from a durable JetStream consumer with the port's fetch semantics.

Pulls are plain core-NATS requests on the consumer's ``MSG.NEXT`` subject rather than
nats-py's ``fetch``, so that the bus controls batch, expiry and no-wait itself. At most
one pull request is outstanding; whatever it delivers, even after the caller stopped
waiting, lands in the buffer and is taken by the next fetch (the process keeps those
messages alive with in-progress acks until then, see ``NatsBus``).

On nats-server 2.9 a no-wait request is answered with the messages available and then a
404 or 408 status (none when it filled the batch); a request with ``expires`` waits for
messages until then and ends with a 408. Not always: a request that delivered messages
just before it expired sometimes ends without one (seen in about one burst in five), so
a request that delivered anything is not believed outstanding past its expiry. Believing
it for the full margin kept the rest of such a burst waiting a second for the next pull.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import Callable
from time import monotonic
from typing import Any

import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg

log = structlog.get_logger(__name__)

_SETTLE = 0.002  # after the first message of a burst, how long to let the rest arrive
_MIN_EXPIRES = 0.005  # shorter waits are not worth a request
_STATUS_MARGIN = 1.0  # how long past its expiry a silent request may still answer
_LATE = 0.02  # the same, for a request that delivered messages (see the module doc)


class Puller:
    """Pull requests on one durable consumer; delivered messages queue up in ``buffer``."""

    def __init__(
        self, nc: Client, *, stream: str, durable: str, weight_of: Callable[[Msg], int]
    ) -> None:
        self._nc = nc
        self._weight_of = weight_of
        self._next_subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self._inbox = nc.new_inbox()
        self._sub: Any = None
        self._open_left = 0  # messages the outstanding request may still deliver
        self._open_until = 0.0  # when we stop believing it is outstanding (monotonic)
        self._expires_at: float | None = None  # when a waiting request expires
        self._changed = asyncio.Event()
        self.buffer: deque[Msg] = deque()
        self.buffer_weight = 0

    async def start(self) -> None:
        """Subscribe to the inbox the pulled messages are delivered to."""
        self._sub = await self._nc.subscribe(self._inbox, cb=self._on_msg)

    async def stop(self) -> None:
        """Stop receiving; messages delivered after this are redelivered after ack wait."""
        if self._sub is not None:
            await self._sub.unsubscribe()
            self._sub = None

    @property
    def outstanding(self) -> bool:
        """Whether a pull request may still deliver messages."""
        return self._open_left > 0 and self._open_until > monotonic()

    async def fill(
        self,
        *,
        batch: Callable[[int], int],
        max_weight: int,
        min_weight: int,
        linger: float,
        timeout: float,
    ) -> None:
        """Buffer messages as the port's ``fetch`` describes.

        Wait up to ``timeout`` for a first message, then up to ``linger`` more while the
        buffer weighs less than ``min_weight``. ``batch(weight)`` says how many messages
        to ask for to get about ``weight`` events; requests ask for up to ``max_weight``.
        """
        now = monotonic()
        deadline = now + timeout
        if not self.buffer and not self.outstanding:
            await self.request(batch(max_weight), expires=None)  # what is there right now
            await self.wait(lambda: not self.outstanding, now + 1.0)
        while not self.buffer and deadline - monotonic() > _MIN_EXPIRES:
            # A request left over from an earlier fetch may end before our deadline:
            # then ask again rather than sleep through what arrives meanwhile.
            if not self.outstanding:
                await self.request(batch(max_weight), expires=deadline - monotonic())
            await self.wait(lambda: bool(self.buffer) or not self.outstanding, deadline)
        if self.buffer and self.outstanding:
            await self.wait(lambda: not self.outstanding, monotonic() + _SETTLE)
        linger_until = monotonic() + linger
        while self.buffer and self.buffer_weight < min_weight:
            left = linger_until - monotonic()
            if left < _MIN_EXPIRES:
                return
            if not self.outstanding:
                await self.request(batch(max_weight - self.buffer_weight), expires=left)
            await self.wait(
                lambda: self.buffer_weight >= min_weight or not self.outstanding, linger_until
            )

    def take(self, max_weight: int) -> list[Msg]:
        """Buffered messages in delivery order, at most ``max_weight`` (at least one)."""
        out: list[Msg] = []
        weight = 0
        while self.buffer:
            w = self._weight_of(self.buffer[0])
            if out and weight + w > max_weight:
                break
            out.append(self.buffer.popleft())
            weight += w
        self.buffer_weight -= weight
        return out

    def clear(self) -> list[Msg]:
        """Everything buffered, emptying the buffer."""
        out = list(self.buffer)
        self.buffer.clear()
        self.buffer_weight = 0
        return out

    async def request(self, batch: int, *, expires: float | None) -> None:
        """Ask for up to ``batch`` messages: what is there now (``expires=None``), or
        waiting up to ``expires`` seconds for them."""
        body: dict[str, Any] = {"batch": batch}
        if expires is None:
            body["no_wait"] = True
            # The server ends a no-wait request at once; the margin covers a lost reply.
            self._open_until = monotonic() + 5.0
            self._expires_at = None
        else:
            body["expires"] = int(expires * 1e9)
            self._expires_at = monotonic() + expires
            self._open_until = self._expires_at + _STATUS_MARGIN
        self._open_left = batch
        await self._nc.publish(self._next_subject, json.dumps(body).encode(), reply=self._inbox)

    async def wait(self, done: Callable[[], bool], until: float) -> None:
        """Wait until ``done()`` or ``until`` (monotonic), re-checking at every delivery."""
        while not done():
            left = until - monotonic()
            if left <= 0:
                return
            # No await between the check and the clear: the callback cannot slip between.
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, 0.25))

    async def _on_msg(self, msg: Msg) -> None:
        status = msg.headers.get("Status") if msg.headers else None
        if status is None:
            self.buffer.append(msg)
            self.buffer_weight += self._weight_of(msg)
            self._open_left = max(0, self._open_left - 1)
            if self._expires_at is not None:  # it may end silently at its expiry now
                self._open_until = min(self._open_until, self._expires_at + _LATE)
        elif status == "100":
            return  # idle heartbeat
        else:
            # 404 no messages, 408 request expired, 409 leadership change or too many
            # waiting requests: either way this request will deliver nothing more.
            if status == "409":
                log.warning("jetstream pull request ended early", status=status)
            self._open_left = 0
        self._changed.set()


__all__ = ["Puller"]
