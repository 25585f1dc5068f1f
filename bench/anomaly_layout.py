"""Streaming anomaly detection in the distributed layout, each role its own process.

Where ``bench/anomaly_stream.py`` drives the scorer in its own process on a stepped
clock, this starts the real thing on the real clock: ``analytics-hub serve`` processes
with the roles ``ingest``, ``writer``, ``analytics`` and ``api`` on a fresh PostgreSQL
database and JetStream stream (the servers at their standard ports, or
``--postgres-url`` / ``--nats-url``). ``--history-hours`` of model calls for ``--series``
series of one tenant are written into the store first (so that every series has a
baseline), then ``--minutes`` live minutes are posted to the ingest process over HTTP as
they happen (each quarter of a minute's calls once that quarter is over, the last just
before the minute ends). A spike (ten times the calls, half of them failing) is planted
in a few series each minute so that there is something to find.

A client of the api process's live feed (``GET /api/v1/stream`` with ``anomalies=true``)
records when each minute's anomalies arrive. The analytics process scores the minute
after the grace (0.5 s), having waited at the NATS barrier for the writer; its anomalies
reach the api process over core NATS. Figures: ``end_to_published_*_ms`` from the
minute's end until the last of its anomalies arrived at the client (what a user
watching sees), and ``record_latency_*_ms`` as the analytics process stamped the records
(minute end until they were made). Reference in the same run: the tick's one rollup
query (``series_minutes``) timed from this process after each minute. Every process,
PostgreSQL and NATS share this machine's cores. Prints one JSON object.

    python bench/anomaly_layout.py [--series 100] [--minutes 8]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
from websockets.sync.client import connect

from analytics_hub.store.postgres import PostgresStore
from analytics_hub.testing import nats as natstest
from analytics_hub.testing import postgres as pgtest
from analytics_hub.testing.envelopes import llm_call
from analytics_hub.testing.layout import HubLayout
from analytics_hub.testing.rows import make_minute_rows

TENANT = "bench"
MINUTE = timedelta(minutes=1)
QUARTERS = 4


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def _assets(n: int) -> list[str]:
    return [f"asset-{k:04d}" for k in range(n)]


def write_history(store: PostgresStore, assets: list[str], start: datetime, minutes: int) -> None:
    """Model calls of every series over ``minutes`` minutes from ``start``: a daily wave."""
    rng = np.random.default_rng(0)
    for k, asset in enumerate(assets):
        level = 6 + 2 * np.sin(np.arange(minutes) * 2 * math.pi / 1440)
        counts = [int(c) for c in rng.poisson(level)]
        store.write_events(
            make_minute_rows(counts, start=start, tenant=TENANT, asset_id=asset, seed=k)
        )


def minute_events(assets: list[str], minute: datetime, spikes: set[int], seed: int) -> pa.Table:
    """One minute of every series, as stored rows (the wire events are made from them)."""
    tables = [
        make_minute_rows(
            [60 if k in spikes else 6],
            start=minute,
            tenant=TENANT,
            asset_id=asset,
            seed=seed * 100_000 + k,
            error_rate=0.5 if k in spikes else 0.02,
        )
        for k, asset in enumerate(assets)
    ]
    return pa.concat_tables(tables)


def wire_events(table: pa.Table) -> list[tuple[datetime, dict[str, Any]]]:
    """(timestamp, wire event) of each row: a model call carrying the row's figures."""
    rows = table.select(
        ["ts", "event_id", "asset_id", "model_id", "provider", "input_tokens",
         "output_tokens", "latency_ms", "cost_usd", "status"]
    ).to_pylist()  # fmt: skip
    out = []
    for row in rows:
        ts = row["ts"].replace(tzinfo=UTC)
        event = llm_call(
            timestamp=ts,
            event_id=str(row["event_id"]),
            asset_id=row["asset_id"],
            model_id=row["model_id"],
            provider=row["provider"],
            input_tokens=row["input_tokens"],
            output_tokens=row["output_tokens"],
            latency_ms=row["latency_ms"],
            cost_usd=row["cost_usd"],
            status=row["status"],
        )
        out.append((ts, event))
    return out


def sleep_until(moment: datetime) -> None:
    left = (moment - datetime.now(UTC)).total_seconds()
    if left > 0:
        time.sleep(left)


def listen(
    url: str, key: str, stop: threading.Event, out: list[tuple[float, dict[str, Any]]]
) -> None:
    """Record (wall-clock arrival, anomaly) of every anomaly the live feed pushes."""
    ws_url = url.replace("http://", "ws://") + "/api/v1/stream?anomalies=true&events=false"
    with connect(ws_url, additional_headers={"Authorization": f"Bearer {key}"}) as ws:
        while not stop.is_set():
            try:
                raw = ws.recv(timeout=0.5)
            except TimeoutError:
                continue
            arrived = time.time()
            message = json.loads(raw)
            if message.get("type") == "anomalies":
                out.extend((arrived, a) for a in message["anomalies"])


def post_events(client: httpx.Client, key: str, events: list[dict[str, Any]]) -> None:
    for i in range(0, len(events), 500):
        r = client.post(
            "/api/v1/events",
            json=events[i : i + 500],
            headers={"Authorization": f"Bearer {key}"},
        )
        if r.status_code != 202 or r.json()["rejected"]:
            raise SystemExit(f"ingest refused the minute's events: {r.status_code} {r.text[:300]}")


def run(args: argparse.Namespace, db_url: str, tmp: Path) -> dict[str, Any]:
    assets = _assets(args.series)
    history = int(args.history_hours * 60)
    store = PostgresStore(db_url)
    store.migrate()
    # The live minutes start a little ahead, so that the history (written first, up to
    # them) and the processes' start-up are done before the first one begins.
    first = (datetime.now(UTC) + timedelta(seconds=args.setup_seconds)).replace(
        second=0, microsecond=0
    ) + MINUTE
    t0 = time.perf_counter()
    write_history(store, assets, first - history * MINUTE, history)
    load_s = time.perf_counter() - t0

    stream, prefix = natstest.unique_names("benchal")
    env = {"HUB_LOG_LEVEL": args.log_level}
    layout = HubLayout(tmp, db_url, args.nats_url, stream, prefix, env=env)
    arrivals: list[tuple[float, dict[str, Any]]] = []
    reference: list[float] = []
    stop = threading.Event()
    try:
        with layout:
            _, ingest, api, _ = layout.start("writer", "ingest", "api", "analytics")
            if datetime.now(UTC) > first:
                raise SystemExit(
                    f"set-up took longer than --setup-seconds {args.setup_seconds:g}: raise it"
                )
            ingest_key = layout.key(TENANT, "ingest")
            read_key = layout.key(TENANT, "read")
            listener = threading.Thread(target=listen, args=(api.url, read_key, stop, arrivals))
            listener.start()
            with httpx.Client(base_url=ingest.url, timeout=30) as client:
                for m in range(args.minutes):
                    minute = first + m * MINUTE
                    spikes = {(m * 7 + j) % args.series for j in range(max(1, args.series // 20))}
                    events = wire_events(minute_events(assets, minute, spikes, seed=m + 1))
                    for q in range(QUARTERS):
                        lo = minute + q * MINUTE / QUARTERS
                        hi = lo + MINUTE / QUARTERS
                        part = [e for ts, e in events if lo <= ts < hi]
                        # each quarter once it is over; the last just before the minute ends
                        sleep_until(hi - timedelta(seconds=0.5) if q == QUARTERS - 1 else hi)
                        post_events(client, ingest_key, part)
                    sleep_until(minute + MINUTE + timedelta(seconds=args.wait_after))
                    began = time.perf_counter()
                    store.series_minutes(minute, minute + MINUTE)
                    reference.append((time.perf_counter() - began) * 1000)
            sleep_until(first + args.minutes * MINUTE + timedelta(seconds=10))
            stop.set()
            listener.join()
            stored = store.fetch("SELECT count(*) FROM anomalies", []).rows[0][0]
    finally:
        stop.set()
        natstest.delete_streams(args.nats_url, stream, f"{stream}_DEAD")
        store.close()

    by_minute: dict[str, list[float]] = {}
    record_latency: list[float] = []
    for arrived, anomaly in arrivals:
        end = datetime.fromisoformat(anomaly["minute"].replace("Z", "+00:00")) + MINUTE
        by_minute.setdefault(anomaly["minute"], []).append((arrived - end.timestamp()) * 1000)
        if anomaly.get("latency_ms") is not None:
            record_latency.append(float(anomaly["latency_ms"]))
    live = [(first + m * MINUTE).strftime("%Y-%m-%dT%H:%M:%SZ") for m in range(args.minutes)]
    # the first live minute primes the series (scored from the next one): no anomalies
    last_arrival = [max(by_minute[m]) for m in live if m in by_minute]
    return {
        "minutes_with_anomalies": len(last_arrival),
        "anomalies_published": len(arrivals),
        "anomalies_stored": int(stored),
        "end_to_published_each_ms": [round(v) for v in last_arrival],
        "record_latency": record_latency,
        "reference_ms": reference,
        "history_load_s": round(load_s, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--series", type=int, default=100)
    ap.add_argument("--history-hours", type=float, default=28.0)
    ap.add_argument("--minutes", type=int, default=8)
    ap.add_argument(
        "--setup-seconds",
        type=float,
        default=90.0,
        help="how long writing the history and starting the processes may take",
    )
    ap.add_argument(
        "--wait-after",
        type=float,
        default=3.0,
        help="seconds after a minute's end before the reference query runs",
    )
    ap.add_argument("--logs", type=Path, help="keep the processes' logs in this folder")
    ap.add_argument("--log-level", default="warning", help="the processes' HUB_LOG_LEVEL")
    ap.add_argument(
        "--postgres-url", default=os.environ.get("HUB_TEST_POSTGRES_URL", pgtest.DEFAULT_TEST_URL)
    )
    ap.add_argument(
        "--nats-url", default=os.environ.get("HUB_TEST_NATS_URL", natstest.DEFAULT_TEST_URL)
    )
    args = ap.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        pgtest.temporary_database(args.postgres_url, prefix="hub_bench_") as db_url,
    ):
        result = run(args, db_url, args.logs or Path(tmp))
    each = result["end_to_published_each_ms"]
    if not each:
        raise SystemExit(f"no anomaly reached the live feed: {json.dumps(result)}")
    latency = result.pop("record_latency")
    reference = result.pop("reference_ms")
    print(
        json.dumps(
            {
                "benchmark": "anomaly_layout",
                "layout": "ingest, writer, analytics, api: one process each; NATS, PostgreSQL",
                "series": args.series,
                "minutes": args.minutes,
                "end_to_published_median_ms": round(statistics.median(each), 1),
                "end_to_published_p95_ms": round(_p95(each), 1),
                "end_to_published_max_ms": round(max(each), 1),
                "record_latency_median_ms": round(statistics.median(latency), 1)
                if latency
                else None,
                "record_latency_p95_ms": round(_p95(latency), 1) if latency else None,
                "rollup_query_median_ms": round(statistics.median(reference), 1),
                "rollup_query_p95_ms": round(_p95(reference), 1),
                **result,
                "target_ms": 1000,
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
