"""The commands that manage keys and prices use the control store the server uses: with
``HUB_STORE=postgresql://...`` that is the database, whichever data directory they get."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from analytics_hub.auth.keys import KeyService
from analytics_hub.cli.main import app
from analytics_hub.control.base import ControlStore
from analytics_hub.errors import AuthenticationError
from analytics_hub.server.stores import control_store_location
from analytics_hub.settings import load_settings

OVERRIDES = """
[[models]]
provider = "vllm"
model = "acme-ft-1"
prices = [{ from = 2025-01-01, input = 0.5, output = 1.5 }]
"""


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in ("HUB_STORE", "HUB_CONFIG", "HUB_CONFIG_FILE", "HUB_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


@pytest.fixture
def env(backend: str, location: str) -> dict[str, str]:
    """The environment of a command run against ``location``."""
    return {"HUB_STORE": location} if backend == "postgres" else {}


@pytest.fixture
def data_dir(backend: str, location: str, tmp_path: Path) -> Path:
    # With PostgreSQL a command's own data directory holds no keys: use a fresh one.
    return tmp_path / "elsewhere" if backend == "postgres" else Path(location).parent


def test_keys_create_list_and_revoke_go_to_the_servers_store(
    runner: CliRunner, env: dict[str, str], data_dir: Path, store: ControlStore
) -> None:
    made = runner.invoke(
        app,
        ["keys", "create", "--tenant", "acme", "--role", "admin", "--data-dir", str(data_dir)],
        env=env,
    )
    assert made.exit_code == 0, made.output
    plaintext = made.stdout.strip().splitlines()[-1]
    principal = KeyService(store).authenticate(plaintext)  # the server's view
    assert (principal.tenant_id, principal.role.value) == ("acme", "admin")

    listed = runner.invoke(app, ["keys", "list", "--data-dir", str(data_dir)], env=env)
    assert listed.exit_code == 0, listed.output
    assert principal.key_id in listed.output
    assert plaintext not in listed.output

    revoked = runner.invoke(
        app, ["keys", "revoke", principal.key_id, "--data-dir", str(data_dir)], env=env
    )
    assert revoked.exit_code == 0, revoked.output
    with pytest.raises(AuthenticationError, match="revoked"):
        KeyService(store).authenticate(plaintext)
    if env:  # PostgreSQL: nothing went to the command's own data directory
        assert not (data_dir / "control.sqlite").exists()


def test_price_overrides_imported_by_the_command_reach_the_servers_store(
    runner: CliRunner, env: dict[str, str], data_dir: Path, store: ControlStore, tmp_path: Path
) -> None:
    file = tmp_path / "overrides.toml"
    file.write_text(OVERRIDES)
    args = ["prices", "import", str(file), "--tenant", "acme", "--data-dir", str(data_dir)]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    assert [(r.model, r.input) for r in store.list_price_overrides("acme")] == [("acme-ft-1", 0.5)]


def test_the_control_store_follows_the_event_store(tmp_path: Path) -> None:
    url = "postgresql://hub:secret@db.internal:5432/analytics"
    assert control_store_location(load_settings(store=url, data_dir=tmp_path)) == url
    duck = load_settings(store=f"duckdb:///{tmp_path}/events.duckdb", data_dir=tmp_path / "d")
    assert control_store_location(duck) == str(tmp_path / "d" / "control.sqlite")


def test_a_database_that_is_down_is_a_clear_error(runner: CliRunner, tmp_path: Path) -> None:
    env = {"HUB_STORE": "postgresql://hub:secret@127.0.0.1:1/nowhere"}
    for args in (
        ["keys", "create", "--tenant", "acme"],
        ["keys", "list"],
        ["prices", "list", "--tenant", "acme"],
    ):
        result = runner.invoke(app, [*args, "--data-dir", str(tmp_path)], env=env)
        assert result.exit_code == 2, (args, result.output)
        assert "cannot connect to the control store" in result.output
        assert "Traceback" not in result.output
