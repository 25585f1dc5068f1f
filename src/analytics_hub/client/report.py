"""What one :meth:`send` did: counts and per-event errors over the caller's whole stream."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class IngestError:
    """One rejected event. ``index`` is its position in the stream given to ``send``."""

    index: int
    field: str
    message: str


@dataclass(frozen=True, slots=True)
class IngestReport:
    """Totals over every batch the server answered.

    ``submitted`` counts the events of those batches; when a ``send`` fails part-way, the
    exception carries the report so far, and events from ``submitted`` on were not sent.
    """

    accepted: int = 0
    rejected: int = 0
    errors: tuple[IngestError, ...] = ()
    batches: int = 0
    submitted: int = 0

    @property
    def ok(self) -> bool:
        """True when no event was rejected."""
        return self.rejected == 0


@dataclass(slots=True)
class ReportBuilder:
    """Accumulates per-batch answers, remapping error indexes to the whole stream."""

    accepted: int = 0
    rejected: int = 0
    errors: list[IngestError] = field(default_factory=list)
    batches: int = 0
    submitted: int = 0

    def add(self, offset: int, size: int, answer: Mapping[str, Any]) -> None:
        """Fold in the server's answer to the batch of ``size`` events starting at ``offset``."""
        self.accepted += _count(answer.get("accepted"))
        self.rejected += _count(answer.get("rejected"))
        self.batches += 1
        self.submitted += size
        raw_errors = answer.get("errors")
        if not isinstance(raw_errors, list):
            return
        for item in raw_errors:
            if not isinstance(item, Mapping):
                continue
            index = item.get("index")
            # An error without a usable index still belongs to this batch: keep it at the
            # batch start rather than drop it, so no rejection goes unreported.
            local = index if isinstance(index, int) and 0 <= index < size else 0
            self.errors.append(
                IngestError(
                    index=offset + local,
                    field=str(item.get("field", "")),
                    message=str(item.get("message", "")),
                )
            )

    def build(self) -> IngestReport:
        """The report as it stands."""
        return IngestReport(
            accepted=self.accepted,
            rejected=self.rejected,
            errors=tuple(self.errors),
            batches=self.batches,
            submitted=self.submitted,
        )


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


__all__ = ["IngestError", "IngestReport", "ReportBuilder"]
