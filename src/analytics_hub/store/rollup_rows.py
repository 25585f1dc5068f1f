"""Rollup rows of a batch's fine relation, folded in Arrow: what a store appends.

The stores' SQL folds a *fine* relation (one row per minute, rollup dimensions and
latency bin; :mod:`analytics_hub.store.rollup_deltas`) into rollup rows: per bucket and
dimensions, the measures combined and the bins gathered into two parallel arrays sorted
by bin (``merge_sql`` in each store's rollups module). This module does the same fold in
Arrow, so that a store loading by COPY can append finished rollup rows instead of
shipping the fine relation and folding it in the database. On PostgreSQL the SQL fold
of a commit's deltas cost about as much as loading its events (19.8 ms of PostgreSQL per
1,000 events); in Arrow the whole rollup work, fine relation included, costs about 3 ms
(docs/decisions/0013-postgres-writes.md).

The rows equal the SQL fold's: the same groups and bins, integers exactly, and sums of
doubles up to the order of the additions (a last-place difference).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from analytics_hub.events.columns import ROLLUP_MEASURES
from analytics_hub.store.rollup_tables import ROLLUPS, RollupTable

_MEASURES: tuple[str, ...] = tuple(m.name for m in ROLLUP_MEASURES)
# how two partial values of a measure combine (Arrow hash aggregates); else "sum"
_COMBINE: dict[str, str] = {"latency_min": "min", "latency_max": "max"}
_AGGREGATES = [(m, _COMBINE.get(m, "sum")) for m in _MEASURES]


def _combined(grouped: pa.Table, measure: str) -> pa.ChunkedArray:
    return grouped.column(f"{measure}_{_COMBINE.get(measure, 'sum')}")


def _regrouped(fine: pa.Table, rollup: RollupTable) -> pa.Table:
    """``fine`` with one row per ``rollup`` bucket, dimensions and bin."""
    if rollup.full and rollup.unit == "minute":
        return fine  # already its grouping
    dims = list(rollup.dimensions)
    source = pa.table(
        {
            "bucket": pc.floor_temporal(fine.column("bucket"), unit=rollup.unit),
            **{d: fine.column(d) for d in dims},
            "bin": fine.column("bin"),
            **{m: fine.column(m) for m in _MEASURES},
            "bin_count": fine.column("bin_count"),
        }
    )
    grouped = source.group_by(["bucket", *dims, "bin"], use_threads=False).aggregate(
        [*_AGGREGATES, ("bin_count", "sum")]
    )
    return pa.table(
        {
            "bucket": grouped.column("bucket"),
            **{d: grouped.column(d) for d in dims},
            "bin": grouped.column("bin"),
            **{m: _combined(grouped, m) for m in _MEASURES},
            "bin_count": grouped.column("bin_count_sum"),
        }
    )


def _without_nulls(bins: pa.ListArray, counts: pa.ListArray) -> tuple[pa.ListArray, pa.ListArray]:
    """Both lists without the entries whose bin is null (events without a latency)."""
    flat_bins, flat_counts = pc.list_flatten(bins), pc.list_flatten(counts)
    keep = pc.is_valid(flat_bins)
    parents = pc.list_parent_indices(bins).to_numpy()
    per_row = np.bincount(parents[keep.to_numpy(zero_copy_only=False)], minlength=len(bins))
    offsets = pa.array(np.concatenate(([0], np.cumsum(per_row))).astype(np.int32))
    return (
        pa.ListArray.from_arrays(offsets, pc.filter(flat_bins, keep)),
        pa.ListArray.from_arrays(offsets, pc.filter(flat_counts, keep)),
    )


def rollup_rows(fine: pa.Table, rollup: RollupTable) -> pa.Table:
    """The rows of ``rollup`` (columns ``rollup.columns``) that ``fine`` adds up to.

    ``lat_bins`` is ``list<int32>`` and ``lat_counts`` ``list<int64>``, sorted by bin;
    a group whose events carry no latency has empty lists.
    """
    dims = list(rollup.dimensions)
    # Sorted by bin (nulls last) and grouped without threads, each group's lists come
    # out in bin order: Arrow keeps the input order within a group then.
    source = _regrouped(fine, rollup).sort_by([("bin", "ascending")])
    grouped = source.group_by(["bucket", *dims], use_threads=False).aggregate(
        [*_AGGREGATES, ("bin", "list"), ("bin_count", "list")]
    )
    bins, counts = _without_nulls(
        grouped.column("bin_list").combine_chunks(),
        grouped.column("bin_count_list").combine_chunks(),
    )
    return pa.table(
        {
            "bucket": grouped.column("bucket"),
            **{d: grouped.column(d) for d in dims},
            **{m: _combined(grouped, m) for m in _MEASURES},
            "lat_bins": bins,
            "lat_counts": counts,
        }
    )


def every_rollup_rows(fine: pa.Table) -> list[pa.Table]:
    """:func:`rollup_rows` of every table of ``ROLLUPS``, in that order.

    A commit holds a second or two of events, so its fine relation usually spans one
    minute, and then an hour rollup's rows are its minute twin's with the bucket cut
    to the hour: the same groups, each of one minute. They are derived so, which
    saves the two costliest folds; otherwise each table is folded from ``fine``.
    """
    minutes = pc.unique(fine.column("bucket"))
    one_minute_an_hour = len(minutes) == len(pc.unique(pc.floor_temporal(minutes, unit="hour")))
    done: dict[tuple[str, tuple[str, ...]], pa.Table] = {}
    out = []
    for rollup in ROLLUPS:
        twin = done.get(("minute", rollup.dimensions))
        if rollup.unit == "hour" and one_minute_an_hour and twin is not None:
            hours = pc.floor_temporal(twin.column("bucket"), unit="hour")
            rows = twin.set_column(0, "bucket", hours)
        else:
            rows = rollup_rows(fine, rollup)
        done[(rollup.unit, rollup.dimensions)] = rows
        out.append(rows)
    return out


def dirty_marks(fine: pa.Table) -> pa.Table:
    """``(rollup, bucket)``: each bucket of each rollup table that ``fine`` adds to, once."""
    marks = []
    for rollup in ROLLUPS:
        buckets = pc.unique(pc.floor_temporal(fine.column("bucket"), unit=rollup.unit))
        names = pa.array([rollup.name] * len(buckets), pa.string())
        marks.append(pa.table({"rollup": names, "bucket": buckets}))
    return pa.concat_tables(marks)


__all__ = ["dirty_marks", "every_rollup_rows", "rollup_rows"]
