"""The overview (the dashboard's first screen), built only from typed queries.

Every figure goes through the same planner as a user's query, so the overview reads
rollups whenever they can answer (they can for all of it: the filters are rollup
dimensions, except ``cost_source = unpriced``, which rollups count in a measure of its own).
The overview describes model calls: events whose ``payload_subtype`` is ``llm_call``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from analytics_hub.events import histogram
from analytics_hub.query.model import (
    Aggregate,
    AggregateFn,
    Bucket,
    BucketKey,
    Filter,
    Overview,
    OverviewPoint,
    OverviewTotals,
    Query,
    QueryResult,
    TimeRange,
    TopItem,
)
from analytics_hub.query.planner import check_range
from analytics_hub.query.render import rfc3339
from analytics_hub.query.validation import BUCKET_SECONDS

Bins = list[tuple[int, int]]


@dataclass(frozen=True, slots=True)
class Answer:
    """A query's result and, when its percentiles were merged from rollup histograms,
    each row's merged histogram (so that coarser figures can be merged from them)."""

    result: QueryResult
    histograms: list[Bins] | None = None


Runner = Callable[[Query], Answer]

TOP_N = 10
_CALLS = Filter(field="payload_subtype", op="eq", value="llm_call")
_FAILED = Filter(field="status", op="eq", value="error")
_UNPRICED = Filter(field="cost_source", op="eq", value="unpriced")
_EPOCH = datetime(1970, 1, 1)
_QUANTILES = {"p50_latency_ms": 0.5, "p95_latency_ms": 0.95, "p99_latency_ms": 0.99}


def _agg(fn: AggregateFn, field: str | None, alias: str) -> Aggregate:
    return Aggregate(fn=fn, field=field, as_=alias)


_MEASURES: list[Aggregate] = [
    _agg("count", None, "requests"),
    _agg("sum", "input_tokens", "input_tokens"),
    _agg("sum", "output_tokens", "output_tokens"),
    _agg("sum", "cost_usd", "cost_usd"),
    _agg("p50", "latency_ms", "p50_latency_ms"),
    _agg("p95", "latency_ms", "p95_latency_ms"),
    _agg("p99", "latency_ms", "p99_latency_ms"),
]
_ERRORS = [_agg("count", None, "errors")]
_UNPRICED_COUNT = [_agg("count", None, "unpriced")]
_COST_AND_COUNT = [_agg("sum", "cost_usd", "cost"), _agg("count", None, "n")]


@dataclass(slots=True)
class _Rows:
    rows: list[dict[str, Any]]
    histograms: list[Bins] | None  # None unless every page carried them


def _all_rows(run: Runner, query: Query, seen: list[QueryResult]) -> _Rows:
    """Every row of a query, following cursors (a series may be longer than one page)."""
    out = _Rows(rows=[], histograms=[])
    while True:
        answer = run(query)
        seen.append(answer.result)
        out.rows.extend(answer.result.rows)
        if answer.histograms is None or out.histograms is None:
            out.histograms = None
        else:
            out.histograms.extend(answer.histograms)
        if answer.result.next_cursor is None:
            return out
        query = query.model_copy(update={"cursor": answer.result.next_cursor})


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float) else 0


def _float(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _maybe_float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _tops(rows: list[dict[str, Any]], key: str) -> tuple[list[TopItem], list[TopItem]]:
    """Top keys by cost and by errors, from rows grouped by ``(key, status)``."""
    cost: dict[Any, float | None] = {}
    errors: dict[Any, float] = {}
    for row in rows:
        k, value = row[key], _maybe_float(row["cost"])
        if k not in cost:
            cost[k] = value
        elif value is not None:
            cost[k] = (cost[k] or 0.0) + value
        if row["status"] == "error" and _int(row["n"]):
            errors[k] = errors.get(k, 0.0) + _int(row["n"])

    def top(values: dict[Any, float | None]) -> list[TopItem]:
        # Largest first, as ORDER BY value DESC NULLS LAST would give.
        ranked = sorted(values.items(), key=lambda kv: (kv[1] is None, -(kv[1] or 0.0)))
        return [TopItem(key=k, value=_float(v)) for k, v in ranked[:TOP_N]]

    return top(cost), top(dict(errors))


def build_overview(
    run: Runner, start: datetime, end: datetime, bucket: Bucket, *, page: int = 1000
) -> Overview:
    """Run the overview's queries through ``run`` and assemble the result.

    Five questions answer everything: the series by bucket (totals are its sums, and its
    percentiles are merged from the series' histograms), errors by bucket, unpriced calls,
    and cost and calls by ``(model, status)`` and by ``(asset, status)`` (both top lists of
    each come from one query). ``page`` is the page size (at most ``query_max_rows``).
    """
    naive_start, naive_end = check_range(start, end)  # the same checks as any query
    rng = TimeRange(from_=start, to=end)
    seen: list[QueryResult] = []
    calls, failed = [_CALLS], [_CALLS, _FAILED]
    by_bucket = [BucketKey(bucket=bucket)]

    def grouped(filters: list[Filter], keys: list[Any], aggs: list[Aggregate]) -> Query:
        return Query(time_range=rng, filters=filters, group_by=keys, aggregates=aggs, limit=page)

    # Independent questions, asked at once: the store answers reads in parallel (it
    # releases the GIL). The series, which merges latency histograms, is the critical path.
    jobs: dict[str, Callable[[], _Rows]] = {
        "series": lambda: _all_rows(run, grouped(calls, by_bucket, _MEASURES), seen),
        "models": lambda: _all_rows(
            run, grouped(calls, ["model_id", "status"], _COST_AND_COUNT), seen
        ),
        "assets": lambda: _all_rows(
            run, grouped(calls, ["asset_id", "status"], _COST_AND_COUNT), seen
        ),
        "error_series": lambda: _all_rows(run, grouped(failed, by_bucket, _ERRORS), seen),
        "unpriced": lambda: _all_rows(run, grouped([_CALLS, _UNPRICED], [], _UNPRICED_COUNT), seen),
    }
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="overview") as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        got = {name: future.result() for name, future in futures.items()}
    series, error_series = got["series"], got["error_series"]
    percentiles = _total_percentiles(series)
    if percentiles is None:  # answered from raw events: ask for the exact figures
        totals_row = _all_rows(run, grouped(calls, [], _MEASURES), seen).rows[0]
        percentiles = {alias: _maybe_float(totals_row[alias]) for alias in _QUANTILES}
    requests = sum(_int(r["requests"]) for r in series.rows)
    error_count = sum(_int(r["errors"]) for r in error_series.rows)
    models_cost, models_errors = _tops(got["models"].rows, "model_id")
    assets_cost, assets_errors = _tops(got["assets"].rows, "asset_id")
    return Overview(
        from_=rfc3339(naive_start),
        to=rfc3339(naive_end),
        bucket=bucket,
        totals=OverviewTotals(
            requests=requests,
            errors=error_count,
            error_rate=error_count / requests if requests else None,
            input_tokens=sum(_int(r["input_tokens"]) for r in series.rows),
            output_tokens=sum(_int(r["output_tokens"]) for r in series.rows),
            cost_usd=math.fsum(_float(r["cost_usd"]) for r in series.rows),
            unpriced_events=_int(got["unpriced"].rows[0]["unpriced"]),
            p50_latency_ms=percentiles["p50_latency_ms"],
            p95_latency_ms=percentiles["p95_latency_ms"],
            p99_latency_ms=percentiles["p99_latency_ms"],
        ),
        series=_series(naive_start, naive_end, bucket, series.rows, error_series.rows),
        top_models_by_cost=models_cost,
        top_models_by_errors=models_errors,
        top_assets_by_cost=assets_cost,
        top_assets_by_errors=assets_errors,
        approximate_percentiles=any(r.meta.approximate_percentiles for r in seen),
    )


def _total_percentiles(series: _Rows) -> dict[str, float | None] | None:
    """Whole-range percentiles merged from the series' histograms (None without them)."""
    if series.histograms is None:
        return None
    merged = [pair for bins in series.histograms for pair in bins]
    found = histogram.quantiles(merged, list(_QUANTILES.values()))
    return dict(zip(_QUANTILES, found, strict=True))


def _series(
    start: datetime,
    end: datetime,
    bucket: Bucket,
    rows: list[dict[str, Any]],
    error_rows: list[dict[str, Any]],
) -> list[OverviewPoint]:
    """One point per bucket of the range, empty buckets included (charts need them)."""
    step = timedelta(seconds=BUCKET_SECONDS[bucket])
    by_bucket = {row["bucket"]: row for row in rows}
    errors = {row["bucket"]: _int(row["errors"]) for row in error_rows}
    points = []
    moment = _EPOCH + ((start - _EPOCH) // step) * step
    while moment < end:
        key = rfc3339(moment)
        row = by_bucket.get(key, {})
        points.append(
            OverviewPoint(
                bucket=key,
                requests=_int(row.get("requests")),
                errors=errors.get(key, 0),
                input_tokens=_int(row.get("input_tokens")),
                output_tokens=_int(row.get("output_tokens")),
                cost_usd=_float(row.get("cost_usd")),
                p50_latency_ms=_maybe_float(row.get("p50_latency_ms")),
                p95_latency_ms=_maybe_float(row.get("p95_latency_ms")),
                p99_latency_ms=_maybe_float(row.get("p99_latency_ms")),
            )
        )
        moment += step
    return points


__all__ = ["TOP_N", "Answer", "Runner", "build_overview"]
