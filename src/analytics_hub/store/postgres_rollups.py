"""SQL of the PostgreSQL rollup tables: folding deltas into minute and hour rows.

The same shape as :mod:`analytics_hub.store.duckdb_rollups` (read its docstring): a
*fine* relation with one row per ``(bucket, dimensions, bin)``, turned into rollup rows
by one merging query, used by compaction (fine rows unnested from stored histograms)
and re-pricing. The write path folds its deltas in Arrow instead
(:mod:`analytics_hub.store.rollup_rows`) and COPYs the finished rows. Differences from
DuckDB are of dialect only: no ``GROUP BY ALL``, ``sum`` of a ``bigint`` is ``numeric``
(cast back to ``bigint``), and the histogram arrays come from
``array_agg(... ORDER BY bin)``.
"""

from __future__ import annotations

from analytics_hub.events.columns import ROLLUP_DIMENSIONS, ROLLUP_MEASURES
from analytics_hub.events.histogram import GAMMA, MIN_VALUE
from analytics_hub.store.rollup_tables import ROLLUPS


def _double(value: float) -> str:
    # A text literal parses the shortest repr exactly, as Python's float holds it.
    return f"CAST('{value!r}' AS double precision)"


def latency_bin_sql(expr: str) -> str:
    """SQL for :func:`analytics_hub.events.histogram.bin_of` of ``expr`` (NULL stays NULL)."""
    return (
        f"CASE WHEN {expr} IS NULL THEN NULL ELSE CAST(ceil(ln(greatest({expr}, "
        f"{_double(MIN_VALUE)})) / ln({_double(GAMMA)})) AS integer) END"
    )


_COMBINE: dict[str, str] = {"latency_min": "min", "latency_max": "max"}  # else sum
_MEASURES: tuple[str, ...] = tuple(m.name for m in ROLLUP_MEASURES)
_INTEGER_MEASURES = frozenset(m.name for m in ROLLUP_MEASURES if m.type == "int64")

DIMS = ", ".join(ROLLUP_DIMENSIONS)


def _combine(name: str, source: str | None = None) -> str:
    value = f"{_COMBINE.get(name, 'sum')}({source or name})"
    return f"CAST({value} AS bigint)" if name in _INTEGER_MEASURES else value


def _positions(count: int) -> str:
    return ", ".join(str(i) for i in range(1, count + 1))


def merge_sql(
    fine: str,
    unit: str,
    *,
    regroup: bool = True,
    dimensions: tuple[str, ...] = ROLLUP_DIMENSIONS,
) -> str:
    """Rollup rows per ``unit`` bucket and ``dimensions`` from a fine relation.

    ``fine`` is a relation name or a parenthesised query. The inner query adds up the
    fine rows of each ``(bucket, dimensions, bin)``; ``regroup=False`` skips it for a
    fine relation that already has one row per minute, dimensions and bin. The outer
    one folds the bins of a group into the two parallel arrays, sorted by bin. The
    columns are those of a rollup table with ``dimensions``.
    """
    dims = ", ".join(dimensions)
    inner = ",\n    ".join(f"{_combine(m)} AS {m}" for m in _MEASURES)
    outer = ",\n  ".join(f"{_combine(m)} AS {m}" for m in _MEASURES)
    source = (
        f"(SELECT date_trunc('{unit}', bucket) AS bucket, {dims}, bin,\n    {inner},\n"
        "    CAST(sum(bin_count) AS bigint) AS bin_count\n"
        f"  FROM {fine} AS f\n"
        f"  GROUP BY {_positions(len(dimensions) + 2)})"
        if regroup
        else fine
    )
    return (
        f"SELECT bucket, {dims},\n  {outer},\n"
        "  coalesce(array_agg(bin ORDER BY bin) FILTER (WHERE bin IS NOT NULL),"
        " CAST('{}' AS integer[])) AS lat_bins,\n"
        "  coalesce(array_agg(CAST(bin_count AS bigint) ORDER BY bin)"
        " FILTER (WHERE bin IS NOT NULL), CAST('{}' AS bigint[])) AS lat_counts\n"
        f"FROM {source} AS g\n"
        f"GROUP BY {_positions(len(dimensions) + 1)}"
    )


def fine_from_rollup_sql(
    table: str, where: str, dimensions: tuple[str, ...] = ROLLUP_DIMENSIONS
) -> str:
    """The fine relation (a parenthesised query) of stored rows of ``table`` (with
    ``dimensions``) matching ``where``: each row once with its measures (``bin`` NULL),
    and once per histogram bin with only the bin's count (neutral values elsewhere add
    nothing)."""
    dims = ", ".join(dimensions)
    measures = ", ".join(_MEASURES)
    neutral = ", ".join(
        f"CAST(NULL AS double precision) AS {m}"
        if m in _COMBINE
        else f"CAST(0 AS {'bigint' if m in _INTEGER_MEASURES else 'double precision'}) AS {m}"
        for m in _MEASURES
    )
    return (
        f"(SELECT bucket, {dims}, CAST(NULL AS integer) AS bin, {measures},"
        " CAST(0 AS bigint) AS bin_count\n"
        f" FROM {table} WHERE {where}\n"
        " UNION ALL\n"
        f" SELECT r.bucket, {', '.join(f'r.{d}' for d in dimensions)}, h.b, {neutral},"
        " h.c\n"
        f" FROM {table} AS r, unnest(r.lat_bins, r.lat_counts) AS h(b, c) WHERE {where})"
    )


def mark_dirty_sql(source: str, time_col: str = "bucket") -> str:
    """An INSERT recording, for compaction, the buckets of every rollup table that rows
    of ``source`` (times in ``time_col``) add deltas to."""
    marks = " UNION ".join(
        f"SELECT DISTINCT '{r.name}', date_trunc('{r.unit}', {time_col}) FROM {source}"
        for r in ROLLUPS
    )
    return f"INSERT INTO rollup_dirty (rollup, bucket) {marks}"


__all__ = [
    "DIMS",
    "fine_from_rollup_sql",
    "latency_bin_sql",
    "mark_dirty_sql",
    "merge_sql",
]
