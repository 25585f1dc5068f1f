"""Effective dates and tenant overrides: history is priced at the price of its day, and
an override wins from its first day on."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics_hub.pricing import PriceBook, PricePeriod, TenantPrices, shipped_price_file
from analytics_hub.pricing import book as book_module
from analytics_hub.pricing.book import day_start_us

BOOK = PriceBook(shipped_price_file())


def period(day: str, input: float, output: float, **more: float) -> PricePeriod:
    return PricePeriod(from_=dt.date.fromisoformat(day), input=input, output=output, **more)


def per_million(provider: str, model: str, day: str, overrides: object = None) -> tuple[float, ...]:
    found = BOOK.resolve(provider, model, overrides or {})  # type: ignore[arg-type]
    assert found is not None
    rate = found.rate_at(day_start_us(dt.date.fromisoformat(day)) + 3_600_000_000)
    if rate is None:
        return ()
    return tuple(
        round(x * 1e6, 9) for x in (rate.input, rate.output, rate.cached_input, rate.reasoning)
    )


def test_history_is_priced_at_the_price_of_its_day() -> None:
    assert per_million("openai", "gpt-4o", "2024-06-01") == (5.0, 15.0, 5.0, 15.0)
    assert per_million("openai", "gpt-4o", "2024-10-02") == (2.5, 10.0, 1.25, 10.0)
    assert per_million("openai", "o3", "2025-06-09") == (10.0, 40.0, 2.5, 40.0)
    assert per_million("openai", "o3", "2025-06-10") == (2.0, 8.0, 0.5, 8.0)


def test_a_day_before_the_first_price_has_none() -> None:
    assert per_million("openai", "gpt-4o", "2024-05-12") == ()


def test_a_separate_reasoning_price_is_kept_and_missing_ones_default() -> None:
    # cached_input defaults to input and reasoning to output, unless listed
    assert per_million("google", "gemini-2.5-flash-preview-04-17", "2025-05-01") == (
        0.15,
        0.6,
        0.15,
        3.5,
    )


def test_an_override_wins_from_its_first_day_and_history_keeps_the_shipped_price() -> None:
    overrides = {("openai", "gpt-4o"): [period("2025-01-01", 2.0, 8.0)]}
    assert per_million("openai", "gpt-4o", "2024-12-31", overrides) == (2.5, 10.0, 1.25, 10.0)
    assert per_million("openai", "gpt-4o", "2025-01-01", overrides) == (2.0, 8.0, 2.0, 8.0)
    found = BOOK.resolve("openai", "gpt-4o", overrides)
    assert found is not None
    assert [s for _, s in found.periods] == ["shipped", "shipped", "override"]


def test_an_override_applies_through_aliases_and_dated_names() -> None:
    overrides = {("anthropic", "claude-sonnet-4-20250514"): [period("1970-01-01", 1.0, 2.0)]}
    assert per_million("anthropic", "claude-sonnet-4-0", "2025-07-01", overrides)[:2] == (1, 2)
    openai = {("openai", "gpt-4o"): [period("1970-01-01", 1.0, 2.0)]}
    # overrides are looked up before the shipped table, for every candidate name
    assert per_million("openai", "gpt-4o-2024-08-06", "2025-07-01", openai)[:2] == (1, 2)
    assert per_million("azure", "gpt-4o", "2025-07-01", openai)[:2] == (1, 2)


def test_an_azure_override_does_not_change_openai() -> None:
    overrides = {("azure", "gpt-4o"): [period("1970-01-01", 2.75, 11.0)]}
    assert per_million("azure_openai", "gpt-4o", "2025-07-01", overrides)[:2] == (2.75, 11.0)
    assert per_million("openai", "gpt-4o", "2025-07-01", overrides)[:2] == (2.5, 10.0)


def test_an_override_prices_a_model_the_table_does_not_know() -> None:
    assert BOOK.resolve("vllm", "acme-ft-1", {}) is None
    overrides = {("vllm", "acme-ft-1"): [period("2025-01-01", 0.5, 1.5)]}
    assert per_million("vllm", "acme-ft-1", "2025-02-01", overrides)[:2] == (0.5, 1.5)
    assert per_million("vllm", "acme-ft-1", "2024-12-31", overrides) == ()


def test_the_effective_table_merges_overrides_and_filters() -> None:
    overrides = {
        ("openai", "gpt-4o"): [period("2025-01-01", 2.0, 8.0)],
        ("vllm", "acme-ft-1"): [period("2025-01-01", 0.5, 1.5)],
    }
    entries = BOOK.entries(overrides, provider="openai", model="gpt-4o")
    names = [e.model for e in entries]
    assert {"gpt-4o", "gpt-4o-mini"} <= set(names)
    assert "o3" not in names
    gpt4o = next(e for e in entries if e.model == "gpt-4o")
    assert gpt4o.periods[-1] == (period("2025-01-01", 2.0, 8.0), "override")
    assert [e.model for e in BOOK.entries(overrides, provider="VLLM")] == ["acme-ft-1"]
    # a model fragment also matches aliases
    assert [e.model for e in BOOK.entries({}, model="claude-sonnet-4-0")] == [
        "claude-sonnet-4-20250514"
    ]
    # Azure lists the OpenAI prices it is charged at
    assert BOOK.entries({}, provider="azure_openai") == BOOK.entries({}, provider="openai")


def test_lookups_are_memoised_and_the_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(book_module, "MEMO_LIMIT", 3)
    prices = TenantPrices(BOOK, {})
    first = prices.resolve("openai", "gpt-4o")
    assert prices.resolve("openai", "gpt-4o") is first
    for i in range(10):
        assert prices.resolve("openai", f"made-up-{i}") is None
    assert len(prices._memo) <= 3


def test_the_period_of_a_day_and_its_source() -> None:
    found = BOOK.resolve("openai", "gpt-4o", {("openai", "gpt-4o"): [period("2025-01-01", 2, 8)]})
    assert found is not None
    assert found.period_on(dt.date(2024, 1, 1)) is None
    assert found.period_on(dt.date(2024, 10, 2)) == (
        period("2024-10-02", 2.5, 10.0, cached_input=1.25),
        "shipped",
    )
    assert found.period_on(dt.date(2026, 1, 1)) == (period("2025-01-01", 2, 8), "override")
