"""Lifting the hot fields of each payload variant into real columns.

Which variant feeds which column (everything else stays in the ``payload`` JSON):

====================  ===============================================================
variant               columns
====================  ===============================================================
llm_call              all of them; ``total_tokens`` = input + output (+ reasoning when
                      ``reasoning_included`` is false)
latency               model_id, latency_ms (= total_latency_ms), ttft_ms, request_id
token_usage           model_id, request_id, input/output/total tokens (prompt,
                      completion, total)
throughput,           model_id
error_rate,
model_performance
token_cost            model_id, request_id, input/output/total tokens, cost_usd
                      (= total_cost_usd, in USD)
api_cost              provider, cost_usd (= total_cost_usd)
resource_consumption  cost_usd
auth                  user_id
policy_violation      user_id
====================  ===============================================================

``cost_source`` is ``provided`` when the event carries a cost and null otherwise: the
pricing stage of ``ingest`` fills it (``computed`` or ``unpriced``) for model calls
that carry tokens but no cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec.inspect
import pyarrow as pa
import pyarrow.compute as pc
from msgspec.structs import astuple

from analytics_hub.events.arrays import ColumnBuilder
from analytics_hub.events.columns import COLUMNS_BY_NAME
from analytics_hub.events.cost import ApiCost, CostData, ResourceConsumption, TokenCost
from analytics_hub.events.custom import CustomData
from analytics_hub.events.governance import GovernanceData, PolicyViolation
from analytics_hub.events.lifecycle import Asset
from analytics_hub.events.security import Auth, SecurityData
from analytics_hub.events.telemetry import (
    ErrorRate,
    Latency,
    LlmCall,
    ModelPerformance,
    TelemetryData,
    Throughput,
    TokenUsage,
)

DATA_COLUMNS: tuple[str, ...] = (
    "model_id",
    "provider",
    "operation",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "reasoning_tokens",
    "total_tokens",
    "latency_ms",
    "ttft_ms",
    "cost_usd",
    "cost_source",
    "status",
    "error_type",
    "user_id",
    "session_id",
    "request_id",
)

_LLM_CALL_DIRECT = tuple(c for c in DATA_COLUMNS if c not in ("total_tokens", "cost_source"))

# column -> attribute of the variant
LIFTS: dict[type, dict[str, str]] = {
    LlmCall: {c: c for c in _LLM_CALL_DIRECT},
    Latency: {
        "model_id": "model_id",
        "latency_ms": "total_latency_ms",
        "ttft_ms": "ttft_ms",
        "request_id": "request_id",
    },
    TokenUsage: {
        "model_id": "model_id",
        "request_id": "request_id",
        "input_tokens": "prompt_tokens",
        "output_tokens": "completion_tokens",
        "total_tokens": "total_tokens",
    },
    Throughput: {"model_id": "model_id"},
    ErrorRate: {"model_id": "model_id"},
    ModelPerformance: {"model_id": "model_id"},
    TokenCost: {
        "model_id": "model_id",
        "request_id": "request_id",
        "input_tokens": "prompt_tokens",
        "output_tokens": "completion_tokens",
        "total_tokens": "total_tokens",
        "cost_usd": "total_cost_usd",
    },
    ApiCost: {"provider": "provider", "cost_usd": "total_cost_usd"},
    ResourceConsumption: {"cost_usd": "cost_usd"},
    Auth: {"user_id": "user_id"},
    PolicyViolation: {"user_id": "user_id"},
}


def _members(union: Any) -> tuple[type, ...]:
    return tuple(getattr(union, "__args__", (union,)))


# variant class -> (payload_type, payload_subtype); custom takes custom_type per event.
KIND_OF: dict[type, tuple[str, str]] = {
    cls: (kind, str(msgspec.inspect.type_info(cls).tag))  # type: ignore[attr-defined]
    for kind, union in (
        ("telemetry", TelemetryData),
        ("security", SecurityData),
        ("cost", CostData),
        ("governance", GovernanceData),
        ("lifecycle", Asset),
    )
    for cls in _members(union)
}
KIND_OF[CustomData] = ("custom", "")


def _type(column: str) -> pa.DataType:
    return COLUMNS_BY_NAME[column].arrow_type


# Columns that usually hold a single value within a batch (see ColumnBuilder.column).
_FEW = frozenset(
    {
        "model_id",
        "provider",
        "operation",
        "cached_input_tokens",
        "reasoning_tokens",
        "status",
        "error_type",
    }
)


def lift(cls: type, datas: Sequence[Any], build: ColumnBuilder) -> list[pa.Array]:
    """The ``DATA_COLUMNS`` arrays of ``datas``, all instances of ``cls``."""
    spec = LIFTS.get(cls, {})
    # Transposed in one pass over the structs (see normalize_batch).
    names: tuple[str, ...] = cls.__struct_fields__  # type: ignore[attr-defined]
    fields: dict[str, Sequence[Any]] = dict(
        zip(names, zip(*map(astuple, datas), strict=True), strict=True)
    )
    arrays: dict[str, pa.Array] = {}
    for column in DATA_COLUMNS:
        attr = spec.get(column)
        if attr is None:
            arrays[column] = build.repeat(None, _type(column))
        else:
            arrays[column] = build.column(fields[attr], _type(column), few=column in _FEW)
    if cls is LlmCall:
        arrays["total_tokens"] = _llm_total_tokens(fields, arrays)
    if "cost_usd" in spec:
        arrays["cost_source"] = _cost_source(fields[spec["cost_usd"]], build)
    return [arrays[c] for c in DATA_COLUMNS]


def _cost_source(costs: Sequence[float | None], build: ColumnBuilder) -> pa.Array:
    missing = costs.count(None)
    if missing in (0, len(costs)):  # all priced, or none: one value throughout
        return build.repeat(None if missing else "provided", pa.string())
    return pa.array(["provided" if c is not None else None for c in costs], pa.string())


def _llm_total_tokens(fields: dict[str, Sequence[Any]], arrays: dict[str, pa.Array]) -> pa.Array:
    total = pc.add(arrays["input_tokens"], arrays["output_tokens"])
    included = fields["reasoning_included"]
    if all(included):
        return total
    extra = [
        0 if inc else (r or 0) for r, inc in zip(fields["reasoning_tokens"], included, strict=True)
    ]
    return pc.add(total, pa.array(extra, pa.int64()))


__all__ = ["DATA_COLUMNS", "KIND_OF", "LIFTS", "lift"]
