"""Sustained OTLP/HTTP protobuf ingest of LLM spans into a real embedded hub.

Client processes post ``ExportTraceServiceRequest`` bodies of ``--batch`` (500) GenAI
spans (``gen_ai.*`` attributes as the OpenTelemetry GenAI instrumentations emit them,
under one resource with ``service.name``) to ``/v1/traces`` of an ``analytics-hub serve``
subprocess over keep-alive HTTP for ``--seconds``. Each body is encoded once; per request
a marker in every trace id is rewritten so that every span is new (the hub derives event
ids from trace and span ids). Reported: spans/s acknowledged, spans persisted (counted
by a query after the run), request latency percentiles, the server's peak RSS, and, as
the reference in the same run, the hub's own REST ingest of the same number of events
per request (the JSON event path the OTLP path joins after mapping). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from analytics_hub.testing.hubprocess import HubProcess, create_key
from ingest import client_proc, peak_rss_mb, post_for  # bench/ingest.py: REST reference
from loadwindow import Watch  # bench/loadwindow.py
from otlp_shapes import MARK, make_body  # the spans, shared with bench/otlp_mapping.py


def otlp_client(
    url: str, key: str, seconds: float, threads: int, worker: int, out: Any, batch: int
) -> None:
    """One client process posting OTLP/HTTP protobuf span batches."""
    templates = [make_body(batch, worker * 16 + t) for t in range(4)]

    def body(tid: int, n: int) -> bytes:
        marker = ((worker << 28) | (tid << 24) | n).to_bytes(8, "big")
        return templates[n % len(templates)].replace(MARK, marker)

    def accepted(status: int, data: bytes) -> int:
        # a 200 without partial_success means every span was accepted
        return batch if status == 200 and not data else 0

    out.put(
        post_for(url, key, seconds, threads, "/v1/traces", "application/x-protobuf", body, accepted)
    )


def load(target: Any, url: str, key: str, args: argparse.Namespace) -> tuple[list[Any], float]:
    q: mp.Queue[Any] = mp.Queue()
    procs = [
        mp.Process(target=target, args=(url, key, args.seconds, args.threads, w, q, args.batch))
        for w in range(args.clients)
    ]
    began = time.perf_counter()
    for p in procs:
        p.start()
    results = [r for _ in procs for r in q.get()]
    for p in procs:
        p.join()
    return results, time.perf_counter() - began


def stored_count(url: str, key: str) -> int:
    now = datetime.now(UTC)
    query = {
        "time_range": {
            "from": (now - timedelta(hours=1)).isoformat(),
            "to": (now + timedelta(minutes=5)).isoformat(),
        },
        "aggregates": [{"fn": "count", "as": "n"}],
    }
    r = httpx.post(
        f"{url}/api/v1/query", json=query, headers={"Authorization": f"Bearer {key}"}, timeout=60
    )
    r.raise_for_status()
    return int(r.json()["rows"][0]["n"])


def one_run(args: argparse.Namespace, target: Any) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "hub"
        data_dir.mkdir()
        ingest_key = create_key(data_dir, "bench", "ingest")
        read_key = create_key(data_dir, "bench", "read")
        hub = HubProcess(data_dir=data_dir, env={"HUB_LOG_LEVEL": "warning"}).start()
        assert hub.proc is not None
        try:
            watch = Watch(hub.url, hub.proc.pid, args.seconds)
            results, wall = load(target, hub.url, ingest_key, args)
            during_load = watch.summary()
            rss = peak_rss_mb(hub.proc.pid)
            acked = sum(r[2] for r in results)
            # wait=visible is not used by the clients: persisted is counted after the run
            deadline = time.monotonic() + 60
            stored = stored_count(hub.url, read_key)
            while stored < acked and time.monotonic() < deadline:
                time.sleep(0.5)
                stored = stored_count(hub.url, read_key)
        finally:
            hub.stop()
    lat = sorted(r[1] for r in results if r[0] in (200, 202))
    statuses: dict[str, int] = {}
    for r in results:
        statuses[str(r[0])] = statuses.get(str(r[0]), 0) + 1
    return {
        "acknowledged": acked,
        "per_s": acked / wall,
        "persisted": stored,
        "latency_p50_ms": lat[len(lat) // 2] * 1000 if lat else None,
        "latency_p99_ms": lat[int(len(lat) * 0.99)] * 1000 if lat else None,
        "peak_rss_mb": rss,
        "statuses": statuses,
        "during_load": during_load,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--clients", type=int, default=2, help="client processes")
    ap.add_argument("--threads", type=int, default=4, help="connections per client process")
    ap.add_argument("--batch", type=int, default=500, help="spans per request")
    args = ap.parse_args()

    otlp = [one_run(args, otlp_client) for _ in range(args.runs)]
    rest = [one_run(args, client_proc) for _ in range(args.runs)]

    def med(runs: list[dict[str, Any]], name: str) -> float:
        return float(statistics.median(r[name] for r in runs))

    rate, ref = med(otlp, "per_s"), med(rest, "per_s")
    print(
        json.dumps(
            {
                "benchmark": "otlp_http_protobuf",
                "duration_s": args.seconds,
                "runs": args.runs,
                "spans_per_request": args.batch,
                "client_processes": args.clients,
                "connections": args.clients * args.threads,
                "acknowledged_spans_per_s": round(rate),
                "persisted_equals_acknowledged": all(
                    r["persisted"] >= r["acknowledged"] for r in otlp
                ),
                "request_latency_p50_ms": round(med(otlp, "latency_p50_ms"), 1),
                "request_latency_p99_ms": round(med(otlp, "latency_p99_ms"), 1),
                "server_peak_rss_mb": round(max(r["peak_rss_mb"] for r in otlp), 1),
                "reference_rest_json_events_per_s": round(ref),
                "ratio_otlp_to_rest": round(rate / ref, 3),
                "per_run": otlp,
                "targets": {"spans_per_s": 50_000, "rss_mb": 1024},
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
