"""Docs are tested against the code: every setting, command and metric is documented."""

from __future__ import annotations

from pathlib import Path

import typer.main

from analytics_hub.api.metrics import HubMetrics
from analytics_hub.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _read(*parts: str) -> str:
    return (ROOT.joinpath(*parts)).read_text()


def test_every_setting_is_documented() -> None:
    doc = _read("docs", "operations", "configuration.md")
    missing = [f"HUB_{n.upper()}" for n in Settings.model_fields if f"`HUB_{n.upper()}`" not in doc]
    assert not missing, f"undocumented settings in docs/operations/configuration.md: {missing}"


def test_every_metric_is_documented() -> None:
    doc = _read("docs", "operations", "metrics.md")
    names = set()
    for metric in HubMetrics().registry.collect():
        suffix = "_total" if metric.type == "counter" else ""
        names.add(metric.name + suffix)
    missing = sorted(n for n in names if f"`{n}`" not in doc)
    assert not missing, f"undocumented metrics in docs/operations/metrics.md: {missing}"


def test_every_command_is_in_the_readme() -> None:
    from analytics_hub.cli.main import app

    readme = _read("README.md")
    group = typer.main.get_group(app)
    commands = []
    for name, cmd in group.commands.items():
        subs = getattr(cmd, "commands", None)
        if subs:
            commands += [f"{name} {sub}" for sub in subs]
        elif name != "version":
            commands.append(name)
    missing = []
    for command in commands:
        head, _, sub = command.partition(" ")
        documented = f"analytics-hub {command}" in readme or (
            sub and f"analytics-hub {head} " in readme and sub in readme
        )
        if not documented:
            missing.append(command)
    assert not missing, f"commands missing from the README's command table: {missing}"


def test_every_route_is_documented() -> None:
    import json

    docs = "\n".join(p.read_text() for p in (ROOT / "docs").rglob("*.md"))
    paths = json.loads(_read("schemas", "openapi.json"))["paths"]
    missing = [p for p in paths if p not in docs]
    assert not missing, f"routes missing from docs/: {missing}"
