"""Cost of the ingest pricing step per event, beside the decoding it follows.

Decodes 1,000-event JSON bodies of realistic ``llm_call`` events (a dozen models, some
through aliases, one unknown; a share sent with a cost) once, then times
``PricingService.price`` over the decoded batches, and, as the reference, the decoding of
the same bodies. Both are CPU time of this process (``time.process_time``), medians of
``--runs``. Prints one JSON object; ``pricing_share_of_decode`` is the ratio that holds
on a noisy machine.

    python bench/pricing.py [--events 1000] [--seconds 2] [--runs 3] [--priced-share 0.1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import time
from collections.abc import Callable

import msgspec

from analytics_hub.events import DecodedBatch, Normalizer
from analytics_hub.pricing import PriceBook, PricingService, shipped_price_file
from analytics_hub.testing.envelopes import llm_call

MODELS = [
    ("openai", "gpt-4o-2024-08-06"),
    ("openai", "gpt-4o-mini"),
    ("openai", "o3-mini"),
    ("azure_openai", "gpt-4o"),
    ("anthropic", "claude-sonnet-4-20250514"),
    ("anthropic", "claude-3-5-haiku-latest"),
    ("gcp.gemini", "gemini-2.0-flash-001"),
    ("aws.bedrock", "us.anthropic.claude-3-7-sonnet-20250219-v1:0"),
    ("mistral_ai", "mistral-large-latest"),
    ("groq", "llama-3.3-70b-versatile"),
    ("cohere", "command-r-08-2024"),
    ("acme", "in-house-model"),  # unknown: unpriced
]


def make_body(n: int, rng: random.Random, priced_share: float) -> bytes:
    now = dt.datetime.now(dt.UTC)
    events = []
    for _ in range(n):
        provider, model = rng.choice(MODELS)
        tin, tout = rng.randint(50, 4000), rng.randint(10, 1000)
        extra = {"cached_input_tokens": tin // 2} if rng.random() < 0.3 else {}
        events.append(
            llm_call(
                timestamp=now - dt.timedelta(seconds=rng.uniform(0, 60)),
                provider=provider,
                model_id=model,
                input_tokens=tin,
                output_tokens=tout,
                cost_usd=0.001 if rng.random() < priced_share else None,
                **extra,
            )
        )
    return msgspec.json.encode(events)


def per_second(fn: Callable[[], object], seconds: float) -> float:
    """Calls of ``fn`` per CPU second, for about ``seconds``."""
    calls = 0
    started = time.process_time()
    while (elapsed := time.process_time() - started) < seconds:
        fn()
        calls += 1
    return calls / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=1000)
    ap.add_argument("--bodies", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--priced-share", type=float, default=0.1)
    args = ap.parse_args()
    rng = random.Random(7)
    normalizer = Normalizer(currency_rates={})
    pricing = PricingService(PriceBook(shipped_price_file()))
    bodies = [make_body(args.events, rng, args.priced_share) for _ in range(args.bodies)]
    now = dt.datetime.now(dt.UTC)
    batches: list[DecodedBatch] = [
        normalizer.decode_json(b, tenant_id="bench", received_at=now) for b in bodies
    ]
    sources = [
        s for b in batches for s in pricing.price("bench", b.table)["cost_source"].to_pylist()
    ]
    k = 0

    def price_one() -> None:
        nonlocal k
        pricing.price("bench", batches[k % len(batches)].table)
        k += 1

    def decode_one() -> None:
        nonlocal k
        normalizer.decode_json(bodies[k % len(bodies)], tenant_id="bench", received_at=now)
        k += 1

    pricing_rates, decode_rates = [], []
    for _ in range(args.runs):
        pricing_rates.append(per_second(price_one, args.seconds) * args.events)
        decode_rates.append(per_second(decode_one, args.seconds) * args.events)
    price_eps, decode_eps = statistics.median(pricing_rates), statistics.median(decode_rates)
    print(
        json.dumps(
            {
                "benchmark": "pricing",
                "events_per_batch": args.events,
                "pricing_ns_per_event": round(1e9 / price_eps, 1),
                "pricing_events_per_s": round(price_eps),
                "decode_ns_per_event": round(1e9 / decode_eps, 1),
                "pricing_share_of_decode": round(decode_eps / price_eps, 4),
                "computed": sources.count("computed"),
                "provided": sources.count("provided"),
                "unpriced": sources.count("unpriced"),
            }
        )
    )


if __name__ == "__main__":
    main()
