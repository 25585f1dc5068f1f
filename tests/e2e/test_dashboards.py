"""Dashboards and the web UI through a real ``analytics-hub serve``: saved per tenant with
optimistic concurrency, a saved panel runs as a query, and the UI's files (a tiny build in
``tmp_path``, named by ``HUB_WEBUI_DIR``) load without a key beside an unchanged API."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from tests.e2e.harness import Hub

from analytics_hub.testing.envelopes import llm_call
from analytics_hub.testing.hubprocess import HubProcess, create_key

INDEX = '<!doctype html><html><body><div id="root"></div><script src="/assets/app-abc.js">'
SCRIPT = "document.getElementById('root').textContent = 'hub';\n"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """A hub serving a fake UI build, with keys of two tenants."""
    root = tmp_path_factory.mktemp("webui")
    dist = root / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    (dist / "assets" / "app-abc.js").write_text(SCRIPT)
    data = root / "hub"
    keys = {
        f"{tenant}:{role}": create_key(data, tenant, role)
        for tenant in ("acme", "globex")
        for role in ("ingest", "read", "admin")
    }
    h = Hub(proc=HubProcess(data_dir=data, env={"HUB_WEBUI_DIR": str(dist)}), keys=keys)
    h.proc.start()
    yield h
    h.proc.stop()


def dashboard(asset: str = "app-00", **overrides: Any) -> dict[str, Any]:
    return {
        "name": "Model calls",
        "time_range": {"relative": "1h"},
        "refresh_seconds": 30,
        "panels": [
            {
                "id": "calls",
                "title": "Calls per model",
                "kind": "stacked_bar",
                "query": {
                    "filters": [{"field": "asset_id", "op": "eq", "value": asset}],
                    "group_by": ["model_id", {"bucket": "5m"}],
                    "aggregates": [{"fn": "count", "as": "calls"}],
                },
                "layout": {"x": 0, "y": 0, "w": 8, "h": 4},
                "options": {"legend": "bottom"},
            },
            {
                "id": "cost",
                "title": "Cost",
                "kind": "number",
                "query": {
                    "filters": [{"field": "asset_id", "op": "eq", "value": asset}],
                    "aggregates": [{"fn": "sum", "field": "cost_usd", "as": "cost"}],
                },
                "layout": {"x": 8, "y": 0, "w": 4, "h": 4},
            },
        ],
    } | overrides


def test_a_dashboard_is_created_read_replaced_and_deleted_per_tenant(hub: Hub) -> None:
    with hub.client("acme", "admin") as admin, hub.client("acme", "read") as reader:
        r = admin.post("/api/v1/dashboards", json=dashboard())
        assert r.status_code == 201, r.text
        made = r.json()
        assert r.headers["location"] == f"/api/v1/dashboards/{made['id']}"
        assert made["version"] == 1
        assert [p["id"] for p in made["panels"]] == ["calls", "cost"]

        listed = reader.get("/api/v1/dashboards").json()["items"]
        assert {"id": made["id"], "name": "Model calls", "updated_at": made["updated_at"]} in listed
        assert reader.get(f"/api/v1/dashboards/{made['id']}").json() == made

        r = reader.put(f"/api/v1/dashboards/{made['id']}", json=made)
        assert r.status_code == 403  # writing is for admin keys

        r = admin.put(f"/api/v1/dashboards/{made['id']}", json=made | {"name": "Renamed"})
        assert r.status_code == 200, r.text
        assert (r.json()["version"], r.json()["name"]) == (2, "Renamed")
        assert r.json()["created_at"] == made["created_at"]

        stale = admin.put(f"/api/v1/dashboards/{made['id']}", json=made | {"name": "Lost"})
        assert stale.status_code == 409
        assert stale.json()["error"]["code"] == "conflict"
        assert stale.json()["error"]["details"] == {"current_version": 2}

        assert admin.delete(f"/api/v1/dashboards/{made['id']}").status_code == 204
        assert reader.get(f"/api/v1/dashboards/{made['id']}").status_code == 404
        assert admin.delete(f"/api/v1/dashboards/{made['id']}").status_code == 404


def test_another_tenants_dashboard_does_not_exist(hub: Hub) -> None:
    with hub.client("acme", "admin") as acme, hub.client("globex", "admin") as globex:
        made = acme.post("/api/v1/dashboards", json=dashboard(name="acme only")).json()
        path = f"/api/v1/dashboards/{made['id']}"
        assert globex.get(path).status_code == 404
        assert globex.put(path, json=made).status_code == 404
        assert globex.delete(path).status_code == 404
        names = [d["name"] for d in globex.get("/api/v1/dashboards").json()["items"]]
        assert "acme only" not in names
        assert acme.get(path).json()["version"] == 1


def test_an_export_imports_as_a_new_dashboard(hub: Hub) -> None:
    with hub.client("acme", "admin") as admin:
        exported = admin.post("/api/v1/dashboards", json=dashboard()).json()
        imported = admin.post("/api/v1/dashboards", json=exported).json()
        assert imported["id"] != exported["id"]
        bookkeeping = ("id", "version", "created_at", "updated_at")
        for key in bookkeeping:
            exported.pop(key)
            imported.pop(key)
        assert imported == exported


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"time_range": {"relative": "yesterday"}}, "time_range.relative"),
        ({"panels": [{"kind": "line"}]}, "panels.0.query"),
    ],
)
def test_an_invalid_dashboard_is_a_400_naming_the_field(
    hub: Hub, change: dict[str, Any], field: str
) -> None:
    with hub.client("acme", "admin") as admin:
        r = admin.post("/api/v1/dashboards", json=dashboard() | change)
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["message"].startswith(f"{field}: ")


def test_a_panel_query_the_planner_refuses_is_a_400_naming_the_panel(hub: Hub) -> None:
    doc = dashboard()
    broken = copy.deepcopy(doc["panels"])
    broken[1]["query"]["aggregates"] = [{"fn": "p95", "field": "model_id"}]
    with hub.client("acme", "admin") as admin:
        r = admin.post("/api/v1/dashboards", json=doc | {"panels": broken})
    assert r.status_code == 400
    assert r.json()["error"]["message"] == (
        "panels.1.query: aggregate 'p95' needs a numeric field; 'model_id' is string"
    )


def test_a_saved_panel_runs_as_a_query_over_the_dashboards_range(hub: Hub) -> None:
    asset = f"dash-{uuid.uuid4().hex[:8]}"
    with hub.client("acme", "ingest") as ingest:
        events = [llm_call(asset_id=asset, model_id=m) for m in ("gpt-4o", "gpt-4o", "o3")]
        assert ingest.post("/api/v1/events", json=events).status_code == 202
    with hub.client("acme", "admin") as admin:
        saved = admin.post("/api/v1/dashboards", json=dashboard(asset)).json()
        saved = admin.get(f"/api/v1/dashboards/{saved['id']}").json()
        # A year of five-minute buckets is more than query_max_buckets: it would not run.
        year = {"from": "2025-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}
        refused = admin.put(f"/api/v1/dashboards/{saved['id']}", json=saved | {"time_range": year})
        assert refused.status_code == 400
        assert refused.json()["error"]["message"].startswith("panels.0.query: the range spans")
        answers = [
            admin.post("/api/v1/query", json=panel["query"] | {"time_range": _last_hour()})
            for panel in saved["panels"]
        ]
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    calls = {row["model_id"]: row["calls"] for row in answers[0].json()["rows"]}
    assert calls == {"gpt-4o": 2, "o3": 1}
    assert answers[1].json()["rows"][0]["cost"] > 0


def _last_hour() -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "from": (now - timedelta(hours=1)).isoformat(),
        "to": (now + timedelta(minutes=1)).isoformat(),
    }


def test_the_web_ui_loads_without_a_key_and_the_api_is_unchanged(hub: Hub) -> None:
    with httpx.Client(base_url=hub.url, timeout=30.0) as anonymous:
        for path in ("/", "/explorer", "/dashboards/abc"):
            r = anonymous.get(path)
            assert (r.status_code, r.text) == (200, INDEX), path
            assert r.headers["cache-control"] == "no-cache"
        r = anonymous.get("/assets/app-abc.js")
        assert (r.status_code, r.text) == (200, SCRIPT)
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"

        missing = anonymous.get("/api/v1/nope")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "not_found"
        assert anonymous.get("/assets/app-gone.js").status_code == 404
        locked = anonymous.get("/api/v1/dashboards")
        assert locked.status_code == 401
        assert locked.json()["error"]["code"] == "unauthenticated"
        assert anonymous.get("/healthz").json()["status"] == "ok"
        assert "/api/v1/dashboards" in anonymous.get("/openapi.json").json()["paths"]
        assert "swagger" in anonymous.get("/docs").text.lower()
