"""JetStream plumbing of ``NatsBus``: setup, encoding, retried publishes, dead letters, settling.

The coroutines run on the bus's private event loop; the encoding functions in the
publishing and fetching threads. Two facts measured on nats-server 2.9 shape it (see the
tooling notes): after a node dies, a publish can wait forever for its acknowledgement, so
every attempt has its own deadline and is sent again, with the same ``Nats-Msg-Id`` so
that the stream keeps one copy; and leader elections take seconds, so setup and
publishes retry the errors an election produces.

Pulling messages is in :mod:`analytics_hub.bus.pull`.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from time import monotonic
from typing import Any

import nats.errors
import nats.js.errors
import structlog
import zstandard
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api

from analytics_hub.bus.base import Part
from analytics_hub.errors import PayloadTooLargeError

log = structlog.get_logger(__name__)

MSG_ID = "Nats-Msg-Id"
WEIGHT = "Hub-Weight"
ENCODING = "Hub-Encoding"
ERROR = "Hub-Error"
ORIGINAL_SUBJECT = "Hub-Subject"
ORIGINAL_SEQ = "Hub-Stream-Seq"
DELIVERIES = "Hub-Deliveries"

# What a leader election or a lost node looks like to a client: worth another attempt.
RETRYABLE: tuple[type[BaseException], ...] = (
    asyncio.TimeoutError,  # nats.errors.TimeoutError is one
    nats.errors.NoRespondersError,
    nats.js.errors.NoStreamResponseError,
    nats.js.errors.ServiceUnavailableError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.StaleConnectionError,
)
DUPLICATE_WINDOW = 120.0  # seconds a Nats-Msg-Id is remembered; > any publish's retries
_ALREADY_EXISTS = 10058  # JetStream error code: stream name already in use
_COMPRESS_MIN = 1024  # smaller payloads are sent as they are
HEADER_ROOM = 4096  # bytes of a message's max_payload left for headers
_BAD_TOKEN = frozenset(".*> \t\r\n")
_local = threading.local()  # zstd contexts are not thread-safe: one per thread


@dataclass(frozen=True, slots=True)
class NatsTuning:
    """Timings and limits of a ``NatsBus``; the defaults suit production."""

    ack_wait: float = 30.0  # a dead consumer's messages are delivered again after this
    max_deliveries: int = 5  # then the message goes to the dead-letter subject
    retry_delay: float = 5.0  # a rejected message is delivered again after this
    publish_timeout: float = 30.0  # give up a publish (503) after this; < duplicate window
    attempt_timeout: float = 2.0  # one publish attempt; then it is sent again
    setup_timeout: float = 20.0  # creating streams may wait for a leader election
    typical_weight: int = 1000  # events per message assumed before any was seen
    lag_interval: float = 0.5  # how often the consumer's pending count is read
    max_ack_pending: int = 20_000  # messages the group may hold unacknowledged


@dataclass(frozen=True, slots=True)
class Wire:
    """One piece, ready to publish."""

    subject: str
    data: bytes
    headers: dict[str, str]
    weight: int


def encode_part(part: Part, prefix: str, max_payload: int) -> Wire:
    """``part`` as a message on ``<prefix>.<module>.<partition>``, with a fresh msg id."""
    if not part.module or _BAD_TOKEN & set(part.module):
        raise ValueError(f"not a subject token: {part.module!r}")
    headers = {MSG_ID: uuid.uuid4().hex, WEIGHT: str(part.weight)}
    data = encode_payload(part.payload, headers)
    if len(data) > max_payload - HEADER_ROOM:
        raise PayloadTooLargeError(
            f"a bus message of {len(data)} bytes exceeds the NATS server's max_payload "
            f"({max_payload} bytes); send smaller batches"
        )
    return Wire(f"{prefix}.{part.module}.{part.partition}", data, headers, part.weight)


def encode_payload(data: bytes, headers: dict[str, str]) -> bytes:
    """The bytes to send for ``data``: zstd-compressed (noted in ``headers``) unless tiny.

    Arrow IPC batches shrink about threefold, which is as much less to replicate and keep.
    """
    if len(data) < _COMPRESS_MIN:
        return data
    compressor: zstandard.ZstdCompressor | None = getattr(_local, "c", None)
    if compressor is None:
        compressor = _local.c = zstandard.ZstdCompressor(level=1)
    headers[ENCODING] = "zstd"
    return compressor.compress(data)


def decode_payload(msg: Msg) -> bytes:
    """The payload that was published as ``msg``."""
    if (msg.headers or {}).get(ENCODING) != "zstd":
        return bytes(msg.data)
    decompressor: zstandard.ZstdDecompressor | None = getattr(_local, "d", None)
    if decompressor is None:
        decompressor = _local.d = zstandard.ZstdDecompressor()
    return bytes(decompressor.decompress(msg.data))


def weight_of(msg: Msg) -> int:
    """Events in a message, from its header (1 when a foreign publisher left it out)."""
    try:
        return max(1, int((msg.headers or {}).get(WEIGHT, 1)))
    except ValueError:
        return 1


async def retry(
    what: str, attempt: Callable[[], Any], *, deadline: float, first_delay: float = 0.05
) -> Any:
    """Await ``attempt()`` until it succeeds or ``deadline`` (monotonic) passes.

    Only ``RETRYABLE`` errors are retried; the last one is raised at the deadline.
    """
    delay = first_delay
    while True:
        try:
            return await attempt()
        except RETRYABLE as exc:
            left = deadline - monotonic()
            if left <= 0:
                raise
            log.debug("jetstream call failed; retrying", call=what, error=repr(exc))
            await asyncio.sleep(min(delay, left))
            delay = min(delay * 2, 1.0)


async def setup(
    js: JetStreamContext,
    *,
    stream: str,
    dead_stream: str,
    prefix: str,
    group: str,
    replicas: int,
    max_age: float,
    ack_wait: float,
    max_ack_pending: int,
    deadline: float,
) -> None:
    """The event stream (``<prefix>.>``), its dead-letter stream and the group's consumer.

    Retried until ``deadline``: a cluster that just started is still electing leaders.
    """
    for name, subject in ((stream, f"{prefix}.>"), (dead_stream, f"deadletter.{prefix}.>")):

        async def make(name: str = name, subject: str = subject) -> None:
            await ensure_stream(
                js, name=name, subjects=[subject], replicas=replicas, max_age=max_age,
                duplicate_window=DUPLICATE_WINDOW,
            )  # fmt: skip

        await retry(f"create stream {name}", make, deadline=deadline)

    async def consumer() -> None:
        await ensure_consumer(
            js, stream=stream, durable=group, filter_subject=f"{prefix}.>",
            ack_wait=ack_wait, max_ack_pending=max_ack_pending,
        )  # fmt: skip

    await retry("create consumer", consumer, deadline=deadline)


async def ensure_stream(
    js: JetStreamContext,
    *,
    name: str,
    subjects: list[str],
    replicas: int,
    max_age: float,
    duplicate_window: float,
) -> None:
    """Create the stream, or bring an existing one to this configuration."""
    config = api.StreamConfig(
        name=name,
        subjects=subjects,
        retention=api.RetentionPolicy.LIMITS,
        storage=api.StorageType.FILE,
        num_replicas=replicas,
        max_age=max_age,
        duplicate_window=duplicate_window,
        discard=api.DiscardPolicy.OLD,
    )
    try:
        await js.add_stream(config)
    except nats.js.errors.BadRequestError as exc:
        if exc.err_code != _ALREADY_EXISTS:
            raise
        await js.update_stream(config)


async def ensure_consumer(
    js: JetStreamContext,
    *,
    stream: str,
    durable: str,
    filter_subject: str,
    ack_wait: float,
    max_ack_pending: int,
) -> None:
    """Create the durable pull consumer if it does not exist yet (an existing one is kept).

    ``max_deliver`` stays unlimited: the bus itself moves a message that was delivered too
    often to the dead-letter subject, with its error; the server would only stop
    delivering it, silently.
    """
    try:
        await js.consumer_info(stream, durable)
        return
    except nats.js.errors.NotFoundError:
        pass
    await js.add_consumer(
        stream,
        api.ConsumerConfig(
            name=durable,
            durable_name=durable,
            ack_policy=api.AckPolicy.EXPLICIT,
            deliver_policy=api.DeliverPolicy.ALL,
            ack_wait=ack_wait,
            max_deliver=-1,
            filter_subject=filter_subject,
            max_ack_pending=max_ack_pending,
        ),
    )


async def publish(
    js: JetStreamContext,
    subject: str,
    data: bytes,
    headers: dict[str, str],
    *,
    stream: str,
    attempt_timeout: float,
    deadline: float,
) -> int:
    """Publish until JetStream acknowledges; the stream sequence of the (one) stored copy.

    Every attempt carries the same ``Nats-Msg-Id`` (in ``headers``), so an attempt whose
    acknowledgement was lost and is sent again is stored once: JetStream answers the
    retry as a duplicate, with the first copy's sequence.
    """

    async def attempt() -> int:
        left = max(0.001, min(attempt_timeout, deadline - monotonic()))
        ack = await js.publish(subject, data, timeout=left, stream=stream, headers=dict(headers))
        return int(ack.seq)

    seq: int = await retry(f"publish {subject}", attempt, deadline=deadline)
    return seq


async def stream_last_seq(js: JetStreamContext, stream: str, *, timeout: float) -> int:
    """The sequence of the last message ``stream`` stored (0 while it never stored any)."""
    info = await asyncio.wait_for(js.stream_info(stream), timeout)
    return int(info.state.last_seq)


def acked_through(info: api.ConsumerInfo, seq: int) -> bool:
    """Whether the consumer has acknowledged every message of its stream up to ``seq``.

    Its ack floor says so (a ``term``, as dead-lettering does, moves the floor too); so
    does having nothing left to deliver and nothing unacknowledged, for a stream whose
    first messages aged out before the consumer was delivered them, where the floor can
    stay behind.
    """
    floor = info.ack_floor.stream_seq if info.ack_floor else 0
    return floor >= seq or (not info.num_pending and not info.num_ack_pending)


async def wait_acked(
    js: JetStreamContext,
    *,
    stream: str,
    durable: str,
    deadline: float,
    interval: float = 0.02,
    attempt_timeout: float = 2.0,
) -> bool:
    """Wait until consumer ``durable`` acknowledged all that ``stream`` held at the call.

    Reads the stream's last sequence, then polls the consumer's info every ``interval``
    until it is acknowledged through it (:func:`acked_through`). True once so, False
    when ``deadline`` (monotonic) passes first; errors a leader election or a lost
    connection produces are tried again until then, others raise.
    """

    def left() -> float:
        return max(0.001, min(attempt_timeout, deadline - monotonic()))

    target: int = await retry(
        f"stream info {stream}",
        lambda: stream_last_seq(js, stream, timeout=left()),
        deadline=deadline,
        first_delay=interval,
    )
    while True:
        try:
            info = await js.consumer_info(stream, durable, timeout=left())
            if acked_through(info, target):
                return True
        except RETRYABLE as exc:
            log.debug("jetstream consumer info failed; retrying", error=repr(exc))
        pause = deadline - monotonic()
        if pause <= 0:
            return False
        await asyncio.sleep(min(interval, pause))


async def dead_letter(
    js: JetStreamContext,
    msg: Msg,
    error: str,
    *,
    attempts: int,
    dead_stream: str,
    attempt_timeout: float,
    deadline: float,
) -> None:
    """Copy ``msg`` to ``deadletter.<its subject>`` with ``error``, then stop delivering it.

    Never raises: a message that could not be moved stays where it is, to be delivered
    (and dead-lettered) again after the ack wait.

    The copy's ``Nats-Msg-Id`` derives from the original's sequence, so that doing this
    twice (the process died between the copy and the ``term``) stores one copy.
    """
    md = msg.metadata
    headers = {
        MSG_ID: f"dead-{md.stream}-{md.sequence.stream}",
        ERROR: " ".join(error.split())[:2000],  # header values are one line
        ORIGINAL_SUBJECT: msg.subject,
        ORIGINAL_SEQ: str(md.sequence.stream),
        DELIVERIES: str(attempts),
    }
    for name in (WEIGHT, ENCODING):
        if msg.headers and name in msg.headers:
            headers[name] = msg.headers[name]
    try:
        await publish(
            js, f"deadletter.{msg.subject}", msg.data, headers, stream=dead_stream,
            attempt_timeout=attempt_timeout, deadline=deadline,
        )  # fmt: skip
        await msg.term()
    except Exception as exc:
        # Left as it is: delivered again after the ack wait, dead-lettered again then.
        log.error("could not dead-letter a message", seq=md.sequence.stream, error=repr(exc))
        return
    log.error(
        "message moved to the dead-letter subject",
        seq=md.sequence.stream, subject=msg.subject, deliveries=attempts, error=headers[ERROR],
    )  # fmt: skip


__all__ = [
    "DELIVERIES",
    "DUPLICATE_WINDOW",
    "ENCODING",
    "ERROR",
    "HEADER_ROOM",
    "MSG_ID",
    "ORIGINAL_SEQ",
    "ORIGINAL_SUBJECT",
    "RETRYABLE",
    "WEIGHT",
    "NatsTuning",
    "Wire",
    "acked_through",
    "dead_letter",
    "decode_payload",
    "encode_part",
    "encode_payload",
    "ensure_consumer",
    "ensure_stream",
    "publish",
    "retry",
    "setup",
    "stream_last_seq",
    "wait_acked",
    "weight_of",
]
