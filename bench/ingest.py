"""Sustained ingest over HTTP into a real embedded hub, against DuckDB's raw append speed.

Client processes post 1,000-event batches of realistic model-call events over keep-alive
HTTP to an ``analytics-hub serve`` subprocess for ``--seconds``. Every batch carries fresh
event ids (the id prefix of a pre-encoded body is rewritten per request, so the clients
spend their CPU on sending, not on encoding). Reported: acknowledged events/s, request
latency percentiles, the server's peak RSS, how soon an acknowledged event is visible to
queries, where the time went during the load (bench/loadwindow.py), and the reference:
DuckDB appending the same normalised events from Arrow in commits of the same size.
``--rate`` paces the clients instead (events/s offered in all), so that the server's CPU
per event (``during_load``) is read below saturation: with it, the cores a target rate
needs. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec

from analytics_hub.testing.envelopes import realistic_calls
from analytics_hub.testing.hubprocess import HubProcess, create_key
from loadwindow import Watch, process_tree  # bench/loadwindow.py

MARK = b"fffffffe"  # first 8 hex digits of every event id in a template body


def make_templates(n_templates: int, batch: int) -> list[bytes]:
    """Pre-encoded bodies whose event ids start with MARK, to be rewritten per request."""
    bodies = []
    end = datetime.now(UTC) + timedelta(seconds=30)
    for t in range(n_templates):
        events = realistic_calls(batch, seed=t, end=end, span=timedelta(minutes=2))
        for i, e in enumerate(events):
            e["event_id"] = f"{MARK.decode()}-{t:04x}-4000-8000-{i:012x}"
        bodies.append(msgspec.json.encode(events))
    return bodies


def client_proc(
    url: str,
    key: str,
    seconds: float,
    threads: int,
    worker: int,
    out: Any,
    batch: int,
    interval: float = 0.0,
) -> None:
    """One client process posting JSON event batches (the REST path); with ``interval``,
    each connection sends at most one request per ``interval`` seconds."""
    templates = make_templates(4, batch)

    def body(tid: int, n: int) -> bytes:
        prefix = f"{(worker << 24 | tid << 20 | n) & 0xFFFFFFFF:08x}".encode()
        return templates[n % len(templates)].replace(MARK, prefix)

    def accepted(status: int, data: bytes) -> int:
        return int(json.loads(data)["accepted"]) if status == 202 else 0

    path, content_type = "/api/v1/events", "application/json"
    out.put(post_for(url, key, seconds, threads, path, content_type, body, accepted, interval))


def post_for(
    url: str,
    key: str,
    seconds: float,
    threads: int,
    path: str,
    content_type: str,
    body: Callable[[int, int], bytes],
    accepted: Callable[[int, bytes], int],
    interval: float = 0.0,
) -> list[tuple[int, float, int]]:
    """Post ``body(thread, n)`` to ``path`` from ``threads`` keep-alive connections for
    ``seconds``; (status, latency s, items accepted) of every request. With ``interval``
    each connection starts a request every ``interval`` seconds at most (a paced load,
    below what the server could take); 0 sends as fast as the answers come."""
    host, port = url.removeprefix("http://").split(":")
    results: list[tuple[int, float, int]] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    counter = [0]

    def run(tid: int) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": content_type}
        local: list[tuple[int, float, int]] = []
        next_at = time.monotonic() + interval * tid / threads  # staggered connections
        while time.monotonic() < deadline:
            if interval:
                time.sleep(max(0.0, next_at - time.monotonic()))
                next_at += interval
            with lock:
                counter[0] += 1
                n = counter[0]
            data = body(tid, n)
            t0 = time.perf_counter()
            conn.request("POST", path, body=data, headers=headers)
            resp = conn.getresponse()
            answer = resp.read()
            dt = time.perf_counter() - t0
            local.append((resp.status, dt, accepted(resp.status, answer)))
            if resp.status in (429, 503):
                time.sleep(float(resp.getheader("Retry-After") or 1) / 10)
        conn.close()
        with lock:
            results.extend(local)

    ts = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return results


def peak_rss_mb(pid: int) -> float:
    """The peak RSS of the server: of its process and of its live descendants (OTLP
    preparing processes) added up, an upper bound (their peaks may not coincide, and
    pages a forked process shares with its parent count twice)."""
    total = 0.0
    for member in process_tree(pid):
        try:
            lines = Path(f"/proc/{member}/status").read_text().splitlines()
        except OSError:  # gone meanwhile
            continue
        total += sum(int(ln.split()[1]) / 1024 for ln in lines if ln.startswith("VmHWM:"))
    return total


def visibility_probe(
    url: str, ingest_key: str, read_key: str, stop: threading.Event, pause: float = 0.25
) -> list[float]:
    """Milliseconds from a 202 until the event is counted by a query (rollup-eligible),
    one probe after another (``pause`` apart) until ``stop`` is set; a probe answered
    429 is not acknowledged, so it is not counted."""
    out = []
    samples = 0
    with httpx.Client(base_url=url, timeout=30) as c:
        while not stop.is_set():
            samples += 1
            asset = f"probe-{uuid.uuid4().hex[:10]}"
            ev = realistic_calls(1, seed=samples)[0]
            ev["asset_id"] = asset
            ev["event_id"] = str(uuid.uuid4())
            ev["timestamp"] = datetime.now(UTC).isoformat()
            r = c.post(
                "/api/v1/events", json=[ev], headers={"Authorization": f"Bearer {ingest_key}"}
            )
            acked = time.perf_counter()
            if r.status_code != 202:
                continue
            now = datetime.now(UTC)
            q = {
                "time_range": {
                    "from": (now - timedelta(hours=2)).isoformat(),
                    "to": (now + timedelta(minutes=5)).isoformat(),
                },
                "filters": [{"field": "asset_id", "op": "eq", "value": asset}],
                "aggregates": [{"fn": "count", "as": "n"}],
            }
            while True:
                rows = c.post(
                    "/api/v1/query", json=q, headers={"Authorization": f"Bearer {read_key}"}
                ).json()["rows"]
                if rows and rows[0]["n"] == 1:
                    out.append((time.perf_counter() - acked) * 1000)
                    break
                if time.perf_counter() - acked > 10:
                    out.append(float("inf"))
                    break
            time.sleep(pause)
    return out


def reference_append(bodies: list[bytes], commit_events: int) -> float:
    """DuckDB appending the same normalised events from Arrow: rows/s."""
    import duckdb
    import pyarrow as pa

    from analytics_hub.events import Normalizer

    norm = Normalizer(currency_rates={"USD": 1.0})
    now = datetime.now(UTC)
    tables = [norm.decode_json(b, tenant_id="bench", received_at=now).table for b in bodies]
    big = pa.concat_tables(tables)
    with tempfile.TemporaryDirectory() as d:
        con = duckdb.connect(str(Path(d) / "ref.duckdb"))
        con.execute("SET memory_limit='512MB'")
        con.execute("CREATE TABLE events AS SELECT * FROM big LIMIT 0")
        rows = 0
        t0 = time.perf_counter()
        for _ in range(3):
            for off in range(0, big.num_rows, commit_events):
                chunk = big.slice(off, commit_events)
                con.execute("BEGIN")
                con.execute("INSERT INTO events SELECT * FROM chunk")
                con.execute("COMMIT")
                rows += chunk.num_rows
        elapsed = time.perf_counter() - t0
        con.close()
    return rows / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--clients", type=int, default=2, help="client processes")
    ap.add_argument("--threads", type=int, default=4, help="connections per client process")
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="offered events/s in all (a paced load, to read the server's CPU per event "
        "below saturation); 0 (default) sends as fast as the server answers",
    )
    args = ap.parse_args()
    connections = args.clients * args.threads
    interval = connections * args.batch / args.rate if args.rate else 0.0

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "hub"
        data_dir.mkdir()
        ingest_key = create_key(data_dir, "bench", "ingest")
        read_key = create_key(data_dir, "bench", "read")
        hub = HubProcess(data_dir=data_dir, env={"HUB_LOG_LEVEL": "warning"}).start()
        assert hub.proc is not None
        pid = hub.proc.pid
        try:
            q: mp.Queue[Any] = mp.Queue()
            procs = [
                mp.Process(
                    target=client_proc,
                    args=(
                        hub.url,
                        ingest_key,
                        args.seconds,
                        args.threads,
                        w,
                        q,
                        args.batch,
                        interval,
                    ),
                )
                for w in range(args.clients)
            ]
            t0 = time.perf_counter()
            for p in procs:
                p.start()
            watch = Watch(hub.url, pid, args.seconds)
            probe: list[float] = []
            load_over = threading.Event()
            prober = threading.Thread(
                target=lambda: probe.extend(
                    visibility_probe(hub.url, ingest_key, read_key, load_over)
                )
            )
            time.sleep(min(5.0, args.seconds / 4))
            prober.start()
            results = [r for _ in procs for r in q.get()]
            load_over.set()
            for p in procs:
                p.join()
            wall = time.perf_counter() - t0
            prober.join()
            during_load = watch.summary()
            rss = peak_rss_mb(pid)
        finally:
            hub.stop()

    ok = [r for r in results if r[0] == 202]
    lat = sorted(r[1] for r in ok)
    accepted = sum(r[2] for r in ok)
    rate = accepted / wall
    ref = reference_append(make_templates(20, args.batch), 50_000)
    statuses: dict[str, int] = {}
    for r in results:
        statuses[str(r[0])] = statuses.get(str(r[0]), 0) + 1
    finite = [p for p in probe if p != float("inf")]
    print(
        json.dumps(
            {
                "benchmark": "ingest_http_embedded",
                "duration_s": round(wall, 1),
                "batch_events": args.batch,
                "client_processes": args.clients,
                "connections": connections,
                "offered_events_per_s": args.rate or None,
                "acknowledged_events": accepted,
                "acknowledged_events_per_s": round(rate),
                "request_latency_p50_ms": round(lat[len(lat) // 2] * 1000, 1) if lat else None,
                "request_latency_p99_ms": round(lat[int(len(lat) * 0.99)] * 1000, 1)
                if lat
                else None,
                "responses_by_status": statuses,
                "server_peak_rss_mb": round(rss, 1),
                "visible_after_ack_ms_p50": round(statistics.median(finite), 1) if finite else None,
                "visible_after_ack_ms_max": round(max(probe), 1) if probe else None,
                "visible_after_ack_probes": len(probe),
                "visible_after_ack_over_1s": sum(1 for p in probe if p > 1000),
                "during_load": during_load,
                "reference_duckdb_arrow_append_rows_per_s": round(ref),
                "ratio_hub_to_raw_append": round(rate / ref, 3),
                "targets": {"events_per_s": 100_000, "rss_mb": 1024, "visible_ms": 1000},
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
