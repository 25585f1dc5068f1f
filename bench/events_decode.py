"""Throughput of the event decoder: JSON body -> validated, normalised Arrow table.

Decodes 1,000-event JSON array bodies of realistic ``llm_call`` events with
``Normalizer.decode_json`` and, as a reference, with plain msgspec (the same bytes into
``list[dict]`` and into the typed ``list[Envelope]``). Prints one JSON object.

Rates are events per second of CPU time of this process (``time.process_time``), i.e. on
one core, so that other work on a shared machine does not distort them; the wall-clock
rate of the hub's decoder is reported too. The three decoders are measured in turn,
``--runs`` times, and the medians are reported.

    python bench/events_decode.py [--events 1000] [--seconds 3] [--runs 3] [--no-ids]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

import msgspec

from analytics_hub.events import Envelope, Normalizer

MODELS = [
    ("gpt-4o-mini", "openai"),
    ("claude-3-5-sonnet", "anthropic"),
    ("gemini-1.5-pro", "google"),
]


def make_event(i: int, now: dt.datetime, rng: random.Random, with_id: bool) -> dict[str, Any]:
    model, provider = rng.choice(MODELS)
    ts = now - dt.timedelta(seconds=rng.uniform(0, 60))
    event: dict[str, Any] = {
        "timestamp": ts.isoformat().replace("+00:00", "Z"),
        "source_module": "llm-observatory",
        "event_type": "telemetry",
        "severity": "info",
        "environment": "prod",
        "asset_id": "support-bot",
        "trace_id": uuid.UUID(int=rng.getrandbits(128)).hex,
        "span_id": f"{rng.getrandbits(64):016x}",
        "tags": {"team": "support", "region": "eu-west-1"},
        "payload": {
            "payload_type": "telemetry",
            "data": {
                "telemetry_type": "llm_call",
                "model_id": model,
                "provider": provider,
                "operation": "chat",
                "request_id": f"req_{i:08d}",
                "input_tokens": rng.randint(50, 4000),
                "output_tokens": rng.randint(10, 1000),
                "cached_input_tokens": 0,
                "latency_ms": round(rng.uniform(200, 5000), 2),
                "ttft_ms": round(rng.uniform(50, 600), 2),
                "cost_usd": round(rng.uniform(0.0001, 0.05), 6),
                "status": "ok" if rng.random() > 0.02 else "error",
                "finish_reason": "stop",
                "user_id": f"user-{rng.randint(1, 500)}",
                "session_id": f"sess-{rng.randint(1, 2000)}",
            },
        },
    }
    if with_id:
        event["event_id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return event


def rate(fn: Callable[[], object], events: int, seconds: float) -> tuple[float, float]:
    """Events per CPU second and per wall second of ``fn`` (one batch per call)."""
    fn()  # warm up
    calls = 0
    cpu, wall = time.process_time(), time.perf_counter()
    while (elapsed := time.process_time() - cpu) < seconds:
        fn()
        calls += 1
    return calls * events / elapsed, calls * events / (time.perf_counter() - wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000, help="events per batch")
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    parser.add_argument("--runs", type=int, default=3, help="runs; the median is reported")
    parser.add_argument("--no-ids", action="store_true", help="omit event_id (hub makes them)")
    args = parser.parse_args()

    now = dt.datetime.now(dt.UTC)
    rng = random.Random(42)
    body = json.dumps([make_event(i, now, rng, not args.no_ids) for i in range(args.events)])
    data = body.encode()
    normalizer = Normalizer(currency_rates={"EUR": 1.08})
    batch = normalizer.decode_json(data, tenant_id="bench", received_at=now)
    if batch.errors or batch.table.num_rows != args.events:
        raise SystemExit(f"the benchmark events do not decode: {batch.errors[:3]}")

    as_dicts = msgspec.json.Decoder(list[dict[str, Any]])
    as_structs = msgspec.json.Decoder(list[Envelope])
    runs = []
    for _ in range(args.runs):
        hub_cpu, hub_wall = rate(
            lambda: normalizer.decode_json(data, tenant_id="bench", received_at=now),
            args.events,
            args.seconds,
        )
        runs.append(
            {
                "hub": hub_cpu,
                "hub_wall": hub_wall,
                "dicts": rate(lambda: as_dicts.decode(data), args.events, args.seconds)[0],
                "structs": rate(lambda: as_structs.decode(data), args.events, args.seconds)[0],
            }
        )
    hub = statistics.median(r["hub"] for r in runs)
    dicts = statistics.median(r["dicts"] for r in runs)
    structs = statistics.median(r["structs"] for r in runs)
    print(
        json.dumps(
            {
                "events_per_batch": args.events,
                "bytes_per_event": round(len(data) / args.events),
                "event_ids": not args.no_ids,
                "events_per_s": round(hub),
                "runs_events_per_s": [round(r["hub"]) for r in runs],
                "events_per_s_wall": round(statistics.median(r["hub_wall"] for r in runs)),
                "reference_msgspec_list_dict_per_s": round(dicts),
                "reference_msgspec_list_envelope_per_s": round(structs),
                "ratio_vs_list_dict": round(hub / dicts, 3),
                "ratio_vs_list_envelope": round(hub / structs, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
