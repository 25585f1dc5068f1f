"""Backend-neutral parts of re-pricing: hour slices to work in, and which rows change.

Each store reads the calls of a slice, prices them again and writes back only the rows
whose cost or source changes, with rollup deltas (cost, unpriced count) for exactly
those. Deciding the slices and the changed rows is plain Arrow and numpy, shared here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from analytics_hub.events.columns import ROLLUP_DIMENSIONS

_HOUR = timedelta(hours=1)


def hour_slices(
    counts: dict[datetime, int], start: datetime, end: datetime, per_slice: int
) -> list[tuple[datetime, datetime]]:
    """Consecutive hour ranges of about ``per_slice`` calls each, within ``[start, end)``.

    ``counts`` holds the calls per hour (the hour's start) that may change.
    """
    out: list[tuple[datetime, datetime]] = []
    first: datetime | None = None
    total = 0
    for hour, n in sorted(counts.items()):
        first = hour if first is None else first
        total += n
        if total >= per_slice:
            out.append((max(first, start), min(hour + _HOUR, end)))
            first, total = None, 0
    if first is not None:
        out.append((max(first, start), min(max(counts) + _HOUR, end)))
    return out


def _flags(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=bool)


def cost_changes(rows: pa.Table, costs: pa.Array, keys: Sequence[str]) -> pa.Table:
    """The rows whose cost or source changes under ``costs`` (null: unpriced).

    The result has the ``keys`` that find a row in the store, ``ts`` and the rollup
    dimensions, then ``old_cost``, ``new_cost``, ``new_source`` and ``d_unpriced``.
    """
    old_cost = rows.column("cost_usd").combine_chunks()
    was = _flags(pc.equal(rows.column("cost_source"), "unpriced"))
    now = _flags(pc.is_null(costs))
    # Both priced: compare the costs (NaN never occurs: both are non-null here).
    old = np.asarray(old_cost.to_numpy(zero_copy_only=False), dtype=np.float64)
    new = np.asarray(costs.to_numpy(zero_copy_only=False), dtype=np.float64)
    keep = (was != now) | (~was & ~now & (old != new))
    changes = rows.select([*keys, "ts", *ROLLUP_DIMENSIONS])
    for name, column in (
        ("old_cost", old_cost),
        ("new_cost", costs),
        ("new_source", pc.if_else(pc.is_null(costs), "unpriced", "computed")),
        ("d_unpriced", pa.array(now.astype(np.int64) - was.astype(np.int64))),
    ):
        changes = changes.append_column(name, column)
    return changes.filter(pa.array(keep))


__all__ = ["cost_changes", "hour_slices"]
