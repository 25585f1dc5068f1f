"""The ``analytics-hub`` command: one module per subcommand, joined here."""

from __future__ import annotations

import typer

from analytics_hub import __version__
from analytics_hub.cli import (
    config_cmd,
    demo_cmd,
    ingest_cmd,
    keys_cmd,
    migrate_cmd,
    prices_cmd,
    query_cmd,
    retention_cmd,
    serve_cmd,
)

app = typer.Typer(
    name="analytics-hub",
    help="LLM Analytics Hub: ingest, store and analyse everything your LLM systems emit.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("serve")(serve_cmd.serve)
app.command("demo")(demo_cmd.demo)
app.command("ingest")(ingest_cmd.ingest)
app.command("query")(query_cmd.query)
app.command("migrate")(migrate_cmd.migrate)
app.add_typer(keys_cmd.app, name="keys")
app.add_typer(config_cmd.app, name="config")
app.add_typer(retention_cmd.app, name="retention")
app.add_typer(prices_cmd.app, name="prices")


@app.command("version")
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def main() -> None:
    """Entry point of the ``analytics-hub`` script."""
    app()


__all__ = ["app", "main"]
