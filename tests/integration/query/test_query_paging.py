"""Cursor pagination covers every row exactly once, for raw events and aggregates."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from analytics_hub.query import Query, QueryService, TimeRange

if TYPE_CHECKING:
    from conftest import Loaded, Reference

WHOLE = {"from": "2025-01-01T00:00:00Z", "to": "2025-01-02T00:00:00Z"}
RAGGED = {"from": "2025-01-01T09:17:31.5Z", "to": "2025-01-01T13:41:12.25Z"}


def pages(
    loaded: Loaded, tenant: str, query: Query, *, rollups: bool = True
) -> list[list[dict[str, Any]]]:
    out = []
    while True:
        result = loaded.service.run(tenant, query, allow_rollups=rollups)
        out.append(result.rows)
        if result.next_cursor is None:
            return out
        query = query.model_copy(update={"cursor": result.next_cursor})


@pytest.mark.parametrize("direction", ["desc", "asc"])
def test_raw_events_are_each_listed_once_in_time_order(
    loaded: Loaded, ref: Reference, direction: str
) -> None:
    query = Query.model_validate(
        {
            "time_range": RAGGED,
            "limit": 997,
            "order_by": [{"field": "timestamp", "direction": direction}],
        }
    )
    got = [row for page in pages(loaded, "t1", query) for row in page]
    start, end = ref.naive(RAGGED["from"]), ref.naive(RAGGED["to"])
    expected = {str(r["event_id"]) for r in loaded.of("t1") if start <= r["ts"] < end}
    ids = [r["event_id"] for r in got]
    assert len(ids) == len(set(ids)) == len(expected)
    assert set(ids) == expected
    stamps = [ref.naive(r["timestamp"]) for r in got]
    assert stamps == sorted(stamps, reverse=direction == "desc")


def test_events_sharing_a_timestamp_are_paged_by_id(loaded: Loaded) -> None:
    query = Query.model_validate({"time_range": WHOLE, "limit": 7})
    result = pages(loaded, "t3", query)
    ids = [r["event_id"] for page in result for r in page]
    assert len(result) == 36  # 250 events, 7 a page
    assert len(ids) == len(set(ids)) == 250
    assert ids == sorted(ids, reverse=True)


@pytest.mark.parametrize("rollups", [True, False])
@pytest.mark.parametrize(
    "order_by",
    [
        [],
        [{"field": "n", "direction": "desc"}],
        [{"field": "p95", "direction": "desc"}],  # sorted in Python on the rollup plan
    ],
)
def test_aggregate_pages_cover_every_group_once(
    loaded: Loaded, rollups: bool, order_by: list[dict[str, str]]
) -> None:
    body = {
        "time_range": RAGGED,
        "group_by": [{"bucket": "1h"}, "model_id", "asset_id"],
        "aggregates": [
            {"fn": "count", "as": "n"},
            {"fn": "p95", "field": "latency_ms", "as": "p95"},
        ],
        "order_by": order_by,
    }
    whole = loaded.service.run(
        "t1", Query.model_validate({**body, "limit": 5000}), allow_rollups=rollups
    )
    assert whole.next_cursor is None
    paged = pages(loaded, "t1", Query.model_validate({**body, "limit": 13}), rollups=rollups)
    assert all(len(page) == 13 for page in paged[:-1])
    rows = [row for page in paged for row in page]
    keys = [(r["bucket"], r["model_id"], r["asset_id"]) for r in rows]
    assert len(keys) == len(set(keys))
    assert rows == whole.rows  # same rows, same order


def test_list_events_pages_a_default_range_that_does_not_slide(loaded: Loaded) -> None:
    now = [datetime(2025, 1, 1, 16, 0, tzinfo=UTC)]
    service = QueryService(loaded.store, clock=lambda: now[0])
    first = service.list_events("t1", limit=1000)
    assert first.next_cursor is not None
    seen = [e["event_id"] for e in first.events]
    cursor = first.next_cursor
    now[0] = datetime(2025, 1, 2, 16, 0, tzinfo=UTC)  # a day later: the range must hold
    while cursor is not None:
        page = service.list_events("t1", limit=1000, cursor=cursor)
        seen += [e["event_id"] for e in page.events]
        cursor = page.next_cursor
    expected = {str(r["event_id"]) for r in loaded.of("t1")}  # all within the day before 16:00
    assert len(seen) == len(set(seen)) == len(expected)


def test_list_events_with_range_and_filters(loaded: Loaded, ref: Reference) -> None:
    from analytics_hub.query import Filter

    rng = TimeRange.model_validate(RAGGED)
    page = loaded.service.list_events(
        "t1",
        time_range=rng,
        filters=[Filter(field="severity", op="gte", value="error")],
        limit=5000,
    )
    start, end = ref.naive(RAGGED["from"]), ref.naive(RAGGED["to"])
    expected = [r for r in loaded.of("t1") if start <= r["ts"] < end and r["severity_level"] >= 3]
    assert {e["event_id"] for e in page.events} == {str(r["event_id"]) for r in expected}
    assert all(e["severity"] in ("error", "critical") for e in page.events)
