"""Model prices: the effective table of the caller's tenant, its overrides, re-pricing."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import anyio.to_thread
import structlog
from fastapi import APIRouter, BackgroundTasks, Query, Request
from pydantic import BaseModel, Field

from analytics_hub.api.context import services
from analytics_hub.api.deps import AdminCaller, ReadCaller
from analytics_hub.errors import NotFoundError
from analytics_hub.pricing import Entry, OverrideInput, PricePeriod, PricingService

router = APIRouter(prefix="/api/v1/prices", tags=["prices"])
log = structlog.get_logger(__name__)

_USD = "USD per million tokens"


class PeriodOut(BaseModel):
    from_: dt.date = Field(alias="from", description="first day (UTC) of this price")
    input: float = Field(description=_USD)
    output: float = Field(description=_USD)
    cached_input: float | None = Field(description=f"{_USD}; null: as input")
    reasoning: float | None = Field(description=f"{_USD}; null: as output")
    source: str = Field(description="shipped (the hub's table) or override (this tenant's)")


class PriceEntryOut(BaseModel):
    provider: str
    model: str
    aliases: list[str]
    periods: list[PeriodOut] = Field(description="oldest first; each lasts until the next")


class PriceTableOut(BaseModel):
    checked: dt.date | None = Field(description="when the shipped prices were last checked")
    items: list[PriceEntryOut]


class ResolvedOut(BaseModel):
    provider: str = Field(description="the entry the event's provider and model matched")
    model: str
    price: PeriodOut | None = Field(description="the price in force at `at`; null: none")


class OverrideIn(BaseModel):
    provider: str = Field(min_length=1, max_length=200, description="any spelling")
    model: str = Field(min_length=1, max_length=200)
    from_: dt.date = Field(
        default=dt.date(1970, 1, 1), alias="from", description="first day (UTC); default: always"
    )
    input: float = Field(ge=0, description=_USD)
    output: float = Field(ge=0, description=_USD)
    cached_input: float | None = Field(default=None, ge=0, description=f"{_USD}; null: as input")
    reasoning: float | None = Field(default=None, ge=0, description=f"{_USD}; null: as output")


class OverrideOut(BaseModel):
    provider: str = Field(description="canonical provider")
    model: str = Field(description="normalised model name")
    from_: dt.date = Field(alias="from")
    input: float
    output: float
    cached_input: float | None
    reasoning: float | None
    reprice: str = Field(description="`scheduled`: unpriced calls are re-priced in the background")


class DeletedOut(BaseModel):
    deleted: int = Field(
        description="periods deleted; calls already computed keep their cost until a"
        " reprice with `recompute`"
    )


class RepriceIn(BaseModel):
    from_: dt.datetime | None = Field(
        default=None, alias="from", description="default: the raw retention ago"
    )
    to: dt.datetime | None = Field(default=None, description="default: a day from now")
    recompute: bool = Field(
        default=False, description="also price again calls already computed (not provided ones)"
    )


class RepriceOut(BaseModel):
    examined: int = Field(description="model calls looked at")
    repriced: int = Field(description="model calls whose cost changed")
    unpriced: int = Field(description="model calls looked at that still have no price")


def _period(period: PricePeriod, source: str) -> PeriodOut:
    return PeriodOut.model_validate(
        {
            "from": period.from_,
            "input": period.input,
            "output": period.output,
            "cached_input": period.cached_input,
            "reasoning": period.reasoning,
            "source": source,
        }
    )


def _entry(entry: Entry) -> PriceEntryOut:
    return PriceEntryOut(
        provider=entry.provider,
        model=entry.model,
        aliases=list(entry.aliases),
        periods=[_period(p, s) for p, s in entry.periods],
    )


def _reprice_later(pricing: PricingService, tenant_id: str) -> None:
    """Background re-pricing after an override changed; a failure is only logged."""
    try:
        report = pricing.reprice(tenant_id)
        log.info("re-priced after an override", tenant=tenant_id, repriced=report.repriced)
    except Exception as exc:  # the override is stored: a later reprice can finish the job
        log.warning("re-pricing after an override failed", tenant=tenant_id, error=str(exc))


@router.get("", response_model=PriceTableOut, summary="The effective price table")
async def list_prices(
    request: Request,
    caller: ReadCaller,
    provider: Annotated[str | None, Query(description="any spelling")] = None,
    model: Annotated[str | None, Query(description="part of a model name or alias")] = None,
) -> PriceTableOut:
    pricing = services(request).pricing
    entries = await anyio.to_thread.run_sync(
        lambda: pricing.entries(caller.tenant_id, provider=provider, model=model)
    )
    return PriceTableOut(checked=pricing.book.table.checked, items=[_entry(e) for e in entries])


@router.get("/resolve", response_model=ResolvedOut, summary="The price an event would get")
async def resolve_price(
    request: Request,
    caller: ReadCaller,
    provider: Annotated[str, Query(min_length=1)],
    model: Annotated[str, Query(min_length=1)],
    at: Annotated[dt.datetime | None, Query(description="event time; default: now")] = None,
) -> ResolvedOut:
    pricing = services(request).pricing
    found = await anyio.to_thread.run_sync(pricing.resolve, caller.tenant_id, provider, model)
    if found is None:
        raise NotFoundError(
            f"no price for provider {provider!r} and model {model!r}: its calls are unpriced"
            " (add an override with PUT /api/v1/prices/overrides)"
        )
    moment = at or dt.datetime.now(dt.UTC)
    day = (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(dt.UTC).date()
    current = found.period_on(day)
    price = _period(*current) if current else None
    return ResolvedOut(provider=found.provider, model=found.model, price=price)


@router.put("/overrides", response_model=OverrideOut, summary="Set a tenant price override")
async def put_override(
    request: Request, caller: AdminCaller, body: OverrideIn, background: BackgroundTasks
) -> OverrideOut:
    pricing = services(request).pricing
    period = PricePeriod(
        from_=body.from_,
        input=body.input,
        output=body.output,
        cached_input=body.cached_input,
        reasoning=body.reasoning,
    )
    record = await anyio.to_thread.run_sync(
        pricing.put_override, caller.tenant_id, OverrideInput(body.provider, body.model, period)
    )
    background.add_task(anyio.to_thread.run_sync, _reprice_later, pricing, caller.tenant_id)
    return OverrideOut.model_validate(
        {
            "provider": record.provider,
            "model": record.model,
            "from": record.valid_from,
            "input": record.input,
            "output": record.output,
            "cached_input": record.cached_input,
            "reasoning": record.reasoning,
            "reprice": "scheduled",
        }
    )


@router.delete("/overrides", response_model=DeletedOut, summary="Delete tenant price overrides")
async def delete_overrides(
    request: Request,
    caller: AdminCaller,
    provider: Annotated[str, Query(min_length=1)],
    model: Annotated[str, Query(min_length=1)],
    from_: Annotated[dt.date | None, Query(alias="from", description="one period only")] = None,
) -> DeletedOut:
    pricing = services(request).pricing
    deleted = await anyio.to_thread.run_sync(
        pricing.delete_overrides, caller.tenant_id, provider, model, from_
    )
    if not deleted:
        raise NotFoundError(f"no override of {provider!r} {model!r} for this tenant")
    return DeletedOut(deleted=deleted)


@router.post("/reprice", response_model=RepriceOut, summary="Re-price unpriced model calls now")
async def reprice(request: Request, caller: AdminCaller, body: RepriceIn) -> RepriceOut:
    pricing = services(request).pricing
    report = await anyio.to_thread.run_sync(
        lambda: pricing.reprice(caller.tenant_id, body.from_, body.to, recompute=body.recompute)
    )
    return RepriceOut(examined=report.examined, repriced=report.repriced, unpriced=report.unpriced)


__all__ = ["router"]
