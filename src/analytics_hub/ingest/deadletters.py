"""Dead letters: list what was rejected, and replay it after a fix.

A replay decodes the stored raw events again with today's configuration (a currency rate
that was missing, a raised limit). Those that now pass are stored and marked replayed;
those that still fail stay pending and their new errors are returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import anyio.to_thread

from analytics_hub.errors import NotFoundError, ValidationError
from analytics_hub.events import Normalizer
from analytics_hub.ingest.pipeline import Pipeline
from analytics_hub.ingest.service import BatchPricer
from analytics_hub.store.base import DeadLetterRecord, EventStore

MAX_REPLAY = 1000


@dataclass(frozen=True, slots=True)
class ReplayOutcome:
    """What became of each replayed dead letter."""

    replayed: list[str] = field(default_factory=list)
    still_failing: dict[str, list[dict[str, str]]] = field(default_factory=dict)


class DeadLetterService:
    """Lists and replays a tenant's dead letters."""

    def __init__(
        self,
        store: EventStore,
        normalizer: Normalizer,
        pipeline: Pipeline,
        *,
        pricer: BatchPricer | None = None,
    ) -> None:
        self._store = store
        self._normalizer = normalizer
        self._pipeline = pipeline
        self._pricer = pricer

    async def list(
        self, tenant_id: str, *, limit: int, before: str | None, status: str | None
    ) -> list[DeadLetterRecord]:
        """A page of dead letters, newest first."""
        if status not in (None, "pending", "replayed"):
            raise ValidationError("status must be 'pending' or 'replayed'")
        return await anyio.to_thread.run_sync(
            lambda: self._store.list_dead_letters(
                tenant_id, limit=limit, before=before, status=status
            )
        )

    async def replay(self, tenant_id: str, ids: Sequence[str]) -> ReplayOutcome:
        """Re-ingest the named dead letters of ``tenant_id``."""
        if not ids:
            raise ValidationError("give the ids of the dead letters to replay")
        if len(ids) > MAX_REPLAY:
            raise ValidationError(f"at most {MAX_REPLAY} dead letters per replay")
        records = await anyio.to_thread.run_sync(self._store.get_dead_letters, tenant_id, ids)
        pending = [r for r in records if r.status == "pending"]
        if not records:
            raise NotFoundError("none of these dead letters exist for this tenant")
        if not pending:
            return ReplayOutcome(replayed=[])
        body = ("[" + ",".join(r.raw for r in pending) + "]").encode()
        batch = self._normalizer.decode_json(
            body, tenant_id=tenant_id, received_at=datetime.now(UTC)
        )
        failing: dict[str, list[dict[str, str]]] = {}
        for err in batch.errors:
            failing.setdefault(pending[err.index].id, []).append(
                {"field": err.field, "message": err.message}
            )
        ok = [r.id for r in pending if r.id not in failing]
        if batch.table.num_rows:
            table = batch.table
            if self._pricer is not None:  # priced as at ingest: replayed calls are calls
                table = self._pricer.price(tenant_id, table)
            await self._pipeline.write(table, visible=True)
        if ok:
            await anyio.to_thread.run_sync(self._store.mark_dead_letters_replayed, tenant_id, ok)
        return ReplayOutcome(replayed=ok, still_failing=failing)


__all__ = ["MAX_REPLAY", "DeadLetterService", "ReplayOutcome"]
