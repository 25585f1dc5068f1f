"""``analytics-hub ingest FILE``: bulk-load NDJSON, JSON, CSV or Parquet.

Two paths: through a running hub (``--url``, with the batching, retrying client), or
straight into a stopped hub's data directory (``--data-dir --tenant``), which is the bulk
path: the same validation and normalisation, written in large commits.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from analytics_hub.auth.keys import validate_tenant
from analytics_hub.bulk import count_hint, iter_batches
from analytics_hub.cli.options import ApiKey, ConfigFile, DataDir, Url, fail, settings_from
from analytics_hub.client import HubClient, HubClientError
from analytics_hub.errors import HubError
from analytics_hub.events import Normalizer
from analytics_hub.ingest.service import dead_letters_of
from analytics_hub.pricing import PriceBook, PricingService, shipped_price_file
from analytics_hub.server.stores import open_control_store, open_event_store

_encode = msgspec.json.Encoder().encode


class _Summary:
    def __init__(self) -> None:
        self.accepted = 0
        self.rejected = 0
        self.reasons: Counter[str] = Counter()
        self.examples: list[str] = []

    def add(self, accepted: int, errors: list[tuple[int, str, str]]) -> None:
        self.accepted += accepted
        self.rejected += len({index for index, _, _ in errors})
        for index, field, message in errors:
            self.reasons[f"{field}: {message}"[:160]] += 1
            if len(self.examples) < 5:
                self.examples.append(f"event {index}: {field}: {message}")

    def print(self) -> None:
        typer.echo(f"accepted {self.accepted}, rejected {self.rejected}")
        if self.reasons:
            typer.echo("most common reasons:")
            for reason, n in self.reasons.most_common(10):
                typer.echo(f"  {n:>8}  {reason}")


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]ingesting"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("events"),
        TimeElapsedColumn(),
        transient=False,
    )


def ingest(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="File to load")],
    format: Annotated[
        str | None,
        typer.Option("--format", "-f", help="ndjson, json, csv or parquet (default: by suffix)"),
    ] = None,
    url: Url = None,
    api_key: ApiKey = None,
    tenant: Annotated[
        str | None, typer.Option("--tenant", "-t", help="Tenant, for the direct path")
    ] = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
    batch_size: Annotated[int, typer.Option(help="Events per batch")] = 10_000,
) -> None:
    """Load a file of events, with a progress bar and a summary of rejects."""
    try:
        batches = iter_batches(file, format=format, batch_size=batch_size)
        total = count_hint(file)
        summary = _Summary()
        if url:
            if not api_key:
                fail("--url needs --api-key (or HUB_API_KEY)")
            _through_hub(url, api_key, batches, total, summary, batch_size)
        else:
            if not tenant:
                fail("give --url and --api-key for a running hub, or --tenant to load directly")
            _direct(
                settings_from(data_dir, config), validate_tenant(tenant), batches, total, summary
            )
    except HubError as exc:
        fail(exc.message)
    except HubClientError as exc:  # refused by the hub (key, role) or unreachable
        fail(str(exc))
    summary.print()
    if summary.rejected and not summary.accepted:
        raise typer.Exit(1)


def _through_hub(
    url: str,
    api_key: str,
    batches: Iterator[list[dict[str, Any]]],
    total: int | None,
    summary: _Summary,
    batch_size: int,
) -> None:
    offset = 0
    with HubClient(url, api_key, batch_size=min(batch_size, 10_000)) as hub, _progress() as bar:
        task = bar.add_task("ingest", total=total)
        batch = next(batches, None)
        while batch is not None:
            following = next(batches, None)
            # The hub commits in order: once the last batch is visible, all of them are,
            # so the command returns when the file can be queried.
            report = hub.send(batch, wait_visible=following is None)
            summary.add(
                report.accepted,
                [(offset + e.index, e.field, e.message) for e in report.errors],
            )
            offset += len(batch)
            bar.advance(task, len(batch))
            batch = following


def _direct(
    settings: Any,
    tenant: str,
    batches: Iterator[list[dict[str, Any]]],
    total: int | None,
    summary: _Summary,
) -> None:
    try:
        store = open_event_store(settings)
    except Exception as exc:
        fail(f"cannot open the store ({exc}); if a hub is running, use --url and --api-key")
    normalizer = Normalizer(
        currency_rates=settings.currency_rates,
        max_future_skew_seconds=settings.max_future_skew_seconds,
        max_age_seconds=settings.retention_raw_days * 86400.0,
    )
    control = open_control_store(settings)  # the tenant's price overrides
    pricing = PricingService(PriceBook(shipped_price_file()), control)
    offset = 0
    try:
        with _progress() as bar:
            task = bar.add_task("ingest", total=total)
            for batch in batches:
                now = datetime.now(UTC)
                decoded = normalizer.decode_json(_encode(batch), tenant_id=tenant, received_at=now)
                store.write_events(pricing.price(tenant, decoded.table))
                letters = dead_letters_of(decoded, tenant, now)
                if letters:
                    store.write_dead_letters(letters)
                summary.add(
                    int(decoded.table.num_rows),
                    [(offset + e.index, e.field, e.message) for e in decoded.errors],
                )
                offset += len(batch)
                bar.advance(task, len(batch))
    finally:
        store.close()
        control.close()


__all__ = ["ingest"]
