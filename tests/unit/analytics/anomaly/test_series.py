"""One series' detector over its minute metrics: cold start, bands, feedback offsets."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from analytics_hub.analytics.anomaly import AlarmPolicy, SeasonalDetector
from analytics_hub.analytics.anomaly.records import FeedbackPolicy, anomaly_id
from analytics_hub.analytics.anomaly.series import (
    METRICS,
    SeriesConfig,
    SeriesModel,
    fill_minutes,
    minute_row,
)
from analytics_hub.analytics.anomaly.service import decode_cursor, encode_cursor
from analytics_hub.errors import ValidationError
from analytics_hub.server.tasks import MinuteTask
from analytics_hub.store.anomalies import AnomalyRecord, SeriesMinute

T0 = datetime(2025, 5, 1, tzinfo=UTC)


def traffic(minutes: int, seed: int = 0) -> tuple[list[float], list[list[float]]]:
    """Minutes of a series with a daily pattern and Poisson noise."""
    rng = np.random.default_rng(seed)
    ts = [T0.timestamp() + 60.0 * i for i in range(minutes)]
    rows = []
    for i in range(minutes):
        requests = float(rng.poisson(20 + 8 * math.sin(2 * math.pi * i / 1440)))
        errors = float(rng.binomial(int(requests), 0.02))
        rows.append(
            [
                requests,
                errors / requests if requests else math.nan,
                float(rng.lognormal(6.7, 0.1)),
                requests * 700,
                requests * 0.003,
            ]
        )
    return ts, rows


def spike(row: list[float], factor: float = 10.0) -> list[float]:
    return [row[0] * factor, 0.6, row[2] * 3, row[3] * factor, row[4] * factor]


def _minute(i: int, **figures: object) -> SeriesMinute:
    base: dict[str, object] = {
        "tenant_id": "t",
        "asset_id": "a",
        "model_id": "m",
        "minute": T0 + timedelta(minutes=i),
        "requests": 10,
        "errors": 1,
        "input_tokens": 100,
        "output_tokens": 50,
        "cost_usd": 0.25,
        "latency_count": 10,
        "p95_latency_ms": 800.0,
    }
    base.update(figures)
    return SeriesMinute(**base)  # type: ignore[arg-type]


def test_a_minute_row_holds_the_five_metrics_and_nan_where_undefined() -> None:
    assert minute_row(_minute(0)) == [10.0, 0.1, 800.0, 150.0, 0.25]
    quiet = minute_row(_minute(0, requests=0, errors=0, latency_count=0, p95_latency_ms=None))
    assert quiet[0] == 0.0
    assert math.isnan(quiet[1])
    assert math.isnan(quiet[2])


def test_missing_minutes_are_filled_as_quiet_minutes() -> None:
    ts, rows = fill_minutes([_minute(0), _minute(3)], T0.timestamp(), T0.timestamp() + 5 * 60)
    assert ts == [T0.timestamp() + 60 * i for i in range(5)]
    assert [r[0] for r in rows] == [10.0, 0.0, 0.0, 10.0, 0.0]
    assert math.isnan(rows[1][1])


def test_no_alarm_before_the_baseline_even_for_a_huge_spike() -> None:
    ts, rows = traffic(30 * 60)
    model = SeriesModel(SeriesConfig(min_baseline_minutes=1440))
    scored = model.score(ts[:-1], rows[:-1], bands=False)
    assert not scored.alarm[:1440].any()
    # 30 hours in: detectors are warm but the configured baseline is 36 hours
    late = SeriesModel(SeriesConfig(min_baseline_minutes=36 * 60))
    late.score(ts[:-1], rows[:-1], bands=False)
    assert not late.score([ts[-1]], [spike(rows[-1])]).alarm.any()
    # with a one-day baseline the same spike alarms
    model_ok = SeriesModel(SeriesConfig(min_baseline_minutes=1440))
    model_ok.score(ts[:-1], rows[:-1], bands=False)
    alarmed = model_ok.score([ts[-1]], [spike(rows[-1])])
    assert alarmed.alarm[0, METRICS.index("requests")]


def test_a_short_history_raises_no_alarm_whatever_the_setting() -> None:
    ts, rows = traffic(10 * 60)
    model = SeriesModel(SeriesConfig(min_baseline_minutes=0))
    model.score(ts[:-1], rows[:-1], bands=False)
    assert not model.score([ts[-1]], [spike(rows[-1], 50)]).alarm.any()  # detectors still cold


def test_the_expected_band_comes_from_the_seasonal_baseline() -> None:
    ts, rows = traffic(30 * 60)
    model = SeriesModel()
    model.score(ts[:-1], rows[:-1], bands=False)
    scored = model.score([ts[-1]], [spike(rows[-1])])
    j = METRICS.index("requests")
    low, high = scored.low[0, j], scored.high[0, j]
    assert 0 < low <= high < scored.values[0, j]
    # a value inside the band is scored 0 by the seasonal baseline
    seasonal = SeasonalDetector(step_s=60.0)
    seasonal.score_many(ts[:-1], [r[0] for r in rows[:-1]])
    band = seasonal.expected_range(ts[-1])
    assert band is not None
    assert seasonal.update(ts[-1], (band[0] + band[1]) / 2) == 0.0


def test_feedback_offsets_raise_the_threshold_and_silence_weak_alarms() -> None:
    ts, rows = traffic(3 * 1440, seed=0)
    plain = SeriesModel(SeriesConfig(min_baseline_minutes=1440))
    strict = SeriesModel(
        SeriesConfig(min_baseline_minutes=1440), offsets=dict.fromkeys(METRICS, 3.0)
    )
    a = plain.score(ts, rows, bands=False)
    b = strict.score(ts, rows, bands=False)
    np.testing.assert_array_equal(a.score, b.score)  # the same scores...
    assert b.thresholds["requests"] == AlarmPolicy(offset=3.0).threshold
    assert b.thresholds["requests"] > a.thresholds["requests"]
    assert 0 <= b.alarm.sum() < a.alarm.sum()  # ...fewer alarms, none new
    assert (b.alarm <= a.alarm).all()
    # taking the offset back restores the plain thresholds for what follows
    strict.offsets = {}
    more_ts = [ts[-1] + 60.0 * (i + 1) for i in range(60)]
    more_rows = traffic(60, seed=9)[1]
    assert strict.score(more_ts, more_rows).thresholds == a.thresholds


def test_the_feedback_offset_follows_the_labels_within_bounds() -> None:
    policy = FeedbackPolicy(step=0.5, max_offset=1.0)
    assert policy.offset(0, 0) == 0.0
    assert policy.offset(1, 0) == 0.5
    assert policy.offset(1, 1) == 0.0  # a true positive takes the step back
    assert policy.offset(0, 3) == 0.0  # never more sensitive than the default
    assert policy.offset(7, 0) == 1.0  # bounded


def test_anomaly_ids_are_stable_and_differ_per_tenant() -> None:
    key = ("t1", "asset", None)
    assert anomaly_id(key, "requests", T0) == anomaly_id(key, "requests", T0)
    assert anomaly_id(key, "requests", T0) != anomaly_id(("t2", "asset", None), "requests", T0)
    assert anomaly_id(key, "requests", T0) != anomaly_id(key, "tokens", T0)


def test_cursors_round_trip_and_garbage_is_refused() -> None:
    record = AnomalyRecord(
        id="x",
        tenant_id="t",
        asset_id=None,
        model_id=None,
        metric="requests",
        minute=T0,
        score=1.0,
        threshold=0.996,
        offset=0.0,
        observed=1.0,
        expected_low=None,
        expected_high=None,
        contributing=[],
        votes={},
        detector="d",
        version="v",
        source="stream",
        created_at=T0,
        latency_ms=None,
    )
    assert decode_cursor(encode_cursor(record)) == (T0, "x")
    for bad in ("", "!!!", "bm90IGpzb24", "WzFd"):
        with pytest.raises(ValidationError, match="cursor"):
            decode_cursor(bad)


@pytest.mark.parametrize(
    ("now", "expected"),
    [(120.0, 2.0), (121.0, 1.0), (122.0, 60.0), (150.5, 31.5), (179.9, 2.1)],
)
def test_the_minute_task_wakes_just_after_each_minute(now: float, expected: float) -> None:
    task = MinuteTask("t", lambda: None, offset=2.0)
    assert task.delay(now) == pytest.approx(expected)


def test_series_with_other_phases_refit_their_forests_in_other_minutes() -> None:
    # A hub primes every series from the same hours of history: without phases all
    # forests would refit in the same minute, and that tick would pay every fit.
    ts, rows = traffic(1800)
    models = [SeriesModel(phase=p) for p in (0, 1, 2)]
    for model in models:
        model.score(ts, rows, bands=False)
    since = [model._shared[1]._since_fit for model in models]  # type: ignore[attr-defined]
    # fitted after 512/1512, 513/1513 and 514/1514 rows (12 rows fill the window first)
    assert since == [288, 287, 286]


def test_minutes_scored_one_at_a_time_score_exactly_as_in_one_call() -> None:
    # The stream scores one minute per tick on a path of its own (Python floats, not
    # arrays): it must give the same numbers, bit for bit, as scoring a block.
    ts, rows = traffic(1800, seed=3)
    rows[1750] = spike(rows[1750])
    for i in (1760, 1761, 1790):
        rows[i] = [0.0, math.nan, math.nan, 0.0, 0.0]  # quiet minutes
    one, block = SeriesModel(phase=7), SeriesModel(phase=7)
    one.score(ts[:1700], rows[:1700])
    block.score(ts[:1700], rows[:1700])
    singles = [one.score([t], [r]) for t, r in zip(ts[1700:], rows[1700:], strict=True)]
    whole = block.score(ts[1700:], rows[1700:])
    for name in ("probability", "score", "alarm", "low", "high"):
        got = np.concatenate([getattr(s, name) for s in singles])
        np.testing.assert_array_equal(got, getattr(whole, name), err_msg=name)
    votes = np.concatenate([s.votes for s in singles], axis=1)
    np.testing.assert_array_equal(votes, whole.votes)
    assert whole.alarm[50].any()  # the spike alarms, so the comparison covers an alarm
    assert np.isfinite(whole.low[10:]).all(axis=0)[0]  # and bands from the baseline
    assert one.minutes == block.minutes == 1800
