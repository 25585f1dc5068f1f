"""A write reports the rows it newly stored (``WriteResult.new_rows``), on every backend.

The live feed pushes exactly these rows, so that a replayed batch, or the replayed part of
a mixed one, is never shown twice; the first of a key repeated inside a batch is the one
stored and reported.
"""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa

from analytics_hub.events.columns import EVENT_SCHEMA
from analytics_hub.store.base import EventStore
from analytics_hub.testing.rows import make_event_rows

START = datetime(2025, 3, 1, 12, 0)


def _ids(table: pa.Table | None) -> list[str]:
    assert table is not None
    return [str(i) for i in table.column("event_id").to_pylist()]


def test_a_new_batch_reports_every_row(store: EventStore) -> None:
    table = make_event_rows(300, start=START, tenants=["a", "b"], seed=21)
    result = store.write_events(table)
    assert result.new_rows is not None
    assert result.new_rows.schema.equals(EVENT_SCHEMA)
    assert sorted(_ids(result.new_rows)) == sorted(_ids(table))


def test_a_replay_reports_only_what_it_added(store: EventStore) -> None:
    table = make_event_rows(300, start=START, seed=22)
    store.write_events(table.slice(0, 200))
    whole_again = store.write_events(table.slice(0, 200))
    assert _ids(whole_again.new_rows) == []
    mixed = store.write_events(table.slice(100, 200))  # 100 stored already, 100 new
    assert sorted(_ids(mixed.new_rows)) == sorted(_ids(table.slice(200, 100)))


def test_a_key_repeated_in_a_batch_is_reported_once_as_first_sent(store: EventStore) -> None:
    table = make_event_rows(20, start=START, seed=23)
    first = table.slice(5, 1).to_pylist()[0]
    again = pa.Table.from_pylist([dict(first, latency_ms=12_345.0)], schema=EVENT_SCHEMA)
    result = store.write_events(pa.concat_tables([table, again]))
    assert result.new_rows is not None
    assert sorted(_ids(result.new_rows)) == sorted(_ids(table))
    [row] = [r for r in result.new_rows.to_pylist() if r["event_id"] == first["event_id"]]
    assert row["latency_ms"] == first["latency_ms"]
