"""``analytics-hub migrate``: apply the schema migrations of the event store and of the
control store (keys, price overrides, dashboards), then exit.

The hub migrates at start too; this command is for deployments that migrate as a
separate step (before rolling out new hub processes against a shared PostgreSQL), and
for checking what a database holds. It works on DuckDB and PostgreSQL alike; the control
store is ``control.sqlite`` beside DuckDB, tables in the same database with PostgreSQL.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit, urlunsplit

import typer

from analytics_hub.cli.options import ConfigFile, DataDir, fail, fail_hub, settings_from
from analytics_hub.errors import HubError
from analytics_hub.server.stores import (
    connect_control_store,
    connect_event_store,
    control_store_location,
)
from analytics_hub.settings import Settings

StoreUrl = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="Event store URL, duckdb:///path or postgresql://... (default: HUB_STORE, else"
        " the DuckDB file in the data directory); a PostgreSQL one holds the control plane too",
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
    """Apply pending schema migrations to the event store (DuckDB or PostgreSQL) and to the
    control store (keys, prices, dashboards), then exit."""
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
    _report(shown(settings.store_url), before, applied, after)
    _migrate_control(settings)


def _migrate_control(settings: Settings) -> None:
    where = f"{shown(control_store_location(settings))} (control plane)"
    try:
        control = connect_control_store(settings)
    except HubError as exc:
        fail(f"cannot open the control store {where}: {exc.message}")
    try:
        before = control.schema_version()
        applied = control.migrate()
        after = control.schema_version()
    except HubError as exc:
        fail_hub(exc)
    except Exception as exc:  # as above
        fail(f"control store migration failed: {exc}")
    finally:
        control.close()
    _report(where, before, applied, after)


def _report(where: str, before: int, applied: list[int], after: int) -> None:
    if applied:
        listed = ", ".join(str(v) for v in applied)
        typer.echo(f"{where}: applied migrations {listed} (schema version {before} -> {after})")
    else:
        typer.echo(f"{where}: up to date (schema version {after})")


__all__ = ["migrate", "shown"]
