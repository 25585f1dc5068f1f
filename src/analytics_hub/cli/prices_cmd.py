"""``analytics-hub prices``: list, check and import model prices; re-price stored calls."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import httpx
import msgspec
import typer
from rich.console import Console
from rich.table import Table

from analytics_hub.auth.keys import validate_tenant
from analytics_hub.cli.options import ApiKey, ConfigFile, DataDir, Url, fail, settings_from
from analytics_hub.errors import HubError
from analytics_hub.pricing import (
    PriceBook,
    PriceFile,
    PriceFileError,
    PricingService,
    decode_price_file,
    shipped_price_file,
)
from analytics_hub.server.stores import open_control_store, open_event_store

app = typer.Typer(
    help="Model prices: list, check, import tenant overrides, re-price.", no_args_is_help=True
)

Tenant = Annotated[str, typer.Option("--tenant", "-t", help="The tenant whose prices these are")]


def _book() -> PriceBook:
    return PriceBook(shipped_price_file())


def _usd(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


@app.command("list")
def list_prices(
    provider: Annotated[str | None, typer.Option("--provider", "-p", help="Any spelling")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Part of a name")] = None,
    tenant: Annotated[
        str | None, typer.Option("--tenant", "-t", help="Merge in this tenant's overrides")
    ] = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """List prices (USD per million tokens): the shipped table, or a tenant's effective one."""
    control = None
    if tenant:
        settings = settings_from(data_dir, config)
        try:
            control = open_control_store(settings)
        except HubError as exc:  # PostgreSQL down or a wrong URL: no traceback
            fail(exc.message)
    try:
        service = PricingService(_book(), control)
        entries = service.entries(tenant or "", provider=provider, model=model)
    finally:
        if control is not None:
            control.close()
    table = Table(
        "provider", "model", "from", "input", "output", "cached input", "reasoning", "source"
    )
    for entry in entries:
        for period, source in entry.periods:
            table.add_row(
                entry.provider,
                entry.model,
                period.from_.isoformat(),
                _usd(period.input),
                _usd(period.output),
                _usd(period.cached_input),
                _usd(period.reasoning),
                source,
            )
    Console(width=160).print(table)
    typer.echo(f"{len(entries)} models; shipped prices checked {service.book.table.checked}")


def _decode(file: Path) -> PriceFile:
    """The file checked as the shipped table when it declares providers, else as overrides."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc}")
    try:
        raw = msgspec.json.decode(data) if data.lstrip()[:1] == b"{" else msgspec.toml.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError):
        raw = {}  # decode_price_file reports it
    shipped = isinstance(raw, dict) and "providers" in raw
    return decode_price_file(data, source=str(file), shipped=shipped)


@app.command("check")
def check(
    file: Annotated[
        Path | None, typer.Argument(help="A price file (default: the shipped table)")
    ] = None,
) -> None:
    """Validate a price file; every problem is printed with its path in the file."""
    try:
        table = shipped_price_file() if file is None else _decode(file)
    except PriceFileError as exc:
        for path, message in exc.problems:
            typer.secho(f"{path or '(file)'}: {message}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None
    providers = {m.provider for m in table.models}
    typer.echo(f"ok: {len(table.models)} models of {len(providers)} providers")


@app.command("import")
def import_overrides(
    file: Annotated[Path, typer.Argument(help="TOML or JSON: [[models]] with price periods")],
    tenant: Tenant,
    replace: Annotated[
        bool, typer.Option("--replace", help="Drop the listed models' other override periods")
    ] = False,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Import a tenant's price overrides (server running or not)."""
    try:
        validate_tenant(tenant)
        overrides = _decode(file)
    except PriceFileError as exc:
        for path, message in exc.problems:
            typer.secho(f"{path or '(file)'}: {message}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None
    except HubError as exc:
        fail(exc.message)
    if overrides.providers:
        fail("an override file lists models only; providers come with the hub")
    settings = settings_from(data_dir, config)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        control = open_control_store(settings)
    except HubError as exc:
        fail(exc.message)
    try:
        stored = PricingService(_book(), control).import_overrides(
            tenant, overrides, replace=replace
        )
    finally:
        control.close()
    typer.echo(
        f"stored {stored} price periods for tenant {tenant!r}; a running hub uses them within"
        " 30 s. Calls stored unpriced get a cost with 'analytics-hub prices reprice'."
    )


def _moment(text: str | None, name: str) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        fail(f"{name} must be an ISO 8601 time, e.g. 2025-01-31T00:00:00Z; got {text!r}")


@app.command("reprice")
def reprice(
    tenant: Annotated[
        str | None, typer.Option("--tenant", "-t", help="Tenant (without --url)")
    ] = None,
    from_: Annotated[
        str | None, typer.Option("--from", help="Start (default: the raw retention ago)")
    ] = None,
    to: Annotated[str | None, typer.Option("--to", help="End (default: a day ahead)")] = None,
    recompute: Annotated[
        bool, typer.Option("--recompute", help="Also price computed calls again")
    ] = False,
    data_dir: DataDir = None,
    config: ConfigFile = None,
    url: Url = None,
    api_key: ApiKey = None,
) -> None:
    """Give unpriced model calls a cost now that their model has a price.

    Through a running hub (--url and an admin key: the key's tenant), or on a stopped
    hub's data directory (--tenant).
    """
    start, end = _moment(from_, "--from"), _moment(to, "--to")
    if url:
        if not api_key:
            fail("--url needs --api-key (an admin key)")
        body: dict[str, object] = {"recompute": recompute}
        body |= {k: v.isoformat() for k, v in (("from", start), ("to", end)) if v is not None}
        resp = httpx.post(
            f"{url.rstrip('/')}/api/v1/prices/reprice",
            headers={"Authorization": f"Bearer {api_key}"},
            json=body,
            timeout=3600,
        )
        if resp.status_code != 200:
            fail(f"{resp.status_code}: {resp.text}")
        report = resp.json()
        examined, repriced, unpriced = report["examined"], report["repriced"], report["unpriced"]
    else:
        if not tenant:
            fail("give --tenant (or --url and --api-key of a running hub)")
        settings = settings_from(data_dir, config)
        try:
            store = open_event_store(settings)
        except Exception as exc:
            fail(f"cannot open the store ({exc}); if a hub is running, use --url and --api-key")
        control = open_control_store(settings)
        try:
            service = PricingService(_book(), control, store, raw_days=settings.retention_raw_days)
            done = service.reprice(tenant, start, end, recompute=recompute)
        except HubError as exc:
            fail(exc.message)
        finally:
            store.close()
            control.close()
        examined, repriced, unpriced = done.examined, done.repriced, done.unpriced
    typer.echo(f"examined {examined} model calls: {repriced} re-priced, {unpriced} still unpriced")


__all__ = ["app"]
