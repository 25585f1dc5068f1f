"""Time from navigation to the overview's charts being drawn, at 10 million stored events.

Loads ``--events`` events (default 10 million over 30 days, as ``bench/query.py`` does, and
shares its ``--data`` directory format), starts ``analytics-hub serve`` with the built web
UI, and opens the overview in headless Chromium (Debian's, driven by Playwright) ``--runs``
times, each in a fresh browser context (empty cache). A script injected before the page
loads records ``performance.now()`` (milliseconds since navigation started) at the first
moment every chart of the overview has drawn its data. The reference, in the same run: the
overview API call alone over HTTP, which the page cannot beat. Prints one JSON object.
Target: median <= 1,500 ms.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import sync_playwright

from analytics_hub.testing.hubprocess import HubProcess, create_key

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Drawn: the four time-series cards have curves/bars with data and the totals are filled.
DRAWN_PROBE = """
(() => {
  const done = () => {
    const curves = document.querySelectorAll('[data-testid=chart] path.recharts-curve[d]');
    const bars = document.querySelectorAll('[data-testid=chart] .recharts-bar-rectangle');
    const requests = document.querySelector('[data-testid="stat-Requests"] .stat-value');
    return curves.length >= 6 && bars.length > 0 && requests && requests.textContent !== '–';
  };
  const observer = new MutationObserver(() => {
    if (window.__drawnAt === undefined && done()) {
      window.__drawnAt = performance.now();
      observer.disconnect();
    }
  });
  document.addEventListener('DOMContentLoaded', () =>
    observer.observe(document.body, {childList: true, subtree: true, attributes: true}));
})();
"""


def _query_bench() -> Any:
    """``bench/query.py`` as a module, for its loader (one data format for both)."""
    spec = importlib.util.spec_from_file_location("bench_query", REPO / "bench" / "query.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ensure_data(data: Path, events: int, days: float) -> tuple[datetime, dict[str, Any]]:
    data.mkdir(parents=True, exist_ok=True)
    marker = data / "loaded.json"
    if marker.exists():
        loaded = json.loads(marker.read_text())
        return datetime.fromisoformat(loaded["now"]), {"reused": str(data), **loaded["load"]}
    now = datetime.now(UTC).replace(microsecond=0)
    print(f"loading {events:,} events into {data} ...", file=sys.stderr)
    load = _query_bench().load(data / "events.duckdb", events, now, days)
    marker.write_text(json.dumps({"now": now.isoformat(), "load": load}))
    return now, load


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--days", type=float, default=30.0)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--range-hours", type=float, default=24.0, help="the overview's range")
    ap.add_argument("--data", type=Path, default=None, help="reuse loaded data (bench/query.py)")
    ap.add_argument("--ui", type=Path, default=REPO / "frontend" / "dist")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args()
    if not (args.ui / "index.html").is_file():
        sys.exit(f"no built UI at {args.ui}: run `make webui` first")
    result: dict[str, Any] = {"benchmark": "ui_overview_first_draw", "events": args.events}
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or Path(tmp) / "hub"
        now, result["load"] = ensure_data(data, args.events, args.days)
        key = create_key(data, "acme", "read")
        # The range ends where the data ends, so reused data shows the same picture.
        frm, to = iso(now - timedelta(hours=args.range_hours)), iso(now)
        env = {"HUB_LOG_LEVEL": "warning", "HUB_WEBUI_DIR": str(args.ui)}
        hub = HubProcess(data_dir=data, env=env).start(timeout=300)
        try:
            result.update(measure(hub.url, key, frm, to, args))
        finally:
            hub.stop()
    print(json.dumps(result))


def measure(url: str, key: str, frm: str, to: str, args: argparse.Namespace) -> dict[str, Any]:
    page_ms: list[float] = []
    api_ms: list[float] = []
    hours = args.range_hours
    # The bucket the UI picks for the range (frontend/src/lib/time.ts bucketFor).
    bucket = "1m" if hours <= 2 else "5m" if hours <= 12 else "15m" if hours <= 48 else "1h"
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
        params = {"from": frm, "to": to, "bucket": bucket}
        c.get("/api/v1/metrics/overview", params=params).raise_for_status()  # warm the store
        for _ in range(args.runs):
            t0 = time.perf_counter()
            c.get("/api/v1/metrics/overview", params=params).raise_for_status()
            api_ms.append((time.perf_counter() - t0) * 1000)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS
        )
        try:
            for _ in range(args.runs):
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                context.add_init_script(f"window.sessionStorage.setItem('hub.apiKey', {key!r})")
                context.add_init_script(DRAWN_PROBE)
                page = context.new_page()
                page.goto(f"{url}/?from={frm}&to={to}")
                page.wait_for_function("window.__drawnAt !== undefined", timeout=60_000)
                page_ms.append(float(page.evaluate("window.__drawnAt")))
                context.close()
        finally:
            browser.close()
    median = statistics.median(page_ms)
    api = statistics.median(api_ms)
    return {
        "navigation_to_charts_median_ms": round(median, 1),
        "range": {"from": frm, "to": to, "bucket": bucket},
        "runs": args.runs,
        "navigation_to_charts_ms": {
            "median": round(median, 1),
            "min": round(min(page_ms), 1),
            "max": round(max(page_ms), 1),
            "all": [round(v, 1) for v in page_ms],
        },
        "reference_overview_api_ms": {
            "median": round(api, 1),
            "all": [round(v, 1) for v in api_ms],
        },
        "ratio_page_to_api": round(median / api, 2) if api else None,
        "target_ms": 1500,
        "meets_target": median <= 1500,
    }


if __name__ == "__main__":
    main()
