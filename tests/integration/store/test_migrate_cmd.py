"""``analytics-hub migrate`` applies the migrations of either backend once, then none, to
the event store and to the control store beside it (``control.sqlite``, or the same
PostgreSQL database)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from analytics_hub.cli.main import app
from analytics_hub.cli.migrate_cmd import shown
from analytics_hub.server.stores import connect_event_store, open_event_store
from analytics_hub.settings import load_settings
from analytics_hub.store.duckdb import DuckDBStore
from analytics_hub.store.postgres import PostgresStore


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in ("HUB_STORE", "HUB_CONFIG", "HUB_CONFIG_FILE", "HUB_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def _url(backend: str, location: str) -> str:
    return f"duckdb:///{location}" if backend == "duckdb" else location


def test_migrate_applies_every_migration_once(
    runner: CliRunner, backend: str, location: str, tmp_path: Path
) -> None:
    url = _url(backend, location)
    first = runner.invoke(app, ["migrate", "--store", url, "--data-dir", str(tmp_path)])
    assert first.exit_code == 0, first.output
    events_line, control_line = first.output.strip().splitlines()
    assert "applied migrations 1, 2, 3" in events_line
    control_at = url if backend == "postgres" else str(tmp_path / "control.sqlite")
    assert control_line == (
        f"{control_at} (control plane): applied migrations 1, 2, 3 (schema version 0 -> 3)"
    )

    again = runner.invoke(app, ["migrate", "--store", url, "--data-dir", str(tmp_path)])
    assert again.exit_code == 0, again.output
    events_line, control_line = again.output.strip().splitlines()
    assert control_line.endswith("(control plane): up to date (schema version 3)")
    store = connect_event_store(load_settings(store=url, data_dir=tmp_path))
    try:
        version = store.schema_version()
        assert store.migrate() == []
    finally:
        store.close()
    assert version >= 3
    assert events_line.endswith(f"up to date (schema version {version})")


def test_the_store_url_chooses_the_backend(backend: str, location: str, tmp_path: Path) -> None:
    store = open_event_store(load_settings(store=_url(backend, location), data_dir=tmp_path))
    try:
        assert isinstance(store, DuckDBStore if backend == "duckdb" else PostgresStore)
        assert store.dialect == backend
        assert store.migrate() == []  # open_event_store migrated it
    finally:
        store.close()


def test_migrate_reports_a_store_it_cannot_open(runner: CliRunner, tmp_path: Path) -> None:
    url = "postgresql://hub:secret@127.0.0.1:1/nowhere"
    result = runner.invoke(app, ["migrate", "--store", url, "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "cannot open the store postgresql://hub:***@127.0.0.1:1/nowhere" in result.output
    assert "secret" not in result.output


def test_passwords_are_not_shown() -> None:
    assert shown("postgresql://u:pw@h:5432/d?sslmode=require") == (
        "postgresql://u:***@h:5432/d?sslmode=require"
    )
    assert shown("duckdb:///data/events.duckdb") == "duckdb:///data/events.duckdb"
