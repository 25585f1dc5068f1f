"""What the demo world is made of: models with list prices, applications, tenants.

Prices are the providers' public list prices in USD per million tokens (standard tier,
early 2025); latency figures are typical medians observed on those APIs. They only need
to be plausible, so that costs and latency percentiles in the demo look like real ones.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A model: its provider, list prices and latency profile."""

    model_id: str
    provider: str
    input_per_mtok: float  # USD per million input tokens
    output_per_mtok: float  # USD per million output tokens
    cached_per_mtok: float | None  # USD per million cached input tokens; None: no caching
    ttft_ms: float  # median time to first token
    tokens_per_s: float  # median output speed
    reasoning: bool = False  # emits reasoning tokens (billed as output)

    def cost(self, input_tokens: int, output_tokens: int, cached: int = 0) -> float:
        """USD for one call at list price."""
        cached_price = self.cached_per_mtok if self.cached_per_mtok is not None else 0.0
        fresh = input_tokens - cached
        return (
            fresh * self.input_per_mtok
            + cached * cached_price
            + output_tokens * self.output_per_mtok
        ) / 1e6


MODELS: dict[str, ModelSpec] = {
    m.model_id: m
    for m in (
        ModelSpec("gpt-4o", "openai", 2.50, 10.00, 1.25, 450, 85),
        ModelSpec("gpt-4o-mini", "openai", 0.15, 0.60, 0.075, 350, 110),
        ModelSpec("o3-mini", "openai", 1.10, 4.40, 0.55, 1800, 150, reasoning=True),
        ModelSpec("text-embedding-3-small", "openai", 0.02, 0.0, None, 0, 0),
        ModelSpec("claude-3-5-sonnet-20240620", "anthropic", 3.00, 15.00, 0.30, 800, 60),
        ModelSpec("claude-3-5-sonnet-20241022", "anthropic", 3.00, 15.00, 0.30, 800, 60),
        ModelSpec("claude-3-5-haiku-20241022", "anthropic", 0.80, 4.00, 0.08, 550, 90),
        ModelSpec("gemini-1.5-flash", "google", 0.075, 0.30, 0.01875, 300, 160),
        ModelSpec("mistral-large-latest", "mistral", 2.00, 6.00, None, 500, 45),
    )
}


@dataclass(frozen=True, slots=True)
class OperationProfile:
    """Token distributions of one kind of call (medians and log-normal spreads)."""

    input_median: float
    input_sigma: float
    output_median: float
    output_sigma: float
    max_output: int


OPERATIONS: dict[str, OperationProfile] = {
    "chat": OperationProfile(900, 0.8, 250, 0.6, 4096),
    "completion": OperationProfile(3500, 0.6, 350, 0.5, 2048),
    "embeddings": OperationProfile(400, 0.7, 0, 0.0, 0),
    "tool": OperationProfile(1200, 0.5, 80, 0.6, 1024),
    "agent": OperationProfile(4000, 0.6, 600, 0.7, 8192),
}


@dataclass(frozen=True, slots=True)
class Route:
    """A share of an application's calls going to one model for one operation."""

    model_id: str
    operation: str
    weight: float


@dataclass(frozen=True, slots=True)
class AppSpec:
    """An application (the ``asset_id`` of its events) and how it calls models."""

    asset_id: str
    team: str
    weight: float  # share of its tenant's traffic
    version: str
    routes: tuple[Route, ...]


@dataclass(frozen=True, slots=True)
class TenantSpec:
    """A tenant of the hub: its traffic share, local time, users and applications."""

    name: str
    share: float  # share of the total traffic
    utc_offset_hours: float  # business hours follow local time
    region: str
    users: int
    monthly_budget_usd: float
    apps: tuple[AppSpec, ...]


ACME = TenantSpec(
    name="acme",
    share=0.6,
    utc_offset_hours=-5,
    region="us-east-1",
    users=400,
    monthly_budget_usd=25_000,
    apps=(
        AppSpec(
            "support-bot",
            "customer-care",
            0.40,
            "3.1.4",
            (Route("gpt-4o-mini", "chat", 0.85), Route("claude-3-5-haiku-20241022", "chat", 0.15)),
        ),
        AppSpec(
            "code-assistant",
            "developer-productivity",
            0.25,
            "2.3.1",
            (
                Route("claude-3-5-sonnet-20240620", "chat", 0.9),
                Route("gpt-4o-mini", "completion", 0.1),
            ),
        ),
        AppSpec(
            "search-rag",
            "knowledge",
            0.25,
            "1.12.0",
            (Route("text-embedding-3-small", "embeddings", 0.5), Route("gpt-4o", "chat", 0.5)),
        ),
        AppSpec(
            "doc-summarizer",
            "legal-ops",
            0.10,
            "0.9.2",
            (Route("gemini-1.5-flash", "completion", 1.0),),
        ),
    ),
)

GLOBEX = TenantSpec(
    name="globex",
    share=0.4,
    utc_offset_hours=1,
    region="eu-west-1",
    users=250,
    monthly_budget_usd=12_000,
    apps=(
        AppSpec(
            "support-bot",
            "service-desk",
            0.45,
            "5.0.2",
            (Route("gpt-4o", "chat", 0.7), Route("mistral-large-latest", "chat", 0.3)),
        ),
        AppSpec(
            "search-rag",
            "knowledge",
            0.25,
            "1.7.3",
            (
                Route("text-embedding-3-small", "embeddings", 0.5),
                Route("claude-3-5-haiku-20241022", "chat", 0.5),
            ),
        ),
        AppSpec(
            "agent-workflows",
            "automation",
            0.15,
            "0.4.0",
            (Route("o3-mini", "agent", 0.6), Route("gpt-4o-mini", "tool", 0.4)),
        ),
        AppSpec(
            "doc-summarizer",
            "finance-ops",
            0.15,
            "2.0.0",
            (Route("claude-3-5-haiku-20241022", "completion", 1.0),),
        ),
    ),
)

DEFAULT_TENANTS: tuple[TenantSpec, ...] = (ACME, GLOBEX)
TENANTS_BY_NAME: dict[str, TenantSpec] = {t.name: t for t in DEFAULT_TENANTS}

#: Background error classes of model calls and their shares (the rate is ERROR_RATE).
ERROR_RATE = 0.015
ERROR_TYPES: tuple[tuple[str, float], ...] = (
    ("rate_limit", 0.45),
    ("timeout", 0.25),
    ("server_error", 0.20),
    ("content_filter", 0.10),
)

__all__ = [
    "DEFAULT_TENANTS",
    "ERROR_RATE",
    "ERROR_TYPES",
    "MODELS",
    "OPERATIONS",
    "TENANTS_BY_NAME",
    "AppSpec",
    "ModelSpec",
    "OperationProfile",
    "Route",
    "TenantSpec",
]
