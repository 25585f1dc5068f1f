"""Looking prices up: the shipped table plus one tenant's overrides, by (provider, model).

An override applies before the shipped table (rule: every candidate name is tried
against the tenant's overrides first, then against the table; see
:mod:`analytics_hub.pricing.names`). Within one model, an override's periods replace the
shipped ones from the override's first ``from`` on; days before it keep the shipped
price. Results are memoised per tenant, so the ingest path looks each distinct name up
once; the memo is bounded, because model names come from the events.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from analytics_hub.pricing.names import Key, Names, entries_by_key
from analytics_hub.pricing.table import ModelPrices, PriceFile, PricePeriod, normal_name

Source = Literal["shipped", "override"]
MEMO_LIMIT = 10_000  # distinct (provider, model) spellings remembered per tenant
_EPOCH = dt.datetime(1970, 1, 1)
_PER_TOKEN = 1e-6  # prices are per million tokens


def day_start_us(day: dt.date) -> int:
    """Microseconds since the epoch at the start (UTC) of ``day``."""
    return (dt.datetime(day.year, day.month, day.day) - _EPOCH) // dt.timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Rate:
    """One period's prices in USD per token, defaults applied, from ``start_us`` on."""

    start_us: int
    input: float
    output: float
    cached_input: float
    reasoning: float

    @classmethod
    def of(cls, period: PricePeriod) -> Rate:
        """The per-token rate of a per-million price period."""
        cached = period.input if period.cached_input is None else period.cached_input
        reasoning = period.output if period.reasoning is None else period.reasoning
        return cls(
            start_us=day_start_us(period.from_),
            input=period.input * _PER_TOKEN,
            output=period.output * _PER_TOKEN,
            cached_input=cached * _PER_TOKEN,
            reasoning=reasoning * _PER_TOKEN,
        )


DAY_US = 86_400_000_000
RateRow = tuple[float, float, float, float]  # input, output, cached input, reasoning
NO_RATE: RateRow = (math.nan, math.nan, math.nan, math.nan)


@dataclass(frozen=True, slots=True)
class Resolved:
    """What an event's (provider, model) resolved to: the entry and its periods."""

    provider: str
    model: str
    periods: tuple[tuple[PricePeriod, Source], ...]  # oldest first
    rates: tuple[Rate, ...]  # the same periods, per token
    # Rates by day number: periods start at midnight, so one day has one rate.
    _days: dict[int, RateRow] = field(default_factory=dict, compare=False, repr=False)

    def day_rates(self, day: int) -> RateRow:
        """The per-token rates on day ``day`` (days since the epoch); NaN: no price."""
        try:
            return self._days[day]
        except KeyError:
            pass
        rate = self.rate_at(day * DAY_US)
        row = (
            NO_RATE
            if rate is None
            else (rate.input, rate.output, rate.cached_input, rate.reasoning)
        )
        if len(self._days) < 4096:  # a bounded memo: event days are few
            self._days[day] = row
        return row

    def period_on(self, day: dt.date) -> tuple[PricePeriod, Source] | None:
        """The period in force on ``day`` and where it comes from (None: before the first)."""
        found = None
        for period in self.periods:
            if period[0].from_ > day:
                break
            found = period
        return found

    def rate_at(self, moment_us: int) -> Rate | None:
        """The rate in force at ``moment_us`` (None before the first period)."""
        found = None
        for rate in self.rates:
            if rate.start_us > moment_us:
                break
            found = rate
        return found


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the effective table a tenant sees."""

    provider: str
    model: str
    aliases: tuple[str, ...]
    periods: tuple[tuple[PricePeriod, Source], ...]


Overrides = Mapping[Key, Sequence[PricePeriod]]  # (provider, model) -> periods, oldest first


def merge(
    shipped: Sequence[PricePeriod], override: Sequence[PricePeriod]
) -> tuple[tuple[PricePeriod, Source], ...]:
    """Shipped periods before the override's first day, then the override's."""
    if not override:
        return tuple((p, "shipped") for p in shipped)
    first = override[0].from_
    kept: list[tuple[PricePeriod, Source]] = [(p, "shipped") for p in shipped if p.from_ < first]
    return (*kept, *((p, "override") for p in override))


class PriceBook:
    """The shipped table, indexed for lookups. Immutable; shared by every tenant."""

    def __init__(self, table: PriceFile) -> None:
        self.table = table
        self.names = Names(table)
        self._entries: dict[Key, ModelPrices] = entries_by_key(table)

    def resolve(self, provider: str, model: str, overrides: Overrides) -> Resolved | None:
        """The prices for an event's provider and model, or None when it has none."""
        keys = self.names.candidates(provider, model)
        hit = next((k for k in keys if k in overrides), None)
        shipped_key = next((k for k in keys if k in self._entries), None)
        if hit is None and shipped_key is None:
            return None
        if hit is not None:
            # The shipped periods of the same model fill the days before the override.
            base = self._entries.get(hit) or self._entries.get(shipped_key or hit)
            periods = merge(base.prices if base else (), overrides[hit])
            key = hit
        else:
            assert shipped_key is not None
            periods = merge(self._entries[shipped_key].prices, ())
            key = shipped_key
        return Resolved(key[0], key[1], periods, tuple(Rate.of(p) for p, _ in periods))

    def entries(
        self, overrides: Overrides, *, provider: str | None = None, model: str | None = None
    ) -> list[Entry]:
        """The effective table: shipped models with overrides merged in, then models only
        overrides know; filtered by provider (any spelling; Azure lists the OpenAI prices
        it uses) and a model name fragment."""
        providers = self.names.chain(self.names.provider(provider)) if provider else None
        fragment = normal_name(model) if model else None
        out: list[Entry] = []
        for key, entry in self._entries.items():
            periods = merge(entry.prices, overrides.get(key, ()))
            out.append(Entry(key[0], key[1], tuple(entry.aliases), periods))
        for key, override in sorted(overrides.items()):
            if key not in self._entries:
                out.append(Entry(key[0], key[1], (), merge((), override)))
        return [
            e
            for e in out
            if (providers is None or e.provider in providers)
            and (fragment is None or any(fragment in n for n in (e.model, *e.aliases)))
        ]


class TenantPrices:
    """One tenant's view of the book: lookups memoised. Safe to share between threads
    (a lost race only repeats a lookup)."""

    def __init__(self, book: PriceBook, overrides: Overrides) -> None:
        self.book = book
        self.overrides = overrides
        self._memo: dict[tuple[str, str], Resolved | None] = {}

    def resolve(self, provider: str, model: str) -> Resolved | None:
        """:meth:`PriceBook.resolve` for this tenant, memoised."""
        key = (provider, model)
        try:
            return self._memo[key]
        except KeyError:
            pass
        found = self.book.resolve(provider, model, self.overrides)
        if len(self._memo) >= MEMO_LIMIT:
            self._memo.clear()  # hostile or endless names: start over rather than grow
        self._memo[key] = found
        return found


__all__ = [
    "DAY_US",
    "MEMO_LIMIT",
    "NO_RATE",
    "Entry",
    "Overrides",
    "PriceBook",
    "Rate",
    "RateRow",
    "Resolved",
    "Source",
    "TenantPrices",
    "day_start_us",
    "merge",
]
