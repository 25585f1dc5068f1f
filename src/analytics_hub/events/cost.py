"""Cost payloads (``payload_type: cost``, tagged by ``cost_type``).

Every amount is in the variant's ``currency`` (USD when absent) and is stored converted
to USD; see :mod:`analytics_hub.events.currency`. The ``_usd`` field names are the
ecosystem's and are kept for compatibility.
"""

from __future__ import annotations

from typing import Literal

from analytics_hub.events.base import WireStruct
from analytics_hub.events.fields import (
    Count,
    Currency,
    Id,
    Key,
    Money,
    NonNegative,
)
from analytics_hub.events.security import OtherKind

_TAG = "cost_type"


class TokenCost(WireStruct, kw_only=True, tag_field=_TAG, tag="token_cost"):
    """The cost of the tokens of one request."""

    model_id: Key
    request_id: Id
    prompt_tokens: Count
    completion_tokens: Count
    total_tokens: Count
    cost_per_prompt_token: Money
    cost_per_completion_token: Money
    total_cost_usd: Money
    currency: Currency


class ApiCost(WireStruct, kw_only=True, tag_field=_TAG, tag="api_cost"):
    """The cost of calls to an API over a billing period."""

    provider: Key
    api_endpoint: Id
    request_count: Count
    cost_per_request: Money
    total_cost_usd: Money
    billing_period: Id
    currency: Currency | None = None


class ResourceConsumption(WireStruct, kw_only=True, tag_field=_TAG, tag="resource_consumption"):
    """The cost of an infrastructure resource."""

    resource_type: Literal["compute", "storage", "network", "memory", "gpu", "other"] | OtherKind
    resource_id: Id
    quantity: NonNegative
    unit: Id
    cost_usd: Money
    utilization_percent: NonNegative  # may exceed 100 (multi-core CPU time)
    currency: Currency | None = None


class BudgetAlert(WireStruct, kw_only=True, tag_field=_TAG, tag="budget_alert"):
    """A budget crossed one of its thresholds."""

    budget_id: Key
    budget_name: Id
    budget_limit_usd: Money
    current_spend_usd: Money
    threshold_percent: NonNegative
    alert_type: Literal["warning", "critical", "exceeded"]
    currency: Currency | None = None


CostData = TokenCost | ApiCost | ResourceConsumption | BudgetAlert


class CostPayload(WireStruct, kw_only=True, tag_field="payload_type", tag="cost"):
    """Cost events (LLM-CostOps and adapters)."""

    data: CostData


# The amount fields of each variant that carries money, converted to USD together.
MONEY_FIELDS: dict[type, tuple[str, ...]] = {
    TokenCost: ("cost_per_prompt_token", "cost_per_completion_token", "total_cost_usd"),
    ApiCost: ("cost_per_request", "total_cost_usd"),
    ResourceConsumption: ("cost_usd",),
    BudgetAlert: ("budget_limit_usd", "current_spend_usd"),
}

__all__ = [
    "MONEY_FIELDS",
    "ApiCost",
    "BudgetAlert",
    "CostData",
    "CostPayload",
    "ResourceConsumption",
    "TokenCost",
]
