"""A commit matched against subscriptions and rendered into bounded ``events`` messages."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pyarrow as pa

from analytics_hub.query import Filter
from analytics_hub.query.live import LiveFilter
from analytics_hub.query.live.render import MAX_MESSAGE_BYTES, Job, match_and_render
from analytics_hub.testing.rows import make_event_rows

START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def commit(n: int = 20) -> pa.Table:
    return make_event_rows(n, start=START, tenants=["a", "b"], seed=3)


def events_of(chunks: list[tuple[str, int]]) -> list[dict[str, object]]:
    out = []
    for text, count in chunks:
        message = json.loads(text)
        assert message["type"] == "events"
        assert len(message["events"]) == count
        out.extend(message["events"])
    return out


def test_each_job_gets_its_tenant_s_matching_rows_in_commit_order() -> None:
    table = commit()
    only_calls = LiveFilter([Filter(field="payload_subtype", op="eq", value="llm_call")])
    jobs = [
        Job(1, "a", LiveFilter(), 100),
        Job(2, "b", only_calls, 100),
        Job(3, "c", LiveFilter(), 9),
    ]
    results = {m.key: m for m in match_and_render(table, jobs)}
    assert set(results) == {1, 2}  # tenant c has no rows in this commit: nothing to send
    rows = table.to_pylist()
    want_a = [r["event_id"] for r in rows if r["tenant_id"] == "a"]
    want_b = [
        r["event_id"] for r in rows if r["tenant_id"] == "b" and r["payload_subtype"] == "llm_call"
    ]
    assert [e["event_id"] for e in events_of(results[1].chunks)] == want_a
    assert [e["event_id"] for e in events_of(results[2].chunks)] == want_b
    assert results[1].dropped == results[2].dropped == 0


def test_what_does_not_fit_the_room_is_counted_not_rendered() -> None:
    table = make_event_rows(30, start=START, tenant="a")
    [some] = match_and_render(table, [Job(1, "a", LiveFilter(), room=12)])
    assert (len(events_of(some.chunks)), some.dropped) == (12, 18)
    [none] = match_and_render(table, [Job(1, "a", LiveFilter(), room=0)])
    assert (none.chunks, none.dropped) == ([], 30)


def test_messages_are_bounded_in_count_and_in_bytes() -> None:
    table = make_event_rows(25, start=START, tenant="a")
    [counted] = match_and_render(table, [Job(1, "a", LiveFilter(), 100)], per_message=10)
    assert [count for _, count in counted.chunks] == [10, 10, 5]
    big = '{"text": "' + "x" * 60_000 + '"}'
    index = table.schema.get_field_index("payload")
    table = table.set_column(index, table.schema.field(index), pa.array([big] * 25))
    [sized] = match_and_render(table, [Job(1, "a", LiveFilter(), 100)])
    assert all(len(text.encode()) <= MAX_MESSAGE_BYTES for text, _ in sized.chunks)
    assert sum(count for _, count in sized.chunks) == 25
    assert len(sized.chunks) > 1
