"""Sign-in and the overview page, drawn from real demo data in a real Chromium."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.sync_api import Browser, expect
from tests.e2e.ui.conftest import Ui, UiHub


def test_sign_in_with_an_api_key_refuses_a_bad_one_first(browser: Browser, ui_hub: UiHub) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(ui_hub.url)
        page.get_by_label("API key").fill("hub_not-a-real-key")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("not valid")
        page.get_by_label("API key").fill(ui_hub.key("acme", "read"))
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
        # Kept for the session: a reload stays signed in.
        page.reload()
        expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    finally:
        context.close()


def test_overview_draws_the_demo_traffic(ui: Ui) -> None:
    requested: list[str] = []
    ui.page.on("request", lambda request: requested.append(request.url))
    ui.goto("/?range=7d")
    page = ui.page
    requests = page.get_by_test_id("stat-Requests").locator(".stat-value")
    expect(requests).not_to_have_text(re.compile(r"^(0|–)$"))
    # Every time-series card drew a curve or bars with many points from the API's data.
    for title in ("Requests and errors", "Latency", "Tokens"):
        path = page.get_by_role("region", name=title).locator("path.recharts-curve").first
        expect(path).to_have_attribute("d", re.compile(r"(?:[LC][^LC]+){20,}"))
    bars = page.get_by_role("region", name="Cost").locator(".recharts-bar-rectangle")
    expect(bars.first).to_be_visible()
    assert bars.count() >= 24  # two days of hourly buckets with spend
    top = page.get_by_role("table", name="Top models by cost").locator("tr")
    expect(top.first).to_be_visible()
    assert top.count() >= 3
    ui.screenshot("overview")
    # Nothing comes from elsewhere (no CDN, no fonts, no telemetry): the hub works offline.
    origin = urlsplit(ui.hub.url).netloc
    parts = [urlsplit(u) for u in requested]
    foreign = [p.geturl() for p in parts if p.scheme != "data" and p.netloc != origin]
    assert requested
    assert foreign == []


def test_overview_range_lives_in_the_url(ui: Ui) -> None:
    ui.goto("/?range=6h")
    page = ui.page
    expect(page.get_by_role("combobox", name="Time range", exact=True)).to_have_value("6h")
    page.get_by_role("combobox", name="Time range", exact=True).select_option("24h")
    expect(page).to_have_url(re.compile(r"range=24h"))
    page.reload()
    expect(page.get_by_role("combobox", name="Time range", exact=True)).to_have_value("24h")


def test_a_chart_point_opens_the_events_behind_it(ui: Ui) -> None:
    ui.goto("/?range=24h")
    page = ui.page
    page.get_by_role("table", name="Top models by cost").get_by_role("button").first.click()
    expect(page).to_have_url(re.compile(r"/explorer\?.*f=model_id%3Aeq%3A"))


def test_dark_theme_switches_and_is_remembered(ui: Ui) -> None:
    ui.goto("/")
    page = ui.page
    start = page.evaluate("() => document.documentElement.dataset.theme")
    page.get_by_role("button", name=re.compile("Switch to .* theme")).click()
    flipped = page.evaluate("() => document.documentElement.dataset.theme")
    assert {start, flipped} == {"light", "dark"}
    page.reload()
    assert page.evaluate("() => document.documentElement.dataset.theme") == flipped
    ui.screenshot(f"overview-{flipped}")
