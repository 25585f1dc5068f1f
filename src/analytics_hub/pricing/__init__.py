"""Model prices: the shipped table, per-tenant overrides, pricing at ingest, re-pricing.

How cost is computed and which names match which prices: docs/concepts/pricing.md.
"""

from __future__ import annotations

from analytics_hub.pricing.book import Entry, PriceBook, Rate, Resolved, TenantPrices
from analytics_hub.pricing.compute import INPUT_COLUMNS, compute_costs, price_batch
from analytics_hub.pricing.names import Names, strip_suffix
from analytics_hub.pricing.service import OverrideInput, PricingService
from analytics_hub.pricing.table import (
    ModelPrices,
    PriceFile,
    PriceFileError,
    PricePeriod,
    ProviderInfo,
    decode_price_file,
    load_price_file,
    shipped_price_file,
)

__all__ = [
    "INPUT_COLUMNS",
    "Entry",
    "ModelPrices",
    "Names",
    "OverrideInput",
    "PriceBook",
    "PriceFile",
    "PriceFileError",
    "PricePeriod",
    "PricingService",
    "ProviderInfo",
    "Rate",
    "Resolved",
    "TenantPrices",
    "compute_costs",
    "decode_price_file",
    "load_price_file",
    "price_batch",
    "shipped_price_file",
    "strip_suffix",
]
