"""Model calls, tokens and cost per tenant and model, counted once per group commit."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families

from analytics_hub.api.metrics import HubMetrics
from analytics_hub.testing.rows import make_event_rows


def _samples(metrics: HubMetrics, name: str) -> dict[tuple[str, ...], float]:
    out: dict[tuple[str, ...], float] = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        for sample in family.samples:
            if sample.name == name:
                out[tuple(sorted(sample.labels.items()))] = sample.value  # type: ignore[arg-type]
    return out


def test_a_commit_counts_the_calls_tokens_and_cost_of_each_tenant_and_model() -> None:
    table = make_event_rows(
        3_000, start=datetime(2025, 6, 1), tenants=("acme", "globex"), call_share=0.7, seed=4
    )
    rows = table.to_pylist()
    calls: Counter[tuple[str, str]] = Counter()
    tokens: Counter[tuple[str, str, str]] = Counter()
    cost: Counter[tuple[str, str]] = Counter()
    for r in rows:
        if r["model_id"] is None:
            continue
        key = (r["tenant_id"], r["model_id"])
        calls[key] += r["payload_subtype"] == "llm_call"
        tokens[(*key, "input")] += r["input_tokens"] or 0
        tokens[(*key, "output")] += r["output_tokens"] or 0
        cost[key] += r["cost_usd"] or 0.0
    assert calls
    assert any(r["payload_subtype"] != "llm_call" for r in rows)  # some rows are not calls

    metrics = HubMetrics()
    metrics.business(table.slice(0, 1_000))
    metrics.business(table.slice(1_000))  # two commits add up

    got_calls = _samples(metrics, "hub_llm_requests_total")
    assert got_calls == {
        (("model", m), ("tenant", t)): float(n) for (t, m), n in calls.items() if n
    }
    got_tokens = _samples(metrics, "hub_llm_tokens_total")
    assert got_tokens == {
        (("direction", d), ("model", m), ("tenant", t)): float(n)
        for (t, m, d), n in tokens.items()
        if n
    }
    got_cost = _samples(metrics, "hub_llm_cost_usd_total")
    assert got_cost.keys() == {(("model", m), ("tenant", t)) for (t, m), c in cost.items() if c}
    for (t, m), c in cost.items():
        if c:
            assert got_cost[(("model", m), ("tenant", t))] == pytest.approx(c)


def test_an_empty_commit_counts_nothing() -> None:
    metrics = HubMetrics()
    metrics.business(make_event_rows(1, start=datetime(2025, 6, 1)).slice(0, 0))
    assert _samples(metrics, "hub_llm_requests_total") == {}
