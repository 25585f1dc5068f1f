"""Wire-format event factories for tests and benchmarks (plain dicts, as a source sends)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

MODELS: tuple[tuple[str, str, float, float], ...] = (
    # model, provider, $ per 1M input tokens, $ per 1M output tokens
    ("gpt-4o", "openai", 2.50, 10.00),
    ("gpt-4o-mini", "openai", 0.15, 0.60),
    ("claude-sonnet-4", "anthropic", 3.00, 15.00),
    ("claude-haiku-3.5", "anthropic", 0.80, 4.00),
    ("gemini-2.0-flash", "google", 0.10, 0.40),
    ("mistral-large", "mistral", 2.00, 6.00),
    ("llama-3.1-70b", "meta", 0.88, 0.88),
    ("command-r-plus", "cohere", 2.50, 10.00),
)
ASSETS = tuple(f"app-{i:02d}" for i in range(10))


def llm_call(
    *,
    timestamp: datetime | str | float | None = None,
    event_id: str | None = None,
    asset_id: str = "app-00",
    model_id: str = "gpt-4o",
    provider: str = "openai",
    input_tokens: int = 1000,
    output_tokens: int = 200,
    latency_ms: float = 800.0,
    cost_usd: float | None = 0.0045,
    status: str = "ok",
    tags: dict[str, str] | None = None,
    **data: Any,
) -> dict[str, Any]:
    """One telemetry/llm_call event in the wire format."""
    ts = timestamp if timestamp is not None else datetime.now(UTC)
    body: dict[str, Any] = {
        "telemetry_type": "llm_call",
        "model_id": model_id,
        "provider": provider,
        "operation": "chat",
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "latency_ms": latency_ms,
        "status": status,
        **data,
    }
    if cost_usd is not None:
        body["cost_usd"] = cost_usd
    event: dict[str, Any] = {
        "event_id": event_id or str(uuid.uuid4()),
        "timestamp": ts.isoformat() if isinstance(ts, datetime) else ts,
        "source_module": "llm-observatory",
        "event_type": "telemetry",
        "severity": "error" if status == "error" else "info",
        "asset_id": asset_id,
        "tags": tags or {"team": "search"},
        "payload": {"payload_type": "telemetry", "data": body},
    }
    return event


def realistic_calls(
    n: int, *, seed: int = 0, end: datetime | None = None, span: timedelta = timedelta(minutes=5)
) -> list[dict[str, Any]]:
    """``n`` varied llm_call events spread over ``span`` before ``end``."""
    rng = random.Random(seed)
    end = end or datetime.now(UTC)
    events = []
    for _ in range(n):
        model, provider, pin, pout = rng.choice(MODELS)
        tin = int(rng.lognormvariate(6.5, 0.8))
        tout = int(rng.lognormvariate(5.0, 0.7))
        failed = rng.random() < 0.02
        extra: dict[str, Any] = {"ttft_ms": round(rng.lognormvariate(5.5, 0.4), 2)}
        if failed:
            extra["error_type"] = rng.choice(("rate_limit", "timeout", "server_error"))
        events.append(
            llm_call(
                timestamp=end - span * rng.random(),
                event_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                asset_id=rng.choice(ASSETS),
                model_id=model,
                provider=provider,
                input_tokens=tin,
                output_tokens=tout,
                latency_ms=round(rng.lognormvariate(6.6, 0.5), 2),
                cost_usd=round((tin * pin + tout * pout) / 1e6, 8),
                status="error" if failed else "ok",
                tags={"team": rng.choice(("search", "support", "platform")), "region": "eu"},
                user_id=f"user-{rng.randrange(500)}",
                **extra,
            )
        )
    return events


__all__ = ["ASSETS", "MODELS", "llm_call", "realistic_calls"]
