"""Typed queries over stored events: a logical query, a planner, and pure SQL dialects.

The public names are the service and the models of the query language; the planner and
the dialects are internals (see ``docs/development/internals.md``).
"""

from analytics_hub.query.model import (
    Aggregate,
    BucketKey,
    EventPage,
    Filter,
    OrderBy,
    Overview,
    OverviewPoint,
    OverviewTotals,
    PlanSegment,
    Query,
    QueryMeta,
    QueryResult,
    TimeRange,
    TopItem,
)
from analytics_hub.query.service import QueryService

__all__ = [
    "Aggregate",
    "BucketKey",
    "EventPage",
    "Filter",
    "OrderBy",
    "Overview",
    "OverviewPoint",
    "OverviewTotals",
    "PlanSegment",
    "Query",
    "QueryMeta",
    "QueryResult",
    "QueryService",
    "TimeRange",
    "TopItem",
]
