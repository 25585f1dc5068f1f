"""Native gRPC streaming ingest (``IngestService.StreamEvents``) into a real embedded hub.

Client processes each hold one stream and send 1,000-event ``EventBatch``es for
``--seconds`` (every event with a fresh id, rewritten in pre-encoded templates); an ack
comes back per batch once it is durable. Reported: events/s acknowledged, batch
round-trip percentiles, the server's peak RSS, and the reference in the same run: the
REST path (``bench/ingest.py``'s clients) into a fresh hub. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import msgspec

from analytics_hub.api.grpc.v1 import ingest_pb2, ingest_pb2_grpc
from analytics_hub.testing.envelopes import realistic_calls
from analytics_hub.testing.hubprocess import HubProcess, create_key, free_port
from ingest import MARK, client_proc, peak_rss_mb  # bench/ingest.py: the REST reference
from loadwindow import Watch  # bench/loadwindow.py


def templates(batch: int) -> list[list[bytes]]:
    """Pre-encoded events whose ids start with MARK, four batches' worth."""
    end = datetime.now(UTC) + timedelta(seconds=30)
    out = []
    for t in range(4):
        events = realistic_calls(batch, seed=t, end=end, span=timedelta(minutes=2))
        for i, e in enumerate(events):
            e["event_id"] = f"{MARK.decode()}-{t:04x}-4000-8000-{i:012x}"
        out.append([msgspec.json.encode(e) for e in events])
    return out


def stream_client(target: str, key: str, seconds: float, worker: int, out: Any, batch: int) -> None:
    """One stream: send batches until the time is up, then collect every ack."""
    bodies = templates(batch)
    sent: dict[str, float] = {}
    deadline = time.monotonic() + seconds

    def batches() -> Iterator[ingest_pb2.EventBatch]:
        n = 0
        while time.monotonic() < deadline:
            n += 1
            prefix = f"{(worker << 24 | n) & 0xFFFFFFFF:08x}".encode()
            batch_id = f"{worker}-{n}"
            events = [e.replace(MARK, prefix) for e in bodies[n % len(bodies)]]
            sent[batch_id] = time.perf_counter()
            yield ingest_pb2.EventBatch(batch_id=batch_id, events=events)

    results: list[tuple[float, int]] = []
    refusals = 0
    with grpc.insecure_channel(target) as channel:
        stub = ingest_pb2_grpc.IngestServiceStub(channel)
        while time.monotonic() < deadline:
            acks = stub.StreamEvents(
                batches(), metadata=(("x-api-key", key),), timeout=seconds + 120
            )
            try:
                for ack in acks:
                    results.append((time.perf_counter() - sent[ack.batch_id], ack.accepted))
            except grpc.RpcError as exc:
                # Backpressure ends the stream: back off as a client should, then reopen.
                if exc.code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
                    raise
                refusals += 1
                time.sleep(0.1)
    out.put((results, refusals))


def run_grpc(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "hub"
        data_dir.mkdir()
        key = create_key(data_dir, "bench", "ingest")
        hub = HubProcess(
            data_dir=data_dir, otlp_grpc_port=free_port(), env={"HUB_LOG_LEVEL": "warning"}
        ).start()
        assert hub.proc is not None
        try:
            q: mp.Queue[Any] = mp.Queue()
            procs = [
                mp.Process(
                    target=stream_client,
                    args=(hub.grpc_target, key, args.seconds, w, q, args.batch),
                )
                for w in range(args.clients)
            ]
            began = time.perf_counter()
            for p in procs:
                p.start()
            watch = Watch(hub.url, hub.proc.pid, args.seconds)
            answers = [q.get() for _ in procs]
            for p in procs:
                p.join()
            wall = time.perf_counter() - began
            rss = peak_rss_mb(hub.proc.pid)
            results = [r for rs, _ in answers for r in rs]
            refusals = sum(n for _, n in answers)
            during_load = watch.summary()
        finally:
            hub.stop()
    latencies = sorted(r[0] for r in results)
    return {
        "per_s": sum(r[1] for r in results) / wall,
        "batch_p50_ms": latencies[len(latencies) // 2] * 1000 if latencies else None,
        "batch_p99_ms": latencies[int(len(latencies) * 0.99)] * 1000 if latencies else None,
        "rss_mb": rss,
        "streams_ended_by_backpressure": refusals,
        "during_load": during_load,
    }


def run_rest(args: argparse.Namespace) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "hub"
        data_dir.mkdir()
        key = create_key(data_dir, "bench", "ingest")
        hub = HubProcess(data_dir=data_dir, env={"HUB_LOG_LEVEL": "warning"}).start()
        try:
            q: mp.Queue[Any] = mp.Queue()
            procs = [
                mp.Process(target=client_proc, args=(hub.url, key, args.seconds, 4, w, q, 1000))
                for w in range(args.clients)
            ]
            began = time.perf_counter()
            for p in procs:
                p.start()
            results = [r for _ in procs for r in q.get()]
            for p in procs:
                p.join()
            return sum(r[2] for r in results) / (time.perf_counter() - began)
        finally:
            hub.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--clients", type=int, default=2, help="client processes, one stream each")
    ap.add_argument("--batch", type=int, default=1000, help="events per EventBatch")
    args = ap.parse_args()

    runs = [run_grpc(args) for _ in range(args.runs)]
    rest = [run_rest(args) for _ in range(args.runs)]
    rate, ref = statistics.median(r["per_s"] for r in runs), statistics.median(rest)
    print(
        json.dumps(
            {
                "benchmark": "grpc_stream",
                "duration_s": args.seconds,
                "runs": args.runs,
                "streams": args.clients,
                "batch_events": args.batch,
                "acknowledged_events_per_s": round(rate),
                "batch_round_trip_p50_ms": round(
                    statistics.median(r["batch_p50_ms"] for r in runs), 1
                ),
                "batch_round_trip_p99_ms": round(
                    statistics.median(r["batch_p99_ms"] for r in runs), 1
                ),
                "server_peak_rss_mb": round(max(r["rss_mb"] for r in runs), 1),
                "streams_ended_by_backpressure": [r["streams_ended_by_backpressure"] for r in runs],
                "during_load": [r["during_load"] for r in runs],
                "reference_rest_json_events_per_s": round(ref),
                "ratio_grpc_to_rest": round(rate / ref, 3),
                "target_events_per_s": 100_000,
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
