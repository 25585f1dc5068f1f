"""SQL both dialects write the same way: parameters, ordering, paging, event listings.

Only what differs between the engines (reading JSON fields, string tests, partition
pruning, histogram merging) stays in each dialect module.
"""

from __future__ import annotations

from collections.abc import Callable

from analytics_hub.query.dialects.base import EVENT_SELECT, Compiled
from analytics_hub.query.planner import AggregatePlan, EventsPlan
from analytics_hub.query.validation import Predicate, SortKey


class Params:
    """Collects parameters in placeholder order."""

    def __init__(self) -> None:
        self.values: list[object] = []

    def bind(self, value: object) -> str:
        self.values.append(value)
        return "?"


#: ``FROM table WHERE …`` of one segment: table, time column, start, end, predicates,
#: tenant, parameters.
Where = Callable[[str, str, object, object, tuple[Predicate, ...], str, Params], str]


def order_sql(sort: tuple[SortKey, ...], labels: dict[str, str]) -> str:
    """``ORDER BY`` on the statement's column labels (nulls last, as everywhere)."""
    if not sort:
        return ""
    terms = [f"{labels[s.name]} {'DESC' if s.descending else 'ASC'} NULLS LAST" for s in sort]
    return " ORDER BY " + ", ".join(terms)


def labels_of(plan: AggregatePlan) -> dict[str, str]:
    """The column label of each group key and aggregate (see ``base``)."""
    labels = {k.name: f"g{i}" for i, k in enumerate(plan.group_keys)}
    labels.update({a.alias: f"a{i}" for i, a in enumerate(plan.aggregates)})
    return labels


def page_sql(plan: AggregatePlan, p: Params) -> str:
    """Order and page an aggregate; a plan sorted in Python gets its rows unordered."""
    if plan.python_sort:
        return f" LIMIT {p.bind(plan.fetch)}"
    return order_sql(plan.sort, labels_of(plan)) + (
        f" LIMIT {p.bind(plan.fetch)} OFFSET {p.bind(plan.offset)}"
    )


def compile_events(plan: EventsPlan, where: Where) -> Compiled:
    """A page of raw events, keyset-paged on ``(ts, event_id)``."""
    p = Params()
    sql = f"SELECT {', '.join(EVENT_SELECT)} "
    sql += where("events", "ts", plan.start, plan.end, plan.predicates, plan.tenant_id, p)
    direction = "DESC" if plan.descending else "ASC"
    if plan.after is not None:
        cmp = "<" if plan.descending else ">"
        sql += (
            f" AND (ts {cmp} {p.bind(plan.after.ts)} OR (ts = {p.bind(plan.after.ts)}"
            f" AND event_id {cmp} {p.bind(plan.after.event_id)}))"
        )
    sql += f" ORDER BY ts {direction}, event_id {direction} LIMIT {p.bind(plan.fetch)}"
    return Compiled(sql, p.values)


def compile_get_event(tenant_id: str, event_id: str) -> Compiled:
    """One event by id; the most recently received copy if an id was reused."""
    p = Params()
    sql = (
        f"SELECT {', '.join(EVENT_SELECT)} FROM events WHERE tenant_id = {p.bind(tenant_id)}"
        f" AND event_id = {p.bind(event_id)} ORDER BY received_at DESC LIMIT 1"
    )
    return Compiled(sql, p.values)


__all__ = [
    "Params",
    "Where",
    "compile_events",
    "compile_get_event",
    "labels_of",
    "order_sql",
    "page_sql",
]
