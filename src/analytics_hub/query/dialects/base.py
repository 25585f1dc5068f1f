"""What a SQL dialect provides: pure functions from a plan to SQL text and parameters.

A dialect never sees user text as SQL: field names arrive resolved to catalogue columns
(our constants) and every value, JSON path and cursor position is a bound parameter.

Column labels of an aggregate statement are fixed so that the service can map them back
without parsing SQL: ``g0, g1, ...`` are the group keys in order, ``a0, a1, ...`` the
aggregates in order (a percentile answered from rollups has no ``a`` column: it is
computed from ``h``), and ``h`` is the merged latency histogram of the row, present only
when the plan merges histograms: a list of ``{b: bin, c: count}`` (DuckDB), or the bins
with their counts in a second column ``hc``, two arrays in the same order (PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from analytics_hub.events.columns import COLUMN_NAMES
from analytics_hub.query.planner import AggregatePlan, EventsPlan

#: stored columns an event listing selects, in order (everything but the tenant)
EVENT_SELECT: tuple[str, ...] = tuple(c for c in COLUMN_NAMES if c != "tenant_id")


@dataclass(frozen=True, slots=True)
class Compiled:
    """One statement: SQL text with ``?`` placeholders and its parameters, in order."""

    sql: str
    params: list[object]


@dataclass(frozen=True, slots=True)
class Dialect:
    """The compile functions of one SQL engine."""

    name: str
    compile_events: Callable[[EventsPlan], Compiled]
    compile_aggregate: Callable[[AggregatePlan], Compiled]
    compile_get_event: Callable[[str, str], Compiled]


__all__ = ["EVENT_SELECT", "Compiled", "Dialect"]
