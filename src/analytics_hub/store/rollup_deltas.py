"""Rollup deltas of an Arrow event batch, computed in Arrow: the *fine* relation.

One row per ``(minute bucket, ROLLUP_DIMENSIONS, latency bin)`` with the rollup
measures of those events and ``bin_count`` (events in the bin), exactly the relation
:mod:`analytics_hub.store.duckdb_rollups` builds in SQL (its docstring explains the
shape). A store that loads rows by COPY computes this from the very Arrow table it
loaded, so the deltas are of exactly the rows stored, and ships the few thousand fine
rows instead of reading the batch back; its SQL then folds them into minute and hour
rows. Arrow's hash aggregation does this in 15–30 ms for 50 k events.

Bins come from :mod:`analytics_hub.events.histogram`'s formula evaluated with Arrow's
``ln`` (the C library's ``log``, as PostgreSQL, DuckDB and Python use); tests compare it
with ``bin_of`` on values on and beside every bin edge.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from analytics_hub.events.columns import COLUMNS_BY_NAME, ROLLUP_DIMENSIONS, ROLLUP_MEASURES
from analytics_hub.events.histogram import LN_GAMMA, MIN_VALUE

#: columns of the fine relation, in order
FINE_COLUMNS: tuple[str, ...] = (
    "bucket",
    *ROLLUP_DIMENSIONS,
    "bin",
    *(m.name for m in ROLLUP_MEASURES),
    "bin_count",
)

FINE_SCHEMA: pa.Schema = pa.schema(
    [
        pa.field("bucket", pa.timestamp("us")),
        *(pa.field(d, COLUMNS_BY_NAME[d].arrow_type) for d in ROLLUP_DIMENSIONS),
        pa.field("bin", pa.int32()),
        *(pa.field(m.name, m.arrow_type) for m in ROLLUP_MEASURES),
        pa.field("bin_count", pa.int64()),
    ]
)

_KEYS = ["bucket", *ROLLUP_DIMENSIONS, "bin"]
# measure -> (input column, Arrow hash aggregate, value when the group has no input)
_AGGREGATES: dict[str, tuple[str, str, object]] = {
    "events": ("", "count_all", None),
    "errors": ("is_error", "sum", None),
    "unpriced": ("is_unpriced", "sum", None),
    "input_tokens": ("input_tokens", "sum", 0),
    "output_tokens": ("output_tokens", "sum", 0),
    "cost_usd": ("cost_usd", "sum", 0.0),
    "latency_count": ("latency_ms", "count", None),
    "latency_sum": ("latency_ms", "sum", 0.0),
    "latency_min": ("latency_ms", "min", None),
    "latency_max": ("latency_ms", "max", None),
    "ttft_count": ("ttft_ms", "count", None),
    "ttft_sum": ("ttft_ms", "sum", 0.0),
}
if set(_AGGREGATES) != {m.name for m in ROLLUP_MEASURES}:  # pragma: no cover - future edits
    raise RuntimeError("ROLLUP_MEASURES and the Arrow rollup deltas disagree")


def latency_bins(latency: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """``histogram.bin_of`` of every value (int32); null stays null."""
    floor = pc.max_element_wise(latency, pa.scalar(MIN_VALUE), skip_nulls=False)
    return pc.cast(pc.ceil(pc.divide(pc.ln(floor), LN_GAMMA)), pa.int32())


def _flag(column: pa.ChunkedArray, value: str) -> pa.ChunkedArray:
    return pc.cast(pc.fill_null(pc.equal(column, value), False), pa.int64())


def fine_deltas(events: pa.Table) -> pa.Table:
    """The fine relation (schema ``FINE_SCHEMA``) of ``events`` (``EVENT_SCHEMA``)."""
    latency = events.column("latency_ms")
    inputs = pa.table(
        {
            "bucket": pc.floor_temporal(events.column("ts"), unit="minute"),
            **{d: events.column(d) for d in ROLLUP_DIMENSIONS},
            "bin": latency_bins(latency),
            "is_error": _flag(events.column("status"), "error"),
            "is_unpriced": _flag(events.column("cost_source"), "unpriced"),
            **{
                c: events.column(c)
                for c in ("input_tokens", "output_tokens", "cost_usd", "latency_ms", "ttft_ms")
            },
        }
    )
    specs = sorted({(source, agg) for source, agg, _ in _AGGREGATES.values()})
    grouped = inputs.group_by(_KEYS, use_threads=False).aggregate(
        [(source or [], agg) for source, agg in specs]
    )
    columns: list[pa.ChunkedArray] = [grouped.column(k) for k in _KEYS]
    for measure in FINE_SCHEMA.names[len(_KEYS) : -1]:
        source, agg, empty = _AGGREGATES[measure]
        values = grouped.column(f"{source}_{agg}" if source else agg)
        columns.append(values if empty is None else pc.fill_null(values, empty))
    columns.append(grouped.column("latency_ms_count"))
    return pa.Table.from_arrays(columns, schema=FINE_SCHEMA)


__all__ = ["FINE_COLUMNS", "FINE_SCHEMA", "fine_deltas", "latency_bins"]
