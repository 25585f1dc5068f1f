"""QueryService over a fake store: result shaping, cursors, percentiles merged in Python."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from analytics_hub.errors import ValidationError
from analytics_hub.events import histogram
from analytics_hub.query import Query, QueryService, TimeRange
from analytics_hub.query.dialects.base import EVENT_SELECT
from analytics_hub.store.base import EventStore, QueryRows

RANGE = {"from": "2025-01-01T09:17:31.5Z", "to": "2025-01-01T13:41:12Z"}


class FakeStore:
    """Answers ``fetch`` with queued results and records every statement."""

    dialect = "duckdb"

    def __init__(self, *results: QueryRows) -> None:
        self.results = list(results)
        self.calls: list[tuple[str, list[object]]] = []

    def fetch(self, sql: str, params: Sequence[object]) -> QueryRows:
        self.calls.append((sql, list(params)))
        return self.results.pop(0) if self.results else QueryRows([], [])


def service(store: FakeStore, **kwargs: Any) -> QueryService:
    return QueryService(cast(EventStore, store), **kwargs)


def event_row(i: int, ts: datetime) -> tuple[object, ...]:
    values: dict[str, object] = dict.fromkeys(EVENT_SELECT)
    values.update(
        event_id=uuid.UUID(int=i),
        ts=ts,
        received_at=ts,
        source_module="llm-observatory",
        tags="{}",
        payload="{}",
        payload_type="telemetry",
    )
    return tuple(values[c] for c in EVENT_SELECT)


def query(**parts: Any) -> Query:
    return Query.model_validate({"time_range": RANGE, **parts})


def test_raw_query_pages_with_a_keyset_cursor() -> None:
    t0 = datetime(2025, 1, 1, 12, 0)
    rows = [event_row(i, t0 - timedelta(seconds=i)) for i in range(3)]
    store = FakeStore(QueryRows(list(EVENT_SELECT), rows))
    svc = service(store)
    first = svc.run("t1", query(limit=2))
    assert [r["event_id"] for r in first.rows] == [str(uuid.UUID(int=0)), str(uuid.UUID(int=1))]
    assert first.rows[0]["timestamp"] == "2025-01-01T12:00:00Z"
    assert first.next_cursor is not None
    assert first.meta.source == "raw"
    assert not first.meta.approximate_percentiles
    assert [s.source for s in first.meta.plan] == ["raw"]
    assert store.calls[0][1][-1] == 3  # page size + 1

    svc.run("t1", query(limit=2, cursor=first.next_cursor))
    params = store.calls[1][1]
    assert params[-4:] == [
        t0 - timedelta(seconds=1),
        t0 - timedelta(seconds=1),
        str(uuid.UUID(int=1)),
        3,
    ]


def test_a_cursor_is_refused_for_another_query_or_tenant() -> None:
    t0 = datetime(2025, 1, 1, 12, 0)
    store = FakeStore(QueryRows(list(EVENT_SELECT), [event_row(i, t0) for i in range(3)]))
    svc = service(store)
    token = svc.run("t1", query(limit=2)).next_cursor
    with pytest.raises(ValidationError, match="different query"):
        svc.run("t2", query(limit=2, cursor=token))
    with pytest.raises(ValidationError, match="different query"):
        svc.run("t1", query(limit=2, cursor=token, filters=[{"field": "model_id", "value": "x"}]))


def test_last_page_has_no_cursor() -> None:
    t0 = datetime(2025, 1, 1, 12, 0)
    store = FakeStore(QueryRows(list(EVENT_SELECT), [event_row(0, t0)]))
    assert service(store).run("t1", query(limit=2)).next_cursor is None


def test_raw_aggregate_rows_use_public_names() -> None:
    bucket = datetime(2025, 1, 1, 10, 0)
    store = FakeStore(QueryRows(["g0", "g1", "a0"], [(bucket, "gpt-4o", 12)]))
    result = service(store).run(
        "t1",
        query(
            group_by=[{"bucket": "1h"}, "tags.team"],
            aggregates=[{"fn": "sum", "field": "total_tokens", "as": "tok"}],
        ),
    )
    assert result.rows == [{"bucket": "2025-01-01T10:00:00Z", "tags.team": "gpt-4o", "tok": 12}]
    assert result.meta.source == "raw"


def hist(values: list[float]) -> list[dict[str, int]]:
    counts: dict[int, int] = {}
    for v in values:
        counts[histogram.bin_of(v)] = counts.get(histogram.bin_of(v), 0) + 1
    return [{"b": b, "c": c} for b, c in counts.items()]


def test_rollup_percentiles_are_merged_sorted_and_paged_in_python() -> None:
    latencies = {"a": [100.0] * 10, "b": [300.0] * 10, "c": [200.0] * 10, "d": [50.0]}
    rows = [(k, len(v), hist(v)) for k, v in latencies.items()] + [("e", 3, None)]
    parts: dict[str, Any] = {
        "group_by": ["model_id"],
        "aggregates": [
            {"fn": "p95", "field": "latency_ms", "as": "p95"},
            {"fn": "count", "as": "n"},
        ],
        "order_by": [{"field": "p95", "direction": "desc"}],
        "limit": 2,
    }
    store = FakeStore(QueryRows(["g0", "a1", "h"], rows), QueryRows(["g0", "a1", "h"], rows))
    svc = service(store)
    first = svc.run("t1", query(**parts))
    assert first.meta.source == "rollup"
    assert first.meta.approximate_percentiles
    assert [r["model_id"] for r in first.rows] == ["b", "c"]
    assert first.rows[0]["p95"] == pytest.approx(300.0, rel=0.01)
    assert first.rows[0]["n"] == 10
    second = svc.run("t1", query(**parts, cursor=first.next_cursor))
    # a group without latencies has a null percentile, which sorts last
    assert [r["model_id"] for r in second.rows] == ["a", "d"]
    assert second.next_cursor is not None


def test_limit_is_checked_against_max_rows() -> None:
    svc = service(FakeStore(), max_rows=50)
    with pytest.raises(ValidationError, match="maximum of 50 rows"):
        svc.run("t1", query(limit=51))
    with pytest.raises(ValidationError, match="between 1 and 50"):
        svc.list_events("t1", limit=51)


def test_get_event_renders_an_envelope_or_none() -> None:
    t0 = datetime(2025, 1, 1, 12, 0)
    store = FakeStore(
        QueryRows(list(EVENT_SELECT), [event_row(7, t0)]), QueryRows(list(EVENT_SELECT), [])
    )
    svc = service(store)
    event = svc.get_event("t1", str(uuid.UUID(int=7)).upper())
    assert event is not None
    assert event["event_id"] == str(uuid.UUID(int=7))
    assert event["hub"]["received_at"] == "2025-01-01T12:00:00Z"
    assert store.calls[0][1] == ["t1", str(uuid.UUID(int=7))]
    assert svc.get_event("t1", str(uuid.UUID(int=8))) is None
    assert svc.get_event("t1", "'; DROP TABLE events; --") is None
    assert len(store.calls) == 2  # the malformed id never reached the store


def test_list_events_defaults_to_the_last_day_and_its_cursor_keeps_the_range() -> None:
    now = [datetime(2025, 1, 2, 12, 0, tzinfo=UTC)]
    t0 = datetime(2025, 1, 2, 11, 0)
    page = QueryRows(
        list(EVENT_SELECT), [event_row(i, t0 - timedelta(seconds=i)) for i in range(3)]
    )
    store = FakeStore(page, page)
    svc = service(store, clock=lambda: now[0])
    first = svc.list_events("t1", limit=2)
    assert first.events[0]["payload"] == {"payload_type": "telemetry", "data": {}}
    _, params = store.calls[0]
    assert params[1] == datetime(2025, 1, 1, 12, 0)  # now - 24 h, naive UTC
    assert params[2] > datetime(2025, 1, 2, 12, 0)  # a little of the future is included

    now[0] += timedelta(hours=5)  # the clock moves between pages
    svc.list_events("t1", limit=2, cursor=first.next_cursor)
    assert store.calls[1][1][1:3] == params[1:3]


def test_list_events_takes_an_explicit_range_and_filters() -> None:
    store = FakeStore()
    rng = TimeRange.model_validate({"from": "2025-01-01T00:00:00Z", "to": "2025-01-01T01:00:00Z"})
    from analytics_hub.query import Filter

    page = service(store).list_events(
        "t1", time_range=rng, filters=[Filter(field="severity", op="gte", value="error")]
    )
    assert page.events == []
    assert page.next_cursor is None
    assert "severity_level >= ?" in store.calls[0][0]


def test_unknown_dialect_fails_at_construction() -> None:
    store = FakeStore()
    store.dialect = "oracle"
    with pytest.raises(LookupError):
        service(store)


def test_list_events_reports_a_bad_cursor_as_a_validation_error() -> None:
    svc = service(FakeStore())
    with pytest.raises(ValidationError, match="invalid event listing"):
        svc.list_events(
            "t1",
            time_range=TimeRange.model_validate(
                {"from": "2025-01-01T00:00:00Z", "to": "2025-01-02T00:00:00Z"}
            ),
            cursor="x" * 5000,
        )
    with pytest.raises(ValidationError, match="invalid cursor"):
        svc.list_events("t1", cursor="garbage")
