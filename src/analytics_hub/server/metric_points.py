"""Assembly of OTLP metrics: the receiver that stores metric points and their queries.

Both talk to the event store through its :class:`MetricPointStore` side, which every
backend implements; the mapping options are the OTLP ones, plus whether to keep every
metric or only the GenAI ones.
"""

from __future__ import annotations

import dataclasses

from analytics_hub.ingest.otlp.metric_receiver import OtlpMetricsReceiver
from analytics_hub.ingest.otlp.options import OtlpOptions
from analytics_hub.query.metric_query import MetricQueryService
from analytics_hub.settings import Settings
from analytics_hub.store.base import EventStore
from analytics_hub.store.metric_points import MetricPointStore


def metric_point_features(
    settings: Settings, store: EventStore, options: OtlpOptions
) -> tuple[OtlpMetricsReceiver, MetricQueryService]:
    """The OTLP metrics receiver and the metric query service over ``store``."""
    if not isinstance(store, MetricPointStore):
        raise TypeError(f"{type(store).__name__} keeps no metric points")
    # Points older than every tenant's retention would be deleted by the next pass:
    # refused instead of acknowledged.
    days = max(
        [
            settings.retention_minute_rollup_days,
            *(t.minute_rollup_days or 0 for t in settings.tenant_retention.values()),
        ]
    )
    receiver = OtlpMetricsReceiver(
        store,
        dataclasses.replace(options, keep_all_metrics=settings.otlp_metrics_keep_all),
        retry_after=settings.retry_after_seconds,
        max_future_skew_seconds=settings.max_future_skew_seconds,
        max_age_seconds=days * 86400.0,
    )
    queries = MetricQueryService(store, max_buckets=settings.query_max_buckets)
    return receiver, queries


__all__ = ["metric_point_features"]
