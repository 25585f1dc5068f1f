"""Re-pricing changes stored calls and their rollups together: after every pass the
rollups still equal the aggregates of the raw events."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from tests.integration.store.test_rollups import (
    START,
    TABLES,
    assert_matches,
    reference,
    rolled_up,
    write_interleaved,
)

from analytics_hub.control.sqlite import SQLiteControlStore
from analytics_hub.pricing import (
    OverrideInput,
    PriceBook,
    PricePeriod,
    PricingService,
    shipped_price_file,
)
from analytics_hub.store import duckdb_pricing, postgres_pricing
from analytics_hub.store.base import EventStore
from analytics_hub.testing.rows import make_event_rows

END = START + timedelta(days=1)


class FlatRates:
    """Prices the models it knows at a flat rate per token (input, output)."""

    def __init__(self, rates: dict[str, tuple[float, float]]) -> None:
        self.rates = rates
        self.rows_priced = 0

    def covers(self, provider: str, model_id: str) -> bool:
        return model_id in self.rates

    def costs(self, rows: pa.Table) -> pa.Array:
        self.rows_priced += rows.num_rows
        out = []
        for model, inp, outp in zip(
            rows["model_id"].to_pylist(),
            rows["input_tokens"].to_pylist(),
            rows["output_tokens"].to_pylist(),
            strict=True,
        ):
            rate = self.rates.get(model)
            out.append(None if rate is None else inp * rate[0] + outp * rate[1])
        return pa.array(out, pa.float64())


def stored(store: EventStore) -> list[dict[str, Any]]:
    result = store.fetch("SELECT * FROM events", [])
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def assert_rollups_match(store: EventStore) -> None:
    rows = stored(store)
    for table, (unit, dims) in TABLES.items():
        assert_matches(rolled_up(store, table), reference(rows, unit, dims))


@pytest.fixture
def written(store: EventStore) -> pa.Table:
    table = make_event_rows(
        12_000,
        start=START,
        step=timedelta(milliseconds=900),
        tenants=["t1", "t2"],
        seed=21,
        unpriced_rate=0.3,
    )
    write_interleaved(store, table)
    return table


def unpriced(store: EventStore, tenant: str, model: str | None = None) -> int:
    sql = "SELECT count(*) FROM events WHERE tenant_id = ? AND cost_source = 'unpriced'"
    params: list[object] = [tenant]
    if model:
        sql += " AND model_id = ?"
        params.append(model)
    return int(store.fetch(sql, params).rows[0][0])


def test_repricing_prices_the_covered_models_and_keeps_rollups_exact(
    store: EventStore, written: pa.Table
) -> None:
    before = {r["event_id"]: r for r in stored(store)}
    gpt4o, other = unpriced(store, "t1", "gpt-4o"), unpriced(store, "t1")
    assert gpt4o > 50
    assert other > gpt4o
    repricer = FlatRates({"gpt-4o": (2.5e-6, 10e-6)})

    report = store.reprice("t1", START, END, repricer)

    assert (report.examined, report.repriced, report.unpriced) == (gpt4o, gpt4o, 0)
    assert repricer.rows_priced == gpt4o  # calls of models still unpriced are never read
    assert unpriced(store, "t1", "gpt-4o") == 0
    assert unpriced(store, "t1") == other - gpt4o
    for row in stored(store):
        old = before[row["event_id"]]
        if (
            old["tenant_id"] == "t1"
            and old["model_id"] == "gpt-4o"
            and old["cost_source"] == "unpriced"
        ):
            assert row["cost_source"] == "computed"
            want = old["input_tokens"] * 2.5e-6 + old["output_tokens"] * 10e-6
            assert row["cost_usd"] == pytest.approx(want)
        else:  # other tenants, models, provided and computed costs: untouched
            assert row == old
    assert_rollups_match(store)
    assert store.reprice("t1", START, END, repricer).examined == 0  # nothing left to do


def test_repricing_only_touches_its_time_range(store: EventStore, written: pa.Table) -> None:
    middle = START + timedelta(hours=1, minutes=30)
    total = unpriced(store, "t2", "gpt-4o")
    report = store.reprice("t2", START, middle, FlatRates({"gpt-4o": (1e-6, 1e-6)}))
    left = int(
        store.fetch(
            "SELECT count(*) FROM events WHERE tenant_id = 't2' AND model_id = 'gpt-4o'"
            " AND cost_source = 'unpriced' AND ts >= ?",
            [middle],
        ).rows[0][0]
    )
    assert 0 < report.repriced < total
    assert unpriced(store, "t2", "gpt-4o") == left == total - report.repriced
    assert_rollups_match(store)


def test_recompute_follows_a_changed_price_and_a_removed_one(
    store: EventStore, written: pa.Table
) -> None:
    store.reprice(
        "t1", START, END, FlatRates({"gpt-4o": (1e-6, 1e-6), "gpt-4o-mini": (1e-7, 1e-7)})
    )
    computed = int(
        store.fetch(
            "SELECT count(*) FROM events WHERE tenant_id = 't1' AND cost_source = 'computed'"
            " AND model_id IN ('gpt-4o', 'gpt-4o-mini')",
            [],
        ).rows[0][0]
    )
    # gpt-4o's price changes; gpt-4o-mini's goes away: its calls become unpriced
    report = store.reprice("t1", START, END, FlatRates({"gpt-4o": (3e-6, 3e-6)}), recompute=True)
    assert report.examined >= computed
    assert unpriced(store, "t1", "gpt-4o-mini") == int(
        store.fetch(
            "SELECT count(*) FROM events WHERE tenant_id = 't1' AND model_id = 'gpt-4o-mini'"
            " AND payload_subtype = 'llm_call' AND cost_source <> 'provided'",
            [],
        ).rows[0][0]
    )
    assert_rollups_match(store)
    provided = store.fetch("SELECT count(*) FROM events WHERE cost_source = 'provided'", []).rows[
        0
    ][0]
    assert provided == pc.sum(pc.equal(written["cost_source"], "provided")).as_py()


def test_small_slices_give_the_same_result_and_compaction_keeps_it(
    store: EventStore, written: pa.Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    for backend in (duckdb_pricing, postgres_pricing):
        monkeypatch.setattr(backend, "SLICE_EVENTS", 40)  # many transactions
    gpt4o = unpriced(store, "t1", "gpt-4o")
    report = store.reprice("t1", START, END, FlatRates({"gpt-4o": (2e-6, 8e-6)}))
    assert report.repriced == gpt4o
    assert_rollups_match(store)
    store.compact_rollups(datetime(2100, 1, 1))
    assert_rollups_match(store)


def test_an_override_then_a_reprice_through_the_pricing_service(
    store: EventStore, written: pa.Table, tmp_path: Path
) -> None:
    control = SQLiteControlStore(tmp_path / "control.sqlite")
    service = PricingService(PriceBook(shipped_price_file()), control, store)
    llama, sonnet = unpriced(store, "t1", "llama-3.1-70b"), unpriced(store, "t1", "claude-sonnet-4")
    assert llama > 0
    assert sonnet > 0
    # The shipped table knows gpt-4o (priced now) but not this spelling of Llama, and
    # claude-sonnet-4 only from 2025-05-22: these calls of 2025-03-01 keep no price.
    first = service.reprice("t1", START, END)
    assert unpriced(store, "t1", "gpt-4o") == 0
    assert unpriced(store, "t1", "llama-3.1-70b") == llama
    assert unpriced(store, "t1", "claude-sonnet-4") == sonnet
    assert first.unpriced == sonnet  # read (the model has a price on some day), not priced

    period = PricePeriod(from_=START.date(), input=0.88, output=0.88)
    service.put_override("t1", OverrideInput("together_ai", "Llama-3.1-70B", period))
    second = service.reprice("t1", START, END)
    assert second.repriced == llama
    assert unpriced(store, "t1", "llama-3.1-70b") == 0
    assert unpriced(store, "t2", "llama-3.1-70b") > 0  # another tenant's override only
    assert_rollups_match(store)
    control.close()
