"""Pricing end to end, through ``analytics-hub serve``: model calls sent with tokens and
no cost are priced at ingest (known model) or marked unpriced (unknown model); a tenant
price override, then a re-price, gives the unpriced ones a cost, and the overview's
unpriced volume drops."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.e2e.harness import Hub

from analytics_hub.testing.envelopes import llm_call


def _window() -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "from": (now - timedelta(minutes=30)).isoformat(),
        "to": (now + timedelta(minutes=5)).isoformat(),
    }


def calls(hub: Hub, asset: str, tenant: str = "acme") -> dict[str, dict[str, Any]]:
    """The stored model calls of ``asset``, by model."""
    with hub.client(tenant, "read") as c:
        r = c.post(
            "/api/v1/query",
            json={
                "time_range": _window(),
                "filters": [{"field": "asset_id", "op": "eq", "value": asset}],
                "limit": 100,
            },
        )
    assert r.status_code == 200, r.text
    return {row["model_id"]: row for row in r.json()["rows"]}


def unpriced_events(hub: Hub, tenant: str = "acme") -> int:
    window = _window()
    with hub.client(tenant, "read") as c:
        r = c.get(
            "/api/v1/metrics/overview",
            params={"from": window["from"], "to": window["to"], "bucket": "1h"},
        )
    assert r.status_code == 200, r.text
    return int(r.json()["totals"]["unpriced_events"])


def post(hub: Hub, *events: dict[str, Any], tenant: str = "acme") -> None:
    with hub.client(tenant, "ingest") as c:
        r = c.post("/api/v1/events", json=list(events))
    assert r.status_code == 202, r.text
    assert r.json()["rejected"] == 0


def test_calls_are_priced_at_ingest_and_an_override_reprices_the_unpriced(hub: Hub) -> None:
    asset = f"pricing-{uuid.uuid4().hex[:8]}"
    model = f"acme-ft-{uuid.uuid4().hex[:6]}"
    post(
        hub,
        llm_call(
            asset_id=asset,
            model_id="gpt-4o-2024-11-20",
            cost_usd=None,
            input_tokens=1000,
            output_tokens=200,
        ),
        llm_call(
            asset_id=asset,
            model_id=model,
            provider="vllm",
            cost_usd=None,
            input_tokens=2000,
            output_tokens=1000,
        ),
        llm_call(asset_id=asset, model_id="claude-sonnet-4", provider="anthropic", cost_usd=0.25),
    )
    got = calls(hub, asset)
    assert (got["gpt-4o-2024-11-20"]["cost_usd"], got["gpt-4o-2024-11-20"]["cost_source"]) == (
        pytest.approx(0.0045),
        "computed",
    )
    assert (got[model]["cost_usd"], got[model]["cost_source"]) == (None, "unpriced")
    assert (got["claude-sonnet-4"]["cost_usd"], got["claude-sonnet-4"]["cost_source"]) == (
        0.25,
        "provided",
    )
    before = unpriced_events(hub)
    assert before >= 1

    with hub.client("acme", "read") as c:  # a reader may look, not change
        assert (
            c.get("/api/v1/prices/resolve", params={"provider": "vllm", "model": model}).status_code
            == 404
        )
        r = c.put(
            "/api/v1/prices/overrides",
            json={"provider": "vllm", "model": model, "input": 1, "output": 2},
        )
        assert r.status_code == 403, r.text
    with hub.client("acme", "admin") as c:
        r = c.put(
            "/api/v1/prices/overrides",
            json={"provider": "vLLM", "model": model.upper(), "input": 1.0, "output": 2.0},
        )
        assert r.status_code == 200, r.text
        assert r.json() | {"reprice": "scheduled"} == {
            "provider": "vllm",
            "model": model,
            "from": "1970-01-01",
            "input": 1.0,
            "output": 2.0,
            "cached_input": None,
            "reasoning": None,
            "reprice": "scheduled",
        }
    # The override re-prices in the background: wait for it, bounded.
    deadline = time.monotonic() + 30
    while calls(hub, asset)[model]["cost_source"] != "computed":
        assert time.monotonic() < deadline, "the background re-pricing did not happen"
        time.sleep(0.2)
    row = calls(hub, asset)[model]
    assert row["cost_usd"] == pytest.approx((2000 * 1.0 + 1000 * 2.0) / 1e6)
    assert unpriced_events(hub) == before - 1
    with hub.client("acme", "admin") as c:
        r = c.post("/api/v1/prices/reprice", json={})
        assert r.status_code == 200, r.text
        assert r.json()["repriced"] == 0  # already done
        r = c.get("/api/v1/prices/resolve", params={"provider": "VLLM", "model": model})
        assert r.status_code == 200, r.text
        assert (r.json()["model"], r.json()["price"]["input"]) == (model, 1.0)
        listed = c.get("/api/v1/prices", params={"provider": "vllm"}).json()["items"]
        assert [(i["model"], i["periods"][0]["source"]) for i in listed] == [(model, "override")]
    # Another tenant's calls of the same model stay unpriced.
    other = f"pricing-{uuid.uuid4().hex[:8]}"
    post(
        hub,
        llm_call(asset_id=other, model_id=model, provider="vllm", cost_usd=None),
        tenant="globex",
    )
    assert calls(hub, other, "globex")[model]["cost_source"] == "unpriced"


def test_prices_imported_by_the_cli_beside_the_server_then_a_reprice(hub: Hub) -> None:
    asset = f"pricing-{uuid.uuid4().hex[:8]}"
    model = f"in-house-{uuid.uuid4().hex[:6]}"
    post(
        hub,
        llm_call(
            asset_id=asset,
            model_id=model,
            provider="acme",
            cost_usd=None,
            input_tokens=1_000_000,
            output_tokens=0,
        ),
    )
    assert calls(hub, asset)[model]["cost_source"] == "unpriced"
    file = hub.proc.data_dir.parent / f"{model}.toml"
    file.write_text(
        f'[[models]]\nprovider = "acme"\nmodel = "{model}"\n'
        "prices = [{ from = 2020-01-01, input = 0.3, output = 0.6 }]\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    run = [sys.executable, "-m", "analytics_hub.cli", "prices"]
    imported = subprocess.run(
        [*run, "import", str(file), "--tenant", "acme", "--data-dir", str(hub.proc.data_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr
    repriced = subprocess.run(
        [*run, "reprice", "--url", hub.url, "--api-key", hub.keys["acme:admin"]],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert repriced.returncode == 0, repriced.stderr
    assert "re-priced" in repriced.stdout
    row = calls(hub, asset)[model]
    assert (row["cost_usd"], row["cost_source"]) == (pytest.approx(0.3), "computed")
