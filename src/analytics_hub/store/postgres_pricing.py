"""Re-pricing on the PostgreSQL store: the DuckDB store's pass, in PostgreSQL's terms.

As in :mod:`analytics_hub.store.duckdb_pricing` (read its docstring): one grouped read
counts the candidate calls per hour and (provider, model); models the repricer does not
cover are never read; the hours are cut into slices of about ``SLICE_EVENTS`` calls and
each slice is one transaction that reads the candidates, prices them, updates the
changed rows and appends rollup deltas carrying exactly the change.

What differs: several processes may write at once, so a slice reads its candidates
``FOR UPDATE``. A second pass over the same calls waits, and then sees them as the first
left them (PostgreSQL re-checks the row), so a change is never counted twice in the
rollups. Rows are named by their key ``(tenant_id, event_id, claimed_ts)``, and read and
written in bulk by COPY (CSV through Arrow) rather than row by row.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from analytics_hub.events.columns import COLUMNS_BY_NAME, ROLLUP_DIMENSIONS, ROLLUP_MEASURES
from analytics_hub.store.base import Repricer, RepriceReport
from analytics_hub.store.postgres_copy import copy_sql, csv_bytes
from analytics_hub.store.postgres_rollups import DIMS, mark_dirty_sql, merge_sql
from analytics_hub.store.repricing import cost_changes, hour_slices
from analytics_hub.store.rollup_tables import ROLLUPS

SLICE_EVENTS = 100_000  # calls priced per transaction: bounds how long rows stay locked
_HOUR = timedelta(hours=1)
_PRICING_INPUT = (
    "ts",
    "provider",
    "model_id",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "reasoning_tokens",
    "total_tokens",
)
_READ = (
    "event_id",
    "claimed_ts",
    *_PRICING_INPUT,
    *(d for d in ROLLUP_DIMENSIONS if d not in _PRICING_INPUT),
    "cost_usd",
    "cost_source",
)
_READ_SCHEMA = pa.schema([pa.field(c, COLUMNS_BY_NAME[c].arrow_type) for c in _READ])
# claimed_ts is never earlier than ts: the bound lets the planner skip older partitions.
_WHERE = (
    "e.tenant_id = %(tenant)s AND e.ts >= %(lo)s AND e.ts < %(hi)s AND e.claimed_ts >= %(lo)s"
    " AND e.payload_subtype = 'llm_call' AND e.cost_source IN ('unpriced', 'computed')"
)
_COUNTS_SQL = (
    "SELECT date_trunc('hour', e.ts), e.provider, e.model_id, e.cost_source, count(*)"
    f" FROM events AS e WHERE {_WHERE} GROUP BY 1, 2, 3, 4"
)
_ROWS_SQL = (
    f"COPY (SELECT {', '.join(f'e.{c}' for c in _READ)} FROM events AS e WHERE {_WHERE}"
    " AND (e.provider, e.model_id, e.cost_source) IN"
    " (SELECT * FROM unnest(%(providers)s::text[], %(models)s::text[], %(sources)s::text[]))"
    " FOR UPDATE) TO STDOUT (FORMAT csv)"
)
_CHANGES = ("event_id", "claimed_ts", "ts", *ROLLUP_DIMENSIONS, "old_cost", "new_cost")
_CHANGES_SQL = (
    "CREATE TEMP TABLE _reprice_changes (event_id uuid, claimed_ts timestamp, ts timestamp, "
    + ", ".join(f'{d} text COLLATE "C"' for d in ROLLUP_DIMENSIONS)
    + ", old_cost double precision, new_cost double precision, new_source text,"
    " d_unpriced bigint) ON COMMIT DROP"
)
_UPDATE_SQL = (
    "UPDATE events AS e SET cost_usd = c.new_cost, cost_source = c.new_source"
    " FROM _reprice_changes AS c WHERE e.tenant_id = %(tenant)s AND e.event_id = c.event_id"
    " AND e.claimed_ts = c.claimed_ts AND e.claimed_ts >= %(lo)s"
)

# The rollup delta of a change: only cost and the unpriced count move.
_DELTAS = {
    "unpriced": "CAST(sum(d_unpriced) AS bigint)",
    "cost_usd": "sum(coalesce(new_cost, 0.0) - coalesce(old_cost, 0.0))",
}


def _neutral(kind: str, nullable: bool) -> str:
    if nullable:  # a minimum or maximum: NULL adds nothing
        return "CAST(NULL AS double precision)"
    return "CAST(0 AS bigint)" if kind == "int64" else "CAST(0.0 AS double precision)"


_FINE_SQL = (
    f"(SELECT date_trunc('minute', ts) AS bucket, {DIMS}, CAST(NULL AS integer) AS bin, "
    + ", ".join(
        f"{_DELTAS.get(m.name) or _neutral(m.type, m.nullable)} AS {m.name}"
        for m in ROLLUP_MEASURES
    )
    + ", CAST(0 AS bigint) AS bin_count FROM _reprice_changes"
    + f" GROUP BY {', '.join(str(i) for i in range(1, len(ROLLUP_DIMENSIONS) + 2))})"
)
_MARK_DIRTY_SQL = mark_dirty_sql("_reprice_changes", "ts")
_INSERT_DELTAS_SQL = [
    f"INSERT INTO {r.name} ({', '.join(r.columns)}) "
    + merge_sql(_FINE_SQL, r.unit, dimensions=r.dimensions)
    for r in ROLLUPS
]

Connection = psycopg.Connection[Any]
Transaction = Callable[[], AbstractContextManager[Connection]]


def _read_rows(conn: Connection, params: dict[str, object]) -> pa.Table:
    """The candidate calls of one slice, locked for this transaction."""
    with conn.cursor().copy(_ROWS_SQL, params) as copy:
        data = b"".join(bytes(chunk) for chunk in copy)
    return pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=list(_READ)),
        # PostgreSQL writes NULL as an empty field and the empty string as "".
        convert_options=pacsv.ConvertOptions(
            column_types=_READ_SCHEMA,
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    ).cast(_READ_SCHEMA)


def reprice(
    conn: Connection,
    transaction: Transaction,
    tenant_id: str,
    start: datetime,
    end: datetime,
    repricer: Repricer,
    *,
    recompute: bool,
) -> RepriceReport:
    """One re-pricing pass (see the module docstring); times are naive UTC.

    ``conn`` reads the counts; each slice runs in a connection from ``transaction``.
    """
    params: dict[str, object] = {"tenant": tenant_id, "lo": start, "hi": end}
    covered: dict[tuple[str, str], bool] = {}
    keys: set[tuple[str, str, str]] = set()
    per_hour: dict[datetime, int] = {}
    for hour, provider, model, source, n in conn.execute(_COUNTS_SQL, params).fetchall():
        if source == "unpriced":
            if (provider, model) not in covered:
                covered[(provider, model)] = repricer.covers(provider, model)
            if not covered[(provider, model)]:
                continue
        elif not recompute:
            continue
        keys.add((provider, model, source))
        per_hour[hour] = per_hour.get(hour, 0) + n
    if not keys:
        return RepriceReport(examined=0, repriced=0, unpriced=0)
    ordered = sorted(keys)
    params.update(
        providers=[k[0] for k in ordered],
        models=[k[1] for k in ordered],
        sources=[k[2] for k in ordered],
    )
    examined = repriced = unpriced = 0
    for lo, hi in hour_slices(per_hour, start, end, SLICE_EVENTS):
        slice_params = {**params, "lo": lo, "hi": hi}
        with transaction() as tx:
            rows = _read_rows(tx, slice_params)
            costs = repricer.costs(rows.select(list(_PRICING_INPUT)))
            changes = cost_changes(rows, costs, ["event_id", "claimed_ts"])
            examined += rows.num_rows
            unpriced += costs.null_count
            if changes.num_rows:
                tx.execute(_CHANGES_SQL)
                columns = [*_CHANGES, "new_source", "d_unpriced"]
                with tx.cursor().copy(copy_sql("_reprice_changes", columns)) as copy:
                    copy.write(csv_bytes(changes.select(columns)))
                tx.execute(_UPDATE_SQL, slice_params)
                for sql in _INSERT_DELTAS_SQL:
                    tx.execute(sql)
                tx.execute(_MARK_DIRTY_SQL)
                tx.execute("DROP TABLE _reprice_changes")
            repriced += int(pc.sum(pc.is_valid(changes.column("new_cost"))).as_py() or 0)
    return RepriceReport(examined=examined, repriced=repriced, unpriced=unpriced)


__all__ = ["SLICE_EVENTS", "reprice"]
