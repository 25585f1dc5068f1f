"""Streaming detection: every series scored as its minute rollup closes.

:meth:`AnomalyStream.tick` runs shortly after each minute boundary (the server's task
wakes ``grace_s`` after it). A minute counts as closed once the grace has passed. Where
the process can wait at a commit barrier (``settle``, the pipeline's: its own journal, or
the writer group's ack floor on a shared NATS bus), the tick first waits until every
event acknowledged by then is in the store, so the rollups hold all that was received
before the close, and the grace is only an allowance for requests in flight at the
boundary. Without a barrier (an analytics-only process on a journal bus) the grace must
also cover the writers' delay, which is why it is longer there. A tick:

1. reads the closed minutes it has not scored yet (normally one) for every series of
   every tenant, in one store query (:meth:`EventStore.series_minutes`);
2. feeds each known series its minutes (minutes without calls as quiet rows), and turns
   alarms into anomaly records (``created_at`` and ``latency_ms`` say how long after the
   minute's end each was stored);
3. stores them in one transaction and hands them to ``publish`` (the live feed);
4. re-reads the feedback counts, so that labels given through another process count;
5. primes series it has not met yet (or was asked to retrain) from the last
   ``warm_start_hours`` of minute rollups, one query per batch of series, within a time
   budget, so that a new series need not wait a day for a baseline (priming raises no
   alarms; a series primed at a tick is scored from the next one). Each priming is a
   new detector version, stored with its window and figures.

State is bounded: at most ``max_series`` series are kept (least recently active first
out), and a series without calls for ``idle_minutes`` is dropped (it is primed again if
it comes back). Minutes that arrive after their minute was scored (late events) are not
scored again by the stream; an on-demand detection sees them.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import numpy as np
import structlog

from analytics_hub.analytics.anomaly.records import (
    FeedbackPolicy,
    SeriesKey,
    alarms_of,
)
from analytics_hub.analytics.anomaly.registry import DetectorRegistry
from analytics_hub.analytics.anomaly.series import (
    METRICS,
    MINUTE_S,
    Scored,
    SeriesConfig,
    SeriesModel,
    fill_minutes,
)
from analytics_hub.store.anomalies import (
    AnomalyRecord,
    DetectorVersion,
    SeriesMinute,
    SeriesSelector,
)
from analytics_hub.store.base import EventStore

log = structlog.get_logger(__name__)
MINUTE = timedelta(minutes=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def minute_floor(moment: datetime) -> datetime:
    """The start of the UTC minute holding ``moment`` (aware)."""
    return _EPOCH + ((moment.astimezone(UTC) - _EPOCH) // MINUTE) * MINUTE


@dataclass(frozen=True)
class StreamConfig:
    """Settings of the streaming scorer (see docs/analytics/anomaly-detection.md)."""

    series: SeriesConfig = field(default_factory=SeriesConfig)
    feedback: FeedbackPolicy = field(default_factory=FeedbackPolicy)
    # Safe without a barrier; the server passes 0.5 s where it has one (stream_config).
    grace_s: float = 2.0
    settle_timeout_s: float = 5.0
    warm_start_hours: float = 48.0
    max_series: int = 1000
    idle_minutes: int = 1440
    max_catchup_minutes: int = 10
    prime_batch: int = 25
    prime_budget_s: float = 20.0


@dataclass(frozen=True)
class TickReport:
    """What one tick did, and how long each part took."""

    start: datetime  # the minutes scored: [start, end)
    end: datetime
    series: int  # series scored
    rows: int  # rollup rows read
    anomalies: list[AnomalyRecord]
    query_ms: float  # the one rollup query
    score_ms: float
    write_ms: float
    stored_ms: float  # from the end of the settle wait until the anomalies were stored
    primed: int
    pending: int
    settle_ms: float = 0.0  # waiting for acknowledged events to be committed first


def _version_of(
    key: SeriesKey,
    model: SeriesModel,
    timestamps: Sequence[float],
    alarms: dict[str, int],
    *,
    reason: str,
    created_at: datetime,
    defined: dict[str, int],
) -> DetectorVersion:
    """The version record of a detector primed on ``timestamps``."""
    return DetectorVersion(
        id=model.version,
        tenant_id=key[0],
        asset_id=key[1],
        model_id=key[2],
        created_at=created_at,
        reason=reason,
        parameters={**model.config.parameters(), "refit_phase": model.phase},
        window_start=datetime.fromtimestamp(timestamps[0], UTC) if timestamps else None,
        window_end=(datetime.fromtimestamp(timestamps[-1] + MINUTE_S, UTC) if timestamps else None),
        minutes=len(timestamps),
        metrics={m: {"rows": defined[m], "alarms": alarms[m]} for m in METRICS},
    )


def prime(
    key: SeriesKey,
    minutes: Sequence[SeriesMinute],
    end: datetime,
    config: SeriesConfig,
    *,
    offsets: dict[str, float],
    registry: DetectorRegistry | None = None,
    reason: str = "warm_start",
    created_at: datetime,
    phase: int = 0,
) -> tuple[SeriesModel, DetectorVersion]:
    """A new detector of series ``key`` fed its ``minutes`` (sorted) up to ``end``;
    ``phase`` places its refits (see :mod:`.series`)."""
    model = SeriesModel(config, registry=registry, offsets=offsets, phase=phase)
    first = minutes[0].minute.timestamp() if minutes else end.timestamp()
    ts, rows = fill_minutes(minutes, first, end.timestamp())
    scored = model.score(ts, rows, bands=False)
    alarms = {m: int(scored.alarm[:, j].sum()) for j, m in enumerate(METRICS)}
    defined = {m: int((~np.isnan(scored.values[:, j])).sum()) for j, m in enumerate(METRICS)}
    version = _version_of(
        key, model, ts, alarms, reason=reason, created_at=created_at, defined=defined
    )
    return model, version


class AnomalyStream:
    """Scores every series' closed minutes; see the module docstring."""

    def __init__(
        self,
        store: EventStore,
        config: StreamConfig | None = None,
        *,
        publish: Callable[[list[AnomalyRecord]], None] | None = None,
        clock: Callable[[], datetime] = _utc_now,
        registry: DetectorRegistry | None = None,
        owns: Callable[[SeriesKey], bool] | None = None,
        settle: Callable[[float], bool] | None = None,
        quiet: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        # Waits (up to a timeout) until what was acknowledged is committed: Pipeline.settle.
        self._settle = settle
        # Told after each tick that this is a quiet moment: Pipeline.quiet_moment, which
        # holds ingest back while the store folds its log; else the store directly.
        self._quiet = quiet or store.quiet_moment
        # The series this process scores when analytics workers split them (sharding.py).
        self._owns = owns
        self.config = config or StreamConfig()
        self._publish = publish
        self._clock = clock
        self._registry = registry
        self._series: OrderedDict[SeriesKey, SeriesModel] = OrderedDict()
        self._active: dict[SeriesKey, datetime] = {}  # last minute with calls
        self._pending: OrderedDict[SeriesKey, str] = OrderedDict()  # key -> reason
        self._offsets: dict[tuple[SeriesKey, str], float] = {}
        self._done: datetime | None = None  # end of the last minute scored
        self._retrain: deque[tuple[list[SeriesKey], str]] = deque()
        # Numbers the detectors built, so that their refits fall in different minutes.
        self._built = 0
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # one tick at a time

    # -- what the API asks (any thread; never waits for a tick) -------------------------

    def request_retrain(
        self,
        tenant_id: str | None = None,
        asset_id: str | None = None,
        model_id: str | None = None,
        *,
        reason: str = "retrain",
    ) -> int:
        """Queue the known series matching the filters for a rebuild from history, done
        by the coming ticks; returns how many were queued. The old detector scores until
        its successor is ready."""
        keys = [
            k
            for k in list(self._series)  # a snapshot: the tick thread may be adding some
            if (tenant_id is None or k[0] == tenant_id)
            and (asset_id is None or k[1] == asset_id)
            and (model_id is None or k[2] == model_id)
        ]
        self._retrain.append((keys, reason))  # deque.append is atomic
        return len(keys)

    def stop(self) -> None:
        """Make a tick in progress end its priming early (the server is stopping)."""
        self._stopping.set()

    @property
    def series_count(self) -> int:
        """Series with a detector in memory."""
        return len(self._series)

    # -- ticks ------------------------------------------------------------------------

    def tick(self) -> TickReport | None:
        """Score the minutes closed by now (see the module docstring); None if none."""
        boundary = minute_floor(self._clock() - timedelta(seconds=self.config.grace_s))
        began = time.perf_counter()
        if self._settle is not None and not self._settle(self.config.settle_timeout_s):
            # Score anyway: a slow store must not stop detection; late rows miss this tick.
            log.warning("the store is behind ingest: scoring the minute without its backlog")
        settle_ms = (time.perf_counter() - began) * 1000
        report = self.process(boundary)
        # The minute's anomalies are out and the next close is a minute away: the store's
        # deferred housekeeping (DuckDB's checkpoint) costs least now.
        self._quiet()
        return None if report is None else replace(report, settle_ms=settle_ms)

    def process(self, boundary: datetime) -> TickReport | None:
        """Score every series' minutes up to ``boundary`` not scored yet."""
        with self._lock:
            if self._done is None:
                # A fresh start scores the last closed minute only: older ones are the
                # history new series are primed with.
                self._done = boundary - MINUTE
            if boundary <= self._done:
                return None
            start = max(self._done, boundary - self.config.max_catchup_minutes * MINUTE)
            report = self._score(start, boundary)
            self._done = boundary
            # After the anomalies are out: feedback given since counts from the next tick.
            self._refresh_offsets()
            while self._retrain:
                keys, reason = self._retrain.popleft()
                for key in keys:
                    self._pending[key] = reason
                    self._pending.move_to_end(key, last=False)  # before new series
            primed = self._prime_pending(boundary)
            self._forget_idle(boundary)
        return replace(report, primed=primed, pending=len(self._pending))

    def _score(self, start: datetime, end: datetime) -> TickReport:
        began = time.perf_counter()
        rows = self._store.series_minutes(start, end)
        queried = time.perf_counter()
        by_key: dict[SeriesKey, list[SeriesMinute]] = defaultdict(list)
        for row in rows:
            by_key[(row.tenant_id, row.asset_id, row.model_id)].append(row)
        if self._owns is not None:
            self._keep_owned(by_key, self._owns)
        scored_series: list[tuple[SeriesKey, SeriesModel, Scored]] = []
        for key, minutes in by_key.items():
            if key in self._series:
                self._series.move_to_end(key)
                self._active[key] = minutes[-1].minute
            elif key not in self._pending and len(self._pending) < self.config.max_series:
                self._pending[key] = "warm_start"
        for key, model in self._series.items():
            last = model.last_ts
            first = start.timestamp() if last is None else max(last + MINUTE_S, start.timestamp())
            ts, values = fill_minutes(by_key.get(key, ()), first, end.timestamp())
            if ts:
                scored_series.append((key, model, model.score(ts, values)))
        scored = time.perf_counter()
        created_at = self._clock()
        records: list[AnomalyRecord] = []
        for key, model, result in scored_series:
            records += alarms_of(key, model, result, source="stream", created_at=created_at)
        if records:
            self._store.write_anomalies(records)
        written = time.perf_counter()
        if records and self._publish is not None:
            try:
                self._publish(records)
            except Exception:  # a live client must never stop detection
                log.warning("anomalies not published", exc_info=True)
        return TickReport(
            start=start,
            end=end,
            series=len(scored_series),
            rows=len(rows),
            anomalies=records,
            query_ms=(queried - began) * 1000,
            score_ms=(scored - queried) * 1000,
            write_ms=(written - scored) * 1000,
            stored_ms=(written - began) * 1000,
            primed=0,
            pending=0,
        )

    def _keep_owned(
        self, by_key: dict[SeriesKey, list[SeriesMinute]], owns: Callable[[SeriesKey], bool]
    ) -> None:
        """Drop the series another worker of the group owns now (it primes its own)."""
        for key in [k for k in by_key if not owns(k)]:
            del by_key[key]
        for key in [k for k in self._series if not owns(k)]:
            del self._series[key]
            self._active.pop(key, None)
        for key in [k for k in self._pending if not owns(k)]:
            del self._pending[key]

    def _offsets_of(self, key: SeriesKey) -> dict[str, float]:
        return {m: self._offsets[(key, m)] for m in METRICS if (key, m) in self._offsets}

    def _refresh_offsets(self) -> None:
        try:
            offsets = self.config.feedback.offsets(self._store.series_feedback())
        except Exception:  # keep the last ones: the store may be back next minute
            log.warning("feedback offsets not refreshed", exc_info=True)
            return
        if offsets != self._offsets:
            self._offsets = offsets
            for key, model in self._series.items():
                model.offsets = self._offsets_of(key)

    def _prime_pending(self, end: datetime) -> int:
        """Prime queued series from history, a batch per query, within the budget."""
        deadline = time.monotonic() + self.config.prime_budget_s
        primed = 0
        while self._pending and time.monotonic() < deadline and not self._stopping.is_set():
            batch = list(self._pending.items())[: self.config.prime_batch]
            start = end - timedelta(hours=self.config.warm_start_hours)
            keys = tuple(k for k, _ in batch)
            history: dict[SeriesKey, list[SeriesMinute]] = defaultdict(list)
            for row in self._store.series_minutes(start, end, SeriesSelector(keys=keys)):
                history[(row.tenant_id, row.asset_id, row.model_id)].append(row)
            versions: list[DetectorVersion] = []
            for key, reason in batch:
                if time.monotonic() >= deadline or self._stopping.is_set():
                    break
                model, version = prime(
                    key,
                    history.get(key, []),
                    end,
                    self.config.series,
                    offsets=self._offsets_of(key),
                    registry=self._registry,
                    reason=reason,
                    created_at=self._clock(),
                    phase=self._built,
                )
                self._built += 1
                self._series[key] = model
                self._series.move_to_end(key)
                seen = history[key][-1].minute if history.get(key) else end
                self._active[key] = max(seen, self._active.get(key, seen))
                del self._pending[key]
                versions.append(version)
                primed += 1
                while len(self._series) > self.config.max_series:
                    old, _ = self._series.popitem(last=False)
                    self._active.pop(old, None)
            self._store.write_detector_versions(versions)
        return primed

    def _forget_idle(self, now: datetime) -> None:
        limit = now - timedelta(minutes=self.config.idle_minutes)
        for key in [k for k, at in self._active.items() if at < limit]:
            self._series.pop(key, None)
            self._active.pop(key, None)


__all__ = [
    "AnomalyStream",
    "StreamConfig",
    "TickReport",
    "minute_floor",
    "prime",
]
