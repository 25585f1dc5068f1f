"""Options shared by several commands, and turning them into Settings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from analytics_hub.errors import HubError
from analytics_hub.settings import Settings, load_settings

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", "-d", help="Data directory (default: HUB_DATA_DIR or ./hub-data)"),
]
ConfigFile = Annotated[
    Path | None, typer.Option("--config", "-c", help="TOML settings file (or HUB_CONFIG)")
]
Url = Annotated[
    str | None,
    typer.Option("--url", envvar="HUB_URL", help="Base URL of a running hub"),
]
ApiKey = Annotated[
    str | None,
    typer.Option("--api-key", envvar="HUB_API_KEY", help="API key for --url"),
]


def settings_from(data_dir: Path | None, config: Path | None, **more: Any) -> Settings:
    """Settings from the environment and file, with command-line values on top."""
    try:
        return load_settings(data_dir=data_dir, config_file=config, **more)
    except Exception as exc:  # pydantic's message is specific; show it without a traceback
        fail(f"invalid settings: {exc}")


def fail(message: str, code: int = 2) -> NoReturn:
    """Print an error and exit with ``code``."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def fail_hub(exc: HubError) -> NoReturn:
    """Print a hub error and exit."""
    fail(exc.message)


__all__ = ["ApiKey", "ConfigFile", "DataDir", "Url", "fail", "fail_hub", "settings_from"]
