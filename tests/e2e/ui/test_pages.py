"""Cost, performance and security pages draw the demo traffic (asserted on the SVG)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, expect
from tests.e2e.ui.conftest import Ui

# page -> (path, heading, cards whose chart must show data)
PAGES = {
    "cost": (
        "/cost?range=24h",
        "Cost",
        ["Spend over time", "Cost per 1,000 calls", "Top movers"],
    ),
    "performance": (
        "/performance?range=24h",
        "Performance",
        ["Latency percentiles", "Time to first token by model", "Slowest applications"],
    ),
    "security": (
        "/security?range=24h",
        "Security & compliance",
        ["Threats: blocked or not", "Threats by type over time", "Violations by policy"],
    ),
}
# What "drawn with data" looks like: a curve with a path, bars, heat cells or table rows.
MARKS = "path.recharts-curve[d], .recharts-bar-rectangle, rect.heat-cell, tbody tr"


def card(ui: Ui, title: str) -> Locator:
    return ui.page.locator("section.card").filter(
        has=ui.page.get_by_role("heading", name=title, level=2)
    )


@pytest.mark.parametrize("name", list(PAGES))
def test_page_draws_its_charts_with_data(ui: Ui, name: str) -> None:
    path, heading, cards = PAGES[name]
    ui.goto(path)
    expect(ui.page.get_by_role("heading", name=heading, level=1)).to_be_visible()
    for title in cards:
        section = card(ui, title)
        expect(section).to_have_count(1)
        expect(section.locator(MARKS).first).to_be_visible(timeout=20_000)
        curve = section.locator("path.recharts-curve[d]")
        if curve.count():
            # One path per series: many points drawn, not a stub.
            expect(curve.first).to_have_attribute("d", re.compile(r"(?:[LC][^LC]+){10,}"))
        else:
            assert section.locator(MARKS).count() >= 3, title
        expect(section.get_by_role("alert")).to_have_count(0)
    ui.screenshot(name)
