"""How much traffic, and what one model call looks like.

Volume follows local business hours (a daily curve peaking mid-afternoon, a trough at
3 am) and the week (weekends are quieter). A call draws its model and operation from
its application's routes, tokens from log-normal distributions of its operation, latency
from its model's profile, and fails now and then with one of the usual error classes.
"""

from __future__ import annotations

import hashlib
import math
import random
from datetime import UTC, datetime
from typing import TypeVar

from analytics_hub.demo.catalog import (
    ERROR_RATE,
    ERROR_TYPES,
    MODELS,
    OPERATIONS,
    AppSpec,
    ModelSpec,
    Route,
    TenantSpec,
)
from analytics_hub.demo.envelopes import Event, envelope, hex_id, new_uuid

T = TypeVar("T")

_WEEKDAY_FACTOR = (1.0, 1.0, 1.0, 1.0, 0.95, 0.5, 0.4)  # Monday first
_DAILY_FLOOR = 0.12
_PEAK_HOUR = 15.0  # local time of the daily peak; the trough is 12 hours earlier

PREFILL_TOKENS_PER_S = 8000.0  # prompt processing speed folded into time to first token


def _daily(hour: float) -> float:
    # A raised cosine, squared to make the business-hours hump narrower than the night.
    wave = (1.0 + math.cos(2.0 * math.pi * (hour - _PEAK_HOUR) / 24.0)) / 2.0
    return _DAILY_FLOOR + (1.0 - _DAILY_FLOOR) * wave * wave


# Mean of the raw curve over a week, so that the multiplier averages to 1 and
# ``rate_per_s`` is the mean rate.
_MEAN = sum(_daily(q / 4.0) * f for f in _WEEKDAY_FACTOR for q in range(96)) / (7 * 96)


def seasonality(ts: float, utc_offset_hours: float) -> float:
    """Traffic multiplier at ``ts`` for a tenant at ``utc_offset_hours`` (mean 1)."""
    local = datetime.fromtimestamp(ts + utc_offset_hours * 3600.0, UTC)
    hour = local.hour + local.minute / 60.0
    return _daily(hour) * _WEEKDAY_FACTOR[local.weekday()] / _MEAN


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth for small means, a rounded normal for large ones)."""
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def lognormal(rng: random.Random, median: float, sigma: float) -> float:
    """A log-normal draw given its median."""
    return median * math.exp(sigma * rng.gauss(0.0, 1.0))


def weighted(rng: random.Random, items: tuple[tuple[T, float], ...]) -> T:
    """One item drawn by weight."""
    total = sum(w for _, w in items)
    pick = rng.random() * total
    for item, weight in items:
        pick -= weight
        if pick <= 0:
            return item
    return items[-1][0]


def pick_app(rng: random.Random, tenant: TenantSpec) -> AppSpec:
    """An application of ``tenant`` drawn by its traffic weight."""
    return weighted(rng, tuple((a, a.weight) for a in tenant.apps))


def pick_user(rng: random.Random, tenant: TenantSpec) -> str:
    """A user id; a few heavy users make most of the traffic, as in real deployments."""
    return f"{tenant.name}-u{int(tenant.users * rng.random() ** 2.5):04d}"


def session_of(user_id: str, ts: float) -> str:
    """A stable session id per user and half hour (the same in every stream and run)."""
    digest = hashlib.blake2s(f"{user_id}/{int(ts // 1800)}".encode(), digest_size=8).hexdigest()
    return f"s-{digest}"


def model_call(
    rng: random.Random,
    tenant: TenantSpec,
    app: AppSpec,
    ts: float,
    *,
    user_id: str,
    route: Route | None = None,
    model_id: str | None = None,
    input_tokens: int | None = None,
    latency_factor: float = 1.0,
    error_rate: float = ERROR_RATE,
    environment: str | None = None,
    price: bool = True,
) -> Event:
    """One ``telemetry/llm_call`` event from the Observatory.

    ``model_id`` overrides the route's model (an upgrade), ``input_tokens`` the drawn
    prompt size (abusive traffic), ``latency_factor`` scales latency (a regression);
    ``price=False`` leaves ``cost_usd`` out so that the hub prices the call itself.
    """
    chosen = route or weighted(rng, tuple((r, r.weight) for r in app.routes))
    model = MODELS[model_id or chosen.model_id]
    profile = OPERATIONS[chosen.operation]
    prompt = input_tokens or max(
        1, round(lognormal(rng, profile.input_median, profile.input_sigma))
    )
    output = 0
    if profile.max_output:
        output = min(
            profile.max_output,
            max(1, round(lognormal(rng, profile.output_median, profile.output_sigma))),
        )
    finish = "length" if output == profile.max_output and output else "stop"
    if chosen.operation in ("tool", "agent") and rng.random() < 0.6:
        finish = "tool_calls"
    cached = 0
    if (
        model.cached_per_mtok is not None
        and chosen.operation != "embeddings"
        and rng.random() < 0.35
    ):
        cached = int(prompt * rng.uniform(0.3, 0.9))  # a shared system prompt hit the cache
    reasoning = round(output * rng.uniform(0.4, 0.8)) if model.reasoning else 0

    status, error_type = "ok", None
    if rng.random() < error_rate:
        status, error_type = "error", weighted(rng, ERROR_TYPES)
    latency, ttft = _latency(rng, model, chosen.operation, prompt, output, error_type)
    latency, ttft = latency * latency_factor, (ttft * latency_factor if ttft is not None else None)
    if error_type is not None:
        # Failed calls produce nothing and are not billed, except that a content filter
        # stops a generation that was billed for its prompt.
        output, reasoning, finish = (
            0,
            0,
            "content_filter" if error_type == "content_filter" else "error",
        )
    billed_prompt = prompt if error_type in (None, "content_filter") else 0
    cost = model.cost(billed_prompt, output, min(cached, billed_prompt))

    data: dict[str, object] = {
        "telemetry_type": "llm_call",
        "model_id": model.model_id,
        "provider": model.provider,
        "operation": chosen.operation,
        "request_id": f"req_{hex_id(rng, 24)}",
        "input_tokens": prompt,
        "output_tokens": output,
        "latency_ms": round(latency, 1),
        "status": status,
        "finish_reason": finish,
        "user_id": user_id,
        "session_id": session_of(user_id, ts),
    }
    if cached:
        data["cached_input_tokens"] = cached
    if reasoning:
        data["reasoning_tokens"] = reasoning
    if ttft is not None:
        data["ttft_ms"] = round(ttft, 1)
    if price:
        data["cost_usd"] = round(cost, 8)
    if error_type is not None:
        data["error_type"] = error_type
    severity = (
        "info"
        if status == "ok"
        else ("warning" if error_type in ("rate_limit", "content_filter") else "error")
    )
    return envelope(
        rng,
        ts,
        source="llm-observatory",
        event_type="telemetry",
        severity=severity,
        payload_type="telemetry",
        asset_id=app.asset_id,
        environment=environment or ("staging" if rng.random() < 0.05 else "prod"),
        tags={"team": app.team, "region": tenant.region, "app_version": app.version},
        correlation_id=new_uuid(rng),
        trace_id=hex_id(rng, 32),
        span_id=hex_id(rng, 16),
        data=data,
    )


def _latency(
    rng: random.Random,
    model: ModelSpec,
    operation: str,
    prompt: int,
    output: int,
    error_type: str | None,
) -> tuple[float, float | None]:
    """(total latency, time to first token) in ms."""
    if error_type == "rate_limit":
        return lognormal(rng, 120.0, 0.5), None
    if error_type == "timeout":
        return rng.choice((30_000.0, 60_000.0)) + rng.uniform(0, 250), None
    if operation == "embeddings":
        return lognormal(rng, 45.0 + prompt / 25.0, 0.35), None
    ttft = lognormal(rng, model.ttft_ms, 0.35) + prompt / PREFILL_TOKENS_PER_S * 1000.0
    if error_type is not None:  # server_error or content_filter: fails around the first token
        return ttft * rng.uniform(1.0, 1.6), None
    generation = output / lognormal(rng, model.tokens_per_s, 0.2) * 1000.0
    return ttft + generation + lognormal(rng, 25.0, 0.4), ttft


__all__ = [
    "lognormal",
    "model_call",
    "pick_app",
    "pick_user",
    "poisson",
    "seasonality",
    "session_of",
    "weighted",
]
