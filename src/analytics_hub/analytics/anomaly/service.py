"""What the anomaly API calls: list, look at one in context, label, detect on demand.

Every call is scoped to one tenant (the caller's). Bad input is a
:class:`~analytics_hub.errors.ValidationError` (400) that says what to change; an unknown
anomaly is a :class:`~analytics_hub.errors.NotFoundError` (404), also when another tenant
has one with that id.

On-demand detection scores stored rollups with the same detectors as the stream: per
series, a fresh detector is primed from the ``warm_start_hours`` before the range (no
alarms there), then scores the range minute by minute. It is bounded (``max_detect_days``
of range, ``max_detect_series`` series) because its cost grows with both; the API runs it
in a worker thread.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from analytics_hub.analytics.anomaly.alarm import AlarmPolicy
from analytics_hub.analytics.anomaly.records import FeedbackPolicy, SeriesKey, alarms_of
from analytics_hub.analytics.anomaly.series import METRICS, SeriesConfig, fill_minutes
from analytics_hub.analytics.anomaly.stream import AnomalyStream, minute_floor, prime
from analytics_hub.errors import ConflictError, NotFoundError, ValidationError
from analytics_hub.store.anomalies import (
    AnomalyListing,
    AnomalyRecord,
    DetectorVersion,
    SeriesFeedback,
    SeriesMinute,
    SeriesSelector,
)
from analytics_hub.store.base import EventStore

MAX_CONTEXT_MINUTES = 360
MAX_PAGE = 1000


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SeriesThreshold:
    """A series' alarm threshold for one metric now, and the feedback behind it."""

    asset_id: str | None
    model_id: str | None
    metric: str
    offset: float
    threshold: float
    false_positives: int
    true_positives: int


@dataclass(frozen=True)
class AnomalyPage:
    """One page of anomalies; ``next_cursor`` is None on the last."""

    items: list[AnomalyRecord]
    next_cursor: str | None


@dataclass(frozen=True)
class ContextPoint:
    """The metric's value in one minute (None: undefined, e.g. no calls)."""

    minute: datetime
    value: float | None


@dataclass(frozen=True)
class AnomalyDetail:
    """An anomaly, the series around it, and its series' threshold now."""

    record: AnomalyRecord
    context: list[ContextPoint]
    series: SeriesThreshold


@dataclass(frozen=True)
class DetectResult:
    """What an on-demand detection found (newest first) and what it scored."""

    anomalies: list[AnomalyRecord]
    series: int
    minutes: int
    stored: int | None  # None unless asked to store


def check_metric(metric: str | None) -> None:
    """``ValidationError`` unless ``metric`` is None or one of :data:`METRICS`."""
    if metric is not None and metric not in METRICS:
        raise ValidationError(f"unknown metric {metric!r}; use one of {', '.join(METRICS)}")


def _aware(name: str, moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        raise ValidationError(f"'{name}' needs a time zone, e.g. 2026-01-01T00:00:00Z")
    return moment


def encode_cursor(record: AnomalyRecord) -> str:
    """The cursor of the page after ``record``."""
    text = json.dumps([record.minute.isoformat(), record.id])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (minute, id) a cursor stands for; ``ValidationError`` if it is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        minute, last_id = json.loads(raw)
        return datetime.fromisoformat(minute), str(last_id)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValidationError("invalid cursor: pass next_cursor of the previous page") from None


class AnomalyService:
    """The anomaly feature as the API sees it. Safe to share between threads."""

    def __init__(
        self,
        store: EventStore,
        *,
        config: SeriesConfig | None = None,
        feedback: FeedbackPolicy | None = None,
        stream: AnomalyStream | None = None,
        warm_start_hours: float = 48.0,
        max_detect_days: float = 7.0,
        max_detect_series: int = 20,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._store = store
        self.config = config or SeriesConfig()
        self.feedback = feedback or FeedbackPolicy()
        self.stream = stream
        self.warm_start_hours = warm_start_hours
        self.max_detect_days = max_detect_days
        self.max_detect_series = max_detect_series
        self._clock = clock

    @property
    def store(self) -> EventStore:
        """The event store it reads and writes."""
        return self._store

    # -- reading ----------------------------------------------------------------------

    def page(
        self,
        tenant_id: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        asset_id: str | None = None,
        model_id: str | None = None,
        metric: str | None = None,
        min_score: float | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> AnomalyPage:
        """A page of the tenant's anomalies, newest minute first."""
        check_metric(metric)
        start, end = _aware("from", start), _aware("to", end)
        if start is not None and end is not None and start >= end:
            raise ValidationError("'from' must be before 'to' (the range is empty)")
        if not 1 <= limit <= MAX_PAGE:
            raise ValidationError(f"limit must be between 1 and {MAX_PAGE}")
        listing = AnomalyListing(
            start=start,
            end=end,
            asset_id=asset_id,
            model_id=model_id,
            metric=metric,
            min_score=min_score,
            limit=limit + 1,  # one more: is there a next page?
            after=decode_cursor(cursor) if cursor else None,
        )
        rows = self._store.list_anomalies(tenant_id, listing)
        items = rows[:limit]
        more = len(rows) > limit
        return AnomalyPage(items, encode_cursor(items[-1]) if more else None)

    def get(self, tenant_id: str, anomaly_id: str, *, context_minutes: int = 30) -> AnomalyDetail:
        """One anomaly with ``context_minutes`` of its metric either side of it."""
        if not 0 <= context_minutes <= MAX_CONTEXT_MINUTES:
            raise ValidationError(f"context_minutes must be between 0 and {MAX_CONTEXT_MINUTES}")
        record = self._store.get_anomaly(tenant_id, anomaly_id)
        if record is None:
            raise NotFoundError(f"no anomaly {anomaly_id!r}")
        span = timedelta(minutes=context_minutes)
        start = record.minute - span
        # minutes that have not ended yet have no figures to show
        end = min(record.minute + span + timedelta(minutes=1), minute_floor(self._clock()))
        end = max(end, record.minute + timedelta(minutes=1))
        selector = SeriesSelector(tenant_id, record.asset_id, record.model_id, exact=True)
        minutes = self._store.series_minutes(start, end, selector)
        ts, rows = fill_minutes(minutes, start.timestamp(), end.timestamp())
        j = METRICS.index(record.metric)
        context = [
            ContextPoint(datetime.fromtimestamp(t, UTC), None if row[j] != row[j] else row[j])
            for t, row in zip(ts, rows, strict=True)
        ]
        return AnomalyDetail(record, context, self._threshold_of(record, tenant_id))

    def thresholds(self, tenant_id: str) -> list[SeriesThreshold]:
        """The thresholds of the tenant's series that have feedback (the others are at
        the default level, offset 0)."""
        return [self._threshold(f) for f in self._store.series_feedback(tenant_id)]

    def versions(
        self,
        tenant_id: str,
        *,
        asset_id: str | None = None,
        model_id: str | None = None,
        limit: int = 100,
    ) -> list[DetectorVersion]:
        """The tenant's detector versions, newest first."""
        if not 1 <= limit <= MAX_PAGE:
            raise ValidationError(f"limit must be between 1 and {MAX_PAGE}")
        return self._store.list_detector_versions(
            tenant_id, asset_id=asset_id, model_id=model_id, limit=limit
        )

    # -- changing ---------------------------------------------------------------------

    def label(
        self, tenant_id: str, anomaly_id: str, label: str | None
    ) -> tuple[AnomalyRecord, SeriesThreshold]:
        """Label an anomaly (None withdraws the label); its series' threshold after."""
        outcome = self._store.label_anomaly(tenant_id, anomaly_id, label, self._clock())
        if outcome is None:
            raise NotFoundError(f"no anomaly {anomaly_id!r}")
        return outcome.record, self._threshold(outcome.feedback)

    def retrain(
        self, tenant_id: str, *, asset_id: str | None = None, model_id: str | None = None
    ) -> int:
        """Rebuild the tenant's live series detectors from history; how many were queued."""
        if self.stream is None:
            raise ConflictError(
                "streaming detection does not run in this process (HUB_ANOMALY_ENABLED=false,"
                " or the process has no analytics role): retrain where it runs"
            )
        return self.stream.request_retrain(tenant_id, asset_id, model_id)

    def detect(
        self,
        tenant_id: str,
        start: datetime,
        end: datetime,
        *,
        asset_id: str | None = None,
        model_id: str | None = None,
        metric: str | None = None,
        min_score: float | None = None,
        store: bool = False,
    ) -> DetectResult:
        """Score the stored minutes of ``[start, end)`` (see the module docstring)."""
        check_metric(metric)
        start, end = self._detect_range(start, end)
        history = start - timedelta(hours=self.warm_start_hours)
        selector = SeriesSelector(tenant_id, asset_id, model_id)
        by_key: dict[SeriesKey, list[SeriesMinute]] = defaultdict(list)
        for row in self._store.series_minutes(history, end, selector):
            by_key[(row.tenant_id, row.asset_id, row.model_id)].append(row)
        if len(by_key) > self.max_detect_series:
            raise ValidationError(
                f"{len(by_key)} series match; detection scores at most"
                f" {self.max_detect_series} at once: narrow it with asset_id or model_id"
            )
        offsets = self.feedback.offsets(self._store.series_feedback(tenant_id))
        now = self._clock()
        found: list[AnomalyRecord] = []
        versions: list[DetectorVersion] = []
        for key, minutes in by_key.items():
            before = [m for m in minutes if m.minute < start]
            own = {m: offsets[(key, m)] for m in METRICS if (key, m) in offsets}
            model, version = prime(
                key, before, start, self.config, offsets=own, reason="detect", created_at=now
            )
            first = start.timestamp() if before else minutes[0].minute.timestamp()
            inside = [m for m in minutes if m.minute >= start]
            ts, rows = fill_minutes(inside, first, end.timestamp())
            scored = model.score(ts, rows)
            wanted = METRICS if metric is None else (metric,)
            hits = alarms_of(key, model, scored, source="detect", created_at=now, metrics=wanted)
            hits = [a for a in hits if min_score is None or a.score >= min_score]
            if hits:
                found += hits
                versions.append(version)
        found.sort(key=lambda a: (a.minute, a.id), reverse=True)
        stored = None
        if store:
            self._store.write_detector_versions(versions)
            stored = self._store.write_anomalies(found)
        minutes_scored = round((end - start) / timedelta(minutes=1))
        return DetectResult(found, len(by_key), minutes_scored, stored)

    # -- helpers ----------------------------------------------------------------------

    def _detect_range(self, start: datetime, end: datetime) -> tuple[datetime, datetime]:
        _aware("from", start)
        _aware("to", end)
        # whole minutes: a minute is scored as a whole or not at all
        start, end = minute_floor(start), minute_floor(end)
        if start >= end:
            raise ValidationError("'from' must be at least a minute before 'to' (empty range)")
        if end - start > timedelta(days=self.max_detect_days):
            raise ValidationError(
                f"detection covers at most {self.max_detect_days:g} days at once; split the range"
            )
        latest = minute_floor(self._clock())
        if start >= latest:
            raise ValidationError("the range has no closed minute yet")
        return start, min(end, latest)

    def _threshold(self, f: SeriesFeedback) -> SeriesThreshold:
        offset = self.feedback.offset(f.false_positives, f.true_positives)
        return SeriesThreshold(
            asset_id=f.asset_id,
            model_id=f.model_id,
            metric=f.metric,
            offset=offset,
            threshold=AlarmPolicy(self.config.level, offset).threshold,
            false_positives=f.false_positives,
            true_positives=f.true_positives,
        )

    def _threshold_of(self, record: AnomalyRecord, tenant_id: str) -> SeriesThreshold:
        for f in self._store.series_feedback(tenant_id):
            if (f.asset_id, f.model_id, f.metric) == (
                record.asset_id,
                record.model_id,
                record.metric,
            ):
                return self._threshold(f)
        none = SeriesFeedback(
            tenant_id, record.asset_id, record.model_id, record.metric, 0, 0, None
        )
        return self._threshold(none)


__all__ = [
    "AnomalyDetail",
    "AnomalyPage",
    "AnomalyService",
    "ContextPoint",
    "DetectResult",
    "SeriesThreshold",
    "check_metric",
    "decode_cursor",
    "encode_cursor",
]
