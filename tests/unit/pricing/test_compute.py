"""The vectorised pricing step: provided, computed and unpriced; cached and reasoning
tokens at their own prices; a batch that spans a price change."""

from __future__ import annotations

import datetime as dt
import json
import random
from typing import Any

import pyarrow as pa
import pytest

from analytics_hub.events import EVENT_SCHEMA, Normalizer
from analytics_hub.pricing import PriceBook, compute_costs, price_batch, shipped_price_file
from analytics_hub.pricing.book import day_start_us
from analytics_hub.testing.envelopes import llm_call

BOOK = PriceBook(shipped_price_file())
NOW = dt.datetime(2025, 7, 1, 12, tzinfo=dt.UTC)
NORMALIZER = Normalizer(currency_rates={}, max_age_seconds=3 * 365 * 86400.0)


def resolve(provider: str, model: str) -> Any:
    return BOOK.resolve(provider, model, {})


def batch(*events: dict[str, Any]) -> pa.Table:
    decoded = NORMALIZER.decode_json(
        json.dumps(events).encode(), tenant_id="t", received_at=NOW + dt.timedelta(minutes=1)
    )
    assert not decoded.errors, decoded.errors
    return decoded.table


def call(model: str = "gpt-4o", provider: str = "openai", **data: Any) -> dict[str, Any]:
    data.setdefault("cost_usd", None)
    data.setdefault("timestamp", NOW)
    return llm_call(model_id=model, provider=provider, **data)


def priced(*events: dict[str, Any]) -> list[tuple[float | None, str | None]]:
    table = price_batch(batch(*events), resolve)
    assert table.schema == EVENT_SCHEMA
    return list(zip(table["cost_usd"].to_pylist(), table["cost_source"].to_pylist(), strict=True))


def test_a_call_with_tokens_and_no_cost_gets_the_computed_cost() -> None:
    # gpt-4o on 2025-07-01: $2.50 in, $10 out per million
    assert priced(call(input_tokens=1000, output_tokens=200)) == [(0.0045, "computed")]


def test_a_provided_cost_is_kept() -> None:
    assert priced(call(cost_usd=0.5)) == [(0.5, "provided")]


def test_an_unknown_model_is_unpriced_never_zero() -> None:
    assert priced(call(model="acme-ft-1", provider="vllm")) == [(None, "unpriced")]


def test_a_call_without_tokens_is_left_alone() -> None:
    assert priced(call(input_tokens=0, output_tokens=0)) == [(None, None)]


def test_other_events_are_left_alone() -> None:
    token_usage = {
        "timestamp": NOW.isoformat(),
        "source_module": "llm-cost-ops",
        "event_type": "telemetry",
        "severity": "info",
        "payload": {
            "payload_type": "telemetry",
            "data": {
                "telemetry_type": "token_usage",
                "model_id": "gpt-4o",
                "request_id": "r1",
                "prompt_tokens": 10,
                "completion_tokens": 5,
                "total_tokens": 15,
            },
        },
    }
    assert priced(token_usage, call()) == [(None, None), (0.0045, "computed")]


def test_cached_input_is_priced_at_its_own_price_and_capped_at_the_input() -> None:
    # o4-mini: $1.10 in, $0.275 cached, $4.40 out
    got = priced(
        call(model="o4-mini", input_tokens=1000, output_tokens=0, cached_input_tokens=400),
        call(model="o4-mini", input_tokens=1000, output_tokens=0, cached_input_tokens=5000),
    )
    assert got[0] == (pytest.approx((600 * 1.10 + 400 * 0.275) / 1e6), "computed")
    assert got[1] == (pytest.approx(1000 * 0.275 / 1e6), "computed")


def test_a_model_without_a_cached_price_charges_cached_tokens_as_input() -> None:
    # gpt-4o-2024-05-13 lists no cached price
    got = priced(
        call(model="gpt-4o-2024-05-13", input_tokens=1000, output_tokens=0, cached_input_tokens=500)
    )
    assert got == [(pytest.approx(1000 * 5.0 / 1e6), "computed")]


def test_reasoning_inside_the_output_is_not_charged_twice() -> None:
    # OpenAI counts reasoning in output_tokens; o3 bills it at the output price
    got = priced(call(model="o3", input_tokens=100, output_tokens=500, reasoning_tokens=300))
    assert got == [(pytest.approx((100 * 2.0 + 500 * 8.0) / 1e6), "computed")]


def test_reasoning_at_its_own_price_inside_and_outside_the_output() -> None:
    # gemini-2.5-flash-preview-04-17: $0.15 in, $0.60 answer, $3.50 thinking
    model = "gemini-2.5-flash-preview-04-17"
    inside = call(
        model=model, provider="google", input_tokens=100, output_tokens=500, reasoning_tokens=300
    )
    apart = call(
        model=model,
        provider="google",
        input_tokens=100,
        output_tokens=500,
        reasoning_tokens=300,
        reasoning_included=False,
    )
    got = priced(inside, apart)
    assert got[0] == (pytest.approx((100 * 0.15 + 200 * 0.60 + 300 * 3.5) / 1e6), "computed")
    assert got[1] == (pytest.approx((100 * 0.15 + 500 * 0.60 + 300 * 3.5) / 1e6), "computed")


def test_a_batch_across_a_price_change_prices_each_call_at_its_days_price() -> None:
    cut = dt.datetime(2025, 6, 10, tzinfo=dt.UTC)  # o3: $10/$40 before, $2/$8 from this day
    before = call(
        model="o3", input_tokens=1000, output_tokens=0, timestamp=cut - dt.timedelta(seconds=1)
    )
    after = call(model="o3", input_tokens=1000, output_tokens=0, timestamp=cut)
    gpt = call(input_tokens=1000, output_tokens=0, timestamp=cut)
    assert priced(before, after, gpt) == [
        (pytest.approx(0.01), "computed"),
        (pytest.approx(0.002), "computed"),
        (pytest.approx(0.0025), "computed"),
    ]


def test_a_call_before_the_models_first_price_is_unpriced() -> None:
    early = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)  # o3 was priced from 2025-04-16
    late = dt.datetime(2025, 6, 20, tzinfo=dt.UTC)
    got = priced(
        call(model="o3", timestamp=early),
        call(model="o3", timestamp=late, input_tokens=1, output_tokens=0),
    )
    assert got == [(None, "unpriced"), (pytest.approx(2e-6), "computed")]


def test_nothing_to_price_returns_the_same_table() -> None:
    table = batch(call(cost_usd=0.1), call(cost_usd=0.2))
    assert price_batch(table, resolve) is table
    zero = batch(call(input_tokens=0, output_tokens=0))
    assert price_batch(zero, resolve) is zero


def test_the_vectorised_costs_equal_a_per_call_reference() -> None:
    rng = random.Random(5)
    models = [
        ("openai", "gpt-4o"),
        ("openai", "o3"),
        ("google", "gemini-2.5-flash-preview-04-17"),
        ("anthropic", "claude-3-5-haiku-latest"),
        ("vllm", "nope"),
        ("azure", "gpt-35-turbo"),
    ]
    events = []
    for _ in range(300):
        provider, model = rng.choice(models)
        out = rng.randint(0, 2000)
        data: dict[str, Any] = {"input_tokens": rng.randint(0, 5000), "output_tokens": out}
        if rng.random() < 0.5:
            data["cached_input_tokens"] = rng.randint(0, 6000)
        if rng.random() < 0.5:
            data["reasoning_tokens"] = rng.randint(0, out + 100)
            data["reasoning_included"] = rng.random() < 0.5
        ts = dt.datetime(2025, 6, 9, tzinfo=dt.UTC) + dt.timedelta(hours=rng.uniform(0, 48))
        events.append(call(model=model, provider=provider, timestamp=ts, **data))
    table = batch(*events)
    costs = compute_costs(table, resolve)
    for event, cost in zip(events, costs.tolist(), strict=True):
        assert cost == pytest.approx(reference(event), nan_ok=True)


def reference(event: dict[str, Any]) -> float:
    data = event["payload"]["data"]
    found = resolve(data["provider"], data["model_id"])
    ts = dt.datetime.fromisoformat(event["timestamp"])
    moment = day_start_us(ts.date()) + (
        ts - ts.replace(hour=0, minute=0, second=0, microsecond=0)
    ) // dt.timedelta(microseconds=1)
    rate = found.rate_at(moment) if found else None
    if rate is None:
        return float("nan")
    inp, out = data["input_tokens"], data["output_tokens"]
    cached = min(data.get("cached_input_tokens", 0), inp)
    reasoning = data.get("reasoning_tokens", 0)
    if data.get("reasoning_included", True):
        reasoning = min(reasoning, out)
        out -= reasoning
    return (
        (inp - cached) * rate.input
        + cached * rate.cached_input
        + out * rate.output
        + reasoning * rate.reasoning
    )
