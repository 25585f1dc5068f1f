"""``analytics-hub migrate``: apply the event store's schema migrations, then exit.

The hub migrates at start too; this command is for deployments that migrate as a
separate step (before rolling out new hub processes against a shared PostgreSQL), and
for checking what a database holds. It works on DuckDB and PostgreSQL alike.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit, urlunsplit

import typer

from analytics_hub.cli.options import ConfigFile, DataDir, fail, fail_hub, settings_from
from analytics_hub.errors import HubError
from analytics_hub.server.stores import connect_event_store

StoreUrl = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="Event store URL, duckdb:///path or postgresql://... (default: HUB_STORE, else"
        " the DuckDB file in the data directory)",
    ),
]


def shown(url: str) -> str:
    """``url`` without its password, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def migrate(data_dir: DataDir = None, config: ConfigFile = None, store: StoreUrl = None) -> None:
    """Apply pending schema migrations to the event store (DuckDB or PostgreSQL) and exit."""
    settings = settings_from(data_dir, config, store=store)
    try:
        opened = connect_event_store(settings)
    except HubError as exc:
        fail(f"cannot open the store {shown(settings.store_url)}: {exc.message}")
    try:
        before = opened.schema_version()
        applied = opened.migrate()
        after = opened.schema_version()
    except HubError as exc:
        fail_hub(exc)
    except Exception as exc:  # a database error (permissions, a broken migration): say it
        fail(f"migration failed: {exc}")
    finally:
        opened.close()
    where = shown(settings.store_url)
    if applied:
        listed = ", ".join(str(v) for v in applied)
        typer.echo(f"{where}: applied migrations {listed} (schema version {before} -> {after})")
    else:
        typer.echo(f"{where}: up to date (schema version {after})")


__all__ = ["migrate", "shown"]
