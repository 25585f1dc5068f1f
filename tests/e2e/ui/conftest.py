"""The web UI in a real headless Chromium (Debian's ``chromium``, driven by Playwright)
against a real ``analytics-hub serve`` holding two days of demo traffic.

The UI must be built first (``make webui``; ``make test`` does it). Screenshots of every page
go to ``test-artifacts/ui/`` (``HUB_TEST_ARTIFACTS`` moves it).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from tests.conftest import REQUIRE_SERVICES
from tests.e2e.harness import Hub

from analytics_hub.client import HubClient
from analytics_hub.demo import DemoGenerator
from analytics_hub.testing.hubprocess import HubProcess, create_key

REPO = Path(__file__).resolve().parents[3]
UI_DIST = Path(os.environ.get("HUB_TEST_UI_DIST", REPO / "frontend" / "dist"))
CHROMIUM = os.environ.get("HUB_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("HUB_TEST_ARTIFACTS", REPO / "test-artifacts")) / "ui"
# Without the background-networking flags Chromium keeps dialling Google from a closed
# network; --no-sandbox because CI runs as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEMO_DAYS = 2


def _missing(what: str, how: str) -> None:
    message = f"{what}; {how}"
    if REQUIRE_SERVICES:
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class UiHub:
    hub: Hub
    demo_start: datetime
    demo_end: datetime

    @property
    def url(self) -> str:
        return self.hub.url

    def key(self, tenant: str = "acme", role: str = "admin") -> str:
        return self.hub.keys[f"{tenant}:{role}"]


@pytest.fixture(scope="session")
def built_ui() -> Path:
    """The directory of the built web UI (skip, or fail in CI, when it is not built)."""
    if not (UI_DIST / "index.html").is_file():
        _missing(f"the web UI is not built ({UI_DIST})", "run `make webui`")
    return UI_DIST


@pytest.fixture(scope="session")
def ui_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiHub]:
    """A hub serving the built UI, with two days of demo history for two tenants."""
    if not (UI_DIST / "index.html").is_file():
        _missing(f"the web UI is not built ({UI_DIST})", "run `make webui`")
    data_dir = tmp_path_factory.mktemp("ui-hub")
    keys = {
        f"{tenant}:{role}": create_key(data_dir, tenant, role)
        for tenant in ("acme", "globex")
        for role in ("ingest", "read", "admin")
    }
    proc = HubProcess(data_dir=data_dir, env={"HUB_WEBUI_DIR": str(UI_DIST)})
    proc.start()
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    start = end - timedelta(days=DEMO_DAYS)
    generator = DemoGenerator(seed=11, rate_per_s=2.0, backfill_rate_per_s=0.3)
    try:
        for tenant in ("acme", "globex"):
            with HubClient(proc.url, keys[f"{tenant}:ingest"]) as client:
                history = generator.backfill(start, end, tenant=tenant)
                report = client.send(history, wait_visible=True)
                assert report.rejected == 0, report
        yield UiHub(Hub(proc=proc, keys=keys), start, end)
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium per test module.

    Not per session: Playwright's sync API keeps an asyncio loop running on this thread
    while it is open, and later tests that call ``asyncio.run`` would fail.
    """
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).is_file():
        _missing(f"Chromium is not installed at {CHROMIUM}", "run `make chromium`")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


AXE = REPO / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")


@dataclass
class Ui:
    """A signed-in browser tab on the UI hub."""

    page: Page
    hub: UiHub
    artifacts: Path

    def goto(self, path: str) -> None:
        self.page.goto(f"{self.hub.url}{path}")

    def screenshot(self, name: str) -> None:
        self.page.screenshot(path=str(self.artifacts / f"{name}.png"), full_page=True)

    def serious_violations(self) -> list[dict[str, object]]:
        """axe-core's serious and critical findings on the page as it is now."""
        page = self.page
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.add_script_tag(path=str(AXE))
        found: list[dict[str, object]] = page.evaluate(
            """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
                .map(v => ({id: v.id, impact: v.impact, help: v.help,
                            targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"""
        )
        return [v for v in found if v["impact"] in SERIOUS]


def open_ui(browser: Browser, hub: UiHub, artifacts: Path, key: str) -> tuple[BrowserContext, Ui]:
    """A fresh browser context signed in with ``key`` (put in session storage)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_init_script(f"window.sessionStorage.setItem('hub.apiKey', {key!r})")
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, Ui(page, hub, artifacts)


@pytest.fixture
def ui(browser: Browser, ui_hub: UiHub, artifacts: Path) -> Iterator[Ui]:
    """A fresh tab, already signed in as acme's reader."""
    context, tab = open_ui(browser, ui_hub, artifacts, ui_hub.key("acme", "read"))
    yield tab
    context.close()


@pytest.fixture
def admin_ui(browser: Browser, ui_hub: UiHub, artifacts: Path) -> Iterator[Ui]:
    """A fresh tab signed in as acme's admin (who may save dashboards)."""
    context, tab = open_ui(browser, ui_hub, artifacts, ui_hub.key("acme", "admin"))
    yield tab
    context.close()
