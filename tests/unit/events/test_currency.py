"""Money: conversion to USD with the rate table, and unknown currencies."""

from __future__ import annotations

import json

import pytest

from analytics_hub.events import Normalizer, RateTable

from .builders import decode, event, only_error, only_row


def test_token_cost_in_euros_is_stored_in_dollars(normalizer: Normalizer) -> None:
    row = only_row(decode(normalizer, event("token_cost", data={"currency": "EUR"})))
    assert row["cost_usd"] == pytest.approx(0.015 * 1.1)
    payload = json.loads(row["payload"])
    assert payload["currency"] == "USD"
    assert payload["total_cost_usd"] == pytest.approx(0.0165)
    assert payload["cost_per_prompt_token"] == pytest.approx(0.00003 * 1.1)
    assert payload["original"] == {
        "currency": "EUR",
        "cost_per_prompt_token": 0.00003,
        "cost_per_completion_token": 0.00006,
        "total_cost_usd": 0.015,
    }


@pytest.mark.parametrize(
    ("variant", "fields"),
    [
        ("llm_call", ("cost_usd",)),
        ("api_cost", ("cost_per_request", "total_cost_usd")),
        ("resource_consumption", ("cost_usd",)),
        ("budget_alert", ("budget_limit_usd", "current_spend_usd")),
    ],
)
def test_every_variant_with_money_converts(
    normalizer: Normalizer, variant: str, fields: tuple[str, ...]
) -> None:
    row = only_row(decode(normalizer, event(variant, data={"currency": "gbp"})))
    payload = json.loads(row["payload"])
    assert payload["original"]["currency"] == "GBP"
    for name in fields:
        assert payload[name] == pytest.approx(payload["original"][name] * 1.25)


def test_usd_in_any_case_is_not_converted(normalizer: Normalizer) -> None:
    row = only_row(decode(normalizer, event("token_cost", data={"currency": "usd"})))
    payload = json.loads(row["payload"])
    assert payload["currency"] == "USD"
    assert "original" not in payload
    assert row["cost_usd"] == 0.015


def test_an_unknown_currency_rejects_the_event_naming_it(normalizer: Normalizer) -> None:
    field, message = only_error(decode(normalizer, event("token_cost", data={"currency": "XYZ"})))
    assert field == "payload.data.currency"
    assert "'XYZ'" in message
    assert "EUR" in message  # the known ones are listed


def test_a_batch_converts_only_what_needs_it(normalizer: Normalizer) -> None:
    batch = decode(
        normalizer,
        event(),
        event(data={"currency": "EUR", "cost_usd": 1.0}),
        event(data={"currency": "JPY"}),
        event("token_cost"),
    )
    assert [(e.index, e.field) for e in batch.errors] == [(2, "payload.data.currency")]
    assert batch.table.column("cost_usd").to_pylist() == pytest.approx([0.002, 1.1, 0.015])


def test_a_currency_must_be_three_letters(normalizer: Normalizer) -> None:
    field, _ = only_error(decode(normalizer, event("token_cost", data={"currency": "EURO"})))
    assert field == "payload.data.currency"


def test_token_cost_requires_its_currency(normalizer: Normalizer) -> None:
    assert only_error(decode(normalizer, event("token_cost", data={"currency": ...}))) == (
        "payload.data.currency",
        "required field is missing",
    )


def test_a_conversion_that_overflows_is_rejected() -> None:
    normalizer = Normalizer(currency_rates={"XAU": 3000.0})
    field, message = only_error(
        decode(normalizer, event(data={"currency": "XAU", "cost_usd": 1e306}))
    )
    assert field == "payload.data.cost_usd"
    assert "out of range" in message


@pytest.mark.parametrize(
    ("rates", "words"),
    [
        ({"EURO": 1.1}, "three-letter"),
        ({"EUR": 0}, "positive"),
        ({"EUR": float("nan")}, "positive"),
        ({"USD": 2.0}, "USD is 1"),
    ],
)
def test_the_rate_table_is_validated(rates: dict[str, float], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        RateTable(rates)


def test_the_rate_table_is_case_insensitive() -> None:
    table = RateTable({"eur": 1.1})
    assert table.rate("EUR") == table.rate("eur") == 1.1
    assert table.rate("usd") == 1.0
    assert table.rate("JPY") is None
    assert table.codes == ("EUR", "USD")
