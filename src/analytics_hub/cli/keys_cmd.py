"""``analytics-hub keys``: create, list and revoke API keys (server running or not).

The keys go to the control store the server uses (``open_control_store``): the data
directory's ``control.sqlite``, or the PostgreSQL database of ``HUB_STORE``, which every
hub process sharing that database reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from analytics_hub.auth.keys import KeyService
from analytics_hub.cli.options import ConfigFile, DataDir, fail, settings_from
from analytics_hub.errors import HubError
from analytics_hub.server.stores import open_control_store

app = typer.Typer(help="Manage API keys.", no_args_is_help=True)


@contextmanager
def _service(data_dir: DataDir, config: ConfigFile) -> Iterator[KeyService]:
    settings = settings_from(data_dir, config)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        store = open_control_store(settings)
    except HubError as exc:  # PostgreSQL down or a wrong URL: say so, without a traceback
        fail(exc.message)
    try:
        yield KeyService(store)
    finally:
        store.close()


@app.command("create")
def create(
    tenant: Annotated[str, typer.Option("--tenant", "-t", help="Tenant the key belongs to")],
    role: Annotated[str, typer.Option("--role", "-r", help="ingest, read or admin")] = "ingest",
    name: Annotated[str, typer.Option("--name", help="A label for the key")] = "",
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Create a key. The key itself is printed once, on the last line of output."""
    try:
        with _service(data_dir, config) as keys:
            record, key = keys.create(tenant, role, name)
    except HubError as exc:
        fail(exc.message)
    typer.echo(
        f"created key {record.key_id} for tenant {record.tenant_id!r} with role {record.role!r};"
        " store it now, it is not shown again:",
        err=True,
    )
    typer.echo(key)


@app.command("list")
def list_keys(
    tenant: Annotated[str | None, typer.Option("--tenant", "-t")] = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """List keys (never their secrets)."""
    table = Table("key id", "tenant", "role", "name", "created", "revoked")
    with _service(data_dir, config) as keys:
        records = keys.list(tenant)
    for r in records:
        table.add_row(
            r.key_id,
            r.tenant_id,
            r.role,
            r.name,
            r.created_at.isoformat(timespec="seconds"),
            r.revoked_at.isoformat(timespec="seconds") if r.revoked_at else "",
        )
    Console().print(table)


@app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key id shown by 'keys list'")],
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Revoke a key at once."""
    try:
        with _service(data_dir, config) as keys:
            keys.revoke(key_id)
    except HubError as exc:
        fail(exc.message)
    typer.echo(f"revoked {key_id}")


__all__ = ["app"]
