"""The forecast feature's ports, implemented over the query and pricing features.

The forecast feature reads a metric through :class:`~analytics_hub.analytics.forecast.
metric.MetricSource` and model usage through :class:`~analytics_hub.analytics.forecast.
costing.UsageSource`; it must not import the query feature (a sibling layer). These
adapters build typed queries for one tenant (the caller's: isolation comes from the
query layer), page through the results and hand back plain rows.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio.to_thread

from analytics_hub.analytics.forecast.costing import PriceLookup, UsageRow, WhatIfCoster
from analytics_hub.analytics.forecast.history import Fill, floor_time, policy
from analytics_hub.analytics.forecast.metric import MetricForecaster
from analytics_hub.api.metrics import HubMetrics
from analytics_hub.errors import ValidationError
from analytics_hub.pricing import PricingService
from analytics_hub.query import Aggregate, BucketKey, Filter, Query, QueryService, TimeRange

T = TypeVar("T")

#: Aggregates whose empty bucket is a true zero (no events: zero events, zero cost).
_ADDITIVE = frozenset({"count", "sum", "count_distinct"})
#: Spend and usage are of model calls, as the overview counts them: cost records
#: (``token_cost`` and the like) repeat the cost of calls and would count it twice.
MODEL_CALLS = Filter(field="payload_subtype", op="eq", value="llm_call")
_VALUE = "value"


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class QuerySeries:
    """One aggregate per time bucket of one tenant's events: a ``MetricSource``.

    With a ``sum``, also a ``SpendSource`` (:meth:`total`).
    """

    def __init__(
        self,
        query: QueryService,
        tenant_id: str,
        *,
        aggregate: Aggregate,
        bucket: str,
        filters: Sequence[Filter] = (),
        page_rows: int = 10_000,
    ) -> None:
        self._query = query
        self._tenant = tenant_id
        self._aggregate = Aggregate(fn=aggregate.fn, field=aggregate.field, as_=_VALUE)
        self._bucket = bucket
        self._filters = list(filters)
        self._page = page_rows

    @property
    def bucket(self) -> str:
        """The bucket size."""
        return self._bucket

    @property
    def fill(self) -> Fill:
        """Zero for counts and sums; carry the last value for the others."""
        return "zero" if self._aggregate.fn in _ADDITIVE else "carry"

    def _query_of(self, start: dt.datetime, end: dt.datetime, *, bucketed: bool) -> Query:
        return Query(
            time_range=TimeRange(from_=start, to=end),
            filters=self._filters,
            group_by=[BucketKey(bucket=self._bucket)] if bucketed else [],
            aggregates=[self._aggregate],
            limit=self._page,
        )

    def check(self, now: dt.datetime | None = None) -> None:
        """Let the query layer validate fields, operators and values; reads nothing."""
        step = policy(self._bucket).step
        end = floor_time(now or _utc_now(), step)
        try:
            self._query.check(self._tenant, self._query_of(end - step, end, bucketed=True))
        except ValidationError as exc:
            raise ValidationError(
                f"query: {exc.message}", details=[{"field": "query", "message": exc.message}]
            ) from None

    def series(
        self, start: dt.datetime, end: dt.datetime
    ) -> list[tuple[dt.datetime, float | None]]:
        """``(bucket start, value)`` of the buckets with rows, every page read."""
        rows = _all_rows(self._query, self._tenant, self._query_of(start, end, bucketed=True))
        return [(_time(r["bucket"]), _number(r[_VALUE])) for r in rows]

    def total(self, start: dt.datetime, end: dt.datetime) -> float:
        """The aggregate over ``[start, end)`` without buckets (meant for a ``sum``)."""
        rows = _all_rows(self._query, self._tenant, self._query_of(start, end, bucketed=False))
        value = _number(rows[0][_VALUE]) if rows else None
        return value or 0.0


class QueryUsage:
    """Tokens and cost of model calls per bucket, provider and model: a ``UsageSource``."""

    def __init__(
        self,
        query: QueryService,
        tenant_id: str,
        *,
        bucket: str,
        filters: Sequence[Filter] = (),
        page_rows: int = 10_000,
    ) -> None:
        self._query = query
        self._tenant = tenant_id
        self._bucket = bucket
        self._filters = with_model_calls(filters)
        self._page = page_rows

    @property
    def bucket(self) -> str:
        """The bucket size."""
        return self._bucket

    def usage(self, start: dt.datetime, end: dt.datetime) -> list[UsageRow]:
        """Every (bucket, provider, model) with model calls in ``[start, end)``."""
        query = Query.model_validate(
            {
                "time_range": {"from": start, "to": end},
                "filters": [f.model_dump(by_alias=True) for f in self._filters],
                "group_by": ["provider", "model_id", {"bucket": self._bucket}],
                "aggregates": [
                    {"fn": "sum", "field": "input_tokens", "as": "i"},
                    {"fn": "sum", "field": "output_tokens", "as": "o"},
                    {"fn": "sum", "field": "cost_usd", "as": "c"},
                ],
                "limit": self._page,
            }
        )
        return [
            UsageRow(
                time=_time(r["bucket"]),
                provider=str(r["provider"] or "unknown"),
                model=str(r["model_id"] or "unknown"),
                input_tokens=_number(r["i"]) or 0.0,
                output_tokens=_number(r["o"]) or 0.0,
                cost_usd=_number(r["c"]) or 0.0,
            )
            for r in _all_rows(self._query, self._tenant, query)
        ]


def with_model_calls(filters: Sequence[Filter]) -> list[Filter]:
    """``filters``, restricted to model calls unless they already pick a payload subtype."""
    if any(f.field == "payload_subtype" for f in filters):
        return list(filters)
    return [*filters, MODEL_CALLS]


def price_lookup(pricing: PricingService, tenant_id: str) -> PriceLookup:
    """The tenant's price of a (provider, model) on a day: the table with its overrides."""

    def look(provider: str, model: str, day: dt.date) -> tuple[float, float] | None:
        found = pricing.resolve(tenant_id, provider, model)
        current = found.period_on(day) if found is not None else None
        if current is None:
            return None
        return current[0].input, current[0].output

    return look


@dataclass(frozen=True)
class ForecastContext:
    """What the forecast routes need, built once by the assembly.

    ``limiter`` bounds the forecasts computed at once: they are CPU-bound, and without it
    a burst of them would also take the worker threads that queries and ingest share.
    """

    forecaster: MetricForecaster
    coster: WhatIfCoster
    limiter: anyio.CapacityLimiter
    page_rows: int

    async def run(self, metrics: HubMetrics, kind: str, fn: Callable[[], T]) -> T:
        """Run ``fn`` in a worker thread (never on the event loop), timed as ``kind``."""
        started = time.perf_counter()
        try:
            return await anyio.to_thread.run_sync(fn, limiter=self.limiter)
        finally:
            metrics.query_seconds.labels(kind).observe(time.perf_counter() - started)


def _all_rows(query: QueryService, tenant_id: str, first: Query) -> list[dict[str, Any]]:
    """Every row of ``first``, following ``next_cursor`` page by page."""
    rows: list[dict[str, Any]] = []
    page = query.run(tenant_id, first)
    rows.extend(page.rows)
    while page.next_cursor is not None:
        page = query.run(tenant_id, first.model_copy(update={"cursor": page.next_cursor}))
        rows.extend(page.rows)
    return rows


def _time(value: object) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(str(value))


def _number(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    return float(str(value))


__all__ = [
    "MODEL_CALLS",
    "ForecastContext",
    "QuerySeries",
    "QueryUsage",
    "price_lookup",
    "with_model_calls",
]
