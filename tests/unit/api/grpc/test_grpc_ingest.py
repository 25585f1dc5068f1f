"""The native IngestService: acks in order with per-event errors; failures as statuses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from analytics_hub.api.grpc.ingest import IngestServicer
from analytics_hub.api.grpc.status import RETRY_INFO_KEY
from analytics_hub.api.grpc.v1.ingest_pb2 import BatchAck, EventBatch
from analytics_hub.errors import BackpressureError, UnavailableError

from .fakes import (
    READ_KEY,
    Aborted,
    FakeBatches,
    FakeContext,
    FakeKeys,
    bearer,
    method,
    requests_of,
)

PUBLISH = "/analytics_hub.v1.IngestService/PublishBatch"
STREAM = "/analytics_hub.v1.IngestService/StreamEvents"


def _batch(batch_id: str, *events: bytes, visible: bool = False) -> bytes:
    return EventBatch(batch_id=batch_id, events=events, wait_visible=visible).SerializeToString()


def _publish(raw: bytes, context: FakeContext, batches: FakeBatches) -> Any:
    handler = method([IngestServicer(FakeKeys(), batches).handler()], PUBLISH)
    return asyncio.run(handler.unary_unary(raw, context))


async def _collect(
    requests: AsyncIterator[bytes], context: FakeContext, batches: FakeBatches, window: int = 4
) -> tuple[list[BatchAck], bool]:
    """The acks of a stream, and whether it ended aborted."""
    handler = method([IngestServicer(FakeKeys(), batches, window=window).handler()], STREAM)
    acks: list[BatchAck] = []
    try:
        async for ack in handler.stream_stream(requests, context):
            acks.append(ack)
    except Aborted:
        return acks, True
    return acks, False


def _stream(
    *messages: bytes, context: FakeContext, batches: FakeBatches
) -> tuple[list[BatchAck], bool]:
    return asyncio.run(_collect(requests_of(*messages), context, batches))


def test_publish_acks_the_batch_with_per_event_errors() -> None:
    batches = FakeBatches()
    raw = _batch("b-1", b"{}", b"bad", b"{}", visible=True)
    ack = _publish(raw, FakeContext(bearer()), batches)
    assert (ack.batch_id, ack.accepted, ack.rejected) == ("b-1", 2, 1)
    assert [(e.index, e.field, e.message) for e in ack.errors] == [(1, "", "bad event")]
    # the tenant is the key's; the events go through as sent; wait_visible is honoured
    assert batches.stored == [("acme", [b"{}", b"bad", b"{}"], True)]


def test_publishing_garbage_is_invalid_argument_and_stores_nothing() -> None:
    batches = FakeBatches()
    context = FakeContext(bearer())
    with pytest.raises(Aborted):
        _publish(b"\x0a\xff\xff\xff", context, batches)
    assert context.code is grpc.StatusCode.INVALID_ARGUMENT
    assert "analytics_hub.v1.EventBatch" in context.details
    assert batches.stored == []


@pytest.mark.parametrize(
    ("metadata", "code"),
    [
        ([], grpc.StatusCode.UNAUTHENTICATED),
        ([("authorization", "Bearer nope")], grpc.StatusCode.UNAUTHENTICATED),
        (bearer(READ_KEY), grpc.StatusCode.PERMISSION_DENIED),
    ],
)
def test_publish_checks_the_key_and_its_role(
    metadata: list[tuple[str, str]], code: grpc.StatusCode
) -> None:
    batches = FakeBatches()
    context = FakeContext(metadata)
    with pytest.raises(Aborted):
        _publish(_batch("b", b"{}"), context, batches)
    assert context.code is code
    assert batches.stored == []


def test_publish_under_backpressure_is_resource_exhausted_with_retry_info() -> None:
    batches = FakeBatches(fail={b"{}": BackpressureError("full", retry_after=1.0)})
    context = FakeContext(bearer())
    with pytest.raises(Aborted):
        _publish(_batch("b", b"{}"), context, batches)
    assert context.code is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert RETRY_INFO_KEY in context.trailing


def test_a_stream_acks_every_batch_in_order_with_its_errors() -> None:
    batches = FakeBatches()
    acks, aborted = _stream(
        _batch("a", b"{}", b"{}"),
        _batch("b", b"bad", b"{}", b"bad"),
        _batch("c"),
        _batch("d", b"{}"),
        context=FakeContext(bearer()),
        batches=batches,
    )
    assert not aborted
    assert [(a.batch_id, a.accepted, a.rejected) for a in acks] == [
        ("a", 2, 0),
        ("b", 1, 2),
        ("c", 0, 0),
        ("d", 1, 0),
    ]
    assert [e.index for e in acks[1].errors] == [0, 2]


def test_a_stream_reads_ahead_yet_acks_in_the_order_of_the_batches() -> None:
    """The first batch cannot finish before the second is being stored: acks still come
    first-batch-first."""

    class SecondReleasesFirst(FakeBatches):
        def __init__(self) -> None:
            super().__init__()
            self.second_started = asyncio.Event()

        async def ingest(self, tenant_id: str, events: Any, *, visible: bool = False) -> Any:
            if events[0] == b"first":
                await self.second_started.wait()
            else:
                self.second_started.set()
            return await super().ingest(tenant_id, events, visible=visible)

    async def run() -> tuple[list[BatchAck], bool]:
        batches = SecondReleasesFirst()
        requests = requests_of(_batch("1", b"first"), _batch("2", b"second"))
        return await asyncio.wait_for(_collect(requests, FakeContext(bearer()), batches), 5)

    acks, aborted = asyncio.run(run())
    assert [a.batch_id for a in acks] == ["1", "2"]
    assert not aborted


def test_garbage_in_a_stream_ends_it_after_the_acks_of_the_batches_before() -> None:
    batches = FakeBatches()
    context = FakeContext(bearer())
    acks, aborted = _stream(
        _batch("a", b"{}"), b"\xff\xff\xff", _batch("c", b"{}"), context=context, batches=batches
    )
    assert aborted
    assert [a.batch_id for a in acks] == ["a"]
    assert context.code is grpc.StatusCode.INVALID_ARGUMENT
    assert context.details.startswith("batch #1 of the stream: the message is not a valid")
    assert [events for _, events, _ in batches.stored] == [[b"{}"]]


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (BackpressureError("full", retry_after=1.0), grpc.StatusCode.RESOURCE_EXHAUSTED),
        (UnavailableError("shutting down"), grpc.StatusCode.UNAVAILABLE),
        (RuntimeError("a bug"), grpc.StatusCode.INTERNAL),
    ],
)
def test_a_batch_that_cannot_be_stored_ends_the_stream_naming_it(
    error: Exception, code: grpc.StatusCode
) -> None:
    batches = FakeBatches(fail={b"boom": error})
    context = FakeContext(bearer())
    acks, aborted = _stream(
        _batch("a", b"{}"), _batch("b", b"boom"), context=context, batches=batches
    )
    assert aborted
    assert [a.batch_id for a in acks] == ["a"]
    assert context.code is code
    if code is not grpc.StatusCode.INTERNAL:
        assert context.details == f"batch #1 ('b') of the stream: {error}"


def test_a_stream_with_a_bad_key_is_refused_before_reading() -> None:
    batches = FakeBatches()
    context = FakeContext([("x-api-key", "nope")])
    acks, aborted = _stream(_batch("a", b"{}"), context=context, batches=batches)
    assert aborted
    assert acks == []
    assert batches.stored == []
    assert context.code is grpc.StatusCode.UNAUTHENTICATED
