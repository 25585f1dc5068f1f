"""``analytics-hub config show``: the effective settings and where each comes from."""

from __future__ import annotations

import json

import typer

from analytics_hub.cli.options import ConfigFile, DataDir, settings_from

app = typer.Typer(help="Inspect configuration.", no_args_is_help=True)


@app.command("show")
def show(data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Print the effective settings as JSON (environment, file and defaults merged)."""
    settings = settings_from(data_dir, config)
    data = settings.model_dump(mode="json")
    data["store_url"] = settings.store_url
    typer.echo(json.dumps(data, indent=2, sort_keys=True))


__all__ = ["app"]
