"""What mapping one OTLP request gives: envelopes, and the items that could not be mapped.

Items (spans or log records) are numbered in request order across all resources and
scopes, from 0; that number is the ``index`` of every per-item error, so that a rejected
span can be found in the request that carried it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import msgspec

from analytics_hub.events import Envelope, EventError

_encode = msgspec.json.Encoder().encode


@dataclass(slots=True)
class Mapped:
    """Envelopes in item order (``positions`` gives each one's item index), the items
    rejected by the mapping (``errors``, with a short description of each in
    ``rejected_raw`` for the dead-letter store), the number of items in the request, and
    how many were dropped on purpose (trace-context spans, when the options say so)."""

    envelopes: list[Envelope] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    errors: list[EventError] = field(default_factory=list)
    rejected_raw: dict[int, str] = field(default_factory=dict)
    items: int = 0
    dropped: int = 0

    def add(self, index: int, envelope: Envelope) -> None:
        """Keep ``envelope``, made from item ``index``."""
        self.envelopes.append(envelope)
        self.positions.append(index)

    def reject(self, index: int, field_: str, message: str, described: dict[str, object]) -> None:
        """Reject item ``index``; ``described`` identifies it in the dead-letter store."""
        self.errors.append(EventError(index, field_, message))
        self.rejected_raw[index] = _encode(described).decode()


__all__ = ["Mapped"]
