"""Deterministic, realistic event rows in ``EVENT_SCHEMA`` for tests and benchmarks.

Pure (no I/O) and seeded: the same arguments always give the same table, so that a test
can build "the same batch again" to check idempotency, and a benchmark measures the same
data on every run. The shape follows what the hub mostly stores: model calls from a few
assets and models (lognormal latencies, token counts, a small error and unpriced rate),
with some security, cost and governance events mixed in.

Columns are generated one list at a time (not row by row) because this also feeds
benchmarks that need millions of rows in a few seconds.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyarrow as pa

from analytics_hub.events.columns import EVENT_SCHEMA, SEVERITIES


@dataclass(frozen=True, slots=True)
class _Model:
    model_id: str
    provider: str
    usd_per_input_token: float
    usd_per_output_token: float
    median_latency_ms: float


_MODELS: tuple[_Model, ...] = (
    _Model("gpt-4o", "openai", 2.5e-6, 10e-6, 900.0),
    _Model("gpt-4o-mini", "openai", 0.15e-6, 0.6e-6, 450.0),
    _Model("claude-sonnet-4", "anthropic", 3e-6, 15e-6, 1100.0),
    _Model("claude-haiku-3.5", "anthropic", 0.8e-6, 4e-6, 400.0),
    _Model("gemini-2.0-flash", "google", 0.1e-6, 0.4e-6, 350.0),
    _Model("llama-3.1-70b", "together", 0.88e-6, 0.88e-6, 700.0),
    _Model("mistral-large", "mistral", 2e-6, 6e-6, 800.0),
    _Model("command-r", "cohere", 0.15e-6, 0.6e-6, 600.0),
)

# The four kinds of event generated, indexed 0..3: a model call, a security threat,
# a cost record and a policy violation. Per kind: source_module, event_type (which is
# also the payload_type), payload_subtype.
_CALL, _THREAT, _COST, _POLICY = range(4)
_KINDS: tuple[tuple[str, str, str], ...] = (
    ("llm-observatory", "telemetry", "llm_call"),
    ("llm-sentinel", "security", "threat"),
    ("llm-cost-ops", "cost", "token_cost"),
    ("llm-policy-engine", "governance", "policy_violation"),
)
_TEAMS = ("search", "support", "assistant", "analytics", "platform")
_ERROR_TYPES = ("rate_limit", "timeout", "server_error", "context_length")
_OPERATIONS = ("chat", "chat", "chat", "completion", "embeddings", "tool")
_PAYLOADS: tuple[tuple[str, ...], ...] = (
    ('{"finish_reason": "stop"}', '{"finish_reason": "error"}'),
    (
        '{"threat_type": "prompt_injection", "mitigation_status": "blocked"}',
        '{"threat_type": "data_exfiltration", "mitigation_status": "detected"}',
    ),
    ('{"currency": "USD"}',),
    ('{"policy_id": "pol-1", "auto_remediated": false}',),
)


def _models(count: int) -> list[_Model]:
    """``count`` models: the known ones first, then synthetic ones."""
    known = list(_MODELS[:count])
    for k in range(len(known), count):
        known.append(_Model(f"model-{k}", f"provider-{k % 3}", 1e-6, 3e-6, 600.0))
    return known


def _uuid7(bits: int, unix_ms: int) -> str:
    """A UUIDv7 in canonical text form: 48 bits of ``unix_ms``, 74 of ``bits``."""
    value = (
        (unix_ms & 0xFFFF_FFFF_FFFF) << 80
        | 0x7 << 76  # version 7
        | (bits >> 62 & 0xFFF) << 64
        | 0b10 << 62  # RFC 4122 variant
        | bits & ((1 << 62) - 1)
    )
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _epoch_us(moment: datetime) -> int:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return (moment - datetime(1970, 1, 1)) // timedelta(microseconds=1)


def make_event_rows(
    n: int,
    *,
    start: datetime,
    tenant: str = "t1",
    tenants: Sequence[str] | None = None,
    step: timedelta = timedelta(milliseconds=10),
    seed: int = 0,
    assets: int = 10,
    models: int = 8,
    error_rate: float = 0.02,
    unpriced_rate: float = 0.03,
    call_share: float = 0.85,
) -> pa.Table:
    """``n`` events in ``EVENT_SCHEMA``; event ``i`` happens at ``start + i * step`` (UTC).

    ``tenants`` (when given) spreads the rows over several tenants at random, else every
    row belongs to ``tenant``. ``call_share`` of the rows are ``telemetry/llm_call``
    events (latency lognormal around each model's median, ``error_rate`` of them failed,
    ``unpriced_rate`` without a cost); the rest are split evenly between security
    threats, token-cost records and policy violations. Event ids are UUIDv7 made from the
    timestamp and ``seed``: the same arguments give the same ids (for any tenant), a
    different ``start`` or ``seed`` gives different ones.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    rng = random.Random(seed)
    rand = rng.random
    lognorm = rng.lognormvariate
    tenant_pool = list(tenants) if tenants else [tenant]
    model_pool = _models(models)
    # Each asset calls two or three of the models, as applications do.
    asset_models = [
        sorted({(a * 3) % models, (a * 5 + 1) % models, (a * 7 + 2) % models})
        for a in range(assets)
    ]
    mu = [math.log(m.median_latency_ms) for m in model_pool]
    start_us = _epoch_us(start)
    step_us = step // timedelta(microseconds=1)
    rows = range(n)

    ts = [start_us + i * step_us for i in rows]
    other_share = (1.0 - call_share) / 3 or 1.0
    kind = [
        _CALL if r < call_share else min(3, 1 + int((r - call_share) / other_share))
        for r in (rand() for _ in rows)
    ]
    asset = [int(rand() * assets) for _ in rows]
    model = [asset_models[a][int(rand() * len(asset_models[a]))] for a in asset]
    call = [k == _CALL for k in kind]
    failed = [c and rand() < error_rate for c in call]
    priced = [
        k == _COST or (c and rand() >= unpriced_rate) for k, c in zip(kind, call, strict=True)
    ]
    has_model = [k in (_CALL, _COST) for k in kind]
    in_tok = [int(lognorm(6.2, 0.8)) if h else None for h in has_model]  # median ~500
    out_tok = [
        (0 if f else int(lognorm(5.3, 0.9))) if h else None  # median ~200
        for h, f in zip(has_model, failed, strict=True)
    ]
    latency = [
        round(lognorm(mu[m], 0.6), 3) if c else None for c, m in zip(call, model, strict=True)
    ]
    ttft = [
        round(lat * 0.25, 3) if lat is not None and not f and rand() < 0.6 else None
        for lat, f in zip(latency, failed, strict=True)
    ]
    cost = [
        model_pool[m].usd_per_input_token * i + model_pool[m].usd_per_output_token * o
        if p and i is not None and o is not None
        else None
        for m, p, i, o in zip(model, priced, in_tok, out_tok, strict=True)
    ]
    severity = [
        "error" if f else ("warning" if k in (_THREAT, _POLICY) else "info")
        for k, f in zip(kind, failed, strict=True)
    ]

    def when(flags: list[bool], make: list[object]) -> list[object]:
        return [v if f else None for f, v in zip(flags, make, strict=True)]

    columns: dict[str, list[object]] = {
        "tenant_id": [tenant_pool[int(rand() * len(tenant_pool))] for _ in rows],
        "event_id": [_uuid7(rng.getrandbits(74), t // 1000) for t in ts],
        "ts": list(ts),
        "claimed_ts": list(ts),
        "received_at": [t + 2_000 + int(rand() * 58_000) for t in ts],
        "skew_ms": [None] * n,
        "source_module": [_KINDS[k][0] for k in kind],
        "event_type": [_KINDS[k][1] for k in kind],
        "severity": list(severity),
        "severity_level": [SEVERITIES.index(s) for s in severity],
        "environment": ["prod" if rand() < 0.9 else "staging" for _ in rows],
        "asset_id": [f"asset-{a:02d}" for a in asset],
        "correlation_id": [f"corr-{rng.getrandbits(32):08x}" for _ in rows],
        "parent_event_id": [None] * n,
        "trace_id": [f"{rng.getrandbits(128):032x}" for _ in rows],
        "span_id": [f"{rng.getrandbits(64):016x}" for _ in rows],
        "schema_version": ["1.0.0"] * n,
        "payload_type": [_KINDS[k][1] for k in kind],
        "payload_subtype": [_KINDS[k][2] for k in kind],
        "tags": [f'{{"team": "{_TEAMS[a % len(_TEAMS)]}"}}' for a in asset],
        "model_id": [
            model_pool[m].model_id if h else None for m, h in zip(model, has_model, strict=True)
        ],
        "provider": [
            model_pool[m].provider if h else None for m, h in zip(model, has_model, strict=True)
        ],
        "operation": when(call, [_OPERATIONS[int(rand() * len(_OPERATIONS))] for _ in rows]),
        "input_tokens": list(in_tok),
        "output_tokens": list(out_tok),
        "cached_input_tokens": [i // 4 if i is not None and rand() < 0.3 else None for i in in_tok],
        "reasoning_tokens": [None] * n,
        "total_tokens": [
            i + o if i is not None and o is not None else None
            for i, o in zip(in_tok, out_tok, strict=True)
        ],
        "latency_ms": list(latency),
        "ttft_ms": list(ttft),
        "cost_usd": list(cost),
        "cost_source": [
            ("provided" if k == _COST else "computed" if p else "unpriced") if h else None
            for k, p, h in zip(kind, priced, has_model, strict=True)
        ],
        "status": [
            ("error" if f else "ok") if c else None for c, f in zip(call, failed, strict=True)
        ],
        "error_type": [_ERROR_TYPES[int(rand() * 4)] if f else None for f in failed],
        "user_id": when(call, [f"user-{int(rand() * 500)}" for _ in rows]),
        "session_id": when(call, [f"sess-{int(rand() * 5000)}" for _ in rows]),
        "request_id": when(call, [f"req-{rng.getrandbits(48):012x}" for _ in rows]),
        "payload": [
            _PAYLOADS[k][int(f)] if k == _CALL else _PAYLOADS[k][int(rand() * len(_PAYLOADS[k]))]
            for k, f in zip(kind, failed, strict=True)
        ],
    }
    # Arrow takes epoch microseconds for timestamp("us") columns directly.
    arrays = [pa.array(columns[f.name], type=f.type) for f in EVENT_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=EVENT_SCHEMA)


def make_minute_rows(
    counts: Sequence[int],
    *,
    start: datetime,
    tenant: str = "t1",
    asset_id: str = "asset-00",
    model_id: str = "gpt-4o",
    seed: int = 0,
    error_rate: float = 0.02,
) -> pa.Table:
    """Model calls of one series: ``counts[i]`` calls spread over minute ``i`` after
    ``start`` (a whole minute), otherwise as :func:`make_event_rows` makes them."""
    total = sum(counts)
    table = make_event_rows(
        total,
        start=start,
        tenant=tenant,
        seed=seed,
        assets=1,
        models=1,
        call_share=1.0,
        error_rate=error_rate,
    )
    base = _epoch_us(start)
    ts: list[int] = []
    for minute, count in enumerate(counts):
        step = 60_000_000 // max(count, 1)
        ts += [base + minute * 60_000_000 + k * step for k in range(count)]
    stamps = pa.array(ts, type=pa.timestamp("us"))
    for name, values in (
        ("ts", stamps),
        ("claimed_ts", stamps),
        ("asset_id", pa.array([asset_id] * total, pa.string())),
        ("model_id", pa.array([model_id] * total, pa.string())),
    ):
        table = table.set_column(table.schema.get_field_index(name), name, values)
    return table


__all__ = ["make_event_rows", "make_minute_rows"]
