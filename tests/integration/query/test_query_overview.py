"""The overview over a real store agrees with the rows written."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Loaded, Reference

START = datetime(2025, 1, 1, 9, 17, 31, tzinfo=UTC)
END = datetime(2025, 1, 1, 13, 41, 12, tzinfo=UTC)


def test_overview_totals_series_and_tops(loaded: Loaded, ref: Reference) -> None:
    overview = loaded.service.overview("t1", from_=START, to=END, bucket="1h")
    start, end = START.replace(tzinfo=None), END.replace(tzinfo=None)
    calls = [
        r for r in loaded.of("t1") if r["payload_subtype"] == "llm_call" and start <= r["ts"] < end
    ]
    errors = [r for r in calls if r["status"] == "error"]
    t = overview.totals
    assert t.requests == len(calls)
    assert t.errors == len(errors)
    assert t.error_rate == pytest.approx(len(errors) / len(calls))
    assert t.input_tokens == sum(r["input_tokens"] for r in calls)
    assert t.output_tokens == sum(r["output_tokens"] for r in calls)
    assert t.cost_usd == pytest.approx(sum(r["cost_usd"] or 0 for r in calls), rel=1e-9)
    assert t.unpriced_events == sum(r["cost_source"] == "unpriced" for r in calls)
    latencies = [r["latency_ms"] for r in calls]
    assert t.p95_latency_ms == pytest.approx(ref.nearest_rank(latencies, 0.95), rel=0.01)
    assert overview.approximate_percentiles

    assert [p.bucket for p in overview.series] == [
        f"2025-01-01T{h:02d}:00:00Z" for h in range(9, 14)
    ]
    assert sum(p.requests for p in overview.series) == t.requests
    assert sum(p.errors for p in overview.series) == t.errors

    cost_by_model: Counter[str] = Counter()
    for r in calls:
        cost_by_model[r["model_id"]] += r["cost_usd"] or 0
    top = overview.top_models_by_cost
    assert [i.key for i in top] == [m for m, _ in cost_by_model.most_common(len(top))]
    errors_by_asset = Counter(r["asset_id"] for r in errors)
    assert len(errors_by_asset) <= 10  # so the top 10 is all of them
    assert {i.key: i.value for i in overview.top_assets_by_errors} == {
        a: float(n) for a, n in errors_by_asset.items()
    }
