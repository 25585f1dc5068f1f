"""The ``analytics-hub`` command line, run as a user runs it: real processes, real files.

Every command is started as ``python -m analytics_hub.cli`` (so that coverage follows the
subprocess), against a real ``analytics-hub serve`` subprocess or a stopped hub's data
directory.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.e2e.harness import Hub

from analytics_hub.auth.keys import KeyService
from analytics_hub.control.sqlite import SQLiteControlStore
from analytics_hub.testing.envelopes import llm_call
from analytics_hub.testing.hubprocess import HubProcess, create_key

KEY_RE = re.compile(r"hub_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})")


def cli(
    *args: object, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``analytics-hub ARGS`` in a fresh process; HUB_* of the caller do not leak in."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    full_env.update({"COLUMNS": "200", "NO_COLOR": "1", "HUB_LOG_FORMAT": "json"})
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "analytics_hub.cli", *map(str, args)],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def assert_clean_failure(r: subprocess.CompletedProcess[str], *expected: str) -> None:
    """A non-zero exit with an ``error:`` message naming ``expected``, and no traceback."""
    assert r.returncode != 0, r.stdout + r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    for text in expected:
        assert text in r.stderr, r.stderr


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def window(days: float = 0.05) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "from": (now - timedelta(days=days)).isoformat(),
        "to": (now + timedelta(minutes=5)).isoformat(),
    }


def count_by_asset(url: str, key: str, asset: str) -> int:
    r = httpx.post(
        f"{url}/api/v1/query",
        headers={"Authorization": f"Bearer {key}"},
        json={
            "time_range": window(),
            "filters": [{"field": "asset_id", "op": "eq", "value": asset}],
            "aggregates": [{"fn": "count", "as": "n"}],
        },
        timeout=30,
    )
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    return int(rows[0]["n"]) if rows else 0


def raw_events(url: str, key: str, asset: str, days: float) -> list[dict[str, Any]]:
    """The stored raw events of ``asset`` (not the rollups, which outlive them)."""
    rng = window(days)
    r = httpx.get(
        f"{url}/api/v1/events",
        headers={"Authorization": f"Bearer {key}"},
        params={"from": rng["from"], "to": rng["to"], "filter": f"asset_id:eq:{asset}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    events: list[dict[str, Any]] = r.json()["events"]
    return events


def flatten(obj: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"payload": {"data": {...}}}`` as dotted columns, as a CSV export has them."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def write_events(path: Path, events: list[dict[str, Any]]) -> Path:
    """Write ``events`` in the format named by the suffix of ``path``."""
    if path.suffix == ".ndjson":
        path.write_text("".join(json.dumps(e) + "\n" for e in events))
    elif path.suffix == ".json":
        path.write_text(json.dumps(events))
    elif path.suffix == ".csv":
        rows = [flatten(e) for e in events]
        columns = list(dict.fromkeys(c for row in rows for c in row))
        with path.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
    elif path.suffix == ".parquet":
        pq.write_table(pa.Table.from_pylist(events), path)
    else:  # pragma: no cover - a test mistake
        raise ValueError(path)
    return path


def three_good_one_bad(asset: str) -> list[dict[str, Any]]:
    """Three valid calls of ``asset`` and, at index 2, one with negative input tokens."""
    return [
        llm_call(asset_id=asset, model_id="gpt-4o", latency_ms=120.0),
        llm_call(asset_id=asset, model_id="gpt-4o-mini", latency_ms=80.5),
        llm_call(asset_id=asset, input_tokens=-5),
        llm_call(asset_id=asset, model_id="claude-sonnet-4", latency_ms=950.0, cost_usd=0.01),
    ]


@pytest.fixture
def stopped_hub_dir(tmp_path: Path) -> Path:
    """The data directory of a hub that is not running."""
    return tmp_path / "data"


@pytest.fixture
def hub_on() -> Iterator[list[HubProcess]]:
    """Hubs a test starts; each is stopped by its own handle at the end."""
    started: list[HubProcess] = []
    yield started
    for proc in started:
        proc.stop()


# --- keys ----------------------------------------------------------------------------------


def test_keys_create_list_and_revoke_while_the_server_runs(hub: Hub) -> None:
    data_dir = hub.proc.data_dir
    created = cli(
        "keys", "create", "--data-dir", data_dir, "--tenant", "acme", "--role", "ingest",
        "--name", "cli-e2e",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    lines = created.stdout.splitlines()
    key = lines[-1]
    match = KEY_RE.fullmatch(key)
    assert match, created.stdout
    assert lines == [key], "stdout holds the key alone; everything else goes to stderr"
    key_id, secret = match.groups()
    assert f"created key {key_id} for tenant 'acme' with role 'ingest'" in created.stderr
    assert key not in created.stderr

    # made by another process after the server started, and the server takes it at once
    events = httpx.post(
        f"{hub.url}/api/v1/events",
        headers={"Authorization": f"Bearer {key}"},
        json=[llm_call(asset_id=unique("keys"))],
        timeout=30,
    )
    assert events.status_code == 202, events.text
    assert events.json()["accepted"] == 1

    listed = cli("keys", "list", "--data-dir", data_dir, "--tenant", "acme")
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if key_id in line)
    assert "acme" in row
    assert "ingest" in row
    assert "cli-e2e" in row
    assert secret not in listed.stdout + listed.stderr
    assert "hub_" not in listed.stdout
    # the keys the fixture made are listed too (acme only: the tenant filter holds)
    assert listed.stdout.count("acme") == 4
    assert "globex" not in listed.stdout

    revoked = cli("keys", "revoke", key_id, "--data-dir", data_dir)
    assert revoked.returncode == 0, revoked.stderr
    assert f"revoked {key_id}" in revoked.stdout
    refused = httpx.post(
        f"{hub.url}/api/v1/events",
        headers={"Authorization": f"Bearer {key}"},
        json=[llm_call(asset_id=unique("keys"))],
        timeout=30,
    )
    assert refused.status_code == 401, refused.text
    assert "revoked" in refused.json()["error"]["message"]

    again = cli("keys", "revoke", key_id, "--data-dir", data_dir)
    assert_clean_failure(again, f"no live API key with id {key_id!r}")


@pytest.mark.parametrize(
    ("tenant", "role", "message"),
    [
        ("acme", "boss", "unknown role 'boss'; choose one of ingest, read, admin"),
        ("Not A Tenant", "read", "invalid tenant 'Not A Tenant'"),
    ],
)
def test_keys_create_refuses_a_bad_role_or_tenant(
    stopped_hub_dir: Path, tenant: str, role: str, message: str
) -> None:
    r = cli("keys", "create", "--data-dir", stopped_hub_dir, "--tenant", tenant, "--role", role)
    assert r.returncode == 2
    assert_clean_failure(r, f"error: {message}")
    assert r.stdout == ""
    store = SQLiteControlStore(stopped_hub_dir / "control.sqlite")
    try:
        assert KeyService(store).list() == []
    finally:
        store.close()


# --- ingest --------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".ndjson", ".json", ".csv", ".parquet"])
def test_ingest_a_file_through_the_running_hub(hub: Hub, tmp_path: Path, suffix: str) -> None:
    asset = unique(f"file{suffix.replace('.', '-')}")
    path = write_events(tmp_path / f"events{suffix}", three_good_one_bad(asset))
    r = cli("ingest", path, "--url", hub.url, "--api-key", hub.keys["acme:ingest"])
    assert r.returncode == 0, r.stdout + r.stderr
    assert "accepted 3, rejected 1" in r.stdout
    assert "payload.data.input_tokens" in r.stdout
    assert count_by_asset(hub.url, hub.keys["acme:read"], asset) == 3
    with hub.client("acme", "read") as c:
        letters = c.get("/api/v1/dead-letters", params={"limit": 1000}).json()["items"]
    mine = [d for d in letters if asset in d["raw"]]
    assert [(d["index"], d["errors"][0]["field"]) for d in mine] == [
        (2, "payload.data.input_tokens")
    ]


def test_ingest_of_a_file_with_nothing_valid_exits_non_zero(hub: Hub, tmp_path: Path) -> None:
    asset = unique("all-bad")
    bad = [llm_call(asset_id=asset, input_tokens=-1), llm_call(asset_id=asset, latency_ms=-2.0)]
    r = cli(
        "ingest", write_events(tmp_path / "bad.ndjson", bad),
        "--url", hub.url, "--api-key", hub.keys["acme:ingest"],
    )  # fmt: skip
    assert r.returncode == 1, r.stdout + r.stderr
    assert "accepted 0, rejected 2" in r.stdout
    assert "Traceback" not in r.stderr


def test_ingest_with_a_key_that_may_not_ingest_is_a_clear_error(hub: Hub, tmp_path: Path) -> None:
    asset = unique("read-key")
    path = write_events(tmp_path / "e.json", [llm_call(asset_id=asset)])
    r = cli("ingest", path, "--url", hub.url, "--api-key", hub.keys["acme:read"])
    assert_clean_failure(r, "403 forbidden", "needs 'ingest'")
    assert count_by_asset(hub.url, hub.keys["acme:read"], asset) == 0


def test_direct_ingest_then_serve_and_query(
    stopped_hub_dir: Path, hub_on: list[HubProcess]
) -> None:
    asset = unique("direct")
    events = [*three_good_one_bad(asset), llm_call(asset_id=asset, model_id="gpt-4o")]
    path = write_events(stopped_hub_dir.parent / "events.ndjson", events)

    r = cli("ingest", path, "--data-dir", stopped_hub_dir, "--tenant", "acme")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "accepted 4, rejected 1" in r.stdout

    # a stopped hub's data can be queried directly, too; a malformed query is a clear error
    direct = cli(
        "query", "--data-dir", stopped_hub_dir, "--tenant", "acme", "--last", "1h",
        "--filter", f"asset_id:eq:{asset}", "--group-by", "model_id", "--agg", "count::n",
        "--order-by", "model_id", "--json",
    )  # fmt: skip
    assert direct.returncode == 0, direct.stderr
    assert [(row["model_id"], row["n"]) for row in json.loads(direct.stdout)["rows"]] == [
        ("claude-sonnet-4", 1),
        ("gpt-4o", 2),
        ("gpt-4o-mini", 1),
    ]
    bad = cli("query", "--data-dir", stopped_hub_dir, "--tenant", "acme", "--agg", "median::m")
    assert_clean_failure(bad, "invalid query: aggregates.0.fn")

    key = create_key(stopped_hub_dir, "acme", "read")
    proc = HubProcess(data_dir=stopped_hub_dir)
    hub_on.append(proc)
    proc.start()
    assert count_by_asset(proc.url, key, asset) == 4
    letters = httpx.get(
        f"{proc.url}/api/v1/dead-letters",
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    ).json()["items"]
    assert [(d["index"], d["status"]) for d in letters if asset in d["raw"]] == [(2, "pending")]

    # while the server holds the store, the direct path says what to do instead
    more = write_events(stopped_hub_dir.parent / "more.json", [llm_call(asset_id=asset)])
    locked = cli("ingest", more, "--data-dir", stopped_hub_dir, "--tenant", "acme")
    assert locked.returncode == 2
    assert_clean_failure(locked, "cannot open the store", "use --url and --api-key")
    assert count_by_asset(proc.url, key, asset) == 4


# --- query ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def query_asset(hub: Hub) -> str:
    """globex events of one asset: gpt-4o x3, claude-sonnet-4 x2, gemini-2.0-flash x1."""
    asset = unique("query")
    events = [
        *(llm_call(asset_id=asset, model_id="gpt-4o", latency_ms=v) for v in (100.0, 200.0, 300.0)),
        *(llm_call(asset_id=asset, model_id="claude-sonnet-4", latency_ms=v) for v in (1e3, 2e3)),
        llm_call(asset_id=asset, model_id="gemini-2.0-flash", latency_ms=50.0),
    ]
    with hub.client("globex", "ingest") as c:
        r = c.post("/api/v1/events", json=events)
    assert r.json()["accepted"] == 6, r.text
    return asset


def query_flags(hub: Hub, asset: str) -> list[str]:
    return [
        "--url", hub.url, "--api-key", hub.keys["globex:read"],
        "--last", "1h", "--filter", f"asset_id:eq:{asset}", "--group-by", "model_id",
        "--agg", "count::n", "--agg", "p95:latency_ms:p95", "--order-by", "-n",
    ]  # fmt: skip


def test_query_with_flags_prints_json_rows(hub: Hub, query_asset: str) -> None:
    r = cli("query", *query_flags(hub, query_asset), "--json")
    assert r.returncode == 0, r.stderr
    answer = json.loads(r.stdout)
    rows = answer["rows"]
    assert [(row["model_id"], row["n"]) for row in rows] == [
        ("gpt-4o", 3),
        ("claude-sonnet-4", 2),
        ("gemini-2.0-flash", 1),
    ]
    p95 = {row["model_id"]: row["p95"] for row in rows}
    assert 200.0 <= p95["gpt-4o"] <= 310.0
    assert 1000.0 <= p95["claude-sonnet-4"] <= 2050.0
    assert p95["gemini-2.0-flash"] == pytest.approx(50.0, rel=0.02)
    assert answer["next_cursor"] is None


def test_query_from_a_file(hub: Hub, query_asset: str, tmp_path: Path) -> None:
    body = {
        "time_range": window(),
        "filters": [{"field": "asset_id", "op": "eq", "value": query_asset}],
        "group_by": ["model_id"],
        "aggregates": [{"fn": "count", "as": "calls"}, {"fn": "max", "field": "latency_ms"}],
        "order_by": [{"field": "model_id"}],
    }
    (tmp_path / "q.json").write_text(json.dumps(body))
    r = cli(
        "query", "--file", tmp_path / "q.json", "--json",
        "--url", hub.url, "--api-key", hub.keys["globex:read"],
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["rows"] == [
        {"model_id": "claude-sonnet-4", "calls": 2, "max_latency_ms": 2000.0},
        {"model_id": "gemini-2.0-flash", "calls": 1, "max_latency_ms": 50.0},
        {"model_id": "gpt-4o", "calls": 3, "max_latency_ms": 300.0},
    ]


def test_query_prints_a_table_without_json(hub: Hub, query_asset: str) -> None:
    r = cli("query", *query_flags(hub, query_asset))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    header = next(line for line in lines if "model_id" in line)
    assert re.search(r"model_id\W+n\W+p95", header), header
    cells = [
        [cell.strip() for cell in line.strip("│ ").split("│")]
        for line in lines
        if any(m in line for m in ("gpt-4o", "claude-sonnet-4", "gemini"))
    ]
    assert [c[:2] for c in cells] == [
        ["gpt-4o", "3"],
        ["claude-sonnet-4", "2"],
        ["gemini-2.0-flash", "1"],
    ]
    assert "{" not in r.stdout


def test_query_errors_are_clear(hub: Hub, tmp_path: Path) -> None:
    key = hub.keys["globex:read"]
    bad_field = cli(
        "query", "--url", hub.url, "--api-key", key, "--group-by", "modelx", "--agg", "count::n"
    )
    assert bad_field.returncode == 2
    assert_clean_failure(bad_field, "400 invalid_request", "unknown field 'modelx'")
    assert bad_field.stdout == ""

    (tmp_path / "q.json").write_text('{"time_range": ')
    bad_file = cli("query", "--file", tmp_path / "q.json", "--url", hub.url, "--api-key", key)
    assert_clean_failure(bad_file, "cannot read the query file")


# --- config --------------------------------------------------------------------------------


def test_config_show_merges_environment_file_and_flags(tmp_path: Path) -> None:
    toml = tmp_path / "hub.toml"
    toml.write_text(
        "retention_raw_days = 7\nport = 1234\nlog_level = 'debug'\n"
        "[tenant_retention.acme]\nraw_days = 3\n"
    )
    r = cli(
        "config", "show", "--config", toml, "--data-dir", tmp_path / "d",
        env={"HUB_PORT": "9999", "HUB_CURRENCY_RATES": '{"usd": 1, "xyz": 0.5}'},
        cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    shown = json.loads(r.stdout)
    assert shown["port"] == 9999  # the environment beats the file
    assert shown["retention_raw_days"] == 7  # the file beats the default
    assert shown["log_level"] == "debug"
    assert shown["retention_minute_rollup_days"] == 90  # the default
    assert shown["tenant_retention"]["acme"]["raw_days"] == 3
    assert shown["currency_rates"] == {"USD": 1.0, "XYZ": 0.5}
    assert shown["data_dir"] == str(tmp_path / "d")
    assert shown["store_url"] == f"duckdb:///{tmp_path / 'd' / 'events.duckdb'}"
    assert not (tmp_path / "hub-data").exists()


def test_config_show_refuses_an_invalid_setting(tmp_path: Path) -> None:
    r = cli("config", "show", env={"HUB_PORT": "abc"}, cwd=tmp_path)
    assert r.returncode == 2
    assert_clean_failure(r, "error: invalid settings", "port")
    assert r.stdout == ""


# --- retention -----------------------------------------------------------------------------


def test_retention_apply_on_a_stopped_hub_and_through_a_running_one(
    stopped_hub_dir: Path, hub_on: list[HubProcess]
) -> None:
    three_days_ago = datetime.now(UTC) - timedelta(days=3)
    old_a, old_b, recent = unique("old-a"), unique("old-b"), unique("recent")
    first = [llm_call(asset_id=old_a, timestamp=three_days_ago) for _ in range(4)]
    first += [llm_call(asset_id=recent) for _ in range(2)]
    # the default raw retention (30 days) accepts three-day-old events
    r = cli(
        "ingest", write_events(stopped_hub_dir.parent / "a.ndjson", first),
        "--data-dir", stopped_hub_dir, "--tenant", "acme",
    )  # fmt: skip
    assert "accepted 6, rejected 0" in r.stdout, r.stdout + r.stderr

    one_day = {"HUB_RETENTION_RAW_DAYS": "1"}
    applied = cli("retention", "apply", "--data-dir", stopped_hub_dir, env=one_day)
    assert applied.returncode == 0, applied.stderr
    assert "events: 4 rows deleted" in applied.stdout

    r = cli(
        "ingest",
        write_events(
            stopped_hub_dir.parent / "b.json",
            [llm_call(asset_id=old_b, timestamp=three_days_ago) for _ in range(3)],
        ),
        "--data-dir", stopped_hub_dir, "--tenant", "acme",
    )  # fmt: skip
    assert "accepted 3, rejected 0" in r.stdout, r.stdout + r.stderr

    admin = create_key(stopped_hub_dir, "acme", "admin")
    proc = HubProcess(data_dir=stopped_hub_dir, env=one_day)
    hub_on.append(proc)
    proc.start()
    assert raw_events(proc.url, admin, old_a, days=4) == []
    assert len(raw_events(proc.url, admin, old_b, days=4)) == 3

    through_hub = cli("retention", "apply", "--url", proc.url, "--api-key", admin)
    assert through_hub.returncode == 0, through_hub.stderr
    assert "events: 3 rows deleted" in through_hub.stdout
    assert raw_events(proc.url, admin, old_b, days=4) == []
    assert len(raw_events(proc.url, admin, recent, days=4)) == 2
