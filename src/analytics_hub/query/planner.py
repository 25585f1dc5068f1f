"""From a validated query to an engine-neutral plan: raw events or rollups, and how.

The planner decides *what* to read; a dialect (``query/dialects``) decides how to say it
in SQL. Two plans exist:

- :class:`EventsPlan`: list raw events, newest first by default, keyset-paged on
  ``(ts, event_id)``.
- :class:`AggregatePlan`: group and aggregate. Read from rollups when every filter,
  group key and aggregate is answerable from them; otherwise from raw events. A rollup
  plan splits ``[from, to)`` into segments: raw events for the partial minutes at the
  edges, minute rollups for the partial hours, hourly rollups for the whole hours (see
  :func:`split_segments`), so that counts and sums stay exact. A plan that filters,
  groups and counts distinct only on the tenant-wide rollups' dimensions reads those
  (:func:`tenant_wide`): the same measures in far fewer rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from analytics_hub.errors import ValidationError
from analytics_hub.events.columns import TENANT_ROLLUP_DIMENSIONS
from analytics_hub.query import cursor as cursors
from analytics_hub.query.fields import INDICATOR_MEASURES
from analytics_hub.query.model import Query
from analytics_hub.query.validation import (
    BUCKET_SECONDS,
    QUANTILES,
    AggSpec,
    GroupKey,
    Predicate,
    SortKey,
    check_aggregates,
    check_filter,
    check_group_by,
    check_order,
    check_raw_order,
)

SegmentSource = Literal["raw", "rollup_1m", "rollup_1h", "tenant_rollup_1m", "tenant_rollup_1h"]

#: longest range any query may span
MAX_RANGE = timedelta(days=3660)
#: most groups fetched when a page must be sorted in Python (by a rollup percentile)
MAX_PYTHON_SORT_GROUPS = 100_000

_EPOCH = datetime(1970, 1, 1)
_MINUTE = timedelta(minutes=1)
_HOUR = timedelta(hours=1)

#: the rollup measures that answer an aggregate ``(fn, field)``; a count under an
#: indicator filter reads the indicator's measure instead of ``events``
ROLLUP_MEASURES_FOR: dict[tuple[str, str | None], tuple[str, ...]] = {
    ("count", None): ("events",),
    ("count", "latency_ms"): ("latency_count",),
    ("count", "ttft_ms"): ("ttft_count",),
    ("sum", "input_tokens"): ("input_tokens",),
    ("sum", "output_tokens"): ("output_tokens",),
    ("sum", "cost_usd"): ("cost_usd",),
    ("avg", "latency_ms"): ("latency_sum", "latency_count"),
    ("min", "latency_ms"): ("latency_min",),
    ("max", "latency_ms"): ("latency_max",),
    ("avg", "ttft_ms"): ("ttft_sum", "ttft_count"),
    **{(q, "latency_ms"): ("lat_bins", "lat_counts") for q in QUANTILES},
}


@dataclass(frozen=True, slots=True)
class Limits:
    """Query limits from settings (``query_max_rows`` and friends)."""

    max_rows: int = 10_000
    max_buckets: int = 10_000
    max_unbucketed_range_days: int = 400


@dataclass(frozen=True, slots=True)
class Segment:
    """A part ``[start, end)`` of the range (naive UTC) and the table it is read from."""

    source: SegmentSource
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class EventsPlan:
    """List raw events in ``[start, end)``; ``fetch`` is the page size plus one."""

    tenant_id: str
    start: datetime
    end: datetime
    predicates: tuple[Predicate, ...]
    descending: bool
    after: cursors.EventPosition | None
    fetch: int
    page: int
    fingerprint: str


@dataclass(frozen=True, slots=True)
class AggregatePlan:
    """Group and aggregate; see the module docstring.

    ``indicator`` is the rollup measure that counts the rows of a filter the rollups have
    no dimension for (``cost_source = unpriced``); that filter is then not among
    ``predicates``. ``measures`` lists, per aggregate, the rollup measures it reads
    (empty for a raw plan and for ``count_distinct``, which reads its dimension).
    ``python_sort`` means the rows are ordered (and paged) in Python,
    because a sort key is a percentile merged from histograms after the query.
    """

    tenant_id: str
    start: datetime
    end: datetime
    predicates: tuple[Predicate, ...]
    group_keys: tuple[GroupKey, ...]
    aggregates: tuple[AggSpec, ...]
    sort: tuple[SortKey, ...]
    segments: tuple[Segment, ...]
    source: Literal["raw", "rollup"]
    raw_reason: str | None
    indicator: str | None
    measures: tuple[tuple[str, ...], ...]
    python_sort: bool
    offset: int
    page: int
    fetch: int
    fingerprint: str

    @property
    def rollup_percentiles(self) -> bool:
        """Percentiles come from merged histograms (approximate, <= 1 %)."""
        return self.source == "rollup" and any(a.quantile is not None for a in self.aggregates)


Plan = EventsPlan | AggregatePlan


def to_naive_utc(moment: datetime) -> datetime:
    """Aware datetime -> naive UTC (the store keeps UTC without a zone)."""
    if moment.tzinfo is None:
        raise ValidationError("datetimes must carry a time zone (RFC 3339 with Z or an offset)")
    return moment.astimezone(UTC).replace(tzinfo=None)


def check_range(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """Validate ``[from, to)`` and return it as naive UTC."""
    a, b = to_naive_utc(start), to_naive_utc(end)
    if a >= b:
        raise ValidationError("time_range.from must be earlier than time_range.to")
    if b - a > MAX_RANGE:
        raise ValidationError(f"time_range spans more than {MAX_RANGE.days} days")
    return a, b


def _floor(moment: datetime, step: timedelta) -> datetime:
    return _EPOCH + ((moment - _EPOCH) // step) * step


def _ceil(moment: datetime, step: timedelta) -> datetime:
    floor = _floor(moment, step)
    return floor if floor == moment else floor + step


def bucket_count(start: datetime, end: datetime, seconds: int) -> int:
    """How many epoch-aligned buckets of ``seconds`` the range ``[start, end)`` touches."""
    step = timedelta(seconds=seconds)
    return (_ceil(end, step) - _floor(start, step)) // step


def split_segments(start: datetime, end: datetime, *, hours: bool) -> tuple[Segment, ...]:
    """Split ``[start, end)`` into raw edges, minute rollups and (if ``hours``) hour rollups.

    Rollup rows cover whole minutes (hours), so only whole minutes (hours) inside the
    range may come from them; what is left at the edges comes from the finer source.
    """
    m_start, m_end = _ceil(start, _MINUTE), _floor(end, _MINUTE)
    if m_start >= m_end:
        return (Segment("raw", start, end),)
    segments: list[Segment] = []
    if start < m_start:
        segments.append(Segment("raw", start, m_start))
    h_start, h_end = _ceil(m_start, _HOUR), _floor(m_end, _HOUR)
    if hours and h_start < h_end:
        if m_start < h_start:
            segments.append(Segment("rollup_1m", m_start, h_start))
        segments.append(Segment("rollup_1h", h_start, h_end))
        if h_end < m_end:
            segments.append(Segment("rollup_1m", h_end, m_end))
    else:
        segments.append(Segment("rollup_1m", m_start, m_end))
    if m_end < end:
        segments.append(Segment("raw", m_end, end))
    return tuple(segments)


def _rollup_answers(agg: AggSpec) -> bool:
    if agg.fn == "count_distinct":
        return agg.field is not None and agg.field.rollup_dimension
    return (agg.fn, agg.field.name if agg.field else None) in ROLLUP_MEASURES_FOR


def _measures_of(agg: AggSpec, indicator: str | None) -> tuple[str, ...]:
    if agg.fn == "count_distinct":
        return ()
    if agg.fn == "count" and agg.field is None and indicator is not None:
        return (indicator,)
    return ROLLUP_MEASURES_FOR[(agg.fn, agg.field.name if agg.field else None)]


def _indicator(p: Predicate) -> str | None:
    if p.op != "eq" or not isinstance(p.value, str):
        return None
    return INDICATOR_MEASURES.get((p.field.name, p.value))


def rollup_blocker(
    predicates: tuple[Predicate, ...], keys: tuple[GroupKey, ...], aggs: tuple[AggSpec, ...]
) -> tuple[str | None, str | None]:
    """Why rollups cannot answer this (None if they can), and the indicator measure used."""
    other = [p for p in predicates if not p.field.rollup_dimension]
    indicator = None
    if other:
        blocking = [p for p in other if _indicator(p) is None] or other[1:]
        if blocking:  # a filter rollups know nothing of, or a second indicator
            return f"filter on {blocking[0].field.name!r} (not a rollup dimension)", None
        indicator = _indicator(other[0])
        if any(a.fn != "count" or a.field is not None for a in aggs):
            return f"filter on {other[0].field.name!r} is countable only with plain count", None
    for k in keys:
        if k.field is not None and not k.field.rollup_dimension:
            return f"group by {k.name!r} (not a rollup dimension)", None
    for a in aggs:
        if not _rollup_answers(a):
            field = a.field.name if a.field else "*"
            return f"aggregate {a.fn}({field}) is not kept in rollups", None
    return None, indicator


def tenant_wide(
    predicates: tuple[Predicate, ...], keys: tuple[GroupKey, ...], aggs: tuple[AggSpec, ...]
) -> bool:
    """Whether the tenant-wide rollups can answer a rollup plan: it filters, groups and
    counts distinct only on their dimensions (the indicator filter is a measure there too)."""
    fields = [p.field for p in predicates if p.field.rollup_dimension]
    fields += [k.field for k in keys if k.field is not None]
    fields += [a.field for a in aggs if a.fn == "count_distinct" and a.field is not None]
    return all(f.name in TENANT_ROLLUP_DIMENSIONS for f in fields)


def _tenant_segments(segments: tuple[Segment, ...]) -> tuple[Segment, ...]:
    """The same segments, reading the tenant-wide rollups instead of the full ones."""
    renamed: dict[SegmentSource, SegmentSource] = {
        "rollup_1m": "tenant_rollup_1m",
        "rollup_1h": "tenant_rollup_1h",
    }
    return tuple(Segment(renamed.get(s.source, s.source), s.start, s.end) for s in segments)


def _shape(query: Query) -> dict[str, Any]:
    """What a cursor is valid for: the query without its page size and position."""
    return query.model_dump(mode="json", exclude={"cursor", "limit"})


def plan_query(tenant_id: str, query: Query, limits: Limits, *, allow_rollups: bool = True) -> Plan:
    """Validate ``query`` for ``tenant_id`` and plan it. Raises ``ValidationError``."""
    if not tenant_id:
        raise ValidationError("a query needs a tenant")
    start, end = check_range(query.time_range.from_, query.time_range.to)
    if query.limit > limits.max_rows:
        raise ValidationError(
            f"limit {query.limit} is above the maximum of {limits.max_rows} rows "
            "(query_max_rows); page with the cursor instead"
        )
    predicates = tuple(check_filter(f) for f in query.filters)
    keys = check_group_by(query.group_by)
    aggs = check_aggregates(query.aggregates, keys)
    fp = cursors.fingerprint(tenant_id, _shape(query))
    if not keys and not aggs:
        descending = check_raw_order(query.order_by)
        after = None
        if query.cursor is not None:
            after, _ = cursors.decode_position(query.cursor, fp)
        return EventsPlan(
            tenant_id, start, end, predicates, descending, after, query.limit + 1, query.limit, fp
        )
    sort = check_order(query.order_by, keys, aggs)
    bucket = next((k.bucket for k in keys if k.bucket), None)
    if bucket is not None:
        n = bucket_count(start, end, BUCKET_SECONDS[bucket])
        if n > limits.max_buckets:
            raise ValidationError(
                f"the range spans {n} buckets of {bucket}, more than the limit of "
                f"{limits.max_buckets} (query_max_buckets); use a larger bucket or a shorter "
                "range"
            )
    elif end - start > timedelta(days=limits.max_unbucketed_range_days):
        raise ValidationError(
            f"an aggregate without a time bucket may span at most "
            f"{limits.max_unbucketed_range_days} days (query_max_unbucketed_range_days), so "
            'that one query cannot scan an unbounded history; add {"bucket": "1d"} to '
            "group_by or shorten the range"
        )
    offset = cursors.decode_offset(query.cursor, fp) if query.cursor is not None else 0

    reason, indicator = rollup_blocker(predicates, keys, aggs)
    if not allow_rollups:
        reason = "raw plan requested"
    segments: tuple[Segment, ...] = ()
    if reason is None:
        hours = bucket is None or BUCKET_SECONDS[bucket] % 3600 == 0
        segments = split_segments(start, end, hours=hours)
        if all(s.source == "raw" for s in segments):
            reason = "range holds no whole minute"
        elif tenant_wide(predicates, keys, aggs):
            segments = _tenant_segments(segments)
    if reason is not None:
        segments, indicator = (Segment("raw", start, end),), None
    else:
        predicates = tuple(p for p in predicates if p.field.rollup_dimension)
    source: Literal["raw", "rollup"] = "raw" if reason is not None else "rollup"
    by_alias = {a.alias: a for a in aggs}
    python_sort = source == "rollup" and any(
        s.name in by_alias and by_alias[s.name].quantile is not None for s in sort
    )
    fetch = MAX_PYTHON_SORT_GROUPS + 1 if python_sort else query.limit + 1
    measures = tuple(() if reason else _measures_of(a, indicator) for a in aggs)
    return AggregatePlan(
        tenant_id=tenant_id,
        start=start,
        end=end,
        predicates=predicates,
        group_keys=keys,
        aggregates=aggs,
        sort=sort,
        segments=segments,
        source=source,
        raw_reason=reason,
        indicator=indicator,
        measures=measures,
        python_sort=python_sort,
        offset=offset,
        page=query.limit,
        fetch=fetch,
        fingerprint=fp,
    )


__all__ = [
    "MAX_PYTHON_SORT_GROUPS",
    "MAX_RANGE",
    "ROLLUP_MEASURES_FOR",
    "AggregatePlan",
    "EventsPlan",
    "Limits",
    "Plan",
    "Segment",
    "SegmentSource",
    "bucket_count",
    "check_range",
    "plan_query",
    "rollup_blocker",
    "split_segments",
    "tenant_wide",
    "to_naive_utc",
]
