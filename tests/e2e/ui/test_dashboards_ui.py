"""The dashboard builder: create, add a panel, save, and find it again after a reload."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from tests.e2e.ui.conftest import Ui


def test_build_save_and_reload_a_dashboard(admin_ui: Ui) -> None:
    ui = admin_ui
    ui.goto("/dashboards?range=24h")
    page = ui.page
    page.get_by_test_id("new-dashboard").click()
    expect(page).to_have_url(re.compile(r"/dashboards/[^/?]+"))
    panels = page.get_by_test_id("dashboard-panel")
    expect(panels.first).to_be_visible()
    before = panels.count()
    assert before >= 2  # a new dashboard starts with example panels

    page.get_by_test_id("add-panel").click()
    editor = page.get_by_test_id("panel-editor")
    expect(editor).to_be_visible()
    editor.get_by_label("Title").fill("Errors by model")
    editor.get_by_label("Kind").select_option("bar")
    editor.get_by_label("Metric").select_option("count")
    editor.get_by_label("Group by (empty: none)").fill("model_id")
    editor.get_by_label("Filters, one per line as field:op:value").fill("status:eq:error")
    editor.get_by_test_id("panel-editor-apply").click()
    expect(editor).to_have_count(0)
    expect(panels).to_have_count(before + 1)
    page.get_by_test_id("save-dashboard").click()
    expect(page.get_by_test_id("unsaved-changes")).to_have_count(0)

    url = page.url
    page.goto(url)
    expect(panels).to_have_count(before + 1)
    added = page.get_by_role("region", name="Errors by model")
    expect(added).to_be_visible()
    # The saved panel ran its query and drew bars from real data.
    expect(added.locator(".recharts-bar-rectangle").first).to_be_visible()
    ui.screenshot("dashboard")

    # Shared by URL: another signed-in reader sees the same dashboard.
    page.goto(f"{url}{'&' if '?' in url else '?'}range=24h")
    expect(page.get_by_role("region", name="Errors by model")).to_be_visible()
    ui.goto("/dashboards")
    expect(page.get_by_test_id("dashboard-list-item").first).to_be_visible()
