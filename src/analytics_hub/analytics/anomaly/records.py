"""From scored minutes to anomaly records, and from feedback to thresholds.

An anomaly's id is derived from what it is about (tenant, series, metric, minute): the
same alarm found twice (by the stream and by an on-demand detection that stores, or after
a restart) is stored once.

Feedback moves one series' threshold for one metric. The offset, in decades of rarity
(see :class:`~analytics_hub.analytics.anomaly.alarm.AlarmPolicy`), is
``step * (false positives - true positives)`` over the series' labelled anomalies, kept
within ``[0, max_offset]``: a false positive makes the series ten to the ``step`` times
stricter, a true positive takes one step back, and since it is computed from the labels
as they are now, changing or withdrawing a label undoes its effect exactly.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from analytics_hub.analytics.anomaly.series import METRICS, MINUTE_S, Scored, SeriesModel
from analytics_hub.store.anomalies import AnomalyRecord, SeriesFeedback

#: a series: (tenant_id, asset_id, model_id)
SeriesKey = tuple[str, str | None, str | None]

_NAMESPACE = uuid.UUID("0b9c5f38-5a5e-4a4e-9d55-8a1d2c6e7f10")


def anomaly_id(key: SeriesKey, metric: str, minute: datetime) -> str:
    """The id of the anomaly of ``metric`` of series ``key`` in ``minute``."""
    tenant, asset, model = key
    name = "\x1f".join((tenant, asset or "", model or "", metric, minute.isoformat()))
    return str(uuid.uuid5(_NAMESPACE, name))


def _number(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def alarms_of(
    key: SeriesKey,
    series: SeriesModel,
    scored: Scored,
    *,
    source: str,
    created_at: datetime,
    metrics: Iterable[str] = METRICS,
) -> list[AnomalyRecord]:
    """The anomaly records of the alarms in ``scored`` (for the given metrics)."""
    wanted = {METRICS.index(m) for m in metrics}
    labels = series.member_labels()
    level = series.config.contributing_level
    out: list[AnomalyRecord] = []
    for i, j in zip(*np.nonzero(scored.alarm), strict=True):
        if j not in wanted:
            continue
        metric = METRICS[j]
        minute = datetime.fromtimestamp(float(scored.timestamps[i]), UTC)
        contributing = [
            {
                "metric": METRICS[c],
                "score": float(scored.probability[i, c]),
                "observed": float(scored.values[i, c]),
            }
            for c in np.argsort(-np.nan_to_num(scored.probability[i], nan=-1.0))
            if c != j and scored.probability[i, c] >= level
        ]
        end = minute + timedelta(seconds=MINUTE_S)
        out.append(
            AnomalyRecord(
                id=anomaly_id(key, metric, minute),
                tenant_id=key[0],
                asset_id=key[1],
                model_id=key[2],
                metric=metric,
                minute=minute,
                score=float(scored.score[i, j]),
                threshold=scored.thresholds[metric],
                offset=series.offsets.get(metric, 0.0),
                observed=float(scored.values[i, j]),
                expected_low=_number(scored.low[i, j]),
                expected_high=_number(scored.high[i, j]),
                contributing=contributing,
                votes={
                    label: float(scored.votes[k, i, j])
                    for k, label in enumerate(labels)
                    if not math.isnan(scored.votes[k, i, j])
                },
                detector=series.config.detector,
                version=series.version,
                source=source,
                created_at=created_at,
                latency_ms=(
                    round((created_at - end).total_seconds() * 1000, 3)
                    if source == "stream"
                    else None
                ),
            )
        )
    return out


@dataclass(frozen=True)
class FeedbackPolicy:
    """How labels move a series' threshold: ``step`` decades per net false positive."""

    step: float = 0.5
    max_offset: float = 3.0

    def offset(self, false_positives: int, true_positives: int) -> float:
        """The offset of a series with these counts."""
        return min(max(self.step * (false_positives - true_positives), 0.0), self.max_offset)

    def offsets(self, feedback: Iterable[SeriesFeedback]) -> dict[tuple[SeriesKey, str], float]:
        """The offsets of every series and metric with feedback."""
        return {
            ((f.tenant_id, f.asset_id, f.model_id), f.metric): self.offset(
                f.false_positives, f.true_positives
            )
            for f in feedback
        }


__all__ = ["FeedbackPolicy", "SeriesKey", "alarms_of", "anomaly_id"]
