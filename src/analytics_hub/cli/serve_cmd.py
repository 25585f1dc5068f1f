"""``analytics-hub serve``: the embedded hub in one process."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from analytics_hub.cli.options import ConfigFile, DataDir, fail_hub, settings_from
from analytics_hub.errors import HubError
from analytics_hub.settings import ROLES, Settings

if TYPE_CHECKING:
    from analytics_hub.server.runner import HubServer

Host = Annotated[str | None, typer.Option("--host", help="Bind address (default 127.0.0.1)")]
Port = Annotated[int | None, typer.Option("--port", "-p", help="HTTP port (default 8080)")]
OtlpGrpcPort = Annotated[
    int | None,
    typer.Option(
        "--otlp-grpc-port", help="OTLP/gRPC and native gRPC ingest port (default 4317; 0: off)"
    ),
]
OtlpHttpPort = Annotated[
    int | None,
    typer.Option(
        "--otlp-http-port", help="Extra OTLP/HTTP-only port, e.g. 4318 (default 0: main port only)"
    ),
]
Role = Annotated[
    str | None,
    typer.Option(
        "--role",
        help="What this process does: all (default), or a comma-separated subset of"
        " ingest, writer, api, analytics (HUB_ROLE)",
    ),
]


def serve(
    data_dir: DataDir = None,
    host: Host = None,
    port: Port = None,
    config: ConfigFile = None,
    otlp_grpc_port: OtlpGrpcPort = None,
    otlp_http_port: OtlpHttpPort = None,
    role: Role = None,
) -> None:
    """Start the hub: ingest, store and query, everything in one process unless --role
    names a part of it."""
    # The server stack (FastAPI, uvicorn) is imported only by the commands that serve, so
    # that the other commands start fast.
    from analytics_hub.server.collector import tune_collector
    from analytics_hub.server.runner import HubServer
    from analytics_hub.server.switching import set_switch_interval

    settings = settings_from(
        data_dir,
        config,
        host=host,
        port=port,
        otlp_grpc_port=otlp_grpc_port,
        otlp_http_port=otlp_http_port,
        role=role,
    )
    try:
        server = HubServer(settings)
    except HubError as exc:
        fail_hub(exc)

    def announce(s: HubServer) -> None:
        tune_collector(settings.gc_gen0_threshold)  # started: what startup made is settled
        set_switch_interval(settings.switch_interval_ms)
        typer.echo(f"LLM Analytics Hub listening on {s.url}  (API docs: {s.url}/docs)", err=True)
        typer.echo(f"  roles: {', '.join(r for r in ROLES if r in settings.roles)}", err=True)
        for line in extra_listeners(s.url, settings):
            typer.echo(line, err=True)
        typer.echo(f"data directory: {settings.data_dir.resolve()}", err=True)

    server.run(on_started=announce)


def extra_listeners(url: str, settings: Settings) -> list[str]:
    """Lines announcing the gRPC and dedicated OTLP/HTTP listeners that are on."""
    host = url.rsplit(":", 1)[0].removeprefix("http://")
    lines: list[str] = []
    if "ingest" not in settings.roles:
        return lines
    if settings.otlp_grpc_port:
        lines.append(
            f"  gRPC (OTLP and analytics_hub.v1.IngestService): {host}:{settings.otlp_grpc_port}"
        )
    if settings.otlp_http_port:
        lines.append(f"  OTLP/HTTP: http://{host}:{settings.otlp_http_port}")
    return lines


__all__ = ["OtlpGrpcPort", "OtlpHttpPort", "extra_listeners", "serve"]
