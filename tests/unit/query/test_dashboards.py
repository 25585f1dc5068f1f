"""Dashboards: the document's shape, panel queries checked by the planner, versions and
tenants, over a real SQLite control store and the real ``QueryService.check``."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from pydantic import ValidationError as PydanticValidationError

from analytics_hub.control.sqlite import SQLiteControlStore
from analytics_hub.errors import ConflictError, NotFoundError, ValidationError
from analytics_hub.query import Query, QueryService
from analytics_hub.query.dashboard_model import (
    Dashboard,
    DashboardCreate,
    DashboardDocument,
    DashboardReplace,
    PanelQuery,
)
from analytics_hub.query.dashboards import DashboardService
from analytics_hub.store.base import EventStore, QueryRows

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


class NoReads:
    """An event store that must not be read: checking a query plans it, nothing more."""

    dialect = "duckdb"

    def fetch(self, sql: str, params: Sequence[object]) -> QueryRows:
        raise AssertionError("checking a dashboard read the event store")


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def panel(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "p95 latency by model",
        "kind": "line",
        "query": {
            "filters": [{"field": "payload_subtype", "op": "eq", "value": "llm_call"}],
            "group_by": ["model_id", {"bucket": "1h"}],
            "aggregates": [{"fn": "p95", "field": "latency_ms", "as": "p95"}],
        },
        "layout": {"x": 0, "y": 0, "w": 6, "h": 4},
    } | overrides


def document(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Model calls",
        "description": "latency and cost",
        "time_range": {"relative": "24h"},
        "refresh_seconds": 60,
        "panels": [panel(id="latency"), panel(id="cost", kind="number")],
    } | overrides


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteControlStore]:
    s = SQLiteControlStore(tmp_path / "control.sqlite")
    yield s
    s.close()


@pytest.fixture
def service(store: SQLiteControlStore, clock: Clock) -> DashboardService:
    queries = QueryService(cast(EventStore, NoReads()), max_rows=500, max_buckets=2000)
    return DashboardService(store, queries.check, clock=clock)


def create(service: DashboardService, tenant: str = "acme", **overrides: Any) -> Dashboard:
    return service.create(tenant, DashboardCreate.model_validate(document(**overrides)))


def replace(
    service: DashboardService, d: Dashboard, tenant: str = "acme", **changes: Any
) -> Dashboard:
    body = DashboardReplace.model_validate(d.model_dump(mode="json") | changes)
    return service.replace(tenant, d.id, body, body.version)


def first_error(exc: pytest.ExceptionInfo[PydanticValidationError]) -> tuple[str, str]:
    err = exc.value.errors()[0]
    return ".".join(str(p) for p in err["loc"]), str(err["msg"])


# the document


def test_a_panel_query_is_a_typed_query_without_time_range_and_cursor() -> None:
    assert set(PanelQuery.model_fields) == set(Query.model_fields) - {"time_range", "cursor"}
    for field in ("time_range", "cursor"):
        with pytest.raises(PydanticValidationError) as exc:
            DashboardDocument.model_validate(
                document(panels=[panel(query={field: None, "limit": 10})])
            )
        loc, msg = first_error(exc)
        assert loc == "panels.0.query"
        assert f"no {field}" in msg


@pytest.mark.parametrize(
    ("change", "loc", "says"),
    [
        ({"name": "   "}, "name", "at least 1 character"),
        ({"name": "n" * 201}, "name", "at most 200 characters"),
        ({"time_range": {"relative": "7 days"}}, "time_range.relative", "a number and a unit"),
        ({"time_range": {"relative": "99999w"}}, "time_range.relative", "longer than 3660 days"),
        ({"time_range": {"from": "2025-01-02T00:00:00Z"}}, "time_range", "both 'from' and 'to'"),
        (
            {"time_range": {"relative": "1h", "from": "2025-01-01T00:00:00Z"}},
            "time_range",
            "not both",
        ),
        (
            {"time_range": {"from": "2025-01-02T00:00:00Z", "to": "2025-01-01T00:00:00Z"}},
            "time_range",
            "earlier",
        ),
        ({"refresh_seconds": 1}, "refresh_seconds", "greater than or equal to 5"),
        ({"panels": [panel(kind="pie")]}, "panels.0.kind", "'line'"),
        ({"panels": [panel(layout={"x": 8, "y": 0, "w": 6, "h": 2})]}, "panels.0.layout", "x + w"),
        (
            {"panels": [panel(layout={"x": 0, "y": 0, "w": 0, "h": 2})]},
            "panels.0.layout.w",
            "greater",
        ),
        ({"panels": [panel(id="a b")]}, "panels.0.id", "pattern"),
        ({"panels": [panel(id="a"), panel(id="a")]}, "panels", "appears twice"),
        ({"panels": [panel(options={f"k{i}": i for i in range(33)})]}, "panels.0.options", "32"),
        ({"panels": [panel(options={"text": "x" * 5000})]}, "panels.0.options", "bytes"),
        ({"panels": [panel()] * 51}, "panels", "at most 50"),
        ({"colour": "red"}, "colour", "Extra inputs"),
    ],
)
def test_an_invalid_document_names_the_field(change: dict[str, Any], loc: str, says: str) -> None:
    with pytest.raises(PydanticValidationError) as exc:
        DashboardDocument.model_validate(document(**change))
    got_loc, msg = first_error(exc)
    assert got_loc == loc
    assert says in msg


def test_panels_without_an_id_get_distinct_ones() -> None:
    doc = DashboardDocument.model_validate(document(panels=[panel(), panel(), panel(id="mine")]))
    ids = [p.id for p in doc.panels]
    assert ids[2] == "mine"
    assert len(set(ids)) == 3
    assert all(i for i in ids)


def test_a_relative_range_ends_now_and_an_absolute_one_is_itself() -> None:
    rel = DashboardDocument.model_validate(document(time_range={"relative": "7d"}))
    r = rel.time_range.resolve(NOW)
    assert (r.from_, r.to) == (NOW - timedelta(days=7), NOW)
    fixed = {"from": "2025-01-01T00:00:00+01:00", "to": "2025-01-02T00:00:00Z"}
    r = DashboardDocument.model_validate(document(time_range=fixed)).time_range.resolve(NOW)
    assert r.from_ == datetime(2024, 12, 31, 23, 0, tzinfo=UTC)


# the service


def test_create_get_list_and_delete(service: DashboardService, clock: Clock) -> None:
    made = create(service)
    assert (made.version, made.created_at, made.updated_at) == (1, NOW, NOW)
    assert made.id.replace("-", "").replace("_", "").isalnum()
    assert service.get("acme", made.id) == made
    clock.now += timedelta(minutes=1)
    other = create(service, name="aardvark")
    assert [(s.id, s.name) for s in service.list("acme")] == [
        (other.id, "aardvark"),
        (made.id, "Model calls"),
    ]
    service.delete("acme", made.id)
    with pytest.raises(NotFoundError):
        service.get("acme", made.id)
    with pytest.raises(NotFoundError):
        service.delete("acme", made.id)


def test_import_ignores_the_exported_id_version_and_timestamps(service: DashboardService) -> None:
    exported = create(service).model_dump(mode="json")
    exported["version"] = 7
    imported = service.create("acme", DashboardCreate.model_validate(exported))
    assert imported.id != exported["id"]
    assert imported.version == 1
    strip = {"id", "version", "created_at", "updated_at"}
    assert imported.model_dump(mode="json", exclude=strip) == {
        k: v for k, v in exported.items() if k not in strip
    }


def test_another_tenant_sees_nothing(service: DashboardService) -> None:
    made = create(service)
    assert service.list("globex") == []
    for action in (
        lambda: service.get("globex", made.id),
        lambda: replace(service, made, tenant="globex", name="mine now"),
        lambda: service.delete("globex", made.id),
    ):
        with pytest.raises(NotFoundError):
            action()
    assert service.get("acme", made.id) == made


def test_replace_needs_the_current_version(service: DashboardService, clock: Clock) -> None:
    made = create(service)
    clock.now += timedelta(hours=1)
    second = replace(service, made, name="renamed")
    assert (second.version, second.name, second.created_at) == (2, "renamed", NOW)
    assert second.updated_at == NOW + timedelta(hours=1)
    with pytest.raises(ConflictError) as exc:
        replace(service, made, name="stale write")  # still at version 1
    assert exc.value.details == {"current_version": 2}
    assert service.get("acme", made.id).name == "renamed"
    assert replace(service, second, panels=[]).version == 3


def test_a_panel_whose_query_would_not_run_is_refused_with_its_index(
    service: DashboardService,
) -> None:
    bad = panel(query={"filters": [{"field": "latency_ms", "op": "contains", "value": "x"}]})
    with pytest.raises(ValidationError) as exc:
        create(service, panels=[panel(), bad])
    assert exc.value.message.startswith("panels.1.query: operator 'contains'")
    assert exc.value.details == [{"field": "panels.1.query", "message": exc.value.message[16:]}]
    with pytest.raises(ValidationError, match="limit 501 is above the maximum of 500"):
        create(service, panels=[panel(query={"limit": 501})])
    assert service.list("acme") == []


def test_panels_are_checked_over_the_dashboards_own_range(service: DashboardService) -> None:
    minutely = panel(
        query={"group_by": [{"bucket": "1m"}], "aggregates": [{"fn": "count", "as": "n"}]}
    )
    create(service, time_range={"relative": "24h"}, panels=[minutely])  # 1,440 buckets
    with pytest.raises(
        ValidationError, match=r"panels\.0\.query: the range spans 10080 buckets of 1m"
    ):
        create(service, time_range={"relative": "7d"}, panels=[minutely])


def test_a_replace_is_checked_like_a_create(service: DashboardService) -> None:
    made = create(service)
    broken = copy.deepcopy(made.model_dump(mode="json")["panels"])
    broken[0]["query"]["group_by"] = ["latency_ms"]
    with pytest.raises(ValidationError, match=r"panels\.0\.query: cannot group by 'latency_ms'"):
        replace(service, made, panels=broken)
    assert service.get("acme", made.id).version == 1
