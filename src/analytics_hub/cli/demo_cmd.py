"""``analytics-hub demo``: the embedded hub plus realistic demo traffic.

The first run of a data directory backfills history (seven days by default) and records
when, so that later runs continue with live traffic only and the incidents stay where the
first run put them. Demo keys are kept in ``demo.json`` in the data directory (a demo
convenience: real keys are shown once and never stored).
"""

from __future__ import annotations

import json
import os
import signal
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import structlog
import typer

from analytics_hub.auth.keys import KeyService
from analytics_hub.cli.options import ConfigFile, DataDir, settings_from
from analytics_hub.cli.serve_cmd import Host, OtlpGrpcPort, OtlpHttpPort, Port, extra_listeners
from analytics_hub.client import HubClient
from analytics_hub.demo import DemoGenerator, DemoRunner, default_window, describe_incidents
from analytics_hub.server.stores import open_control_store
from analytics_hub.settings import Settings

if TYPE_CHECKING:
    from analytics_hub.server.runner import HubServer

log = structlog.get_logger(__name__)


def _demo_state(
    settings: Settings, tenants: tuple[str, ...], backfill_days: float
) -> dict[str, Any]:
    """Keys per tenant and the backfill start, created on the first run."""
    path = settings.data_dir / "demo.json"
    control = open_control_store(settings)
    try:
        keys = KeyService(control)
        if path.exists():
            state: dict[str, Any] = json.loads(path.read_text())
            try:
                for key in state["ingest_keys"].values():
                    keys.authenticate(key)
                keys.authenticate(state["user_key"])
                return state
            except Exception:
                log.warning("demo keys in demo.json are no longer valid; creating new ones")
        start, _ = default_window(datetime.now(UTC), backfill_days)
        state = {
            "ingest_keys": {t: keys.create(t, "ingest", "demo generator")[1] for t in tenants},
            "user_key": keys.create(tenants[0], "admin", "demo user")[1],
            "backfill_start": start.isoformat() if backfill_days > 0 else None,
            "backfilled": False,
        }
    finally:
        control.close()
    _save(path, state)
    return state


def _save(path: Path, state: dict[str, Any]) -> None:
    path.write_text(json.dumps(state, indent=2))
    os.chmod(path, 0o600)


def demo(
    data_dir: DataDir = None,
    host: Host = None,
    port: Port = None,
    config: ConfigFile = None,
    rate: Annotated[float, typer.Option(help="Mean live events per second")] = 5.0,
    backfill_days: Annotated[float, typer.Option(help="Days of history on the first run")] = 7.0,
    seed: Annotated[int, typer.Option(help="Seed of the generator")] = 42,
    otlp_grpc_port: OtlpGrpcPort = None,
    otlp_http_port: OtlpHttpPort = None,
) -> None:
    """Start the hub with the demo traffic generator (see docs/demo.md)."""
    from analytics_hub.server.runner import HubServer  # only the serving commands need it

    settings = settings_from(
        data_dir,
        config,
        host=host,
        port=port,
        otlp_grpc_port=otlp_grpc_port,
        otlp_http_port=otlp_http_port,
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    state = _demo_state(settings, DemoGenerator(seed).tenant_names, backfill_days)
    # Incidents are scheduled from the first run's backfill start, on every run.
    anchor = state["backfill_start"]
    generator = DemoGenerator(
        seed, rate_per_s=rate, start=datetime.fromisoformat(anchor) if anchor else None
    )
    server = HubServer(settings)
    first_run = not state["backfilled"] and state["backfill_start"] is not None
    runner = DemoRunner(
        lambda tenant: HubClient(server.url, state["ingest_keys"][tenant]),
        generator,
        backfill=timedelta(days=backfill_days) if first_run else None,
    )

    def run_generator() -> None:
        try:
            runner.run()
        except Exception as exc:
            log.error("demo generator stopped", error=str(exc))

    def started(s: HubServer) -> None:
        tenant = generator.tenant_names[0]
        lines = [
            "",
            f"LLM Analytics Hub (demo) listening on {s.url}",
            f"  interactive API docs: {s.url}/docs",
            *extra_listeners(s.url, settings),
            f"  API key for tenant {tenant!r} (admin): {state['user_key']}",
            f"  data directory: {settings.data_dir.resolve()}",
        ]
        if state["backfill_start"]:
            start = datetime.fromisoformat(state["backfill_start"])
            lines.append(
                "  backfilling history, then live traffic" if first_run else "  live traffic"
            )
            lines.append("  injected incidents to find (see docs/demo.md):")
            for incident in describe_incidents(start):
                when = incident.start.strftime("%Y-%m-%d %H:%M UTC")
                lines.append(
                    f"   - {incident.title}: tenant {incident.tenant}, asset {incident.asset_id}"
                    f"{', model ' + incident.model_id if incident.model_id else ''}, from {when}"
                )
        typer.echo("\n".join(lines) + "\n", err=True)
        threading.Thread(target=run_generator, name="demo-generator", daemon=True).start()

    def exit_on_signal(signum: int, _frame: object) -> None:
        # uvicorn shuts down gracefully, then raises the signal again: exit by exception
        # rather than by SIGTERM's default action, so that the state below is saved.
        raise SystemExit(128 + signum)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, exit_on_signal)
    try:
        server.run(on_started=started)
    finally:
        runner.stop()
        if first_run and runner.stats.backfilled:
            state["backfilled"] = True
            _save(settings.data_dir / "demo.json", state)


__all__ = ["demo"]
