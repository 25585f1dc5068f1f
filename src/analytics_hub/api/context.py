"""The typed container of everything the API adapters call, built by the assembly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from analytics_hub.analytics.anomaly.service import AnomalyService
from analytics_hub.api.forecast_sources import ForecastContext
from analytics_hub.api.metrics import HubMetrics
from analytics_hub.auth.keys import KeyService
from analytics_hub.auth.ratelimit import RateLimiter
from analytics_hub.ingest.deadletters import DeadLetterService
from analytics_hub.ingest.otlp.metric_receiver import OtlpMetricsReceiver
from analytics_hub.ingest.otlp.receiver import OtlpReceiver
from analytics_hub.ingest.service import IngestService
from analytics_hub.pricing import PricingService
from analytics_hub.query import QueryService
from analytics_hub.query.dashboards import DashboardService
from analytics_hub.query.live import LiveFeed
from analytics_hub.query.metric_query import MetricQueryService
from analytics_hub.store.base import RetentionReport


@dataclass(frozen=True, slots=True)
class ApiServices:
    """Services and limits the HTTP layer needs. One instance per app."""

    keys: KeyService
    ingest: IngestService
    otlp: OtlpReceiver
    dead_letters: DeadLetterService
    query: QueryService
    dashboards: DashboardService
    pricing: PricingService
    metrics: HubMetrics
    readiness: Callable[[], dict[str, str]]  # raises UnavailableError when not ready
    apply_retention: Callable[[], RetentionReport]
    event_schema: dict[str, Any]
    max_body_bytes: int
    public_paths: frozenset[str]
    live: LiveFeed  # the live feed of GET /api/v1/stream
    forecast: ForecastContext  # the forecast routes (/api/v1/forecast)
    anomalies: AnomalyService  # the anomaly routes (/api/v1/anomalies)
    otlp_metrics: OtlpMetricsReceiver  # OTLP metrics (/v1/metrics, MetricsService/Export)
    metric_points: MetricQueryService  # their queries (/api/v1/metrics/query, /names)
    rate_limiter: RateLimiter | None = None  # per API key; None: no limit


def services(request: Request) -> ApiServices:
    """The services of the app serving ``request``."""
    found: ApiServices = request.app.state.services
    return found


__all__ = ["ApiServices", "services"]
