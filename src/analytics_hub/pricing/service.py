"""Pricing as a feature: the ingest step, tenants' overrides, and re-pricing.

One :class:`PricingService` per hub. Ingest calls :meth:`PricingService.price` on every
batch; it must stay cheap, so a tenant's overrides are read from the control store at
most every ``refresh_seconds`` (and at once after this process changes them), and name
lookups are memoised per tenant. Overrides written by another process (``analytics-hub
prices import`` beside a running server) take effect within ``refresh_seconds``.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import msgspec
import pyarrow as pa
import structlog

from analytics_hub.control.base import ControlStore, PriceOverrideRecord
from analytics_hub.errors import UnavailableError, ValidationError
from analytics_hub.pricing.book import Entry, Overrides, PriceBook, Resolved, TenantPrices
from analytics_hub.pricing.compute import costs_array, price_batch
from analytics_hub.pricing.names import Key
from analytics_hub.pricing.table import PriceFile, PricePeriod
from analytics_hub.store.base import EventStore, RepriceReport

log = structlog.get_logger(__name__)
FUTURE_MARGIN = dt.timedelta(days=1)  # the default reprice range ends this far ahead


@dataclass(frozen=True, slots=True)
class OverrideInput:
    """An override as a caller gives it (any provider spelling, any model case)."""

    provider: str
    model: str
    period: PricePeriod


class _Repricer:
    """The :class:`~analytics_hub.store.base.Repricer` of one tenant's prices."""

    def __init__(self, prices: TenantPrices) -> None:
        self._prices = prices

    def covers(self, provider: str, model_id: str) -> bool:
        return self._prices.resolve(provider, model_id) is not None

    def costs(self, rows: pa.Table) -> pa.Array:
        return costs_array(rows, self._prices.resolve)


def _aware(moment: dt.datetime) -> dt.datetime:
    """``moment`` with a zone; a naive time is UTC, as everywhere in the hub."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _period_of(record: PriceOverrideRecord) -> PricePeriod:
    return PricePeriod(
        from_=record.valid_from,
        input=record.input,
        output=record.output,
        cached_input=record.cached_input,
        reasoning=record.reasoning,
    )


class PricingService:
    """Prices model calls for every tenant; keeps and applies their overrides."""

    def __init__(
        self,
        book: PriceBook,
        control: ControlStore | None = None,
        store: EventStore | None = None,
        *,
        raw_days: int = 30,
        refresh_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.book = book
        self._control = control
        self._store = store
        self._raw_days = raw_days
        self._refresh = refresh_seconds
        self._clock = clock
        self._tenants: dict[str, tuple[float, TenantPrices]] = {}
        self._lock = threading.Lock()
        self._reprice_locks: dict[str, threading.Lock] = {}

    # -- lookups ------------------------------------------------------------------------

    def tenant(self, tenant_id: str) -> TenantPrices:
        """The tenant's prices: the shipped table with its overrides."""
        now = self._clock()
        cached = self._tenants.get(tenant_id)
        if cached is not None and now - cached[0] < self._refresh:
            return cached[1]
        try:
            overrides = self._load_overrides(tenant_id)
        except Exception as exc:  # the port names no error type; any failure to read
            if cached is not None:  # a stale view beats failing ingest for a refresh
                log.warning("price overrides not refreshed", tenant=tenant_id, error=str(exc))
                return cached[1]
            # Pricing without the overrides would record wrong costs as computed.
            raise UnavailableError(f"cannot read the price overrides: {exc}") from exc
        prices = TenantPrices(self.book, overrides)
        with self._lock:
            self._tenants[tenant_id] = (now, prices)
        return prices

    def _load_overrides(self, tenant_id: str) -> Overrides:
        if self._control is None:
            return {}
        by_key: dict[Key, list[PricePeriod]] = {}
        for record in self._control.list_price_overrides(tenant_id):
            by_key.setdefault((record.provider, record.model), []).append(_period_of(record))
        return {key: sorted(periods, key=lambda p: p.from_) for key, periods in by_key.items()}

    def _forget(self, tenant_id: str) -> None:
        with self._lock:
            self._tenants.pop(tenant_id, None)

    def price(self, tenant_id: str, table: pa.Table) -> pa.Table:
        """The ingest step: ``table`` (``EVENT_SCHEMA``) with its model calls priced."""
        if table.column("cost_usd").null_count == 0:
            return table  # every event carries its cost (or none is a model call)
        return price_batch(table, self.tenant(tenant_id).resolve)

    def resolve(self, tenant_id: str, provider: str, model: str) -> Resolved | None:
        """What an event of ``tenant_id`` with this provider and model is priced at."""
        return self.tenant(tenant_id).resolve(provider, model)

    def entries(
        self, tenant_id: str, *, provider: str | None = None, model: str | None = None
    ) -> list[Entry]:
        """The effective table of a tenant, filtered by provider and model fragment."""
        prices = self.tenant(tenant_id)
        return self.book.entries(prices.overrides, provider=provider, model=model)

    # -- overrides ----------------------------------------------------------------------

    def key(self, provider: str, model: str) -> Key:
        """How an override's provider and model are stored (canonical, normalised)."""
        canonical = self.book.names.provider(provider)
        name = self.book.names.model(canonical, model)
        if not canonical or not name:
            raise ValidationError("an override needs a provider and a model")
        return canonical, name

    def _control_store(self) -> ControlStore:
        if self._control is None:
            raise UnavailableError("price overrides need the control store")
        return self._control

    def put_override(self, tenant_id: str, override: OverrideInput) -> PriceOverrideRecord:
        """Store one override period (replacing one of the same model and day)."""
        try:
            period = msgspec.convert(msgspec.to_builtins(override.period), PricePeriod)
        except msgspec.ValidationError as exc:  # the same limits as the price file
            raise ValidationError(f"invalid price: {exc}") from None
        provider, model = self.key(override.provider, override.model)
        record = PriceOverrideRecord(
            tenant_id=tenant_id,
            provider=provider,
            model=model,
            valid_from=period.from_,
            input=period.input,
            output=period.output,
            cached_input=period.cached_input,
            reasoning=period.reasoning,
            updated_at=dt.datetime.now(dt.UTC),
        )
        self._control_store().put_price_override(record)
        self._forget(tenant_id)
        return record

    def delete_overrides(
        self, tenant_id: str, provider: str, model: str, valid_from: dt.date | None = None
    ) -> int:
        """Delete one model's override periods (one day's, or all); how many went."""
        canonical, name = self.key(provider, model)
        deleted = self._control_store().delete_price_overrides(
            tenant_id, canonical, name, valid_from
        )
        self._forget(tenant_id)
        return deleted

    def import_overrides(self, tenant_id: str, file: PriceFile, *, replace: bool = False) -> int:
        """Store every period of an override file; ``replace`` first deletes each listed
        model's other periods. Returns the number of periods stored."""
        stored = 0
        for entry in file.models:
            if replace:
                self.delete_overrides(tenant_id, entry.provider, entry.model)
            for period in entry.prices:
                self.put_override(tenant_id, OverrideInput(entry.provider, entry.model, period))
                stored += 1
        return stored

    # -- re-pricing ---------------------------------------------------------------------

    def reprice(
        self,
        tenant_id: str,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        *,
        recompute: bool = False,
    ) -> RepriceReport:
        """Price the tenant's unpriced model calls again (``recompute``: computed ones
        too). The range defaults to the raw retention up to a day ahead."""
        if self._store is None:
            raise UnavailableError("re-pricing needs the event store")
        now = dt.datetime.now(dt.UTC)
        start = _aware(start) if start else now - dt.timedelta(days=self._raw_days)
        end = _aware(end) if end else now + FUTURE_MARGIN
        if start >= end:
            raise ValidationError("the range to re-price must have from < to")
        self._forget(tenant_id)  # price with what the control store says now
        with self._lock:
            lock = self._reprice_locks.setdefault(tenant_id, threading.Lock())
        with lock:  # two passes of one tenant would only repeat each other's reads
            return self._store.reprice(
                tenant_id, start, end, _Repricer(self.tenant(tenant_id)), recompute=recompute
            )


__all__ = ["FUTURE_MARGIN", "OverrideInput", "PricingService"]
