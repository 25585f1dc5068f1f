"""Assembly of anomaly detection: the service the API calls and its background tasks."""

from __future__ import annotations

from collections.abc import Callable

from analytics_hub.analytics.anomaly.records import FeedbackPolicy
from analytics_hub.analytics.anomaly.series import SeriesConfig
from analytics_hub.analytics.anomaly.service import AnomalyService
from analytics_hub.analytics.anomaly.sharding import ownership
from analytics_hub.analytics.anomaly.stream import AnomalyStream, StreamConfig
from analytics_hub.bus.membership import Membership
from analytics_hub.server.tasks import MinuteTask, PeriodicTask
from analytics_hub.settings import Settings
from analytics_hub.store.anomalies import AnomalyRecord
from analytics_hub.store.base import EventStore

#: The default grace, with a barrier (the scorer waits until all that was acknowledged is
#: committed: only requests in flight at the boundary need the time) and without one
#: (writers elsewhere make an acknowledged event visible within a second). Every process
#: on a NATS bus, and one that commits its own journal, has the barrier; without it is
#: a process that cannot see the writers' progress, such as an analytics-only process on
#: a journal bus over a PostgreSQL store.
GRACE_WITH_BARRIER_S = 0.5
GRACE_WITHOUT_BARRIER_S = 2.0


def stream_config(settings: Settings, *, barrier: bool = False) -> StreamConfig:
    """The streaming scorer's configuration from the settings."""
    grace = settings.anomaly_grace_seconds
    if grace is None:
        grace = GRACE_WITH_BARRIER_S if barrier else GRACE_WITHOUT_BARRIER_S
    return StreamConfig(
        series=SeriesConfig(min_baseline_minutes=settings.anomaly_min_baseline_minutes),
        feedback=FeedbackPolicy(
            step=settings.anomaly_feedback_step, max_offset=settings.anomaly_max_offset
        ),
        grace_s=grace,
        warm_start_hours=settings.anomaly_warm_start_hours,
        max_series=settings.anomaly_max_series,
    )


def anomaly_features(
    settings: Settings,
    store: EventStore,
    publish: Callable[[list[AnomalyRecord]], None],
    *,
    stream: bool = True,
    group: Membership | None = None,
    settle: Callable[[float], bool] | None = None,
    quiet: Callable[[], None] | None = None,
) -> tuple[AnomalyService, list[PeriodicTask]]:
    """The anomaly service, and the tasks to run in the app's lifespan: scoring after
    every minute, and the scheduled retrain (none when detection is off, or when
    ``stream`` is False: a process without the analytics role). With a ``group`` the
    process scores the series the group's membership gives it. ``settle`` is the
    pipeline's barrier (``Pipeline.settle``), where it has one: this process commits its
    own journal, or the bus is NATS, whose writer group's progress any process can wait
    for (see ``stream_config``). ``quiet`` is told after each tick that the moment is
    quiet (``Pipeline.quiet_moment``)."""
    config = stream_config(settings, barrier=settle is not None)
    owns = ownership(group.member_id, group.members) if group is not None else None
    scorer = (
        AnomalyStream(store, config, publish=publish, owns=owns, settle=settle, quiet=quiet)
        if settings.anomaly_enabled and stream
        else None
    )
    service = AnomalyService(
        store,
        config=config.series,
        feedback=config.feedback,
        stream=scorer,
        warm_start_hours=settings.anomaly_warm_start_hours,
        max_detect_days=settings.anomaly_detect_max_days,
        max_detect_series=settings.anomaly_detect_max_series,
    )
    tasks: list[PeriodicTask] = []
    if scorer is not None:
        tasks.append(
            MinuteTask(
                "anomaly-stream", scorer.tick, offset=config.grace_s, before_stop=scorer.stop
            )
        )
        if settings.anomaly_retrain_days > 0:
            tasks.append(
                PeriodicTask(
                    "anomaly-retrain",
                    settings.anomaly_retrain_days * 86_400.0,
                    lambda: scorer.request_retrain(reason="scheduled"),
                )
            )
    return service, tasks


__all__ = ["anomaly_features", "stream_config"]
