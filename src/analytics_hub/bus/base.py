"""The ``EventBus`` port: durable, ordered hand-off of encoded batches from ingest to writers.

Ingest publishes one message per accepted request and acknowledges the request once the
bus says the message is durable. A writer fetches many messages at a time, commits them
to the store in one transaction, and only then acknowledges them on the bus. Delivery is
at least once: after a crash, messages that were not acknowledged are delivered again,
and the writer's idempotent store writes make that harmless. Because acknowledging
follows the commit, ``settle`` is a barrier for readers of the store: once everything
the bus held at a moment is acknowledged, the store holds it.

Messages are opaque bytes with a weight (the number of events they carry), which is what
bounds the bus: when the weight published but not yet acknowledged would exceed the
capacity, ``publish`` refuses at once with ``BackpressureError``.

A bus that spreads messages over subjects (NATS JetStream: ``events.<module>.<partition>``)
cannot read the opaque bytes itself; the assembly gives it a ``Router`` from the layer
that owns the message format, which cuts one message into ``Part``s.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message handed to a consumer."""

    seq: int  # position on the bus, increasing in publish order
    payload: bytes
    weight: int  # events in the message
    redelivered: bool = False  # published before the last restart, not acknowledged then


@dataclass(frozen=True, slots=True)
class Part:
    """One piece of a published message, keyed for a partitioned bus."""

    module: str  # subject token of the source module: lower-case, no ``.``, ``*``, ``>``
    partition: int  # stable hash of the asset_id, modulo the bus's partition count
    payload: bytes
    weight: int  # events in this piece; the pieces' weights add up to the message's


# (payload, weight, largest piece in bytes) -> the pieces, together carrying the message
Router = Callable[[bytes, int, int], Sequence[Part]]


class EventBus(Protocol):
    """What ingest and writers need from a bus (embedded journal, NATS JetStream, ...)."""

    @property
    def capacity(self) -> int:
        """Weight the bus holds unacknowledged before refusing publishes."""
        ...

    @property
    def shared(self) -> bool:
        """Whether other processes publish and consume on this bus too (NATS), rather
        than this process alone (the journal)."""
        ...

    @property
    def lag(self) -> int:
        """Weight published (or recovered) but not yet acknowledged by a consumer."""
        ...

    def open(self) -> None:
        """Recover what a previous run left unacknowledged and start accepting publishes."""
        ...

    def publish(self, payload: bytes, weight: int) -> Future[int]:
        """Queue a message; the future gives its ``seq`` once it is durable.

        Raises ``BackpressureError`` at once when the bus is full and ``UnavailableError``
        when it is closing.
        """
        ...

    def fetch(
        self, *, max_weight: int, min_weight: int = 1, linger: float = 0.0, timeout: float
    ) -> list[Delivery]:
        """The next durable messages in order, at most ``max_weight`` (at least one message).

        Blocks up to ``timeout`` for a first message; then waits up to ``linger`` more while
        fewer than ``min_weight`` events are ready, so that busy periods make large
        commits. Returns ``[]`` on timeout or when the bus is closing and drained.
        """
        ...

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        """The consumer has made these messages durable elsewhere; they may be dropped."""
        ...

    def reject(self, deliveries: Sequence[Delivery], error: str) -> None:
        """The consumer could not process these; deliver them again later.

        A bus that counts delivery attempts moves a message that keeps failing, with
        ``error``, to its dead-letter subject instead of delivering it again.
        """
        ...

    def settle(self, timeout: float) -> bool:
        """Wait until every message durable on the bus at the call has been acknowledged
        by its consumer group (committed by the writers).

        True once so; False at the timeout, or where the bus cannot tell (not open, not
        reachable). Never raises. Messages published after the call need not be
        acknowledged.
        """
        ...

    def close(self) -> None:
        """Stop accepting publishes and release resources; unacknowledged messages stay."""
        ...


__all__ = ["Delivery", "EventBus", "Part", "Router"]
