"""No query sees another tenant's events, whatever the query says."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from analytics_hub.errors import ValidationError
from analytics_hub.query import Query

if TYPE_CHECKING:
    from conftest import Loaded

WHOLE = {"from": "2025-01-01T00:00:00Z", "to": "2025-01-02T00:00:00Z"}


def q(**parts: Any) -> Query:
    return Query.model_validate({"time_range": WHOLE, **parts})


def _all_events(loaded: Loaded, tenant: str, query: Query) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while True:
        result = loaded.service.run(tenant, query)
        rows.extend(result.rows)
        if result.next_cursor is None:
            return rows
        query = query.model_copy(update={"cursor": result.next_cursor})


def test_raw_listing_shows_only_the_callers_events(loaded: Loaded) -> None:
    mine = {str(r["event_id"]) for r in loaded.of("t1")}
    theirs = {str(r["event_id"]) for r in loaded.of("t2")}
    got = {r["event_id"] for r in _all_events(loaded, "t1", q(limit=5000))}
    assert got == mine
    assert not got & theirs


@pytest.mark.parametrize("rollups", [True, False])
def test_aggregates_count_only_the_callers_events(loaded: Loaded, rollups: bool) -> None:
    query = q(
        aggregates=[{"fn": "count", "as": "n"}, {"fn": "sum", "field": "input_tokens", "as": "tok"}]
    )
    for tenant in ("t1", "t2", "t3"):
        rows = loaded.of(tenant)
        result = loaded.service.run(tenant, query, allow_rollups=rollups)
        assert result.rows[0]["n"] == len(rows)
        assert result.rows[0]["tok"] == sum(r["input_tokens"] or 0 for r in rows)
    nobody = loaded.service.run("nobody", query, allow_rollups=rollups)
    assert nobody.rows[0]["n"] == 0


def test_a_tenant_filter_is_refused(loaded: Loaded) -> None:
    with pytest.raises(ValidationError, match="tenant comes from the credential"):
        loaded.service.run("t1", q(filters=[{"field": "tenant_id", "op": "eq", "value": "t2"}]))
    with pytest.raises(ValidationError, match="tenant comes from the credential"):
        loaded.service.run("t1", q(group_by=["tenant_id"], aggregates=[{"fn": "count"}]))


@pytest.mark.parametrize(
    "value",
    ["t2' OR tenant_id = 't2", "x'; DELETE FROM events; --", "') OR 1=1 --"],
)
def test_injection_attempts_are_just_values(loaded: Loaded, value: str) -> None:
    for field in ("model_id", "tags.team", "payload.threat_type"):
        result = loaded.service.run("t1", q(filters=[{"field": field, "op": "eq", "value": value}]))
        assert result.rows == []
    total = loaded.service.run("t1", q(aggregates=[{"fn": "count", "as": "n"}]))
    assert total.rows[0]["n"] == len(loaded.of("t1"))  # nothing was deleted


def test_a_cursor_cannot_cross_tenants(loaded: Loaded) -> None:
    first = loaded.service.run("t1", q(limit=10))
    assert first.next_cursor is not None
    with pytest.raises(ValidationError, match="different query"):
        loaded.service.run("t2", q(limit=10, cursor=first.next_cursor))


def test_get_event_does_not_reveal_other_tenants_events(loaded: Loaded) -> None:
    theirs = str(loaded.of("t2")[0]["event_id"])
    assert loaded.service.get_event("t2", theirs) is not None
    assert loaded.service.get_event("t1", theirs) is None


def test_overview_counts_only_the_callers_calls(loaded: Loaded) -> None:
    from datetime import UTC, datetime

    start, end = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 2, tzinfo=UTC)
    for tenant in ("t1", "t2"):
        overview = loaded.service.overview(tenant, from_=start, to=end, bucket="1h")
        calls = [r for r in loaded.of(tenant) if r["payload_subtype"] == "llm_call"]
        assert overview.totals.requests == len(calls)
