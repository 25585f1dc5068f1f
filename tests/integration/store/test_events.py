"""Writing events: stored as sent, idempotent on (tenant_id, event_id), atomic."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from analytics_hub.events.columns import EVENT_SCHEMA
from analytics_hub.store.base import EventStore, WriteResult
from analytics_hub.testing.rows import make_event_rows

START = datetime(2025, 3, 1, 12, 0)


def _stored(store: EventStore, where: str = "TRUE") -> list[dict[str, Any]]:
    result = store.fetch(f"SELECT * FROM events WHERE {where} ORDER BY tenant_id, ts", [])
    rows = [dict(zip(result.columns, r, strict=True)) for r in result.rows]
    for row in rows:
        for key, value in row.items():
            if isinstance(value, uuid.UUID):
                row[key] = str(value)
    return rows


def _sent(table: pa.Table) -> list[dict[str, Any]]:
    return sorted(table.to_pylist(), key=lambda r: (r["tenant_id"], r["ts"]))


def _count(store: EventStore) -> int:
    return int(store.fetch("SELECT count(*) FROM events", []).rows[0][0])


def test_written_events_read_back_as_sent(store: EventStore) -> None:
    table = make_event_rows(3_000, start=START, tenants=["t1", "t2"], seed=1)
    assert store.write_events(table) == WriteResult(inserted=3_000, duplicates=0)
    assert _stored(store) == _sent(table)


def test_nulls_and_optional_columns_round_trip(store: EventStore) -> None:
    row = make_event_rows(1, start=START).to_pylist()[0]
    row.update(skew_ms=1234.5, parent_event_id=str(uuid.uuid4()), latency_ms=None, status=None)
    table = pa.Table.from_pylist([row], schema=EVENT_SCHEMA)
    store.write_events(table)
    assert _stored(store) == [row]


def test_an_empty_batch_writes_nothing(store: EventStore) -> None:
    assert store.write_events(EVENT_SCHEMA.empty_table()) == WriteResult(0, 0)
    assert _count(store) == 0


def test_the_same_batch_twice_is_stored_once(store: EventStore) -> None:
    table = make_event_rows(5_000, start=START, tenants=["t1", "t2", "t3"], seed=2)
    assert store.write_events(table) == WriteResult(inserted=5_000, duplicates=0)
    assert store.write_events(table) == WriteResult(inserted=0, duplicates=5_000)
    assert _count(store) == 5_000


def test_an_overlapping_replay_stores_only_the_new_events(store: EventStore) -> None:
    table = make_event_rows(3_000, start=START, seed=3)
    store.write_events(table.slice(0, 2_000))
    assert store.write_events(table.slice(1_000, 2_000)) == WriteResult(1_000, 1_000)
    assert _stored(store) == _sent(table)


def test_duplicates_inside_a_batch_keep_the_first(store: EventStore) -> None:
    table = make_event_rows(100, start=START, seed=4)
    first = table.slice(10, 1).to_pylist()[0]
    second = dict(first, latency_ms=99_999.0, payload='{"second": true}')
    batch = pa.concat_tables([table, pa.Table.from_pylist([second], schema=EVENT_SCHEMA)])
    batch = pa.concat_tables([batch, table.slice(50, 3)])  # and three more repeats
    assert store.write_events(batch) == WriteResult(inserted=100, duplicates=4)
    stored = _stored(store, f"event_id = '{first['event_id']}'")
    assert [r["latency_ms"] for r in stored] == [first["latency_ms"]]
    assert _count(store) == 100


def test_the_same_event_id_for_two_tenants_is_two_events(store: EventStore) -> None:
    # Same seed and start: the same event ids, one set per tenant.
    a = make_event_rows(500, start=START, tenant="a", seed=5)
    b = make_event_rows(500, start=START, tenant="b", seed=5)
    assert a.column("event_id").equals(b.column("event_id"))
    assert store.write_events(a) == WriteResult(500, 0)
    assert store.write_events(b) == WriteResult(500, 0)
    assert store.write_events(pa.concat_tables([a, b])) == WriteResult(0, 1_000)
    assert _count(store) == 1_000


def test_both_tenants_in_one_batch_are_both_kept(store: EventStore) -> None:
    a = make_event_rows(200, start=START, tenant="a", seed=6)
    b = make_event_rows(200, start=START, tenant="b", seed=6)
    assert store.write_events(pa.concat_tables([a, b])) == WriteResult(400, 0)


def test_a_replay_is_recognised_whatever_else_the_batch_spans(store: EventStore) -> None:
    # The anti-join only looks at stored events inside the batch's claimed_ts range; an
    # event replayed together with much older and much newer ones is still caught.
    middle = make_event_rows(100, start=START, seed=7)
    store.write_events(middle)
    old = make_event_rows(10, start=START - timedelta(days=20), seed=8)
    new = make_event_rows(10, start=START + timedelta(days=3), seed=9)
    assert store.write_events(pa.concat_tables([old, middle, new])) == WriteResult(20, 100)


@pytest.mark.parametrize(
    "broken",
    [
        lambda t: t.drop_columns(["payload"]),
        lambda t: t.select([*t.column_names[1:], "tenant_id"]),
        lambda t: t.set_column(
            t.schema.get_field_index("latency_ms"),
            "latency_ms",
            pc.cast(t.column("latency_ms"), pa.float32()),
        ),
        lambda t: t.set_column(
            0, pa.field("tenant_id", pa.string()), pa.array([None] * t.num_rows, pa.string())
        ),
    ],
    ids=["missing column", "wrong order", "wrong type", "null in required column"],
)
def test_a_batch_not_in_the_event_schema_is_refused(store: EventStore, broken: Any) -> None:
    table = make_event_rows(10, start=START)
    with pytest.raises(ValueError, match=r"schema|null"):
        store.write_events(broken(table))
    assert _count(store) == 0


def test_a_batch_with_relaxed_nullability_flags_is_accepted(store: EventStore) -> None:
    table = make_event_rows(10, start=START)
    relaxed = table.cast(pa.schema([f.with_nullable(True) for f in EVENT_SCHEMA]))
    assert store.write_events(relaxed) == WriteResult(10, 0)


def test_readers_see_whole_batches_only(store: EventStore) -> None:
    # Events and their rollup deltas commit together: in any one snapshot the rollups
    # count exactly the stored events, and the event count is a whole number of batches.
    batches = [make_event_rows(2_000, start=START + timedelta(hours=k), seed=k) for k in range(12)]
    done = threading.Event()
    seen: list[tuple[int, int]] = []
    failures: list[BaseException] = []

    def read() -> None:
        try:
            while not done.is_set():
                row = store.fetch(
                    "SELECT (SELECT count(*) FROM events),"
                    " (SELECT coalesce(sum(events), 0) FROM rollup_1m)",
                    [],
                ).rows[0]
                seen.append((int(row[0]), int(row[1])))
        except BaseException as exc:  # surfaced in the main thread
            failures.append(exc)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for reader in readers:
        reader.start()
    try:
        for batch in batches:
            store.write_events(batch)
    finally:
        done.set()
        for reader in readers:
            reader.join()
    assert failures == []
    assert seen
    assert all(events == rolled and events % 2_000 == 0 for events, rolled in seen)
    assert _count(store) == 24_000


def test_an_event_id_that_is_not_a_uuid_is_refused_and_nothing_is_stored(
    store: EventStore,
) -> None:
    table = make_event_rows(10, start=START)
    ids = table.column("event_id").to_pylist()
    ids[5] = "not-a-uuid"
    broken = table.set_column(1, EVENT_SCHEMA.field("event_id"), pa.array(ids, pa.string()))
    with pytest.raises(ValueError, match="event store"):
        store.write_events(broken)
    assert _count(store) == 0
    assert store.write_events(table) == WriteResult(10, 0)  # the store is still usable


def test_concurrent_writers_of_overlapping_batches_store_each_event_once(
    store: EventStore,
) -> None:
    # Several days (PostgreSQL partitions) per batch: writers that met shared keys in
    # different orders deadlocked here until replays were inserted in key order.
    table = make_event_rows(
        8_000, start=START, tenants=["t1", "t2"], step=timedelta(seconds=60), seed=13
    )
    results: list[WriteResult] = []
    lock = threading.Lock()

    def write(offset: int) -> None:
        for k in range(offset, 7_000, 700):  # overlapping windows
            result = store.write_events(table.slice(k, 1_000))
            with lock:
                results.append(result)

    offsets = (0, 350, 0, 175, 525)
    covered = {i for o in offsets for k in range(o, 7_000, 700) for i in range(k, k + 1_000)}
    writers = [threading.Thread(target=write, args=(o,)) for o in offsets]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    stored = _count(store)
    assert stored == sum(r.inserted for r in results)
    distinct = store.fetch("SELECT count(DISTINCT (tenant_id, event_id)) FROM events", []).rows
    assert distinct == [(stored,)]
    assert stored == len(covered)
