"""Re-pricing on the DuckDB store: model calls priced after the fact, rollups kept exact.

A pass first counts the candidate calls per hour and (provider, model) with one grouped
read, keeps the models the repricer covers (so that calls of a model that still has no
price are never read again), and cuts the hours into slices of about ``SLICE_EVENTS``
calls. Each slice is one write transaction: read the candidates, price them, update the
changed rows by ``rowid`` and append rollup delta rows that carry exactly the change
(``cost_usd`` new minus old, ``unpriced`` -1 or +1, every other measure neutral). The
rollups therefore equal the raw aggregates after every commit, and the writer waits for
one slice at most, never for the whole pass.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from analytics_hub.events.columns import ROLLUP_DIMENSIONS, ROLLUP_MEASURES
from analytics_hub.store.base import Repricer, RepriceReport
from analytics_hub.store.duckdb_rollups import DIMS, merge_sql
from analytics_hub.store.repricing import cost_changes, hour_slices
from analytics_hub.store.rollup_tables import ROLLUPS

SLICE_EVENTS = 100_000  # calls priced per transaction: bounds the writer's wait
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
_WHERE = (
    "e.tenant_id = $tenant AND e.ts >= $lo AND e.ts < $hi"
    " AND e.payload_subtype = 'llm_call' AND e.cost_source IN ('unpriced', 'computed')"
)
_COUNTS_SQL = (
    "SELECT date_trunc('hour', e.ts) AS hour, e.provider, e.model_id, e.cost_source,"
    f" count(*) AS n FROM events AS e WHERE {_WHERE} GROUP BY ALL"
)
_dims = ", ".join(f"e.{d}" for d in ROLLUP_DIMENSIONS if d not in _PRICING_INPUT)
_ROWS_SQL = (
    f"SELECT e.rowid AS rid, {', '.join(f'e.{c}' for c in _PRICING_INPUT)}, {_dims},"
    " e.cost_usd, e.cost_source FROM events AS e SEMI JOIN _reprice_keys AS k"
    " ON e.provider = k.provider AND e.model_id = k.model_id AND e.cost_source = k.cost_source"
    f" WHERE {_WHERE}"
)
_UPDATE_SQL = (
    "UPDATE events SET cost_usd = c.new_cost, cost_source = c.new_source"
    " FROM _reprice_changes AS c WHERE events.rowid = c.rid"
    " AND events.tenant_id = $tenant AND events.ts >= $lo AND events.ts < $hi"
)

# The rollup delta of a change: only cost and the unpriced count move.
_DELTAS = {
    "unpriced": "CAST(sum(d_unpriced) AS BIGINT)",
    "cost_usd": "sum(coalesce(new_cost, 0.0) - coalesce(old_cost, 0.0))",
}


def _neutral(kind: str, nullable: bool) -> str:
    if nullable:  # a minimum or maximum: NULL adds nothing
        return "CAST(NULL AS DOUBLE)"
    return "CAST(0 AS BIGINT)" if kind == "int64" else "CAST(0.0 AS DOUBLE)"


_FINE_SQL = (
    f"SELECT date_trunc('minute', ts) AS bucket, {DIMS}, CAST(NULL AS INTEGER) AS bin, "
    + ", ".join(
        f"{_DELTAS.get(m.name) or _neutral(m.type, m.nullable)} AS {m.name}"
        for m in ROLLUP_MEASURES
    )
    + ", CAST(0 AS BIGINT) AS bin_count FROM _reprice_changes GROUP BY ALL"
)
_INSERT_DELTAS_SQL = [
    f"INSERT INTO {r.name} {merge_sql(f'({_FINE_SQL})', r.unit, dimensions=r.dimensions)}"
    for r in ROLLUPS
]

Transaction = Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]


def reprice(
    reader: duckdb.DuckDBPyConnection,
    transaction: Transaction,
    tenant_id: str,
    start: datetime,
    end: datetime,
    repricer: Repricer,
    *,
    recompute: bool,
) -> RepriceReport:
    """One re-pricing pass (see the module docstring); times are naive UTC."""
    params = {"tenant": tenant_id, "lo": start, "hi": end}
    found = reader.sql(_COUNTS_SQL, params=params).fetchall()
    covered: dict[tuple[str, str], bool] = {}
    keys: set[tuple[str, str, str]] = set()
    per_hour: dict[datetime, int] = {}
    for hour, provider, model, source, n in found:
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
    key_table = pa.table(
        {
            "provider": [k[0] for k in ordered],
            "model_id": [k[1] for k in ordered],
            "cost_source": [k[2] for k in ordered],
        }
    )
    examined = repriced = unpriced = 0
    for lo, hi in hour_slices(per_hour, start, end, SLICE_EVENTS):
        slice_params = {**params, "lo": lo, "hi": hi}
        with transaction() as con:
            con.register("_reprice_keys", key_table)
            rows = con.sql(_ROWS_SQL, params=slice_params).to_arrow_table()
            con.unregister("_reprice_keys")
            costs = repricer.costs(rows.select(list(_PRICING_INPUT)))
            changes = cost_changes(rows, costs, ["rid"])
            examined += rows.num_rows
            unpriced += costs.null_count
            if changes.num_rows:
                con.register("_reprice_changes", changes)
                con.execute(_UPDATE_SQL, slice_params)
                for sql in _INSERT_DELTAS_SQL:
                    con.execute(sql)
                con.unregister("_reprice_changes")
            repriced += int(pc.sum(pc.is_valid(changes.column("new_cost"))).as_py() or 0)
    return RepriceReport(examined=examined, repriced=repriced, unpriced=unpriced)


__all__ = ["SLICE_EVENTS", "reprice"]
