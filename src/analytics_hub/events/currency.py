"""Money to USD through a configurable rate table.

``rates`` maps an ISO 4217 code to the USD value of one unit of it (``{"EUR": 1.08}``:
one euro is 1.08 USD). USD is always known (rate 1). Codes are case-insensitive.

The variants that carry money (``llm_call.cost_usd``; ``token_cost``, ``api_cost``,
``resource_consumption`` and ``budget_alert`` amounts; see ``MONEY_FIELDS``) have a
``currency`` field, USD when absent. When it is another currency, every amount of the
variant is multiplied by the rate, ``currency`` becomes ``USD``, and the stored payload
keeps what was sent under ``original``: ``{"currency": "EUR", "<field>": amount, ...}``.
An unknown currency rejects the event, naming the currency.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import msgspec

from analytics_hub.events.cost import MONEY_FIELDS
from analytics_hub.events.telemetry import LlmCall

AMOUNT_FIELDS: dict[type, tuple[str, ...]] = {LlmCall: ("cost_usd",), **MONEY_FIELDS}


class RateTable:
    """USD value of one unit of each known currency."""

    __slots__ = ("_rates",)

    def __init__(self, rates: Mapping[str, float]) -> None:
        table: dict[str, float] = {"USD": 1.0}
        for code, rate in rates.items():
            upper = code.upper()
            if len(upper) != 3 or not upper.isalpha() or not upper.isascii():
                raise ValueError(f"currency code {code!r} is not a three-letter ISO 4217 code")
            if not isinstance(rate, int | float) or not math.isfinite(rate) or rate <= 0:
                raise ValueError(f"rate of {upper} must be a positive finite number, got {rate!r}")
            if upper == "USD" and rate != 1:
                raise ValueError("the rate of USD is 1 by definition")
            table[upper] = float(rate)
        self._rates = table

    def rate(self, code: str) -> float | None:
        """USD per unit of ``code``, or None when the table does not know it."""
        return self._rates.get(code.upper())

    @property
    def codes(self) -> tuple[str, ...]:
        """The known currency codes, sorted."""
        return tuple(sorted(self._rates))


class Converted(msgspec.Struct, frozen=True, gc=False):
    """A variant with its amounts in USD, and what was sent."""

    data: Any
    original: dict[str, Any]


def to_usd(data: Any, table: RateTable) -> Converted | tuple[str, str] | None:
    """Convert the money of ``data`` to USD.

    Returns None when there is nothing to convert (no money, or already USD), a
    :class:`Converted` when amounts changed or the code was only re-cased, or a
    ``(field, message)`` error: an unknown currency, or an amount that overflows.
    """
    fields = AMOUNT_FIELDS.get(type(data))
    code = getattr(data, "currency", None) if fields else None
    if code is None or code == "USD" or fields is None:
        return None
    rate = table.rate(code)
    if rate is None:
        known = ", ".join(table.codes)
        return "currency", (
            f"unknown currency {code!r}: no rate to USD is configured (known: {known}); "
            "send amounts in USD or ask the operator to add the rate"
        )
    if rate == 1.0 and code.upper() == "USD":
        return Converted(msgspec.structs.replace(data, currency="USD"), {})
    changes: dict[str, Any] = {"currency": "USD"}
    original: dict[str, Any] = {"currency": code.upper()}
    for name in fields:
        amount = getattr(data, name)
        if amount is not None:
            original[name] = amount
            changes[name] = usd = amount * rate
            if not math.isfinite(usd):
                return name, f"{amount!r} {code.upper()} is out of range once converted to USD"
    return Converted(msgspec.structs.replace(data, **changes), original)


__all__ = ["AMOUNT_FIELDS", "Converted", "RateTable", "to_usd"]
