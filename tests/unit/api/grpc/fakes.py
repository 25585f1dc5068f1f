"""Stand-ins for what the gRPC servicers talk to: the call context, the key service and
the ingest side. No sockets: the handlers are called as grpc.aio would call them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from types import SimpleNamespace
from typing import Any

import grpc
import grpc.aio

from analytics_hub.auth.keys import Principal, Role
from analytics_hub.errors import AuthenticationError, HubError
from analytics_hub.events import EventError
from analytics_hub.ingest.service import IngestResult, Published

INGEST_KEY = "hub_ingestkey001_" + "i" * 43
READ_KEY = "hub_readkey00001_" + "r" * 43


class Aborted(grpc.aio.AbortError):
    """What ``context.abort`` raises (grpc.aio raises an ``AbortError`` too)."""


class FakeContext:
    """A ``ServicerContext`` that records how the call was aborted."""

    def __init__(self, metadata: Sequence[tuple[str, str | bytes]] = ()) -> None:
        self.metadata = tuple(metadata)
        self.aborts: list[tuple[grpc.StatusCode, str, dict[str, Any]]] = []

    def invocation_metadata(self) -> tuple[tuple[str, str | bytes], ...]:
        return self.metadata

    async def abort(
        self,
        code: grpc.StatusCode,
        details: str = "",
        trailing_metadata: Iterable[tuple[str, Any]] = (),
    ) -> None:
        self.aborts.append((code, details, dict(trailing_metadata)))
        raise Aborted(details)

    @property
    def code(self) -> grpc.StatusCode:
        assert len(self.aborts) == 1, self.aborts  # a call is aborted once
        return self.aborts[0][0]

    @property
    def details(self) -> str:
        return self.aborts[0][1]

    @property
    def trailing(self) -> dict[str, Any]:
        return self.aborts[0][2]


def bearer(key: str = INGEST_KEY) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {key}")]


class FakeKeys:
    """Two keys of tenant acme: one ``ingest``, one ``read``."""

    def authenticate(self, key: str) -> Principal:
        roles = {INGEST_KEY: Role.INGEST, READ_KEY: Role.READ}
        if key not in roles:
            raise AuthenticationError("unknown API key")
        return Principal(tenant_id="acme", role=roles[key], key_id=key[4:16])


class FakeBatches:
    """A ``BatchStore``: event ``b"bad"`` is rejected; ``fail`` maps a batch's first
    event to the error storing that batch raises; ``gate`` holds batches back."""

    def __init__(self, fail: dict[bytes, BaseException] | None = None) -> None:
        self.fail = fail or {}
        self.stored: list[tuple[str, list[bytes], bool]] = []
        self.gate: asyncio.Event | None = None

    async def ingest(
        self, tenant_id: str, events: Sequence[bytes], *, visible: bool = False
    ) -> IngestResult:
        if self.gate is not None:
            await self.gate.wait()
        if events and events[0] in self.fail:
            raise self.fail[events[0]]
        self.stored.append((tenant_id, list(events), visible))
        errors = [EventError(i, "", "bad event") for i, e in enumerate(events) if e == b"bad"]
        return IngestResult(len(events) - len(errors), len(errors), errors)


class FakeIngest:
    """Stands in for ``IngestService.publish``/``finish`` under an ``OtlpReceiver``."""

    def __init__(self, error: HubError | None = None) -> None:
        self.error = error

    def admit(self) -> None:
        return None  # refusals come from publish, as when the store falls behind meanwhile

    def publish(self, tenant_id: str, batch: Any, *, visible: bool = False) -> Published:
        if self.error is not None:
            raise self.error
        return Published(batch, None, visible)

    async def finish(self, tenant_id: str, published: Published) -> IngestResult:
        batch = published.batch
        return IngestResult(batch.accepted, batch.total - batch.accepted, batch.errors)


def method(handlers: Iterable[grpc.GenericRpcHandler], path: str) -> grpc.RpcMethodHandler:
    """The handler grpc would dispatch ``path`` (``/package.Service/Method``) to."""
    details = SimpleNamespace(method=path, invocation_metadata=())
    for handler in handlers:
        found = handler.service(details)
        if found is not None:
            return found
    raise LookupError(f"no handler for {path}")


async def requests_of(*messages: bytes) -> AsyncIterator[bytes]:
    """A client stream of raw messages."""
    for message in messages:
        yield message
