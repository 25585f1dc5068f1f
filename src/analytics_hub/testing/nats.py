"""Throw-away JetStream streams for tests and benchmarks.

Every test gets its own stream names and subject prefix (``unique_names``), so tests
sharing one server never see each other's messages; ``delete_streams`` removes them
afterwards. ``read_stream`` reads a whole stream back, as stored, for assertions about
what JetStream kept (one copy per ``Nats-Msg-Id``, the dead-letter headers).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

import nats
import nats.errors
import nats.js.errors

#: the server the tests use unless ``HUB_TEST_NATS_URL`` says otherwise
DEFAULT_TEST_URL = "nats://127.0.0.1:4222"


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """One message as JetStream keeps it."""

    seq: int
    subject: str
    headers: dict[str, str]
    data: bytes


def host_and_port(url: str) -> tuple[str, int]:
    """The host and port of the first server of a ``nats://`` URL list."""
    parts = urlsplit(url.split(",")[0].strip())
    return parts.hostname or "127.0.0.1", parts.port or 4222


def unique_names(prefix: str = "t") -> tuple[str, str]:
    """A fresh stream name and subject prefix, e.g. ``T1A2B3C4D`` and ``t1a2b3c4d.events``."""
    token = f"{prefix}{secrets.token_hex(4)}"
    return token.upper(), f"{token}.events"


def delete_streams(servers: str | Sequence[str], *streams: str) -> None:
    """Delete ``streams`` (those that exist) and, with them, their consumers."""

    async def run() -> None:
        nc = await nats.connect(servers=_list(servers), connect_timeout=2)
        try:
            js = nc.jetstream(timeout=5)
            for name in streams:
                with contextlib.suppress(nats.js.errors.NotFoundError):
                    await js.delete_stream(name)
        finally:
            await nc.close()

    asyncio.run(run())


T = TypeVar("T")


def read_stream(
    servers: str | Sequence[str], stream: str, *, settle_seconds: float = 30.0
) -> list[StoredMessage]:
    """Every message ``stream`` holds now, in sequence order.

    Right after a node of a cluster was lost, JetStream may answer 503 ("temporarily
    unavailable") or not at all while its groups elect leaders; such answers are asked
    again for up to ``settle_seconds``, so that the reading sees what is stored, not the
    election.
    """

    async def settled(call: Callable[[], Awaitable[T]]) -> T:
        deadline = time.monotonic() + settle_seconds
        while True:
            try:
                return await call()
            except (nats.js.errors.ServiceUnavailableError, nats.errors.TimeoutError):
                if time.monotonic() >= deadline:
                    raise
                await asyncio.sleep(0.25)

    async def run() -> list[StoredMessage]:
        nc = await nats.connect(servers=_list(servers), connect_timeout=2)
        try:
            js = nc.jetstream(timeout=5)
            state = (await settled(lambda: js.stream_info(stream))).state
            out: list[StoredMessage] = []
            if not state.messages:
                return out
            for seq in range(state.first_seq, state.last_seq + 1):
                try:
                    raw = await settled(functools.partial(js.get_msg, stream, seq))
                except nats.js.errors.NotFoundError:
                    continue  # deleted or expired
                headers = {str(k): str(v) for k, v in (raw.headers or {}).items()}
                out.append(StoredMessage(seq, str(raw.subject), headers, bytes(raw.data or b"")))
            return out
        finally:
            await nc.close()

    return asyncio.run(run())


def _list(servers: str | Sequence[str]) -> list[str]:
    if isinstance(servers, str):
        return [s.strip() for s in servers.split(",") if s.strip()]
    return list(servers)


__all__ = [
    "DEFAULT_TEST_URL",
    "StoredMessage",
    "delete_streams",
    "host_and_port",
    "read_stream",
    "unique_names",
]
