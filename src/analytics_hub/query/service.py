"""The query feature's entry point: plan, compile with the store's dialect, fetch, shape.

``QueryService`` is what the API calls. It never sees SQL details: the planner decides
raw or rollups, the dialect writes the statement, the store runs it, and this module
turns rows into results (merging rollup histograms into percentiles, sorting in Python
when a page is ordered by such a percentile, and issuing cursors).
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import ValidationError as PydanticValidationError

from analytics_hub.errors import ValidationError
from analytics_hub.events import histogram
from analytics_hub.query import cursor as cursors
from analytics_hub.query.dialects import get_dialect
from analytics_hub.query.model import (
    Bucket,
    EventPage,
    Filter,
    Overview,
    PlanSegment,
    Query,
    QueryMeta,
    QueryResult,
    TimeRange,
)
from analytics_hub.query.overview import Answer, build_overview
from analytics_hub.query.planner import (
    MAX_PYTHON_SORT_GROUPS,
    AggregatePlan,
    EventsPlan,
    Limits,
    Segment,
    plan_query,
)
from analytics_hub.query.render import envelope, flat_event, jsonable, rfc3339
from analytics_hub.query.validation import SortKey
from analytics_hub.store.base import EventStore

#: what ``list_events`` shows without a range: the last day, plus a little of the
#: future, because events up to the clock-skew guard's limit keep their claimed time
DEFAULT_LISTING_WINDOW = timedelta(hours=24)
_FUTURE_SLACK = timedelta(minutes=5)

RowShaper = Callable[[Sequence[str], Sequence[object]], dict[str, Any]]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class QueryService:
    """Answers typed queries for one store. Safe to share between threads."""

    def __init__(
        self,
        store: EventStore,
        *,
        max_rows: int = 10_000,
        max_buckets: int = 10_000,
        max_unbucketed_range_days: int = 400,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._store = store
        self._dialect = get_dialect(store.dialect)
        self._limits = Limits(max_rows, max_buckets, max_unbucketed_range_days)
        self._clock = clock

    def run(self, tenant_id: str, query: Query, *, allow_rollups: bool = True) -> QueryResult:
        """Answer ``query`` for ``tenant_id``.

        ``allow_rollups=False`` forces the raw plan (exact percentiles; used to check the
        rollup plan against it).
        """
        return self._answer(tenant_id, query, allow_rollups=allow_rollups).result

    def check(self, tenant_id: str, query: Query) -> None:
        """Raise ``ValidationError`` unless ``run`` would accept ``query``; reads nothing.

        The same planner and limits as ``run``, so that what passes here (a saved
        dashboard panel, say) is a query that runs.
        """
        plan_query(tenant_id, query, self._limits)

    def _answer(self, tenant_id: str, query: Query, *, allow_rollups: bool = True) -> Answer:
        started = time.perf_counter()
        plan = plan_query(tenant_id, query, self._limits, allow_rollups=allow_rollups)
        segments: tuple[Segment, ...]
        source: Literal["raw", "rollup"]
        histograms: list[list[tuple[int, int]]] | None = None
        if isinstance(plan, EventsPlan):
            rows, next_cursor = self._events(plan, query.time_range, flat_event)
            segments, source, approximate = (Segment("raw", plan.start, plan.end),), "raw", False
        else:
            rows, next_cursor, histograms = self._aggregate(plan)
            segments, source, approximate = plan.segments, plan.source, plan.rollup_percentiles
        meta = QueryMeta(
            source=source,
            plan=[
                PlanSegment(source=s.source, from_=rfc3339(s.start), to=rfc3339(s.end))
                for s in segments
            ],
            elapsed_ms=round((time.perf_counter() - started) * 1000, 3),
            approximate_percentiles=approximate,
        )
        return Answer(QueryResult(rows=rows, next_cursor=next_cursor, meta=meta), histograms)

    def list_events(
        self,
        tenant_id: str,
        *,
        time_range: TimeRange | None = None,
        filters: Sequence[Filter] = (),
        limit: int = 100,
        cursor: str | None = None,
    ) -> EventPage:
        """Events as envelopes, newest first; without a range, the last 24 hours.

        A cursor carries the range of its first page, so paging a default range does not
        slide with the clock.
        """
        if not 1 <= limit <= self._limits.max_rows:
            raise ValidationError(f"limit must be between 1 and {self._limits.max_rows}")
        if time_range is None:
            if cursor is not None:
                _, (start, end) = cursors.decode_position(cursor, None)
                time_range = TimeRange(
                    from_=datetime.fromisoformat(start), to=datetime.fromisoformat(end)
                )
            else:
                now = self._clock()
                time_range = TimeRange(from_=now - DEFAULT_LISTING_WINDOW, to=now + _FUTURE_SLACK)
        try:
            query = Query(time_range=time_range, filters=list(filters), limit=limit, cursor=cursor)
        except PydanticValidationError as exc:  # e.g. an oversized cursor: the caller's fault
            raise ValidationError(f"invalid event listing: {exc.errors()[0]['msg']}") from None
        plan = plan_query(tenant_id, query, self._limits)
        assert isinstance(plan, EventsPlan)  # no aggregates, no group_by
        rows, next_cursor = self._events(plan, time_range, envelope)
        return EventPage(events=rows, next_cursor=next_cursor)

    def get_event(self, tenant_id: str, event_id: str) -> dict[str, Any] | None:
        """One event as an envelope, or None when this tenant has no such event."""
        try:
            canonical = str(uuid.UUID(event_id))
        except (ValueError, TypeError, AttributeError):
            return None  # event ids are UUIDs: anything else cannot exist
        compiled = self._dialect.compile_get_event(tenant_id, canonical)
        result = self._store.fetch(compiled.sql, compiled.params)
        if not result.rows:
            return None
        return envelope(result.columns, result.rows[0])

    def overview(
        self, tenant_id: str, *, from_: datetime, to: datetime, bucket: Bucket
    ) -> Overview:
        """Totals, a series per bucket and top lists of model calls, via typed queries."""
        return build_overview(
            lambda q: self._answer(tenant_id, q), from_, to, bucket, page=self._limits.max_rows
        )

    def _events(
        self, plan: EventsPlan, time_range: TimeRange, shape: RowShaper
    ) -> tuple[list[dict[str, Any]], str | None]:
        compiled = self._dialect.compile_events(plan)
        result = self._store.fetch(compiled.sql, compiled.params)
        rows = result.rows[: plan.page]
        next_cursor = None
        if len(result.rows) > plan.page:
            last = dict(zip(result.columns, rows[-1], strict=True))
            ts = last["ts"]
            assert isinstance(ts, datetime)
            if ts.tzinfo is not None:
                ts = ts.astimezone(UTC).replace(tzinfo=None)
            position = cursors.EventPosition(ts, str(last["event_id"]))
            bounds = (time_range.from_.isoformat(), time_range.to.isoformat())
            next_cursor = cursors.encode_position(plan.fingerprint, position, bounds)
        return [shape(result.columns, row) for row in rows], next_cursor

    def _aggregate(
        self, plan: AggregatePlan
    ) -> tuple[list[dict[str, Any]], str | None, list[list[tuple[int, int]]] | None]:
        """Rows, the next cursor, and each row's merged latency histogram (rollup plans
        with percentiles only; ``None`` otherwise)."""
        compiled = self._dialect.compile_aggregate(plan)
        result = self._store.fetch(compiled.sql, compiled.params)
        index = {name: i for i, name in enumerate(result.columns)}
        merged = plan.rollup_percentiles
        rows: list[dict[str, Any]] = []
        bins_of: dict[int, list[tuple[int, int]]] = {}  # by id(row): rows may be re-sorted
        wanted = [a.quantile for a in plan.aggregates if a.quantile is not None]
        counts_at = index.get("hc")  # PostgreSQL: bins in ``h``, their counts in ``hc``
        for r in result.rows:
            row: dict[str, Any] = {k.name: r[index[f"g{i}"]] for i, k in enumerate(plan.group_keys)}
            bins = (
                _histogram(r[index["h"]], None if counts_at is None else r[counts_at])
                if merged
                else []
            )
            found = iter(histogram.quantiles(bins, wanted) if merged and wanted else ())
            for i, a in enumerate(plan.aggregates):
                if merged and a.quantile is not None:
                    row[a.alias] = next(found)
                else:
                    row[a.alias] = r[index[f"a{i}"]]
            rows.append(row)
            bins_of[id(row)] = bins
        if plan.python_sort:
            if len(rows) > MAX_PYTHON_SORT_GROUPS:
                raise ValidationError(
                    f"more than {MAX_PYTHON_SORT_GROUPS} groups to order by a percentile; "
                    "add filters or order by another aggregate"
                )
            rows.sort(key=functools.cmp_to_key(_comparator(plan.sort)))
            rows = rows[plan.offset : plan.offset + plan.page + 1]
        next_cursor = None
        if len(rows) > plan.page:
            rows = rows[: plan.page]
            next_cursor = cursors.encode_offset(plan.fingerprint, plan.offset + plan.page)
        histograms = [bins_of[id(row)] for row in rows] if merged else None
        return [{k: jsonable(v) for k, v in row.items()} for row in rows], next_cursor, histograms


def _histogram(value: object, counts: object = None) -> list[tuple[int, int]]:
    """A row's histogram as ``(bin, count)`` pairs: ``h`` a list of ``{b, c}`` structs
    (DuckDB), or ``h`` the bins and ``counts`` (the ``hc`` column) their counts, two
    arrays of the same order (PostgreSQL)."""
    if not isinstance(value, list):
        return []
    if isinstance(counts, list):
        return [(int(b), int(c)) for b, c in zip(value, counts, strict=True) if b is not None]
    return [(int(item["b"]), int(item["c"])) for item in value if item["b"] is not None]


def _comparator(sort: tuple[SortKey, ...]) -> Callable[[dict[str, Any], dict[str, Any]], int]:
    """Compare rows like SQL ``ORDER BY ... NULLS LAST`` on every key."""

    def compare(a: dict[str, Any], b: dict[str, Any]) -> int:
        for key in sort:
            x, y = a[key.name], b[key.name]
            if x == y:
                continue
            if x is None:
                return 1
            if y is None:
                return -1
            order = -1 if x < y else 1
            return -order if key.descending else order
        return 0

    return compare


__all__ = ["DEFAULT_LISTING_WINDOW", "QueryService"]
