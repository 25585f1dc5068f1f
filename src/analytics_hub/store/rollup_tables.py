"""The rollup tables every store keeps: name, bucket unit, dimensions and retention.

Two families of the same shape. The full rollups (``rollup_1m``, ``rollup_1h``) keep
every rollup dimension. The tenant-wide ones (``tenant_rollup_1m``, ``tenant_rollup_1h``)
keep only the low-cardinality dimensions; at ten million events a day of one tenant's
full minute rollups holds tens of thousands of rows (one per asset, model and status
that had traffic), the tenant-wide ones a few per minute. The planner reads the
tenant-wide family whenever a question touches no other dimension (docs/decisions).
Both are written in the same transaction from the same fine relation, compacted,
re-priced and expired alike, so they always agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from analytics_hub.events.columns import (
    ROLLUP_DIMENSIONS,
    ROLLUP_MEASURES,
    TENANT_ROLLUP_DIMENSIONS,
)

_MEASURES: tuple[str, ...] = tuple(m.name for m in ROLLUP_MEASURES)


@dataclass(frozen=True, slots=True)
class RollupTable:
    """One rollup table: rows per ``unit`` bucket and combination of ``dimensions``."""

    name: str
    unit: str  # 'minute' or 'hour', as date_trunc takes it
    dimensions: tuple[str, ...]
    retention: str  # the RetentionPolicy field that limits it

    @property
    def dims(self) -> str:
        """The dimensions as a SQL column list."""
        return ", ".join(self.dimensions)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column, in table order."""
        return ("bucket", *self.dimensions, *_MEASURES, "lat_bins", "lat_counts")

    @property
    def full(self) -> bool:
        """Whether it keeps every rollup dimension (the fine relation's grouping)."""
        return self.dimensions == ROLLUP_DIMENSIONS


ROLLUPS: tuple[RollupTable, ...] = (
    RollupTable("rollup_1m", "minute", ROLLUP_DIMENSIONS, "minute_rollup_days"),
    RollupTable("rollup_1h", "hour", ROLLUP_DIMENSIONS, "hour_rollup_days"),
    RollupTable("tenant_rollup_1m", "minute", TENANT_ROLLUP_DIMENSIONS, "minute_rollup_days"),
    RollupTable("tenant_rollup_1h", "hour", TENANT_ROLLUP_DIMENSIONS, "hour_rollup_days"),
)
ROLLUPS_BY_NAME: dict[str, RollupTable] = {r.name: r for r in ROLLUPS}

#: an engine's ``merge_sql(fine, unit, *, dimensions=...)``
MergeSql = Callable[..., str]
#: an engine's ``fine_from_rollup_sql(table, where)`` over the full rollups
FineSql = Callable[[str, str], str]


def tenant_rollups_migration(full_ddl: str, merge_sql: MergeSql, fine_sql: FineSql) -> str:
    """The migration that creates the tenant-wide rollups and fills them from the full
    ones (a store that predates them has history there), in an engine's SQL.

    ``full_ddl`` is the engine's ``CREATE TABLE {name}`` of a full rollup (with its
    indexes); the tenant-wide table is the same without the lines of the dimensions it
    leaves out. The fill uses the current merging query: it runs once, on an existing
    database, and its result does not depend on how it is written.
    """
    dropped = set(ROLLUP_DIMENSIONS) - set(TENANT_ROLLUP_DIMENSIONS)
    ddl = "\n".join(
        line for line in full_ddl.splitlines() if line.strip().split(" ")[0] not in dropped
    )
    sql = ""
    for table in ROLLUPS:
        if table.full:
            continue
        source = next(r for r in ROLLUPS if r.full and r.unit == table.unit)
        fine = fine_sql(source.name, "true")
        sql += ddl.format(name=table.name) + "\n"
        sql += (
            f"INSERT INTO {table.name} ({', '.join(table.columns)}) "
            f"{merge_sql(fine, table.unit, dimensions=table.dimensions)};\n"
        )
    return sql


__all__ = ["ROLLUPS", "ROLLUPS_BY_NAME", "RollupTable", "tenant_rollups_migration"]
