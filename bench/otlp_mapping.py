"""CPU cost per span of the OTLP trace path, from protobuf bytes to the bus message.

Builds ``ExportTraceServiceRequest`` bodies of ``--spans`` (500) spans, in two mixes:
``genai``, the GenAI chat spans ``bench/otlp.py`` posts, and ``mixed``, the three
conventions the hub reads (GenAI current and deprecated names, OpenInference,
Traceloop) with the agent, tool, workflow and HTTP spans around the calls (see
``bench/otlp_shapes.py``). Then times, in microseconds of CPU per span (this process,
``time.process_time``: other work on a shared machine distorts it less than wall time):

- ``parse``: ``decode_traces`` (the protobuf runtime's parse and the span count);
- ``map``: ``map_traces`` of the parsed request, as the receiver calls it;
- ``normalize``: ``Normalizer.normalize`` of the envelopes and the merge of errors;
- ``price``: ``PricingService.price`` of the batch (the shipped price table);
- ``encode``: the dead letters and the bus message (``encode_batch``);
- ``bytes_to_bus``: all of it through ``OtlpReceiver.export_traces`` and
  ``IngestService.publish``, with a pipeline that encodes and acknowledges at once.

Each figure is the median of ``--runs`` runs of about ``--seconds`` each (``best``: the
least, which other work on a shared machine disturbs least); the stages are timed in
turn within a run. Prints one JSON object. The same script measures an older tree
(``PYTHONPATH=<tree>/src``), whose ``map_traces`` takes no ``wire``.

    python bench/otlp_mapping.py [--spans 500] [--seconds 1] [--runs 5] [--mix genai]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import inspect
import json
import statistics
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

import pyarrow as pa

from analytics_hub.events import DecodedBatch, Normalizer
from analytics_hub.ingest.batchcodec import encode_batch
from analytics_hub.ingest.otlp import (
    DEFAULT_OPTIONS,
    Mapped,
    OtlpEncoding,
    OtlpReceiver,
    decode_traces,
    map_traces,
    merge,
)
from analytics_hub.ingest.service import IngestService, dead_letters_of
from analytics_hub.pricing import PriceBook, PricingService, shipped_price_file
from analytics_hub.store.base import DeadLetter
from otlp_shapes import make_body, make_mixed_body

TENANT = "bench"
MIXES: dict[str, Callable[[int, int], bytes]] = {"genai": make_body, "mixed": make_mixed_body}
# Older trees map without the wire bytes; the same script measures them (for the "before").
_WIRE = "wire" in inspect.signature(map_traces).parameters


class EncodingPipeline:
    """Stands in for ``Pipeline``: encodes the bus message, then acknowledges it at once."""

    def __init__(self) -> None:
        self.seq = 0

    def check_can_wait_visible(self) -> None:
        return None

    def check_admission(self) -> None:
        return None

    def submit(self, table: pa.Table, letters: Sequence[DeadLetter] = ()) -> Future[int]:
        encode_batch(table, list(letters))
        self.seq += 1
        done: Future[int] = Future()
        done.set_result(self.seq)
        return done


def per_span(fn: Callable[[int], object], seconds: float, spans: int) -> float:
    """Microseconds of CPU per span of ``fn(k)`` (one request per call) for ``seconds``."""
    fn(0)  # warm up
    calls = 0
    started = time.process_time()
    while (elapsed := time.process_time() - started) < seconds:
        fn(calls)
        calls += 1
    return elapsed / (calls * spans) * 1e6


def measure(mix: str, args: argparse.Namespace) -> dict[str, Any]:
    bodies = [MIXES[mix](args.spans, seed) for seed in range(args.requests)]
    options = DEFAULT_OPTIONS
    normalizer = Normalizer(currency_rates={})
    limits = normalizer.limits
    pricing = PricingService(PriceBook(shipped_price_file()))
    now = dt.datetime.now(dt.UTC)

    def parse(body: bytes) -> tuple[Any, dict[int, tuple[str, str]]]:
        return decode_traces(body, OtlpEncoding.PROTOBUF, options)

    def map_(body: bytes, parsed: tuple[Any, dict[int, tuple[str, str]]]) -> Mapped:
        request, rejected = parsed
        extra = {"wire": body} if _WIRE else {}
        return map_traces(request, options, limits=limits, rejected=rejected, **extra)

    def normalize(mapped: Mapped) -> DecodedBatch:
        normalized = normalizer.normalize(mapped.envelopes, tenant_id=TENANT, received_at=now)
        return merge(mapped, normalized)

    def encode(batch: DecodedBatch) -> bytes:
        return encode_batch(batch.table, dead_letters_of(batch, TENANT, now))

    def price(batch: DecodedBatch) -> DecodedBatch:
        # as IngestService.publish prices a batch before it is encoded
        table = pricing.price(TENANT, batch.table)
        return DecodedBatch(table, batch.errors, batch.rejected_raw, batch.total)

    parsed = [parse(b) for b in bodies]
    mapped = [map_(b, p) for b, p in zip(bodies, parsed, strict=True)]
    batches = [normalize(m) for m in mapped]
    priced = [price(b) for b in batches]
    for m, b in zip(mapped, batches, strict=True):
        if m.errors or b.errors or b.accepted != args.spans:
            raise SystemExit(f"the benchmark spans do not map: {(m.errors or b.errors)[:3]}")

    ingest = IngestService(
        normalizer,
        EncodingPipeline(),  # type: ignore[arg-type]
        max_batch_events=10_000,
        pricer=pricing,
    )
    receiver = OtlpReceiver(ingest, normalizer, options)
    n = len(bodies)

    def stage_times() -> dict[str, float]:
        stages: dict[str, Callable[[int], object]] = {
            "parse": lambda k: parse(bodies[k % n]),
            "map": lambda k: map_(bodies[k % n], parsed[k % n]),
            "normalize": lambda k: normalize(mapped[k % n]),
            "price": lambda k: price(batches[k % n]),
            "encode": lambda k: encode(priced[k % n]),
        }
        times = {name: per_span(fn, args.seconds, args.spans) for name, fn in stages.items()}

        async def through_receiver() -> float:
            await receiver.export_traces(TENANT, bodies[0], OtlpEncoding.PROTOBUF)  # warm up
            calls = 0
            started = time.process_time()
            while (elapsed := time.process_time() - started) < args.seconds:
                await receiver.export_traces(TENANT, bodies[calls % n], OtlpEncoding.PROTOBUF)
                calls += 1
            return elapsed / (calls * args.spans) * 1e6

        times["bytes_to_bus"] = asyncio.run(through_receiver())
        return times

    runs = [stage_times() for _ in range(args.runs)]
    for r in runs:
        r["parse_map"] = r["parse"] + r["map"]
    medians = {f"{k}_us_per_span": round(statistics.median(r[k] for r in runs), 2) for k in runs[0]}
    # The least disturbed run, beside the median: other work on the machine only adds.
    best = {f"{k}_us_per_span": round(min(r[k] for r in runs), 2) for k in runs[0]}
    return {
        "bytes_per_span": round(sum(map(len, bodies)) / (n * args.spans)),
        **medians,
        "best": best,
        "runs_parse_map_us_per_span": [round(r["parse_map"], 2) for r in runs],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spans", type=int, default=500, help="spans per request")
    ap.add_argument("--requests", type=int, default=4, help="distinct request bodies")
    ap.add_argument("--seconds", type=float, default=1.0, help="CPU time per measurement")
    ap.add_argument("--runs", type=int, default=5, help="runs; medians are reported")
    ap.add_argument("--mix", choices=[*MIXES, "both"], default="both")
    args = ap.parse_args()
    mixes = list(MIXES) if args.mix == "both" else [args.mix]
    results = {mix: measure(mix, args) for mix in mixes}
    headline: dict[str, float] = {}
    for mix, figures in results.items():
        prefix = "" if mix == "genai" else f"{mix}_"
        for name in ("parse_map_us_per_span", "bytes_to_bus_us_per_span"):
            headline[prefix + name] = figures[name]
    print(
        json.dumps(
            {
                "benchmark": "otlp_mapping",
                "spans_per_request": args.spans,
                "runs": args.runs,
                **headline,
                "mixes": results,
                "targets": {"parse_map_us_per_span": 6.0},
            }
        )
    )


if __name__ == "__main__":
    main()
