"""What the event store keeps for anomaly detection, and the SQL both backends share.

The anomaly feature (``analytics_hub.analytics.anomaly``) reads per-series minute figures
from the minute rollups and writes back three kinds of record, all scoped to a tenant:

- ``anomalies``: one row per alarm (a series, a metric, a minute), with its score, the
  threshold it passed, the expected band, the detectors' votes and the version of the
  series' detector that scored it. Feedback labels it ``true_positive`` or
  ``false_positive`` in place. Kept as long as the tenant's minute rollups.
- ``anomaly_feedback``: per series and metric, how many of its anomalies carry each
  label. Changed in the same transaction as the label, so the counts always match the
  labels given (and withdrawn); the analytics layer turns them into the series' threshold
  offset. Not subject to retention: it is configuration, and small.
- ``anomaly_versions``: one row per (re)built series detector: its parameters, training
  window and figures. Kept as long as the minute rollups.

A series is ``(tenant_id, asset_id, model_id)`` over model calls (``payload_subtype =
llm_call``). The tables store a missing asset or model as ``''`` so that keys can be
primary keys; records carry ``None``. The SQL both backends share is in
:mod:`analytics_hub.store.anomaly_sql`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

#: the labels feedback may give an anomaly
LABELS = ("true_positive", "false_positive")


@dataclass(frozen=True, slots=True)
class SeriesMinute:
    """One series' model calls in one minute, from the minute rollups."""

    tenant_id: str
    asset_id: str | None
    model_id: str | None
    minute: datetime  # start of the minute, UTC (aware)
    requests: int
    errors: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    latency_count: int
    p95_latency_ms: float | None  # from the merged latency histogram (within 1 %)


@dataclass(frozen=True, slots=True)
class SeriesSelector:
    """Which series to read. ``None`` fields match anything, unless ``exact``: then
    ``asset_id``/``model_id`` ``None`` mean "calls without an asset/model"."""

    tenant_id: str | None = None  # None: every tenant (the streaming scorer only)
    asset_id: str | None = None
    model_id: str | None = None
    exact: bool = False
    #: only these series, as (tenant_id, asset_id, model_id); empty: no such limit
    keys: tuple[tuple[str, str | None, str | None], ...] = ()


@dataclass(frozen=True, slots=True)
class AnomalyRecord:
    """One alarm on one metric of one series in one minute."""

    id: str
    tenant_id: str
    asset_id: str | None
    model_id: str | None
    metric: str
    minute: datetime  # start of the scored minute, UTC (aware)
    score: float  # the ensemble's gated probability that the minute is unusual
    threshold: float  # the series' alarm threshold when it was scored
    offset: float  # the feedback offset in that threshold, in decades of rarity
    observed: float
    expected_low: float | None
    expected_high: float | None
    contributing: list[dict[str, Any]]  # other metrics of the series unusual that minute
    votes: dict[str, float]  # each ensemble member's probability
    detector: str  # the ensemble that scored it (members, weights, vote)
    version: str  # id of the series' detector version (``anomaly_versions``)
    source: str  # "stream" (scored as the minute closed) or "detect" (on demand)
    created_at: datetime
    latency_ms: float | None  # created_at minus the end of the minute (stream only)
    label: str | None = None
    labelled_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AnomalyListing:
    """Filters and paging of a tenant's anomalies (newest minute first)."""

    start: datetime | None = None  # minute >= start
    end: datetime | None = None  # minute < end
    asset_id: str | None = None
    model_id: str | None = None
    metric: str | None = None
    min_score: float | None = None
    limit: int = 100
    after: tuple[datetime, str] | None = None  # (minute, id) of the previous page's last


@dataclass(frozen=True, slots=True)
class SeriesFeedback:
    """How many anomalies of one series and metric were labelled each way."""

    tenant_id: str
    asset_id: str | None
    model_id: str | None
    metric: str
    false_positives: int
    true_positives: int
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class LabelOutcome:
    """An anomaly after its label changed, and its series' counts after the change."""

    record: AnomalyRecord
    feedback: SeriesFeedback


@dataclass(frozen=True, slots=True)
class DetectorVersion:
    """One (re)build of a series' detector: what it is and what it learned from."""

    id: str
    tenant_id: str
    asset_id: str | None
    model_id: str | None
    created_at: datetime
    reason: str  # warm_start | retrain | scheduled
    parameters: dict[str, Any] = field(default_factory=dict)
    window_start: datetime | None = None
    window_end: datetime | None = None
    minutes: int = 0  # minutes of history it was primed with
    metrics: dict[str, Any] = field(default_factory=dict)  # figures of the training window


# -- conversions ------------------------------------------------------------------------


def naive_utc(moment: datetime) -> datetime:
    """How timestamps are stored: naive UTC (a naive value is taken as UTC)."""
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


def aware(moment: datetime | None) -> datetime | None:
    """A stored (naive UTC) timestamp as an aware one."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def key_text(value: str | None) -> str:
    """An asset or model as stored in the anomaly tables ('' for none)."""
    return value or ""


def key_value(text: str) -> str | None:
    """An asset or model as records carry it."""
    return text or None


def rfc3339(moment: datetime) -> str:
    """``moment`` as RFC 3339 text in UTC (``...Z``)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def anomaly_document(r: AnomalyRecord) -> dict[str, Any]:
    """An anomaly as the API and the live feed show it (JSON types; no tenant, which
    is the caller's)."""
    return {
        "id": r.id,
        "asset_id": r.asset_id,
        "model_id": r.model_id,
        "metric": r.metric,
        "minute": rfc3339(r.minute),
        "score": r.score,
        "threshold": r.threshold,
        "offset": r.offset,
        "observed": r.observed,
        "expected_low": r.expected_low,
        "expected_high": r.expected_high,
        "contributing": r.contributing,
        "votes": r.votes,
        "detector": r.detector,
        "version": r.version,
        "source": r.source,
        "created_at": rfc3339(r.created_at),
        "latency_ms": r.latency_ms,
        "label": r.label,
        "labelled_at": None if r.labelled_at is None else rfc3339(r.labelled_at),
    }


__all__ = [
    "LABELS",
    "AnomalyListing",
    "AnomalyRecord",
    "DetectorVersion",
    "LabelOutcome",
    "SeriesFeedback",
    "SeriesMinute",
    "SeriesSelector",
    "anomaly_document",
    "aware",
    "key_text",
    "key_value",
    "naive_utc",
    "rfc3339",
]
