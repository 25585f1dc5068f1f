"""The overview (the dashboard's first screen), built only from typed queries.

Every figure goes through the same planner as a user's query, so the overview reads
rollups whenever they can answer (they can for all of it: the filters are rollup
dimensions, except ``cost_source = unpriced``, which rollups count in a measure of its own).
The overview describes model calls: events whose ``payload_subtype`` is ``llm_call``.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from analytics_hub.query.model import (
    Aggregate,
    AggregateFn,
    Bucket,
    BucketKey,
    Filter,
    OrderBy,
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

Runner = Callable[[Query], QueryResult]

TOP_N = 10
_CALLS = Filter(field="payload_subtype", op="eq", value="llm_call")
_FAILED = Filter(field="status", op="eq", value="error")
_UNPRICED = Filter(field="cost_source", op="eq", value="unpriced")
_EPOCH = datetime(1970, 1, 1)


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


def _all_rows(run: Runner, query: Query, seen: list[QueryResult]) -> list[dict[str, Any]]:
    """Every row of a query, following cursors (a series may be longer than one page)."""
    rows: list[dict[str, Any]] = []
    while True:
        result = run(query)
        seen.append(result)
        rows.extend(result.rows)
        if result.next_cursor is None:
            return rows
        query = query.model_copy(update={"cursor": result.next_cursor})


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float) else 0


def _float(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _maybe_float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _top(
    run: Runner,
    rng: TimeRange,
    filters: list[Filter],
    key: str,
    agg: Aggregate,
    seen: list[QueryResult],
) -> list[TopItem]:
    query = Query(
        time_range=rng,
        filters=filters,
        group_by=[key],
        aggregates=[agg],
        order_by=[OrderBy(field="value", direction="desc")],
        limit=TOP_N,
    )
    result = run(query)
    seen.append(result)
    return [TopItem(key=row[key], value=_float(row["value"])) for row in result.rows]


def build_overview(
    run: Runner, start: datetime, end: datetime, bucket: Bucket, *, page: int = 1000
) -> Overview:
    """Run the overview's queries through ``run`` and assemble the result.

    ``page`` is the page size of the series queries (at most ``query_max_rows``).
    """
    naive_start, naive_end = check_range(start, end)  # the same checks as any query
    rng = TimeRange(from_=start, to=end)
    seen: list[QueryResult] = []
    calls, failed = [_CALLS], [_CALLS, _FAILED]

    by_bucket = [BucketKey(bucket=bucket)]
    cost = _agg("sum", "cost_usd", "value")
    count = _agg("count", None, "value")
    # The nine questions are independent: ask them at once. The store answers reads in
    # parallel (it releases the GIL), which roughly halves the overview's latency.
    # Heaviest first (the two that merge latency histograms): they are the critical path.
    jobs: dict[str, Callable[[], Any]] = {
        "series": lambda: _all_rows(
            run,
            Query(
                time_range=rng, filters=calls, group_by=by_bucket, aggregates=_MEASURES, limit=page
            ),
            seen,
        ),
        "totals": lambda: _all_rows(
            run, Query(time_range=rng, filters=calls, aggregates=_MEASURES), seen
        )[0],
        "error_series": lambda: _all_rows(
            run,
            Query(
                time_range=rng, filters=failed, group_by=by_bucket, aggregates=_ERRORS, limit=page
            ),
            seen,
        ),
        "unpriced": lambda: _all_rows(
            run,
            Query(time_range=rng, filters=[_CALLS, _UNPRICED], aggregates=_UNPRICED_COUNT),
            seen,
        )[0],
        "models_cost": lambda: _top(run, rng, calls, "model_id", cost, seen),
        "models_errors": lambda: _top(run, rng, failed, "model_id", count, seen),
        "assets_cost": lambda: _top(run, rng, calls, "asset_id", cost, seen),
        "assets_errors": lambda: _top(run, rng, failed, "asset_id", count, seen),
        "errors": lambda: _all_rows(
            run, Query(time_range=rng, filters=failed, aggregates=_ERRORS), seen
        )[0],
    }
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="overview") as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        got = {name: future.result() for name, future in futures.items()}
    totals, errors, unpriced = got["totals"], got["errors"], got["unpriced"]
    series, error_series = got["series"], got["error_series"]
    requests, error_count = _int(totals["requests"]), _int(errors["errors"])
    return Overview(
        from_=rfc3339(naive_start),
        to=rfc3339(naive_end),
        bucket=bucket,
        totals=OverviewTotals(
            requests=requests,
            errors=error_count,
            error_rate=error_count / requests if requests else None,
            input_tokens=_int(totals["input_tokens"]),
            output_tokens=_int(totals["output_tokens"]),
            cost_usd=_float(totals["cost_usd"]),
            unpriced_events=_int(unpriced["unpriced"]),
            p50_latency_ms=_maybe_float(totals["p50_latency_ms"]),
            p95_latency_ms=_maybe_float(totals["p95_latency_ms"]),
            p99_latency_ms=_maybe_float(totals["p99_latency_ms"]),
        ),
        series=_series(naive_start, naive_end, bucket, series, error_series),
        top_models_by_cost=got["models_cost"],
        top_models_by_errors=got["models_errors"],
        top_assets_by_cost=got["assets_cost"],
        top_assets_by_errors=got["assets_errors"],
        approximate_percentiles=any(r.meta.approximate_percentiles for r in seen),
    )


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


__all__ = ["TOP_N", "build_overview"]
