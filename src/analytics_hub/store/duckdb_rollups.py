"""SQL of the rollup tables: deltas from a batch of events, and merging deltas.

Everything goes through one shape, a *fine* relation with one row per
``(bucket, dimensions, bin)``: the rollup measures of that group plus ``bin`` (the
latency histogram bin, NULL for events without a latency) and ``bin_count`` (events in
that bin). :func:`merge_sql` turns any fine relation into rollup rows (one per bucket
and dimensions, histogram as two parallel arrays sorted by bin). The write path builds
the fine relation from the inserted events; compaction builds it by unnesting stored
histograms. One merging query for both is why the two always agree.
"""

from __future__ import annotations

from analytics_hub.events.columns import ROLLUP_DIMENSIONS, ROLLUP_MEASURES
from analytics_hub.events.histogram import GAMMA, MIN_VALUE


def _double(value: float) -> str:
    # A string cast parses the shortest repr exactly; a numeric literal would become a
    # DECIMAL first and could round differently from Python's float.
    return f"CAST('{value!r}' AS DOUBLE)"


def latency_bin_sql(expr: str) -> str:
    """SQL for :func:`analytics_hub.events.histogram.bin_of` of ``expr`` (NULL stays NULL).

    The explicit NULL case matters: ``greatest`` ignores NULL arguments, so without it
    an event with no latency would land in the lowest bin.
    """
    return (
        f"CASE WHEN {expr} IS NULL THEN NULL ELSE CAST(ceil(ln(greatest({expr}, "
        f"{_double(MIN_VALUE)})) / ln({_double(GAMMA)})) AS INTEGER) END"
    )


# Per measure: how to compute it from raw events, and how to combine partial values.
_FROM_EVENTS: dict[str, str] = {
    "events": "count(*)",
    "errors": "count(*) FILTER (WHERE status = 'error')",
    "unpriced": "count(*) FILTER (WHERE cost_source = 'unpriced')",
    "input_tokens": "CAST(coalesce(sum(input_tokens), 0) AS BIGINT)",
    "output_tokens": "CAST(coalesce(sum(output_tokens), 0) AS BIGINT)",
    "cost_usd": "coalesce(sum(cost_usd), 0.0)",
    "latency_count": "count(latency_ms)",
    "latency_sum": "coalesce(sum(latency_ms), 0.0)",
    "latency_min": "min(latency_ms)",
    "latency_max": "max(latency_ms)",
    "ttft_count": "count(ttft_ms)",
    "ttft_sum": "coalesce(sum(ttft_ms), 0.0)",
}
_COMBINE: dict[str, str] = {"latency_min": "min", "latency_max": "max"}  # else sum
_MEASURES: tuple[str, ...] = tuple(m.name for m in ROLLUP_MEASURES)
_INTEGER_MEASURES = frozenset(m.name for m in ROLLUP_MEASURES if m.type == "int64")
if set(_FROM_EVENTS) != set(_MEASURES):  # pragma: no cover - guards future edits
    # A new measure in the event model must get its SQL here: fail at import, not later.
    raise RuntimeError("ROLLUP_MEASURES and the rollup SQL of the DuckDB store disagree")

DIMS = ", ".join(ROLLUP_DIMENSIONS)


def _combine(name: str, source: str | None = None) -> str:
    func = _COMBINE.get(name, "sum")
    value = f"{func}({source or name})"
    # sum() of BIGINT is HUGEINT in DuckDB; keep counts BIGINT end to end.
    return f"CAST({value} AS BIGINT)" if name in _INTEGER_MEASURES else value


def fine_from_events_sql(source: str) -> str:
    """The fine relation (per minute) of the events in relation ``source``."""
    measures = ",\n  ".join(f"{_FROM_EVENTS[m]} AS {m}" for m in _MEASURES)
    return (
        f"SELECT date_trunc('minute', ts) AS bucket, {DIMS},\n"
        f"  {latency_bin_sql('latency_ms')} AS bin,\n  {measures},\n"
        f"  count(latency_ms) AS bin_count\n"
        f"FROM {source}\nGROUP BY ALL"
    )


def merge_sql(
    fine: str,
    unit: str,
    *,
    regroup: bool = True,
    dimensions: tuple[str, ...] = ROLLUP_DIMENSIONS,
) -> str:
    """Rollup rows per ``unit`` bucket and ``dimensions`` from a fine relation.

    The inner query adds up the fine rows of each ``(bucket, dimensions, bin)`` (several
    deltas of one bucket, the minutes of one hour, or the assets and models a tenant-wide
    rollup folds together); ``regroup=False`` skips it for a fine relation that already
    has one row per minute, dimensions and bin. The middle one folds the bins of a group
    into one list of ``(bin, count)`` pairs, sorted by ``list_sort`` (several times
    cheaper than two ``list(... ORDER BY bin)`` aggregates); the outer one splits it
    into the two parallel arrays. The columns are those of a table with ``dimensions``.
    """
    dims = ", ".join(dimensions)
    inner = ",\n    ".join(f"{_combine(m)} AS {m}" for m in _MEASURES)
    outer = ",\n    ".join(f"{_combine(m)} AS {m}" for m in _MEASURES)
    source = (
        f"  SELECT date_trunc('{unit}', bucket) AS bucket, {dims}, bin,\n    {inner},\n"
        "    CAST(sum(bin_count) AS BIGINT) AS bin_count\n"
        f"  FROM ({fine})\n"
        "  GROUP BY ALL"
        if regroup
        else f"  SELECT * FROM {fine}"
    )
    return (
        f"SELECT bucket, {dims}, {', '.join(_MEASURES)},\n"
        "  coalesce(list_transform(h, lambda x: x.b), []::INTEGER[]) AS lat_bins,\n"
        "  coalesce(list_transform(h, lambda x: x.c), []::BIGINT[]) AS lat_counts\n"
        "FROM (\n"
        f"  SELECT bucket, {dims},\n    {outer},\n"
        "    list_sort(list(struct_pack(b := bin, c := bin_count))"
        " FILTER (WHERE bin IS NOT NULL)) AS h\n"
        f"  FROM (\n{source}\n  )\n"
        f"  GROUP BY bucket, {dims}\n"
        ")"
    )


def fine_from_rollup_sql(
    table: str, where: str, dimensions: tuple[str, ...] = ROLLUP_DIMENSIONS
) -> str:
    """The fine relation of stored rollup rows of ``table`` (with ``dimensions``)
    matching ``where``.

    Each stored row contributes its measures once (in a row with ``bin`` NULL) and one
    row per histogram bin that carries only the bin's count; the neutral values (0 for
    sums, NULL for min/max) make the measure columns of the bin rows add nothing.
    """
    dims = ", ".join(dimensions)
    measures = ", ".join(_MEASURES)
    neutral = ", ".join(f"{'NULL' if m in _COMBINE else '0'} AS {m}" for m in _MEASURES)
    return (
        f"SELECT bucket, {dims}, NULL::INTEGER AS bin, {measures}, 0 AS bin_count\n"
        f"FROM {table} WHERE {where}\n"
        "UNION ALL\n"
        f"SELECT bucket, {dims}, unnest(lat_bins) AS bin, {neutral},"
        " unnest(lat_counts) AS bin_count\n"
        f"FROM {table} WHERE {where}"
    )


__all__ = [
    "DIMS",
    "fine_from_events_sql",
    "fine_from_rollup_sql",
    "latency_bin_sql",
    "merge_sql",
]
