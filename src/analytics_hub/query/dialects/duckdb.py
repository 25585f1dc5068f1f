"""The DuckDB dialect: pure functions from a plan to ``(sql, params)``.

No DuckDB import here: the text is built from catalogue constants and ``?`` placeholders,
and every value (filter values, JSON paths, time bounds, cursor positions, limits) is
appended to ``params`` in the order its placeholder appears. Every ``FROM`` of a table
is followed by ``WHERE tenant_id = ?`` bound to the caller's tenant.
"""

from __future__ import annotations

from analytics_hub.events.histogram import GAMMA, MIN_VALUE
from analytics_hub.query.dialects import common
from analytics_hub.query.dialects.base import Compiled, Dialect
from analytics_hub.query.dialects.common import (
    Params,
    compile_get_event,
    labels_of,
    order_sql,
    page_sql,
)
from analytics_hub.query.fields import FieldSpec
from analytics_hub.query.planner import AggregatePlan, EventsPlan, Segment
from analytics_hub.query.validation import AggSpec, GroupKey, Predicate

_INTERVALS: dict[str, str] = {
    "1m": "INTERVAL '1 minute'",
    "5m": "INTERVAL '5 minutes'",
    "15m": "INTERVAL '15 minutes'",
    "1h": "INTERVAL '1 hour'",
    "1d": "INTERVAL '1 day'",
}
_EPOCH = "TIMESTAMP '1970-01-01 00:00:00'"
_COMPARE = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_TABLES = {
    "raw": "events",
    "rollup_1m": "rollup_1m",
    "rollup_1h": "rollup_1h",
    "tenant_rollup_1m": "tenant_rollup_1m",
    "tenant_rollup_1h": "tenant_rollup_1h",
}
# The SQL form of histogram.bin_of, so raw edge rows land in the same bins as rollups.
# Constants go through a string cast: a numeric literal would become a DECIMAL first and
# could round differently from Python's float (and from the store's rollup SQL).
_BIN = (
    f"CAST(ceil(ln(greatest(latency_ms, CAST('{MIN_VALUE!r}' AS DOUBLE)))"
    f" / ln(CAST('{GAMMA!r}' AS DOUBLE))) AS INTEGER)"
)

# How a raw event row contributes to each rollup measure (one row = one event).
_RAW_MEASURES: dict[str, str] = {
    "events": "CAST(1 AS BIGINT)",
    "errors": "CAST(CASE WHEN status = 'error' THEN 1 ELSE 0 END AS BIGINT)",
    "unpriced": "CAST(CASE WHEN cost_source = 'unpriced' THEN 1 ELSE 0 END AS BIGINT)",
    "input_tokens": "coalesce(input_tokens, 0)",
    "output_tokens": "coalesce(output_tokens, 0)",
    "cost_usd": "coalesce(cost_usd, 0.0)",
    "latency_count": "CAST(CASE WHEN latency_ms IS NULL THEN 0 ELSE 1 END AS BIGINT)",
    "latency_sum": "coalesce(latency_ms, 0.0)",
    "latency_min": "latency_ms",
    "latency_max": "latency_ms",
    "ttft_count": "CAST(CASE WHEN ttft_ms IS NULL THEN 0 ELSE 1 END AS BIGINT)",
    "ttft_sum": "coalesce(ttft_ms, 0.0)",
    "lat_bins": f"CASE WHEN latency_ms IS NULL THEN NULL ELSE [{_BIN}] END",
    "lat_counts": "[CAST(1 AS BIGINT)]",
}


def _expr(spec: FieldSpec, p: Params, *, numeric: bool = False) -> str:
    """SQL for reading a field: a trusted column name, or a JSON path bound as a parameter."""
    if spec.json_path is None:
        return spec.column
    text = f"json_extract_string({spec.column}, {p.bind(spec.json_path)})"
    return f"TRY_CAST({text} AS DOUBLE)" if numeric else text


def _predicate(pred: Predicate, p: Params) -> str:
    def col() -> str:
        return _expr(pred.field, p, numeric=pred.numeric)

    op = pred.op
    if op == "eq":
        return f"{col()} IS NULL" if pred.value is None else f"{col()} = {p.bind(pred.value)}"
    if op == "ne":
        # IS DISTINCT FROM keeps rows where the field is missing: "not x" includes null
        if pred.value is None:
            return f"{col()} IS NOT NULL"
        return f"{col()} IS DISTINCT FROM {p.bind(pred.value)}"
    if op == "in":
        expr = col()
        return f"{expr} IN ({', '.join(p.bind(v) for v in pred.values)})"
    if op == "not_in":
        first, second = col(), col()
        listed = ", ".join(p.bind(v) for v in pred.values)
        return f"({first} IS NULL OR {second} NOT IN ({listed}))"
    if op == "contains":
        expr = col()
        return f"contains({expr}, {p.bind(pred.value)})"
    if op == "starts_with":
        expr = col()
        return f"starts_with({expr}, {p.bind(pred.value)})"
    expr = col()
    return f"{expr} {_COMPARE[op]} {p.bind(pred.value)}"


def _where(
    table: str,
    time_col: str,
    seg_start: object,
    seg_end: object,
    predicates: tuple[Predicate, ...],
    tenant_id: str,
    p: Params,
) -> str:
    parts = [
        f"tenant_id = {p.bind(tenant_id)}",
        f"{time_col} >= {p.bind(seg_start)}",
        f"{time_col} < {p.bind(seg_end)}",
    ]
    parts.extend(_predicate(pred, p) for pred in predicates)
    return f"FROM {table} WHERE " + " AND ".join(parts)


def _group_expr(key: GroupKey, time_col: str, p: Params) -> str:
    if key.bucket is not None:
        return f"time_bucket({_INTERVALS[key.bucket]}, {time_col}, {_EPOCH})"
    assert key.field is not None
    return _expr(key.field, p)


def _raw_aggregate(agg: AggSpec, p: Params) -> str:
    if agg.field is None:
        return "count(*)"
    if agg.fn == "count":
        return f"count({_expr(agg.field, p)})"
    if agg.fn == "count_distinct":
        return f"count(DISTINCT {_expr(agg.field, p)})"
    expr = _expr(agg.field, p, numeric=True)
    if agg.quantile is not None:
        return f"quantile_cont({expr}, {agg.quantile!r})"
    if agg.fn == "sum":
        return f"coalesce(sum({expr}), 0)"  # as from rollups, whose sums start at 0
    return f"{agg.fn}({expr})"


def compile_aggregate(plan: AggregatePlan) -> Compiled:
    """An aggregate statement: straight from ``events``, or combined from segments."""
    if plan.source == "rollup":
        return _compile_rollup(plan)
    p = Params()
    select = [f"{_group_expr(k, 'ts', p)} AS g{i}" for i, k in enumerate(plan.group_keys)]
    select += [f"{_raw_aggregate(a, p)} AS a{i}" for i, a in enumerate(plan.aggregates)]
    sql = f"SELECT {', '.join(select)} "
    sql += _where("events", "ts", plan.start, plan.end, plan.predicates, plan.tenant_id, p)
    if plan.group_keys:
        sql += " GROUP BY " + ", ".join(str(i + 1) for i in range(len(plan.group_keys)))
    sql += order_sql(plan.sort, labels_of(plan))
    sql += f" LIMIT {p.bind(plan.fetch)} OFFSET {p.bind(plan.offset)}"
    return Compiled(sql, p.values)


def _measures(plan: AggregatePlan) -> list[str]:
    """The rollup measures a plan reads, each once, in a stable order."""
    needed: list[str] = []
    for names in plan.measures:
        needed.extend(n for n in names if n not in needed)
    return needed


def _rollup_aggregate(agg: AggSpec, index: int, measures: tuple[str, ...]) -> str:
    """The final aggregate over the combined segment rows (additive partials)."""
    if agg.fn in ("count", "sum"):
        return f"coalesce(sum({measures[0]}), 0)"
    if agg.fn == "avg":
        return f"sum({measures[0]}) / nullif(sum({measures[1]}), 0)"
    if agg.fn in ("min", "max"):
        return f"{agg.fn}({measures[0]})"
    return f"count(DISTINCT d{index})"  # count_distinct: the dimension, read as d<i>


def _segment_select(seg: Segment, plan: AggregatePlan, measures: list[str], p: Params) -> str:
    raw = seg.source == "raw"
    time_col = "ts" if raw else "bucket"
    cols = [f"{_group_expr(k, time_col, p)} AS g{i}" for i, k in enumerate(plan.group_keys)]
    for i, a in enumerate(plan.aggregates):
        if a.fn == "count_distinct":
            assert a.field is not None
            cols.append(f"{_expr(a.field, p)} AS d{i}")
    cols += [f"{_RAW_MEASURES[m] if raw else m} AS {m}" for m in measures]
    where = _where(
        _TABLES[seg.source], time_col, seg.start, seg.end, plan.predicates, plan.tenant_id, p
    )
    return f"SELECT {', '.join(cols) or '1 AS one'} {where}"


def _compile_rollup(plan: AggregatePlan) -> Compiled:
    p = Params()
    measures = _measures(plan)
    seg_sql = " UNION ALL ".join(_segment_select(s, plan, measures, p) for s in plan.segments)
    keys = [f"g{i}" for i in range(len(plan.group_keys))]
    outer = list(keys)
    outer += [
        f"{_rollup_aggregate(a, i, plan.measures[i])} AS a{i}"
        for i, a in enumerate(plan.aggregates)
        if a.quantile is None
    ]
    group = f" GROUP BY {', '.join(keys)}" if keys else ""
    having = ""
    if plan.indicator and keys:
        # The indicator filter is a measure here, not a WHERE: drop the groups it leaves
        # empty, as the filter would have on raw events.
        having = f" HAVING coalesce(sum({plan.indicator}), 0) > 0"
    # seg is read twice when histograms are merged: materialise it to scan the tables once
    materialized = "MATERIALIZED " if plan.rollup_percentiles else ""
    sql = f"WITH seg AS {materialized}({seg_sql}), "
    sql += f"grouped AS (SELECT {', '.join(outer) or 'count(*) AS n'}"
    sql += f" FROM seg{group}{having})"
    if plan.rollup_percentiles:
        key_list = "".join(f"{k}, " for k in keys)
        sql += (
            f", hist AS (SELECT {key_list}list(struct_pack(b := b, c := c)) AS h FROM ("
            f"SELECT {key_list}b, sum(c) AS c FROM ("
            f"SELECT {key_list}unnest(lat_bins) AS b, unnest(lat_counts) AS c FROM seg"
            f") GROUP BY {key_list}b){group})"
        )
        on = " AND ".join(f"grouped.{k} IS NOT DISTINCT FROM hist.{k}" for k in keys) or "TRUE"
        body = f"SELECT grouped.*, hist.h FROM grouped LEFT JOIN hist ON {on}"
    else:
        body = "SELECT * FROM grouped"
    sql += f" SELECT * FROM ({body})"
    sql += page_sql(plan, p)
    return Compiled(sql, p.values)


def compile_events(plan: EventsPlan) -> Compiled:
    """A page of raw events, keyset-paged on ``(ts, event_id)``."""
    return common.compile_events(plan, _where)


DIALECT = Dialect(
    name="duckdb",
    compile_events=compile_events,
    compile_aggregate=compile_aggregate,
    compile_get_event=compile_get_event,
)

__all__ = ["DIALECT", "compile_aggregate", "compile_events", "compile_get_event"]
