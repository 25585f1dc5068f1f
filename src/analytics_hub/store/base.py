"""The ``EventStore`` port: what every event store backend provides.

A backend owns its schema, migrations, rollups and retention. Above this port nothing
knows which engine is in use except through ``dialect`` (the name of the pure SQL
dialect in :mod:`analytics_hub.query.dialects` that compiles queries for it).

Tables every backend keeps (the column lists live in :mod:`analytics_hub.events.columns`):

- ``events``: one row per accepted event, columns ``EVENT_COLUMNS``.
- ``rollup_1m`` and ``rollup_1h``: ``bucket`` (start of the minute / hour, UTC),
  the ``ROLLUP_DIMENSIONS``, the ``ROLLUP_MEASURES``, and the latency histogram as two
  parallel arrays ``lat_bins`` (integer bin, see :mod:`analytics_hub.events.histogram`) and
  ``lat_counts``. Rows are additive deltas: several rows may exist for one bucket and
  dimension combination (one per commit) until compaction merges them, so readers always
  aggregate with ``sum``/``min``/``max``.
- ``dead_letters``: rejected events with their errors, listable and replayable.
- ``anomalies``, ``anomaly_feedback``, ``anomaly_versions``: what anomaly detection
  writes back (see :mod:`analytics_hub.store.anomalies`).

Re-pricing (:meth:`EventStore.reprice`) is the one operation that changes stored events:
it gives model calls a cost once their model has a price, and appends rollup deltas that
carry the change, so that rollups keep adding up to the raw events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa

from analytics_hub.store.anomalies import (
    AnomalyListing,
    AnomalyRecord,
    DetectorVersion,
    LabelOutcome,
    SeriesFeedback,
    SeriesMinute,
    SeriesSelector,
)


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What one idempotent write did: rows newly stored and rows skipped as duplicates.

    ``new_rows`` are the rows newly stored (the live feed shows them, so that a replayed
    batch is not shown twice); ``None`` when a backend does not say which they were. It
    takes no part in comparisons: two results are equal when their counts are.
    """

    inserted: int
    duplicates: int
    new_rows: pa.Table | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class QueryRows:
    """Result of a compiled query: column names and row tuples, in order."""

    columns: list[str]
    rows: list[tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long each kind of data is kept, in days."""

    raw_days: int = 30
    minute_rollup_days: int = 90
    hour_rollup_days: int = 365
    dead_letter_days: int = 30


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """Rows deleted by one retention pass, per table."""

    deleted: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A rejected event: its raw text, why it was rejected, and where it came from."""

    tenant_id: str
    id: str
    received_at: datetime
    index: int
    errors: list[dict[str, str]]
    raw: str


@dataclass(frozen=True, slots=True)
class DeadLetterRecord:
    """A stored dead letter as listed by the API."""

    id: str
    tenant_id: str
    received_at: datetime
    index: int
    errors: list[dict[str, str]]
    raw: str
    status: str  # pending | replayed
    replayed_at: datetime | None


@dataclass(frozen=True, slots=True)
class RepriceReport:
    """What one re-pricing pass did."""

    examined: int  # model calls looked at (unpriced ones whose model may have a price)
    repriced: int  # model calls whose cost changed (now ``computed``)
    unpriced: int  # model calls looked at that still have no price


class Repricer(Protocol):
    """Prices one tenant's model calls for :meth:`EventStore.reprice` (the pricing
    feature implements it; the store only asks)."""

    def covers(self, provider: str, model_id: str) -> bool:
        """Whether this model may have a price on some day (a filter before reading)."""
        ...

    def costs(self, rows: pa.Table) -> pa.Array:
        """USD per row (float64, null: no price) of ``rows``, which carry the columns
        ``ts``, ``provider``, ``model_id``, ``input_tokens``, ``output_tokens``,
        ``cached_input_tokens``, ``reasoning_tokens`` and ``total_tokens``."""
        ...


@runtime_checkable
class EventStore(Protocol):
    """Port of the event store. Implementations must be safe to call from many threads."""

    #: name of the SQL dialect module that compiles queries for this store
    dialect: str

    def migrate(self) -> list[int]:
        """Apply pending schema migrations; return the versions applied now."""
        ...

    def schema_version(self) -> int:
        """The highest applied migration version."""
        ...

    def write_events(self, table: pa.Table) -> WriteResult:
        """Store a batch (schema ``EVENT_SCHEMA``) atomically, with its rollup deltas.

        Idempotent: an event whose ``(tenant_id, event_id)`` is already stored (within
        the same ``claimed_ts``), or repeated inside the batch, is skipped and counted as a
        duplicate. When this returns, the batch is durable.
        """
        ...

    def fetch(self, sql: str, params: Sequence[object]) -> QueryRows:
        """Run one read-only parameterised statement produced by this store's dialect."""
        ...

    def write_dead_letters(self, letters: Sequence[DeadLetter]) -> None:
        """Append rejected events."""
        ...

    def list_dead_letters(
        self, tenant_id: str, *, limit: int, before: str | None = None, status: str | None = None
    ) -> list[DeadLetterRecord]:
        """A tenant's dead letters, newest first; ``before`` is the id to page after."""
        ...

    def get_dead_letters(self, tenant_id: str, ids: Sequence[str]) -> list[DeadLetterRecord]:
        """The named dead letters of one tenant (unknown ids are left out)."""
        ...

    def mark_dead_letters_replayed(self, tenant_id: str, ids: Sequence[str]) -> int:
        """Mark dead letters as replayed; returns how many changed."""
        ...

    def apply_retention(
        self, now: datetime, default: RetentionPolicy, per_tenant: dict[str, RetentionPolicy]
    ) -> RetentionReport:
        """Delete what is older than its retention, tenant by tenant."""
        ...

    def compact_rollups(self, older_than: datetime) -> int:
        """Merge rollup delta rows of buckets that closed before ``older_than``."""
        ...

    def reprice(
        self,
        tenant_id: str,
        start: datetime,
        end: datetime,
        repricer: Repricer,
        *,
        recompute: bool = False,
    ) -> RepriceReport:
        """Price a tenant's model calls with event time in ``[start, end)`` again.

        Unpriced calls (``cost_source = unpriced``) that ``repricer`` now prices get the
        cost and ``computed``; with ``recompute``, calls already ``computed`` are priced
        again too (and become ``unpriced`` when their price went away). Provided costs are
        never touched. Each change is stored with rollup deltas (cost, unpriced count) in
        the same transaction, a slice of time at a time.
        """
        ...

    # -- anomaly detection (analytics_hub.store.anomalies) --------------------------------

    def series_minutes(
        self, start: datetime, end: datetime, selector: SeriesSelector | None = None
    ) -> list[SeriesMinute]:
        """Per-series figures of model calls for each minute in ``[start, end)`` that has
        any, from the minute rollups, in one statement; ordered by minute. A series is
        ``(tenant_id, asset_id, model_id)``; ``selector`` narrows them."""
        ...

    def write_anomalies(self, records: Sequence[AnomalyRecord]) -> int:
        """Store anomalies in one transaction; returns how many were new (a record whose
        tenant and id are stored already is skipped)."""
        ...

    def list_anomalies(self, tenant_id: str, listing: AnomalyListing) -> list[AnomalyRecord]:
        """A page of a tenant's anomalies matching ``listing``: newest minute first, then
        id descending; ``listing.after`` is the (minute, id) to page after."""
        ...

    def get_anomaly(self, tenant_id: str, anomaly_id: str) -> AnomalyRecord | None:
        """One of a tenant's anomalies, or None."""
        ...

    def label_anomaly(
        self, tenant_id: str, anomaly_id: str, label: str | None, at: datetime
    ) -> LabelOutcome | None:
        """Label an anomaly (``true_positive``/``false_positive``; None withdraws the
        label) and move its series' feedback counts to match, in one transaction.
        None when the tenant has no such anomaly."""
        ...

    def series_feedback(self, tenant_id: str | None = None) -> list[SeriesFeedback]:
        """The feedback counts of every series and metric that has any (or one tenant's)."""
        ...

    def write_detector_versions(self, versions: Sequence[DetectorVersion]) -> None:
        """Store detector versions (one already stored is kept as is)."""
        ...

    def list_detector_versions(
        self,
        tenant_id: str,
        *,
        asset_id: str | None = None,
        model_id: str | None = None,
        limit: int = 100,
    ) -> list[DetectorVersion]:
        """A tenant's detector versions, newest first."""
        ...

    def quiet_moment(self) -> None:
        """Told at a moment when a pause costs least (just after the anomaly stream stored
        a minute's anomalies, a minute before the next; or while the writer holds ingest
        back, see :meth:`housekeeping_due`): housekeeping that the store would otherwise
        do inside some later commit may be done now. Never raises."""
        ...

    def housekeeping_due(self, *, at_quiet_moment: bool = False) -> bool:
        """Whether the store would soon stall a commit for its own housekeeping (DuckDB:
        folding a large write-ahead log into the file), so that the writer should make a
        quiet moment now: stop acknowledging, commit what it acknowledged, then call
        :meth:`quiet_moment`. With ``at_quiet_moment``: whether :meth:`quiet_moment`
        would do any housekeeping now (a lower bar, for a moment that is quiet anyway).
        Cheap; never raises."""
        ...

    def check(self) -> None:
        """Raise ``UnavailableError`` unless the store is writable and queryable."""
        ...

    def close(self) -> None:
        """Release connections and files. Idempotent."""
        ...


__all__ = [
    "DeadLetter",
    "DeadLetterRecord",
    "EventStore",
    "QueryRows",
    "RepriceReport",
    "Repricer",
    "RetentionPolicy",
    "RetentionReport",
    "WriteResult",
]
