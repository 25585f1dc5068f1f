"""One series' detector: the default ensemble over the five metrics of its minutes.

A series is a tenant's model calls of one ``(asset_id, model_id)``; each minute rollup
gives five metrics (:data:`METRICS`). The ensemble's members are built from the registry
(:data:`STREAM_MEMBERS`, the measured default): a univariate member (the seasonal
baseline) gets one detector per metric, a multivariate one (the Isolation Forest) one
detector per series that reads the whole row, so that an unusual *combination* of metrics
raises every metric's score a little. Per metric, the members' probabilities are combined
by the vote, gated (one alarm per incident) and compared with the series' threshold for
that metric, which feedback moves (``offsets``).

Rows are minutes in order. Minutes without calls are fed too: requests, tokens and cost
are 0 there, and the error rate and p95 latency are undefined, so those two metrics skip
the minute (the forest reads their last known value). A series therefore notices that
its traffic stopped.

Cold start: no alarm before ``min_baseline_minutes`` minutes were fed, on top of each
detector's own warm-up (docs/analytics/anomaly-detection.md).

Refits: the forest refits every 1,000 rows (about 45 ms each). Series primed together
from the same hours of history would all refit in the same minute, and that minute's
tick would take 45 ms per series; ``phase`` (the stream numbers its series) moves each
series' fits to rows of their own (:class:`.base.Refitting`).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, runtime_checkable

import numpy as np

from analytics_hub.analytics.anomaly.alarm import DEFAULT_LEVEL, AlarmGate, AlarmPolicy
from analytics_hub.analytics.anomaly.base import (
    Detector,
    FloatArray,
    Refitting,
    UnivariateDetector,
)
from analytics_hub.analytics.anomaly.ensemble import Vote, check_damping, combine, combine_one
from analytics_hub.analytics.anomaly.registry import (
    DEFAULT_MEMBERS,
    DEFAULT_QUIET_ROWS,
    DEFAULT_VOTE,
    DetectorRegistry,
    MemberSpec,
    builtin_registry,
)
from analytics_hub.store.anomalies import SeriesMinute

#: the metrics of a series' minute, in row order
METRICS: tuple[str, ...] = ("requests", "error_rate", "p95_latency_ms", "tokens", "cost_usd")
MINUTE_S = 60.0

#: the default members, with the seasonal baseline told the rollups' step: minutes
#: without calls leave gaps in the error rate and p95, which would mislead its guess
STREAM_MEMBERS: tuple[MemberSpec, ...] = tuple(
    replace(m, params={**m.params, "step_s": MINUTE_S}) if m.name == "seasonal" else m
    for m in DEFAULT_MEMBERS
)


@runtime_checkable
class Banded(Protocol):
    """A detector that can say which values it would score 0 (the expected band)."""

    def expected_range(self, timestamp: float) -> tuple[float, float] | None:
        """The band for a row at ``timestamp``, before it is scored; None before a baseline."""
        ...


def minute_row(m: SeriesMinute) -> list[float]:
    """The metrics of one minute, NaN where undefined (no calls, no latency)."""
    requests = float(m.requests)
    return [
        requests,
        m.errors / requests if requests > 0 else math.nan,
        m.p95_latency_ms if m.p95_latency_ms is not None else math.nan,
        float(m.input_tokens + m.output_tokens),
        float(m.cost_usd),
    ]


def quiet_row() -> list[float]:
    """A minute without calls."""
    return [0.0, math.nan, math.nan, 0.0, 0.0]


@dataclass(frozen=True)
class SeriesConfig:
    """How every series' detector is built and when it may alarm."""

    members: tuple[MemberSpec, ...] = STREAM_MEMBERS
    vote: Vote = DEFAULT_VOTE
    level: float = DEFAULT_LEVEL
    quiet_rows: int = DEFAULT_QUIET_ROWS
    min_baseline_minutes: int = 1440
    #: other metrics at least this unusual in an alarm's minute are listed as contributing
    contributing_level: float = 0.99

    @property
    def detector(self) -> str:
        """The ensemble, as anomaly records name it."""
        members = ", ".join(
            f"{m.label}*{m.weight:g}" + (f" damping {m.damping:g}" if m.damping < 1 else "")
            for m in self.members
        )
        return f"ensemble({self.vote}: {members})"

    def parameters(self) -> dict[str, Any]:
        """The parameters a detector version records."""
        return {
            "members": [
                {"name": m.name, "weight": m.weight, **m.params}
                | ({"damping": m.damping} if m.damping < 1 else {})
                for m in self.members
            ],
            "vote": self.vote,
            "level": self.level,
            "quiet_rows": self.quiet_rows,
            "min_baseline_minutes": self.min_baseline_minutes,
            "metrics": list(METRICS),
        }


@dataclass
class Scored:
    """What a block of minutes scored: arrays shaped ``(rows, metrics)``.

    ``probability`` is the members' combined probability (NaN where the metric is
    undefined), ``score`` the gated one, ``alarm`` whether it raised an alarm, ``low`` and
    ``high`` the expected band (NaN when unknown or not asked for), ``votes`` each
    member's probability, shaped ``(members, rows, metrics)``.
    """

    timestamps: FloatArray
    values: FloatArray
    probability: FloatArray
    score: FloatArray
    alarm: np.ndarray[Any, np.dtype[np.bool_]]
    low: FloatArray
    high: FloatArray
    votes: FloatArray
    thresholds: dict[str, float] = field(default_factory=dict)


class SeriesModel:
    """The streaming detector of one series (all its metrics)."""

    def __init__(
        self,
        config: SeriesConfig | None = None,
        *,
        registry: DetectorRegistry | None = None,
        offsets: dict[str, float] | None = None,
        version: str | None = None,
        phase: int = 0,
    ) -> None:
        self.config = config or SeriesConfig()
        #: where this series' model refits fall (see the module docstring)
        self.phase = phase
        registry = registry or builtin_registry()
        self.version = version or str(uuid.uuid4())
        self.offsets: dict[str, float] = dict(offsets or {})
        #: minutes fed so far (the cold-start baseline counts these)
        self.minutes = 0
        #: start of the last minute fed (seconds since the epoch)
        self.last_ts: float | None = None
        self._weights = [m.weight for m in self.config.members]
        self._damping = check_damping([m.damping for m in self.config.members], len(self._weights))
        # member k -> one detector per metric (univariate) or one for the row (shared)
        self._per_metric: dict[int, list[Detector]] = {}
        self._shared: dict[int, Detector] = {}
        for k, spec in enumerate(self.config.members):
            first = registry.create(spec.name, **spec.params)
            if isinstance(first, UnivariateDetector):
                rest = [registry.create(spec.name, **spec.params) for _ in METRICS[1:]]
                self._per_metric[k] = [first, *rest]
            else:
                self._shared[k] = first
        for j, detector in enumerate(self._detectors()):
            if isinstance(detector, Refitting):
                detector.stagger(phase + j)
        self._gates = [AlarmGate(self.config.quiet_rows) for _ in METRICS]
        # checked once: a runtime Protocol check costs more than scoring a row
        self._rangers: dict[int, list[Banded | None]] = {
            k: [d if isinstance(d, Banded) else None for d in ds]
            for k, ds in self._per_metric.items()
        }
        self._carry = [0.0] * len(METRICS)  # last defined value, for the shared members
        self._threshold_cache: tuple[tuple[float, ...], dict[str, float]] | None = None

    def _detectors(self) -> list[Detector]:
        """Every detector of the series: the shared ones, then each metric's."""
        out = list(self._shared.values())
        for detectors in self._per_metric.values():
            out.extend(detectors)
        return out

    def threshold(self, metric: str) -> float:
        """The alarm threshold of ``metric`` now (the level moved by its offset)."""
        return AlarmPolicy(self.config.level, self.offsets.get(metric, 0.0)).threshold

    def score(
        self, timestamps: Sequence[float], rows: Sequence[Sequence[float]], *, bands: bool = True
    ) -> Scored:
        """Score consecutive minutes (after every minute fed so far), then learn them.

        ``rows`` hold :data:`METRICS` per minute, NaN where undefined. ``bands=False``
        skips the expected band (priming from history needs no band).
        """
        ts = np.asarray(timestamps, dtype=np.float64).reshape(-1)
        vals = np.asarray(rows, dtype=np.float64).reshape(ts.size, len(METRICS))
        if ts.size == 1 and self.config.vote == "mean":
            return self._score_one(ts, vals, bands=bands)
        n, n_metrics, n_members = ts.size, len(METRICS), len(self.config.members)
        votes = np.full((n_members, n, n_metrics), np.nan)
        low = np.full((n, n_metrics), np.nan)
        high = np.full((n, n_metrics), np.nan)
        if n and self._shared:
            filled = self._carried(vals)
            for k, detector in self._shared.items():
                shared = detector.score_many(ts, filled)
                votes[k] = shared[:, None]
        probability = np.full((n, n_metrics), np.nan)
        score = np.zeros((n, n_metrics))
        for j in range(n_metrics):
            rows_j = np.flatnonzero(~np.isnan(vals[:, j]))
            if rows_j.size == 0:
                continue
            for k, detectors in self._per_metric.items():
                detector = detectors[j]
                # the first member that knows a band gives it (the seasonal baseline)
                ranger = self._rangers[k][j] if bands else None
                for i in rows_j:
                    if ranger is not None and math.isnan(low[i, j]):
                        band = ranger.expected_range(float(ts[i]))
                        if band is not None:
                            low[i, j], high[i, j] = band
                    votes[k, i, j] = detector.update(float(ts[i]), float(vals[i, j]))
            ps = votes[:, rows_j, j]
            probability[rows_j, j] = combine(ps, self.config.vote, self._weights, self._damping)
            gate = self._gates[j]
            if rows_j.size == 1:  # the streaming case: the scalar gate is 20 times cheaper
                score[rows_j[0], j] = gate.update(float(probability[rows_j[0], j]))
            else:
                score[rows_j, j] = gate.update_many(probability[rows_j, j])
        # cold start: a row may alarm only with a baseline of minutes before it
        before = self.minutes + np.arange(n)
        ready = before >= self.config.min_baseline_minutes
        thresholds = self._thresholds()
        limits = np.array([thresholds[m] for m in METRICS])
        alarm = ready[:, None] & (score > 0.0) & (score >= limits[None, :])
        self.minutes += n
        if n:
            self.last_ts = float(ts[-1])
        return Scored(ts, vals, probability, score, alarm, low, high, votes, thresholds)

    def _score_one(self, ts: FloatArray, vals: FloatArray, *, bands: bool) -> Scored:
        """:meth:`score` of one minute, the streaming case: the same numbers, computed on
        Python floats where the general path builds arrays for every step."""
        t = float(ts[0])
        row = vals[0].tolist()
        n_metrics, n_members = len(METRICS), len(self.config.members)
        votes = [[math.nan] * n_metrics for _ in range(n_members)]
        low, high = [math.nan] * n_metrics, [math.nan] * n_metrics
        if self._shared:
            filled = self._carried(vals)
            for k, detector in self._shared.items():
                votes[k] = [float(detector.score_many(ts, filled)[0])] * n_metrics
        probability, score = [math.nan] * n_metrics, [0.0] * n_metrics
        for j, value in enumerate(row):
            if math.isnan(value):
                continue
            for k, detectors in self._per_metric.items():
                ranger = self._rangers[k][j] if bands else None
                if ranger is not None and math.isnan(low[j]):
                    band = ranger.expected_range(t)
                    if band is not None:
                        low[j], high[j] = band
                votes[k][j] = detectors[j].update(t, value)
            p = combine_one([vote[j] for vote in votes], self._weights, self._damping)
            probability[j] = p
            score[j] = self._gates[j].update(p)
        thresholds = self._thresholds()
        ready = self.minutes >= self.config.min_baseline_minutes
        alarm = [
            ready and s > 0.0 and s >= thresholds[m] for s, m in zip(score, METRICS, strict=True)
        ]
        self.minutes += 1
        self.last_ts = t
        return Scored(
            ts,
            vals,
            np.array([probability]),
            np.array([score]),
            np.array([alarm], dtype=np.bool_),
            np.array([low]),
            np.array([high]),
            np.array(votes).reshape(n_members, 1, n_metrics),
            thresholds,
        )

    def _thresholds(self) -> dict[str, float]:
        """Every metric's threshold now, remembered while the offsets stay the same."""
        offsets = tuple(self.offsets.get(m, 0.0) for m in METRICS)
        cached = self._threshold_cache
        if cached is None or cached[0] != offsets:
            cached = (offsets, {m: self.threshold(m) for m in METRICS})
            self._threshold_cache = cached
        return dict(cached[1])

    def _carried(self, vals: FloatArray) -> FloatArray:
        """Rows with undefined values replaced by the last defined one (for the forest)."""
        out = vals.copy()
        for j in range(out.shape[1]):
            last = self._carry[j]
            column = out[:, j]
            for i in range(column.size):
                if math.isnan(column[i]):
                    column[i] = last
                else:
                    last = float(column[i])
            self._carry[j] = last
        return out

    def member_labels(self) -> list[str]:
        """The members' labels, in vote order."""
        return [m.label for m in self.config.members]


def fill_minutes(
    minutes: Sequence[SeriesMinute], first: float, end: float
) -> tuple[list[float], list[list[float]]]:
    """One row per minute from ``first`` up to (not including) ``end``, in seconds since
    the epoch: the given minutes' figures, and quiet rows for minutes without calls."""
    by_ts = {m.minute.timestamp(): m for m in minutes}
    timestamps: list[float] = []
    rows: list[list[float]] = []
    t = first
    while t < end:
        found = by_ts.get(t)
        timestamps.append(t)
        rows.append(minute_row(found) if found is not None else quiet_row())
        t += MINUTE_S
    return timestamps, rows


__all__ = [
    "METRICS",
    "MINUTE_S",
    "STREAM_MEMBERS",
    "Banded",
    "Scored",
    "SeriesConfig",
    "SeriesModel",
    "fill_minutes",
    "minute_row",
    "quiet_row",
]
