"""The typed query and its result: pydantic models at the API edge (the OpenAPI schema).

These models check shape only (types, enums, sizes, aware datetimes). What depends on
the field catalogue or on settings (known fields, operators, value types, bucket and
range limits) is checked by :mod:`analytics_hub.query.planner`, which raises the hub's
own :class:`~analytics_hub.errors.ValidationError`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Bucket = Literal["1m", "5m", "15m", "1h", "1d"]
AggregateFn = Literal[
    "count", "sum", "avg", "min", "max", "p50", "p90", "p95", "p99", "count_distinct"
]
FilterOp = Literal["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "contains", "starts_with"]
Scalar = str | int | float | bool | None
FilterValue = Scalar | list[str | int | float]

MAX_FILTERS = 50
MAX_GROUP_BY = 8
MAX_AGGREGATES = 32
MAX_ORDER_BY = 8
MAX_IN_VALUES = 1000


class _Model(BaseModel):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )


class TimeRange(_Model):
    """A half-open interval ``[from, to)``; both ends carry a time zone (UTC preferred)."""

    from_: AwareDatetime = Field(alias="from", description="inclusive start, RFC 3339")
    to: AwareDatetime = Field(description="exclusive end, RFC 3339")


class Filter(_Model):
    """One condition; all filters of a query must hold (AND)."""

    field: str = Field(max_length=300, description="a field name, tags.<key> or payload.<path>")
    op: FilterOp = "eq"
    value: FilterValue = Field(
        default=None,
        description="a scalar, or a list of up to 1000 scalars for in/not_in; "
        "null with eq/ne tests for a missing value",
    )


class BucketKey(_Model):
    """A time bucket in ``group_by``: buckets are aligned to the Unix epoch, UTC."""

    bucket: Bucket


class Aggregate(_Model):
    """One aggregate column; ``as`` names it in the result (default ``<fn>_<field>``)."""

    fn: AggregateFn
    field: str | None = Field(default=None, max_length=300)
    as_: str | None = Field(default=None, alias="as", max_length=64)


class OrderBy(_Model):
    """Sort by a group key (``bucket`` for the time bucket) or an aggregate alias."""

    field: str = Field(max_length=300)
    direction: Literal["asc", "desc"] = "asc"


class Query(_Model):
    """A typed query. No aggregates and no ``group_by`` means: list raw events."""

    time_range: TimeRange
    filters: list[Filter] = Field(default_factory=list, max_length=MAX_FILTERS)
    group_by: list[str | BucketKey] = Field(default_factory=list, max_length=MAX_GROUP_BY)
    aggregates: list[Aggregate] = Field(default_factory=list, max_length=MAX_AGGREGATES)
    order_by: list[OrderBy] = Field(default_factory=list, max_length=MAX_ORDER_BY)
    limit: int = Field(default=100, ge=1, description="rows per page, at most query_max_rows")
    cursor: str | None = Field(
        default=None, max_length=4096, description="next_cursor of the previous page"
    )


class PlanSegment(_Model):
    """One part of the time range and where it was read from."""

    source: Literal["raw", "rollup_1m", "rollup_1h", "tenant_rollup_1m", "tenant_rollup_1h"]
    from_: str = Field(alias="from")
    to: str


class QueryMeta(_Model):
    """How a query was answered."""

    source: Literal["raw", "rollup"]
    plan: list[PlanSegment]
    elapsed_ms: float
    approximate_percentiles: bool = Field(
        description="true when percentiles come from merged histograms (relative error <= 1%)"
    )


class QueryResult(_Model):
    """One page of rows; ``next_cursor`` is null on the last page."""

    rows: list[dict[str, Any]]
    next_cursor: str | None
    meta: QueryMeta


class EventPage(_Model):
    """One page of events rendered as envelopes, newest first."""

    events: list[dict[str, Any]]
    next_cursor: str | None


class OverviewTotals(_Model):
    """Totals of model calls (``payload_subtype = llm_call``) over the range."""

    requests: int
    errors: int
    error_rate: float | None = Field(description="errors / requests; null without requests")
    input_tokens: int
    output_tokens: int
    cost_usd: float
    unpriced_events: int
    p50_latency_ms: float | None
    p95_latency_ms: float | None
    p99_latency_ms: float | None


class OverviewPoint(_Model):
    """The same figures for one time bucket (empty buckets are present, with zeros)."""

    bucket: str
    requests: int
    errors: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    p50_latency_ms: float | None
    p95_latency_ms: float | None
    p99_latency_ms: float | None


class TopItem(_Model):
    """One entry of a top list: the key (model or asset; null when absent) and its value."""

    key: str | None
    value: float


class Overview(_Model):
    """The dashboard's first screen, computed from typed queries (rollups when possible)."""

    from_: str = Field(alias="from")
    to: str
    bucket: Bucket
    totals: OverviewTotals
    series: list[OverviewPoint]
    top_models_by_cost: list[TopItem]
    top_models_by_errors: list[TopItem]
    top_assets_by_cost: list[TopItem]
    top_assets_by_errors: list[TopItem]
    approximate_percentiles: bool


__all__ = [
    "MAX_IN_VALUES",
    "Aggregate",
    "AggregateFn",
    "Bucket",
    "BucketKey",
    "EventPage",
    "Filter",
    "FilterOp",
    "FilterValue",
    "OrderBy",
    "Overview",
    "OverviewPoint",
    "OverviewTotals",
    "PlanSegment",
    "Query",
    "QueryMeta",
    "QueryResult",
    "Scalar",
    "TimeRange",
    "TopItem",
]
