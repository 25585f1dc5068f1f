"""``analytics-hub prices``: check reports problems with their paths, import stores a
tenant's overrides in the control store, list shows them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analytics_hub.cli.main import app
from analytics_hub.control.sqlite import SQLiteControlStore
from analytics_hub.store.duckdb import DuckDBStore
from analytics_hub.testing.envelopes import llm_call

OVERRIDES = """
[[models]]
provider = "vLLM"
model = "acme-ft-1"
prices = [{ from = 2025-01-01, input = 0.5, output = 1.5 }]
"""


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in ("HUB_DATA_DIR", "HUB_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def test_check_accepts_the_shipped_table(runner: CliRunner) -> None:
    result = runner.invoke(app, ["prices", "check"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: ")


def test_check_lists_every_problem_with_its_path(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(OVERRIDES.replace("model =", 'aliases = ["x", "x"]\nmodel ='))
    result = runner.invoke(app, ["prices", "check", str(bad)])
    assert result.exit_code == 1
    assert "models[0].provider: write 'vLLM' in lower case" in result.output
    assert "models[0].aliases[1]: 'x' of 'vLLM' is listed twice" in result.output


def test_import_stores_overrides_that_list_then_shows(runner: CliRunner, tmp_path: Path) -> None:
    good = tmp_path / "overrides.toml"
    good.write_text(OVERRIDES.replace("vLLM", "vllm"))
    data = tmp_path / "data"
    result = runner.invoke(
        app, ["prices", "import", str(good), "--tenant", "acme", "--data-dir", str(data)]
    )
    assert result.exit_code == 0, result.output
    assert "stored 1 price periods for tenant 'acme'" in result.output
    stored = SQLiteControlStore(data / "control.sqlite").list_price_overrides("acme")
    assert [(r.provider, r.model, r.input, r.output) for r in stored] == [
        ("vllm", "acme-ft-1", 0.5, 1.5)
    ]
    listed = runner.invoke(
        app, ["prices", "list", "--tenant", "acme", "--provider", "vllm", "--data-dir", str(data)]
    )
    assert listed.exit_code == 0, listed.output
    assert "acme-ft-1" in listed.output
    assert "override" in listed.output


def test_import_refuses_a_bad_tenant_and_a_bad_file(runner: CliRunner, tmp_path: Path) -> None:
    good = tmp_path / "overrides.toml"
    good.write_text(OVERRIDES.replace("vLLM", "vllm"))
    data = ["--data-dir", str(tmp_path / "data")]
    bad_tenant = runner.invoke(app, ["prices", "import", str(good), "--tenant", "A B", *data])
    assert bad_tenant.exit_code == 2
    negative = tmp_path / "negative.toml"
    negative.write_text(OVERRIDES.replace("vLLM", "vllm").replace("0.5", "-0.5"))
    bad_file = runner.invoke(app, ["prices", "import", str(negative), "--tenant", "acme", *data])
    assert bad_file.exit_code == 1
    assert "models[0].prices[0].input" in bad_file.output


def test_reprice_needs_a_tenant_or_a_url(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["prices", "reprice", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "--tenant" in result.output


def test_a_direct_bulk_load_prices_calls_with_the_tenants_overrides(
    runner: CliRunner, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    overrides = tmp_path / "overrides.toml"
    overrides.write_text(OVERRIDES.replace("vLLM", "vllm").replace("2025-01-01", "2020-01-01"))
    assert (
        runner.invoke(
            app, ["prices", "import", str(overrides), "-t", "acme", "-d", str(data)]
        ).exit_code
        == 0
    )
    now = datetime.now(UTC)
    events = [
        llm_call(model_id="gpt-4o-mini", cost_usd=None, timestamp=now),
        llm_call(model_id="acme-ft-1", provider="vllm", cost_usd=None, timestamp=now),
        llm_call(model_id="acme-ft-2", provider="vllm", cost_usd=None, timestamp=now),
    ]
    file = tmp_path / "calls.ndjson"
    file.write_text("\n".join(json.dumps(e) for e in events))
    result = runner.invoke(app, ["ingest", str(file), "-t", "acme", "-d", str(data)])
    assert result.exit_code == 0, result.output
    store = DuckDBStore(data / "events.duckdb")
    try:
        rows = store.fetch("SELECT model_id, cost_source FROM events ORDER BY model_id", []).rows
    finally:
        store.close()
    assert rows == [
        ("acme-ft-1", "computed"),
        ("acme-ft-2", "unpriced"),
        ("gpt-4o-mini", "computed"),
    ]
