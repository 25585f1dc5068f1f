"""The first page's JavaScript stays within its budget: 400 KB gzipped.

The first page loads the entry script of ``index.html`` and every module it imports
statically (Vite lists them as ``modulepreload`` links); lazy pages are not counted.
"""

from __future__ import annotations

import gzip
import re

from tests.e2e.ui.conftest import UI_DIST, _missing

BUDGET_BYTES = 400 * 1024


def first_page_scripts() -> list[str]:
    html = (UI_DIST / "index.html").read_text()
    entry = re.findall(r'<script[^>]+type="module"[^>]+src="([^"]+)"', html)
    preloads = re.findall(r'<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"', html)
    return entry + preloads


def test_first_page_javascript_is_within_budget() -> None:
    if not (UI_DIST / "index.html").is_file():
        _missing(f"the web UI is not built ({UI_DIST})", "run `make webui`")
    scripts = first_page_scripts()
    assert scripts, "index.html loads no module script"
    sizes = {
        src: len(gzip.compress((UI_DIST / src.lstrip("/")).read_bytes(), compresslevel=9))
        for src in scripts
    }
    total = sum(sizes.values())
    assert total <= BUDGET_BYTES, f"first page JS is {total / 1024:.0f} KB gzipped: {sizes}"
    # Lazy pages stay out of the first page: the dashboard builder's grid library is big.
    assert not any("Dashboard" in src for src in scripts), scripts
