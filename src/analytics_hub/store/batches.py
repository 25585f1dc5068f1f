"""Checks every store backend makes of an event batch before writing it."""

from __future__ import annotations

import pyarrow as pa

from analytics_hub.events.columns import EVENT_SCHEMA


def check_event_batch(table: pa.Table) -> None:
    """Raise ValueError unless ``table`` has exactly the columns and types of EVENT_SCHEMA.

    Nullability flags are not compared (tables built by concatenation or by hand often
    mark every field nullable); instead a required column must hold no nulls, which the
    store's NOT NULL constraints would reject anyway, only later and less clearly.
    """
    got = [(f.name, f.type) for f in table.schema]
    want = [(f.name, f.type) for f in EVENT_SCHEMA]
    if got != want:
        raise ValueError(f"batch schema differs from EVENT_SCHEMA: {table.schema}")
    for f in EVENT_SCHEMA:
        if not f.nullable and table.column(f.name).null_count:
            raise ValueError(f"batch has nulls in required column {f.name!r}")


__all__ = ["check_event_batch"]
