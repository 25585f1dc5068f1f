"""How many events a consumer group has yet to acknowledge, as one process can tell.

JetStream counts messages, not events, and a process only learns the count by asking
(``consumer_info``), which is too slow to do on every publish. So the book is exact for
what this process knows itself and estimated for the rest:

- events it published that JetStream has not acknowledged yet (in flight),
- events it published, stored, not yet delivered to it (known by stream sequence),
- events delivered to it and not yet acknowledged (held),
- plus the consumer's other pending messages (published or held by other processes),
  counted at the last ``consumer_info`` and weighed at the average message weight seen.

In one process that both publishes and consumes, the estimate is zero and the lag exact.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

M = TypeVar("M")


@dataclass(slots=True)
class _Held(Generic[M]):
    msg: M
    weight: int


class LagBook(Generic[M]):
    """The lag accounting of a bus, safe to use from any thread."""

    def __init__(self, typical_weight: int) -> None:
        self._lock = threading.Lock()
        self._inflight = 0
        self._inflight_pieces = 0  # messages sent, JetStream's answer not yet here
        self._own: dict[int, int] = {}  # seq -> weight
        self._own_weight = 0
        self._held: dict[int, _Held[M]] = {}
        self._held_weight = 0
        # Seqs delivered to this process lately: JetStream may deliver a message before
        # its publisher has read the publish acknowledgement, which must then not count
        # it again as stored and undelivered.
        self._taken: set[int] = set()
        self._others = 0  # messages
        self._delivered_before = 0  # the consumer's delivered seq at the last snapshot
        self._avg = float(typical_weight)

    @property
    def lag(self) -> int:
        """Events published to the stream and not yet acknowledged by the group."""
        with self._lock:
            return self._lag()

    @property
    def average_weight(self) -> float:
        """Average events per message lately (the typical weight before any was seen)."""
        return self._avg

    def reserve(self, weight: int, capacity: int) -> int | None:
        """Count ``weight`` as in flight, unless it would exceed ``capacity``.

        Returns the lag that made it refuse, or None when reserved. As in the journal, a
        message is always let in while nothing waits, however heavy.
        """
        with self._lock:
            lag = self._lag()
            if lag and lag + weight > capacity:
                return lag
            self._inflight += weight
            return None

    def sending(self, pieces: int) -> None:
        """The reserved publish goes out as ``pieces`` messages."""
        with self._lock:
            self._inflight_pieces += pieces

    def published(self, weight: int, pieces: int, stored: list[tuple[int, int]]) -> None:
        """A publish of ``weight`` in ``pieces`` ended; ``stored`` are (seq, weight)."""
        with self._lock:
            self._inflight -= weight
            self._inflight_pieces -= pieces
            for seq, w in stored:
                self._observe(w)
                # A duplicate answer names the first copy; a seq already delivered here
                # is held (or done) already.
                if seq not in self._own and seq not in self._taken:
                    self._own[seq] = w
                    self._own_weight += w

    def hold(self, seq: int, weight: int, msg: M) -> None:
        """``msg`` was delivered to this process."""
        with self._lock:
            self._own_weight -= self._own.pop(seq, 0)
            previous = self._held.pop(seq, None)
            if previous is not None:
                self._held_weight -= previous.weight
            self._held[seq] = _Held(msg, weight)
            self._held_weight += weight
            self._taken.add(seq)
            self._observe(weight)

    def messages(self, seqs: list[int]) -> list[M]:
        """The held messages of these seqs (still held)."""
        with self._lock:
            return [self._held[seq].msg for seq in seqs if seq in self._held]

    def release(self, seqs: list[int]) -> list[M]:
        """Stop holding these (acknowledged or handed back); their messages.

        Call it once the server has the acknowledgements, so that a snapshot taken in
        between counts them twice (briefly more lag) rather than not at all.
        """
        out: list[M] = []
        with self._lock:
            for seq in seqs:
                held = self._held.pop(seq, None)
                if held is not None:
                    self._held_weight -= held.weight
                    out.append(held.msg)
        return out

    def release_all(self) -> list[M]:
        """Stop holding anything; the messages that were held."""
        with self._lock:
            out = [h.msg for h in self._held.values()]
            self._held.clear()
            self._held_weight = 0
            return out

    def held(self) -> list[M]:
        """The messages held now."""
        with self._lock:
            return [h.msg for h in self._held.values()]

    def snapshot(
        self, delivered_seq: int, pending_messages: int, buffered: Iterable[int] = ()
    ) -> None:
        """What the consumer reported: its last delivered seq, pending plus unacknowledged.

        ``buffered`` are the seqs delivered to this process and not yet taken by a fetch
        (they reach ``hold`` later, and stay counted as ours until then).
        """
        with self._lock:
            # Ours that were delivered by the previous snapshot and neither reached ``hold``
            # nor wait in this process's buffer went to another process: from now on they
            # are part of the consumer's count. Ours delivered since may still be on their
            # way here, so they stay ours for one more snapshot (else they would count
            # twice until then).
            gone = self._delivered_before
            waiting = set(buffered)
            for seq in [s for s in self._own if s <= gone and s not in waiting]:
                self._own_weight -= self._own.pop(seq)
            self._taken = {s for s in self._taken if s > gone}
            self._delivered_before = delivered_seq
            # Pieces in flight may be in the server's count already, not yet in ours.
            mine = len(self._own) + len(self._held) + self._inflight_pieces
            self._others = max(0, pending_messages - mine)

    def forget_others(self) -> None:
        """No longer watching the consumer: only what this process knows remains."""
        with self._lock:
            self._others = 0

    def _lag(self) -> int:
        estimated = round(self._others * self._avg)
        return self._inflight + self._own_weight + self._held_weight + estimated

    def _observe(self, weight: int) -> None:
        self._avg += 0.05 * (weight - self._avg)


__all__ = ["LagBook"]
