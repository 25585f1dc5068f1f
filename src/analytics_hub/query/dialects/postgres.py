"""The PostgreSQL dialect: pure functions from a plan to ``(sql, params)``.

The contract of :mod:`analytics_hub.query.dialects.duckdb`, in PostgreSQL's words: no
driver import, text built from catalogue constants and ``?`` placeholders (the store
numbers them), every value appended to ``params`` in placeholder order, and every
``FROM`` of a table followed by ``WHERE tenant_id = ?``. What differs:

- buckets use ``date_bin`` (PostgreSQL 14+), aligned to the epoch like DuckDB's
  ``time_bucket``;
- JSON paths run as SQL/JSON paths in ``strict`` mode with errors silenced, so a path
  that does not fit the document gives NULL, as in DuckDB; a numeric read goes through
  ``hub_try_float8`` (a store migration), PostgreSQL having no ``TRY_CAST``;
- raw percentiles use ``percentile_cont``, DuckDB's ``quantile_cont`` by another name
  (linear interpolation), so both engines answer exactly alike;
- sums of integers are ``numeric`` in PostgreSQL and are cast back to ``bigint``;
- rollup histograms are merged in the same grouping as the measures (bin rows unioned
  with the segment rows) rather than in a second grouping joined back: PostgreSQL joins
  on ``IS NOT DISTINCT FROM`` only by nested loops;
- a raw read also bounds ``claimed_ts`` from below, which lets PostgreSQL skip older day
  partitions: the store partitions by ``claimed_ts`` and guarantees ``ts <= claimed_ts``.
"""

from __future__ import annotations

from analytics_hub.events.columns import ROLLUP_MEASURES
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
_DOUBLE = "double precision"
# The SQL form of histogram.bin_of, as the store computes rollup bins. Constants go
# through a text cast, which parses Python's shortest repr exactly.
_BIN = (
    f"CAST(ceil(ln(greatest(latency_ms, CAST('{MIN_VALUE!r}' AS {_DOUBLE})))"
    f" / ln(CAST('{GAMMA!r}' AS {_DOUBLE}))) AS integer)"
)
# Rollup measures that are integers (their sums are cast back from numeric).
_INTEGER_MEASURES = frozenset(m.name for m in ROLLUP_MEASURES if m.type == "int64")

# How a raw event row contributes to each rollup measure (one row = one event).
_RAW_MEASURES: dict[str, str] = {
    "events": "CAST(1 AS bigint)",
    "errors": "CAST(CASE WHEN status = 'error' THEN 1 ELSE 0 END AS bigint)",
    "unpriced": "CAST(CASE WHEN cost_source = 'unpriced' THEN 1 ELSE 0 END AS bigint)",
    "input_tokens": "coalesce(input_tokens, 0)",
    "output_tokens": "coalesce(output_tokens, 0)",
    "cost_usd": "coalesce(cost_usd, 0.0)",
    "latency_count": "CAST(CASE WHEN latency_ms IS NULL THEN 0 ELSE 1 END AS bigint)",
    "latency_sum": "coalesce(latency_ms, 0.0)",
    "latency_min": "latency_ms",
    "latency_max": "latency_ms",
    "ttft_count": "CAST(CASE WHEN ttft_ms IS NULL THEN 0 ELSE 1 END AS bigint)",
    "ttft_sum": "coalesce(ttft_ms, 0.0)",
    "lat_bins": f"CASE WHEN latency_ms IS NULL THEN NULL ELSE ARRAY[{_BIN}] END",
    "lat_counts": "CASE WHEN latency_ms IS NULL THEN NULL ELSE ARRAY[CAST(1 AS bigint)] END",
}
_HISTOGRAM = frozenset({"lat_bins", "lat_counts"})


def _expr(spec: FieldSpec, p: Params, *, numeric: bool = False) -> str:
    """SQL for reading a field: a trusted column name, or a JSON path bound as a parameter."""
    if spec.json_path is None:
        return spec.column
    path = p.bind(f"strict {spec.json_path}")
    text = (
        f"(jsonb_path_query_first(CAST({spec.column} AS jsonb), CAST({path} AS jsonpath),"
        " '{}', true) #>> '{}')"
    )
    # The "C" collation: JSON text sorts byte-wise, like the stored columns and DuckDB.
    return f"hub_try_float8({text})" if numeric else f'({text} COLLATE "C")'


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
        return f"strpos({expr}, {p.bind(pred.value)}) > 0"
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
    if table == "events":  # implied by ts >= start (ts <= claimed_ts); prunes partitions
        parts.append(f"claimed_ts >= {p.bind(seg_start)}")
    parts.extend(_predicate(pred, p) for pred in predicates)
    return f"FROM {table} WHERE " + " AND ".join(parts)


def _group_expr(key: GroupKey, time_col: str, p: Params) -> str:
    if key.bucket is not None:
        return f"date_bin({_INTERVALS[key.bucket]}, {time_col}, {_EPOCH})"
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
        return f"percentile_cont({agg.quantile!r}) WITHIN GROUP (ORDER BY {expr})"
    if agg.fn == "sum":  # 0 without values, as from rollups, whose sums start at 0
        total = f"coalesce(sum({expr}), 0)"
        return f"CAST({total} AS bigint)" if agg.field.kind == "int" else total
    if agg.fn == "avg":
        return f"CAST(avg({expr}) AS {_DOUBLE})"
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
        total = f"coalesce(sum({measures[0]}), 0)"
        return f"CAST({total} AS bigint)" if measures[0] in _INTEGER_MEASURES else total
    if agg.fn == "avg":
        return f"CAST(sum({measures[0]}) AS {_DOUBLE}) / nullif(sum({measures[1]}), 0)"
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
    select = list(keys)
    select += [
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
    if plan.rollup_percentiles:
        # Each segment row once (bin NULL), plus one row per group and bin carrying the
        # bin's total count: one grouping then gives the measures and the histogram.
        others = [f"d{i}" for i, a in enumerate(plan.aggregates) if a.fn == "count_distinct"]
        others += [m for m in measures if m not in _HISTOGRAM]
        key_list = "".join(f"{k}, " for k in keys)
        plain = ", ".join(
            [*keys, *others, "CAST(NULL AS bigint) AS b", "CAST(NULL AS bigint) AS c"]
        )
        binned = ", ".join([*keys, *(f"NULL AS {o}" for o in others), "h.b", "h.c"])
        # The histogram as two arrays, the bins and their counts: several times cheaper
        # to build than pairs or a JSON document, and unordered (quantiles sort). Two
        # aggregates of one grouping see its rows in the same order, so the arrays line
        # up. The arrays are unnested in the select list (a ProjectSet), not in FROM,
        # which materialises each row's arrays.
        select.append("array_agg(b) FILTER (WHERE b IS NOT NULL) AS h")
        select.append("array_agg(c) FILTER (WHERE b IS NOT NULL) AS hc")
        sql = (
            f"WITH seg AS MATERIALIZED ({seg_sql}), "
            f"bins AS (SELECT {key_list}b, CAST(sum(c) AS bigint) AS c FROM"
            f" (SELECT {key_list}CAST(unnest(lat_bins) AS bigint) AS b,"
            f" unnest(lat_counts) AS c FROM seg) AS u GROUP BY {key_list}b) "
            f"SELECT {', '.join(select)} FROM (SELECT {plain} FROM seg"
            f" UNION ALL SELECT {binned} FROM bins AS h) AS x{group}{having}"
        )
    else:
        sql = f"WITH seg AS ({seg_sql}) SELECT {', '.join(select) or 'count(*) AS n'}"
        sql += f" FROM seg{group}{having}"
    sql += page_sql(plan, p)
    return Compiled(sql, p.values)


def compile_events(plan: EventsPlan) -> Compiled:
    """A page of raw events, keyset-paged on ``(ts, event_id)``."""
    return common.compile_events(plan, _where)


DIALECT = Dialect(
    name="postgres",
    compile_events=compile_events,
    compile_aggregate=compile_aggregate,
    compile_get_event=compile_get_event,
)

__all__ = ["DIALECT", "compile_aggregate", "compile_events", "compile_get_event"]
