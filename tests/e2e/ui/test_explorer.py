"""The events explorer: filter, page, open an event, and see new events arrive live."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from playwright.sync_api import Browser, expect
from tests.e2e.harness import Hub
from tests.e2e.ui.conftest import Ui, UiHub, open_ui

from analytics_hub.testing.hubprocess import HubProcess, create_key


def test_filter_the_explorer_and_open_an_event(ui: Ui) -> None:
    ui.goto("/explorer?range=24h")
    page = ui.page
    rows = page.get_by_test_id("explorer-row")
    expect(rows.first).to_be_visible()
    page.get_by_label("Field").select_option("model_id")
    page.get_by_label("Operator").select_option("eq")
    page.get_by_label("Value", exact=True).fill("gpt-4o")
    page.get_by_test_id("add-filter").click()
    expect(page.get_by_test_id("filter-chip")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"f=model_id%3Aeq%3Agpt-4o"))
    expect(rows.first).to_contain_text("gpt-4o")
    shown = rows.count()
    assert shown > 5
    models = {rows.nth(i).inner_text() for i in range(min(shown, 30))}
    assert all("gpt-4o" in text and "gpt-4o-mini" not in text for text in models), models

    rows.first.click()
    drawer = page.get_by_test_id("event-drawer")
    expect(drawer).to_be_visible()
    event = json.loads(page.get_by_test_id("event-json").inner_text())
    assert event["payload"]["data"]["model_id"] == "gpt-4o"
    expect(page).to_have_url(re.compile(f"event={event['event_id']}"))
    ui.screenshot("explorer-drawer")
    page.keyboard.press("Escape")
    expect(drawer).to_have_count(0)

    # The filtered view is a link: opening it again shows the same filter.
    page.reload()
    expect(page.get_by_test_id("filter-chip")).to_have_count(1)
    expect(rows.first).to_contain_text("gpt-4o")


def test_a_posted_event_appears_live_within_two_seconds(ui: Ui) -> None:
    ui.goto("/explorer?range=1h")
    page = ui.page
    expect(page.locator(".live-badge")).to_have_attribute("data-status", "live")
    asset = f"live-check-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    post_call(ui.hub.url, ui.hub.key("acme", "ingest"), asset)
    row = page.get_by_test_id("explorer-row").filter(has_text=asset)
    expect(row).to_be_visible(timeout=2_000)
    assert time.monotonic() - started <= 2.0
    ui.screenshot("explorer-live")


def post_call(url: str, key: str, asset: str) -> None:
    """Post one model call of ``asset``, acknowledged once durable (not once visible)."""
    event = {
        "event_id": str(uuid.uuid4()),
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "source_module": "llm-observatory",
        "event_type": "telemetry",
        "severity": "info",
        "asset_id": asset,
        "payload": {
            "payload_type": "telemetry",
            "data": {
                "telemetry_type": "llm_call",
                "model_id": "gpt-4o",
                "provider": "openai",
                "operation": "chat",
                "input_tokens": 10,
                "output_tokens": 5,
                "latency_ms": 321.0,
                "status": "ok",
            },
        },
    }
    headers = {"Authorization": f"Bearer {key}"}
    response = httpx.post(f"{url}/api/v1/events", json=[event], headers=headers)
    assert response.status_code in (200, 202), response.text
    assert response.json()["accepted"] == 1, response.text


def test_the_live_feed_comes_back_by_itself_after_a_server_restart(
    browser: Browser, tmp_path: Path, artifacts: Path, built_ui: Path
) -> None:
    data_dir = tmp_path / "hub"
    keys = {role: create_key(data_dir, "acme", role) for role in ("read", "ingest")}
    proc = HubProcess(data_dir=data_dir, env={"HUB_WEBUI_DIR": str(built_ui)}).start()
    context, ui = open_ui(browser, UiHub(Hub(proc, {}), *_now_window()), artifacts, keys["read"])
    try:
        ui.goto("/explorer?range=1h")
        live = ui.page.locator(".live-badge")
        expect(live).to_have_attribute("data-status", "live")
        proc.stop()
        expect(live).not_to_have_attribute("data-status", "live")
        proc.start()  # the same port and data
        expect(live).to_have_attribute("data-status", "live", timeout=20_000)
        asset = f"after-restart-{uuid.uuid4().hex[:8]}"
        post_call(proc.url, keys["ingest"], asset)
        expect(ui.page.get_by_test_id("explorer-row").filter(has_text=asset)).to_be_visible(
            timeout=2_000
        )
    finally:
        context.close()
        proc.stop()


def _now_window() -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now, now
