"""The distributed hub end to end: ingest processes → JetStream → writers → PostgreSQL.

Starts ``analytics-hub serve --role ingest`` and ``--role writer`` subprocesses on a fresh
PostgreSQL database and JetStream stream (the servers at their standard ports, or
``--postgres-url`` / ``--nats-url``), then client processes post 1,000-event batches to
the ingest processes for ``--seconds``. Reported: events/s acknowledged and stored over
the load window, the consumer lag (events acknowledged by ingest but not yet stored,
sampled every second from the processes' metrics), how long the writers took to drain
after the load stopped, and in the same run the reference: raw PostgreSQL ``COPY`` of the
same kind of events into the events table. Prints one JSON object.

Every process, PostgreSQL and NATS share this machine's cores: the figure is for the
whole layout on one machine, not for one role. So each run also reports the cores each
part used during the load (ingest, writers, clients, every ``postgres`` and
``nats-server`` process) and how busy the machine was, and the reference reports
PostgreSQL's own CPU per 1,000 rows of the raw COPY.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from analytics_hub.testing import nats as natstest
from analytics_hub.testing import postgres as pgtest
from analytics_hub.testing.layout import HubLayout, metric_value
from ingest import client_proc  # bench/ingest.py: the same clients as the embedded bench
from loadwindow import CpuReading, cpu_summary, read_cpu
from postgres_write import make_batches, raw_copy

ACCEPTED = "hub_ingest_events_accepted_total"
STORED = "hub_store_events_inserted_total"
COMMITS = "hub_store_commit_events_count"
COMMITTED = "hub_store_commit_events_sum"
COMMIT_SECONDS = "hub_store_commit_seconds_sum"


def sample_lag(
    layout: HubLayout, stop: threading.Event, out: list[tuple[float, float, float]]
) -> None:
    """Every second: (time, events accepted by ingest, events stored by writers)."""
    ingest = [n for n in layout.nodes if n.env.get("HUB_ROLE") == "ingest"]
    writers = [n for n in layout.nodes if n.env.get("HUB_ROLE") == "writer"]
    while not stop.is_set():
        try:
            accepted = sum(metric_value(n, ACCEPTED) for n in ingest)
            stored = sum(metric_value(n, STORED) for n in writers)
            out.append((time.perf_counter(), accepted, stored))
        except Exception:
            pass
        stop.wait(1.0)


def run_layout(args: argparse.Namespace, db_url: str, tmp: Path) -> dict[str, Any]:
    stream, prefix = natstest.unique_names("bench")
    env = {"HUB_LOG_LEVEL": "warning", "HUB_ANOMALY_ENABLED": "false"}
    layout = HubLayout(tmp, db_url, args.nats_url, stream, prefix, env=env)
    try:
        with layout:
            roles = ["writer"] * args.writers + ["ingest"] * args.ingest_nodes
            ingest = layout.start(*roles)[args.writers :]
            key = layout.key("bench", "ingest")
            samples: list[tuple[float, float, float]] = []
            stop = threading.Event()
            sampler = threading.Thread(target=sample_lag, args=(layout, stop, samples))
            sampler.start()
            q: mp.Queue[Any] = mp.Queue()
            procs = [
                mp.Process(
                    target=client_proc,
                    args=(ingest[w % len(ingest)].url, key, args.seconds, args.threads, w, q, 1000),
                )
                for w in range(args.clients)
            ]
            began = time.perf_counter()
            for p in procs:
                p.start()
            pids = {
                role: [n.proc.pid for n in layout.nodes if n.env.get("HUB_ROLE") == role and n.proc]
                for role in ("ingest", "writer")
            }
            pids["clients"] = [p.pid for p in procs if p.pid is not None]
            readings: list[CpuReading] = []
            watcher = threading.Thread(
                target=watch_cpu, args=(pids, began, args.seconds, readings), daemon=True
            )
            watcher.start()
            results = [r for _ in procs for r in q.get()]
            for p in procs:
                p.join()
            load_end = time.perf_counter()
            acked = sum(r[2] for r in results if r[0] == 202)
            # Drain: wait until the writers stored everything acknowledged.
            deadline = load_end + 300
            while samples and samples[-1][2] < acked and time.perf_counter() < deadline:
                time.sleep(0.5)
            drained = time.perf_counter()
            stop.set()
            sampler.join()
            commits = commit_sizes(layout)
    finally:
        natstest.delete_streams(args.nats_url, stream, f"{stream}_DEAD")

    load = [s for s in samples if began <= s[0] <= load_end]
    stored_in_load = (load[-1][2] - load[0][2]) / (load[-1][0] - load[0][0]) if len(load) > 1 else 0
    lags = [s[1] - s[2] for s in load]
    statuses: dict[str, int] = {}
    for r in results:
        statuses[str(r[0])] = statuses.get(str(r[0]), 0) + 1
    stored_total = samples[-1][2] if samples else 0
    return {
        "acknowledged_events": acked,
        "acknowledged_events_per_s": round(acked / (load_end - began)),
        "stored_events_per_s_during_load": round(stored_in_load),
        "stored_events_per_s_until_drained": round(stored_total / (drained - began)),
        "stored_events": int(stored_total),
        "consumer_lag_events_max": int(max(lags)) if lags else None,
        "consumer_lag_events_median": int(statistics.median(lags)) if lags else None,
        "drain_after_load_s": round(drained - load_end, 1),
        "responses_by_status": statuses,
        **commits,
        "cpu_during_load": cpu_summary(*readings) if len(readings) == 2 else None,
    }


def commit_sizes(layout: HubLayout) -> dict[str, float]:
    """The writers' group commits over the run: how many, their mean size and duration."""
    writers = [n for n in layout.nodes if n.env.get("HUB_ROLE") == "writer"]
    count = sum(metric_value(n, COMMITS) for n in writers)
    events = sum(metric_value(n, COMMITTED) for n in writers)
    seconds = sum(metric_value(n, COMMIT_SECONDS) for n in writers)
    return {
        "writer_commits": int(count),
        "writer_events_per_commit_mean": round(events / count) if count else 0,
        "writer_commit_ms_mean": round(seconds * 1000 / count, 1) if count else 0.0,
    }


SERVERS = {"postgresql": "postgres", "nats": "nats-server"}


def watch_cpu(
    pids: dict[str, list[int]], began: float, seconds: float, out: list[CpuReading]
) -> None:
    """Read the layout's CPU 3 s into the load and 2 s before its end."""
    for at in (began + 3.0, began + seconds - 2.0):
        time.sleep(max(0.0, at - time.perf_counter()))
        out.append(read_cpu(pids, SERVERS))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--runs", type=int, default=3)
    # One of each: on one shared 2-core machine, fewer processes cost less per event.
    ap.add_argument("--ingest-nodes", type=int, default=1)
    ap.add_argument("--writers", type=int, default=1)
    ap.add_argument("--clients", type=int, default=2, help="client processes")
    ap.add_argument("--threads", type=int, default=4, help="connections per client process")
    ap.add_argument(
        "--postgres-url", default=os.environ.get("HUB_TEST_POSTGRES_URL", pgtest.DEFAULT_TEST_URL)
    )
    ap.add_argument(
        "--nats-url", default=os.environ.get("HUB_TEST_NATS_URL", natstest.DEFAULT_TEST_URL)
    )
    args = ap.parse_args()

    runs = []
    for _ in range(args.runs):
        with (
            tempfile.TemporaryDirectory() as tmp,
            pgtest.temporary_database(args.postgres_url, prefix="hub_bench_") as db_url,
        ):
            runs.append(run_layout(args, db_url, Path(tmp)))
    with pgtest.temporary_database(args.postgres_url, prefix="hub_bench_") as db_url:
        batches = make_batches(10, 50_000, 100_000)
        before = read_cpu({}, SERVERS)
        seconds = raw_copy(db_url, batches)
        after = read_cpu({}, SERVERS)
    reference = 500_000 / sum(seconds)
    # PostgreSQL's CPU (every postgres process) per 1,000 rows of the raw COPY
    pg_cpu_s = after.groups["postgresql"] - before.groups["postgresql"]

    def median(name: str) -> float:
        return float(statistics.median(r[name] for r in runs))

    stored = median("stored_events_per_s_during_load")
    print(
        json.dumps(
            {
                "benchmark": "distributed",
                "duration_s": args.seconds,
                "runs": args.runs,
                "ingest_nodes": args.ingest_nodes,
                "writers": args.writers,
                "client_processes": args.clients,
                "connections": args.clients * args.threads,
                "acknowledged_events_per_s": round(median("acknowledged_events_per_s")),
                "stored_events_per_s": round(stored),
                "stored_events_per_s_until_drained": round(
                    median("stored_events_per_s_until_drained")
                ),
                "consumer_lag_events_max": round(median("consumer_lag_events_max")),
                "drain_after_load_s": median("drain_after_load_s"),
                "reference_postgres_copy_rows_per_s": round(reference),
                "ratio_stored_to_raw_copy": round(stored / reference, 3),
                "reference_postgres_cpu_ms_per_1k_rows": round(pg_cpu_s * 1000 / 500, 2),
                "per_run": runs,
                "target_stored_events_per_s": 50_000,
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
