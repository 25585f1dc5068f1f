"""Two hub processes on one PostgreSQL database share the control plane: a key created by
``analytics-hub keys create`` (no server involved) works on both, a dashboard saved
through one is read and replaced through the other, and a revoked key stops on both at
once (keys are read from the store on every request; nothing caches them)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.conftest import require_service

from analytics_hub.testing.hubprocess import HubProcess
from analytics_hub.testing.postgres import DEFAULT_TEST_URL, host_and_port, temporary_database

pytestmark = [pytest.mark.service, pytest.mark.slow]

POSTGRES_URL = os.environ.get("HUB_TEST_POSTGRES_URL", DEFAULT_TEST_URL)

DASHBOARD = {
    "name": "Shared",
    "time_range": {"relative": "1h"},
    "panels": [
        {
            "id": "calls",
            "title": "Calls",
            "kind": "number",
            "query": {"aggregates": [{"fn": "count", "as": "calls"}]},
            "layout": {"x": 0, "y": 0, "w": 4, "h": 4},
        }
    ],
}


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``analytics-hub ARGS`` in a fresh process; HUB_* of the caller do not leak in."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")} | env
    return subprocess.run(
        [sys.executable, "-m", "analytics_hub.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    host, port = host_and_port(POSTGRES_URL)
    require_service("PostgreSQL", host, port, "pg_ctlcluster 15 main start")
    with temporary_database(POSTGRES_URL) as url:
        yield url


@pytest.fixture(scope="module")
def hubs(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[HubProcess]]:
    """Two hubs with data directories of their own (their journals) and one database."""
    env = {"HUB_STORE": database, "HUB_ANOMALY_ENABLED": "false"}
    procs = [HubProcess(data_dir=tmp_path_factory.mktemp(f"hub{i}"), env=env) for i in (1, 2)]
    try:
        for proc in procs:
            proc.launch()  # side by side: both migrate the one database at once
        for proc in procs:
            proc.wait_ready()
        yield procs
    finally:
        for proc in procs:
            proc.stop()


def client(hub: HubProcess, key: str) -> httpx.Client:
    return httpx.Client(base_url=hub.url, headers={"Authorization": f"Bearer {key}"}, timeout=30.0)


def test_a_key_from_the_command_line_works_on_both_until_revoked(
    database: str, hubs: list[HubProcess], tmp_path: Path
) -> None:
    env = {"HUB_STORE": database}
    made = cli(
        "keys", "create", "--tenant", "acme", "--role", "read", "--data-dir", str(tmp_path),
        env=env,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    key_id = key.split("_")[1]
    for hub in hubs:
        with client(hub, key) as c:
            assert c.get("/api/v1/dashboards").status_code == 200

    revoked = cli("keys", "revoke", key_id, "--data-dir", str(tmp_path), env=env)
    assert revoked.returncode == 0, revoked.stderr
    for hub in hubs:
        with client(hub, key) as c:
            r = c.get("/api/v1/dashboards")
            assert r.status_code == 401
            assert "revoked" in r.json()["error"]["message"]


def test_a_dashboard_saved_through_one_hub_is_read_and_replaced_through_the_other(
    hubs: list[HubProcess],
) -> None:
    one, two = hubs
    admin = one.create_key("acme", "admin")  # the testing helper follows HUB_STORE too
    other_tenant = two.create_key("globex", "admin")
    with client(one, admin) as via_one, client(two, admin) as via_two:
        made = via_one.post("/api/v1/dashboards", json=DASHBOARD)
        assert made.status_code == 201, made.text
        saved = made.json()
        path = f"/api/v1/dashboards/{saved['id']}"
        assert via_two.get(path).json() == saved

        replaced = via_two.put(path, json=saved | {"name": "Renamed"})
        assert replaced.status_code == 200, replaced.text
        assert replaced.json()["version"] == 2
        stale = via_one.put(path, json=saved | {"name": "Lost"})  # read version 1 too
        assert stale.status_code == 409
        assert via_one.get(path).json()["name"] == "Renamed"
    with client(one, other_tenant) as globex:
        assert globex.get(path).status_code == 404
    with client(one, admin) as via_one:
        assert via_one.delete(path).status_code == 204
    with client(two, admin) as via_two:
        assert via_two.get(path).status_code == 404
