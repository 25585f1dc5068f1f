"""``create_app(settings)``: the one place where the hub is assembled.

It opens the configured backends, builds the features on top of them, and hands the API
a typed container of services. Background work (the writer thread, retention,
compaction) starts and stops in the app's lifespan. Tests build the app the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pyarrow as pa
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from analytics_hub import __version__
from analytics_hub.analytics.forecast.costing import WhatIfCoster
from analytics_hub.analytics.forecast.metric import MetricForecaster
from analytics_hub.api.context import ApiServices
from analytics_hub.api.errors import install_error_handlers
from analytics_hub.api.forecast_sources import ForecastContext
from analytics_hub.api.metrics import HubMetrics
from analytics_hub.api.middleware import RequestMetricsMiddleware
from analytics_hub.api.rest import (
    admin,
    dashboards,
    deadletters,
    forecast,
    health,
    ingest,
    otlp,
    prices,
    query,
)
from analytics_hub.api.rest.anomalies import router as anomalies_router
from analytics_hub.api.rest.metric_points import router as metric_points_router
from analytics_hub.api.websocket.stream import router as stream_router
from analytics_hub.auth.keys import KeyService
from analytics_hub.auth.ratelimit import RateLimiter
from analytics_hub.errors import UnavailableError
from analytics_hub.events import Normalizer, envelope_json_schema, openapi_components
from analytics_hub.ingest.deadletters import DeadLetterService
from analytics_hub.ingest.otlp.options import OtlpOptions
from analytics_hub.ingest.otlp.processes import PreparingProcesses
from analytics_hub.ingest.otlp.receiver import OtlpReceiver
from analytics_hub.ingest.pipeline import CommitPolicy, CommitStats, Pipeline
from analytics_hub.ingest.service import IngestService
from analytics_hub.pricing import PriceBook, PricingService, shipped_price_file
from analytics_hub.query import QueryService
from analytics_hub.query.cached import CachedQueryService
from analytics_hub.query.dashboards import DashboardService
from analytics_hub.query.generations import DataGenerations
from analytics_hub.query.live import LiveFeed
from analytics_hub.server.anomalies import anomaly_features
from analytics_hub.server.cache import open_cache, result_ttl
from analytics_hub.server.grpc_server import grpc_listener
from analytics_hub.server.live_fanout import (
    INTEREST_PERIOD_SECONDS,
    AnomaliesSink,
    LiveFanout,
    RowsSink,
    connect_live_feed,
)
from analytics_hub.server.metric_points import metric_point_features
from analytics_hub.server.otlp_http import otlp_http_listener
from analytics_hub.server.roles import (
    ANALYTICS,
    API,
    INGEST,
    WRITER,
    check_layout,
    elsewhere_router,
)
from analytics_hub.server.stores import (
    open_analytics_group,
    open_broadcast,
    open_control_store,
    open_event_bus,
    open_event_store,
)
from analytics_hub.server.tasks import (
    PeriodicTask,
    apply_retention,
    compaction_task,
    retention_task,
)
from analytics_hub.settings import ROLES, Settings
from analytics_hub.webui import install_webui, resolve_webui_dir

DESCRIPTION = """
Analytics for everything your LLM systems emit: model-call telemetry, cost, security
findings, policy decisions and registry events.

Authenticate with `Authorization: Bearer <api key>` (create one with
`analytics-hub keys create`). Every error has the shape
`{"error": {"code", "message", "details"}}`.
"""


def create_app(settings: Settings) -> FastAPI:
    """Build the hub's ASGI app from its settings."""
    roles = check_layout(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = open_event_store(settings)
    control = open_control_store(settings)
    pricing = PricingService(
        PriceBook(shipped_price_file()), control, store, raw_days=settings.retention_raw_days
    )
    metrics = HubMetrics()
    cache = open_cache(settings, metrics)
    generations = DataGenerations(cache)
    # With NATS, writers and scorers may be other processes: the live feed (and the
    # cache's invalidation) hear of their work through the broadcast.
    broadcast = open_broadcast(settings)
    fanout: LiveFanout | None = None

    def wants_rows_now() -> None:
        if fanout is not None:
            fanout.express_interest()

    live = LiveFeed(
        QueryService(store),  # the live minute metrics: one-row queries, default limits
        queue_events=settings.stream_queue_events,
        max_connections=settings.stream_max_connections,
        metrics_interval=settings.stream_metrics_interval_seconds,
        on_open=wants_rows_now,
    )
    announce_rows: RowsSink = live.publish
    announce_anomalies: AnomaliesSink = live.publish_anomalies
    interest_tasks: list[PeriodicTask] = []
    if broadcast is not None:

        def rows_arrived(rows: pa.Table | None) -> None:
            if cache.name == "memory":  # a shared cache was marked by the writer itself
                generations.committed(rows)
            live.publish(rows)

        fanout = connect_live_feed(
            broadcast,
            rows_arrived,
            live.publish_anomalies,
            listen=API in roles,
            # A memory cache learns of new data only from the rows (a shared one is
            # marked by the writer itself); otherwise only live subscribers need them.
            wants_rows=lambda: cache.name == "memory" or live.subscribed,
        )
        announce_rows, announce_anomalies = fanout.announce_rows, fanout.announce_anomalies
        if API in roles:
            interest_tasks.append(
                PeriodicTask("rows-interest", INTEREST_PERIOD_SECONDS, fanout.express_interest)
            )

    def committed(stats: CommitStats) -> None:
        metrics.committed(stats)
        # Before the rows count as visible, so no cached query result outlives them.
        generations.committed(stats.new_rows if stats.new_rows is not None else stats.table)
        # Only hands the new rows on: the writer never waits for a client.
        announce_rows(stats.new_rows)

    pipeline = Pipeline(
        store,
        open_event_bus(settings),
        policy=CommitPolicy(
            max_events=settings.commit_max_events,
            min_events=settings.commit_min_events,
            linger=settings.commit_linger_seconds,
            max_lag_seconds=settings.max_store_lag_seconds,
            lag_floor_events=settings.max_batch_events,
        ),
        retry_after=settings.retry_after_seconds,
        on_commit=committed,
        on_housekeeping=metrics.housekeeping,
        writer=WRITER in roles,
    )
    metrics.bind_depth(lambda: pipeline.depth, pipeline.capacity)
    normalizer = Normalizer(
        currency_rates=settings.currency_rates,
        max_future_skew_seconds=settings.max_future_skew_seconds,
        max_age_seconds=settings.retention_raw_days * 86400.0,
    )

    def readiness() -> dict[str, str]:
        store.check()
        if pipeline.last_error is not None:
            raise UnavailableError(f"the writer cannot commit to the store: {pipeline.last_error}")
        return {
            "roles": ",".join(r for r in ROLES if r in roles),
            "store": "ok",
            "pipeline": f"{pipeline.depth}/{pipeline.capacity} events not yet stored",
            # Never a reason to be unready: without it queries go to the store.
            "cache": cache.health().describe(),
        }

    ingest_service = IngestService(
        normalizer,
        pipeline,
        max_batch_events=settings.max_batch_events,
        observer=metrics,
        pricer=pricing,
    )
    otlp_options = OtlpOptions(
        asset_attribute=settings.otlp_asset_attribute,
        keep_context_spans=settings.otlp_keep_context_spans,
        max_items=settings.max_batch_events,
    )
    query_service = CachedQueryService(
        store,
        cache,
        ttl=result_ttl(
            settings,
            cache,
            writer=WRITER in roles,
            hears_commits=broadcast is not None and API in roles,
        ),
        observer=metrics,
        max_rows=settings.query_max_rows,
        max_buckets=settings.query_max_buckets,
        max_unbucketed_range_days=settings.query_max_unbucketed_range_days,
    )
    # Scores every series as its minute closes; what alarms goes to the live feed too.
    # Analytics workers sharing a NATS bus split the series between them.
    group = open_analytics_group(settings) if ANALYTICS in roles else None
    anomalies, anomaly_tasks = anomaly_features(
        settings,
        store,
        announce_anomalies,
        stream=ANALYTICS in roles,
        group=group,
        settle=pipeline.settle if pipeline.can_settle else None,
        quiet=pipeline.quiet_moment,
    )
    # OTLP metrics: stored as metric points straight to the store (decision 0016).
    otlp_metrics, metric_points = metric_point_features(settings, store, otlp_options)
    # Started on the first OTLP request: a hub that receives none pays nothing for them.
    preparing = (
        PreparingProcesses(
            normalizer,
            otlp_options,
            processes=settings.otlp_prepare_processes,
            observer=metrics,
        )
        if settings.otlp_prepare_processes and INGEST in roles
        else None
    )
    if preparing is not None:
        metrics.bind_preparing(lambda: preparing.in_flight, preparing.processes)
    services = ApiServices(
        keys=KeyService(control),
        ingest=ingest_service,
        otlp=OtlpReceiver(ingest_service, normalizer, otlp_options, preparing),
        dead_letters=DeadLetterService(store, normalizer, pipeline, pricer=pricing),
        pricing=pricing,
        query=query_service,
        # Saved panels are checked with the limits queries run under.
        dashboards=DashboardService(control, query_service.check),
        metrics=metrics,
        readiness=readiness,
        apply_retention=lambda: apply_retention(store, settings),
        event_schema=envelope_json_schema(),
        max_body_bytes=settings.max_body_bytes,
        public_paths=frozenset(settings.public_paths),
        live=live,
        forecast=_forecast_context(settings),
        anomalies=anomalies,
        otlp_metrics=otlp_metrics,
        metric_points=metric_points,
        rate_limiter=(
            RateLimiter(cache, settings.rate_limit_per_minute)
            if settings.rate_limit_per_minute
            else None
        ),
    )
    # Store upkeep runs beside the writers; scoring where the analytics role is.
    upkeep = [compaction_task(store), retention_task(store, settings)] if WRITER in roles else []
    background = [*upkeep, *anomaly_tasks, *interest_tasks]

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if broadcast is not None:
            broadcast.start()
        if fanout is not None:
            fanout.express_interest()  # at once: the periodic notice comes a period later
        pipeline.start()
        if group is not None:
            group.start()
        for task in background:
            task.start()
        try:
            # The extra listeners stop (their calls in progress finish) before the
            # pipeline drains below.
            async with listeners(settings, services, ingest=INGEST in roles):
                yield
        finally:
            for task in background:
                await task.stop()
            if group is not None:
                group.close()
            if preparing is not None:
                preparing.close()
            pipeline.stop()  # commits what is queued before the store closes
            if broadcast is not None:
                broadcast.close()
            store.close()
            control.close()
            cache.close()

    app = FastAPI(
        title="LLM Analytics Hub",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.services = services
    install_error_handlers(app)
    app.add_middleware(RequestMetricsMiddleware, metrics=metrics)
    app.include_router(health.router)
    if INGEST in roles:
        app.include_router(ingest.router)
        app.include_router(otlp.router)
    if API in roles:
        for module in (query, prices, dashboards, deadletters, admin, forecast):
            app.include_router(module.router)
        app.include_router(anomalies_router)
        app.include_router(metric_points_router)  # OTLP metric points
        app.include_router(stream_router)  # the live feed (WebSocket)
        # Not a route: answers only what no route matched, so the API's 404s and 405s stay.
        install_webui(app.router, resolve_webui_dir(settings.webui_dir))
    app.include_router(elsewhere_router(roles))
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
    return app


@asynccontextmanager
async def listeners(
    settings: Settings, services: ApiServices, *, ingest: bool
) -> AsyncIterator[None]:
    """The gRPC and dedicated OTLP/HTTP listeners, in a process that ingests."""
    if not ingest:
        yield
        return
    async with grpc_listener(settings, services), otlp_http_listener(settings, services):
        yield


def _forecast_context(settings: Settings) -> ForecastContext:
    # The history window must stay a query the query layer accepts (its bucket limit).
    forecaster = MetricForecaster(max_buckets=settings.query_max_buckets)
    return ForecastContext(
        forecaster=forecaster,
        coster=WhatIfCoster(forecaster, max_buckets=settings.query_max_buckets),
        limiter=anyio.CapacityLimiter(settings.forecast_max_concurrent),
        page_rows=settings.query_max_rows,
    )


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, with the event envelope's schema as a component."""
    if app.openapi_schema is None:
        doc = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        doc.setdefault("components", {}).setdefault("schemas", {}).update(openapi_components())
        doc["components"]["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": "API key"}
        }
        doc["security"] = [{"bearer": []}]
        app.openapi_schema = doc
    return app.openapi_schema


__all__ = ["build_openapi", "create_app"]
