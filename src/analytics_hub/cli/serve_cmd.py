"""``analytics-hub serve``: the embedded hub in one process."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from analytics_hub.cli.options import ConfigFile, DataDir, settings_from

if TYPE_CHECKING:
    from analytics_hub.server.runner import HubServer

Host = Annotated[str | None, typer.Option("--host", help="Bind address (default 127.0.0.1)")]
Port = Annotated[int | None, typer.Option("--port", "-p", help="HTTP port (default 8080)")]


def serve(
    data_dir: DataDir = None,
    host: Host = None,
    port: Port = None,
    config: ConfigFile = None,
) -> None:
    """Start the hub: ingest, store and query, with everything in one process."""
    # The server stack (FastAPI, uvicorn) is imported only by the commands that serve, so
    # that the other commands start fast.
    from analytics_hub.server.runner import HubServer

    settings = settings_from(data_dir, config, host=host, port=port)
    server = HubServer(settings)

    def announce(s: HubServer) -> None:
        typer.echo(f"LLM Analytics Hub listening on {s.url}  (API docs: {s.url}/docs)", err=True)
        typer.echo(f"data directory: {settings.data_dir.resolve()}", err=True)

    server.run(on_started=announce)


__all__ = ["serve"]
