"""``analytics-hub retention apply``: delete what is past its retention, now."""

from __future__ import annotations

import httpx
import typer

from analytics_hub.cli.options import ApiKey, ConfigFile, DataDir, Url, fail, settings_from
from analytics_hub.server.stores import open_event_store
from analytics_hub.server.tasks import apply_retention

app = typer.Typer(help="Data retention.", no_args_is_help=True)


@app.command("apply")
def apply(
    data_dir: DataDir = None,
    config: ConfigFile = None,
    url: Url = None,
    api_key: ApiKey = None,
) -> None:
    """Apply retention now: through a running hub (--url, admin key) or on a stopped one's data."""
    if url:
        if not api_key:
            fail("--url needs --api-key (an admin key)")
        resp = httpx.post(
            f"{url.rstrip('/')}/api/v1/admin/retention",
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=600,
        )
        if resp.status_code != 200:
            fail(f"{resp.status_code}: {resp.text}")
        deleted = resp.json()["deleted"]
    else:
        settings = settings_from(data_dir, config)
        try:
            store = open_event_store(settings)
        except Exception as exc:
            fail(f"cannot open the store ({exc}); if a hub is running, use --url and --api-key")
        try:
            deleted = apply_retention(store, settings).deleted
        finally:
            store.close()
    for table, n in sorted(deleted.items()):
        typer.echo(f"{table}: {n} rows deleted")


__all__ = ["app"]
