"""axe-core on every page, in both themes: no serious or critical violation."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from tests.e2e.ui.conftest import Ui, UiHub

PAGES = {
    "overview": ("/?range=24h", "Overview"),
    "cost": ("/cost?range=24h", "Cost"),
    "performance": ("/performance?range=24h", "Performance"),
    "security": ("/security?range=24h", "Security & compliance"),
    "explorer": ("/explorer?range=24h", "Events"),
    "dashboards": ("/dashboards", "Dashboards"),
}


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("name", list(PAGES))
def test_page_has_no_serious_accessibility_violation(ui: Ui, name: str, theme: str) -> None:
    path, heading = PAGES[name]
    ui.page.add_init_script(f"window.localStorage.setItem('hub.theme', '{theme}')")
    ui.goto(path)
    expect(ui.page.get_by_role("heading", name=heading, level=1)).to_be_visible()
    # Let the charts draw: axe must judge the page with its data, not a spinner.
    expect(ui.page.get_by_role("status").filter(has_text="Loading")).to_have_count(0)
    assert ui.serious_violations() == []
    ui.screenshot(f"{name}-{theme}")


def test_sign_in_page_has_no_serious_accessibility_violation(
    browser: Browser, ui_hub: UiHub, artifacts: Path
) -> None:
    context = browser.new_context()
    try:
        signed_out = Ui(context.new_page(), ui_hub, artifacts)
        signed_out.goto("/")
        expect(signed_out.page.get_by_label("API key")).to_be_visible()
        assert signed_out.serious_violations() == []
        signed_out.screenshot("sign-in")
    finally:
        context.close()
